//! What `Session::put` does while no counterparty is logged on, in each
//! PutWhileDisconnected mode, over real sockets on 127.0.0.1: `store` numbers
//! and stores at once (a 141=Y Logon archives such messages unsent), `queue`
//! holds them unnumbered and sends them right after the next Logon, hands back
//! the ones past MessageTimeToLive and the ones still waiting at the end.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::time::Duration;

use common::{Got, OrderApp, engine_with, initiator, session_with_config, wait_until};
use fixengine::{Message, PUT_QUEUE_CAPACITY, PutError, PutWhileDisconnected, SessionConfig, tags};

fn news(headline: &str) -> Message {
    Message::new("B").with(tags::HEADLINE, headline)
}

fn queueing(ttl: Duration) -> SessionConfig {
    SessionConfig::default()
        .with_put_while_disconnected(PutWhileDisconnected::Queue)
        .with_message_time_to_live(ttl)
}

fn reset_logon() -> Message {
    Message::new("A")
        .with(tags::ENCRYPT_METHOD, 0u32)
        .with(tags::HEART_BT_INT, 30u32)
        .with(tags::RESET_SEQ_NUM_FLAG, true)
}

/// Nothing more arrives for a short while.
fn nothing_more(client: &mut common::Initiator) {
    match client.recv_within(Duration::from_millis(300)) {
        Got::Timeout => {}
        Got::Message(m) => panic!("unexpected {:?}", String::from_utf8_lossy(&m.bytes)),
        Got::Closed => panic!("the connection closed"),
    }
}

#[test]
fn store_mode_numbers_at_once_and_a_reset_logon_leaves_them_unsent() {
    let (engine, addr) = engine_with(common::config());
    let s = session_with_config(&engine, OrderApp::default(), SessionConfig::default());
    for i in 0..3 {
        s.put(news(&format!("stored {i}"))).unwrap();
    }
    wait_until("numbered and stored", || s.next_sender_seq() == 4);
    // Every example client logs on with 141=Y: the new sequence starts at 1 and
    // the stored messages stay in the archived one.
    let mut client = initiator(addr);
    let logon = client.logon_with(reset_logon());
    assert_eq!(logon.seq(), 1);
    nothing_more(&mut client);
    assert_eq!(s.next_sender_seq(), 2);
}

#[test]
fn queue_mode_sends_after_the_logon_exchange_even_a_reset_one() {
    let (engine, addr) = engine_with(common::config());
    let app = OrderApp::default();
    let s = session_with_config(&engine, app.clone(), queueing(Duration::ZERO));
    for i in 0..3 {
        s.put(news(&format!("queued {i}"))).unwrap();
    }
    // Held unnumbered: no sequence number moves before the Logon.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(s.next_sender_seq(), 1);

    let mut client = initiator(addr);
    let logon = client.logon_with(reset_logon());
    assert_eq!(logon.seq(), 1);
    for i in 0..3u64 {
        let m = client.expect("B");
        assert_eq!(
            m.seq(),
            2 + i,
            "numbered after the Logon reply, in put order"
        );
        assert_eq!(m.get(tags::HEADLINE), Some(format!("queued {i}").as_str()));
        assert_eq!(m.get(tags::POSS_DUP_FLAG), None, "sent, not resent");
    }
    // Logged on, a put goes out at once.
    s.put(news("live")).unwrap();
    let m = client.expect("B");
    assert_eq!((m.seq(), m.get(tags::HEADLINE)), (5, Some("live")));
    assert!(app.log.lock().unwrap().send_failures.is_empty());
}

#[test]
fn queue_mode_holds_puts_made_after_a_logout_until_the_next_logon() {
    let (engine, addr) = engine_with(common::config());
    let s = session_with_config(&engine, OrderApp::default(), queueing(Duration::ZERO));
    let mut client = initiator(addr);
    client.logon(30);
    client.logout();
    wait_until("logged out", || {
        s.state() == fixengine::SessionState::WaitForLogon
    });
    let next = s.next_sender_seq();
    s.put(news("between")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(s.next_sender_seq(), next, "held, not numbered");

    let mut client = initiator(addr);
    client.next_seq = 3;
    let logon = client.logon(30);
    assert_eq!(logon.seq(), next);
    let m = client.expect("B");
    assert_eq!(
        (m.seq(), m.get(tags::HEADLINE)),
        (next + 1, Some("between"))
    );
}

#[test]
fn queue_mode_hands_back_what_outlives_its_time_to_live() {
    let (engine, addr) = engine_with(common::config());
    let app = OrderApp::default();
    let s = session_with_config(&engine, app.clone(), queueing(Duration::from_millis(200)));
    s.put(news("stale")).unwrap();
    wait_until("expired", || {
        !app.log.lock().unwrap().send_failures.is_empty()
    });
    let failures = app.log.lock().unwrap().send_failures.clone();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "stale");
    assert!(
        failures[0].1.contains("MessageTimeToLive"),
        "the error names the setting: {}",
        failures[0].1
    );
    // A fresh one within its time is sent after the Logon; the stale one never.
    s.put(news("fresh")).unwrap();
    let mut client = initiator(addr);
    assert_eq!(client.logon(30).seq(), 1);
    let m = client.expect("B");
    assert_eq!((m.seq(), m.get(tags::HEADLINE)), (2, Some("fresh")));
    nothing_more(&mut client);
}

#[test]
fn queue_mode_hands_back_what_waits_when_the_session_ends() {
    let (engine, _addr) = engine_with(common::config());
    let app = OrderApp::default();
    let s = session_with_config(&engine, app.clone(), queueing(Duration::ZERO));
    s.put(news("never")).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let watcher = s.clone();
    s.finalize();
    let failures = app.log.lock().unwrap().send_failures.clone();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "never");
    assert!(failures[0].1.contains("session ended"), "{}", failures[0].1);
    assert_eq!(watcher.next_sender_seq(), 1, "never numbered");
}

#[test]
fn queue_mode_held_messages_count_against_the_put_queue() {
    let (engine, addr) = engine_with(common::config());
    let s = session_with_config(&engine, OrderApp::default(), queueing(Duration::ZERO));
    for i in 0..PUT_QUEUE_CAPACITY {
        s.put(news(&format!("n{i}"))).unwrap();
    }
    // However long the session's thread has had to take them, they hold their
    // places: the queue stays full until they go out.
    std::thread::sleep(Duration::from_millis(100));
    assert!(matches!(s.put(news("over")), Err(PutError::Full { .. })));

    let mut client = initiator(addr);
    client.logon(30);
    for i in 0..PUT_QUEUE_CAPACITY {
        let m = client.expect("B");
        assert_eq!(m.seq(), 2 + i as u64);
        assert_eq!(m.get(tags::HEADLINE), Some(format!("n{i}").as_str()));
    }
    s.put(news("room again")).unwrap();
    assert_eq!(client.expect("B").get(tags::HEADLINE), Some("room again"));
}
