//! Values the reader turns away: each error names the line, the key, the value
//! and what was expected.

use super::*;

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
