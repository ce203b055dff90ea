//! `IpNet`: CIDR blocks and the addresses they hold.

use super::*;

#[test]
fn ip_net_v4() {
    let net = net("192.168.1.0/24");
    assert_eq!((net.addr(), net.prefix_len()), (ip("192.168.1.0"), 24));
    assert_eq!(net.to_string(), "192.168.1.0/24");
    assert!(net.contains(ip("192.168.1.0")));
    assert!(net.contains(ip("192.168.1.255")));
    assert!(!net.contains(ip("192.168.2.1")));
    assert!(!net.contains(ip("::1")));
    // IPv4 peers on a dual-stack socket arrive as IPv4-mapped IPv6.
    assert!(net.contains(ip("::ffff:192.168.1.7")));
    assert!(!net.contains(ip("::ffff:192.168.2.7")));
}

#[test]
fn ip_net_v6() {
    let net = net("2001:db8::/32");
    assert!(net.contains(ip("2001:db8::1")));
    assert!(net.contains(ip("2001:db8:ffff::1")));
    assert!(!net.contains(ip("2001:db9::1")));
    assert!(!net.contains(ip("32.1.13.184")));
    let loopback = IpNet::host(ip("::1"));
    assert_eq!(loopback.prefix_len(), 128);
    assert!(loopback.contains(ip("::1")));
    assert!(!loopback.contains(ip("::2")));
}

#[test]
fn ip_net_edges() {
    let all_v4 = net("0.0.0.0/0");
    assert!(all_v4.contains(ip("255.255.255.255")));
    assert!(all_v4.contains(ip("0.0.0.0")));
    assert!(!all_v4.contains(ip("::1")));
    let all_v6 = net("::/0");
    assert!(all_v6.contains(ip("ffff::1")));
    assert!(!all_v6.contains(ip("10.0.0.1")));
    let host = net("10.1.2.3/32");
    assert!(host.contains(ip("10.1.2.3")));
    assert!(!host.contains(ip("10.1.2.4")));
    let exact = net("10.1.2.3");
    assert_eq!(exact, host);
    assert!(exact.contains(ip("10.1.2.3")));
    assert!(!exact.contains(ip("10.1.2.2")));
    assert_eq!(IpNet::new(ip("10.1.2.3"), 33), None);
    assert_eq!(IpNet::new(ip("10.1.2.3"), 8), None);
    assert_eq!(IpNet::new(ip("10.0.0.0"), 8), Some(net("10.0.0.0/8")));
    assert_eq!(net(" 10.0.0.0/8 ").to_string(), "10.0.0.0/8");
}

#[test]
fn allow_list_on_session() {
    let (config, _) = parse("Session.A/B.AllowedRemoteAddresses = 10.0.0.0/8, ::1\n");
    let session = config.session_config("A", "B");
    assert!(session.is_remote_address_allowed(ip("10.9.8.7")));
    assert!(session.is_remote_address_allowed(ip("::1")));
    assert!(!session.is_remote_address_allowed(ip("127.0.0.1")));
    let nobody = SessionConfig::default().with_allowed_remote_addresses([]);
    assert!(!nobody.is_remote_address_allowed(ip("127.0.0.1")));
}
