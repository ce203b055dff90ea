//! Engine errors: what a call on [`FixEngine`](super::FixEngine) or
//! [`Session`](super::Session) could not do, and why.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use thiserror::Error;

use crate::codec::Message;
use crate::config::ConfigError;
use crate::dictionary::DictionaryError;
use crate::id::SessionId;
use crate::session::{ResetError, SendError};
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
    /// `DataDictionaryDirectory` cannot be read, or holds no dictionary.
    #[error("cannot start the engine: DataDictionaryDirectory: {source}")]
    DictionaryDirectory {
        /// Why: [`DictionaryError::Folder`] or [`DictionaryError::EmptyFolder`].
        source: DictionaryError,
    },
    /// The data dictionary a session's configuration names could not be loaded
    /// (`DataDictionary`, `TransportDataDictionary`, `AppDataDictionary`, or its
    /// version's in `DataDictionaryDirectory`).
    #[error("session {id}: {source}")]
    Dictionary {
        /// The session.
        id: SessionId,
        /// Why, naming the file, or the folder and the names it holds.
        source: DictionaryError,
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

/// Why [`Session::put`](super::Session::put) did not take a message. Every variant
/// hands the message back ([`PutError::into_inner`]), as crossbeam's `SendError`
/// does. `Debug` names the message's MsgType only: an order's contents do not
/// belong in a log line.
#[derive(Error)]
#[non_exhaustive]
pub enum PutError {
    /// The application cannot send this message: a session-level MsgType (the
    /// session sends those itself), or a message that cannot be put on the wire.
    #[error("{error}")]
    Refused {
        /// The message, unsent.
        message: Message,
        /// What is wrong with it.
        error: SendError,
    },
    /// The session's put queue is full: its counterparty reads more slowly than
    /// the application sends. Nothing was queued; retry later.
    #[error("session {id}: the put queue is full ({capacity} messages waiting)")]
    Full {
        /// The message, unsent.
        message: Message,
        /// The session.
        id: SessionId,
        /// The queue's capacity.
        capacity: usize,
    },
    /// The session was finalized.
    #[error("session {id} is finalized")]
    Finalized {
        /// The message, unsent.
        message: Message,
        /// The session.
        id: SessionId,
    },
    /// The session's thread ended after a panic in its application.
    #[error("session {id} has stopped: its application panicked (see the log)")]
    Stopped {
        /// The message, unsent.
        message: Message,
        /// The session.
        id: SessionId,
    },
}

impl PutError {
    /// The message, unsent, to retry or log.
    pub fn into_inner(self) -> Message {
        match self {
            Self::Refused { message, .. }
            | Self::Full { message, .. }
            | Self::Finalized { message, .. }
            | Self::Stopped { message, .. } => message,
        }
    }

    /// The message, unsent.
    pub fn message(&self) -> &Message {
        match self {
            Self::Refused { message, .. }
            | Self::Full { message, .. }
            | Self::Finalized { message, .. }
            | Self::Stopped { message, .. } => message,
        }
    }
}

impl fmt::Debug for PutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::Refused { .. } => "Refused",
            Self::Full { .. } => "Full",
            Self::Finalized { .. } => "Finalized",
            Self::Stopped { .. } => "Stopped",
        };
        f.debug_struct(kind)
            .field(
                "msg_type",
                &String::from_utf8_lossy(self.message().msg_type()),
            )
            .field("error", &self.to_string())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_error_hands_the_message_back_and_does_not_print_it() {
        let err = PutError::Finalized {
            message: Message::new("D").with(11, "SECRET-ORDER"),
            id: SessionId::from_static("US", "THEM"),
        };
        let shown = format!("{err:?}");
        assert!(
            shown.contains("Finalized") && shown.contains("\"D\""),
            "{shown}"
        );
        assert!(!shown.contains("SECRET-ORDER"), "{shown}");
        assert_eq!(err.message().get_str(11), Ok("SECRET-ORDER"));
        assert_eq!(err.into_inner().get_str(11), Ok("SECRET-ORDER"));
    }
}
