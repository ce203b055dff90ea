//! Engine errors: what a call on [`FixEngine`](super::FixEngine) or
//! [`Session`](super::Session) could not do, and why.

use std::io;
use std::net::SocketAddr;

use thiserror::Error;

use crate::codec::{FieldError, Message};
use crate::config::ConfigError;
use crate::id::SessionId;
use crate::session::ResetError;
use crate::store::StoreError;

/// A failure of the engine or of a session handle.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The configuration cannot run an engine (see
    /// [`EngineConfig::validate_for_start`](crate::EngineConfig::validate_for_start)).
    #[error("cannot start the engine: {0}")]
    Config(#[from] ConfigError),
    /// A listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The engine's or a session's thread or poller could not be set up.
    #[error("cannot start {what}: {source}")]
    Start {
        /// Which thread or resource.
        what: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A session with this identity (and BeginString) exists already.
    #[error("session {id} ({begin_string}) already exists")]
    DuplicateSession {
        /// The session asked for.
        id: SessionId,
        /// Its BeginString.
        begin_string: &'static str,
    },
    /// The session was finalized: the handle no longer reaches a session.
    #[error("session {id} is finalized")]
    Finalized {
        /// The session.
        id: SessionId,
    },
    /// The engine has been shut down.
    #[error("the engine is shut down")]
    ShutDown,
    /// The session's thread ended after a panic in its application.
    #[error("session {id} has stopped: its application panicked (see the log)")]
    Stopped {
        /// The session.
        id: SessionId,
    },
    /// The session did not answer within the time allowed.
    #[error(
        "session {id} did not complete {what} within {limit:?}; the command stays queued \
         and still runs"
    )]
    Timeout {
        /// The session.
        id: SessionId,
        /// What was asked.
        what: &'static str,
        /// How long the caller waited.
        limit: std::time::Duration,
    },
    /// A call that waits for the session's thread was made on that thread, from
    /// one of its callbacks: it would wait for itself.
    #[error("session {id}: {what} cannot be called from the session's own callbacks")]
    InCallback {
        /// The session.
        id: SessionId,
        /// The call.
        what: &'static str,
    },
    /// Sequence numbers could not be reset.
    #[error("session {id}: cannot reset sequence numbers: {source}")]
    Reset {
        /// The session.
        id: SessionId,
        /// Why.
        source: ResetError,
    },
    /// A session's store could not be opened or written.
    #[error("session {id}: {source}")]
    Store {
        /// The session.
        id: SessionId,
        /// The store's error.
        source: StoreError,
    },
}

/// Why [`Session::put`](super::Session::put) did not accept a message; the message
/// is handed back in [`PutError::message`].
#[derive(Debug, Error)]
#[error("{reason}")]
pub struct PutError {
    /// Why.
    pub reason: PutErrorKind,
    /// The message, unsent.
    pub message: Message,
}

impl PutError {
    /// The message, unsent, to retry or log.
    pub fn into_message(self) -> Message {
        self.message
    }
}

/// The reasons a put is refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PutErrorKind {
    /// Session-level messages are the engine's job.
    #[error("MsgType {msg_type:?} is a session-level message; the engine sends those itself")]
    AdminMessage {
        /// The MsgType given.
        msg_type: String,
    },
    /// The message cannot be put on the wire.
    #[error("invalid message: {0}")]
    Invalid(#[from] FieldError),
    /// The session was finalized.
    #[error("session {id} is finalized")]
    Finalized {
        /// The session.
        id: SessionId,
    },
    /// The session's thread ended after a panic in its application.
    #[error("session {id} has stopped: its application panicked (see the log)")]
    Stopped {
        /// The session.
        id: SessionId,
    },
    /// The session's put queue is full: its counterparty reads more slowly than
    /// the application sends. Nothing was queued; retry later.
    #[error("session {id}: the put queue is full ({capacity} messages waiting)")]
    QueueFull {
        /// The session.
        id: SessionId,
        /// The queue's capacity.
        capacity: usize,
    },
}
