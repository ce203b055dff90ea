//! Counterparties that reconnect the moment a connection ends, over real sockets
//! on 127.0.0.1: engine-created sessions handed over from an ending session to its
//! successor, and registered sessions reconnecting right after a reset.
//!
//! Each test runs a bounded number of cycles and reports every failed one.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Got, Initiator, OURS, OrderApp, config, engine_with, order};
use fixengine::{Decision, FixVersion, Incoming, Message, SessionsManager, tags};

/// How long each counterparty keeps cycling.
const RUN: Duration = Duration::from_secs(3);

/// The tests' configuration with the default LogonTimeout: these tests are about
/// races, not speed, and a Logon waiting for its session to end must not be cut
/// off by a shared machine's pauses.
fn churn_config() -> fixengine::EngineConfig {
    config().with_logon_timeout(Duration::from_secs(5))
}

/// Accepts every unknown counterparty with an [`OrderApp`].
struct AcceptAll;

impl SessionsManager for AcceptAll {
    fn on_unregistered_logon(&mut self, _incoming: &Incoming<'_>) -> Decision {
        Decision::Accept(Box::new(OrderApp::default()))
    }
}

/// The next message, or why there is none.
fn next(client: &mut Initiator, what: &str) -> Result<common::Received, String> {
    loop {
        match client.recv_within(common::WAIT) {
            Got::Message(m) if m.msg_type() == "0" => {}
            Got::Message(m) => return Ok(m),
            other => return Err(format!("{what}: {other:?}")),
        }
    }
}

/// One cycle: Logon at `next_seq`, three orders, the Logout handshake. Returns
/// the next sequence number to log on with, or what went wrong.
fn cycle(addr: SocketAddr, name: &str, next_seq: u64) -> Result<u64, String> {
    let mut client = Initiator::connect(addr, name, OURS, FixVersion::Fix44);
    client.next_seq = next_seq;
    client.send(
        &Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32),
    );
    let logon = next(&mut client, "Logon answer")?;
    if logon.msg_type() != "A" {
        return Err(format!(
            "Logon answered with {:?}",
            String::from_utf8_lossy(&logon.bytes)
        ));
    }
    for i in 0..3 {
        client.send(&order(&format!("{name}-{next_seq}-{i}")));
        let report = next(&mut client, "ExecutionReport")?;
        if report.msg_type() != "8" {
            return Err(format!(
                "order {i} answered with {:?}",
                String::from_utf8_lossy(&report.bytes)
            ));
        }
    }
    client.send(&Message::new("5"));
    let logout = next(&mut client, "Logout answer")?;
    if logout.msg_type() != "5" {
        return Err(format!(
            "Logout answered with {:?}",
            String::from_utf8_lossy(&logout.bytes)
        ));
    }
    Ok(client.next_seq)
}

/// Runs `counterparties` threads cycling for [`RUN`]; returns (cycles, failures).
fn churn(addr: SocketAddr, counterparties: usize, prefix: &str) -> (usize, Vec<String>) {
    let threads: Vec<_> = (0..counterparties)
        .map(|i| {
            let name = format!("{prefix}{i}");
            std::thread::spawn(move || {
                let (mut cycles, mut failures) = (0, Vec::new());
                let mut next_seq = 1;
                let end = Instant::now() + RUN;
                while Instant::now() < end && failures.len() < 3 {
                    cycles += 1;
                    match cycle(addr, &name, next_seq) {
                        Ok(n) => next_seq = n,
                        Err(e) => {
                            failures.push(format!("{name} cycle {cycles}: {e}"));
                            // Start over in step with the acceptor.
                            next_seq = 0;
                        }
                    }
                    if next_seq == 0 {
                        break;
                    }
                }
                (cycles, failures)
            })
        })
        .collect();
    let mut total = 0;
    let mut failures = Vec::new();
    for t in threads {
        let (cycles, f) = t.join().unwrap();
        total += cycles;
        failures.extend(f);
    }
    (total, failures)
}

/// Twenty unknown counterparties, each logging on, trading, logging out and
/// reconnecting at once: every Logon finds either the live session or, once the
/// ending one has released its store, a successor that continues its numbers.
#[test]
fn engine_created_sessions_survive_reconnect_churn() {
    let (_engine, addr) = common::TestEngine::start_managed(
        churn_config().with_create_unregistered_acceptor_session(true),
        AcceptAll,
    );
    let (cycles, failures) = churn(addr, 20, "U");
    assert!(cycles > 20, "only {cycles} cycles ran");
    assert!(
        failures.is_empty(),
        "{} of {cycles} cycles failed: {failures:#?}",
        failures.len()
    );
}

/// Registered sessions under the same churn.
#[test]
fn registered_sessions_survive_reconnect_churn() {
    let (engine, addr) = engine_with(churn_config());
    let sessions: Vec<_> = (0..20)
        .map(|i| {
            let s = engine
                .create_session(
                    fixengine::SessionId::new(OURS, format!("R{i}")).unwrap(),
                    FixVersion::Fix44,
                    OrderApp::default(),
                )
                .unwrap();
            s.connect().unwrap();
            s
        })
        .collect();
    let (cycles, failures) = churn(addr, 20, "R");
    assert!(cycles > 20, "only {cycles} cycles ran");
    assert!(
        failures.is_empty(),
        "{} of {cycles} cycles failed: {failures:#?}",
        failures.len()
    );
    drop(sessions);
}

/// A counterparty whose connection ends in a reset reconnects at once: its new
/// Logon is accepted, not refused as a second connection because the engine has
/// not yet noticed the reset of the first (without the check, 3 runs in 6 of
/// these 300 rounds failed).
#[test]
fn a_logon_right_after_a_reset_is_accepted() {
    let (engine, addr) = engine_with(churn_config());
    let _session = common::session(&engine, OrderApp::default());
    let mut next_seq = 1;
    for round in 0..300 {
        let mut client = common::initiator(addr);
        client.next_seq = next_seq;
        let logon = client.logon(30);
        assert_eq!(logon.msg_type(), "A", "round {round}");
        client.send(&order(&format!("RST-{round}")));
        client.expect("8");
        next_seq = client.next_seq;
        // SO_LINGER 0: close sends a reset instead of a FIN.
        let stream = client.raw_stream();
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
        // And at once the next connection, before the session's thread has
        // necessarily seen the reset.
        drop(client);
    }
}
