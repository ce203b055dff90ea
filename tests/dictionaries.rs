//! Data dictionaries from the configuration, over real sockets: a session that
//! names one (`DataDictionary`), or finds its version's in
//! `DataDictionaryDirectory`, validates by default; `UseDataDictionary = false`
//! and a dictionary given in code beat the file; what cannot be loaded is the
//! caller's error. The dictionaries are small ones written here; the last test
//! reads QuickFIX's own files from `../shared/conformance/spec` when they are
//! there (they are not copied into the repository).

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::path::Path;
use std::sync::Arc;

use common::dictionary::{fix44, spec_folder};
use common::{Initiator, OURS, OrderApp, THEIRS, TestEngine, WAIT, config, initiator, order};
use fixengine::{
    Dictionary, DictionaryError, EngineConfig, EngineError, FixEngine, FixVersion, Message,
    SessionConfig, SessionId, SessionParams, tags,
};

/// The test configuration with `DataDictionaryDirectory` set to `dir`.
fn config_with_folder(dir: &Path) -> EngineConfig {
    config().with_data_dictionary_directory(dir)
}

/// A NewOrderSingle without TransactTime(60), which the dictionaries require
/// (QuickFIX's FIX44.xml too).
fn order_without_time(id: &str) -> Message {
    let mut order = order(id);
    order.remove(tags::TRANSACT_TIME);
    order
}

/// Logs `client` on, sends an order without TransactTime, and checks that the
/// session rejects it (SessionRejectReason 1, RefTagID 60) and then fills a
/// whole one.
fn assert_validated(client: &mut Initiator) {
    client.logon(30);
    let seq = client.send(&order_without_time("NO-TIME"));
    let reject = client.expect("3");
    assert_eq!(
        reject.get(tags::REF_SEQ_NUM),
        Some(seq.to_string().as_str())
    );
    assert_eq!(reject.get(tags::SESSION_REJECT_REASON), Some("1"));
    assert_eq!(reject.get(tags::REF_TAG_ID), Some("60"));
    client.send(&order("WHOLE"));
    let report = client.expect("8");
    assert_eq!(report.get(tags::CL_ORD_ID), Some("WHOLE"));
}

#[test]
fn a_session_configured_with_data_dictionary_rejects_an_order_missing_a_required_field() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    let text = format!(
        "ListenPort = 0\nListenAddress = 127.0.0.1\n\
         DataDictionaryDirectory = {}\n\
         Session.TEST1/TEST2.DataDictionary = FIX44\n",
        spec.display()
    );
    let (config, warnings) = EngineConfig::from_properties_str(&text).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let (engine, addr) = TestEngine::start(config);
    let app = OrderApp::default();
    // No dictionary in code: the configuration's.
    let _session = common::session(&engine, app.clone());
    assert_validated(&mut initiator(addr));
    assert_eq!(app.log.lock().unwrap().orders, ["WHOLE"]);
}

#[test]
fn with_the_folder_set_a_session_validates_against_its_versions_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    let (engine, addr) = TestEngine::start(config_with_folder(&spec));
    let _session = common::session(&engine, OrderApp::default());
    assert_validated(&mut initiator(addr));
}

#[test]
fn a_dictionary_path_is_read_without_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    let path = spec.join("FIX44.xml");
    let (engine, addr) = TestEngine::start(config());
    let _session = common::session_with_config(
        &engine,
        OrderApp::default(),
        SessionConfig::default().with_data_dictionary(path.to_str().unwrap()),
    );
    assert_validated(&mut initiator(addr));
}

#[test]
fn use_data_dictionary_false_and_a_dictionary_given_in_code_beat_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    let (engine, addr) = TestEngine::start(config_with_folder(&spec));
    let app = OrderApp::default();
    let session = common::session_with_config(
        &engine,
        app.clone(),
        SessionConfig::default().with_use_data_dictionary(false),
    );
    let mut client = initiator(addr);
    client.logon(30);
    client.send(&order_without_time("NO-CHECK"));
    assert_eq!(client.expect("8").get(tags::CL_ORD_ID), Some("NO-CHECK"));
    client.logout();
    drop(session);

    // Given in code, a dictionary wins over what the configuration names, even
    // a name that would not load: that one is not read at all.
    let lenient = Arc::new(Dictionary::from_xml(&fix44(false)).unwrap());
    let session = engine
        .create_session_with(
            SessionId::from_static(OURS, "LENIENT"),
            FixVersion::Fix44,
            app,
            SessionParams::default()
                .with_config(SessionConfig::default().with_data_dictionary("FIX43"))
                .with_dictionary(lenient, None),
        )
        .unwrap();
    session.connect().unwrap();
    let mut client = Initiator::connect(addr, "LENIENT", OURS, FixVersion::Fix44);
    client.logon(30);
    client.send(&order_without_time("LENIENT"));
    assert_eq!(client.expect("8").get(tags::CL_ORD_ID), Some("LENIENT"));
    // Still a dictionary: an unknown tag is rejected.
    client.send(&order("UNKNOWN-TAG").with(9999, "x"));
    assert_eq!(
        client.expect("3").get(tags::SESSION_REJECT_REASON),
        Some("0")
    );
}

#[test]
fn a_dictionary_that_cannot_be_loaded_is_the_callers_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    std::fs::write(
        spec.join("FIX42.xml"),
        "<fix major='4' minor='2'><messages>",
    )
    .unwrap();
    let (engine, _addr) = TestEngine::start(config_with_folder(&spec));
    let create = |version, config: SessionConfig| {
        engine.create_session_with(
            SessionId::from_static(OURS, THEIRS),
            version,
            OrderApp::default(),
            SessionParams::default().with_config(config),
        )
    };
    // A name the folder does not hold: which session, which folder, which names.
    let err = create(
        FixVersion::Fix44,
        SessionConfig::default().with_data_dictionary("FIX43"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, EngineError::Dictionary { id, source: DictionaryError::NotFound { .. } }
            if id == &SessionId::from_static(OURS, THEIRS)),
        "{err:?}"
    );
    let message = err.to_string();
    for part in [
        "session TEST1",
        "\"FIX43\"",
        &spec.display().to_string(),
        "it holds FIX42, FIX44",
    ] {
        assert!(message.contains(part), "{message:?} does not say {part:?}");
    }
    // No name, and the folder has nothing for the version.
    let err = create(FixVersion::Fix43, SessionConfig::default()).unwrap_err();
    assert!(err.to_string().contains("\"FIX43\""), "{err}");
    // A broken file, named.
    let err = create(FixVersion::Fix42, SessionConfig::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&spec.join("FIX42.xml").display().to_string()),
        "{err}"
    );
    // Another version's dictionary.
    let err = create(
        FixVersion::Fix42,
        SessionConfig::default().with_data_dictionary("FIX44"),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("describes FIX.4.4, not FIX.4.2"),
        "{err}"
    );
    // None of these left a session behind.
    assert!(engine.sessions().is_empty());
}

#[test]
fn a_dictionary_folder_that_is_missing_or_empty_stops_the_engine_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("spec");
    // Why an engine on `missing` does not start; its message names the key and the folder.
    let refusal = || {
        let err = FixEngine::new(config_with_folder(&missing)).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("DataDictionaryDirectory"), "{message}");
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
        match err {
            EngineError::DictionaryDirectory { source } => source,
            other => panic!("expected DictionaryDirectory, got {other:?}"),
        }
    };
    let err = refusal();
    assert!(matches!(err, DictionaryError::Folder { .. }), "{err:?}");
    std::fs::create_dir(&missing).unwrap();
    std::fs::write(missing.join("README.txt"), "no dictionaries here").unwrap();
    let err = refusal();
    assert!(
        matches!(err, DictionaryError::EmptyFolder { .. }),
        "{err:?}"
    );
}

#[test]
fn unregistered_sessions_get_their_versions_dictionary_from_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    let (engine, addr) = TestEngine::start(
        config_with_folder(&spec).with_create_unregistered_acceptor_session(true),
    );
    // The default application answers orders with a BusinessMessageReject; a
    // Reject says the dictionary stopped the order first.
    let mut newcomer = Initiator::connect(addr, "NEWCOMER", OURS, FixVersion::Fix44);
    newcomer.logon(30);
    newcomer.send(&order_without_time("N-1"));
    let reject = newcomer.expect("3");
    assert_eq!(reject.get(tags::SESSION_REJECT_REASON), Some("1"));
    assert_eq!(reject.get(tags::REF_TAG_ID), Some("60"));
    newcomer.send(&order("N-2"));
    assert_eq!(newcomer.expect("j").get(tags::REF_MSG_TYPE), Some("D"));

    // A version the folder has no dictionary for: not run unvalidated, refused.
    let mut older = Initiator::connect(addr, "OLDER", OURS, FixVersion::Fix42);
    older.logon_with_no_answer();
    assert!(older.closed_silently_within(WAIT));
    common::wait_until("the FIX.4.2 session is gone", || {
        engine
            .sessions()
            .iter()
            .all(|(id, _)| id.target().as_str() != "OLDER")
    });
}

#[test]
fn quickfix_dictionaries_serve_every_version_by_name() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/spec");
    if !spec.is_dir() {
        eprintln!(
            "{} not found: QuickFIX's dictionaries are not beside the repository; skipped",
            spec.display()
        );
        return;
    }
    let (engine, addr) = TestEngine::start(config_with_folder(&spec));
    let mut sessions = Vec::new();
    for version in FixVersion::ALL {
        // FIX.5.0 sessions take FIXT11.xml from the folder as their transport.
        let id = SessionId::new(OURS, format!("V{}", version.name())).unwrap();
        let session = engine
            .create_session(id, version, OrderApp::default())
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        session.connect().unwrap();
        sessions.push(session);
    }
    // QuickFIX's FIX44.xml requires TransactTime in a NewOrderSingle too.
    let mut client = Initiator::connect(addr, "VFIX44", OURS, FixVersion::Fix44);
    assert_validated(&mut client);
}

#[test]
fn the_readme_example_parses_and_gives_each_session_its_version() {
    let readme = include_str!("../README.md");
    let section = &readme[readme
        .find("## Validation and data dictionaries")
        .expect("README has the section")..];
    let start = section.find("```properties\n").expect("an example") + 14;
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let (config, warnings) = EngineConfig::from_properties_str(example).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.data_dictionary_directory(), Some(Path::new("spec")));
    let tw42 = config.session_config("ISLD", "TW42");
    assert_eq!(tw42.fix_version().unwrap(), FixVersion::Fix42);
    assert_eq!(tw42.data_dictionary(), Some("FIX42"));
    let tw50 = config.session_config("ISLD", "TW50");
    assert_eq!(tw50.fix_version().unwrap(), FixVersion::Fix50Sp2);
    assert_eq!(tw50.app_data_dictionary(), Some("FIX50SP2"));
    assert_eq!(
        config.session_config("ISLD", "OTHER").data_dictionary(),
        Some("FIX44")
    );
}
