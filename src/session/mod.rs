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

mod admin;
mod error;
mod event;
mod inbound;
mod logon;
mod reasons;
mod recovery;
mod reply;
mod resend;
mod state;
#[cfg(test)]
mod tests;
mod timers;
mod violation;

pub use error::{ResetError, SendError};
pub use event::SessionEvent;
pub use reply::{Handler, Reply};
pub use state::State;

pub(crate) use admin::{last_processed, write_refusal};

pub use crate::codec::RejectReason;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use recovery::Recovery;
use state::{Notice, Phase};
use timers::{Liveness, Timer};

use crate::clock::Clock;
use crate::codec::{Decoder, MAX_TIMESTAMP_LEN, Message, UtcTimestamp, format_u64, tags};
use crate::config::SessionConfig;
use crate::dictionary::Dictionary;
use crate::id::{FixVersion, SeqNum, SessionId};
use crate::store::{MessageStore, StoreError};

/// The sans-IO state machine of one acceptor session. See the [module docs](self).
pub struct SessionMachine<S: MessageStore> {
    id: SessionId,
    version: FixVersion,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
    store: S,
    phase: Phase,
    decoder: Decoder,
    /// Bytes ready for the transport.
    outbox: Vec<u8>,
    /// Encoding space, reused.
    scratch: Vec<u8>,
    notices: VecDeque<Notice>,
    liveness: Liveness,
    /// DefaultApplVerID(1137) the counterparty sent, echoed in our Logon (FIXT).
    default_appl_ver_id: Option<Vec<u8>>,
    /// A gap in the inbound sequence being filled.
    recovery: Recovery,
    /// A ResendRequest being served in batches.
    serving: Option<resend::Progress>,
    /// The data dictionary inbound messages are validated against (for FIXT, the
    /// transport's), and for FIXT the application's.
    dictionary: Option<Arc<Dictionary>>,
    app_dictionary: Option<Arc<Dictionary>>,
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
            .field("phase", &self.phase)
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
            phase: Phase::Disconnected,
            decoder: Decoder::new(),
            outbox: Vec::with_capacity(4096),
            scratch: Vec::with_capacity(1024),
            notices: VecDeque::new(),
            liveness: Liveness::new(now),
            default_appl_ver_id: None,
            recovery: Recovery::default(),
            serving: None,
            dictionary: None,
            app_dictionary: None,
        }
    }

    /// Validates inbound messages against `dictionary` (for FIXT sessions the
    /// transport dictionary, FIXT11.xml) and, for FIXT, `app` (e.g. FIX50SP2.xml).
    /// Which checks run is the session configuration's to say
    /// (`ValidateFieldValues`, `ValidateUnknownFields`...). Without a dictionary
    /// only what the decoder finds is rejected.
    #[must_use]
    pub fn with_dictionary(
        mut self,
        dictionary: Arc<Dictionary>,
        app: Option<Arc<Dictionary>>,
    ) -> Self {
        self.dictionary = Some(dictionary);
        self.app_dictionary = app;
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

    /// The session's configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The UTC time the session stamps messages with, from its [`Clock`].
    pub fn now_utc(&self) -> UtcTimestamp {
        self.clock.now_utc()
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.phase.state()
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
        self.liveness.heart_bt_int
    }

    /// True when the session wants its transport closed: flush `poll_transmit`, close,
    /// then call [`SessionMachine::handle_disconnect`].
    pub fn wants_close(&self) -> bool {
        matches!(self.phase, Phase::Closing { .. })
    }

    /// Why the session wants its transport closed (for the log), while
    /// [`SessionMachine::wants_close`] is true.
    pub fn close_reason(&self) -> Option<&str> {
        match &self.phase {
            Phase::Closing { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// A transport was attached: wait for the counterparty's Logon until
    /// `now + logon_timeout`.
    pub fn handle_connect(
        &mut self,
        now: Instant,
        logon_timeout: Duration,
        handler: &mut impl Handler,
    ) {
        self.liveness.restart(now);
        self.move_to(Phase::WaitForLogon {
            deadline: now + logon_timeout,
        });
        self.notify(handler);
    }

    /// The transport closed (either side). The session keeps its sequence numbers
    /// and store for the next Logon unless ResetSeqNumOnDisconnect says otherwise.
    ///
    /// # Errors
    /// When a reset the policy asks for cannot be stored.
    pub fn handle_disconnect(&mut self, handler: &mut impl Handler) -> Result<(), StoreError> {
        self.liveness.test_request_sent = None;
        self.recovery.clear();
        self.serving = None;
        self.outbox.clear();
        let reset =
            if self.phase != Phase::Disconnected && self.config.reset_seq_num_on_disconnect() {
                self.reset_sequence()
            } else {
                Ok(())
            };
        self.move_to(Phase::Disconnected);
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
        if self.wants_close() || self.phase == Phase::Disconnected {
            return Ok(());
        }
        self.liveness.last_received = now;
        let mut decoder = std::mem::take(&mut self.decoder);
        let result = self.process(now, frame, &mut decoder, handler);
        // Messages that arrived ahead of a gap, now next in line.
        let result = result.and_then(|()| self.drain_queue(now, &mut decoder, handler));
        self.decoder = decoder;
        let result = result.and_then(|()| self.request_next_chunk(now));
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

    /// When [`SessionMachine::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        Timer::ALL
            .into_iter()
            .filter_map(|t| self.deadline(t))
            .min()
    }

    /// Moves the bytes ready for the transport to the end of `out`; returns how many.
    /// A ResendRequest being served produces its next batch as the previous one is
    /// taken, and `handler` is told when the last batch is ([`SessionEvent::ResendServed`]).
    ///
    /// # Errors
    /// When the store cannot be read for a resend.
    pub fn poll_transmit(
        &mut self,
        out: &mut Vec<u8>,
        handler: &mut impl Handler,
    ) -> Result<usize, StoreError> {
        let served = if self.outbox.is_empty() && self.serving.is_some() {
            self.serve_resend_batch(handler)
        } else {
            Ok(())
        };
        self.notify(handler);
        served?;
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
        let mut last_buf = [0u8; 20];
        let last = self.last_processed();
        let header: [(u32, &[u8]); 5] = [
            (tags::MSG_SEQ_NUM, seq_text),
            (tags::SENDER_COMP_ID, self.id.sender().as_bytes()),
            (tags::SENDING_TIME, time),
            (tags::TARGET_COMP_ID, self.id.target().as_bytes()),
            (
                tags::LAST_MSG_SEQ_NUM_PROCESSED,
                last.map_or(&[][..], |n| format_u64(n, &mut last_buf)),
            ),
        ];
        let fields = if last.is_some() { 5 } else { 4 };
        self.scratch.clear();
        message.encode(self.version, &header[..fields], &mut self.scratch);
        self.store.append(seq, &self.scratch)?;
        if self.is_transmitting() {
            self.outbox.extend_from_slice(&self.scratch);
            self.liveness.last_sent = now;
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
        let result = self.start_logout(now, text, handler);
        self.notify(handler);
        result
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
        self.check_disconnected()?;
        self.reset_sequence()?;
        Ok(())
    }

    /// Sets the MsgSeqNum(34) of our next message, as an operator does to match a
    /// counterparty's expectation (FIX Antenna's `setOutSeqNum`). Stored: it
    /// survives a restart. Only while no transport is attached, as
    /// [`SessionMachine::reset_sequence_numbers`].
    ///
    /// Numbers already used cannot be used again in the same store, which keeps
    /// one message per number: going back starts the store over (its messages
    /// are archived, a ResendRequest for them is then answered with a GapFill),
    /// keeping the inbound number. Going forward leaves a gap the counterparty
    /// asks for and gets as a GapFill.
    ///
    /// # Errors
    /// [`ResetError::Connected`] while a transport is attached, [`ResetError::Zero`]
    /// for 0, the store's error when the number cannot be stored.
    pub fn set_next_sender_seq(&mut self, seq: u64) -> Result<(), ResetError> {
        self.check_disconnected()?;
        if seq == 0 {
            return Err(ResetError::Zero);
        }
        if seq < self.store.next_sender_seq() {
            let target = self.store.next_target_seq();
            self.reset_sequence()?;
            self.store.set_next_target_seq(target)?;
        }
        self.store.set_next_sender_seq(seq)?;
        Ok(())
    }

    /// Sets the MsgSeqNum(34) expected on the counterparty's next message (FIX
    /// Antenna's `setInSeqNum`). Stored: it survives a restart. Only while no
    /// transport is attached.
    ///
    /// # Errors
    /// As [`SessionMachine::set_next_sender_seq`].
    pub fn set_next_target_seq(&mut self, seq: u64) -> Result<(), ResetError> {
        self.check_disconnected()?;
        if seq == 0 {
            return Err(ResetError::Zero);
        }
        self.store.set_next_target_seq(seq)?;
        Ok(())
    }

    /// With a counterparty connected, the two sides would disagree on the
    /// numbers: changes to them wait for the disconnect.
    fn check_disconnected(&self) -> Result<(), ResetError> {
        if self.phase != Phase::Disconnected {
            return Err(ResetError::Connected {
                state: self.state(),
            });
        }
        Ok(())
    }
}
