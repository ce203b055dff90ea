//! The driver: the machine, the clock, the handler and what the checks remember
//! between calls; one method per kind of call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fixengine::clock::ManualClock;
use fixengine::session::{SessionMachine, State};
use fixengine::store::{MemoryStore, MessageStore};
use fixengine::{
    Decoder, Fields, FixVersion, Framer, Message, SessionConfig, SessionId, UtcTimestamp, msg_type,
    tags,
};

use crate::app::App;

const T0: &[u8] = b"20261125-20:16:27.000";
const LOGON_TIMEOUT: Duration = Duration::from_secs(5);
/// Application sends per input, bursts included.
pub(crate) const MAX_SENDS: usize = 2_000;
/// Frames fed per input, floods included.
pub(crate) const MAX_FRAMES: usize = 12_000;

pub(crate) const TYPES: [&[u8]; 10] = [b"A", b"0", b"1", b"2", b"3", b"4", b"5", b"D", b"j", b"B"];
/// Text(58) of the Logout sent when MAX_QUEUED messages wait behind a gap.
pub(crate) const QUEUE_FULL: &[u8] = b"too many messages queued behind a sequence gap";
/// The start of Text(58) of the Logout for a MsgSeqNum too low; it ends with
/// "received <MsgSeqNum>".
pub(crate) const TOO_LOW: &str = "MsgSeqNum too low, expecting ";
pub(crate) const ORDER: &[u8] = b"11=ID\x0121=3\x0140=1\x0154=1\x0155=INTC\x01";

/// Reads the input; missing bytes read as 0.
pub(crate) struct Input<'a>(pub(crate) &'a [u8]);

impl<'a> Input<'a> {
    pub(crate) fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Cfg {
    pub(crate) version: FixVersion,
    pub(crate) reset_on_logon: bool,
    pub(crate) reset_on_logout: bool,
    pub(crate) reset_on_disconnect: bool,
    pub(crate) next_expected: bool,
    pub(crate) lazy: bool,
}

/// What the driver knows before a machine call, for `settle`.
#[derive(Default)]
pub(crate) struct Step {
    /// Numbers the call used for messages stored but not transmitted.
    pub(crate) silent: u64,
    /// A reset of the sequence numbers is legitimate during this call.
    pub(crate) reset_allowed: bool,
    /// This call is `handle_disconnect` (`handle_connect` is checked separately).
    pub(crate) disconnect: bool,
    /// The frame fed is a Logon (it may be refused).
    pub(crate) logon_fed: bool,
    /// The MsgSeqNum of the frame fed, when it was below the expected number as
    /// it arrived: the only message a "MsgSeqNum too low" Logout may name.
    pub(crate) fed_too_low: Option<u64>,
}

pub(crate) struct Driver {
    pub(crate) m: SessionMachine<MemoryStore>,
    pub(crate) clock: ManualClock,
    pub(crate) now: Instant,
    pub(crate) cfg: Cfg,
    pub(crate) app: App,
    pub(crate) framer: Framer,
    pub(crate) decoder: Decoder,
    /// The MsgSeqNum the next non-PossDup outbound message must carry.
    pub(crate) wire_next: u64,
    /// The state as told to the handler.
    pub(crate) state: State,
    /// `close_reason()` after the last call.
    pub(crate) close_reason: Option<String>,
    /// Logouts for a full gap queue sent on this connection.
    pub(crate) overflow_logouts: usize,
    pub(crate) last_delivered: Option<u64>,
    pub(crate) prev_target: u64,
    pub(crate) sends: usize,
    pub(crate) frames_fed: usize,
    pub(crate) steps: usize,
    pub(crate) events_total: usize,
    pub(crate) counter: u64,
}

/// `SESSION_TRACE=1` prints every call and every frame written, to read a crash.
pub(crate) fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SESSION_TRACE").is_some())
}

/// Known bugs (see fuzz/README.md) whose checks are skipped when their names are in
/// `SESSION_KNOWN` (comma-separated), to keep fuzzing past them; by default every
/// check is on.
pub(crate) fn known(bug: &str) -> bool {
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

pub(crate) fn is_admin(mt: &[u8]) -> bool {
    matches!(mt, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
}

impl Driver {
    pub(crate) fn new(cfg: Cfg, config: SessionConfig, now: Instant) -> Self {
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

    pub(crate) fn connect(&mut self) {
        assert_eq!(self.m.state(), State::Disconnected);
        self.m.handle_connect(self.now, LOGON_TIMEOUT, &mut self.app);
        self.close_reason = None;
        self.overflow_logouts = 0;
        assert!(!self.m.wants_close());
        assert_eq!(self.m.poll_timeout(), Some(self.now + LOGON_TIMEOUT));
        assert_eq!(self.wire_next, self.m.store().next_sender_seq());
        self.settle(Step::default(), false);
    }

    pub(crate) fn expected_in(&self) -> u64 {
        self.m.store().next_target_seq()
    }

    /// Feeds one complete frame.
    pub(crate) fn feed(&mut self, frame: &[u8]) {
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

    pub(crate) fn handle_timeout(&mut self) {
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
    pub(crate) fn advance(&mut self, d: Duration) {
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

    pub(crate) fn app_send(&mut self, kind: u8) {
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

    pub(crate) fn logout(&mut self, text: u8) {
        let closing = self.m.wants_close();
        let text = (text & 1 != 0).then_some("end of day");
        self.m
            .logout(self.now, text, &mut self.app)
            .expect("logout");
        self.settle(Step::default(), closing);
    }

    pub(crate) fn disconnect(&mut self) {
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
