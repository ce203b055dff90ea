//! Every key declared once, and every place that lists keys held to that
//! table: the module docs, `default.properties`, README's key tables, and the
//! other engines' names for them.

use super::*;

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
    include_str!("../mod.rs")
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
    let readme = include_str!("../../../README.md");
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
