//! The engine when things go wrong: floods of garbage, an application that never
//! stops putting, a peer that never reads, panicking callbacks, calls from inside
//! callbacks, shutdown with handles still held, oversized messages.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    Got, Initiator, OURS, OrderApp, WAIT, config, engine_with, initiator, order, session,
    session_with_config, wait_until,
};
use fixengine::{
    Application, EngineError, Fields, FixVersion, Incoming, Message, MessageView, PutError, Reply,
    Session, SessionConfig, SessionState, SessionsManager, tags,
};

#[test]
fn a_flood_of_garbage_is_cut_off_and_never_holds_up_the_session() {
    let (engine, addr) = engine_with(config().with_max_message_size(64 * 1024));
    let s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || s.state() == SessionState::Established);
    let mut raw = client.raw_stream();
    let flooding = std::thread::spawn(move || {
        let junk = vec![b'x'; 16 * 1024];
        let deadline = Instant::now() + WAIT;
        // Until the acceptor closes the connection.
        while Instant::now() < deadline {
            if raw.write_all(&junk).is_err() {
                return true;
            }
        }
        false
    });
    assert!(flooding.join().unwrap(), "the connection was closed");
    wait_until("back to WaitForLogon", || {
        s.state() == SessionState::WaitForLogon
    });
}

#[test]
fn control_commands_pass_a_peer_that_never_stops_sending() {
    let (engine, addr) = engine_with(config());
    let s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || s.state() == SessionState::Established);
    // Valid heartbeats without a pause: every one is a good frame.
    let mut raw = client.raw_stream();
    let heartbeats: Vec<u8> = (0..1000)
        .flat_map(|i| client.encode(&Message::new("0"), 2 + i))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if raw.write_all(&heartbeats).is_err() {
                    return;
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    s.disconnect_now("enough")
        .expect("disconnect goes through the flood");
    assert_eq!(s.state(), SessionState::WaitForLogon);
    stop.store(true, Ordering::Relaxed);
    flooding.join().unwrap();
}

#[test]
fn an_application_that_never_stops_putting_does_not_starve_inbound() {
    let (engine, addr) = engine_with(config());
    let s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || s.state() == SessionState::Established);
    let stop = Arc::new(AtomicBool::new(false));
    let putter = {
        let s = s.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = s.put(Message::new("B").with(tags::HEADLINE, "spam"));
            }
        })
    };
    client.send(&order("THROUGH"));
    // Drain the news until the report to our order shows up.
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "the order was never answered");
        let m = client.recv();
        if m.msg_type() == "8" {
            assert_eq!(m.get(tags::CL_ORD_ID), Some("THROUGH"));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    putter.join().unwrap();
}

#[test]
fn a_peer_that_never_reads_fills_the_queue_and_can_still_be_disconnected() {
    let (engine, addr) = engine_with(config());
    let s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || s.state() == SessionState::Established);
    // The client reads nothing from here on.
    let deadline = Instant::now() + WAIT;
    let text = "n".repeat(1000);
    let mut accepted = 0u64;
    let full = loop {
        assert!(Instant::now() < deadline, "the queue never filled");
        match s.put(Message::new("B").with(tags::HEADLINE, text.as_str())) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
    };
    assert!(matches!(full, PutError::Full { .. }), "{full}");
    assert_eq!(full.message().get_str(tags::HEADLINE), Ok(text.as_str()));
    assert!(
        accepted > 1000,
        "backpressure only after a real backlog ({accepted})"
    );
    let started = Instant::now();
    s.disconnect_now("slow consumer")
        .expect("not held up by the backlog");
    assert!(started.elapsed() < WAIT);
    assert_eq!(s.state(), SessionState::WaitForLogon);
    drop(client);
}

/// Panics on its first order.
struct Fragile;

impl Application for Fragile {
    fn on_message(&mut self, _message: &MessageView<'_>, _reply: &mut Reply<'_>) {
        panic!("the application failed (on purpose, in a test)");
    }
}

#[test]
fn a_panicking_application_stops_its_session_visibly() {
    let (engine, addr) = engine_with(config());
    let s = session(&engine, Fragile);
    let mut client = initiator(addr);
    client.logon(30);
    client.send(&order("BOOM"));
    assert!(matches!(client.recv_within(WAIT), Got::Closed));
    wait_until("Terminated", || s.state() == SessionState::Terminated);
    let err = s.put(order("AFTER")).unwrap_err();
    assert!(matches!(err, PutError::Stopped { .. }), "{err}");
    assert!(err.to_string().contains("panicked"), "{err}");
    assert!(matches!(s.connect(), Err(EngineError::Stopped { .. })));
    wait_until("unregistered", || engine.sessions().is_empty());
    // The SessionId can be created again.
    let _again = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    // The order that made it panic was never processed: it is expected again.
    client.next_seq = 2;
    client.logon(30);
}

/// Logs out from inside its own callback when told to.
struct SelfClosing {
    me: Arc<Mutex<Option<Session>>>,
}

impl Application for SelfClosing {
    fn on_message(&mut self, message: &MessageView<'_>, _reply: &mut Reply<'_>) {
        let me = self.me.lock().unwrap().clone().unwrap();
        if message.get(tags::CL_ORD_ID) == Some(b"BYE".as_slice()) {
            me.disconnect("asked to leave").expect("returns at once");
        }
        assert!(matches!(
            me.reset_seq_num_local(),
            Err(EngineError::InCallback { .. })
        ));
    }
}

#[test]
fn calls_from_inside_a_callback_do_not_wait_on_their_own_thread() {
    let (engine, addr) = engine_with(config());
    let me = Arc::new(Mutex::new(None));
    let s = session(
        &engine,
        SelfClosing {
            me: Arc::clone(&me),
        },
    );
    *me.lock().unwrap() = Some(s.clone());
    let mut client = initiator(addr);
    client.logon(30);
    let started = Instant::now();
    client.send(&order("BYE"));
    let logout = client.expect("5");
    assert_eq!(logout.get(tags::TEXT), Some("asked to leave"));
    assert!(started.elapsed() < Duration::from_secs(2), "no self-wait");
    // The application holds its own handle: release that cycle explicitly.
    me.lock().unwrap().take();
    s.finalize();
}

#[derive(Clone, Default)]
struct Keeper {
    kept: Arc<Mutex<Vec<Session>>>,
}

impl SessionsManager for Keeper {
    fn on_unregistered_logon(&mut self, _incoming: &Incoming<'_>) -> fixengine::Decision {
        fixengine::Decision::Accept(Box::new(OrderApp::default()))
    }

    fn on_session_created(&mut self, session: Session) {
        self.kept.lock().unwrap().push(session);
    }
}

#[test]
fn shutdown_finalizes_engine_created_sessions_even_when_their_handles_are_kept() {
    let (mut engine, addr) = engine_with(config().with_create_unregistered_acceptor_session(true));
    let keeper = Keeper::default();
    engine.set_sessions_manager(keeper.clone());
    let mut client = Initiator::connect(addr, "GUEST", OURS, FixVersion::Fix44);
    client.logon(30);
    let started = Instant::now();
    engine.shutdown();
    assert!(started.elapsed() < WAIT);
    let logout = client.expect("5");
    assert_eq!(logout.get(tags::TEXT), Some("session finalized"));
    let kept = keeper.kept.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].state(), SessionState::Terminated);
}

#[test]
fn engine_created_sessions_end_with_their_connection() {
    let (engine, addr) = engine_with(config().with_create_unregistered_acceptor_session(true));
    let mut client = Initiator::connect(addr, "GUEST", OURS, FixVersion::Fix44);
    client.logon(30);
    assert_eq!(engine.sessions().len(), 1);
    client.logout();
    wait_until("the session is gone", || engine.sessions().is_empty());
    // The next Logon creates it again, on the same store: numbers continue.
    let mut client = Initiator::connect(addr, "GUEST", OURS, FixVersion::Fix44);
    client.next_seq = 3;
    assert_eq!(client.logon(30).seq(), 3);
    assert_eq!(engine.sessions().len(), 1);
}

#[test]
fn dropping_the_last_handle_finalizes_the_session() {
    let (engine, addr) = engine_with(config());
    let s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || s.state() == SessionState::Established);
    drop(s);
    let logout = client.expect("5");
    assert_eq!(logout.get(tags::TEXT), Some("session finalized"));
    assert!(engine.sessions().is_empty());
}

#[test]
fn a_wrong_checksum_passes_when_validate_check_sum_is_off() {
    let (engine, addr) = engine_with(config());
    let _s = session_with_config(
        &engine,
        OrderApp::default(),
        SessionConfig::default().with_validate_check_sum(false),
    );
    let mut client = initiator(addr);
    client.logon(30);
    let mut wire = client.encode(&order("SUM"), 2);
    client.next_seq = 3;
    let n = wire.len();
    wire[n - 4..n - 1].copy_from_slice(b"000");
    client.send_raw(&wire);
    assert_eq!(client.expect("8").get(tags::CL_ORD_ID), Some("SUM"));
}

#[test]
fn messages_sent_with_the_logon_in_one_write_are_processed() {
    let (engine, addr) = engine_with(config());
    let _s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    let mut burst = client.encode(
        &Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32),
        1,
    );
    burst.extend(client.encode(&order("EAGER-1"), 2));
    burst.extend(client.encode(&order("EAGER-2"), 3));
    client.next_seq = 4;
    client.send_raw(&burst);
    client.expect("A");
    assert_eq!(client.expect("8").get(tags::CL_ORD_ID), Some("EAGER-1"));
    assert_eq!(client.expect("8").get(tags::CL_ORD_ID), Some("EAGER-2"));
}

#[test]
fn an_oversized_message_ends_the_session_with_a_logout() {
    let (engine, addr) = engine_with(config().with_max_message_size(4096));
    let _s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.logon(30);
    client.send(&Message::new("B").with(tags::HEADLINE, "h".repeat(10_000)));
    let logout = client.expect("5");
    assert!(
        logout.get(tags::TEXT).unwrap().contains("MaxMessageSize"),
        "{logout:?}"
    );
}

#[test]
fn connections_beyond_max_pending_are_closed_at_once() {
    let config = config()
        .with_max_pending_connections(2)
        .with_logon_timeout(Duration::from_secs(30));
    let (engine, addr) = engine_with(config);
    let _s = session(&engine, OrderApp::default());
    let _idle: Vec<Initiator> = (0..2).map(|_| initiator(addr)).collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut third = initiator(addr);
    let started = Instant::now();
    assert!(third.closed_silently_within(WAIT));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed for load, not by the 30 s LogonTimeout"
    );
}

#[test]
fn a_first_message_too_large_for_a_logon_is_closed_at_once() {
    let config = config().with_logon_timeout(Duration::from_secs(30));
    let (engine, addr) = engine_with(config);
    let _s = session(&engine, OrderApp::default());
    let mut client = initiator(addr);
    client.send_raw(b"8=FIX.4.4\x019=900000\x0135=A\x01");
    let started = Instant::now();
    assert!(client.closed_silently_within(WAIT));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_engine_created_session_takes_a_logon_right_after_its_last_logout() {
    let (_engine, addr) = engine_with(config().with_create_unregistered_acceptor_session(true));
    for round in 0..20u64 {
        let mut client = Initiator::connect(addr, "QUICK", OURS, FixVersion::Fix44);
        client.next_seq = 1 + 2 * round;
        // No pause: the previous session may still be releasing its store.
        assert_eq!(client.logon(30).seq(), 1 + 2 * round, "round {round}");
        client.logout();
    }
}
