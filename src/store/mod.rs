//! Per-session persistence: the next sequence numbers and every message sent.
//!
//! The session layer reads and writes through [`MessageStore`], so it runs the same
//! on the in-memory [`MemoryStore`] (tests, benchmarks, `StorageType = transient`)
//! and on the memory-mapped [`FileStore`] (`StorageType = persistent`), whose
//! docs say what each [`SyncPolicy`] survives. [`inspect`] and [`read_stored`]
//! read a [`FileStore`]'s folder without opening it (no lock, no write), while
//! an engine runs the session: for tools such as `fixcat store`.
//!
//! # Contract
//!
//! - **Persist before send.** The session appends an outbound message with
//!   [`MessageStore::append`] before its bytes are handed to the transport, so a
//!   message a counterparty saw can always be resent.
//! - **Advance inbound after processing.** The session moves the next expected
//!   inbound number only after the application has processed the message, so a crash
//!   in between ends in a gap the counterparty fills, never in a lost message.
//! - Stored frames are the exact wire bytes; a resend changes only the header.

#[cfg(test)]
#[macro_use]
mod contract;
mod checksum;
mod error;
mod file;
mod flusher;
mod layout;
mod memory;
mod naming;
mod prealloc;

pub use error::StoreError;
pub use file::{
    ArchivedInfo, FileStore, FileStoreOptions, SegmentInfo, StoreInfo, SyncPolicy, inspect,
    read_stored,
};
pub use memory::MemoryStore;
pub use naming::folder_name;

/// The batching rule of [`MessageStore::read_range`], for stores that keep an index
/// ascending by sequence number: `entries` starts at the first entry at or after
/// `begin`; `visit` is called for each one up to `end`, at most `max` of them.
/// Returns the sequence number to continue from.
fn read_batch<'e, E: 'e>(
    entries: impl Iterator<Item = &'e E>,
    seq: impl Fn(&E) -> u64,
    end: u64,
    max: usize,
    mut visit: impl FnMut(&'e E) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    for (n, entry) in entries.enumerate() {
        let s = seq(entry);
        if s > end {
            break;
        }
        if n == max {
            return Ok(s);
        }
        visit(entry)?;
    }
    Ok(end.saturating_add(1))
}

/// How far a store that syncs in the background ([`SyncPolicy::Group`]) has
/// come: while `durable < appended`, the messages of the appends after
/// `durable` are not on disk yet and must be held back. Stores that make an
/// append as durable as they can before it returns report all zeros
/// (`durable == appended`), which holds nothing back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncMarks {
    /// Appends so far (a count over the store's life, not a sequence number).
    pub appended: u64,
    /// How many of them are known to be on disk.
    pub durable: u64,
    /// A background sync failed: `durable` will not move again, and what was
    /// appended after it must not be sent.
    pub failed: bool,
}

/// What a store calls from its background thread when its [`SyncMarks`] moved.
pub type SyncWake = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Storage for one session's sequence numbers and sent messages.
pub trait MessageStore {
    /// The MsgSeqNum(34) the next outbound message will carry (1 on a new session).
    fn next_sender_seq(&self) -> u64;

    /// The MsgSeqNum(34) expected on the next inbound message (1 on a new session).
    fn next_target_seq(&self) -> u64;

    /// Sets the next outbound sequence number.
    ///
    /// # Errors
    /// When the value cannot be stored.
    fn set_next_sender_seq(&mut self, seq: u64) -> Result<(), StoreError>;

    /// Sets the next expected inbound sequence number.
    ///
    /// # Errors
    /// When the value cannot be stored.
    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError>;

    /// Stores the frame sent with MsgSeqNum `seq` and moves the next outbound number
    /// past it, as one step.
    ///
    /// # Errors
    /// When the frame cannot be stored; the caller must not send it.
    fn append(&mut self, seq: u64, frame: &[u8]) -> Result<(), StoreError>;

    /// Calls `f` with the stored frames whose sequence numbers are in
    /// `begin..=end`, in order, at most `max` of them, and returns the sequence
    /// number to continue from (`end + 1` when the range is done). Numbers with no
    /// stored frame (admin messages are not necessarily kept) are skipped.
    ///
    /// Bounded so that a ResendRequest for millions of messages is served in
    /// batches, never loaded at once.
    ///
    /// # Errors
    /// When the store cannot be read.
    fn read_range(
        &self,
        begin: u64,
        end: u64,
        max: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<u64, StoreError>;

    /// Makes everything stored so far durable, as far as the store can: the engine
    /// calls it when a session is finalized. Stores without a disk do nothing.
    ///
    /// # Errors
    /// When the data cannot be written out.
    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// How far the background sync has come; see [`SyncMarks`]. Stores that do
    /// not sync in the background report all zeros.
    fn sync_marks(&self) -> SyncMarks {
        SyncMarks::default()
    }
    /// Asks for everything appended so far to be made durable in the background,
    /// returning at once; [`sync_marks`](Self::sync_marks) shows when it is.
    /// Stores that do not sync in the background do nothing.
    fn sync_in_background(&self) {}
    /// Makes every append so far durable now, on the calling thread — what
    /// [`sync_in_background`](Self::sync_in_background) does without a thread
    /// hand-off either way, for a caller with nothing else to do meanwhile.
    /// Sequence numbers are not necessarily synced. Stores that do not sync in
    /// the background do nothing.
    ///
    /// # Errors
    /// When the data cannot be written out; nothing more is then claimed durable.
    fn sync_appends(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Sets what to call, from the background thread, each time
    /// [`sync_marks`](Self::sync_marks) moves. Stores that do not sync in the
    /// background never call it.
    fn on_background_sync(&self, wake: SyncWake) {
        let _ = wake;
    }

    /// Starts a new FIX session: both sequence numbers back to 1, no stored messages.
    ///
    /// # Errors
    /// When the reset cannot be stored.
    fn reset(&mut self) -> Result<(), StoreError>;
}
