//! What users moving from another engine or making a mistake are told:
//! keys in the wrong place, QuickFIX's units and file format, files named in
//! their warnings, warnings returned rather than logged.

use super::*;

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
