//! What the application plugs into the engine: [`Application`] for one session's
//! messages and events, [`SessionsManager`] for connections and unknown sessions.

use std::net::SocketAddr;

use crate::codec::{Encoder, Message, MessageView};
use crate::id::{FixVersion, SessionId};
use crate::session::{Reply, SendError, SessionEvent};

use super::Session;

/// Where a session is in its life, as the application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionState {
    /// Created but not accepting: [`Session::connect`] has not been called.
    Disconnected,
    /// Registered as an acceptor: a Logon for it is accepted (no counterparty yet,
    /// or one whose Logon is being processed).
    WaitForLogon,
    /// Logged on: messages flow.
    Established,
    /// A Logout is in progress.
    WaitForLogout,
    /// Finalized: the session is gone and its handles are inert.
    Terminated,
}

impl SessionState {
    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            Self::Disconnected => 0,
            Self::WaitForLogon => 1,
            Self::Established => 2,
            Self::WaitForLogout => 3,
            Self::Terminated => 4,
        }
    }

    pub(crate) const fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Disconnected,
            1 => Self::WaitForLogon,
            2 => Self::Established,
            3 => Self::WaitForLogout,
            _ => Self::Terminated,
        }
    }
}

/// One session's application: receives its messages and events on the session's
/// worker thread.
///
/// Callbacks must return quickly: while one runs, the session reads nothing else.
/// A reply sent through [`Reply`] inside [`Application::on_message`] goes straight
/// to the wire, without a queue or a thread hop.
///
/// The sans-IO [`SessionMachine`](crate::session::SessionMachine) tells a
/// [`Handler`](crate::session::Handler) the same things; this trait adds what
/// only the engine knows (the state as the handles see it, a put that could not
/// be sent) and is run by the engine on the session's thread.
pub trait Application: Send + 'static {
    /// Decides on a counterparty's Logon after the engine's own checks (CompIDs,
    /// BeginString, HeartBtInt, credentials) and before any state changes.
    /// `Err(reason)` refuses it: the counterparty gets a Logout whose Text gives
    /// `reason` (or nothing, with LogonRefusalReply = silent), and the
    /// connection closes; no sequence number moves.
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        let _ = logon;
        Ok(())
    }

    /// An application message, delivered once and in sequence.
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>);

    /// The session's state changed. Told once per change, in order with the
    /// session's events and messages: a Logon read together with an order is told
    /// as the change to [`SessionState::Established`], then
    /// [`SessionEvent::LoggedOn`], then the order.
    fn on_state_change(&mut self, from: SessionState, to: SessionState) {
        let _ = (from, to);
    }

    /// A session-layer event (every [`SessionEvent`]: Logon and Logout, Rejects
    /// sent and received, resends asked and served, SequenceResets, garbled
    /// input), in order with state changes and messages.
    fn on_event(&mut self, event: &SessionEvent) {
        let _ = event;
    }

    /// Every session-level message the session acts on, read-only: QuickFIX's
    /// `fromAdmin`. As [`Handler::on_admin`](crate::session::Handler::on_admin).
    fn on_admin(&mut self, message: &MessageView<'_>) {
        let _ = message;
    }

    /// Fields added to our Logon reply and Logouts: QuickFIX's `toAdmin`. As
    /// [`Handler::to_admin`](crate::session::Handler::to_admin).
    fn to_admin(&mut self, msg_type: &[u8], body: &mut Encoder<'_>) {
        let _ = (msg_type, body);
    }

    /// `false` keeps a stored message from being resent: a GapFill covers it
    /// (QuickFIX's `DoNotSend`, FIX Antenna's `onResend`). As
    /// [`Handler::on_resend`](crate::session::Handler::on_resend).
    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        let _ = message;
        true
    }

    /// A message given to [`Session::put`] was not sent, and is handed back: it
    /// could not be stored (the session then logs out), the session ended with
    /// it still queued and it could not be stored for a later run, or, with
    /// PutWhileDisconnected = queue, it waited past MessageTimeToLive
    /// ([`SendError::Expired`]) or until the session ended
    /// ([`SendError::SessionEnded`]) without a counterparty logging on.
    fn on_send_failed(&mut self, message: Message, error: SendError) {
        log::error!("message {:?} not sent: {error}", message.msg_type());
    }
}

impl Application for Box<dyn Application> {
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        (**self).on_logon(logon)
    }

    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        (**self).on_message(message, reply);
    }

    fn on_state_change(&mut self, from: SessionState, to: SessionState) {
        (**self).on_state_change(from, to);
    }

    fn on_event(&mut self, event: &SessionEvent) {
        (**self).on_event(event);
    }

    fn on_admin(&mut self, message: &MessageView<'_>) {
        (**self).on_admin(message);
    }

    fn to_admin(&mut self, msg_type: &[u8], body: &mut Encoder<'_>) {
        (**self).to_admin(msg_type, body);
    }

    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        (**self).on_resend(message)
    }

    fn on_send_failed(&mut self, message: Message, error: SendError) {
        (**self).on_send_failed(message, error);
    }
}

/// The application of a session created for an unknown counterparty when no
/// [`SessionsManager`] supplies one: it answers every application message with a
/// BusinessMessageReject, so the counterparty is never left without an answer.
#[derive(Debug, Default, Clone, Copy)]
pub struct RejectingApplication;

impl Application for RejectingApplication {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        if let Err(e) = reply.business_reject(message, 4, "Application not available") {
            log::error!("BusinessMessageReject not sent: {e}");
        }
    }
}

/// A connection that has delivered its Logon, before anything is decided.
#[derive(Debug)]
pub struct Incoming<'a> {
    /// The Logon as received.
    pub logon: &'a MessageView<'a>,
    /// The session it asks for, from our side: SenderCompID is ours (the Logon's
    /// TargetCompID).
    pub session_id: &'a SessionId,
    /// The FIX version it speaks (for FIXT, from DefaultApplVerID(1137)).
    pub version: FixVersion,
    /// The counterparty's address.
    pub remote: SocketAddr,
    /// The local port it connected to.
    pub local_port: u16,
}

/// What to do with a Logon for a session nobody registered.
pub enum Decision {
    /// Create the session with the default parameters, run it with this
    /// application, and accept the Logon.
    Accept(Box<dyn Application>),
    /// Refuse: the connection is closed without a reply; the reason is logged.
    Refuse(String),
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Accept(_) => f.write_str("Accept(..)"),
            Self::Refuse(r) => f.debug_tuple("Refuse").field(r).finish(),
        }
    }
}

/// The engine-wide policy for incoming connections, run on the engine's reactor
/// thread before any session state exists. Install it when the engine starts, with
/// [`FixEngine::with_sessions_manager`](super::FixEngine::with_sessions_manager),
/// or later (replacing the one before) with
/// [`FixEngine::set_sessions_manager`](super::FixEngine::set_sessions_manager).
pub trait SessionsManager: Send + 'static {
    /// Sees every connection that delivered a Logon, registered session or not.
    /// `Err(reason)` refuses it: closed without a reply, the reason logged.
    fn on_incoming_connection(&mut self, incoming: &Incoming<'_>) -> Result<(), String> {
        let _ = incoming;
        Ok(())
    }

    /// A Logon for a session nobody registered, when
    /// `CreateUnregisteredAcceptorSession` is true.
    fn on_unregistered_logon(&mut self, incoming: &Incoming<'_>) -> Decision {
        let _ = incoming;
        Decision::Accept(Box::new(RejectingApplication))
    }

    /// The engine created `session` for an accepted unregistered Logon. The engine
    /// keeps it until it shuts down; the handle given here may be kept, to put
    /// messages or to finalize it.
    fn on_session_created(&mut self, session: Session) {
        let _ = session;
    }
}
