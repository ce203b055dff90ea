//! The driver: the machine, the clock, the handler and what the checks remember
//! between calls; one method per kind of call.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixengine::clock::ManualClock;
use fixengine::session::{ResetError, SessionMachine, State};
use fixengine::store::{MemoryStore, MessageStore};
use fixengine::{
    Decoder, Fields, FixVersion, Framer, Message, SessionConfig, SessionId, UtcTimestamp, msg_type,
    tags,
};

use crate::app::{App, STALE};
use crate::resend::{Resends, Start};

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
    /// EnableLastMsgSeqNumProcessed.
    pub(crate) last_processed: bool,
    /// ResendRequestChunkSize (0: one request to the end).
    pub(crate) chunk: u64,
    /// ResendRequestNumberOfMessagesLimit (0: none).
    pub(crate) limit: u64,
    /// LogonRefusalReply = silent (else logout).
    pub(crate) refusal_silent: bool,
}

/// What a frame fed is, read before the machine sees it.
pub(crate) struct Fed {
    pub(crate) seq: Option<u64>,
    /// BeginString and CompIDs are the session's: a refused Logon is told why.
    pub(crate) identity_ok: bool,
    /// What it resends, if it is served: a ResendRequest, or a Logon with
    /// NextExpectedMsgSeqNum below our next number.
    pub(crate) resend: Option<Start>,
    /// No inbound number expected after it can be above this one (its MsgSeqNum + 1,
    /// a SequenceReset's NewSeqNo).
    pub(crate) target_bound: u64,
}

/// An application message stored, as written: a resend must carry the same.
pub(crate) struct Sent {
    pub(crate) msg_type: Vec<u8>,
    /// LastMsgSeqNumProcessed(369), raw.
    pub(crate) last: Option<Vec<u8>>,
    pub(crate) body: Vec<u8>,
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
    /// The call is `handle_frame`: the frame, when it decodes.
    pub(crate) fed: Option<Fed>,
    /// The call is `handle_frame`.
    pub(crate) frame: bool,
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
    /// The application messages stored, by MsgSeqNum (since the last reset).
    pub(crate) sent: BTreeMap<u64, Sent>,
    /// The next inbound number expected is never above this: bounds
    /// LastMsgSeqNumProcessed(369) in steps that feed a frame.
    pub(crate) in_hi: u64,
    /// Our ResendRequest outstanding: the last number it asks for (the chunk's end,
    /// or the gap's) and the gap's last number.
    pub(crate) requested: Option<(u64, u64)>,
    pub(crate) resends: Resends,
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
            sent: BTreeMap::new(),
            in_hi: 1,
            requested: None,
            resends: Resends::default(),
        }
    }

    pub(crate) fn connect(&mut self) {
        assert_eq!(self.m.state(), State::Disconnected);
        self.m
            .handle_connect(self.now, LOGON_TIMEOUT, &mut self.app);
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
            eprintln!(
                "feed {}",
                String::from_utf8_lossy(frame).replace('\x01', "|")
            );
        }
        // What the frame is, to know whether a reset may follow.
        let expected = self.expected_in();
        let sender = self.m.store().next_sender_seq();
        let (logon_fed, reset_flag, fed_too_low, fed) = match self.decoder.decode(frame) {
            Ok(v) => {
                let mt = v.msg_type();
                let seq = v.msg_seq_num().ok().map(|s| s.get());
                let version = self.cfg.version;
                let resend = if mt == msg_type::RESEND_REQUEST {
                    // As the session reads it: 0 (999999 before FIX.4.2) is "to the
                    // end", which is our last number, as is anything past it.
                    match (v.get_u64(tags::BEGIN_SEQ_NO), v.get_u64(tags::END_SEQ_NO)) {
                        (Ok(b), Ok(e)) => {
                            let last = sender.saturating_sub(1);
                            let infinite =
                                e == 0 || (version.uses_999999_as_infinity() && e == 999_999);
                            let end = if infinite { last } else { e.min(last) }.min(u64::MAX - 1);
                            let begin = b.max(1);
                            (begin <= end).then_some(Start {
                                begin,
                                end,
                                limited: true,
                            })
                        }
                        _ => None,
                    }
                } else if mt == msg_type::LOGON && self.cfg.next_expected {
                    // Our Logon reply, numbered `sender`, is covered too.
                    v.get_u64(tags::NEXT_EXPECTED_MSG_SEQ_NUM)
                        .ok()
                        .filter(|&n| n > 0 && n < sender)
                        .map(|n| Start {
                            begin: n,
                            end: sender,
                            limited: false,
                        })
                } else {
                    None
                };
                let mut target_bound = seq.map_or(0, |s| s.saturating_add(1));
                if mt == msg_type::SEQUENCE_RESET
                    && let Ok(n) = v.get_u64(tags::NEW_SEQ_NO)
                {
                    target_bound = target_bound.max(n);
                }
                let identity_ok = v.begin_string() == version.begin_string().as_bytes()
                    && v.sender_comp_id() == Some(&b"TW"[..])
                    && v.target_comp_id() == Some(&b"ISLD"[..]);
                (
                    mt == msg_type::LOGON,
                    v.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true),
                    seq.filter(|&s| s < expected),
                    Some(Fed {
                        seq,
                        identity_ok,
                        resend,
                        target_bound,
                    }),
                )
            }
            Err(_) => (false, false, None, None),
        };
        let closing = self.m.wants_close();
        let state = self.m.state();
        self.m
            .handle_frame(self.now, frame, &mut self.app)
            .expect("handle_frame");
        let reset_allowed =
            logon_fed && (reset_flag || (self.cfg.reset_on_logon && state == State::WaitForLogon));
        self.settle(
            Step {
                reset_allowed,
                logon_fed,
                fed_too_low,
                fed,
                frame: true,
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
            assert_eq!(
                self.m.store().next_sender_seq(),
                sent,
                "an early handle_timeout sent"
            );
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
            assert!(
                rounds <= 1_000,
                "timers keep firing: {rounds} rounds within {d:?}"
            );
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
            // Bit 6: a stale report, which the application never lets be resent.
            0..=3 if kind & 0x40 != 0 => {
                Message::new("8").with(tags::EXEC_ID, format!("{STALE}{}", self.counter))
            }
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
                if !transmitting {
                    // Never seen on the wire unless resent: remember it as stored.
                    self.remember_stored(before);
                }
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
            assert_eq!(
                self.wire_next,
                before + 1,
                "an application message was not sent"
            );
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
        // Nothing held behind a gap, asked for or being resent survives the transport.
        self.in_hi = self.expected_in();
        self.requested = None;
        self.resends.clear();
    }

    /// Remembers the application message just stored as `seq` without being
    /// transmitted, as the store holds it; its LastMsgSeqNumProcessed(369) is the
    /// last inbound number processed, as nothing was processed during the send.
    fn remember_stored(&mut self, seq: u64) {
        let want = self
            .cfg
            .last_processed
            .then(|| (self.expected_in() - 1).to_string().into_bytes());
        let mut frame = Vec::new();
        self.m
            .store()
            .read_range(seq, seq, 1, &mut |s, f| {
                assert_eq!(s, seq);
                frame = f.to_vec();
            })
            .expect("read_range");
        let view = self
            .decoder
            .decode(&frame)
            .unwrap_or_else(|e| panic!("stored message {seq} does not decode: {e}"));
        let last = view.get(tags::LAST_MSG_SEQ_NUM_PROCESSED);
        assert_eq!(
            last,
            want.as_deref(),
            "LastMsgSeqNumProcessed(369) of a message stored while not logged on"
        );
        let sent = Sent {
            msg_type: view.msg_type().to_vec(),
            last: last.map(<[u8]>::to_vec),
            body: view.body_bytes().to_vec(),
        };
        self.sent.insert(seq, sent);
    }

    /// `set_next_sender_seq` (`which` bit 0 clear) or `set_next_target_seq` (set) to
    /// a number picked by `v`, both when `which` bit 1 is set. Refused while a
    /// transport is attached, and for 0; otherwise the store says the number set,
    /// the other one unchanged, and a sender number set back empties the store.
    pub(crate) fn set_seq(&mut self, which: u8, v: u8) {
        let targets: &[bool] = match which & 3 {
            0 => &[false],
            1 => &[true],
            _ => &[false, true],
        };
        for &target in targets {
            let store = self.m.store();
            let (sender, next_in, stored) = (
                store.next_sender_seq(),
                store.next_target_seq(),
                store.len(),
            );
            let current = if target { next_in } else { sender };
            let k = u64::from(v >> 3);
            let n = match v % 8 {
                0 => 0,
                1 => 1,
                2 => current.saturating_sub(k + 1).max(1),
                3 => current,
                4 => current + k + 1,
                5 => current + 300 * (k + 1),
                6 => 1 << 32,
                _ => u64::MAX / 4,
            };
            let state = self.m.state();
            let result = if target {
                self.m.set_next_target_seq(n)
            } else {
                self.m.set_next_sender_seq(n)
            };
            if trace() {
                eprintln!(
                    "set next {} {n}: {result:?}",
                    if target { "target" } else { "sender" }
                );
            }
            let store = self.m.store();
            match result {
                Err(ResetError::Connected { state: s }) => {
                    assert_ne!(state, State::Disconnected, "refused while disconnected");
                    assert_eq!(s, state);
                }
                Err(ResetError::Zero) => assert_eq!(n, 0),
                Err(e) => panic!("set_next_*_seq({n}): {e}"),
                Ok(()) => {
                    assert_eq!(state, State::Disconnected, "set while connected");
                    assert_ne!(n, 0);
                    if target {
                        assert_eq!(store.next_target_seq(), n);
                        assert_eq!(store.next_sender_seq(), sender);
                        assert_eq!(store.len(), stored);
                        self.prev_target = n;
                        self.in_hi = n;
                        // The same numbers may come again.
                        self.last_delivered = None;
                    } else {
                        assert_eq!(store.next_sender_seq(), n);
                        assert_eq!(store.next_target_seq(), next_in);
                        if n < sender {
                            // Back: the store starts over, its messages gone.
                            assert_eq!(store.len(), 0, "set back to {n} from {sender}");
                            self.sent.clear();
                        } else {
                            assert_eq!(store.len(), stored);
                        }
                        self.wire_next = n;
                    }
                    continue;
                }
            }
            assert_eq!(
                (
                    store.next_sender_seq(),
                    store.next_target_seq(),
                    store.len()
                ),
                (sender, next_in, stored),
                "a refused set_next_*_seq changed the store"
            );
        }
        let closing = self.m.wants_close();
        self.settle(Step::default(), closing);
    }
}
