//! The configuration: defaults, every key through the reader, errors that
//! name line, key and value, and the builders against the same text.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use super::hints;
use super::keys::{ENGINE_KEYS, SESSION_KEYS};
use super::properties::EXPECTED_CIDR;
use super::*;
use crate::id::FixVersion;

fn parse(text: &str) -> (EngineConfig, Vec<ConfigWarning>) {
    EngineConfig::from_properties_str(text).unwrap()
}

fn parse_err(text: &str) -> ConfigError {
    EngineConfig::from_properties_str(text).unwrap_err()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

/// Asserts a `BadValue` with this line, key and value, whose message names all three.
fn assert_bad_value(err: &ConfigError, line: usize, key: &str, value: &str) {
    match err {
        ConfigError::BadValue {
            line: l,
            key: k,
            value: v,
            ..
        } => {
            assert_eq!((*l, k.as_str(), v.as_str()), (Some(line), key, value));
        }
        other => panic!("expected BadValue, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains(&format!("line {line}")), "{message}");
    assert!(message.contains(key), "{message}");
    assert!(message.contains(value), "{message}");
    assert!(message.contains("expected"), "{message}");
}

#[test]
fn defaults() {
    let config = EngineConfig::default();
    assert!(config.listen_ports().is_empty());
    assert!(config.all_listen_ports().is_empty());
    assert_eq!(config.listen_address(), ip("0.0.0.0"));
    assert_eq!(config.storage_directory(), Path::new("logs"));
    assert!(!config.create_unregistered_acceptor_session());
    assert_eq!(config.logon_timeout(), Duration::from_millis(5000));
    assert_eq!(config.max_pending_connections(), 1024);
    assert_eq!(config.max_message_size(), 1_048_576);
    assert_eq!(config.sessions().count(), 0);
    config.validate().unwrap();

    let s = config.session_defaults();
    assert_eq!(s, &SessionConfig::default());
    assert_eq!(s.storage_type(), StorageType::Persistent);
    assert_eq!((s.min_heart_bt_int(), s.max_heart_bt_int()), (1, 3600));
    assert_eq!(s.logout_timeout(), Duration::from_millis(2000));
    assert_eq!(
        s.reasonable_transmission_time(),
        Duration::from_millis(1000)
    );
    assert!(s.check_sending_time());
    assert_eq!(s.max_sending_time_delta(), Duration::from_secs(120));
    assert!(!s.reset_seq_num_on_logon());
    assert!(!s.reset_seq_num_on_logout());
    assert!(!s.reset_seq_num_on_disconnect());
    assert!(s.validate_check_sum());
    assert!(s.validate_comp_ids());
    assert!(s.validate_fields_have_values());
    assert!(!s.enable_next_expected_msg_seq_num());
    assert_eq!(s.username(), None);
    assert_eq!(s.password(), None);
    assert_eq!(s.allowed_remote_addresses(), None);
    assert!(s.is_remote_address_allowed(ip("203.0.113.9")));
    assert_eq!(s.listen_port(), None);
    // Archived store generations are kept until a policy says otherwise.
    assert_eq!(s.storage_max_archives(), 0);
    assert_eq!(s.storage_max_archive_age(), Duration::ZERO);
    assert_eq!(config.session_config("A", "B"), *s);

    let (empty, warnings) = parse("");
    assert_eq!(empty, config);
    assert!(warnings.is_empty());
}

#[test]
fn parses_every_key() {
    let text = "\
ListenPort = 9880, 9881
ListenAddress = ::1
StorageDirectory = /var/lib/fix
CreateUnregisteredAcceptorSession = yes
LogonTimeout = 1500
MaxPendingConnections = 16
MaxMessageSize = 64Kb
Session.Default.StorageType = transient
Session.Default.MinHeartBtInt = 5
Session.Default.MaxHeartBtInt = 90
Session.Default.LogoutTimeout = 750
Session.Default.ReasonableTransmissionTime = 250
Session.Default.CheckSendingTime = N
Session.Default.MaxSendingTimeDelta = 30
Session.Default.ResetSeqNumOnLogon = Y
Session.Default.ResetSeqNumOnLogout = 1
Session.Default.ResetSeqNumOnDisconnect = TRUE
Session.Default.ValidateCheckSum = false
Session.Default.ValidateCompIds = no
Session.Default.ValidateFieldsHaveValues = 0
Session.Default.EnableNextExpectedMsgSeqNum = true
Session.Default.Username = alice
Session.Default.Password = s3cret
Session.Default.AllowedRemoteAddresses = 10.0.0.0/8, 127.0.0.1, 2001:db8::/32
Session.Default.ListenPort = 9882
";
    let (config, warnings) = parse(text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.listen_ports(), &[9880, 9881]);
    assert_eq!(config.all_listen_ports(), vec![9880, 9881, 9882]);
    assert_eq!(config.listen_address(), ip("::1"));
    assert_eq!(config.storage_directory(), Path::new("/var/lib/fix"));
    assert!(config.create_unregistered_acceptor_session());
    assert_eq!(config.logon_timeout(), Duration::from_millis(1500));
    assert_eq!(config.max_pending_connections(), 16);
    assert_eq!(config.max_message_size(), 64 * 1024);

    let s = config.session_defaults();
    assert_eq!(s.storage_type(), StorageType::Transient);
    assert_eq!((s.min_heart_bt_int(), s.max_heart_bt_int()), (5, 90));
    assert_eq!(s.logout_timeout(), Duration::from_millis(750));
    assert_eq!(s.reasonable_transmission_time(), Duration::from_millis(250));
    assert!(!s.check_sending_time());
    assert_eq!(s.max_sending_time_delta(), Duration::from_secs(30));
    assert!(s.reset_seq_num_on_logon());
    assert!(s.reset_seq_num_on_logout());
    assert!(s.reset_seq_num_on_disconnect());
    assert!(!s.validate_check_sum());
    assert!(!s.validate_comp_ids());
    assert!(!s.validate_fields_have_values());
    assert!(s.enable_next_expected_msg_seq_num());
    assert_eq!(s.username(), Some("alice"));
    assert_eq!(s.password(), Some("s3cret"));
    assert_eq!(
        s.allowed_remote_addresses(),
        Some(&[net("10.0.0.0/8"), net("127.0.0.1/32"), net("2001:db8::/32")][..])
    );
    assert_eq!(s.listen_port(), Some(9882));
    // The same keys per session land on that session only.
    let per_session = text
        .lines()
        .filter_map(|l| l.strip_prefix("Session.Default."))
        .map(|l| format!("Session.ME/YOU.{l}\n"))
        .collect::<String>();
    let (config2, warnings) = parse(&per_session);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config2.session_config("ME", "YOU"), *s);
    assert_eq!(config2.session_defaults(), &SessionConfig::default());
}

#[test]
fn per_session_beats_default_beats_built_in() {
    let (config, warnings) = parse(
        "Session.Default.MaxHeartBtInt = 120\n\
         Session.Default.Username = everyone\n\
         Session.ISLD/TW.MaxHeartBtInt = 60\n\
         Session.ISLD/TW.Username =\n\
         Session.ISLD/TW.ListenPort = 9881\n\
         Session.A.B/C.D.CheckSendingTime = false\n",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let isld = config.session_config("ISLD", "TW");
    assert_eq!(isld.max_heart_bt_int(), 60); // per-session
    assert_eq!(isld.username(), None); // per-session empty value clears the default
    assert_eq!(isld.listen_port(), Some(9881));
    assert_eq!(isld.min_heart_bt_int(), 1); // built-in
    let other = config.session_config("ISLD", "OTHER");
    assert_eq!(other.max_heart_bt_int(), 120); // Session.Default
    assert_eq!(other.username(), Some("everyone"));
    assert_eq!(&other, config.session_defaults());
    // CompIDs may contain dots; the key name is after the last one.
    assert!(!config.session_config("A.B", "C.D").check_sending_time());
    assert_eq!(
        config.sessions().collect::<Vec<_>>(),
        vec![("A.B", "C.D"), ("ISLD", "TW")]
    );
    assert_eq!(config.all_listen_ports(), vec![9881]);
    // Overrides sit on top of the defaults, including defaults changed later in code.
    let config = config.with_session_defaults(SessionConfig::default().with_min_heart_bt_int(7));
    let isld = config.session_config("ISLD", "TW");
    assert_eq!((isld.min_heart_bt_int(), isld.max_heart_bt_int()), (7, 60));
}

#[test]
fn comments_blank_lines_and_whitespace() {
    let text = "\u{feff}# a comment\r\n\
                \r\n\
                ! a Java-style comment\n\
                \t   # indented comment\n\
                \x20  ListenPort   =   9880  \r\n\
                \n\
                StorageDirectory=data dir\n\
                Session.Default.Password =\n\
                Session.Default.AllowedRemoteAddresses = *\n";
    let (config, warnings) = parse(text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.listen_ports(), &[9880]);
    assert_eq!(config.storage_directory(), Path::new("data dir"));
    assert_eq!(config.session_defaults().password(), None);
    assert_eq!(config.session_defaults().allowed_remote_addresses(), None);
    // Only the first `=` separates: the rest belongs to the value.
    let (config, _) = parse("Session.Default.Password = a=b#c\n");
    assert_eq!(config.session_defaults().password(), Some("a=b#c"));
}

#[test]
fn unknown_key_is_a_warning_naming_key_and_line() {
    let (config, warnings) = parse(
        "ListenPort = 9880\n\
         # comment\n\
         NumberOfWorkers = 2\n\
         Session.Default.Frobnicate = 1\n\
         listenport = 1\n\
         MinHeartBtInt = 5\n\
         Session.Default.LogonTimeout = 10\n",
    );
    assert_eq!(config.listen_ports(), &[9880]);
    assert_eq!(config.logon_timeout(), Duration::from_millis(5000));
    assert_eq!(config.session_defaults().min_heart_bt_int(), 1);
    let got: Vec<_> = warnings.iter().map(|w| (w.line, w.key.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (3, "NumberOfWorkers"),
            (4, "Session.Default.Frobnicate"),
            (5, "listenport"),
            (6, "MinHeartBtInt"),
            (7, "Session.Default.LogonTimeout"),
        ]
    );
    assert_eq!(
        warnings[0].to_string(),
        "line 3: NumberOfWorkers: unknown key; ignored"
    );
    assert!(warnings[2].message.contains("did you mean ListenPort"));
    assert!(
        warnings[3]
            .message
            .contains("Session.Default.MinHeartBtInt")
    );
    assert!(warnings[4].message.contains("engine key"));
}

#[test]
fn duplicate_key_last_wins_with_warning() {
    let (config, warnings) = parse("LogonTimeout = 100\nListenPort = 1\nLogonTimeout = 200\n");
    assert_eq!(config.logon_timeout(), Duration::from_millis(200));
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        (warnings[0].line, warnings[0].key.as_str()),
        (3, "LogonTimeout")
    );
    assert!(warnings[0].message.contains("line 1"), "{}", warnings[0]);
}

#[test]
fn bad_port() {
    let err = parse_err("# ports\nListenPort = 9880, 70000\n");
    assert_bad_value(&err, 2, "ListenPort", "70000");
    assert_bad_value(&parse_err("ListenPort = http\n"), 1, "ListenPort", "http");
    assert_bad_value(&parse_err("ListenPort = 9880,\n"), 1, "ListenPort", "");
    assert_bad_value(&parse_err("ListenPort = -1\n"), 1, "ListenPort", "-1");
    assert_bad_value(
        &parse_err("Session.A/B.ListenPort = 1, 2\n"),
        1,
        "Session.A/B.ListenPort",
        "1, 2",
    );
    // The empty list is valid and means: accept nothing.
    assert!(parse("ListenPort =\n").0.listen_ports().is_empty());
    assert_eq!(parse("ListenPort = 1,1, 2\n").0.listen_ports(), &[1, 2]);
}

#[test]
fn bad_bool() {
    let err = parse_err("\nSession.Default.CheckSendingTime = maybe\n");
    assert_bad_value(&err, 2, "Session.Default.CheckSendingTime", "maybe");
    assert!(err.to_string().contains("true/false"), "{err}");
    let err = parse_err("CreateUnregisteredAcceptorSession = 2\n");
    assert_bad_value(&err, 1, "CreateUnregisteredAcceptorSession", "2");
    for (text, expected) in [
        ("true", true),
        ("FALSE", false),
        ("Yes", true),
        ("no", false),
        ("y", true),
        ("N", false),
        ("1", true),
        ("0", false),
    ] {
        let (config, _) = parse(&format!("CreateUnregisteredAcceptorSession = {text}\n"));
        assert_eq!(
            config.create_unregistered_acceptor_session(),
            expected,
            "{text}"
        );
    }
}

#[test]
fn bad_number() {
    assert_bad_value(&parse_err("LogonTimeout = 5s\n"), 1, "LogonTimeout", "5s");
    assert_bad_value(&parse_err("LogonTimeout = +5\n"), 1, "LogonTimeout", "+5");
    assert_bad_value(
        &parse_err("Session.X/Y.MinHeartBtInt = -1\n"),
        1,
        "Session.X/Y.MinHeartBtInt",
        "-1",
    );
    assert_bad_value(
        &parse_err("Session.Default.MaxHeartBtInt = 99999999999\n"),
        1,
        "Session.Default.MaxHeartBtInt",
        "99999999999",
    );
    assert_bad_value(
        &parse_err("MaxPendingConnections =\n"),
        1,
        "MaxPendingConnections",
        "",
    );
    assert_bad_value(
        &parse_err("ListenAddress = localhost\n"),
        1,
        "ListenAddress",
        "localhost",
    );
    assert_bad_value(
        &parse_err("StorageDirectory =\n"),
        1,
        "StorageDirectory",
        "",
    );
    // Days are whole days, without a unit.
    let err = parse_err("Session.Default.StorageMaxArchiveAge = 7d\n");
    assert_bad_value(&err, 1, "Session.Default.StorageMaxArchiveAge", "7d");
    assert_mentions(&err, "a whole number of days");
}

#[test]
fn bad_cidr() {
    let err =
        parse_err("Session.Default.AllowedRemoteAddresses = 10.0.0.0/8, 10.0.0.0/33, 127.0.0.1\n");
    assert_bad_value(
        &err,
        1,
        "Session.Default.AllowedRemoteAddresses",
        "10.0.0.0/33",
    );
    for bad in [
        "10.0.0.1/8",
        "example.com",
        "1.2.3.4/",
        "::/129",
        "1.2.3/24",
        "",
    ] {
        let text = format!("Session.A/B.AllowedRemoteAddresses = 127.0.0.1, {bad}\n");
        assert_bad_value(
            &parse_err(&text),
            1,
            "Session.A/B.AllowedRemoteAddresses",
            bad,
        );
        assert!(bad.parse::<IpNet>().is_err(), "{bad}");
    }
    let err = "10.0.0.1/8".parse::<IpNet>().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("AllowedRemoteAddresses = \"10.0.0.1/8\": expected {EXPECTED_CIDR}")
    );
}

#[test]
fn byte_sizes() {
    for (text, bytes) in [
        ("4096", 4096),
        ("64Kb", 65_536),
        ("64kb", 65_536),
        ("64 KB", 65_536),
        ("2k", 2048),
        ("1Mb", 1_048_576),
        ("1MiB", 1_048_576),
        ("1gb", 1 << 30),
        ("100b", 100),
    ] {
        let (config, _) = parse(&format!("MaxMessageSize = {text}\n"));
        assert_eq!(config.max_message_size(), bytes, "{text}");
    }
}

#[test]
fn bad_size_suffix() {
    let err = parse_err("MaxMessageSize = 10Tb\n");
    assert_bad_value(&err, 1, "MaxMessageSize", "10Tb");
    assert!(err.to_string().contains("Kb"), "{err}");
    for bad in ["Mb", "1.5Mb", "-1", "1 M b", "99999999999999999999Gb"] {
        assert_bad_value(
            &parse_err(&format!("MaxMessageSize = {bad}\n")),
            1,
            "MaxMessageSize",
            bad,
        );
    }
}

#[test]
fn storage_sync_values() {
    let (config, _) = parse(
        "Session.Default.StorageSync = EVERY\nSession.A/B.StorageSync = 64\n\
         Session.C/D.StorageSync = none\n",
    );
    assert_eq!(config.session_defaults().storage_sync(), SyncPolicy::Group);
    assert_eq!(
        config.session_config("A", "B").storage_sync(),
        SyncPolicy::Periodic(NonZeroU32::new(64).unwrap())
    );
    assert_eq!(
        config.session_config("C", "D").storage_sync(),
        SyncPolicy::None
    );
    for bad in ["0", "+5", "-1", "", "always", "99999999999"] {
        assert_bad_value(
            &parse_err(&format!("Session.Default.StorageSync = {bad}\n")),
            1,
            "Session.Default.StorageSync",
            bad,
        );
        // The same rules from code (the example acceptor's --storage-sync).
        let err = bad.parse::<SyncPolicy>().unwrap_err();
        assert!(
            matches!(&err, ConfigError::BadValue { line: None, key, .. } if key == "StorageSync"),
            "{err:?}"
        );
    }
    assert_eq!("Every".parse::<SyncPolicy>().unwrap(), SyncPolicy::Group);
}

#[test]
fn a_word_outside_a_keys_choices_names_them() {
    for (key, value, expected) in [
        ("IdleStrategy", "sleep", "park or spin"),
        ("LogonRefusalReply", "reject", "logout or silent"),
        ("PutWhileDisconnected", "drop", "store or queue"),
    ] {
        let err = parse_err(&format!("Session.Default.{key} = {value}\n"));
        assert_bad_value(&err, 1, &format!("Session.Default.{key}"), value);
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn bad_storage_type() {
    let err = parse_err("Session.Default.StorageType = disk\n");
    assert_bad_value(&err, 1, "Session.Default.StorageType", "disk");
    assert!(err.to_string().contains("persistent or transient"), "{err}");
    let (config, _) =
        parse("Session.Default.StorageType = Transient\nSession.A/B.StorageType = persistentMM\n");
    assert_eq!(
        config.session_defaults().storage_type(),
        StorageType::Transient
    );
    assert_eq!(
        config.session_config("A", "B").storage_type(),
        StorageType::Persistent
    );
}

#[test]
fn syntax_error_names_line_and_text() {
    let err = parse_err("ListenPort = 9880\n\n# ok\nLogonTimeout 5000\n");
    match &err {
        ConfigError::Syntax { file, line, text } => {
            assert_eq!((*line, text.as_str()), (4, "LogonTimeout 5000"));
            assert_eq!(*file, None, "text parsed from a string names no file");
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "line 4: expected `Key = Value` or a comment, found \"LogonTimeout 5000\""
    );
    assert!(matches!(
        parse_err("= 5\n"),
        ConfigError::Syntax { line: 1, .. }
    ));
}

#[test]
fn malformed_session_key_is_an_error() {
    for key in [
        "Session.ISLD.MaxHeartBtInt",
        "Session.ISLD/.MaxHeartBtInt",
        "Session./TW.MaxHeartBtInt",
        "Session.Default",
        "Session.A B/TW.MaxHeartBtInt",
    ] {
        match parse_err(&format!("\n{key} = 1\n")) {
            ConfigError::BadKey { line, key: k, .. } => {
                assert_eq!((line, k.as_str()), (2, key))
            }
            other => panic!("{key}: expected BadKey, got {other:?}"),
        }
    }
}

#[test]
fn min_heart_bt_int_above_max_is_an_error() {
    let err = parse_err("Session.Default.MinHeartBtInt = 30\nSession.Default.MaxHeartBtInt = 10\n");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("Session.Default"), "{message}");
    assert!(message.contains("MinHeartBtInt (30 s)"), "{message}");
    assert!(message.contains("MaxHeartBtInt (10 s)"), "{message}");
    // Each value is fine alone; only the resolved session breaks the rule.
    let err = parse_err("Session.Default.MinHeartBtInt = 30\nSession.ISLD/TW.MaxHeartBtInt = 20\n");
    assert!(err.to_string().contains("Session.ISLD/TW"), "{err}");
    // From code, validate() applies the same rule.
    let config = EngineConfig::default().with_session(
        "ISLD",
        "TW",
        SessionConfig::default()
            .with_min_heart_bt_int(5)
            .with_max_heart_bt_int(4),
    );
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("Session.ISLD/TW")
    );
}

#[test]
fn validate_checks_engine_rules() {
    let ok = EngineConfig::default();
    ok.clone().with_max_message_size(64).validate().unwrap();
    let err = ok.clone().with_max_message_size(63).validate().unwrap_err();
    assert!(err.to_string().contains("MaxMessageSize is 63"), "{err}");
    let err = ok
        .clone()
        .with_logon_timeout(Duration::ZERO)
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("LogonTimeout"), "{err}");
    let err = ok
        .clone()
        .with_max_pending_connections(0)
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("MaxPendingConnections"), "{err}");
    let err = ok
        .with_session("ME", "BAD ID", SessionConfig::default())
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("\"BAD ID\""), "{err}");
    assert!(matches!(
        parse_err("MaxMessageSize = 10\n"),
        ConfigError::Invalid { .. }
    ));
    assert!(matches!(
        parse_err("LogonTimeout = 0\n"),
        ConfigError::Invalid { .. }
    ));
}

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

#[test]
fn password_is_masked_in_debug() {
    let session = SessionConfig::default()
        .with_username("alice")
        .with_password("hunter2");
    let debug = format!("{session:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("***"), "{debug}");
    assert!(debug.contains("alice"), "{debug}");
    assert_eq!(session.password(), Some("hunter2"));

    let (config, _) =
        parse("Session.Default.Password = topsecret\nSession.A/B.Password = othersecret\n");
    let debug = format!("{config:?} {:#?}", config.session_config("A", "B"));
    assert!(!debug.contains("topsecret"), "{debug}");
    assert!(!debug.contains("othersecret"), "{debug}");
}

#[test]
fn default_properties_parse_without_warnings() {
    let (config, warnings) = EngineConfig::from_properties_str(DEFAULT_PROPERTIES).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.listen_ports(), &[9880]);
    assert_eq!(config.storage_directory(), Path::new("logs"));
    assert_eq!(config.session_defaults(), &SessionConfig::default());
    assert_eq!(
        config.sessions().collect::<Vec<_>>(),
        vec![("TEST1", "TEST2")]
    );
    let example = config.session_config("TEST1", "TEST2");
    assert_eq!(example.max_heart_bt_int(), 300);
    assert_eq!(example.storage_type(), StorageType::Persistent);
    // Apart from the port and the example session, it spells out the built-in defaults.
    let (mut rebuilt, _) = parse(DEFAULT_PROPERTIES);
    rebuilt.sessions.clear();
    assert_eq!(rebuilt, EngineConfig::default().listen_port(9880));
}

#[test]
fn builder_round_trip() {
    let session = SessionConfig::default()
        .with_storage_type(StorageType::Transient)
        .with_min_heart_bt_int(10)
        .with_max_heart_bt_int(60)
        .with_logout_timeout(Duration::from_millis(300))
        .with_reasonable_transmission_time(Duration::from_millis(400))
        .with_check_sending_time(false)
        .with_max_sending_time_delta(Duration::from_secs(5))
        .with_reset_seq_num_on_logon(true)
        .with_reset_seq_num_on_logout(true)
        .with_reset_seq_num_on_disconnect(true)
        .with_validate_check_sum(false)
        .with_validate_comp_ids(false)
        .with_validate_fields_have_values(false)
        .with_enable_next_expected_msg_seq_num(true)
        .with_username("bob")
        .with_password("pw")
        .with_allowed_remote_addresses([net("10.0.0.0/8"), net("::1")])
        .with_listen_port(9990)
        .with_enable_last_msg_seq_num_processed(true)
        .with_resend_request_chunk_size(5)
        .with_resend_request_number_of_messages_limit(1000)
        .with_logon_refusal_reply(LogonRefusalReply::Silent)
        .with_put_while_disconnected(PutWhileDisconnected::Queue)
        .with_message_time_to_live(Duration::from_millis(750))
        .with_storage_max_archives(3)
        .with_storage_max_archive_age(Duration::from_secs(7 * 86_400));
    let config = EngineConfig::default()
        .listen_port(9880)
        .listen_port(9881)
        .listen_port(9880)
        .with_listen_address(ip("127.0.0.1"))
        .with_storage_directory("data")
        .with_create_unregistered_acceptor_session(true)
        .with_logon_timeout(Duration::from_millis(1234))
        .with_max_pending_connections(8)
        .with_max_message_size(4096)
        .with_session_defaults(SessionConfig::default().with_max_heart_bt_int(100))
        .with_session("ISLD", "TW", session.clone());
    config.validate().unwrap();
    assert_eq!(config.listen_ports(), &[9880, 9881]);
    assert_eq!(config.all_listen_ports(), vec![9880, 9881, 9990]);
    assert_eq!(config.listen_address(), ip("127.0.0.1"));
    assert_eq!(config.storage_directory(), Path::new("data"));
    assert!(config.create_unregistered_acceptor_session());
    assert_eq!(config.logon_timeout(), Duration::from_millis(1234));
    assert_eq!(config.max_pending_connections(), 8);
    assert_eq!(config.max_message_size(), 4096);
    assert_eq!(config.session_defaults().max_heart_bt_int(), 100);
    assert_eq!(config.session_config("ISLD", "TW"), session);
    assert_eq!(config.session_config("ISLD", "X").max_heart_bt_int(), 100);
    assert_eq!(config.sessions().collect::<Vec<_>>(), vec![("ISLD", "TW")]);

    // The same configuration written as properties parses to an equal value.
    let text = "\
ListenPort = 9880, 9881
ListenAddress = 127.0.0.1
StorageDirectory = data
CreateUnregisteredAcceptorSession = true
LogonTimeout = 1234
MaxPendingConnections = 8
MaxMessageSize = 4Kb
Session.Default.MaxHeartBtInt = 100
Session.ISLD/TW.StorageType = transient
Session.ISLD/TW.MinHeartBtInt = 10
Session.ISLD/TW.MaxHeartBtInt = 60
Session.ISLD/TW.LogoutTimeout = 300
Session.ISLD/TW.ReasonableTransmissionTime = 400
Session.ISLD/TW.CheckSendingTime = false
Session.ISLD/TW.MaxSendingTimeDelta = 5
Session.ISLD/TW.ResetSeqNumOnLogon = true
Session.ISLD/TW.ResetSeqNumOnLogout = true
Session.ISLD/TW.ResetSeqNumOnDisconnect = true
Session.ISLD/TW.ValidateCheckSum = false
Session.ISLD/TW.ValidateCompIds = false
Session.ISLD/TW.ValidateFieldsHaveValues = false
Session.ISLD/TW.EnableNextExpectedMsgSeqNum = true
Session.ISLD/TW.Username = bob
Session.ISLD/TW.Password = pw
Session.ISLD/TW.AllowedRemoteAddresses = 10.0.0.0/8, ::1
Session.ISLD/TW.ListenPort = 9990
Session.ISLD/TW.EnableLastMsgSeqNumProcessed = true
Session.ISLD/TW.ResendRequestChunkSize = 5
Session.ISLD/TW.ResendRequestNumberOfMessagesLimit = 1000
Session.ISLD/TW.LogonRefusalReply = silent
Session.ISLD/TW.PutWhileDisconnected = QUEUE
Session.ISLD/TW.MessageTimeToLive = 750
Session.ISLD/TW.StorageMaxArchives = 3
Session.ISLD/TW.StorageMaxArchiveAge = 7
";
    let (parsed, warnings) = parse(text);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(parsed.session_config("ISLD", "TW"), session);
    assert_eq!(parsed.with_session("ISLD", "TW", session), config);
}

#[test]
fn reads_files_and_names_the_path_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.properties");
    std::fs::write(&path, "ListenPort = 7000\nBogus = 1\n").unwrap();
    let (config, warnings) = EngineConfig::from_properties_file(&path).unwrap();
    assert_eq!(config.listen_ports(), &[7000]);
    assert_eq!(warnings.len(), 1);

    let missing = dir.path().join("missing.properties");
    let err = EngineConfig::from_properties_file(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.properties"), "{err}");
}

#[test]
fn validation_switches_parse_per_session() {
    let text =
        "Session.Default.ValidateFieldValues = false\nSession.ISLD/TW.ValidateUnknownFields = no\n";
    let (config, warnings) = EngineConfig::from_properties_str(text).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let s = config.session_config("ISLD", "TW");
    assert!(!s.validate_field_values());
    assert!(!s.validate_unknown_fields());
    assert!(s.validate_required_fields());
    assert!(s.validate_fields_out_of_order());
    let d = SessionConfig::default().with_validate_required_fields(false);
    assert!(!d.validate_required_fields());
}

#[test]
fn dictionary_keys_parse_with_their_defaults() {
    let config = EngineConfig::default();
    assert_eq!(config.data_dictionary_directory(), None);
    let s = config.session_defaults();
    assert!(s.use_data_dictionary());
    assert_eq!(s.data_dictionary(), None);
    assert_eq!(s.transport_data_dictionary(), None);
    assert_eq!(s.app_data_dictionary(), None);

    let (config, warnings) = parse(
        "DataDictionaryDirectory = spec\n\
         Session.Default.DataDictionary = FIX44\n\
         Session.ISLD/TW.UseDataDictionary = N\n\
         Session.ISLD/TW50.BeginString = FIXT.1.1\n\
         Session.ISLD/TW50.DefaultApplVerID = FIX.5.0SP2\n\
         Session.ISLD/TW50.TransportDataDictionary = qfj/FIXT11.xml\n\
         Session.ISLD/TW50.AppDataDictionary = FIX50SP2.xml\n\
         Session.ISLD/CLEARED.DataDictionary =\n",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.data_dictionary_directory(), Some(Path::new("spec")));
    assert_eq!(config.session_defaults().data_dictionary(), Some("FIX44"));
    assert!(!config.session_config("ISLD", "TW").use_data_dictionary());
    let fixt = config.session_config("ISLD", "TW50");
    assert_eq!(fixt.data_dictionary(), Some("FIX44"));
    assert_eq!(fixt.transport_data_dictionary(), Some("qfj/FIXT11.xml"));
    assert_eq!(fixt.app_data_dictionary(), Some("FIX50SP2.xml"));
    // An empty value clears what Session.Default named.
    assert_eq!(
        config.session_config("ISLD", "CLEARED").data_dictionary(),
        None
    );
    // An empty folder is none, as the default file writes it.
    let (config, _) = parse("DataDictionaryDirectory =\n");
    assert_eq!(config.data_dictionary_directory(), None);

    // The same from code.
    let built = EngineConfig::default()
        .with_data_dictionary_directory("spec")
        .with_session_defaults(SessionConfig::default().with_data_dictionary("FIX44"))
        .with_session(
            "ISLD",
            "TW50",
            SessionConfig::default()
                .with_begin_string(BeginString::Fixt11)
                .with_default_appl_ver_id(FixVersion::Fix50Sp2)
                .with_use_data_dictionary(true)
                .with_data_dictionary("FIX44")
                .with_transport_data_dictionary("qfj/FIXT11.xml")
                .with_app_data_dictionary("FIX50SP2.xml"),
        );
    assert_eq!(built.data_dictionary_directory(), Some(Path::new("spec")));
    assert_eq!(built.session_config("ISLD", "TW50"), fixt);
}

#[test]
fn begin_string_gives_a_named_session_its_version() {
    let (config, warnings) = parse(
        "Session.ISLD/TW.MaxHeartBtInt = 30\n\
         Session.ISLD/TW42.BeginString = FIX.4.2\n\
         Session.ISLD/TW40.BeginString = fix40\n\
         Session.ISLD/TWT.BeginString = FIXT.1.1\n\
         Session.ISLD/TWT.DefaultApplVerID = 8\n\
         Session.ISLD/TWSP2.BeginString = FIX.5.0SP2\n\
         Session.ISLD/TWSP2.DefaultApplVerID = FIX.5.0SP2\n\
         Session.ISLD/TW44.DefaultApplVerID = 7\n",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let version = |target| config.session_config("ISLD", target).fix_version().unwrap();
    // FIX.4.4 when BeginString is left out, as before the key existed.
    assert_eq!(version("TW"), FixVersion::Fix44);
    assert_eq!(version("TW42"), FixVersion::Fix42);
    assert_eq!(version("TW40"), FixVersion::Fix40);
    assert_eq!(version("TWT"), FixVersion::Fix50Sp1);
    assert_eq!(version("TWSP2"), FixVersion::Fix50Sp2);
    // DefaultApplVerID means nothing to FIX.4.x, as in QuickFIX.
    assert_eq!(version("TW44"), FixVersion::Fix44);
    assert_eq!(
        config.session_config("ISLD", "TWT").begin_string(),
        BeginString::Fixt11
    );
    assert_eq!(
        BeginString::Fix(FixVersion::Fix50Sp1).to_string(),
        "FIX.5.0SP1"
    );
    assert_eq!(BeginString::Fixt11.to_string(), "FIXT.1.1");

    // Values that name no version are errors naming key, line and value.
    let err = parse_err("Session.Default.BeginString = FIX.4.5\n");
    assert_bad_value(&err, 1, "Session.Default.BeginString", "FIX.4.5");
    assert_mentions(&err, "FIXT.1.1");
    let err = parse_err("\nSession.A/B.DefaultApplVerID = FIX.4.4\n");
    assert_bad_value(&err, 2, "Session.A/B.DefaultApplVerID", "FIX.4.4");
    let err = parse_err("Session.A/B.DefaultApplVerID = 6\n");
    assert_bad_value(&err, 1, "Session.A/B.DefaultApplVerID", "6");

    // FIXT.1.1 needs DefaultApplVerID; a version named outright must agree with it.
    let err = parse_err("Session.ISLD/TW.BeginString = FIXT.1.1\n");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    assert_mentions(
        &err,
        "Session.ISLD/TW: BeginString is FIXT.1.1 but DefaultApplVerID",
    );
    let err = parse_err(
        "Session.ISLD/TW.BeginString = FIX.5.0SP2\nSession.ISLD/TW.DefaultApplVerID = FIX.5.0\n",
    );
    assert_mentions(
        &err,
        "BeginString is FIX.5.0SP2 but DefaultApplVerID is FIX.5.0",
    );
    // Set under Session.Default, it is checked for the sessions that use it.
    let (config, _) = parse(
        "Session.Default.BeginString = FIXT.1.1\nSession.Default.DefaultApplVerID = 9\n\
         Session.ISLD/TW.MaxHeartBtInt = 30\n",
    );
    assert_eq!(
        config.session_config("ISLD", "TW").fix_version().unwrap(),
        FixVersion::Fix50Sp2
    );
    assert!(
        SessionConfig::default()
            .with_begin_string(BeginString::Fixt11)
            .fix_version()
            .is_err()
    );
}

/// Fails naming the keys `found` lacks and the names it has that are no key.
fn assert_same_keys(what: &str, found: &[&str], keys: &[&str]) {
    let missing: Vec<_> = keys.iter().filter(|k| !found.contains(k)).collect();
    let unknown: Vec<_> = found.iter().filter(|k| !keys.contains(k)).collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("lacks {missing:?}, declared in keys.rs"));
    }
    if !unknown.is_empty() {
        problems.push(format!("names {unknown:?}, which keys.rs does not declare"));
    }
    assert!(problems.is_empty(), "{what}: {}", problems.join("; "));
}

/// The keys in the first column of the module docs' table under `heading`.
fn documented_keys(heading: &str) -> Vec<&'static str> {
    include_str!("mod.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(str::trim)
        .skip_while(|line| !line.starts_with(heading))
        .skip(1)
        .take_while(|line| !line.starts_with('#'))
        .filter_map(|line| line.strip_prefix("| `")?.split_once('`'))
        .map(|(key, _)| key)
        .collect()
}

#[test]
fn module_docs_list_every_key_in_table_order() {
    let engine = documented_keys("# Engine keys");
    assert_same_keys("the module docs' engine keys", &engine, ENGINE_KEYS);
    assert_eq!(
        engine, ENGINE_KEYS,
        "the module docs list engine keys in table order"
    );
    let session = documented_keys("# Session keys");
    assert_same_keys("the module docs' session keys", &session, SESSION_KEYS);
    assert_eq!(
        session, SESSION_KEYS,
        "the module docs list session keys in table order"
    );
}

#[test]
fn default_properties_spell_out_every_key() {
    let (mut engine, mut session) = (Vec::new(), Vec::new());
    for line in DEFAULT_PROPERTIES.lines().filter(|l| !l.starts_with('#')) {
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        match key.strip_prefix("Session.Default.") {
            Some(name) => session.push(name),
            None if !key.starts_with("Session.") => engine.push(key),
            None => {}
        }
    }
    assert_same_keys("default.properties' engine keys", &engine, ENGINE_KEYS);
    assert_same_keys(
        "default.properties' Session.Default keys",
        &session,
        SESSION_KEYS,
    );
}

/// Asserts that `text` contains `part`, showing `text` when it does not.
fn assert_mentions(text: impl std::fmt::Display, part: &str) {
    let text = text.to_string();
    assert!(text.contains(part), "{text:?} does not say {part:?}");
}

#[test]
fn another_engines_key_says_what_fixengine_calls_it() {
    let (config, warnings) = parse(
        "SocketAcceptPort = 9880\n\
         FileStorePath = store\n\
         ResetOnLogon = Y\n\
         Session.Default.ResetOnLogon = Y\n\
         Session.Default.SocketAcceptHost = 127.0.0.1\n\
         HeartBtInt = 30\n\
         loginWaitTimeout = 5000\n\
         Session.ISLD/TW.ValidateUserDefinedFields = N\n",
    );
    // Nothing is taken under another engine's name.
    assert_eq!(config, EngineConfig::default());
    assert_eq!(
        warnings[0].to_string(),
        "line 1: SocketAcceptPort: unknown key (QuickFIX's name); fixengine calls it \
         ListenPort; ignored"
    );
    assert_mentions(&warnings[1], "fixengine calls it StorageDirectory;");
    // Ours is a session key, or an engine key: where to write it.
    assert_mentions(
        &warnings[2],
        "fixengine calls it ResetSeqNumOnLogon, a session key: write \
         Session.Default.ResetSeqNumOnLogon or",
    );
    assert_mentions(
        &warnings[3],
        "fixengine calls it ResetSeqNumOnLogon; ignored",
    );
    assert_mentions(
        &warnings[4],
        "(QuickFIX/n's name); fixengine calls it ListenAddress, an engine key: write \
         ListenAddress without the Session. prefix",
    );
    assert_mentions(&warnings[5], "MinHeartBtInt and MaxHeartBtInt bound it");
    assert_mentions(
        &warnings[6],
        "(FIX Antenna Java's name); fixengine calls it LogonTimeout;",
    );
    assert_mentions(
        &warnings[7],
        "the closest fixengine key is ValidateUnknownFields;",
    );
}

#[test]
fn another_engines_names_lead_to_keys_of_ours() {
    let ours = || ENGINE_KEYS.iter().chain(SESSION_KEYS);
    for (theirs, key) in hints::foreign_names() {
        assert!(
            !ours().any(|k| k.eq_ignore_ascii_case(theirs)),
            "{theirs} is a key of ours"
        );
        if let Some(key) = key {
            assert!(
                ours().any(|k| *k == key),
                "{theirs} leads to {key}, no key of ours"
            );
        }
    }
}

/// README.md's configuration tables: for each row, its first cell (our keys)
/// and the rest of the row.
fn readme_key_rows() -> Vec<(&'static str, &'static str)> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has a Configuration section");
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|row| row.split_once(" | "))
        .collect()
}

#[test]
fn the_readme_key_tables_name_every_key_and_the_other_engines_names() {
    let rows = readme_key_rows();
    let has_row = |key: &str| {
        rows.iter()
            .any(|(keys, _)| keys.split(" / ").any(|k| k.trim() == key))
    };
    for key in ENGINE_KEYS.iter().chain(SESSION_KEYS) {
        assert!(has_row(key), "README.md's key tables have no row for {key}");
    }
    // Every other engine's name the reader points from is in its key's row.
    for (theirs, key) in hints::foreign_names() {
        let Some(key) = key else { continue };
        let in_row = rows.iter().any(|(keys, rest)| {
            keys.split(" / ").any(|k| k.trim() == key) && rest.contains(theirs)
        });
        assert!(in_row, "README.md's row for {key} does not name {theirs}");
    }
}

#[test]
fn a_session_key_written_bare_says_where_it_goes() {
    let (config, warnings) = parse("MaxHeartBtInt = 60\n");
    assert_eq!(config.session_defaults().max_heart_bt_int(), 3600);
    assert_eq!(
        warnings[0].to_string(),
        "line 1: MaxHeartBtInt: a session key, not an engine key: write \
         Session.Default.MaxHeartBtInt or Session.<SenderCompID>/<TargetCompID>.MaxHeartBtInt; \
         ignored"
    );
}

#[test]
fn timeouts_quickfix_reads_in_seconds_are_flagged_when_short() {
    let (config, warnings) = parse(
        "LogonTimeout = 10\n\
         Session.Default.LogoutTimeout = 2\n\
         Session.A/B.LogoutTimeout = 100\n",
    );
    // Kept as written: a short timeout may be meant.
    assert_eq!(config.logon_timeout(), Duration::from_millis(10));
    assert_eq!(
        config.session_defaults().logout_timeout(),
        Duration::from_millis(2)
    );
    let got: Vec<_> = warnings.iter().map(|w| (w.line, w.key.as_str())).collect();
    assert_eq!(
        got,
        [(1, "LogonTimeout"), (2, "Session.Default.LogoutTimeout")]
    );
    assert_eq!(
        warnings[0].message,
        "10 ms: LogonTimeout is in milliseconds, QuickFIX's in seconds \
         (10 s is LogonTimeout = 10000); kept"
    );
    // Written in the wrong place, the unit is named with the place.
    let (_, warnings) = parse("Session.Default.LogonTimeout = 10\nLogoutTimeout = 2000\n");
    assert_mentions(&warnings[0], "QuickFIX's LogonTimeout is in seconds");
    assert_mentions(
        &warnings[1],
        "write Session.Default.LogoutTimeout or Session.<SenderCompID>/<TargetCompID>.LogoutTimeout, \
         in milliseconds",
    );
}

#[test]
fn a_file_is_named_in_its_warnings_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.properties");
    let read = |text: &str| {
        std::fs::write(&path, text).unwrap();
        EngineConfig::from_properties_file(&path)
    };
    let (_, warnings) = read("ListenPort = 7000\nSocketAcceptPort = 7000\n").unwrap();
    assert_eq!(warnings[0].file.as_deref(), Some(path.as_path()));
    assert_eq!(
        warnings[0].to_string(),
        format!(
            "{}:2: SocketAcceptPort: unknown key (QuickFIX's name); fixengine calls it \
             ListenPort; ignored",
            path.display()
        )
    );
    let at = |line: &str| format!("{}{line}: ", path.display());
    let errors = [
        ("ListenPort = 9880, 70000\n", at(":1")),
        ("\nListenPort 9880\n", at(":2")),
        ("Session.ISLD.MaxHeartBtInt = 1\n", at(":1")),
        // A broken rule is the file's as a whole.
        ("MaxMessageSize = 10\n", at("")),
    ];
    for (text, prefix) in errors {
        let err = read(text).unwrap_err();
        assert!(err.to_string().starts_with(&prefix), "{text:?}: {err}");
    }
    let err = read("ListenPort = http\n").unwrap_err();
    match &err {
        ConfigError::BadValue { file, line, .. } => {
            assert_eq!((file.as_deref(), *line), (Some(path.as_path()), Some(1)));
        }
        other => panic!("expected BadValue, got {other:?}"),
    }
}

/// Keeps the log records that mention `LOG_PROBE`, from any test's thread.
struct Capture(std::sync::Mutex<Vec<String>>);

const LOG_PROBE: &str = "LogProbeKey";

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let text = record.args().to_string();
        if text.contains(LOG_PROBE) {
            self.0.lock().unwrap().push(text);
        }
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(std::sync::Mutex::new(Vec::new()));

#[test]
fn warnings_are_returned_not_logged() {
    // The caller logs them (FixEngine::from_properties does): logged here too,
    // each would show twice.
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Trace);
    log::warn!("{LOG_PROBE}: the capture is in place");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("engine.properties");
    std::fs::write(&path, format!("{LOG_PROBE} = 1\n")).unwrap();
    let (_, from_file) = EngineConfig::from_properties_file(&path).unwrap();
    let (_, from_text) = parse(&format!("{LOG_PROBE} = 1\n"));
    assert_eq!((from_file.len(), from_text.len()), (1, 1));
    let logged = CAPTURE.0.lock().unwrap().clone();
    assert_eq!(logged, [format!("{LOG_PROBE}: the capture is in place")]);
}

#[test]
fn a_quickfix_cfg_file_is_recognised() {
    let cfg = "# an acceptor\n[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=9880\n\n\
               [SESSION]\nBeginString=FIX.4.4\nSenderCompID=ISLD\nTargetCompID=TW\n";
    let err = parse_err(cfg);
    match &err {
        ConfigError::QuickFixFormat { file, line, header } => {
            assert_eq!((file, *line, header.as_str()), (&None, 2, "[DEFAULT]"));
        }
        other => panic!("expected QuickFixFormat, got {other:?}"),
    }
    let message = err.to_string();
    for part in [
        "line 2: [DEFAULT] opens a section of a QuickFIX .cfg file",
        "`Key = Value`",
        "Session.Default.<Key>",
        "Session.<SenderCompID>/<TargetCompID>.<Key>",
    ] {
        assert_mentions(&message, part);
    }
    // Any case, either section, after keys that already drew warnings.
    assert!(matches!(
        parse_err("SocketAcceptPort=9880\n [session] \n"),
        ConfigError::QuickFixFormat { line: 2, .. }
    ));
    // Other bracketed lines are not QuickFIX's.
    assert!(matches!(
        parse_err("[engine]\n"),
        ConfigError::Syntax { line: 1, .. }
    ));
    // From a file, the file is named.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acceptor.cfg");
    std::fs::write(&path, cfg).unwrap();
    let err = EngineConfig::from_properties_file(&path).unwrap_err();
    assert_mentions(&err, &format!("{}:2: [DEFAULT] opens", path.display()));
}

#[test]
fn an_engine_that_listens_on_no_port_cannot_start() {
    // Parsing and validate() accept it: ports may come later, from code.
    let (config, warnings) = parse("ListenPort =\n");
    assert!(warnings.is_empty(), "{warnings:?}");
    config.validate().unwrap();
    let err = config.validate_for_start().unwrap_err();
    assert!(matches!(err, ConfigError::NoListenPort), "{err:?}");
    assert_mentions(&err, "no port to listen on");
    assert_mentions(&err, "ListenPort = 9880");
    // Any port will do: the engine's, the sessions' default, one session's,
    // or 0 for one the OS chooses.
    let session_port = SessionConfig::default().with_listen_port(9881);
    for config in [
        EngineConfig::default().listen_port(0),
        EngineConfig::default().with_session_defaults(session_port.clone()),
        EngineConfig::default().with_session("ISLD", "TW", session_port),
        parse("Session.ISLD/TW.ListenPort = 9881\n").0,
        parse(DEFAULT_PROPERTIES).0,
    ] {
        config.validate_for_start().unwrap();
    }
    // It checks what validate() checks, too.
    let err = EngineConfig::default()
        .listen_port(9880)
        .with_logon_timeout(Duration::ZERO)
        .validate_for_start()
        .unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
}
