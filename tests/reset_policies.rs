//! ResetSeqNumOnLogon, ResetSeqNumOnLogout and ResetSeqNumOnDisconnect over real
//! sockets on 127.0.0.1: after each event, the next Logon starts at 1 on both
//! sides, and only the policy asked for does it; and StorageMaxArchives bounds
//! the generations those resets archive.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::fs;
use std::time::Duration;

use common::{OrderApp, engine_with, initiator, order, session_with_config, wait_until};
use fixengine::store::folder_name;
use fixengine::{SessionConfig, SessionState, tags};

/// How a connection ends before the next Logon.
#[derive(Debug, Clone, Copy)]
enum End {
    Logout,
    Drop,
}

/// Trades on a session with `config`, ends the connection as `end`, logs on again
/// at `next` and returns the MsgSeqNum of the acceptor's answer (its Logon, or a
/// Logout refusing a number too low) with its MsgType.
fn next_logon_after(config: SessionConfig, end: End, next: u64) -> (String, u64) {
    let (engine, addr) = engine_with(common::config());
    let session = session_with_config(&engine, OrderApp::default(), config);
    let mut client = initiator(addr);
    client.logon(30);
    for i in 0..3 {
        client.send(&order(&format!("R-{i}")));
        client.expect("8");
    }
    match end {
        End::Logout => client.logout(),
        End::Drop => client.drop_connection(),
    }
    wait_until("WaitForLogon", || {
        session.state() == SessionState::WaitForLogon
    });
    let mut client = initiator(addr);
    client.next_seq = next;
    client.send(
        &fixengine::Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32),
    );
    let answer = client.recv();
    let result = (answer.msg_type().to_owned(), answer.seq());
    drop(engine);
    result
}

fn policy(on_logon: bool, on_logout: bool, on_disconnect: bool) -> SessionConfig {
    SessionConfig::default()
        // The engine's shutdown at the end of each run waits no longer than this
        // for a counterparty that never answers its Logout.
        .with_logout_timeout(Duration::from_millis(200))
        .with_reset_seq_num_on_logon(on_logon)
        .with_reset_seq_num_on_logout(on_logout)
        .with_reset_seq_num_on_disconnect(on_disconnect)
}

#[test]
fn without_a_policy_a_logon_at_1_is_too_low() {
    let (mt, _) = next_logon_after(policy(false, false, false), End::Logout, 1);
    assert_eq!(mt, "5", "a Logout: MsgSeqNum too low");
    // And the numbers continue: Logon 1, 3 orders, Logout 5 sent; 6 is next.
    let (mt, seq) = next_logon_after(policy(false, false, false), End::Logout, 6);
    assert_eq!((mt.as_str(), seq), ("A", 6));
}

#[test]
fn reset_on_logon_starts_every_logon_at_1() {
    for end in [End::Logout, End::Drop] {
        let (mt, seq) = next_logon_after(policy(true, false, false), end, 1);
        assert_eq!((mt.as_str(), seq), ("A", 1), "{end:?}");
    }
}

#[test]
fn reset_on_logout_starts_at_1_after_a_logout_only() {
    let (mt, seq) = next_logon_after(policy(false, true, false), End::Logout, 1);
    assert_eq!((mt.as_str(), seq), ("A", 1));
    // A dropped connection is not a Logout: the numbers continue.
    let (mt, _) = next_logon_after(policy(false, true, false), End::Drop, 1);
    assert_eq!(mt, "5", "a Logout: MsgSeqNum too low");
}

#[test]
fn reset_on_disconnect_starts_at_1_after_any_end() {
    for end in [End::Logout, End::Drop] {
        let (mt, seq) = next_logon_after(policy(false, false, true), end, 1);
        assert_eq!((mt.as_str(), seq), ("A", 1), "{end:?}");
    }
}

#[test]
fn storage_max_archives_bounds_the_generations_resets_on_logon_archive() {
    let (engine, addr) = engine_with(common::config());
    let session = session_with_config(
        &engine,
        OrderApp::default(),
        policy(true, false, false).with_storage_max_archives(1),
    );
    let archive = engine
        .root()
        .join(folder_name("FIX.4.4-TEST1-TEST2").unwrap())
        .join("archive");
    let archived = || -> Vec<String> {
        let Ok(entries) = fs::read_dir(&archive) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    // The first Logon finds a new store (nothing to archive); each later one
    // archives the generation the previous connection traded in.
    for (logon, kept) in [(1, &[][..]), (2, &["0000000001"]), (3, &["0000000002"])] {
        let mut client = initiator(addr);
        let answer = client.logon(30);
        assert_eq!(answer.seq(), 1, "Logon {logon}");
        assert_eq!(archived(), kept, "after Logon {logon}");
        client.send(&order(&format!("A-{logon}")));
        client.expect("8");
        client.logout();
        wait_until("WaitForLogon", || {
            session.state() == SessionState::WaitForLogon
        });
    }
    drop(engine);
}
