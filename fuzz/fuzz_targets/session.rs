//! The session state machine driven by a small bytecode: frames from the
//! counterparty, raw bytes, the passage of time, application sends, logout,
//! reconnects. Every call is followed by draining `poll_transmit` and what the
//! handler was told, and the outbound stream and the machine's state are checked.
//!
//! Input layout: `[config] [config2] op...`
//! - `config` bits 0-2 pick the FixVersion (`FixVersion::ALL`), bit 3
//!   ResetSeqNumOnLogon, bit 4 ResetSeqNumOnLogout, bit 5 ResetSeqNumOnDisconnect,
//!   bit 6 EnableNextExpectedMsgSeqNum, bit 7 "lazy" draining (one `poll_transmit`
//!   per call, so a resend in batches stays in progress across calls);
//! - `config2` bit 0 turns CheckSendingTime off, bit 1 ValidateFieldsHaveValues off.
//! - ops, `op % 16`: 0-5 and 15 a well-formed frame from TW (6 argument bytes, see
//!   `Driver::build_frame`); 6 raw bytes `[mode][len][len bytes]` (mode bit 0: behind
//!   a valid header and trailer, else cut by `Framer` as a read loop would); 7-8
//!   advance time by `[hi][lo]` scaled to 0-60 s, running the timers that fall due;
//!   9 an application send `[kind]`; 10 a burst of sends `[count]`; 11 logout
//!   `[text?]`; 12 disconnect and/or connect `[mode]`; 13 drain `poll_transmit` until
//!   empty; 14 flood `[n]` Heartbeats ahead of a gap (up to past `MAX_QUEUED`).
//!
//! Asserts (see `Driver::settle`): every byte written is complete frames of the
//! session's BeginString from ISLD to TW, with no field problem (no empty value);
//! non-PossDup MsgSeqNums go up by one (numbers
//! stored while not logged on are skipped on the wire; back to 1 only after a Logon
//! with ResetSeqNumFlag=Y or a reset policy); PossDup frames are GapFills or
//! application messages numbered below the next outbound number, a GapFill never
//! moving the counterparty beyond it; the store's next sender and target numbers fall
//! only on such resets; nothing new is sent once `wants_close`; state changes told
//! chain and match `state()`; application messages are told only after the state
//! told is Established or WaitForLogout; `close_reason` is set exactly while
//! `wants_close` and does not change until the disconnect; `poll_timeout()` is Some exactly while connected and not closing,
//! is in the future after `handle_timeout`, and an early `handle_timeout` does
//! nothing; a refused Logon changes no sequence number; application messages reach
//! the handler once, in increasing MsgSeqNum order; a "MsgSeqNum too low" Logout
//! names only the frame just fed, and only when it was too low on arrival (a
//! message queued behind a gap is never processed below the expected number); the
//! HeartBtInt of a LoggedOn
//! event is `heart_bt_int()`; one queue-overflow Logout per connection; stored
//! messages and events stay proportional to the work fed in.
//!
//! Env: `SESSION_TRACE=1` prints calls, frames and events; `SESSION_KNOWN=a,b` skips
//! the checks of known bugs (names in fuzz/README.md) to fuzz past them.

#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use fixengine::session::{Handler, MAX_QUEUED, Reply, SessionEvent, SessionMachine, State};
use fixengine::store::{MemoryStore, MessageStore};
use fixengine::clock::ManualClock;
use fixengine::{
    Clock, Decoder, Encoder, Fields, FixVersion, Framer, Message, MessageView,
    SessionConfig, SessionId, Status, TimePrecision, UtcTimestamp, msg_type, tags,
};
use libfuzzer_sys::fuzz_target;

const T0: &[u8] = b"20261125-20:16:27.000";
const LOGON_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_OPS: usize = 256;
/// Application sends per input, bursts included.
const MAX_SENDS: usize = 2_000;
/// Frames fed per input, floods included.
const MAX_FRAMES: usize = 12_000;

const TYPES: [&[u8]; 10] = [b"A", b"0", b"1", b"2", b"3", b"4", b"5", b"D", b"j", b"B"];
/// Text(58) of the Logout sent when MAX_QUEUED messages wait behind a gap.
const QUEUE_FULL: &[u8] = b"too many messages queued behind a sequence gap";
/// The start of Text(58) of the Logout for a MsgSeqNum too low; it ends with
/// "received <MsgSeqNum>".
const TOO_LOW: &str = "MsgSeqNum too low, expecting ";
const ORDER: &[u8] = b"11=ID\x0121=3\x0140=1\x0154=1\x0155=INTC\x01";

/// The application: echoes orders, business-rejects the rest, refuses a Logon that
/// carries Text(58), and records what it is given.
#[derive(Default)]
struct App {
    version: Option<FixVersion>,
    /// MsgSeqNums delivered during the current step.
    delivered: Vec<u64>,
    logons_asked: usize,
    /// State changes and events told during the current step, in order.
    told: Vec<Told>,
    /// The last state told.
    state: Option<State>,
}

#[derive(Debug)]
enum Told {
    State(State, State),
    Event(SessionEvent),
}

impl Handler for App {
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        self.logons_asked += 1;
        assert_eq!(logon.msg_type(), b"A");
        if logon.contains(tags::TEXT) {
            Err("the application refuses".into())
        } else {
            Ok(())
        }
    }

    fn on_state_change(&mut self, from: State, to: State) {
        self.told.push(Told::State(from, to));
        self.state = Some(to);
    }

    fn on_event(&mut self, event: &SessionEvent) {
        self.told.push(Told::Event(event.clone()));
    }

    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        // One ordered stream: the Logon's state change comes before any message.
        assert!(
            matches!(self.state, Some(State::Established | State::WaitForLogout)),
            "application message told in state {:?}: {:?}",
            self.state,
            self.told
        );
        assert!(
            !message.is_admin(),
            "session message {:?} given to the application",
            String::from_utf8_lossy(message.msg_type())
        );
        let version = self.version.unwrap();
        assert_eq!(message.begin_string(), version.begin_string().as_bytes());
        let seq = message
            .msg_seq_num()
            .expect("application message without a valid MsgSeqNum delivered")
            .get();
        self.delivered.push(seq);
        if message.msg_type() == b"D" {
            let mut echo = Message::new("D");
            for f in message.body() {
                echo.push(f.tag, f.value);
            }
            // An echo the codec refuses uses no number; the driver checks that.
            let _ = reply.send(&echo);
        } else {
            reply
                .business_reject(message, 3, "Unsupported Message Type")
                .expect("business reject");
        }
    }
}

/// Reads the input; missing bytes read as 0.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

#[derive(Clone, Copy)]
struct Cfg {
    version: FixVersion,
    reset_on_logon: bool,
    reset_on_logout: bool,
    reset_on_disconnect: bool,
    next_expected: bool,
    lazy: bool,
}

/// What the driver knows before a machine call, for `settle`.
#[derive(Default)]
struct Step {
    /// Numbers the call used for messages stored but not transmitted.
    silent: u64,
    /// A reset of the sequence numbers is legitimate during this call.
    reset_allowed: bool,
    /// This call is `handle_disconnect` (`handle_connect` is checked separately).
    disconnect: bool,
    /// The frame fed is a Logon (it may be refused).
    logon_fed: bool,
    /// The MsgSeqNum of the frame fed, when it was below the expected number as
    /// it arrived: the only message a "MsgSeqNum too low" Logout may name.
    fed_too_low: Option<u64>,
}

struct Driver {
    m: SessionMachine<MemoryStore>,
    clock: ManualClock,
    now: Instant,
    cfg: Cfg,
    app: App,
    framer: Framer,
    decoder: Decoder,
    /// The MsgSeqNum the next non-PossDup outbound message must carry.
    wire_next: u64,
    /// The state as told to the handler.
    state: State,
    /// `close_reason()` after the last call.
    close_reason: Option<String>,
    /// Logouts for a full gap queue sent on this connection.
    overflow_logouts: usize,
    last_delivered: Option<u64>,
    prev_target: u64,
    sends: usize,
    frames_fed: usize,
    steps: usize,
    events_total: usize,
    counter: u64,
}

/// `SESSION_TRACE=1` prints every call and every frame written, to read a crash.
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SESSION_TRACE").is_some())
}

/// Known bugs (see fuzz/README.md) whose checks are skipped when their names are in
/// `SESSION_KNOWN` (comma-separated), to keep fuzzing past them; by default every
/// check is on.
fn known(bug: &str) -> bool {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("SESSION_KNOWN")
                .map(|v| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default()
        })
        .iter()
        .any(|k| k == bug)
}

fn is_admin(mt: &[u8]) -> bool {
    matches!(mt, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
}

impl Driver {
    fn new(cfg: Cfg, config: SessionConfig, now: Instant) -> Self {
        let clock = ManualClock::new(UtcTimestamp::parse(T0).unwrap());
        let m = SessionMachine::new(
            SessionId::from_static("ISLD", "TW"),
            cfg.version,
            config,
            MemoryStore::new(),
            Arc::new(clock.clone()),
            now,
        );
        Self {
            m,
            clock,
            now,
            cfg,
            app: App {
                version: Some(cfg.version),
                ..App::default()
            },
            framer: Framer::default(),
            decoder: Decoder::new(),
            wire_next: 1,
            state: State::Disconnected,
            close_reason: None,
            overflow_logouts: 0,
            last_delivered: None,
            prev_target: 1,
            sends: 0,
            frames_fed: 0,
            steps: 0,
            events_total: 0,
            counter: 0,
        }
    }

    fn connect(&mut self) {
        assert_eq!(self.m.state(), State::Disconnected);
        self.m.handle_connect(self.now, LOGON_TIMEOUT, &mut self.app);
        self.close_reason = None;
        self.overflow_logouts = 0;
        assert!(!self.m.wants_close());
        assert_eq!(self.m.poll_timeout(), Some(self.now + LOGON_TIMEOUT));
        assert_eq!(self.wire_next, self.m.store().next_sender_seq());
        self.settle(Step::default(), false);
    }

    /// Drains the machine after a call and checks everything. `closing_before` is
    /// `wants_close()` before the call.
    fn settle(&mut self, step: Step, closing_before: bool) {
        self.steps += 1;
        let sender_before = self.wire_next;
        let (target_before, stored_before) = (self.prev_target, self.m.store().len());

        // The bytes.
        let mut out = Vec::new();
        let n = self.m.poll_transmit(&mut out, &mut self.app).expect("poll_transmit");
        assert_eq!(n, out.len());
        if !self.cfg.lazy {
            while self.m.poll_transmit(&mut out, &mut self.app).expect("poll_transmit") > 0 {}
        }
        // What the handler was told.
        let told = std::mem::take(&mut self.app.told);
        if trace() {
            for t in &told {
                eprintln!("  told {t:?}");
            }
        }
        let events: Vec<&SessionEvent> = told
            .iter()
            .filter_map(|t| match t {
                Told::Event(e) => Some(e),
                Told::State(..) => None,
            })
            .collect();
        self.events_total += events.len();
        let logon_reset = events
            .iter()
            .any(|e| matches!(e, SessionEvent::LoggedOn { reset: true, .. }));
        let logged_out = events
            .iter()
            .any(|e| matches!(e, SessionEvent::LoggedOut { .. }));
        let refused = events
            .iter()
            .any(|e| matches!(e, SessionEvent::LogonRefused { .. }));
        let reset_allowed = step.reset_allowed
            || logon_reset
            || (self.cfg.reset_on_logout && logged_out)
            || (self.cfg.reset_on_disconnect && step.disconnect);

        let mut non_dup_frames = 0;
        let mut buf = &out[..];
        while !buf.is_empty() {
            let len = match self.framer.parse(buf) {
                Ok(Status::Complete(len)) => len,
                other => panic!(
                    "the machine wrote bytes that are not a complete frame ({other:?}): {:?}",
                    String::from_utf8_lossy(buf)
                ),
            };
            let frame = &buf[..len];
            buf = &buf[len..];
            let view = self
                .decoder
                .decode(frame)
                .unwrap_or_else(|e| panic!("outbound frame does not decode ({e}): {frame:?}"));
            let shown = String::from_utf8_lossy(frame).replace('\x01', "|");
            if trace() {
                eprintln!("  out {shown}");
            }
            assert_eq!(
                view.begin_string(),
                self.cfg.version.begin_string().as_bytes(),
                "{shown}"
            );
            assert_eq!(view.sender_comp_id(), Some(&b"ISLD"[..]), "{shown}");
            assert_eq!(view.target_comp_id(), Some(&b"TW"[..]), "{shown}");
            assert!(
                view.problem().is_none() || known("empty-field"),
                "outbound field problem {:?}: {shown}",
                view.problem()
            );
            let seq = view
                .msg_seq_num()
                .unwrap_or_else(|e| panic!("outbound MsgSeqNum: {e}: {shown}"))
                .get();
            let mt = view.msg_type();
            if view.is_poss_dup() && !known("reset-during-resend") {
                assert!(
                    seq < self.wire_next,
                    "PossDup frame numbered {seq}, not below the next outbound {}: {shown}",
                    self.wire_next
                );
                assert!(view.contains(tags::ORIG_SENDING_TIME), "{shown}");
                if mt == msg_type::SEQUENCE_RESET {
                    assert_eq!(view.get_bool(tags::GAP_FILL_FLAG), Ok(true), "{shown}");
                    let new_seq = view.get_u64(tags::NEW_SEQ_NO).expect("NewSeqNo");
                    assert!(
                        new_seq > seq && new_seq <= self.wire_next,
                        "GapFill {seq} -> {new_seq} with next outbound {}: {shown}",
                        self.wire_next
                    );
                } else {
                    assert!(!is_admin(mt), "session message resent: {shown}");
                }
            } else if view.is_poss_dup() {
                // A known bug's resend after a reset: not checked.
            } else {
                assert!(
                    !closing_before || known("logout-after-close"),
                    "new message sent after wants_close(): {shown}"
                );
                if seq == 1 && self.wire_next != 1 && reset_allowed {
                    self.wire_next = 1;
                }
                assert_eq!(
                    seq, self.wire_next,
                    "outbound MsgSeqNum {seq}, expected {} (step {}): {shown}",
                    self.wire_next, self.steps
                );
                if view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true) {
                    assert_eq!(mt, msg_type::LOGON, "{shown}");
                    assert_eq!(seq, 1, "{shown}");
                }
                self.wire_next += 1;
                non_dup_frames += 1;
                // The queue bound ends the session once: not one Logout per frame
                // that arrives past it.
                if mt == msg_type::LOGOUT && view.get(tags::TEXT) == Some(QUEUE_FULL) {
                    self.overflow_logouts += 1;
                    assert!(
                        self.overflow_logouts == 1 || known("logout-per-frame-past-max-queued"),
                        "a second queue-overflow Logout on one connection: {shown}"
                    );
                }
                // A message queued behind a gap was not too low when it arrived; a
                // SequenceReset that moved past it covered it: it is never processed
                // as too low.
                if mt == msg_type::LOGOUT
                    && let Some(received) = view
                        .get_str(tags::TEXT)
                        .ok()
                        .filter(|t| t.starts_with(TOO_LOW))
                        .and_then(|t| t.rsplit(' ').next()?.parse::<u64>().ok())
                {
                    assert_eq!(
                        step.fed_too_low,
                        Some(received),
                        "MsgSeqNum {received} processed as too low, but it was not when it arrived: {shown}"
                    );
                }
            }
        }
        if step.silent > 0 {
            assert_eq!(non_dup_frames, 0, "a send that was not to be transmitted was");
            self.wire_next += step.silent;
        }

        // Sequence numbers.
        let store = self.m.store();
        let (next_sender, next_target) = (store.next_sender_seq(), store.next_target_seq());
        if next_sender == 1 && reset_allowed {
            // A reset policy after the last message sent (Logout, disconnect).
            self.wire_next = next_sender;
        }
        assert_eq!(
            next_sender, self.wire_next,
            "store's next sender {next_sender} vs numbers seen on the wire"
        );
        if next_sender < sender_before || next_target < target_before {
            assert!(
                reset_allowed,
                "sequence numbers fell ({sender_before}->{next_sender}, {target_before}->{next_target}) without a reset"
            );
        }
        self.prev_target = next_target;
        if refused {
            assert!(step.logon_fed);
            assert!(out.is_empty(), "a refused Logon is not answered");
            assert_eq!(next_sender, sender_before, "a refused Logon changed numbers");
            assert_eq!(next_target, target_before, "a refused Logon changed numbers");
            assert_eq!(store.len(), stored_before);
        }

        // Deliveries: once each, increasing.
        if logon_reset {
            self.last_delivered = None;
        }
        for seq in std::mem::take(&mut self.app.delivered) {
            assert!(
                self.last_delivered.is_none_or(|l| seq > l),
                "application message {seq} delivered after {:?}",
                self.last_delivered
            );
            self.last_delivered = Some(seq);
        }
        if reset_allowed {
            self.last_delivered = None;
        }

        // Events and state.
        assert!(
            self.state != State::Disconnected || out.is_empty(),
            "bytes written while disconnected"
        );
        for t in &told {
            if let Told::State(from, to) = t {
                assert_eq!(*from, self.state, "state change chain broken: {told:?}");
                assert_ne!(from, to);
                self.state = *to;
            }
        }
        // The HeartBtInt announced is the one the timers run on.
        if let Some(hbi) = events.iter().rev().find_map(|e| match e {
            SessionEvent::LoggedOn { heart_bt_int, .. } => Some(*heart_bt_int),
            _ => None,
        }) && !known("reset-logon-heart-bt-int")
        {
            assert_eq!(
                self.m.heart_bt_int(),
                Duration::from_secs(u64::from(hbi)),
                "LoggedOn says HeartBtInt {hbi}, the session runs on {:?}",
                self.m.heart_bt_int()
            );
        }
        assert_eq!(self.state, self.m.state(), "{told:?}");
        let reason = self.m.close_reason().map(str::to_owned);
        assert_eq!(self.m.wants_close(), reason.is_some());
        if closing_before && !step.disconnect {
            assert_eq!(reason, self.close_reason, "the close reason changed");
        }
        self.close_reason = reason;
        let active = matches!(
            self.m.state(),
            State::Established | State::WaitForLogon | State::WaitForLogout
        ) && !self.m.wants_close();
        assert_eq!(
            self.m.poll_timeout().is_some(),
            active,
            "poll_timeout {:?} in {:?}, wants_close {}",
            self.m.poll_timeout(),
            self.m.state(),
            self.m.wants_close()
        );

        // Bounded: stored messages and events grow with the work fed in.
        let work = self.sends + 8 * (self.frames_fed + self.steps) + 8;
        assert!(self.m.store().len() <= work, "store holds {}", self.m.store().len());
        assert!(self.events_total <= work, "{} events", self.events_total);
    }

    fn expected_in(&self) -> u64 {
        self.m.store().next_target_seq()
    }

    /// A well-formed frame from TW. `a`: [type + variant, seq, flags, v1, v2, odd].
    fn build_frame(&self, a: [u8; 6]) -> Vec<u8> {
        let mt = TYPES[usize::from(a[0] % 10)];
        let variant = a[0] / 10;
        let expected = self.expected_in();
        let seq: Option<u64> = match a[1] % 8 {
            d @ 0..=5 => Some((expected + u64::from(d)).saturating_sub(2)),
            6 => Some(1),
            _ if a[1] & 0x80 != 0 => None,
            _ => Some(expected + 4 + u64::from(a[1] >> 3) * 37),
        };
        let flags = a[2];
        let (v1, v2, odd) = (a[3], a[4], a[5]);
        let poss_dup = flags & 1 != 0;
        let orig_time = flags & 2 != 0;
        let gap_fill = flags & 4 != 0;
        let reset = flags & 8 != 0;
        let omit_main = flags & 16 != 0;
        let extra = flags & 32 != 0;
        let alt = flags & 64 != 0;
        let oddity = flags & 128 != 0;

        let now = self.clock.now_utc();
        let shift = |t: UtcTimestamp, secs: i64| {
            UtcTimestamp::from_unix(t.unix_secs() + secs, t.subsec_nanos())
        };
        let (mut begin, mut sender, mut target) = (self.cfg.version.begin_string(), "TW", "ISLD");
        let mut sending_time = Some(now);
        if oddity {
            match odd % 6 {
                0 => sender = "WT",
                1 => target = "XX",
                2 => {
                    begin = if begin == "FIX.4.4" {
                        "FIX.4.2"
                    } else {
                        "FIX.4.4"
                    }
                }
                3 => sending_time = Some(shift(now, -121)),
                4 => sending_time = Some(shift(now, 121)),
                _ => sending_time = None,
            }
        }
        let mut out = Vec::new();
        let mut e = Encoder::start(&mut out, begin, mt);
        if let Some(s) = seq {
            e.uint(tags::MSG_SEQ_NUM, s);
        }
        if poss_dup {
            e.bool(tags::POSS_DUP_FLAG, true);
        }
        e.str(tags::SENDER_COMP_ID, sender);
        if let Some(t) = sending_time {
            e.timestamp(tags::SENDING_TIME, t, TimePrecision::Millis);
        }
        e.str(tags::TARGET_COMP_ID, target);
        if orig_time {
            let base = sending_time.unwrap_or(now);
            match odd >> 6 {
                0 => e.timestamp(tags::ORIG_SENDING_TIME, shift(base, -i64::from(odd & 63)), TimePrecision::Millis),
                1 => e.timestamp(tags::ORIG_SENDING_TIME, shift(base, i64::from(odd & 63) + 1), TimePrecision::Millis),
                2 => e.timestamp(tags::ORIG_SENDING_TIME, base, TimePrecision::Seconds),
                _ => e.str(tags::ORIG_SENDING_TIME, "x"),
            };
        }
        let test_req_id = if alt {
            format!("T{v2}")
        } else {
            "TEST".to_owned()
        };
        match mt {
            b"A" => {
                e.uint(tags::ENCRYPT_METHOD, u64::from(variant % 8 == 7));
                if !omit_main {
                    let hbi = match v1 >> 6 {
                        0 => 30,
                        1 => 1,
                        2 => 0,
                        _ => u64::from(v2) * 17,
                    };
                    e.uint(tags::HEART_BT_INT, hbi);
                }
                if reset {
                    e.bool(tags::RESET_SEQ_NUM_FLAG, true);
                }
                if extra {
                    e.str(tags::TEXT, "refuse me");
                }
                if alt {
                    let n = (self.wire_next + u64::from(v2 % 6)).saturating_sub(3);
                    e.uint(tags::NEXT_EXPECTED_MSG_SEQ_NUM, n);
                }
                if let Some(id) = self.cfg.version.appl_ver_id() {
                    if variant % 4 != 3 {
                        e.str(tags::DEFAULT_APPL_VER_ID, id);
                    }
                }
            }
            b"0" | b"1" => {
                if extra {
                    e.str(tags::TEST_REQ_ID, &test_req_id);
                }
            }
            b"2" => {
                let begin_no = match v1 % 4 {
                    0 => 1,
                    1 => self.wire_next.saturating_sub(u64::from(v2 % 8)),
                    2 => 0,
                    _ => u64::from(v2) * 9,
                };
                let end_no = match v2 >> 5 {
                    0..=2 => 0,
                    3 => 999_999,
                    4 => begin_no + u64::from(v1 % 4),
                    5 => self.wire_next + 3,
                    6 => 1,
                    _ => u64::MAX / 2,
                };
                if !omit_main {
                    e.uint(tags::BEGIN_SEQ_NO, begin_no);
                }
                if !alt {
                    e.uint(tags::END_SEQ_NO, end_no);
                }
            }
            b"3" => {
                e.uint(tags::REF_SEQ_NUM, self.wire_next.saturating_sub(1));
                e.str(tags::TEXT, "no");
            }
            b"4" => {
                let s = seq.unwrap_or(0);
                if !omit_main {
                    match v1 % 8 {
                        0 => e.uint(tags::NEW_SEQ_NO, expected),
                        1 => e.uint(tags::NEW_SEQ_NO, expected + 1),
                        2 => e.uint(tags::NEW_SEQ_NO, expected + 5),
                        3 => e.uint(tags::NEW_SEQ_NO, expected.saturating_sub(1)),
                        4 => e.uint(tags::NEW_SEQ_NO, 0),
                        5 => e.uint(tags::NEW_SEQ_NO, s + 1),
                        6 => e.str(tags::NEW_SEQ_NO, "x"),
                        _ => e.uint(tags::NEW_SEQ_NO, expected + u64::from(v2) * 13),
                    };
                }
                if gap_fill {
                    e.bool(tags::GAP_FILL_FLAG, true);
                } else if alt {
                    e.bool(tags::GAP_FILL_FLAG, false);
                }
            }
            b"5" => {
                if extra {
                    e.str(tags::TEXT, "bye");
                }
            }
            b"D" => {
                e.raw(ORDER);
                if extra {
                    match v1 % 4 {
                        0 => e.raw(b"58=\x01"),
                        1 => e.raw(b"x9=1\x01"),
                        2 => e.raw(b"115=JCD\x01"),
                        _ => e.uint(tags::PRICE, u64::from(v2)),
                    };
                }
            }
            b"j" => {
                e.uint(tags::REF_SEQ_NUM, self.wire_next.saturating_sub(1))
                    .str(tags::REF_MSG_TYPE, "D")
                    .uint(tags::BUSINESS_REJECT_REASON, u64::from(v1 % 8));
            }
            _ => {
                e.str(148, "news");
            }
        }
        e.finish();
        out
    }

    /// Feeds one complete frame.
    fn feed(&mut self, frame: &[u8]) {
        self.frames_fed += 1;
        if trace() {
            eprintln!("feed {}", String::from_utf8_lossy(frame).replace('\x01', "|"));
        }
        // What the frame is, to know whether a reset may follow.
        let expected = self.expected_in();
        let (logon_fed, reset_flag, fed_too_low) = match self.decoder.decode(frame) {
            Ok(v) => (
                v.msg_type() == msg_type::LOGON,
                v.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true),
                v.msg_seq_num().ok().map(|s| s.get()).filter(|&s| s < expected),
            ),
            Err(_) => (false, false, None),
        };
        let closing = self.m.wants_close();
        let state = self.m.state();
        self.m
            .handle_frame(self.now, frame, &mut self.app)
            .expect("handle_frame");
        let reset_allowed = logon_fed
            && (reset_flag || (self.cfg.reset_on_logon && state == State::WaitForLogon));
        self.settle(
            Step {
                reset_allowed,
                logon_fed,
                fed_too_low,
                ..Step::default()
            },
            closing,
        );
    }

    fn handle_timeout(&mut self) {
        let closing = self.m.wants_close();
        let early = self.m.poll_timeout().is_some_and(|t| self.now < t);
        let (sent, stored) = (self.m.store().next_sender_seq(), self.m.store().len());
        let state = self.m.state();
        self.m
            .handle_timeout(self.now, &mut self.app)
            .expect("handle_timeout");
        if early {
            // What was told was drained by the last settle (poll_transmit included);
            // handle_timeout itself must tell nothing.
            assert!(
                self.app.told.is_empty(),
                "an early handle_timeout told {:?}",
                self.app.told
            );
        }
        if let Some(t) = self.m.poll_timeout() {
            assert!(
                t > self.now,
                "poll_timeout {t:?} is not after now {:?} right after handle_timeout ({:?}, HeartBtInt {:?}): the timer loop would spin",
                self.now,
                self.m.state(),
                self.m.heart_bt_int()
            );
        }
        self.settle(Step::default(), closing);
        if early {
            assert_eq!(self.m.store().next_sender_seq(), sent, "an early handle_timeout sent");
            assert_eq!(self.m.store().len(), stored);
            assert_eq!(self.m.state(), state);
        }
    }

    /// Moves both clocks by `d`, running every timer that falls due on the way, then
    /// one spurious `handle_timeout`.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        let mut rounds = 0;
        while let Some(at) = self.m.poll_timeout().filter(|&at| at <= end) {
            rounds += 1;
            assert!(rounds <= 1_000, "timers keep firing: {rounds} rounds within {d:?}");
            let step = at.saturating_duration_since(self.now);
            self.clock.advance(step);
            self.now = at.max(self.now);
            self.handle_timeout();
        }
        self.clock.advance(end.saturating_duration_since(self.now));
        self.now = end;
        self.handle_timeout();
    }

    fn app_send(&mut self, kind: u8) {
        self.sends += 1;
        self.counter += 1;
        let message = match kind % 8 {
            0..=3 => Message::new("8").with(tags::EXEC_ID, self.counter),
            4 => Message::new("D")
                .with(tags::CL_ORD_ID, "O")
                .with(tags::SIDE, '1'),
            5 => Message::new("B").with(148, ""),
            6 => Message::new(TYPES[usize::from(kind >> 3) % 7]),
            _ => Message::new("j")
                .with(tags::REF_SEQ_NUM, u64::from(kind))
                .with(tags::TEXT, "x"),
        };
        let closing = self.m.wants_close();
        let transmitting =
            matches!(self.m.state(), State::Established | State::WaitForLogout) && !closing;
        let before = self.m.store().next_sender_seq();
        let result = self.m.send(self.now, &message);
        let silent = match &result {
            Ok(seq) => {
                assert_eq!(seq.get(), before, "send used MsgSeqNum {seq:?}");
                u64::from(!transmitting)
            }
            Err(_) => {
                assert!(matches!(kind % 8, 5 | 6), "send refused: {result:?}");
                assert_eq!(self.m.store().next_sender_seq(), before);
                0
            }
        };
        self.settle(
            Step {
                silent,
                ..Step::default()
            },
            closing,
        );
        if result.is_ok() && transmitting && !self.cfg.lazy {
            assert_eq!(self.wire_next, before + 1, "an application message was not sent");
        }
    }

    fn logout(&mut self, text: u8) {
        let closing = self.m.wants_close();
        let text = (text & 1 != 0).then_some("end of day");
        self.m
            .logout(self.now, text, &mut self.app)
            .expect("logout");
        self.settle(Step::default(), closing);
    }

    fn disconnect(&mut self) {
        let closing = self.m.wants_close();
        self.m
            .handle_disconnect(&mut self.app)
            .expect("handle_disconnect");
        assert_eq!(self.m.state(), State::Disconnected);
        assert_eq!(self.m.poll_timeout(), None);
        self.settle(
            Step {
                disconnect: true,
                ..Step::default()
            },
            closing,
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let c = input.byte();
    let c2 = input.byte();
    let cfg = Cfg {
        version: FixVersion::ALL[usize::from(c & 7)],
        reset_on_logon: c & 8 != 0,
        reset_on_logout: c & 16 != 0,
        reset_on_disconnect: c & 32 != 0,
        next_expected: c & 64 != 0,
        lazy: c & 128 != 0,
    };
    let config = SessionConfig::default()
        .with_reset_seq_num_on_logon(cfg.reset_on_logon)
        .with_reset_seq_num_on_logout(cfg.reset_on_logout)
        .with_reset_seq_num_on_disconnect(cfg.reset_on_disconnect)
        .with_enable_next_expected_msg_seq_num(cfg.next_expected)
        .with_check_sending_time(c2 & 1 == 0)
        .with_validate_fields_have_values(c2 & 2 == 0);

    // The one read of the monotonic clock: time only moves forward from here.
    #[allow(clippy::disallowed_methods)]
    let origin = Instant::now();
    let mut d = Driver::new(cfg, config, origin);
    d.connect();

    for _ in 0..MAX_OPS {
        if input.0.is_empty() {
            break;
        }
        let op = input.byte();
        if trace() {
            eprintln!("op {op} ({}), {:?} {:?}", op % 16, d.m.state(), d.now - origin);
        }
        match op % 16 {
            0..=5 | 15 => {
                let a: [u8; 6] = std::array::from_fn(|_| input.byte());
                if d.frames_fed < MAX_FRAMES {
                    let frame = d.build_frame(a);
                    d.feed(&frame);
                }
            }
            6 => {
                let mode = input.byte();
                let len = usize::from(input.byte());
                let bytes = input.bytes(len);
                if mode & 1 != 0 {
                    // Fuzzer fields behind a valid header and trailer.
                    let mt = TYPES[usize::from(mode >> 1) % 10];
                    let mut frame = Vec::new();
                    let mut e = Encoder::start(&mut frame, cfg.version.begin_string(), mt);
                    if mode & 0x80 == 0 {
                        e.uint(tags::MSG_SEQ_NUM, d.expected_in());
                    }
                    e.str(tags::SENDER_COMP_ID, "TW")
                        .timestamp(tags::SENDING_TIME, d.clock.now_utc(), TimePrecision::Millis)
                        .str(tags::TARGET_COMP_ID, "ISLD")
                        .raw(bytes);
                    if !bytes.is_empty() && !bytes.ends_with(b"\x01") {
                        e.raw(b"\x01");
                    }
                    e.finish();
                    if matches!(d.framer.parse(&frame), Ok(Status::Complete(n)) if n == frame.len()) {
                        d.feed(&frame);
                    }
                } else {
                    // A read loop: what the framer cuts out is fed.
                    let mut buf = bytes;
                    while !buf.is_empty() {
                        match d.framer.parse(buf) {
                            Ok(Status::Complete(n)) => {
                                let (frame, rest) = buf.split_at(n);
                                d.feed(frame);
                                buf = rest;
                            }
                            Ok(Status::Partial(_)) => break,
                            Err(g) => buf = &buf[g.len.min(buf.len())..],
                        }
                    }
                }
            }
            7 | 8 => {
                let hi = u64::from(input.byte());
                let lo = u64::from(input.byte());
                let ms = ((hi << 8) | lo) * 60_000 / 65_535;
                d.advance(Duration::from_millis(ms));
            }
            9 => {
                let kind = input.byte();
                if d.sends < MAX_SENDS {
                    d.app_send(kind);
                }
            }
            10 => {
                let n = usize::from(input.byte()) * 2;
                for i in 0..n {
                    if d.sends >= MAX_SENDS {
                        break;
                    }
                    d.app_send((i % 4) as u8);
                }
            }
            11 => {
                let t = input.byte();
                d.logout(t);
            }
            12 => {
                let mode = input.byte();
                match mode % 3 {
                    0 => {
                        d.disconnect();
                        d.connect();
                    }
                    1 => d.disconnect(),
                    _ => {
                        if d.m.state() == State::Disconnected {
                            d.connect();
                        } else {
                            d.disconnect();
                            d.connect();
                        }
                    }
                }
            }
            13 => {
                let closing = d.m.wants_close();
                // In lazy mode each settle takes one batch; keep going until dry.
                for _ in 0..64 {
                    d.settle(Step::default(), closing);
                }
            }
            _ => {
                // Heartbeats numbered past a gap at the expected number: queued.
                // Mostly small; from 208 on, past MAX_QUEUED.
                let b = usize::from(input.byte());
                let n = if b >= 208 { MAX_QUEUED + (b - 208) } else { b };
                let start = d.expected_in() + 1;
                for i in 0..n as u64 {
                    if d.frames_fed >= MAX_FRAMES || d.m.wants_close() {
                        break;
                    }
                    let mut f = Vec::new();
                    let mut e = Encoder::start(&mut f, cfg.version.begin_string(), b"0");
                    e.uint(tags::MSG_SEQ_NUM, start + i)
                        .str(tags::SENDER_COMP_ID, "TW")
                        .timestamp(tags::SENDING_TIME, d.clock.now_utc(), TimePrecision::Millis)
                        .str(tags::TARGET_COMP_ID, "ISLD");
                    e.finish();
                    d.feed(&f);
                }
            }
        }
    }
});
