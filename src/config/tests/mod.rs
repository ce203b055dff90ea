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

mod net;
mod tables;
mod values;
mod warnings;

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

/// Asserts that `text` contains `part`, showing `text` when it does not.
fn assert_mentions(text: impl std::fmt::Display, part: &str) {
    let text = text.to_string();
    assert!(text.contains(part), "{text:?} does not say {part:?}");
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
