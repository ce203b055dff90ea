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
    /// Another store (in this process or another) holds the session folder open.
    #[error(
        "session store {path} is locked: another FileStore, in this or another process, has it open"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The session key cannot name a store.
    #[error("invalid session key {key:?}: {why}")]
    InvalidSessionKey {
        /// The key given.
        key: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The session folder belongs to another session key (the folder names of two
    /// keys collided).
    #[error("{path} belongs to session key {found:?}, not {expected:?}")]
    KeyMismatch {
        /// The file recording the folder's key.
        path: PathBuf,
        /// The key being opened.
        expected: String,
        /// The key recorded in the folder.
        found: String,
    },
    /// A store file does not start with the expected magic number: not a store file.
    #[error(
        "{path} is not a fixengine store file: it starts with {found:?}, expected {expected:?}"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Its first bytes, escaped.
        found: String,
        /// The magic number expected, escaped.
        expected: String,
    },
    /// A store file has a format version this code does not read.
    #[error("{path} has store format version {found}; this build reads version {expected}")]
    VersionMismatch {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        expected: u32,
    },
    /// A store file is damaged where damage cannot be cut off safely.
    #[error("{path} is corrupt at byte {offset}: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damage was found.
        offset: u64,
        /// What is wrong.
        why: &'static str,
    },
}
