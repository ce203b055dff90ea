//! The errors of the session's callers: a send or a reset that could not be done.

use std::time::Duration;

use thiserror::Error;

use super::State;
use crate::codec::FieldError;
use crate::store::StoreError;

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
    /// Queued for a Logon (PutWhileDisconnected = queue), it waited longer than
    /// MessageTimeToLive; it was never numbered or sent.
    #[error("not sent: waited {waited:?} for a counterparty to log on, past MessageTimeToLive")]
    Expired {
        /// How long it waited.
        waited: Duration,
    },
    /// Queued for a Logon (PutWhileDisconnected = queue), it was still waiting
    /// when the session ended; it was never numbered or sent.
    #[error("not sent: the session ended before a counterparty logged on")]
    SessionEnded,
}

/// Why sequence numbers could not be reset or set locally.
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
    /// MsgSeqNum(34) 0 does not exist: numbers start at 1.
    #[error("sequence number 0 asked for: FIX sequence numbers start at 1")]
    Zero,
    /// The store could not be reset.
    #[error(transparent)]
    Store(#[from] StoreError),
}
