//! A small blocking FIX initiator for the engine's integration tests, and an order
//! application to run behind the acceptor.
//!
//! The initiator parses what it receives by splitting on SOH itself, so a bug in the
//! engine's decoder cannot hide behind the same decoder in the test.

// Each test file uses part of it; tests read the clock and may unwrap.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::disallowed_methods,
    clippy::unwrap_used
)]

pub mod dictionary;
pub mod example;
pub mod log;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fixengine::{
    Application, Fields, FixVersion, Framer, Message, MessageView, Reply, SessionState, Status,
    TimePrecision, UtcTimestamp, tags,
};

/// How long the initiator waits for an expected message before failing the test.
pub const WAIT: Duration = Duration::from_secs(10);

/// A received frame, with its fields in order.
#[derive(Debug, Clone)]
pub struct Received {
    pub bytes: Vec<u8>,
    pub fields: Vec<(u32, String)>,
}

impl Received {
    fn parse(bytes: Vec<u8>) -> Self {
        let fields = bytes
            .split(|&b| b == 1)
            .filter(|f| !f.is_empty())
            .filter_map(|f| {
                let text = String::from_utf8_lossy(f);
                let (tag, value) = text.split_once('=')?;
                Some((tag.parse().ok()?, value.to_owned()))
            })
            .collect();
        Self { bytes, fields }
    }

    pub fn get(&self, tag: u32) -> Option<&str> {
        self.fields
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_str())
    }

    pub fn msg_type(&self) -> &str {
        self.get(35).unwrap_or("")
    }

    pub fn seq(&self) -> u64 {
        self.get(34).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
}

/// What a read came to.
#[derive(Debug)]
pub enum Got {
    Message(Received),
    Closed,
    Timeout,
}

/// A FIX initiator over a blocking socket.
pub struct Initiator {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Our CompID (the acceptor's TargetCompID).
    pub sender: String,
    /// The acceptor's CompID.
    pub target: String,
    pub version: FixVersion,
    pub next_seq: u64,
    /// Every frame written and every frame read, in order (tests of the message
    /// log compare it with these).
    pub sent_frames: Vec<Vec<u8>>,
    pub received_frames: Vec<Vec<u8>>,
}

impl Initiator {
    pub fn connect(addr: SocketAddr, sender: &str, target: &str, version: FixVersion) -> Self {
        let stream = TcpStream::connect(addr).expect("connect to the acceptor");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
            sender: sender.to_owned(),
            target: target.to_owned(),
            version,
            next_seq: 1,
            sent_frames: Vec::new(),
            received_frames: Vec::new(),
        }
    }

    /// Encodes `message` with our header and the next sequence number, and sends it.
    pub fn send(&mut self, message: &Message) -> u64 {
        let seq = self.next_seq;
        self.send_with_seq(message, seq);
        self.next_seq += 1;
        seq
    }

    /// Sends with an explicit MsgSeqNum, leaving `next_seq` alone.
    pub fn send_with_seq(&mut self, message: &Message, seq: u64) {
        let bytes = self.encode(message, seq);
        self.send_raw(&bytes);
    }

    pub fn encode(&self, message: &Message, seq: u64) -> Vec<u8> {
        let mut time = [0u8; fixengine::codec::MAX_TIMESTAMP_LEN];
        let now = UtcTimestamp::from_system_time(SystemTime::now())
            .format(TimePrecision::Millis, &mut time)
            .to_vec();
        let seq = seq.to_string();
        let header: [(u32, &[u8]); 4] = [
            (tags::MSG_SEQ_NUM, seq.as_bytes()),
            (tags::SENDER_COMP_ID, self.sender.as_bytes()),
            (tags::SENDING_TIME, &now),
            (tags::TARGET_COMP_ID, self.target.as_bytes()),
        ];
        let mut out = Vec::new();
        message.encode(self.version, &header, &mut out);
        out
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.sent_frames.push(bytes.to_vec());
        // The acceptor may already have closed; tests look at what comes back.
        let _ = self.stream.write_all(bytes);
    }

    /// Sends a Logon and returns the acceptor's answer.
    pub fn logon(&mut self, heart_bt_int: u32) -> Received {
        self.logon_with(
            Message::new("A")
                .with(tags::ENCRYPT_METHOD, 0u32)
                .with(tags::HEART_BT_INT, heart_bt_int),
        )
    }

    /// Sends `logon` and expects a Logon back.
    pub fn logon_with(&mut self, logon: Message) -> Received {
        self.send(&logon);
        self.expect("A")
    }

    /// Sends a Logon, expecting no answer (the tests of refusals).
    pub fn logon_with_no_answer(&mut self) {
        self.send(
            &Message::new("A")
                .with(tags::ENCRYPT_METHOD, 0u32)
                .with(tags::HEART_BT_INT, 30u32),
        );
    }

    /// The next message within `wait`.
    pub fn recv_within(&mut self, wait: Duration) -> Got {
        let deadline = Instant::now() + wait;
        loop {
            match Framer::default().parse(&self.buf) {
                Ok(Status::Complete(len)) => {
                    let frame: Vec<u8> = self.buf.drain(..len).collect();
                    self.received_frames.push(frame.clone());
                    return Got::Message(Received::parse(frame));
                }
                Ok(Status::Partial(_)) => {}
                Err(g) => panic!("the acceptor sent garbage: {}", g.error),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Got::Timeout;
            }
            self.stream
                .set_read_timeout(Some(left))
                .expect("read timeout");
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Got::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Got::Closed,
            }
        }
    }

    /// The next message; fails the test on close or timeout.
    pub fn recv(&mut self) -> Received {
        match self.recv_within(WAIT) {
            Got::Message(m) => m,
            other => panic!("{}: expected a message, got {other:?}", self.sender),
        }
    }

    /// The next message, which must have MsgType `msg_type`; heartbeats are skipped
    /// unless asked for.
    pub fn expect(&mut self, msg_type: &str) -> Received {
        loop {
            let m = self.recv();
            if m.msg_type() == "0" && msg_type != "0" {
                continue;
            }
            assert_eq!(
                m.msg_type(),
                msg_type,
                "{}: expected MsgType {msg_type}, got {:?}",
                self.sender,
                String::from_utf8_lossy(&m.bytes)
            );
            return m;
        }
    }

    /// True when the acceptor closes the connection within `wait` without sending
    /// anything; fails if a message arrives.
    pub fn closed_silently_within(&mut self, wait: Duration) -> bool {
        match self.recv_within(wait) {
            Got::Closed => true,
            Got::Timeout => false,
            Got::Message(m) => panic!(
                "expected a silent close, got {:?}",
                String::from_utf8_lossy(&m.bytes)
            ),
        }
    }

    /// The acceptor refuses the Logon with a Logout whose Text contains `why`, then
    /// closes; returns the Logout.
    pub fn refused_with_logout(&mut self, why: &str) -> Received {
        let logout = self.expect("5");
        let text = logout.get(tags::TEXT).unwrap_or("");
        assert!(
            text.starts_with("Logon refused: ") && text.contains(why),
            "Logout Text {text:?} should give why: {why:?}"
        );
        assert!(
            matches!(self.recv_within(WAIT), Got::Closed),
            "the acceptor closes after the refusal"
        );
        logout
    }

    /// Sends Logout and waits for the acceptor's Logout and close.
    pub fn logout(&mut self) {
        self.send(&Message::new("5"));
        self.expect("5");
        assert!(
            matches!(self.recv_within(WAIT), Got::Closed),
            "the acceptor should close after the Logout exchange"
        );
    }

    /// A second handle on the socket, to write from another thread.
    pub fn raw_stream(&self) -> TcpStream {
        self.stream.try_clone().expect("clone the socket")
    }

    /// Drops the connection without a Logout.
    pub fn drop_connection(self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// A NewOrderSingle with ClOrdID `id`.
pub fn order(id: &str) -> Message {
    Message::new("D")
        .with(tags::CL_ORD_ID, id)
        .with(tags::SIDE, '1')
        .with(tags::SYMBOL, "IBM")
        .with(tags::TRANSACT_TIME, "20261125-12:00:00.000")
        .with(tags::ORDER_QTY, 100u32)
        .with(tags::ORD_TYPE, '1')
}

/// An application that fills every NewOrderSingle with an ExecutionReport and
/// records what it saw.
#[derive(Clone, Default)]
pub struct OrderApp {
    pub log: Arc<Mutex<AppLog>>,
}

#[derive(Default, Debug)]
pub struct AppLog {
    pub orders: Vec<String>,
    pub states: Vec<(SessionState, SessionState)>,
    pub logons: usize,
    /// Messages handed back by `on_send_failed`, with the error.
    pub send_failures: Vec<(String, String)>,
    /// What was told about the message log.
    pub log_events: Vec<fixengine::SessionEvent>,
}

impl Application for OrderApp {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        if message.msg_type() != b"D" {
            let _ = reply.business_reject(message, 3, "Unsupported Message Type");
            return;
        }
        let cl_ord_id = message.get_str(tags::CL_ORD_ID).unwrap_or("?").to_owned();
        let n = {
            let mut log = self.log.lock().unwrap();
            log.orders.push(cl_ord_id.clone());
            log.orders.len()
        };
        let report = Message::new("8")
            .with(tags::ORDER_ID, format!("O{n}"))
            .with(tags::CL_ORD_ID, cl_ord_id.as_str())
            .with(tags::EXEC_ID, format!("E{n}"))
            .with(tags::EXEC_TYPE, '2')
            .with(tags::ORD_STATUS, '2')
            .with(tags::SIDE, '1')
            .with(tags::SYMBOL, "IBM")
            .with(tags::ORDER_QTY, 100u32)
            .with(tags::LEAVES_QTY, 0u32)
            .with(tags::CUM_QTY, 100u32)
            .with(tags::AVG_PX, "1.5");
        reply.send(&report).expect("ExecutionReport sent");
    }

    fn on_state_change(&mut self, from: SessionState, to: SessionState) {
        self.log.lock().unwrap().states.push((from, to));
    }

    fn on_event(&mut self, event: &fixengine::SessionEvent) {
        match event {
            fixengine::SessionEvent::LoggedOn { .. } => self.log.lock().unwrap().logons += 1,
            fixengine::SessionEvent::MessageLogFailed { .. }
            | fixengine::SessionEvent::MessageLogResumed { .. } => {
                self.log.lock().unwrap().log_events.push(event.clone());
            }
            _ => {}
        }
    }

    fn on_send_failed(&mut self, message: Message, error: fixengine::session::SendError) {
        let headline = message.get_str(tags::HEADLINE).unwrap_or("").to_owned();
        self.log
            .lock()
            .unwrap()
            .send_failures
            .push((headline, error.to_string()));
    }
}

/// Polls `cond` every few milliseconds until it holds or `WAIT` passes.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// An engine whose stores live in a temporary folder removed after the test.
pub struct TestEngine {
    engine: Option<fixengine::FixEngine>,
    dir: tempfile::TempDir,
}

impl TestEngine {
    /// Starts an engine on `config`, storing under a fresh temporary folder.
    pub fn start(config: fixengine::EngineConfig) -> (Self, SocketAddr) {
        Self::start_with(config, fixengine::FixEngine::new)
    }

    /// As [`TestEngine::start`], with `manager` in place from the first connection.
    pub fn start_managed(
        config: fixengine::EngineConfig,
        manager: impl fixengine::SessionsManager,
    ) -> (Self, SocketAddr) {
        Self::start_with(config, |c| {
            fixengine::FixEngine::with_sessions_manager(c, manager)
        })
    }

    fn start_with(
        config: fixengine::EngineConfig,
        new: impl FnOnce(
            fixengine::EngineConfig,
        ) -> Result<fixengine::FixEngine, fixengine::EngineError>,
    ) -> (Self, SocketAddr) {
        let dir = tempfile::tempdir().expect("temporary folder");
        // A folder of its own inside the temporary one, so a test can check that
        // nothing is written beside it.
        let root = dir.path().join("store");
        let engine = new(config.with_storage_directory(root)).expect("engine starts");
        let addr = engine.local_addrs()[0];
        (
            Self {
                engine: Some(engine),
                dir,
            },
            addr,
        )
    }

    /// The StorageDirectory the engine runs on.
    pub fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("store")
    }

    /// Shuts the engine down, keeping the folder until the end of the test.
    pub fn shutdown(&mut self) {
        if let Some(engine) = self.engine.take() {
            engine.shutdown();
        }
    }
}

impl std::ops::Deref for TestEngine {
    type Target = fixengine::FixEngine;

    fn deref(&self) -> &fixengine::FixEngine {
        self.engine.as_ref().expect("the engine is running")
    }
}

/// Our CompID in the engine tests: the acceptor is TEST1.
pub const OURS: &str = "TEST1";
/// The counterparty's CompID: the initiator is TEST2.
pub const THEIRS: &str = "TEST2";

/// An engine configuration for tests: an ephemeral port on 127.0.0.1 and a short
/// Logon timeout.
pub fn config() -> fixengine::EngineConfig {
    fixengine::EngineConfig::default()
        .listen_port(0)
        .with_listen_address(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        .with_logon_timeout(Duration::from_millis(500))
}

/// Starts an engine on `config` with its stores in a temporary folder.
pub fn engine_with(config: fixengine::EngineConfig) -> (TestEngine, SocketAddr) {
    TestEngine::start(config)
}

/// A connected TEST1/TEST2 FIX.4.4 session running `app`.
pub fn session<A: Application>(engine: &fixengine::FixEngine, app: A) -> fixengine::Session {
    let s = engine
        .create_session(
            fixengine::SessionId::from_static(OURS, THEIRS),
            FixVersion::Fix44,
            app,
        )
        .expect("session created");
    s.connect().expect("registered");
    s
}

/// A connected TEST1/TEST2 FIX.4.4 session running `app` with `config` rather
/// than the engine's.
pub fn session_with_config<A: Application>(
    engine: &TestEngine,
    app: A,
    config: fixengine::SessionConfig,
) -> fixengine::Session {
    let s = engine
        .create_session_with(
            fixengine::SessionId::from_static(OURS, THEIRS),
            FixVersion::Fix44,
            app,
            fixengine::SessionParams::default().with_config(config),
        )
        .expect("session created");
    s.connect().expect("registered");
    s
}

/// Another counterparty, `name`, trading beside TEST2: its TEST1/`name` FIX.4.4
/// session (running an [`OrderApp`], connected) and its initiator, logged on.
/// Keep the session: dropping its last handle finalizes it.
pub fn counterparty(
    engine: &TestEngine,
    addr: SocketAddr,
    name: &str,
) -> (fixengine::Session, Initiator) {
    let s = engine
        .create_session(
            fixengine::SessionId::new(OURS, name).expect("a valid CompID"),
            FixVersion::Fix44,
            OrderApp::default(),
        )
        .expect("session created");
    s.connect().expect("registered");
    let mut client = Initiator::connect(addr, name, OURS, FixVersion::Fix44);
    client.logon(30);
    (s, client)
}

/// An initiator logging on as TEST2 to TEST1.
pub fn initiator(addr: SocketAddr) -> Initiator {
    Initiator::connect(addr, THEIRS, OURS, FixVersion::Fix44)
}
