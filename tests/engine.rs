//! The engine over real sockets on 127.0.0.1: logon, logout, heartbeats, puts from
//! other threads, reconnects, duplicate and unknown Logons, the sessions manager,
//! the Logon timeout, and the session handle's lifecycle.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    Got, Initiator, OURS, OrderApp, THEIRS, TestEngine, WAIT, config, engine_with, initiator,
    order, session_with_config, wait_until,
};
use fixengine::{
    Decision, EngineError, FixEngine, FixVersion, Incoming, IpNet, Message, PutError, Session,
    SessionConfig, SessionId, SessionState, SessionsManager, tags,
};

/// An engine with one connected TEST1/TEST2 FIX.4.4 session running [`OrderApp`].
fn started() -> (TestEngine, SocketAddr, Session, OrderApp) {
    let (engine, addr) = engine_with(config());
    let app = OrderApp::default();
    let session = common::session(&engine, app.clone());
    (engine, addr, session, app)
}

#[test]
fn logon_order_and_logout() {
    let (_engine, addr, session, app) = started();
    assert_eq!(session.state(), SessionState::WaitForLogon);
    let mut client = initiator(addr);
    let logon = client.logon(30);
    assert_eq!(logon.get(tags::SENDER_COMP_ID), Some(OURS));
    assert_eq!(logon.get(tags::TARGET_COMP_ID), Some(THEIRS));
    assert_eq!(logon.get(tags::HEART_BT_INT), Some("30"));
    wait_until("Established", || {
        session.state() == SessionState::Established
    });

    client.send(&order("ORD-1"));
    let report = client.expect("8");
    assert_eq!(report.get(tags::CL_ORD_ID), Some("ORD-1"));
    assert_eq!(report.seq(), 2);
    for tag in [
        tags::ORDER_ID,
        tags::EXEC_ID,
        tags::EXEC_TYPE,
        tags::ORD_STATUS,
        tags::LEAVES_QTY,
        tags::CUM_QTY,
        tags::AVG_PX,
    ] {
        assert!(report.get(tag).is_some(), "ExecutionReport lacks tag {tag}");
    }

    client.logout();
    wait_until("back to WaitForLogon", || {
        session.state() == SessionState::WaitForLogon
    });
    assert_eq!(session.next_sender_seq(), 4, "Logon, report, Logout sent");
    assert_eq!(
        session.next_target_seq(),
        4,
        "Logon, order, Logout received"
    );
    let states = app.log.lock().unwrap().states.clone();
    assert_eq!(
        states,
        [
            (SessionState::Disconnected, SessionState::WaitForLogon),
            (SessionState::WaitForLogon, SessionState::Established),
            (SessionState::Established, SessionState::WaitForLogon),
        ]
    );
}

#[test]
fn group_commit_sends_every_message_once_it_is_on_disk() {
    // StorageSync = every: each reply waits for its record's fdatasync, done in
    // groups by the store's thread; what the peer sees must not change.
    let (engine, addr) = engine_with(config());
    let app = OrderApp::default();
    let every = SessionConfig::default().with_storage_sync(fixengine::store::SyncPolicy::Group);
    let session = session_with_config(&engine, app.clone(), every);
    let mut client = initiator(addr);
    client.logon(30);
    // Pipelined: many orders in flight, answered in groups.
    const ORDERS: u64 = 300;
    for i in 0..ORDERS {
        client.send(&order(&format!("G-{i}")));
    }
    for i in 0..ORDERS {
        let report = client.expect("8");
        assert_eq!(report.get(tags::CL_ORD_ID), Some(format!("G-{i}").as_str()));
        assert_eq!(report.seq(), i + 2);
    }
    // The Logout reply, produced as the connection closes, is not held back.
    client.logout();
    wait_until("back to WaitForLogon", || {
        session.state() == SessionState::WaitForLogon
    });
    assert_eq!(session.next_sender_seq(), ORDERS + 3);
}

#[test]
fn heartbeats_and_test_requests() {
    let (_engine, addr, _session, _app) = started();
    let mut client = initiator(addr);
    client.logon(1);
    // Silent for HeartBtInt: the acceptor sends a Heartbeat.
    let heartbeat = client.expect("0");
    assert_eq!(heartbeat.get(tags::TEST_REQ_ID), None);
    client.send(&Message::new("1").with(tags::TEST_REQ_ID, "PING-7"));
    let answer = loop {
        let m = client.expect("0");
        if m.get(tags::TEST_REQ_ID).is_some() {
            break m;
        }
    };
    assert_eq!(answer.get(tags::TEST_REQ_ID), Some("PING-7"));
}

#[test]
fn puts_from_another_thread_arrive_in_order() {
    let (_engine, addr, session, _app) = started();
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });
    let putter = {
        let session = session.clone();
        std::thread::spawn(move || {
            for i in 0..200 {
                let news = Message::new("B").with(tags::HEADLINE, format!("news {i}"));
                session.put(news).expect("put accepted");
            }
        })
    };
    for i in 0..200u64 {
        let m = client.expect("B");
        assert_eq!(m.get(tags::HEADLINE), Some(format!("news {i}").as_str()));
        assert_eq!(m.seq(), 2 + i, "consecutive sequence numbers");
    }
    putter.join().unwrap();
}

#[test]
fn puts_while_disconnected_are_delivered_after_the_next_logon() {
    let (_engine, addr, session, _app) = started();
    for i in 0..10 {
        session
            .put(Message::new("B").with(tags::HEADLINE, format!("offline {i}")))
            .expect("put accepted");
    }
    wait_until("messages stored", || session.next_sender_seq() == 11);

    let mut client = initiator(addr);
    let logon = client.logon(30);
    assert_eq!(logon.seq(), 11, "the Logon follows the stored messages");
    // We expected 1: ask for the gap, as a counterparty does.
    client.send(
        &Message::new("2")
            .with(tags::BEGIN_SEQ_NO, 1u32)
            .with(tags::END_SEQ_NO, 0u32),
    );
    for i in 0..10u64 {
        let m = client.expect("B");
        assert_eq!(m.seq(), 1 + i);
        assert_eq!(m.get(tags::POSS_DUP_FLAG), Some("Y"));
        assert_eq!(m.get(tags::HEADLINE), Some(format!("offline {i}").as_str()));
    }
}

#[test]
fn reconnect_after_an_abrupt_drop_continues_sequence_numbers() {
    let (_engine, addr, session, _app) = started();
    let mut client = initiator(addr);
    client.logon(30);
    client.send(&order("A-1"));
    client.expect("8");
    let next = client.next_seq;
    client.drop_connection();
    wait_until("WaitForLogon after the drop", || {
        session.state() == SessionState::WaitForLogon
    });

    let mut client = initiator(addr);
    client.next_seq = next;
    let logon = client.logon(30);
    assert_eq!(logon.seq(), 3, "Logon 1 and report 2 were sent before");
    client.send(&order("A-2"));
    let report = client.expect("8");
    assert_eq!(report.seq(), 4);
    assert_eq!(session.next_target_seq(), 5);
}

#[test]
fn a_second_logon_is_refused_without_disturbing_the_first() {
    let (_engine, addr, session, _app) = started();
    let mut first = initiator(addr);
    first.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });

    let mut second = initiator(addr);
    second.send(
        &Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32),
    );
    // Silent, as QuickFIX: the newcomer has proven nothing, and learns nothing
    // (the suite's 1b_DuplicateIdentity).
    assert!(
        second.closed_silently_within(WAIT),
        "the duplicate is closed"
    );

    first.send(&order("STILL-HERE"));
    let report = first.expect("8");
    assert_eq!(report.get(tags::CL_ORD_ID), Some("STILL-HERE"));
    assert_eq!(report.seq(), 2, "the first session's numbers are untouched");
}

#[test]
fn unknown_session_is_closed_without_reply_and_nothing_is_created() {
    let (engine, addr, _session, _app) = started();
    let mut stranger = Initiator::connect(addr, "STRANGER", OURS, FixVersion::Fix44);
    stranger.logon_with_no_answer();
    assert!(stranger.closed_silently_within(WAIT));
    assert_eq!(engine.sessions().len(), 1);
}

#[test]
fn a_connection_that_never_logs_on_is_closed_after_the_logon_timeout() {
    let (_engine, addr, _session, _app) = started();
    let mut idle = initiator(addr);
    assert!(
        idle.closed_silently_within(WAIT),
        "closed by LogonTimeout (500 ms)"
    );
}

#[test]
fn a_first_message_that_is_not_a_logon_closes_the_connection() {
    let (_engine, addr, session, _app) = started();
    let mut client = initiator(addr);
    client.send(&order("EARLY"));
    assert!(client.closed_silently_within(WAIT));
    let mut garbage = initiator(addr);
    garbage.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(garbage.closed_silently_within(WAIT));
    assert_eq!(session.state(), SessionState::WaitForLogon);
}

/// Accepts or refuses unknown sessions, records what it was asked, and refuses
/// connections from addresses outside its list.
#[derive(Clone, Default)]
struct Manager {
    accept_unknown: bool,
    allowed: Option<Vec<IpAddr>>,
    seen: Arc<Mutex<Vec<String>>>,
    created: Arc<Mutex<Vec<Session>>>,
}

impl SessionsManager for Manager {
    fn on_incoming_connection(&mut self, incoming: &Incoming<'_>) -> Result<(), String> {
        self.seen.lock().unwrap().push(format!(
            "{} port {} from {}",
            incoming.session_id,
            incoming.local_port,
            incoming.remote.ip()
        ));
        match &self.allowed {
            Some(list) if !list.contains(&incoming.remote.ip()) => {
                Err(format!("{} not allowed", incoming.remote.ip()))
            }
            _ => Ok(()),
        }
    }

    fn on_unregistered_logon(&mut self, incoming: &Incoming<'_>) -> Decision {
        assert_eq!(incoming.version, FixVersion::Fix44);
        if self.accept_unknown {
            Decision::Accept(Box::new(OrderApp::default()))
        } else {
            Decision::Refuse("not a customer".to_owned())
        }
    }

    fn on_session_created(&mut self, session: Session) {
        self.created.lock().unwrap().push(session);
    }
}

#[test]
fn unregistered_sessions_accepted_by_the_manager_get_their_own_worker() {
    let manager = Manager {
        accept_unknown: true,
        ..Manager::default()
    };
    // Installed before the engine listens: the Logon that comes at once finds it.
    let (engine, addr) = TestEngine::start_managed(
        config().with_create_unregistered_acceptor_session(true),
        manager.clone(),
    );
    let mut newcomer = Initiator::connect(addr, "NEWCOMER", OURS, FixVersion::Fix44);
    newcomer.logon(30);
    newcomer.send(&order("N-1"));
    let report = newcomer.expect("8");
    assert_eq!(report.get(tags::TARGET_COMP_ID), Some("NEWCOMER"));
    let created = manager.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].id(), &SessionId::from_static(OURS, "NEWCOMER"));
    assert_eq!(created[0].state(), SessionState::Established);
    assert_eq!(engine.sessions().len(), 1);
    newcomer.logout();
}

#[test]
fn unregistered_sessions_refused_by_the_manager_are_closed() {
    let (engine, addr) = engine_with(config().with_create_unregistered_acceptor_session(true));
    let manager = Manager::default();
    engine.set_sessions_manager(manager.clone());
    let mut stranger = Initiator::connect(addr, "STRANGER", OURS, FixVersion::Fix44);
    stranger.logon_with_no_answer();
    assert!(stranger.closed_silently_within(WAIT));
    assert!(engine.sessions().is_empty());
    assert!(manager.created.lock().unwrap().is_empty());
}

#[test]
fn unregistered_sessions_without_a_manager_are_accepted_when_the_property_says_so() {
    let (engine, addr) = engine_with(config().with_create_unregistered_acceptor_session(true));
    let mut newcomer = Initiator::connect(addr, "ANYONE", OURS, FixVersion::Fix44);
    newcomer.logon(30);
    // The default application answers with a BusinessMessageReject.
    newcomer.send(&order("X"));
    let reject = newcomer.expect("j");
    assert_eq!(reject.get(tags::REF_MSG_TYPE), Some("D"));
    assert_eq!(engine.sessions().len(), 1);
}

#[test]
fn the_connection_hook_refuses_by_address_before_anything_changes() {
    let (engine, addr, session, app) = started();
    let manager = Manager {
        allowed: Some(vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))]),
        ..Manager::default()
    };
    engine.set_sessions_manager(manager.clone());
    let mut client = initiator(addr);
    client.logon_with_no_answer();
    client.refused_with_logout("refused by the sessions manager");
    assert_eq!(session.next_target_seq(), 1, "no state changed");
    assert_eq!(app.log.lock().unwrap().logons, 0);
    let seen = manager.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [format!(
            "{OURS}/{THEIRS} port {} from 127.0.0.1",
            addr.port()
        )]
    );

    // The same hook letting 127.0.0.1 through: the Logon is accepted.
    engine.set_sessions_manager(Manager {
        allowed: Some(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]),
        ..Manager::default()
    });
    let mut client = initiator(addr);
    client.logon(30);
}

#[test]
fn allowed_remote_addresses_refuse_other_hosts() {
    let (engine, addr) = engine_with(config());
    let restricted = SessionConfig::default().with_allowed_remote_addresses([IpNet::new(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)),
        8,
    )
    .unwrap()]);
    let session = session_with_config(&engine, OrderApp::default(), restricted.clone());
    let mut client = initiator(addr);
    client.logon_with_no_answer();
    let logout = client.refused_with_logout("not in AllowedRemoteAddresses");
    assert_eq!(logout.get(tags::LAST_MSG_SEQ_NUM_PROCESSED), None);
    assert_eq!(session.state(), SessionState::WaitForLogon);
    assert_eq!(
        (session.next_sender_seq(), session.next_target_seq()),
        (1, 1),
        "the refusal moved no number"
    );
    // LogonRefusalReply = silent: as every refusal was before the key.
    session.finalize();
    // EnableLastMsgSeqNumProcessed: the refusal the reactor writes carries 369
    // like every other message of the session.
    let numbered = restricted
        .clone()
        .with_enable_last_msg_seq_num_processed(true);
    let session = session_with_config(&engine, OrderApp::default(), numbered);
    let mut client = initiator(addr);
    client.logon_with_no_answer();
    let logout = client.refused_with_logout("not in AllowedRemoteAddresses");
    assert_eq!(logout.get(tags::LAST_MSG_SEQ_NUM_PROCESSED), Some("0"));
    session.finalize();
    let silent = restricted.with_logon_refusal_reply(fixengine::LogonRefusalReply::Silent);
    let _session = session_with_config(&engine, OrderApp::default(), silent);
    let mut client = initiator(addr);
    client.logon_with_no_answer();
    assert!(client.closed_silently_within(WAIT));
}

#[test]
fn a_session_not_connected_accepts_nothing() {
    let (engine, addr) = engine_with(config());
    let session = engine
        .create_session(
            SessionId::from_static(OURS, THEIRS),
            FixVersion::Fix44,
            OrderApp::default(),
        )
        .unwrap();
    assert_eq!(session.state(), SessionState::Disconnected);
    let mut client = initiator(addr);
    client.logon_with_no_answer();
    // The session's own state is no verdict on the counterparty: silence.
    assert!(client.closed_silently_within(WAIT));
    session.connect().unwrap();
    let mut client = initiator(addr);
    client.logon(30);
}

#[test]
fn disconnect_sends_logout_and_keeps_the_session_for_the_next_logon() {
    let (_engine, addr, session, _app) = started();
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });
    let closer = {
        let session = session.clone();
        std::thread::spawn(move || session.disconnect("end of day"))
    };
    let logout = client.expect("5");
    assert_eq!(logout.get(tags::TEXT), Some("end of day"));
    client.send(&Message::new("5"));
    assert!(matches!(client.recv_within(WAIT), Got::Closed));
    closer.join().unwrap().expect("disconnect completes");
    assert_eq!(session.state(), SessionState::WaitForLogon);

    // Sequence numbers continue.
    let mut client = initiator(addr);
    client.next_seq = 3;
    let logon = client.logon(30);
    assert_eq!(logon.seq(), 3);
}

#[test]
fn disconnect_now_closes_without_logout() {
    let (_engine, addr, session, _app) = started();
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });
    session.disconnect_now("maintenance").unwrap();
    assert!(client.closed_silently_within(WAIT));
    assert_eq!(session.state(), SessionState::WaitForLogon);
    assert_eq!(session.next_sender_seq(), 2);
}

#[test]
fn reset_seq_num_local_is_refused_while_connected() {
    let (_engine, addr, session, _app) = started();
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });
    let err = session.reset_seq_num_local().unwrap_err();
    assert!(matches!(err, EngineError::Reset { .. }), "{err}");
    assert!(err.to_string().contains("141"), "{err}");
    client.logout();
    session
        .reset_seq_num_local()
        .expect("allowed once disconnected");
    assert_eq!(
        (session.next_sender_seq(), session.next_target_seq()),
        (1, 1)
    );
    let mut client = initiator(addr);
    assert_eq!(client.logon(30).seq(), 1);
}

#[test]
fn finalize_unregisters_and_inert_clones_hand_messages_back() {
    let (engine, addr, session, app) = started();
    let mut client = initiator(addr);
    client.logon(30);
    wait_until("Established", || {
        session.state() == SessionState::Established
    });
    let other = session.clone();
    session.finalize();
    // A logged-on counterparty is told.
    client.expect("5");
    assert_eq!(other.state(), SessionState::Terminated);
    let err = other.put(order("LATE")).unwrap_err();
    assert!(matches!(err, PutError::Finalized { .. }), "{err}");
    assert_eq!(err.into_inner().get_str(tags::CL_ORD_ID), Ok("LATE"));
    assert!(matches!(
        other.connect(),
        Err(EngineError::Finalized { .. })
    ));
    assert!(engine.sessions().is_empty());
    // The Logout exchange is a state of its own, told as it happens.
    let states = app.log.lock().unwrap().states.clone();
    assert!(
        states.ends_with(&[
            (SessionState::Established, SessionState::WaitForLogout),
            (SessionState::WaitForLogout, SessionState::Terminated)
        ]),
        "{states:?}"
    );
    let mut client = initiator(addr);
    client.logon_with_no_answer();
    assert!(client.closed_silently_within(WAIT));
    // The SessionId is free again.
    engine
        .create_session(
            SessionId::from_static(OURS, THEIRS),
            FixVersion::Fix44,
            OrderApp::default(),
        )
        .expect("recreated");
}

#[test]
fn session_level_puts_and_duplicates_are_refused() {
    let (engine, _addr, session, _app) = started();
    let err = session.put(Message::new("0")).unwrap_err();
    assert!(
        matches!(
            err,
            PutError::Refused {
                error: fixengine::session::SendError::AdminMessage { .. },
                ..
            }
        ),
        "{err}"
    );
    let dup = engine
        .create_session(
            SessionId::from_static(OURS, THEIRS),
            FixVersion::Fix44,
            OrderApp::default(),
        )
        .unwrap_err();
    assert!(matches!(dup, EngineError::DuplicateSession { .. }), "{dup}");
    // The same CompIDs on another FIX version are another session.
    engine
        .create_session(
            SessionId::from_static(OURS, THEIRS),
            FixVersion::Fix42,
            OrderApp::default(),
        )
        .expect("FIX.4.2 twin");
}

#[test]
fn a_hundred_sessions_at_once_without_cross_talk() {
    const SESSIONS: usize = 100;
    const ORDERS: u64 = 20;
    let (engine, addr) = engine_with(config().with_logon_timeout(Duration::from_secs(10)));
    let sessions: Vec<Session> = (0..SESSIONS)
        .map(|i| {
            let s = engine
                .create_session(
                    SessionId::new(OURS, format!("C{i:03}")).unwrap(),
                    FixVersion::Fix44,
                    OrderApp::default(),
                )
                .unwrap();
            s.connect().unwrap();
            s
        })
        .collect();
    let clients: Vec<_> = (0..SESSIONS)
        .map(|i| {
            std::thread::spawn(move || {
                let name = format!("C{i:03}");
                let mut client = Initiator::connect(addr, &name, OURS, FixVersion::Fix44);
                client.logon(30);
                for n in 0..ORDERS {
                    client.send(&order(&format!("{name}-{n}")));
                }
                for n in 0..ORDERS {
                    let report = client.expect("8");
                    assert_eq!(report.get(tags::TARGET_COMP_ID), Some(name.as_str()));
                    assert_eq!(
                        report.get(tags::CL_ORD_ID),
                        Some(format!("{name}-{n}").as_str())
                    );
                    assert_eq!(report.seq(), 2 + n);
                }
                client.logout();
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    for s in &sessions {
        wait_until("all logged out", || s.state() == SessionState::WaitForLogon);
        assert_eq!(s.next_sender_seq(), 2 + ORDERS + 1);
        assert_eq!(s.next_target_seq(), 2 + ORDERS + 1);
    }
}

#[test]
fn handles_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Session>();
    fn assert_send<T: Send>() {}
    assert_send::<FixEngine>();
}

#[test]
fn a_spinning_session_works_like_a_parked_one() {
    let (engine, addr) = engine_with(config());
    let spin = SessionConfig::default()
        .with_idle_strategy(fixengine::IdleStrategy::Spin)
        .with_spin_time(Duration::from_millis(50));
    let session = session_with_config(&engine, OrderApp::default(), spin);
    let mut client = initiator(addr);
    client.logon(30);
    for n in 0..50 {
        client.send(&order(&format!("S-{n}")));
        assert_eq!(client.expect("8").seq(), 2 + n);
        if n % 10 == 0 {
            // Long enough to park between bursts.
            std::thread::sleep(Duration::from_millis(80));
        }
    }
    session
        .put(Message::new("B").with(tags::HEADLINE, "after a park"))
        .unwrap();
    assert_eq!(client.expect("B").get(tags::HEADLINE), Some("after a park"));
    client.logout();
}

/// Records every callback, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl fixengine::Application for Recorder {
    fn on_message(
        &mut self,
        message: &fixengine::MessageView<'_>,
        _reply: &mut fixengine::Reply<'_>,
    ) {
        let mt = String::from_utf8_lossy(message.msg_type()).into_owned();
        self.0.lock().unwrap().push(format!("message {mt}"));
    }

    fn on_state_change(&mut self, from: SessionState, to: SessionState) {
        self.0
            .lock()
            .unwrap()
            .push(format!("state {from:?} -> {to:?}"));
    }

    fn on_event(&mut self, event: &fixengine::SessionEvent) {
        if let fixengine::SessionEvent::LoggedOn { .. } = event {
            self.0.lock().unwrap().push("logged on".to_owned());
        }
    }
}

/// A Logon and an order in one write reach the application in the order the
/// session produced them: the Logon's state change and event, then the order.
#[test]
fn a_logon_and_an_order_in_one_write_arrive_logon_first() {
    let (engine, addr) = engine_with(config());
    let recorder = Recorder::default();
    let _session = common::session(&engine, recorder.clone());
    let mut client = initiator(addr);
    let logon = Message::new("A")
        .with(tags::ENCRYPT_METHOD, 0u32)
        .with(tags::HEART_BT_INT, 30u32);
    let mut bytes = client.encode(&logon, 1);
    bytes.extend(client.encode(&order("FIRST"), 2));
    client.next_seq = 3;
    client.send_raw(&bytes);
    client.expect("A");
    wait_until("the order reaches the application", || {
        recorder.0.lock().unwrap().iter().any(|c| c == "message D")
    });
    let calls = recorder.0.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            "state Disconnected -> WaitForLogon",
            "state WaitForLogon -> Established",
            "logged on",
            "message D"
        ],
        "{calls:?}"
    );
}

/// An engine that would listen on nothing is refused at start, saying why.
#[test]
fn an_engine_without_a_port_does_not_start() {
    let err = FixEngine::new(fixengine::EngineConfig::default()).unwrap_err();
    assert!(matches!(err, EngineError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("ListenPort"), "{err}");
}
