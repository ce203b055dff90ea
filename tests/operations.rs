//! What an operator does to a session, over real sockets on 127.0.0.1: sequence
//! numbers set by hand (kept across a restart), and a disconnect that does not
//! wait.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use common::{Got, OrderApp, WAIT, config, engine_with, initiator, order, wait_until};
use fixengine::{EngineError, Message, SessionState, tags};

#[test]
fn sequence_numbers_set_by_hand_are_used_by_the_next_logon() {
    let (engine, addr) = engine_with(config());
    let session = common::session(&engine, OrderApp::default());
    session.set_next_sender_seq(100).unwrap();
    session.set_next_target_seq(50).unwrap();
    assert_eq!(
        (session.next_sender_seq(), session.next_target_seq()),
        (100, 50)
    );

    let mut client = initiator(addr);
    client.next_seq = 50;
    let logon = client.logon(30);
    assert_eq!(logon.seq(), 100, "our Logon carries the number set");
    // Not while connected: the two sides would disagree.
    let err = session.set_next_sender_seq(7).unwrap_err();
    assert!(matches!(err, EngineError::Reset { .. }), "{err}");
    assert!(err.to_string().contains("connected"), "{err}");
    client.send(&order("AFTER"));
    assert_eq!(client.expect("8").seq(), 101);
    client.logout();
    let err = session.set_next_target_seq(0).unwrap_err();
    assert!(err.to_string().contains("start at 1"), "{err}");
}

/// Going back to numbers already used starts the store over: the messages
/// stored under them are not sent again, and a ResendRequest gets a GapFill.
#[test]
fn setting_the_sender_number_back_starts_the_store_over() {
    let (engine, addr) = engine_with(config());
    let session = common::session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    for i in 0..3 {
        client.send(&order(&format!("B-{i}")));
        client.expect("8");
    }
    client.logout();
    let their_next = client.next_seq;
    session.set_next_sender_seq(2).unwrap();
    assert_eq!(
        session.next_target_seq(),
        their_next,
        "the inbound number stays"
    );

    let mut client = initiator(addr);
    client.next_seq = their_next;
    assert_eq!(client.logon(30).seq(), 2);
    client.send(
        &Message::new("2")
            .with(tags::BEGIN_SEQ_NO, 1u32)
            .with(tags::END_SEQ_NO, 0u32),
    );
    let fill = client.expect("4");
    assert_eq!(fill.get(tags::GAP_FILL_FLAG), Some("Y"));
    assert_eq!(
        fill.get(tags::NEW_SEQ_NO),
        Some("3"),
        "nothing resent: only a GapFill"
    );
    client.logout();
}

#[test]
fn sequence_numbers_set_by_hand_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let engine = fixengine::FixEngine::new(config().with_storage_directory(dir.path()))
            .expect("engine starts");
        let session = common::session(&engine, OrderApp::default());
        (engine, session)
    };
    let (engine, session) = start();
    session.set_next_sender_seq(500).unwrap();
    session.set_next_target_seq(400).unwrap();
    drop(session);
    engine.shutdown();
    let (_engine, session) = start();
    assert_eq!(
        (session.next_sender_seq(), session.next_target_seq()),
        (500, 400)
    );
}

#[test]
fn disconnect_async_returns_at_once_and_the_logout_exchange_follows() {
    let (engine, addr) = engine_with(config());
    let session = common::session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });
    // The counterparty has not answered yet: a blocking disconnect could not
    // have returned.
    session.disconnect_async("end of day").unwrap();
    let logout = client.expect("5");
    assert_eq!(logout.get(tags::TEXT), Some("end of day"));
    assert_eq!(session.state(), SessionState::WaitForLogout);
    client.send(&Message::new("5"));
    assert!(matches!(client.recv_within(WAIT), Got::Closed));
    wait_until("WaitForLogon after the exchange", || {
        session.state() == SessionState::WaitForLogon
    });
    assert_eq!(
        session.next_target_seq(),
        client.next_seq,
        "its Logout was consumed"
    );
}
