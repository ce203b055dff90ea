//! `IpNet`: the CIDR blocks of `AllowedRemoteAddresses`, and their parser.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::ConfigError;
use super::properties::EXPECTED_CIDR;

/// An IP network (CIDR block) such as `10.0.0.0/8` or `2001:db8::/32`, or a
/// single address (`/32`, `/128`), for `AllowedRemoteAddresses`.
///
/// The address is the network address: host bits after the prefix must be 0,
/// so a typo like `10.0.0.1/8` is refused rather than widened.
///
/// ```
/// use fixengine::config::IpNet;
///
/// let net: IpNet = "10.0.0.0/8".parse()?;
/// assert!(net.contains("10.1.2.3".parse().unwrap()));
/// assert!(!net.contains("11.0.0.1".parse().unwrap()));
/// // An IPv4 peer on a dual-stack socket appears as ::ffff:a.b.c.d, and matches.
/// assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
/// # Ok::<(), fixengine::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

impl IpNet {
    /// The network `addr/prefix_len`; `None` when the prefix is longer than
    /// the address (32 or 128 bits) or `addr` has bits set after the prefix.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        let net = Self { addr, prefix_len };
        let fits = prefix_len <= max_prefix_len(addr);
        (fits && net.masked(addr) == addr).then_some(net)
    }

    /// The network of the single address `addr` (`/32` or `/128`).
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix_len: max_prefix_len(addr),
        }
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `address` lies in this network. Families do not mix, except
    /// that an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is matched as its
    /// IPv4 address by an IPv4 network.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match (self.addr, address) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (IpAddr::V6(_), IpAddr::V4(_)) => return false,
            _ => address,
        };
        self.masked(address) == self.addr
    }

    fn masked(&self, address: IpAddr) -> IpAddr {
        match address {
            IpAddr::V4(v4) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        }
    }
}

impl FromStr for IpNet {
    type Err = ConfigError;

    /// Parses `addr/prefix` or a bare address.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] for key `AllowedRemoteAddresses`, with no
    /// line, naming the text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let parsed = match text.split_once('/') {
            None => text.parse::<IpAddr>().ok().map(Self::host),
            Some((addr, prefix)) => match (addr.parse::<IpAddr>(), prefix.parse::<u8>()) {
                (Ok(addr), Ok(prefix_len)) => Self::new(addr, prefix_len),
                _ => None,
            },
        };
        parsed.ok_or_else(|| ConfigError::BadValue {
            file: None,
            line: None,
            key: "AllowedRemoteAddresses".to_owned(),
            value: text.to_owned(),
            expected: EXPECTED_CIDR,
        })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

fn max_prefix_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}
