//! The FIX session layer for one acceptor session, sans-IO.
//!
//! [`SessionMachine`] touches no socket, thread or clock. It is fed complete
//! frames ([`SessionMachine::handle_frame`]), the passage of time
//! ([`SessionMachine::handle_timeout`]), application sends ([`SessionMachine::send`])
//! and commands ([`SessionMachine::logout`], [`SessionMachine::handle_disconnect`]).
//! It answers the driver with bytes to write ([`SessionMachine::poll_transmit`]),
//! its next deadline ([`SessionMachine::poll_timeout`]) and whether to close the
//! transport ([`SessionMachine::close_reason`]).
//!
//! # One ordered stream to the application
//!
//! Everything the application is told goes to the [`Handler`] passed to the call
//! that produced it, in the order the session produced it: a Logon to decide on,
//! state changes, events, application messages. A Logon and an order read
//! together reach the handler as the state change to Established, the LoggedOn
//! event, then the order — never the order first. Application messages arrive as
//! zero-copy views of the frame, in sequence and exactly once; the handler replies
//! through a [`Reply`] that encodes straight into the outbound buffer.
//!
//! # The driver's contract
//!
//! After every `handle_*` call, `send` or `logout`, drain `poll_transmit` into the
//! transport (a resend is produced in batches as it is drained), then ask
//! `poll_timeout` when to call `handle_timeout` next. When
//! [`SessionMachine::wants_close`] is true, flush what `poll_transmit` gives and
//! close the transport, then call `handle_disconnect`. Monotonic time is passed in
//! as `now`; the UTC stamp for SendingTime(52) comes from the injected [`Clock`].

mod reasons;
mod resend;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

pub use crate::codec::RejectReason;

use crate::clock::Clock;
use crate::codec::format_u64;
use crate::codec::{
    Decoder, Encoder, FieldError, Fields, MAX_TIMESTAMP_LEN, Message, MessageView, TimePrecision,
    UtcTimestamp, msg_type, tags,
};
use crate::config::SessionConfig;
use crate::dictionary::{Dictionary, Validation, Violation};
use crate::id::{FixVersion, SeqNum, SessionId};
use crate::store::{MessageStore, StoreError};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// No transport attached.
    Disconnected,
    /// A transport is attached; the counterparty's Logon has not arrived.
    WaitForLogon,
    /// Logged on: messages flow.
    Established,
    /// We sent Logout and wait for the counterparty's.
    WaitForLogout,
}

/// What the application is told about, besides application messages and state
/// changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// The counterparty logged on.
    LoggedOn {
        /// True when sequence numbers were reset to 1 (ResetSeqNumFlag or policy).
        reset: bool,
        /// The HeartBtInt(108) agreed, in seconds.
        heart_bt_int: u32,
    },
    /// A Logon was refused before any session state changed.
    LogonRefused {
        /// Why.
        reason: String,
    },
    /// A Logout was sent or received.
    LoggedOut {
        /// Our Text(58), or the counterparty's.
        text: Option<String>,
        /// True when the counterparty started it.
        by_counterparty: bool,
    },
    /// We rejected an inbound message with Reject(3).
    RejectSent {
        /// The MsgSeqNum rejected.
        ref_seq_num: u64,
        /// SessionRejectReason(373).
        reason: RejectReason,
        /// The tag at fault, if any.
        ref_tag: Option<u32>,
    },
    /// The counterparty rejected one of ours.
    RejectReceived {
        /// RefSeqNum(45).
        ref_seq_num: Option<u64>,
        /// Text(58).
        text: Option<String>,
    },
    /// A frame that could not be decoded was ignored; no sequence number was used.
    Garbled {
        /// What was wrong.
        error: String,
    },
    /// We sent a ResendRequest for a gap in the inbound sequence.
    ResendRequestSent {
        /// BeginSeqNo(7).
        begin: u64,
        /// EndSeqNo(16); 0 is "to the end".
        end: u64,
    },
    /// We served a ResendRequest from the store.
    ResendServed {
        /// The first sequence number covered.
        begin: u64,
        /// The last sequence number covered.
        end: u64,
        /// Application messages resent.
        resent: u64,
        /// Sequence numbers covered by SequenceReset-GapFill.
        gap_filled: u64,
    },
    /// The inbound sequence moved by SequenceReset.
    SequenceReset {
        /// The next expected inbound MsgSeqNum.
        new_seq_num: u64,
        /// True for GapFill mode.
        gap_fill: bool,
    },
}

/// Receives what the session tells the application, in the order the session
/// produces it (see the [module docs](self)).
///
/// [`Application`](crate::Application) is the engine's version of this trait: the
/// engine adds what only it knows (the registration of the session, a put that
/// could not be sent) and runs it on the session's thread. This one is for driving
/// a [`SessionMachine`] directly.
pub trait Handler {
    /// Decides on a Logon before any session state changes (sequence numbers,
    /// store): `Err(reason)` refuses it, and the transport is closed without a reply.
    /// Built-in checks (CompIDs, BeginString, HeartBtInt, Username/Password from the
    /// configuration) run first.
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        let _ = logon;
        Ok(())
    }

    /// An application message, delivered once and in sequence. Replies sent through
    /// `reply` go out before the next inbound message is read.
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>);

    /// The session moved from `from` to `to`.
    fn on_state_change(&mut self, from: State, to: State) {
        let _ = (from, to);
    }

    /// A session-layer event.
    fn on_event(&mut self, event: &SessionEvent) {
        let _ = event;
    }
}

/// What the session has to tell the handler, held until the call that produced it
/// (or the next application message) hands it over.
#[derive(Debug)]
enum Notice {
    State { from: State, to: State },
    Event(SessionEvent),
}

/// Why an application message could not be sent.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SendError {
    /// Session-level messages are the session's job.
    #[error("MsgType {msg_type:?} is a session-level message; the session sends those itself")]
    AdminMessage {
        /// The MsgType given.
        msg_type: String,
    },
    /// The message cannot be put on the wire.
    #[error("invalid message: {0}")]
    Invalid(#[from] FieldError),
    /// The message could not be stored, so it was not sent.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why sequence numbers could not be reset locally.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ResetError {
    /// A counterparty is connected.
    #[error(
        "a counterparty is connected (state {state:?}): disconnect first, or have it log on \
         with ResetSeqNumFlag(141)=Y"
    )]
    Connected {
        /// The session's state at the time.
        state: State,
    },
    /// The store could not be reset.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The sans-IO state machine of one acceptor session. See the [module docs](self).
pub struct SessionMachine<S: MessageStore> {
    id: SessionId,
    version: FixVersion,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
    store: S,
    state: State,
    /// Why the session wants its transport closed, once it does.
    close_reason: Option<String>,
    decoder: Decoder,
    /// Bytes ready for the transport.
    outbox: Vec<u8>,
    /// Encoding space, reused.
    scratch: Vec<u8>,
    notices: VecDeque<Notice>,
    heart_bt_int: Duration,
    /// When we last sent anything / last received anything.
    last_sent: Instant,
    last_received: Instant,
    /// A TestRequest is outstanding since this time.
    test_request_sent: Option<Instant>,
    logon_deadline: Option<Instant>,
    logout_deadline: Option<Instant>,
    /// DefaultApplVerID(1137) the counterparty sent, echoed in our Logon (FIXT).
    default_appl_ver_id: Option<Vec<u8>>,
    /// Our outstanding ResendRequest: inbound messages up to this number are being resent.
    resend_requested_to: Option<u64>,
    /// Messages received ahead of a gap, by MsgSeqNum, processed once the gap fills
    /// (`None`: already acted on, only its number remains to be consumed).
    queue: BTreeMap<u64, Option<Vec<u8>>>,
    /// The bytes of the frames in `queue`.
    queued_bytes: usize,
    /// A ResendRequest being served in batches.
    serving: Option<resend::Progress>,
    /// The data dictionary inbound messages are validated against (for FIXT, the
    /// transport's), and for FIXT the application's.
    dictionary: Option<Arc<Dictionary>>,
    app_dictionary: Option<Arc<Dictionary>>,
    validation: Validation,
}

/// The most messages held while waiting for a gap to fill. Beyond it the session
/// logs out: a counterparty that far ahead is not going to fill the gap.
pub const MAX_QUEUED: usize = 10_000;

/// The most bytes held in messages waiting for a gap to fill, whatever their number:
/// a peer sending large messages ahead of a gap must not grow memory without bound.
pub const MAX_QUEUED_BYTES: usize = 64 << 20;

/// Stored messages read per batch when serving a ResendRequest.
pub const RESEND_BATCH: usize = 256;

impl<S: MessageStore> fmt::Debug for SessionMachine<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMachine")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("state", &self.state)
            .field("next_sender_seq", &self.store.next_sender_seq())
            .field("next_target_seq", &self.store.next_target_seq())
            .finish_non_exhaustive()
    }
}

impl<S: MessageStore> SessionMachine<S> {
    /// A session `id` speaking `version`, with policies from `config`, persisting
    /// through `store`, stamping SendingTime from `clock`. It starts disconnected.
    pub fn new(
        id: SessionId,
        version: FixVersion,
        config: SessionConfig,
        store: S,
        clock: Arc<dyn Clock>,
        now: Instant,
    ) -> Self {
        Self {
            id,
            version,
            config,
            clock,
            store,
            state: State::Disconnected,
            close_reason: None,
            decoder: Decoder::new(),
            outbox: Vec::with_capacity(4096),
            scratch: Vec::with_capacity(1024),
            notices: VecDeque::new(),
            heart_bt_int: Duration::from_secs(30),
            last_sent: now,
            last_received: now,
            test_request_sent: None,
            logon_deadline: None,
            logout_deadline: None,
            default_appl_ver_id: None,
            resend_requested_to: None,
            queue: BTreeMap::new(),
            queued_bytes: 0,
            serving: None,
            dictionary: None,
            app_dictionary: None,
            validation: Validation::default(),
        }
    }

    /// Validates inbound messages against `dictionary` (for FIXT sessions the
    /// transport dictionary, FIXT11.xml) and, for FIXT, `app` (e.g. FIX50SP2.xml).
    /// A check runs when both `validation` and the session configuration
    /// (`ValidateFieldValues`, `ValidateUnknownFields`...) ask for it.
    /// Without a dictionary only what the decoder finds is rejected.
    #[must_use]
    pub fn with_dictionary(
        mut self,
        dictionary: Arc<Dictionary>,
        app: Option<Arc<Dictionary>>,
        validation: Validation,
    ) -> Self {
        self.dictionary = Some(dictionary);
        self.app_dictionary = app;
        self.validation = validation;
        self
    }

    /// The session's identity.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The FIX version spoken.
    pub fn version(&self) -> FixVersion {
        self.version
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The store, for inspection.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Makes the store durable ([`MessageStore::sync`]): for the driver to call when
    /// the session ends.
    ///
    /// # Errors
    /// The store's.
    pub fn sync_store(&mut self) -> Result<(), StoreError> {
        self.store.sync()
    }

    /// Makes every stored message durable now ([`MessageStore::sync_appends`]):
    /// for a driver holding messages back until they are on disk, when it has
    /// nothing else to do than wait for the store's background sync.
    ///
    /// # Errors
    /// The store's.
    pub fn sync_appends(&mut self) -> Result<(), StoreError> {
        self.store.sync_appends()
    }

    /// The HeartBtInt(108) in force (the counterparty's, once logged on).
    pub fn heart_bt_int(&self) -> Duration {
        self.heart_bt_int
    }

    /// True when the session wants its transport closed: flush `poll_transmit`, close,
    /// then call [`SessionMachine::handle_disconnect`].
    pub fn wants_close(&self) -> bool {
        self.close_reason.is_some()
    }

    /// Why the session wants its transport closed (for the log), while
    /// [`SessionMachine::wants_close`] is true.
    pub fn close_reason(&self) -> Option<&str> {
        self.close_reason.as_deref()
    }

    /// A transport was attached: wait for the counterparty's Logon until
    /// `now + logon_timeout`.
    pub fn handle_connect(
        &mut self,
        now: Instant,
        logon_timeout: Duration,
        handler: &mut impl Handler,
    ) {
        self.close_reason = None;
        self.last_received = now;
        self.last_sent = now;
        self.test_request_sent = None;
        self.logout_deadline = None;
        self.logon_deadline = Some(now + logon_timeout);
        self.set_state(State::WaitForLogon);
        self.notify(handler);
    }

    /// The transport closed (either side). The session keeps its sequence numbers
    /// and store for the next Logon unless ResetSeqNumOnDisconnect says otherwise.
    ///
    /// # Errors
    /// When a reset the policy asks for cannot be stored.
    pub fn handle_disconnect(&mut self, handler: &mut impl Handler) -> Result<(), StoreError> {
        self.close_reason = None;
        self.logon_deadline = None;
        self.logout_deadline = None;
        self.test_request_sent = None;
        self.resend_requested_to = None;
        self.queue.clear();
        self.queued_bytes = 0;
        self.serving = None;
        self.outbox.clear();
        let reset =
            if self.state != State::Disconnected && self.config.reset_seq_num_on_disconnect() {
                self.reset_sequence()
            } else {
                Ok(())
            };
        self.set_state(State::Disconnected);
        self.notify(handler);
        reset
    }

    /// Processes one complete inbound frame (as delimited by [`crate::Framer`]).
    ///
    /// # Errors
    /// Only when the store fails; protocol problems are answered on the wire.
    pub fn handle_frame<H: Handler>(
        &mut self,
        now: Instant,
        frame: &[u8],
        handler: &mut H,
    ) -> Result<(), StoreError> {
        if self.wants_close() || self.state == State::Disconnected {
            return Ok(());
        }
        self.last_received = now;
        let mut decoder = std::mem::take(&mut self.decoder);
        let result = self.process(now, frame, &mut decoder, handler);
        // Messages that arrived ahead of a gap, now next in line.
        let result = result.and_then(|()| self.drain_queue(now, &mut decoder, handler));
        self.decoder = decoder;
        self.notify(handler);
        result
    }

    /// Runs the timers due at `now`: heartbeats, TestRequest, the Logon and Logout
    /// timeouts.
    ///
    /// # Errors
    /// Only when the store fails.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        handler: &mut impl Handler,
    ) -> Result<(), StoreError> {
        let result = self.run_timers(now);
        self.notify(handler);
        result
    }

    fn run_timers(&mut self, now: Instant) -> Result<(), StoreError> {
        if self.wants_close() {
            return Ok(());
        }
        match self.state {
            State::Disconnected => {}
            State::WaitForLogon => {
                if self.logon_deadline.is_some_and(|d| now >= d) {
                    self.close("no Logon received within the logon timeout");
                }
            }
            State::WaitForLogout => {
                if self.logout_deadline.is_some_and(|d| now >= d) {
                    self.close("no Logout reply within the logout timeout");
                }
            }
            State::Established if self.heart_bt_int.is_zero() => {}
            State::Established => {
                let silence = self.heart_bt_int + self.config.reasonable_transmission_time();
                match self.test_request_sent {
                    Some(sent) if now >= sent + silence => {
                        self.close("TestRequest not answered: the link is lost");
                    }
                    Some(_) => {}
                    None if now >= self.last_received + silence => {
                        self.send_admin(now, msg_type::TEST_REQUEST, |e| {
                            e.str(tags::TEST_REQ_ID, reasons::TEST_REQ_ID);
                        })?;
                        self.test_request_sent = Some(now);
                    }
                    None if now >= self.last_sent + self.heart_bt_int => {
                        self.send_admin(now, msg_type::HEARTBEAT, |_| {})?;
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// When [`SessionMachine::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.wants_close() {
            return None;
        }
        match self.state {
            State::Disconnected => None,
            State::WaitForLogon => self.logon_deadline,
            State::WaitForLogout => self.logout_deadline,
            // HeartBtInt(108) = 0 (allowed only when MinHeartBtInt is 0): no heartbeats.
            State::Established if self.heart_bt_int.is_zero() => None,
            State::Established => {
                let silence = self.heart_bt_int + self.config.reasonable_transmission_time();
                Some(match self.test_request_sent {
                    Some(sent) => sent + silence,
                    None => (self.last_received + silence).min(self.last_sent + self.heart_bt_int),
                })
            }
        }
    }

    /// Moves the bytes ready for the transport to the end of `out`; returns how many.
    /// A ResendRequest being served produces its next batch as the previous one is taken.
    ///
    /// # Errors
    /// When the store cannot be read for a resend.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> Result<usize, StoreError> {
        if self.outbox.is_empty() && self.serving.is_some() {
            self.serve_resend_batch()?;
        }
        let n = self.outbox.len();
        out.extend_from_slice(&self.outbox);
        self.outbox.clear();
        Ok(n)
    }

    /// Sends an application message: numbered, stored, and transmitted if logged on.
    /// While not logged on it is stored only, and the counterparty's ResendRequest
    /// after the next Logon recovers it: nothing is lost.
    ///
    /// # Errors
    /// A session-level MsgType, an invalid message, or a store failure (then nothing
    /// was sent and no sequence number was used).
    pub fn send(&mut self, now: Instant, message: &Message) -> Result<SeqNum, SendError> {
        if message.is_admin() {
            return Err(SendError::AdminMessage {
                msg_type: String::from_utf8_lossy(message.msg_type()).into_owned(),
            });
        }
        message.validate()?;
        let seq = self.store.next_sender_seq();
        let mut seq_buf = [0u8; 20];
        let seq_text = format_u64(seq, &mut seq_buf);
        let mut time_buf = [0u8; MAX_TIMESTAMP_LEN];
        let time = self.clock.now_utc().format(self.precision(), &mut time_buf);
        let header: [(u32, &[u8]); 4] = [
            (tags::MSG_SEQ_NUM, seq_text),
            (tags::SENDER_COMP_ID, self.id.sender().as_bytes()),
            (tags::SENDING_TIME, time),
            (tags::TARGET_COMP_ID, self.id.target().as_bytes()),
        ];
        self.scratch.clear();
        message.encode(self.version, &header, &mut self.scratch);
        self.store.append(seq, &self.scratch)?;
        if self.is_transmitting() {
            self.outbox.extend_from_slice(&self.scratch);
            self.last_sent = now;
        }
        Ok(SeqNum::new(seq).unwrap_or(SeqNum::ONE))
    }

    /// Starts a graceful logout: sends Logout with `text` and waits (up to the
    /// configured LogoutTimeout) for the counterparty's, then asks to close.
    ///
    /// # Errors
    /// When the Logout cannot be stored.
    pub fn logout(
        &mut self,
        now: Instant,
        text: Option<&str>,
        handler: &mut impl Handler,
    ) -> Result<(), StoreError> {
        let result = self.start_logout(now, text);
        self.notify(handler);
        result
    }

    fn start_logout(&mut self, now: Instant, text: Option<&str>) -> Result<(), StoreError> {
        if self.wants_close() {
            // Already on the way out: the transport is closing.
            return Ok(());
        }
        match self.state {
            State::Established => {
                self.send_logout(now, text)?;
                self.logout_deadline = Some(now + self.config.logout_timeout());
                self.set_state(State::WaitForLogout);
            }
            State::WaitForLogon => self.close("logout requested before Logon"),
            State::WaitForLogout | State::Disconnected => {}
        }
        Ok(())
    }

    /// Starts the FIX session over locally: both sequence numbers back to 1 and no
    /// stored messages. Only while no transport is attached: with a counterparty
    /// connected the two sides would disagree on the numbers, so the FIX way
    /// (a Logon with ResetSeqNumFlag(141)=Y) is the only way there.
    ///
    /// # Errors
    /// [`ResetError::Connected`] while a transport is attached; the store's error
    /// when the reset cannot be stored.
    pub fn reset_sequence_numbers(&mut self) -> Result<(), ResetError> {
        if self.state != State::Disconnected {
            return Err(ResetError::Connected { state: self.state });
        }
        self.reset_sequence()?;
        Ok(())
    }

    // ---- inbound ---------------------------------------------------------------

    fn process<H: Handler>(
        &mut self,
        now: Instant,
        frame: &[u8],
        decoder: &mut Decoder,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        let view = match decoder.decode(frame) {
            Ok(v) => v,
            Err(e) => {
                self.tell(SessionEvent::Garbled {
                    error: e.to_string(),
                });
                return Ok(());
            }
        };
        match self.state {
            State::WaitForLogon => self.on_first_message(now, &view, handler),
            State::Established | State::WaitForLogout => self.on_message(now, &view, handler),
            State::Disconnected => Ok(()),
        }
    }

    fn drain_queue<H: Handler>(
        &mut self,
        now: Instant,
        decoder: &mut Decoder,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        while !self.wants_close() {
            let expected = self.store.next_target_seq();
            let Some(entry) = self.queue.first_entry() else {
                break;
            };
            let seq = *entry.key();
            if seq > expected {
                break;
            }
            let frame = entry.remove();
            if let Some(frame) = &frame {
                self.queued_bytes -= frame.len();
            }
            if seq < expected {
                // A SequenceReset (the counterparty's answer to our ResendRequest)
                // moved the expected number past it: the counterparty covered this
                // number, so what was queued under it is not processed again.
                continue;
            }
            match frame {
                Some(frame) => self.process(now, &frame, decoder, handler)?,
                None => self.advance_inbound(seq)?,
            }
        }
        Ok(())
    }

    /// The first message on a new transport: it must be a valid Logon.
    fn on_first_message<H: Handler>(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        if view.msg_type() != msg_type::LOGON {
            self.close("first message not a Logon");
            return Ok(());
        }
        if let Err(reason) = self.check_logon(view) {
            self.refuse_logon(reason);
            return Ok(());
        }
        self.notify(handler);
        if let Err(reason) = handler.on_logon(view) {
            self.refuse_logon(reason);
            return Ok(());
        }
        // From here the Logon is accepted: state may change.
        let Ok(heart_bt_int) = view.get_u64(tags::HEART_BT_INT) else {
            self.refuse_logon("HeartBtInt(108) missing".into());
            return Ok(());
        };
        let heart_bt_int = u32::try_from(heart_bt_int).unwrap_or(u32::MAX);
        let reset_requested = view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true);
        let reset = reset_requested || self.config.reset_seq_num_on_logon();
        if reset {
            self.reset_sequence()?;
        }
        self.heart_bt_int = Duration::from_secs(u64::from(heart_bt_int));
        self.default_appl_ver_id = view.get(tags::DEFAULT_APPL_VER_ID).map(<[u8]>::to_vec);
        self.logon_deadline = None;
        let expected = self.store.next_target_seq();
        let seq = match view.msg_seq_num() {
            Ok(s) => s.get(),
            Err(_) => {
                self.close("Logon without a valid MsgSeqNum(34)");
                return Ok(());
            }
        };
        if seq < expected {
            // Answer with a Logout and no Logon: the counterparty is behind us.
            self.set_state(State::Established);
            self.send_logout(now, Some(&reasons::seq_too_low(expected, seq)))?;
            self.close("Logon MsgSeqNum too low");
            return Ok(());
        }
        // NextExpectedMsgSeqNum(789), when agreed: the counterparty says which of our
        // messages it expects next, and we say which of its messages we expect.
        let next_out = self.store.next_sender_seq();
        let their_next_expected = if self.config.enable_next_expected_msg_seq_num() {
            view.get_u64(tags::NEXT_EXPECTED_MSG_SEQ_NUM).ok()
        } else {
            None
        };
        if let Some(n) = their_next_expected.filter(|&n| n > next_out || n == 0) {
            // It expects messages we never sent: nothing can repair that.
            self.set_state(State::Established);
            self.send_logout(now, Some(&reasons::next_expected_too_high(n, next_out)))?;
            self.close("Logon NextExpectedMsgSeqNum(789) too high");
            return Ok(());
        }
        // check_logon refused MsgSeqNum u64::MAX, so seq + 1 here and below fits.
        let our_next_expected = if seq == expected { seq + 1 } else { expected };
        self.send_admin(now, msg_type::LOGON, |e| {
            e.uint(tags::ENCRYPT_METHOD, 0)
                .uint(tags::HEART_BT_INT, u64::from(heart_bt_int));
            if reset_requested {
                e.bool(tags::RESET_SEQ_NUM_FLAG, true);
            }
            if their_next_expected.is_some() {
                e.uint(tags::NEXT_EXPECTED_MSG_SEQ_NUM, our_next_expected);
            }
        })?;
        self.set_state(State::Established);
        self.tell(SessionEvent::LoggedOn {
            reset,
            heart_bt_int,
        });
        if seq > expected {
            // The Logon's own number is used, but only once the gap before it is
            // filled: it waits in the queue, already acted on, so that a fill up to
            // just before it moves the session past it (and past anything queued
            // behind it) at once.
            self.queue.insert(seq, None);
        }
        match their_next_expected {
            // With 789 the counterparty resends from our 789 by itself (and fills its
            // Logon's own number): no ResendRequest. We resend what it missed, the
            // Logon just sent included (as a GapFill).
            Some(n) => {
                if seq > expected {
                    self.resend_requested_to = Some(seq);
                } else {
                    self.store.set_next_target_seq(seq + 1)?;
                }
                if n < next_out {
                    self.serving = Some(resend::Progress::new(n, next_out));
                    self.serve_resend_batch()?;
                }
            }
            None if seq > expected => self.request_resend(now, expected, seq)?,
            None => self.store.set_next_target_seq(seq + 1)?,
        }
        Ok(())
    }

    /// The checks that refuse a Logon before anything changes.
    fn check_logon(&self, view: &MessageView<'_>) -> Result<(), String> {
        if view.begin_string() != self.version.begin_string().as_bytes() {
            return Err(format!(
                "BeginString {:?} is not this session's {}",
                String::from_utf8_lossy(view.begin_string()),
                self.version.begin_string()
            ));
        }
        if view.sender_comp_id() != Some(self.id.target().as_bytes())
            || view.target_comp_id() != Some(self.id.sender().as_bytes())
        {
            return Err("CompIDs do not match the session".into());
        }
        if self.config.check_sending_time() && !self.sending_time_ok(view) {
            return Err("SendingTime(52) missing or outside the accepted window".into());
        }
        if view.msg_seq_num().is_ok_and(|s| s.get() == u64::MAX) {
            return Err(reasons::SEQ_NUM_EXHAUSTED.into());
        }
        let hbi = view
            .get_u64(tags::HEART_BT_INT)
            .map_err(|e| format!("Logon HeartBtInt: {e}"))?;
        let (min, max) = (
            u64::from(self.config.min_heart_bt_int()),
            u64::from(self.config.max_heart_bt_int()),
        );
        if hbi < min || hbi > max {
            return Err(format!("HeartBtInt(108) = {hbi} outside {min}..={max}"));
        }
        if self.version.is_fixt() && !view.contains(tags::DEFAULT_APPL_VER_ID) {
            return Err("DefaultApplVerID(1137) missing from a FIXT.1.1 Logon".into());
        }
        match view.get_u64(tags::ENCRYPT_METHOD) {
            Ok(0) | Err(FieldError::Missing { .. }) => {}
            _ => return Err("EncryptMethod(98) must be 0 (none)".into()),
        }
        if let Some(user) = self.config.username()
            && view.get(tags::USERNAME) != Some(user.as_bytes())
        {
            return Err("Username(553) does not match".into());
        }
        if let Some(password) = self.config.password()
            && !view
                .get(tags::PASSWORD)
                .is_some_and(|given| same_secret(given, password.as_bytes()))
        {
            return Err("Password(554) does not match".into());
        }
        Ok(())
    }

    fn refuse_logon(&mut self, reason: String) {
        self.tell(SessionEvent::LogonRefused {
            reason: reason.clone(),
        });
        // Nothing is sent: a reply would use a sequence number of a session the
        // peer has not proven to own.
        self.close(&format!("Logon refused: {reason}"));
    }

    /// Every message after the Logon.
    fn on_message<H: Handler>(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        let mt = view.msg_type();
        if view.begin_string() != self.version.begin_string().as_bytes() {
            self.send_logout(now, Some(reasons::INCORRECT_BEGIN_STRING))?;
            self.await_logout_or_close(now);
            return Ok(());
        }
        let Ok(seq) = view.msg_seq_num().map(SeqNum::get) else {
            // A SequenceReset-Reset ignores its own MsgSeqNum (which may be 0).
            if mt == msg_type::SEQUENCE_RESET && !is_gap_fill(view) {
                return self.on_sequence_reset(now, view, 0);
            }
            self.reject(
                now,
                view,
                0,
                RejectReason::RequiredTagMissing,
                Some(tags::MSG_SEQ_NUM),
            )?;
            return Ok(());
        };
        // Every path below may record seq + 1 as the next number expected.
        if seq == u64::MAX {
            self.send_logout(now, Some(reasons::SEQ_NUM_EXHAUSTED))?;
            self.await_logout_or_close(now);
            return Ok(());
        }
        // The standard header's required fields, before anything reads them.
        for tag in [
            tags::SENDER_COMP_ID,
            tags::TARGET_COMP_ID,
            tags::SENDING_TIME,
        ] {
            let reason = match view.get(tag) {
                None => RejectReason::RequiredTagMissing,
                Some([]) => RejectReason::TagSpecifiedWithoutValue,
                Some(_) => continue,
            };
            self.reject(now, view, seq, reason, Some(tag))?;
            return self.advance_inbound(seq);
        }
        if self.config.check_sending_time() && !self.sending_time_ok(view) {
            self.reject_and_logout(now, view, seq, RejectReason::SendingTimeAccuracyProblem)?;
            return Ok(());
        }
        if self.config.validate_comp_ids()
            && (view.sender_comp_id() != Some(self.id.target().as_bytes())
                || view.target_comp_id() != Some(self.id.sender().as_bytes()))
        {
            self.reject_and_logout(now, view, seq, RejectReason::CompIdProblem)?;
            return Ok(());
        }
        let expected = self.store.next_target_seq();

        // SequenceReset-Reset ignores MsgSeqNum altogether.
        if mt == msg_type::SEQUENCE_RESET && !is_gap_fill(view) {
            return self.on_sequence_reset(now, view, seq);
        }
        // A Logon with ResetSeqNumFlag=Y on a live session starts the FIX session over.
        if mt == msg_type::LOGON && view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true) {
            return self.on_reset_logon(now, view, seq);
        }
        // Like QuickFIX, a Logout or a ResendRequest is acted on whatever its number:
        // answering either is harmless, and refusing a Logout helps nobody.
        if mt == msg_type::LOGOUT && seq != expected {
            return self.on_logout(now, view);
        }
        if mt == msg_type::RESEND_REQUEST && seq < expected && !view.is_poss_dup() {
            return self.on_resend_request(now, view, seq);
        }
        if seq > expected {
            let mut served = false;
            if mt == msg_type::RESEND_REQUEST {
                // Serve the counterparty first, then ask for our gap (test case 20).
                self.on_resend_request(now, view, seq)?;
                served = true;
            }
            if self.queue.len() >= MAX_QUEUED
                || self.queued_bytes + view.frame().len() > MAX_QUEUED_BYTES
            {
                if self.state == State::WaitForLogout {
                    // Already logging out: one Logout is enough, the rest is dropped.
                    return Ok(());
                }
                self.send_logout(now, Some("too many messages queued behind a sequence gap"))?;
                self.await_logout_or_close(now);
                return Ok(());
            }
            // A served ResendRequest keeps its place in the sequence, not its frame.
            if !served {
                self.queued_bytes += view.frame().len();
            }
            if let Some(Some(old)) = self
                .queue
                .insert(seq, (!served).then(|| view.frame().to_vec()))
            {
                self.queued_bytes -= old.len();
            }
            // Our ResendRequests run to the end (EndSeqNo 0), so one outstanding
            // request covers every later gap: never ask twice.
            if self.resend_requested_to.is_none() {
                self.request_resend(now, expected, seq)?;
            }
            return Ok(());
        }
        if seq < expected {
            return self.on_seq_too_low(now, view, seq, expected);
        }

        // In sequence. PossDup messages in sequence must still carry a sane OrigSendingTime.
        if view.is_poss_dup() && !self.poss_dup_ok(now, view, seq)? {
            return Ok(());
        }
        if let Some(violation) = self.validate(view) {
            self.reject_raw(now, view, seq, violation.reason, violation.tag.as_deref())?;
            return self.advance_inbound(seq);
        }
        match mt {
            msg_type::HEARTBEAT => {
                if view.get(tags::TEST_REQ_ID) == Some(reasons::TEST_REQ_ID.as_bytes()) {
                    self.test_request_sent = None;
                }
                self.advance_inbound(seq)
            }
            msg_type::TEST_REQUEST => {
                // TestReqID is required: without it there is nothing to echo.
                let Some(id) = view.get(tags::TEST_REQ_ID).map(<[u8]>::to_vec) else {
                    self.reject(
                        now,
                        view,
                        seq,
                        RejectReason::RequiredTagMissing,
                        Some(tags::TEST_REQ_ID),
                    )?;
                    return self.advance_inbound(seq);
                };
                self.advance_inbound(seq)?;
                self.send_admin(now, msg_type::HEARTBEAT, |e| {
                    e.bytes(tags::TEST_REQ_ID, &id);
                })
            }
            msg_type::RESEND_REQUEST => {
                self.on_resend_request(now, view, seq)?;
                self.advance_inbound(seq)
            }
            msg_type::REJECT => {
                self.tell(SessionEvent::RejectReceived {
                    ref_seq_num: view.get_u64(tags::REF_SEQ_NUM).ok(),
                    text: view.get_str(tags::TEXT).ok().map(str::to_owned),
                });
                self.advance_inbound(seq)
            }
            msg_type::SEQUENCE_RESET => self.on_sequence_reset(now, view, seq),
            msg_type::LOGOUT => {
                self.advance_inbound(seq)?;
                self.on_logout(now, view)
            }
            msg_type::LOGON => {
                // A second Logon on an established session is a protocol error.
                self.advance_inbound(seq)?;
                self.send_logout(now, Some("Logon received on an established session"))?;
                self.await_logout_or_close(now);
                Ok(())
            }
            _ => {
                // What the session produced before this message reaches the
                // application before it.
                self.notify(handler);
                let mut reply = Reply { machine: self, now };
                handler.on_message(view, &mut reply);
                // The inbound number moves only once the application has processed it.
                self.advance_inbound(seq)
            }
        }
    }

    /// Starts a new FIX session: both numbers back to 1, store emptied, and nothing
    /// left over from the old one (a resend in progress, messages held behind a gap,
    /// an outstanding ResendRequest).
    fn reset_sequence(&mut self) -> Result<(), StoreError> {
        self.store.reset()?;
        self.serving = None;
        self.queue.clear();
        self.queued_bytes = 0;
        self.resend_requested_to = None;
        Ok(())
    }

    /// Logon(141=Y) on an established session: both sides start again at 1.
    fn on_reset_logon(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
    ) -> Result<(), StoreError> {
        // The new session's HeartBtInt is held to the same bounds as any Logon's.
        let (min, max) = (
            u64::from(self.config.min_heart_bt_int()),
            u64::from(self.config.max_heart_bt_int()),
        );
        let heart_bt_int = match view.get_u64(tags::HEART_BT_INT) {
            Ok(h) if (min..=max).contains(&h) => u32::try_from(h).unwrap_or(u32::MAX),
            _ => {
                self.send_logout(now, Some("Logon HeartBtInt(108) missing or out of range"))?;
                self.await_logout_or_close(now);
                return Ok(());
            }
        };
        self.reset_sequence()?;
        self.heart_bt_int = Duration::from_secs(u64::from(heart_bt_int));
        self.test_request_sent = None;
        self.send_admin(now, msg_type::LOGON, |e| {
            e.uint(tags::ENCRYPT_METHOD, 0)
                .uint(tags::HEART_BT_INT, u64::from(heart_bt_int))
                .bool(tags::RESET_SEQ_NUM_FLAG, true);
        })?;
        self.store.set_next_target_seq(seq + 1)?;
        self.tell(SessionEvent::LoggedOn {
            reset: true,
            heart_bt_int,
        });
        Ok(())
    }

    /// What is wrong with an in-sequence message, if anything: against the data
    /// dictionary when there is one, else the decoder's own findings (invalid tag
    /// numbers, empty values).
    fn validate(&self, view: &MessageView<'_>) -> Option<Violation> {
        if let Some(FieldError::EmbeddedSoh { tag }) = view.problem() {
            return Some(Violation {
                reason: RejectReason::NonDataValueIncludesFieldDelimiter,
                tag: Some(tag.to_string().into_bytes()),
            });
        }
        if let Some(dictionary) = &self.dictionary {
            // A check runs when both the session configuration and the Validation
            // given with the dictionary ask for it.
            let v = self.validation;
            let c = &self.config;
            let checks = Validation {
                fields_have_values: v.fields_have_values && c.validate_fields_have_values(),
                fields_out_of_order: v.fields_out_of_order && c.validate_fields_out_of_order(),
                field_values: v.field_values && c.validate_field_values(),
                unknown_fields: v.unknown_fields && c.validate_unknown_fields(),
                required_fields: v.required_fields && c.validate_required_fields(),
            };
            return dictionary
                .validate(self.app_dictionary.as_deref(), view, checks)
                .err();
        }
        match view.problem()? {
            FieldError::InvalidTagNumber { found } => Some(Violation {
                reason: RejectReason::InvalidTagNumber,
                // A field with no tag at all ("=x") is reported as tag 0: an empty
                // RefTagID would itself be a malformed field.
                tag: Some(if found.as_bytes().is_empty() {
                    b"0".to_vec()
                } else {
                    found.as_bytes().to_vec()
                }),
            }),
            FieldError::Empty { tag } if self.config.validate_fields_have_values() => {
                Some(Violation {
                    reason: RejectReason::TagSpecifiedWithoutValue,
                    tag: Some(tag.to_string().into_bytes()),
                })
            }
            _ => None,
        }
    }

    fn on_seq_too_low(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        expected: u64,
    ) -> Result<(), StoreError> {
        if !view.is_poss_dup() {
            self.send_logout(now, Some(&reasons::seq_too_low(expected, seq)))?;
            self.close("MsgSeqNum too low without PossDupFlag");
            return Ok(());
        }
        // A possible duplicate of something already processed: check it, then ignore it.
        self.poss_dup_ok(now, view, seq)?;
        Ok(())
    }

    /// PossDupFlag=Y needs OrigSendingTime(122) no later than SendingTime(52).
    /// Returns false (after rejecting) when it does not.
    fn poss_dup_ok(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
    ) -> Result<bool, StoreError> {
        // SequenceReset-GapFill is often sent without OrigSendingTime; accept it.
        if view.msg_type() == msg_type::SEQUENCE_RESET {
            return Ok(true);
        }
        match view.get_timestamp(tags::ORIG_SENDING_TIME) {
            Err(FieldError::Missing { .. }) => {
                self.reject(
                    now,
                    view,
                    seq,
                    RejectReason::RequiredTagMissing,
                    Some(tags::ORIG_SENDING_TIME),
                )?;
                Ok(false)
            }
            Err(_) => {
                self.reject(
                    now,
                    view,
                    seq,
                    RejectReason::IncorrectDataFormat,
                    Some(tags::ORIG_SENDING_TIME),
                )?;
                Ok(false)
            }
            Ok(orig) => match view.sending_time() {
                Ok(sent) if orig > sent => {
                    self.reject_and_logout(
                        now,
                        view,
                        seq,
                        RejectReason::SendingTimeAccuracyProblem,
                    )?;
                    Ok(false)
                }
                _ => Ok(true),
            },
        }
    }

    fn on_sequence_reset(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
    ) -> Result<(), StoreError> {
        let expected = self.store.next_target_seq();
        let gap_fill = is_gap_fill(view);
        let new_seq = match view.get_u64(tags::NEW_SEQ_NO) {
            Ok(n) => n,
            Err(FieldError::Missing { .. }) => {
                return self.reject_then_maybe_advance(
                    now,
                    view,
                    seq,
                    gap_fill,
                    RejectReason::RequiredTagMissing,
                    Some(tags::NEW_SEQ_NO),
                );
            }
            Err(_) => {
                return self.reject_then_maybe_advance(
                    now,
                    view,
                    seq,
                    gap_fill,
                    RejectReason::IncorrectDataFormat,
                    Some(tags::NEW_SEQ_NO),
                );
            }
        };
        if new_seq < expected || (gap_fill && new_seq == expected && seq != expected) {
            // Lowering the expected number is never allowed (SessionRejectReason 5).
            return self.reject_then_maybe_advance(
                now,
                view,
                seq,
                gap_fill,
                RejectReason::ValueIsIncorrect,
                None,
            );
        }
        if new_seq == expected && !gap_fill {
            // Reset to the number already expected: nothing to do (the spec's "warning").
            return Ok(());
        }
        self.store.set_next_target_seq(new_seq)?;
        if self.resend_requested_to.is_some_and(|to| new_seq > to) {
            self.resend_requested_to = None;
        }
        self.tell(SessionEvent::SequenceReset {
            new_seq_num: new_seq,
            gap_fill,
        });
        Ok(())
    }

    fn reject_then_maybe_advance(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        gap_fill: bool,
        reason: RejectReason,
        tag: Option<u32>,
    ) -> Result<(), StoreError> {
        self.reject(now, view, seq, reason, tag)?;
        // A GapFill in sequence uses its number even when rejected; a Reset has none.
        if gap_fill && seq == self.store.next_target_seq() {
            self.advance_inbound(seq)?;
        }
        Ok(())
    }

    fn on_logout(&mut self, now: Instant, view: &MessageView<'_>) -> Result<(), StoreError> {
        let text = view.get_str(tags::TEXT).ok().map(str::to_owned);
        self.tell(SessionEvent::LoggedOut {
            text,
            by_counterparty: self.state == State::Established,
        });
        if self.state == State::Established {
            self.send_logout(now, None)?;
        }
        if self.config.reset_seq_num_on_logout() {
            self.reset_sequence()?;
        }
        self.close("Logout exchanged");
        Ok(())
    }

    // Every seq here came through on_message, which stops at u64::MAX: seq + 1 fits.
    fn advance_inbound(&mut self, seq: u64) -> Result<(), StoreError> {
        if seq >= self.store.next_target_seq() {
            self.store.set_next_target_seq(seq + 1)?;
        }
        if self.resend_requested_to.is_some_and(|to| seq >= to) {
            self.resend_requested_to = None;
        }
        Ok(())
    }

    // ---- resend ----------------------------------------------------------------

    fn request_resend(
        &mut self,
        now: Instant,
        expected: u64,
        received: u64,
    ) -> Result<(), StoreError> {
        self.resend_requested_to = Some(received - 1);
        // "To the end": 0 from FIX.4.2 on, 999999 before.
        let end = if self.version.uses_999999_as_infinity() {
            999_999
        } else {
            0
        };
        self.send_admin(now, msg_type::RESEND_REQUEST, |e| {
            e.uint(tags::BEGIN_SEQ_NO, expected)
                .uint(tags::END_SEQ_NO, end);
        })?;
        self.tell(SessionEvent::ResendRequestSent {
            begin: expected,
            end,
        });
        Ok(())
    }

    fn on_resend_request(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
    ) -> Result<(), StoreError> {
        let (Ok(begin), Ok(end)) = (
            view.get_u64(tags::BEGIN_SEQ_NO),
            view.get_u64(tags::END_SEQ_NO),
        ) else {
            return self.reject(now, view, seq, RejectReason::RequiredTagMissing, None);
        };
        let last_sent = self.store.next_sender_seq().saturating_sub(1);
        let infinite = end == 0 || (self.version.uses_999999_as_infinity() && end == 999_999);
        let end = if infinite {
            last_sent
        } else {
            end.min(last_sent)
        };
        let begin = begin.max(1);
        if begin > end {
            return Ok(());
        }
        // Replace any resend in progress: the counterparty's latest request wins.
        self.serving = Some(resend::Progress::new(begin, end));
        self.serve_resend_batch()
    }

    fn serve_resend_batch(&mut self) -> Result<(), StoreError> {
        let Some(mut progress) = self.serving.take() else {
            return Ok(());
        };
        let mut time_buf = [0u8; MAX_TIMESTAMP_LEN];
        let now_utc = self.clock.now_utc();
        let time = now_utc.format(self.precision(), &mut time_buf);
        let mut resend = resend::Writer {
            version: self.version,
            sender: self.id.sender().as_bytes(),
            target: self.id.target().as_bytes(),
            sending_time: time,
            out: &mut self.outbox,
            decoder: &mut self.decoder,
        };
        let done = progress.step(&self.store, &mut resend, RESEND_BATCH)?;
        if done {
            self.tell(SessionEvent::ResendServed {
                begin: progress.begin,
                end: progress.end,
                resent: progress.resent,
                gap_filled: progress.gap_filled,
            });
        } else {
            self.serving = Some(progress);
        }
        Ok(())
    }

    // ---- outbound --------------------------------------------------------------

    /// Whether messages go to the transport now (otherwise they are only stored).
    fn is_transmitting(&self) -> bool {
        matches!(self.state, State::Established | State::WaitForLogout) && !self.wants_close()
    }

    fn precision(&self) -> TimePrecision {
        self.version.default_time_precision()
    }

    /// Encodes, stores and queues a session-level message; `body` adds its fields.
    fn send_admin(
        &mut self,
        now: Instant,
        mt: &[u8],
        body: impl FnOnce(&mut Encoder<'_>),
    ) -> Result<(), StoreError> {
        let seq = self.store.next_sender_seq();
        let time = self.clock.now_utc();
        self.scratch.clear();
        let mut e = Encoder::start(&mut self.scratch, self.version.begin_string(), mt);
        e.uint(tags::MSG_SEQ_NUM, seq)
            .bytes(tags::SENDER_COMP_ID, self.id.sender().as_bytes())
            .timestamp(
                tags::SENDING_TIME,
                time,
                self.version.default_time_precision(),
            )
            .bytes(tags::TARGET_COMP_ID, self.id.target().as_bytes());
        body(&mut e);
        if mt == msg_type::LOGON {
            // FIXT: the Logon carries the application version (ours is the session's),
            // after the other body fields as QuickFIX orders them.
            if let Some(id) = self.version.appl_ver_id() {
                e.str(tags::DEFAULT_APPL_VER_ID, id);
            }
        }
        e.finish();
        self.store.append(seq, &self.scratch)?;
        self.outbox.extend_from_slice(&self.scratch);
        self.last_sent = now;
        Ok(())
    }

    fn send_logout(&mut self, now: Instant, text: Option<&str>) -> Result<(), StoreError> {
        self.send_admin(now, msg_type::LOGOUT, |e| {
            if let Some(t) = text {
                e.str(tags::TEXT, t);
            }
        })?;
        self.tell(SessionEvent::LoggedOut {
            text: text.map(str::to_owned),
            by_counterparty: false,
        });
        Ok(())
    }

    /// Sends Reject(3) for the inbound message `view` (MsgSeqNum `seq`).
    fn reject(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        reason: RejectReason,
        ref_tag: Option<u32>,
    ) -> Result<(), StoreError> {
        let mut buf = [0u8; 20];
        let tag = ref_tag.map(|t| format_u64(u64::from(t), &mut buf).to_vec());
        self.reject_raw(now, view, seq, reason, tag.as_deref())
    }

    /// Sends Reject(3) with RefTagID(371) exactly as the tag appeared on the wire
    /// (an invalid tag such as `-1` is echoed as sent).
    fn reject_raw(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        reason: RejectReason,
        ref_tag: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let ref_msg_type = view.msg_type().to_vec();
        // FIX.4.0/4.1 have no RefTagID/RefMsgType/SessionRejectReason: the tag goes in the text.
        let modern = !matches!(self.version, FixVersion::Fix40 | FixVersion::Fix41);
        // A version defines only some SessionRejectReason codes (FIX.4.2: 0 to 11);
        // the others are sent as Text alone, as QuickFIX does.
        let mut code_buf = [0u8; 20];
        let code = format_u64(u64::from(reason.code()), &mut code_buf);
        let reason_defined = match &self.dictionary {
            Some(d) => d.allows_value(tags::SESSION_REJECT_REASON, code),
            None => self.version != FixVersion::Fix42 || reason.code() <= 11,
        };
        let text = match (modern, ref_tag) {
            (false, Some(tag)) => format!("{} ({})", reason.text(), String::from_utf8_lossy(tag)),
            _ => reason.text().to_owned(),
        };
        // Route the Reject back the way the message came (OnBehalfOf <-> DeliverTo).
        let mut route: [(u32, &[u8]); REVERSE_ROUTE.len()] = [(0, &[]); REVERSE_ROUTE.len()];
        let mut hops = 0;
        for (to, from) in REVERSE_ROUTE {
            // Only fields the version has: FIX.4.0 has no LocationIDs.
            let known = match &self.dictionary {
                Some(d) => d.has_field(to),
                None => {
                    self.version != FixVersion::Fix40
                        || !matches!(
                            to,
                            tags::ON_BEHALF_OF_LOCATION_ID | tags::DELIVER_TO_LOCATION_ID
                        )
                }
            };
            if !known {
                continue;
            }
            if let Some(v) = view.get(from).filter(|v| !v.is_empty()) {
                route[hops] = (to, v);
                hops += 1;
            }
        }
        self.send_admin(now, msg_type::REJECT, |e| {
            for &(tag, value) in &route[..hops] {
                e.bytes(tag, value);
            }
            e.uint(tags::REF_SEQ_NUM, seq).str(tags::TEXT, &text);
            if modern {
                if let Some(tag) = ref_tag {
                    e.bytes(tags::REF_TAG_ID, tag);
                }
                e.bytes(tags::REF_MSG_TYPE, &ref_msg_type);
                if reason_defined {
                    e.uint(tags::SESSION_REJECT_REASON, u64::from(reason.code()));
                }
            }
        })?;
        self.tell(SessionEvent::RejectSent {
            ref_seq_num: seq,
            reason,
            ref_tag: ref_tag.and_then(|t| std::str::from_utf8(t).ok()?.parse().ok()),
        });
        Ok(())
    }

    /// A Reject that ends the session (SendingTime, CompID): Reject, Logout, then
    /// wait for the counterparty's Logout.
    fn reject_and_logout(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        reason: RejectReason,
    ) -> Result<(), StoreError> {
        self.reject(now, view, seq, reason, None)?;
        self.send_logout(now, None)?;
        self.await_logout_or_close(now);
        Ok(())
    }

    fn await_logout_or_close(&mut self, now: Instant) {
        self.logout_deadline = Some(now + self.config.logout_timeout());
        self.set_state(State::WaitForLogout);
    }

    fn sending_time_ok(&self, view: &MessageView<'_>) -> bool {
        match view.sending_time() {
            Ok(t) => t.abs_diff(self.clock.now_utc()) <= self.config.max_sending_time_delta(),
            Err(_) => false,
        }
    }

    fn close(&mut self, reason: &str) {
        if self.close_reason.is_none() {
            self.close_reason = Some(reason.to_owned());
        }
    }

    fn set_state(&mut self, to: State) {
        if self.state != to {
            let from = std::mem::replace(&mut self.state, to);
            self.notices.push_back(Notice::State { from, to });
        }
    }

    fn tell(&mut self, event: SessionEvent) {
        self.notices.push_back(Notice::Event(event));
    }

    /// Hands what the session produced so far to the handler, in order.
    fn notify(&mut self, handler: &mut impl Handler) {
        while let Some(notice) = self.notices.pop_front() {
            match notice {
                Notice::State { from, to } => handler.on_state_change(from, to),
                Notice::Event(event) => handler.on_event(&event),
            }
        }
    }
}

/// Sends replies from inside [`Handler::on_message`], straight into the session's
/// outbound buffer: no queue, no thread hop.
#[derive(Debug)]
pub struct Reply<'m> {
    machine: &'m mut dyn ReplySink,
    now: Instant,
}

impl Reply<'_> {
    /// Sends an application message, as [`SessionMachine::send`] does.
    ///
    /// # Errors
    /// As [`SessionMachine::send`].
    pub fn send(&mut self, message: &Message) -> Result<SeqNum, SendError> {
        self.machine.send_message(self.now, message)
    }

    /// The UTC time the session stamps messages with.
    pub fn now_utc(&self) -> UtcTimestamp {
        self.machine.now_utc()
    }

    /// The session's FIX version.
    pub fn version(&self) -> FixVersion {
        self.machine.fix_version()
    }

    /// Answers `message` with a BusinessMessageReject(j) (FIX.4.2 and later) or,
    /// for FIX.4.0/4.1, which lack it, a session Reject(3) carrying the text.
    ///
    /// # Errors
    /// As [`SessionMachine::send`].
    pub fn business_reject(
        &mut self,
        message: &MessageView<'_>,
        reason: u32,
        text: &str,
    ) -> Result<(), SendError> {
        let seq = message.msg_seq_num().map(SeqNum::get).unwrap_or(0);
        self.machine
            .business_reject(self.now, message, seq, reason, text)
    }
}

/// What [`Reply`] needs from the machine, without its store type parameter.
trait ReplySink: fmt::Debug {
    fn send_message(&mut self, now: Instant, message: &Message) -> Result<SeqNum, SendError>;
    fn now_utc(&self) -> UtcTimestamp;
    fn fix_version(&self) -> FixVersion;
    fn business_reject(
        &mut self,
        now: Instant,
        message: &MessageView<'_>,
        seq: u64,
        reason: u32,
        text: &str,
    ) -> Result<(), SendError>;
}

impl<S: MessageStore> ReplySink for SessionMachine<S> {
    fn send_message(&mut self, now: Instant, message: &Message) -> Result<SeqNum, SendError> {
        self.send(now, message)
    }

    fn now_utc(&self) -> UtcTimestamp {
        self.clock.now_utc()
    }

    fn fix_version(&self) -> FixVersion {
        self.version
    }

    fn business_reject(
        &mut self,
        now: Instant,
        message: &MessageView<'_>,
        seq: u64,
        reason: u32,
        text: &str,
    ) -> Result<(), SendError> {
        if matches!(self.version, FixVersion::Fix40 | FixVersion::Fix41) {
            self.send_admin(now, msg_type::REJECT, |e| {
                e.uint(tags::REF_SEQ_NUM, seq).str(tags::TEXT, text);
            })?;
            return Ok(());
        }
        let mut reject = Message::new(msg_type::BUSINESS_MESSAGE_REJECT)
            .with(tags::REF_SEQ_NUM, seq)
            .with(tags::TEXT, text)
            .with(tags::REF_MSG_TYPE, message.msg_type())
            .with(tags::BUSINESS_REJECT_REASON, reason);
        if let Some(id) = self.version.appl_ver_id() {
            // QuickFIX names the application version on FIXT rejects; counterparties
            // (and the conformance scripts) expect it.
            reject.push(tags::DEFAULT_APPL_VER_ID, id);
        }
        self.send(now, &reject).map(|_| ())
    }
}

/// Compares a secret in time that depends only on the lengths, not on where the
/// first difference is: a peer timing its refusals learns nothing about the
/// password's bytes.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, &e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(0);
        diff |= usize::from(g ^ e);
    }
    diff == 0
}

fn is_gap_fill(view: &MessageView<'_>) -> bool {
    view.get_bool(tags::GAP_FILL_FLAG) == Ok(true)
}

/// Reply header field <- inbound header field, in the ascending order of the reply's tags.
const REVERSE_ROUTE: [(u32, u32); 6] = [
    (tags::ON_BEHALF_OF_COMP_ID, tags::DELIVER_TO_COMP_ID),
    (tags::ON_BEHALF_OF_SUB_ID, tags::DELIVER_TO_SUB_ID),
    (tags::DELIVER_TO_COMP_ID, tags::ON_BEHALF_OF_COMP_ID),
    (tags::DELIVER_TO_SUB_ID, tags::ON_BEHALF_OF_SUB_ID),
    (tags::ON_BEHALF_OF_LOCATION_ID, tags::DELIVER_TO_LOCATION_ID),
    (tags::DELIVER_TO_LOCATION_ID, tags::ON_BEHALF_OF_LOCATION_ID),
];
