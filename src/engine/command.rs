//! What steers a session's worker besides the puts: the commands of its handles
//! and of the reactor.

use std::net::SocketAddr;

use crossbeam_channel::Sender;

use super::EngineError;

/// A local change to a session's sequence numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SeqChange {
    /// Both back to 1, store emptied.
    Reset,
    /// The next outbound number.
    Sender(u64),
    /// The next inbound number expected.
    Target(u64),
}

/// Commands that steer a session's worker. They travel on their own unbounded
/// channel, beside the bounded queue of puts, so that a full queue or an outbound
/// backlog never holds up a disconnect, a handoff or finalization.
pub(crate) enum Command {
    /// A connection whose Logon the reactor has read: the socket and every byte
    /// read so far.
    Handoff {
        stream: mio::net::TcpStream,
        bytes: Vec<u8>,
        remote: SocketAddr,
    },
    /// Registration changed: recompute the state.
    Refresh,
    /// End the connection: with a Logout exchange (`graceful`) or at once.
    Disconnect {
        reason: String,
        graceful: bool,
        done: Sender<()>,
    },
    /// Reset or set sequence numbers locally.
    Sequence {
        change: SeqChange,
        done: Sender<Result<(), EngineError>>,
    },
    /// Release everything and end the thread: the `finalizing` flag says so; this
    /// command only wakes the worker sooner.
    Finalize,
}
