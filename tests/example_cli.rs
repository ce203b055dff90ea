//! A newcomer's first minutes with the example acceptor, run as a process: its
//! `--help`, the errors of a mistyped command line, its banner, unknown
//! sessions, how it stops, and the ExecutionReports it answers orders with.
//! Every acceptor here listens on 127.0.0.1 only, on a port the system picks.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::path::Path;
use std::process::Stdio;

use common::dictionary::spec_folder;
use common::example::{self, Example, run_to_end};
use common::{Initiator, order};
use fixengine::{Decoder, DictionarySet, FixVersion, Message, Validation, tags};

/// Every version `--session` takes, as it names them.
const VERSIONS: [&str; 8] = [
    "FIX.4.0",
    "FIX.4.1",
    "FIX.4.2",
    "FIX.4.3",
    "FIX.4.4",
    "FIX.5.0",
    "FIX.5.0SP1",
    "FIX.5.0SP2",
];

/// The README section that documents the example.
fn readme_section() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("## The two commands")
        .expect("README has the section");
    let end = readme[start + 3..]
        .find("\n## ")
        .map_or(readme.len(), |i| start + 3 + i);
    readme[start..end].to_owned()
}

#[test]
fn help_prints_every_flag_with_its_meaning_and_readme_lists_them_all() {
    let ended = run_to_end(&["--help"]);
    assert!(ended.status.success(), "--help exits 0: {ended:?}");
    // A flag line, then its meaning indented below it.
    let lines: Vec<&str> = ended.stdout.lines().collect();
    let flags: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("  -"))
        .map(|(i, l)| {
            let meaning = lines.get(i + 1).copied().unwrap_or("");
            assert!(
                meaning.starts_with("      ") && !meaning.trim().is_empty(),
                "{l:?} has its meaning below it"
            );
            l.trim()
        })
        .collect();
    for flag in [
        "--config",
        "--port",
        "--storage",
        "--session",
        "--unregistered",
        "--transient",
        "--storage-sync",
        "--latency-mode",
        "--conformance",
        "--no-stdin",
        "--help",
    ] {
        assert!(
            flags.iter().any(|f| f.split([' ', ',']).any(|w| w == flag)),
            "--help lists {flag}: {flags:?}"
        );
    }
    // README's table has a row for each, spelled as --help spells it.
    let readme = readme_section().replace("\\|", "|");
    for flag in flags.iter().filter(|f| !f.contains("--help")) {
        assert!(
            readme.contains(&format!("| `{flag}` |")),
            "README's flag table has a row for `{flag}`"
        );
    }
}

/// Runs the acceptor with `args`, which it must refuse with exit code 2 and an
/// error that says each of `says`; returns what it printed.
fn refused(args: &[&str], says: &[&str]) -> example::Ended {
    let ended = run_to_end(args);
    assert_eq!(
        ended.status.code(),
        Some(2),
        "{args:?} is refused: {ended:?}"
    );
    for text in says {
        assert!(
            ended.stderr.contains(text),
            "the error for {args:?} says {text:?}: {}",
            ended.stderr
        );
    }
    ended
}

#[test]
fn a_port_out_of_range_is_refused_with_the_range() {
    refused(&["--port", "99999"], &["0 to 65535"]);
}

#[test]
fn an_unknown_session_version_is_refused_with_the_versions_taken() {
    let mut versions = VERSIONS.to_vec();
    versions.push("FIXT.1.1");
    refused(&["--session", "TEST1/TEST2/FIX.4.5"], &versions);
    assert!(
        readme_section().contains("`--session SENDER/TARGET[/VERSION]`"),
        "README's flag table says a session takes a VERSION"
    );
}

#[test]
fn a_session_with_a_fourth_part_is_refused() {
    refused(
        &["--session", "TEST1/TEST2/FIX.4.4/extra"],
        &["SENDER/TARGET"],
    );
}

#[test]
fn a_storage_path_that_is_a_file_is_refused_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    for storage in [file.clone(), file.join("below")] {
        let args = ["--config", &config, "--storage", storage.to_str().unwrap()];
        let ended = refused(&args, &["must be a directory"]);
        assert!(
            !ended.stdout.contains(example::LISTENING),
            "it never listened: {}",
            ended.stdout
        );
    }
}

#[test]
fn a_configuration_that_registers_no_session_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    refused(
        &["--config", &config],
        &["no session to accept", "--unregistered"],
    );
}

#[test]
fn transient_prints_no_storage_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let persistent = Example::start(&["--config", &config, "--session", "TEST1/TEST2"]);
    persistent.assert_banner_says(store);
    drop(persistent);
    let transient = Example::start(&[
        "--config",
        &config,
        "--session",
        "TEST1/TEST2",
        "--transient",
    ]);
    transient.assert_banner_never_says(store);
    transient.assert_banner_says("storage: none");
}

#[test]
fn the_banner_names_versions_as_the_wire_does_and_says_what_validates() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let acceptor = Example::start(&[
        "--config",
        &config,
        "--transient",
        "--session",
        "TEST1/TEST2/FIX42",
        "--session",
        "TEST1/TEST3/fix.5.0sp2",
        "--session",
        "TEST1/TEST4",
    ]);
    for expected in [
        "session FIX.4.2 TEST1/TEST2",
        "session FIXT.1.1 (FIX.5.0SP2) TEST1/TEST3",
        "session FIX.4.4 TEST1/TEST4",
    ] {
        acceptor.assert_banner_says(expected);
    }
    for enum_name in ["FIX42", "FIX50SP2", "FIX44", "Fix4"] {
        acceptor.assert_banner_never_says(enum_name);
    }
    // Nothing names a dictionary: the banner says so, and where to set one.
    acceptor.assert_banner_says("data dictionaries: none");
    acceptor.assert_banner_says("DataDictionaryDirectory");
}

#[test]
fn unknown_sessions_have_their_orders_answered_whichever_way_they_are_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let plain = example::loopback_config(dir.path(), "plain.properties", "");
    let keyed = example::loopback_config(
        dir.path(),
        "unregistered.properties",
        "CreateUnregisteredAcceptorSession = true\n",
    );

    let closed = Example::start(&[
        "--config",
        &plain,
        "--transient",
        "--session",
        "TEST1/TEST2",
    ]);
    closed.assert_banner_never_says("unknown sessions");
    drop(closed);

    for args in [
        ["--config", &keyed, "--transient"],
        ["--config", &plain, "--unregistered"],
    ] {
        let acceptor = Example::start(&args);
        acceptor.assert_banner_says("unknown sessions are accepted");
        let mut client = Initiator::connect(acceptor.addr, "STRANGER", "TEST1", FixVersion::Fix44);
        client.logon(30);
        client.send(&order("U-1"));
        let report = client.expect("8");
        assert_eq!(report.get(tags::CL_ORD_ID), Some("U-1"), "{args:?}");
        client.logout();
    }
}

#[test]
fn q_and_enter_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let mut acceptor = Example::start(&[
        "--config",
        &config,
        "--transient",
        "--session",
        "TEST1/TEST2",
    ]);
    acceptor.type_line("q");
    acceptor.assert_stops_cleanly("q");
}

#[test]
fn with_no_stdin_only_a_signal_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let mut acceptor = Example::start(&[
        "--config",
        &config,
        "--transient",
        "--no-stdin",
        "--session",
        "TEST1/TEST2",
    ]);
    acceptor.assert_banner_says("SIGTERM");
    acceptor.type_line("q");
    acceptor.close_stdin();
    acceptor.assert_only_a_signal_stops_it("q or the end of standard input, with --no-stdin,");
}

#[test]
fn a_daemon_with_dev_null_for_input_runs_until_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let mut acceptor = Example::start_with_stdin(
        &[
            "--config",
            &config,
            "--transient",
            "--session",
            "TEST1/TEST2",
        ],
        Stdio::null(),
    );
    acceptor.assert_only_a_signal_stops_it("the end of /dev/null");
}

/// A validating counterparty of any version accepts the example's
/// ExecutionReport: checked against the QuickFIX dictionaries the conformance
/// suite uses.
#[test]
fn every_versions_execution_report_passes_its_dictionary() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/spec");
    assert!(
        spec.is_dir(),
        "{} not found: the test needs the conformance suite's dictionaries",
        spec.display()
    );
    let dictionaries = DictionarySet::load_dir(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(dir.path(), "engine.properties", "");
    let names: Vec<String> = FixVersion::ALL
        .iter()
        .map(|v| format!("V{}", v.name()))
        .collect();
    let mut args = vec!["--config", &config, "--transient"];
    let sessions: Vec<String> = FixVersion::ALL
        .iter()
        .zip(&names)
        .map(|(v, name)| format!("TEST1/{name}/{}", v.name()))
        .collect();
    for s in &sessions {
        args.extend(["--session", s]);
    }
    let acceptor = Example::start(&args);
    let mut decoder = Decoder::new();
    for (version, name) in FixVersion::ALL.into_iter().zip(&names) {
        let mut client = Initiator::connect(acceptor.addr, name, "TEST1", version);
        let mut logon = Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32);
        if let Some(appl_ver_id) = version.appl_ver_id() {
            logon = logon.with(tags::DEFAULT_APPL_VER_ID, appl_ver_id);
        }
        client.logon_with(logon);
        client.send(&order("V-1").with(tags::PRICE, 101.25));
        let report = client.expect("8");
        let view = decoder.decode(&report.bytes).unwrap();
        let (dictionary, app) = dictionaries.get(version).unwrap();
        if let Err(violation) = dictionary.validate(app.as_deref(), &view, Validation::default()) {
            panic!(
                "{version}: the ExecutionReport breaks the dictionary ({violation:?}): {:?}",
                String::from_utf8_lossy(&report.bytes)
            );
        }
        client.logout();
    }
}

#[test]
fn sessions_named_in_the_configuration_take_their_begin_string_and_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_folder(dir.path());
    let config = example::loopback_config(
        dir.path(),
        "engine.properties",
        &format!(
            "DataDictionaryDirectory = {}\n\
             Session.TEST1/TEST2.BeginString = FIX.4.2\n\
             Session.TEST1/TEST2.UseDataDictionary = false\n\
             Session.TEST1/TEST3.BeginString = FIXT.1.1\n\
             Session.TEST1/TEST3.DefaultApplVerID = FIX.5.0SP2\n\
             Session.TEST1/TEST3.UseDataDictionary = false\n\
             Session.TEST1/TEST4.MaxHeartBtInt = 60\n",
            spec.display()
        ),
    );
    let acceptor = Example::start(&["--config", &config, "--transient"]);
    for expected in [
        "session FIX.4.2 TEST1/TEST2",
        "session FIXT.1.1 (FIX.5.0SP2) TEST1/TEST3",
        "session FIX.4.4 TEST1/TEST4",
        &format!("data dictionaries: from {}", spec.display()),
    ] {
        acceptor.assert_banner_says(expected);
    }
    // FIX.4.2 as its BeginString says, not validated (UseDataDictionary = false).
    let mut old = Initiator::connect(acceptor.addr, "TEST2", "TEST1", FixVersion::Fix42);
    old.logon(30);
    old.send(&order("OLD").with(9999, "unknown"));
    assert_eq!(old.expect("8").get(tags::CL_ORD_ID), Some("OLD"));
    old.logout();
    // FIX.4.4 by default, validated against FIX44.xml from the folder.
    let mut checked = Initiator::connect(acceptor.addr, "TEST4", "TEST1", FixVersion::Fix44);
    checked.logon(30);
    let mut untimed = order("UNTIMED");
    untimed.remove(tags::TRANSACT_TIME);
    checked.send(&untimed);
    let reject = checked.expect("3");
    assert_eq!(reject.get(tags::SESSION_REJECT_REASON), Some("1"));
    assert_eq!(reject.get(tags::REF_TAG_ID), Some("60"));
    checked.logout();
}

#[test]
fn a_dictionary_that_cannot_be_loaded_stops_the_acceptor_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec");
    let missing_folder = example::loopback_config(
        dir.path(),
        "missing.properties",
        &format!(
            "DataDictionaryDirectory = {}\nSession.TEST1/TEST2.MaxHeartBtInt = 60\n",
            spec.display()
        ),
    );
    refused(
        &["--config", &missing_folder, "--transient"],
        &["DataDictionaryDirectory", &spec.display().to_string()],
    );
    spec_folder(dir.path());
    let unknown_name = example::loopback_config(
        dir.path(),
        "unknown.properties",
        &format!(
            "DataDictionaryDirectory = {}\nSession.TEST1/TEST2.DataDictionary = FIX43\n",
            spec.display()
        ),
    );
    refused(
        &["--config", &unknown_name, "--transient"],
        &["session TEST1", "\"FIX43\"", "it holds FIX44"],
    );
}

#[test]
fn session_options_are_taken_from_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = example::loopback_config(
        dir.path(),
        "engine.properties",
        "Session.TEST1/TEST2.Password = s3cret\n\
         Session.TEST1/TEST2.LogonRefusalReply = silent\n\
         Session.TEST1/TEST2.EnableLastMsgSeqNumProcessed = true\n\
         Session.TEST1/TEST3.Password = s3cret\n",
    );
    let acceptor = Example::start(&["--config", &config, "--transient"]);
    let logon = |password: &str| {
        Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32)
            .with(tags::PASSWORD, password)
    };
    // LogonRefusalReply = silent for TEST2; the default, a Logout, for TEST3.
    let mut quiet = Initiator::connect(acceptor.addr, "TEST2", "TEST1", FixVersion::Fix44);
    quiet.send(&logon("guess"));
    assert!(quiet.closed_silently_within(common::WAIT));
    let mut told = Initiator::connect(acceptor.addr, "TEST3", "TEST1", FixVersion::Fix44);
    told.send(&logon("guess"));
    told.refused_with_logout("Password(554)");
    // EnableLastMsgSeqNumProcessed: the ExecutionReport, written while the order
    // is being processed, names the message before it (as QuickFIX/J does).
    let mut client = Initiator::connect(acceptor.addr, "TEST2", "TEST1", FixVersion::Fix44);
    client.logon_with(logon("s3cret"));
    let seq = client.send(&order("LAST"));
    let report = client.expect("8");
    assert_eq!(
        report.get(tags::LAST_MSG_SEQ_NUM_PROCESSED),
        Some((seq - 1).to_string().as_str())
    );
    client.logout();
}
