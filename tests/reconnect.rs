//! Reconnects over real sockets on 127.0.0.1 where the two sides' sequence numbers
//! disagree: the gap the acceptor asks to fill, and what was queued behind it.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use common::{Got, OrderApp, WAIT, config, engine_with, initiator, order, wait_until};
use fixengine::{Message, SessionState, tags};

/// OrigSendingTime(122) of what the counterparty sends again.
const ORIG: &str = "20261125-12:00:00.000";

/// The counterparty's Logout (its next number) is lost with its connection; it
/// reconnects at once and sends its Logon, one number ahead, without reading.
/// Returns the new connection and the Logon's MsgSeqNum.
fn reconnect_after_a_lost_logout(
    addr: std::net::SocketAddr,
    session: &fixengine::Session,
    mut client: common::Initiator,
) -> (common::Initiator, u64) {
    client.next_seq += 1;
    let next = client.next_seq;
    client.drop_connection();
    wait_until("WaitForLogon after the drop", || {
        session.state() == SessionState::WaitForLogon
    });
    let mut client = initiator(addr);
    client.next_seq = next;
    let logon = client.send(
        &Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32),
    );
    (client, logon)
}

/// A counterparty sent 1 to 11 and then a Logout (12) the acceptor never read. It
/// reconnects with Logon 13 and, without reading, the messages `behind` (`T` a
/// TestRequest, `D` an order); answers the acceptor's ResendRequest legally; then
/// sends a TestRequest: the session must answer it and stay up, with every order
/// processed exactly once.
fn gap_answered_legally(behind: &str) {
    let (_engine, addr) = engine_with(config());
    let app = OrderApp::default();
    let session = common::session(&_engine, app.clone());
    let mut client = initiator(addr);
    client.logon(30);
    for i in 0..10 {
        client.send(&order(&format!("O-{i}")));
        client.expect("8");
    }
    // Its Logout, 12, is lost with the connection.
    let (mut client, _) = reconnect_after_a_lost_logout(addr, &session, client);
    let mut orders = Vec::new();
    for (i, kind) in behind.chars().enumerate() {
        match kind {
            'T' => {
                client.send(&Message::new("1").with(tags::TEST_REQ_ID, format!("Q{i}")));
            }
            'D' => orders.push(client.send(&order(&format!("LATE-{i}")))),
            _ => unreachable!("T or D"),
        }
    }
    let last = client.next_seq - 1;
    client.expect("A");
    let resend = client.expect("2");
    assert_eq!(resend.get(tags::BEGIN_SEQ_NO), Some("12"), "{behind}");

    // The legal answer up to the last number sent: the orders again with
    // PossDupFlag=Y, GapFills over the admin messages between them.
    let mut from = 12;
    for &at in orders.iter().chain([last + 1].iter()) {
        if from < at {
            let fill = Message::new("4")
                .with(tags::POSS_DUP_FLAG, 'Y')
                .with(tags::ORIG_SENDING_TIME, ORIG)
                .with(tags::GAP_FILL_FLAG, 'Y')
                .with(tags::NEW_SEQ_NO, at);
            client.send_with_seq(&fill, from);
        }
        if at <= last {
            let again = order("LATE")
                .with(tags::POSS_DUP_FLAG, 'Y')
                .with(tags::ORIG_SENDING_TIME, ORIG);
            client.send_with_seq(&again, at);
        }
        from = at + 1;
    }
    client.send(&Message::new("1").with(tags::TEST_REQ_ID, "AFTER"));
    let mut reports = 0;
    loop {
        let m = match client.recv_within(WAIT) {
            Got::Message(m) => m,
            other => panic!("{behind}: no answer to the TestRequest: {other:?}"),
        };
        match m.msg_type() {
            "8" => reports += 1,
            "0" if m.get(tags::TEST_REQ_ID) == Some("AFTER") => break,
            "0" => {}
            _ => panic!(
                "{behind}: unexpected {:?}",
                String::from_utf8_lossy(&m.bytes)
            ),
        }
    }
    assert_eq!(reports, orders.len(), "{behind}");
    assert_eq!(app.log.lock().unwrap().orders.len(), 10 + reports);
    assert_eq!(session.state(), SessionState::Established);
    assert_eq!(session.next_target_seq(), client.next_seq);
}

#[test]
fn a_gap_fill_over_one_queued_test_request() {
    gap_answered_legally("T");
}

#[test]
fn a_gap_fill_over_two_queued_test_requests() {
    gap_answered_legally("TT");
}

#[test]
fn a_gap_fill_over_five_queued_test_requests() {
    gap_answered_legally("TTTTT");
}

#[test]
fn orders_queued_among_admin_messages_are_processed_once() {
    gap_answered_legally("TDTTD");
}

/// The other legal answer: a GapFill only up to just before the new Logon's
/// number. The Logon and the TestRequests queued behind it are then processed at
/// once, without waiting for anything new and without asking again.
#[test]
fn a_fill_up_to_the_logon_lets_what_is_behind_it_through_at_once() {
    let (_engine, addr) = engine_with(config());
    let session = common::session(&_engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    let (mut client, logon_seq) = reconnect_after_a_lost_logout(addr, &session, client);
    for id in ["Q1", "Q2"] {
        client.send(&Message::new("1").with(tags::TEST_REQ_ID, id));
    }
    client.expect("A");
    client.expect("2");
    let fill = Message::new("4")
        .with(tags::POSS_DUP_FLAG, 'Y')
        .with(tags::ORIG_SENDING_TIME, ORIG)
        .with(tags::GAP_FILL_FLAG, 'Y')
        .with(tags::NEW_SEQ_NO, logon_seq);
    client.send_with_seq(&fill, 2);
    for id in ["Q1", "Q2"] {
        let answer = client.expect("0");
        assert_eq!(answer.get(tags::TEST_REQ_ID), Some(id));
    }
    assert_eq!(session.next_target_seq(), client.next_seq);
    client.send(&Message::new("1").with(tags::TEST_REQ_ID, "AFTER"));
    let answer = client.recv();
    assert_eq!(
        answer.msg_type(),
        "0",
        "{:?}",
        String::from_utf8_lossy(&answer.bytes)
    );
    assert_eq!(answer.get(tags::TEST_REQ_ID), Some("AFTER"));
}

/// A counterparty that answers the acceptor's Logout, on its own thread, and hands
/// back its next sequence number.
fn answer_the_logout(mut client: common::Initiator) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        client.expect("5");
        client.send(&Message::new("5"));
        client.next_seq
    })
}

/// A graceful stop waits for the counterparty's Logout and consumes its number:
/// after a restart on the same store, the next Logon is in step and gets no
/// ResendRequest.
#[test]
fn after_a_graceful_stop_the_next_logon_needs_no_resend() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let engine = fixengine::FixEngine::new(config().with_storage_directory(dir.path()))
            .expect("engine starts");
        let addr = engine.local_addrs()[0];
        let session = common::session(&engine, OrderApp::default());
        (engine, addr, session)
    };
    for stop in ["finalize", "shutdown"] {
        let (engine, addr, session) = start();
        let mut client = initiator(addr);
        client.next_seq = session.next_target_seq();
        client.logon(30);
        client.send(&order("BEFORE"));
        client.expect("8");
        let answered = answer_the_logout(client);
        match stop {
            "finalize" => {
                session.finalize();
                engine.shutdown();
            }
            _ => engine.shutdown(),
        }
        let next = answered.join().unwrap();

        let (_engine, addr, session) = start();
        assert_eq!(
            session.next_target_seq(),
            next,
            "{stop}: the Logout's number"
        );
        let mut client = initiator(addr);
        client.next_seq = next;
        client.logon(30);
        client.send(&Message::new("1").with(tags::TEST_REQ_ID, "NO-GAP"));
        let answer = client.recv();
        assert_eq!(
            answer.msg_type(),
            "0",
            "{stop}: {:?}",
            String::from_utf8_lossy(&answer.bytes)
        );
        assert_eq!(answer.get(tags::TEST_REQ_ID), Some("NO-GAP"));
        client.logout();
    }
}

/// Shutting down waits for every counterparty's Logout at the same time: twenty
/// sessions whose counterparties never answer take one LogoutTimeout, not twenty.
#[test]
fn shutdown_logs_every_session_out_at_once() {
    const SESSIONS: usize = 20;
    let logout_timeout = std::time::Duration::from_millis(400);
    let defaults = fixengine::SessionConfig::default().with_logout_timeout(logout_timeout);
    let (mut engine, addr) = engine_with(config().with_session_defaults(defaults));
    let mut clients = Vec::new();
    let mut sessions = Vec::new();
    for i in 0..SESSIONS {
        let name = format!("C{i}");
        let (session, client) = common::counterparty(&engine, addr, &name);
        sessions.push(session);
        clients.push(client);
    }
    let started = std::time::Instant::now();
    engine.shutdown();
    let took = started.elapsed();
    for client in &mut clients {
        let logout = client.expect("5");
        assert_eq!(logout.get(tags::TEXT), Some("session finalized"));
    }
    for session in &sessions {
        assert_eq!(session.state(), SessionState::Terminated);
    }
    // One at a time would take 20 × 400 ms = 8 s.
    assert!(
        took >= logout_timeout && took < 10 * logout_timeout,
        "shutdown took {took:?}"
    );
}
