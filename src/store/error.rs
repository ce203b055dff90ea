//! Store errors: what went wrong in the environment, naming the file or value.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// A failure to read or write a session's store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O operation on a store file failed.
    #[error("store I/O error on {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A frame was appended out of order.
    #[error("append of MsgSeqNum {seq} out of order: the next outbound number is {expected}")]
    OutOfOrder {
        /// The sequence number given.
        seq: u64,
        /// The one the store expected.
        expected: u64,
    },
    /// The store has no room for the frame.
    #[error("store full: cannot append {len} bytes")]
    Full {
        /// The size of the frame refused.
        len: usize,
    },
}
