//! How the session reaches the application: the [`Handler`] it tells everything,
//! and the [`Reply`] through which a handler answers from inside a callback.

use std::fmt;
use std::time::Instant;

use super::{SendError, SessionEvent, SessionMachine, State};
use crate::codec::{Encoder, Message, MessageView, UtcTimestamp, msg_type, tags};
use crate::id::{FixVersion, SeqNum};
use crate::store::MessageStore;

/// Receives what the session tells the application, in the order the session
/// produces it (see the [module docs](crate::session)).
///
/// [`Application`](crate::Application) is the engine's version of this trait: the
/// engine adds what only it knows (the registration of the session, a put that
/// could not be sent) and runs it on the session's thread. This one is for driving
/// a [`SessionMachine`] directly.
pub trait Handler {
    /// Decides on a Logon before any session state changes (sequence numbers,
    /// store): `Err(reason)` refuses it: a Logout whose Text gives `reason` is
    /// written (not stored; none with LogonRefusalReply = silent) and the
    /// session asks to close the transport.
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

    /// A session-level message the session acts on (Heartbeat, TestRequest,
    /// ResendRequest, Reject, SequenceReset, Logout, an accepted Logon), read-only,
    /// before it is acted on (QuickFIX's `fromAdmin`). Refusing a Logon is
    /// [`Handler::on_logon`]'s job.
    fn on_admin(&mut self, message: &MessageView<'_>) {
        let _ = message;
    }

    /// The session writes its Logon reply or a Logout (`msg_type` says which):
    /// fields added to `body` go out in it, after the session's own (QuickFIX's
    /// `toAdmin`), e.g. a venue's extra tags. The header is the session's.
    fn to_admin(&mut self, msg_type: &[u8], body: &mut Encoder<'_>) {
        let _ = (msg_type, body);
    }

    /// A stored application message is about to be resent in answer to a
    /// ResendRequest: `false` vetoes it, and it goes out inside a GapFill instead
    /// (QuickFIX's `DoNotSend` on resend, FIX Antenna's `onResend`). The classic
    /// use: never resend stale orders after a reconnect.
    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        let _ = message;
        true
    }
}

/// Sends replies from inside [`Handler::on_message`], straight into the session's
/// outbound buffer: no queue, no thread hop.
#[derive(Debug)]
pub struct Reply<'m> {
    pub(super) machine: &'m mut dyn ReplySink,
    pub(super) now: Instant,
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
pub(super) trait ReplySink: fmt::Debug {
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
