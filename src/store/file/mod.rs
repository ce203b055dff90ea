//! [`FileStore`]: the memory-mapped session store, and the design behind it.
//!
//! The type's own docs are the user's view: what it is, and what each
//! [`SyncPolicy`] survives. This is the maintainer's: where the bytes are, what
//! happens on open after a crash, how group commit and the background thread
//! work, what a full disk does, and which archived generations are kept. The
//! code is split by concern: [`options`] (what a store is opened with),
//! [`generation`] (a header and its segments: append, roll, retention, read,
//! sync), [`segment`] (one log file), [`header`] (the sequence-number slots),
//! [`archive`] (the archived generations: listing and retention) and [`disk`]
//! (locking, renames, zero-fill, naming); the one `unsafe` call, mapping a
//! file, is in [`crate::mmap`].
//!
//! # On disk
//!
//! ```text
//! <root>/<folder named from the session key>/
//!   lock                 held with an exclusive file lock while a FileStore is open
//!   key                  the session key, to catch two keys whose folder names collide
//!   current/             the live generation
//!     header             4 KiB, mapped: magic, version, creation time, generation,
//!                        next sender / next target sequence numbers (two slots)
//!     0000000001.log     log segments, mapped, append-only: records of
//!     0000000002.log     [length, seq, checksum] + the frame's wire bytes
//!     0000000003.prealloc.tmp
//!                        the next segment, blank, being prepared by the
//!                        background thread (never read; see below)
//!   archive/
//!     0000000001/        a generation archived by reset(): its header and segments
//!     0000000001-1/      the same number archived again (a crash left the first)
//! ```
//!
//! The byte formats are documented in `src/store/layout.rs`. The folder name keeps
//! `[A-Za-z0-9._-]` of the key and percent-encodes every other byte (a leading `.`
//! too), with a hash suffix for keys with upper-case letters (case-insensitive file
//! systems) or too long for a file name.
//!
//! # Archived generations
//!
//! [`reset`] moves `current/` to `archive/<generation>/` and keeps it: the
//! messages of an earlier sequence, for an audit or a dispute, never read by the
//! store again. Nothing is deleted unless the options say so:
//! [`max_archives`](FileStoreOptions::max_archives) keeps the newest N (by
//! generation number), [`max_archive_age`](FileStoreOptions::max_archive_age)
//! deletes those whose newest file was last written longer ago than the age
//! (by the options' clock). The policy is applied when the store opens and
//! right after each reset has archived a generation, with a `log::info!` per
//! folder deleted. A folder that cannot be deleted is a `log::warn!` and is
//! tried again next time: it costs disk space, not correctness, so the reset
//! (or the open) still succeeds. Only folders named as the store names them
//! are deleted, and never `current/`.
//!
//! # Recovery on open
//!
//! - Each segment is scanned forward; the first record that is blank, cut short,
//!   not above the previous sequence number, or fails its checksum ends it. Every
//!   non-zero byte from there on is zeroed (and synced) with a `log::warn!` naming
//!   the file, the offset and the byte count, so later appends start clean. The
//!   index (seq → segment, offset) is rebuilt from the records kept.
//! - The next sender number is the larger of the header's and one past the last
//!   stored record (an append writes only its record, so after a crash the log is
//!   ahead of the header).
//! - The newest segment cut inside its own 16-byte header is started again, empty.
//!   Half-created files (`*.tmp`, `current.tmp/`) hold nothing yet and are removed:
//!   among them segments the background thread prepared that no roll took
//!   (`*.prealloc.tmp`), which are never read, whatever they hold. A segment
//!   exists under its `NNNNNNNNNN.log` name only once a roll renamed it there.
//! - A wrong magic number, an unknown version (such as a store written by an
//!   older format), a damaged header (both sequence slots failing their checksum)
//!   or an older segment without a valid header is a named [`StoreError`]: never
//!   a panic, never a silent reset.
//!
//! # Group commit
//!
//! Under [`SyncPolicy::Group`] an append returns at once. The owner asks for
//! what it appended to be made durable ([`MessageStore::sync_in_background`]); a
//! thread per store ([`crate::store::flusher`]) syncs in groups and publishes how
//! far it has come ([`MessageStore::sync_marks`]). The owner holds each message
//! back until its record is durable — the engine does, for `StorageSync = every`
//! — so nothing sent is lost on a power cut, at one `fdatasync` per group rather
//! than per message.
//!
//! Sequence-number updates are synced with the header on [`FileStore::sync`] and
//! at each segment roll, not per message: after a power cut the inbound number
//! may fall back, and the counterparty resends (PossDupFlag=Y) what it covered;
//! the outbound number never does, as it is recovered from the log.
//!
//! # Safety of the maps
//!
//! Every file is mapped through [`crate::mmap`], whose docs hold the whole
//! argument. What it relies on from this module: the session folder's lock is
//! held for the store's life, and a mapped file is written through its map and
//! only ever grown, never cut shorter than a live map.
//!
//! # Disk full
//!
//! A segment grows by writing zeros with `write`, never by `set_len`, so it is
//! never sparse: its blocks are allocated as it grows, and a full disk surfaces as
//! an error from [`append`] at growth time (the failed append changes nothing)
//! rather than as SIGBUS on a later store into the map. When a doubling does not
//! fit, growth retries with just the room the record needs. (MADV_POPULATE_WRITE
//! on a sparse extension gives the same guarantee, but measured 15% slower per
//! append here. A copy-on-write file system such as btrfs or ZFS can still fail
//! at write-back; use a file system that allocates in place for the store.)
//!
//! With [`preallocate`](FileStoreOptions::preallocate) on, the next segment is
//! allocated in full by the background thread, ahead of time: a full disk shows
//! there first, as a warning, and the roll then creates the segment itself, which
//! reports the error from [`append`] as above. The prepared segment takes up to
//! `segment_size` of disk before it is used.
//!
//! [`append`]: MessageStore::append
//!
//! # Background thread
//!
//! The appending thread (the session's worker) owns the store and takes no lock.
//! What is slow on its path is the kernel's: zero-filling new file pages as a
//! segment grows, faulting them into the map, and freeing the pages of a segment
//! deleted by [`max_segments`](FileStoreOptions::max_segments). With
//! [`preallocate`](FileStoreOptions::preallocate) on (the default), a thread per
//! store does that work instead:
//!
//! - Once the first segment is half full, and right after every roll from then
//!   on, it prepares the next segment: `NNNNNNNNNN.prealloc.tmp` in the same
//!   folder, the segment header and zeros written to the full `segment_size`
//!   (allocated, as above), fsync'd unless the policy is [`SyncPolicy::None`],
//!   then mapped with every page touched.
//! - At the roll, if the prepared segment is ready, it is renamed to the new
//!   segment's name (and the folder synced unless the policy is
//!   [`SyncPolicy::None`]), the same order as a segment created at the roll: its
//!   header and zeros are durable before the name is. If it is not ready (the
//!   thread fell behind, failed, or could not start) the roll creates the segment
//!   itself, at `initial_segment_len` growing by doubling, as without the thread,
//!   and the late one serves the following roll. Correctness never depends on the
//!   thread.
//! - A segment deleted by `max_segments` is unlinked at the roll; its map, the
//!   last reference to its pages, is dropped on the thread.
//!
//! The thread starts the first time it is needed (a store that never fills half
//! a segment has none), and is stopped and joined, a preparation in progress cut
//! short and any unused prepared segment removed, on [`reset`] and when the store
//! is dropped, before the session folder's lock is released.
//!
//! [`reset`]: MessageStore::reset

mod archive;
mod disk;
mod generation;
mod header;
mod inspect;
mod options;
mod segment;

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use self::disk::{
    ARCHIVE, CURRENT, CURRENT_TMP, KEY, LOCK, check_key, free_archive_name, io_at, lock,
    newest_archived, next_generation, rename, sync_dir,
};
use self::generation::Generation;
use super::flusher::{Flusher, Marks};
use super::naming;
use crate::store::{MessageStore, StoreError, SyncMarks, SyncWake};

pub use self::inspect::{ArchivedInfo, SegmentInfo, StoreInfo, inspect, read_stored};
pub use self::options::{FileStoreOptions, SyncPolicy};
pub(super) use self::segment::PAGE;

/// A session's sequence numbers and sent messages in memory-mapped files under one
/// folder, surviving restarts.
///
/// The folder is locked while the store is open, so a session has one store at a
/// time. Opening checks what a crash left: a damaged or half-written tail is cut
/// off with a warning, and a file that is not a store file this build reads is a
/// named [`StoreError`], never a panic or a silent reset. Segments are allocated
/// as they grow, so a full disk is an error from
/// [`append`](MessageStore::append); keep the store on a file system that
/// allocates in place (not a copy-on-write one such as btrfs or ZFS).
///
/// # What each [`SyncPolicy`] survives
///
/// | policy | process crash, kill -9 | power cut, kernel panic | cost per append |
/// |---|---|---|---|
/// | [`SyncPolicy::None`] | everything appended | what the kernel wrote back (about 30 s) | a memory copy |
/// | [`SyncPolicy::Periodic`]`(n)` | everything appended | all but the last `n - 1` appends | one msync per `n` |
/// | [`SyncPolicy::EveryMessage`] | everything appended | everything appended | one msync |
/// | [`SyncPolicy::Group`] | everything appended | everything its owner sent (it holds each message until its record is durable) | one fdatasync per group, on a thread or the caller's |
///
/// Whatever the policy, what reaches the disk is checked on open: a record cut short
/// or damaged is cut off, with a warning, and so is everything after it.
///
/// A [`reset`](MessageStore::reset) archives the old generation in the folder and
/// keeps it, unless [`max_archives`](FileStoreOptions::max_archives) or
/// [`max_archive_age`](FileStoreOptions::max_archive_age) say otherwise.
///
/// The design — the files on disk, archived generations, recovery on open, group
/// commit, why the maps are sound, a full disk, the background thread — is written up in the docs of
/// the private module `store::file` (`src/store/file/mod.rs`; rendered by
/// `cargo doc --document-private-items`).
///
/// # Example
///
/// ```no_run
/// use fixengine::store::{FileStore, FileStoreOptions, MessageStore};
///
/// let mut store = FileStore::open("store".as_ref(), "FIX.4.4-ISLD-TW", FileStoreOptions::default())?;
/// let seq = store.next_sender_seq();
/// store.append(seq, b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")?;
/// store.sync()?; // on shutdown
/// # Ok::<(), fixengine::store::StoreError>(())
/// ```
pub struct FileStore {
    dir: PathBuf,
    options: FileStoreOptions,
    /// Held, never read: its lock is the single-owner guarantee, and the kernel
    /// releases it however the process ends.
    _lock: File,
    generation: Generation,
    /// Appends over the store's life, for [`SyncMarks`].
    appended: u64,
    /// The largest `appended` handed to the flusher.
    requested: std::cell::Cell<u64>,
    /// What the flusher publishes; shared across resets.
    marks: Arc<Marks>,
    /// The group-commit thread ([`SyncPolicy::Group`]), started on the first
    /// request; one per generation, as it holds the active segment's file.
    flusher: std::cell::OnceCell<Option<Flusher>>,
}

impl FileStore {
    /// Opens (or creates) the store of session `session_key` (for example
    /// "FIX.4.4-ISLD-TW") under `root`, recovering from any crash: a damaged or
    /// half-written last record is cut off with a warning, and the next outbound
    /// sequence number is set past the last stored message.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another `FileStore` has the session open;
    /// [`StoreError::InvalidSessionKey`] for an empty key; [`StoreError::BadMagic`],
    /// [`StoreError::VersionMismatch`] or [`StoreError::Corrupt`] when a file is not
    /// a store file this build reads, or damaged beyond a cut-off tail;
    /// [`StoreError::KeyMismatch`] when the folder belongs to another key;
    /// [`StoreError::Io`] when the file system fails.
    pub fn open(
        root: &Path,
        session_key: &str,
        options: FileStoreOptions,
    ) -> Result<Self, StoreError> {
        let name =
            naming::folder_name(session_key).ok_or_else(|| StoreError::InvalidSessionKey {
                key: session_key.to_owned(),
                why: "it is empty",
            })?;
        let dir = root.join(name);
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let lock = lock(&dir.join(LOCK))?;
        check_key(&dir.join(KEY), session_key)?;

        let tmp = dir.join(CURRENT_TMP);
        if tmp.exists() {
            // Only ever a new, empty generation that a crash kept from being renamed
            // into place: nothing to keep.
            log::warn!("{}: removing a generation left half-created", tmp.display());
            fs::remove_dir_all(&tmp).map_err(io_at(&tmp))?;
        }
        let current = dir.join(CURRENT);
        let generation = if current.exists() {
            Generation::open(current, &options)?
        } else {
            // A new folder, or a crash during reset() after the old generation was
            // archived: start the generation after the newest archived one.
            let number = match newest_archived(&dir.join(ARCHIVE))? {
                None => 1,
                Some(n) => next_generation(n, &dir)?,
            };
            let mut g = Generation::create(tmp.clone(), number, &options)?;
            rename(&tmp, &current)?;
            sync_dir(&dir, &options)?;
            g.moved_to(current);
            g
        };
        // Also catches up with a policy tightened since the last run.
        archive::retain(&dir.join(ARCHIVE), &options);
        Ok(Self {
            appended: 0,
            requested: std::cell::Cell::new(0),
            marks: Arc::default(),
            flusher: std::cell::OnceCell::new(),
            dir,
            options,
            _lock: lock,
            generation,
        })
    }

    /// Writes every change not yet on disk (log and sequence numbers) and waits for
    /// the disk. The engine calls it when a session is finalized (so also at
    /// shutdown) and, under [`SyncPolicy::Group`], when a connection closes with
    /// messages still held back. It runs no sync timer: between these calls, what
    /// the policy does not sync waits for the kernel's write-back.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the kernel reports a write-back failure.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        if let Err(e) = self.generation.sync_all() {
            self.sync_failed();
            return Err(e);
        }
        self.mark_durable();
        Ok(())
    }

    /// Every append so far is on disk — unless a sync failed before: the kernel
    /// reports a write-back error once, so a later sync that succeeds proves
    /// nothing about the pages lost, and nothing more is claimed durable.
    fn mark_durable(&self) {
        if !self.marks.failed.load(Ordering::Acquire) {
            self.marks
                .durable
                .fetch_max(self.appended, Ordering::AcqRel);
        }
    }

    /// Nothing more will be claimed durable (group commit only: the other
    /// policies report nothing in their marks).
    fn sync_failed(&self) {
        if self.options.sync == SyncPolicy::Group {
            self.marks.failed.store(true, Ordering::Release);
        }
    }

    /// Under [`SyncPolicy::Group`] the flusher syncs only the active segment: the
    /// one just sealed is synced here, once per roll, with the header.
    #[cold]
    fn rolled_under_group_commit(&mut self) {
        if let Err(e) = self.generation.sync_dirty() {
            log::error!("{}: sync at a segment roll failed: {e}", self.dir.display());
            self.sync_failed();
            return;
        }
        self.mark_durable();
        let Some(Some(flusher)) = self.flusher.get() else {
            return;
        };
        match self.generation.active.file.as_ref().map(File::try_clone) {
            Some(Ok(file)) => flusher.rolled(file),
            Some(Err(e)) => {
                log::error!(
                    "{}: the background sync cannot follow the roll: {e}",
                    self.dir.display()
                );
                self.sync_failed();
            }
            None => {}
        }
    }

    /// The session's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generation: 1 for a new folder, +1 on every [`reset`](MessageStore::reset).
    pub fn generation(&self) -> u64 {
        self.generation.header.id.generation
    }

    /// When the current generation began, in nanoseconds since the unix epoch.
    pub fn created_unix_nanos(&self) -> i64 {
        self.generation.header.id.created_unix_nanos
    }

    /// The number of stored frames.
    pub fn len(&self) -> usize {
        self.generation.index.len()
    }

    /// True when no frame is stored.
    pub fn is_empty(&self) -> bool {
        self.generation.index.is_empty()
    }

    /// The number of log segments of the current generation.
    pub fn segment_count(&self) -> usize {
        self.generation.sealed.len() + 1
    }
}

impl MessageStore for FileStore {
    fn sync(&mut self) -> Result<(), StoreError> {
        Self::sync(self)
    }

    fn next_sender_seq(&self) -> u64 {
        self.generation.next_sender
    }

    fn next_target_seq(&self) -> u64 {
        self.generation.header.slot.next_target
    }

    fn set_next_sender_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        let target = self.next_target_seq();
        self.generation.header.update(seq, target, &self.options)?;
        self.generation.next_sender = seq;
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        let sender = self.next_sender_seq();
        self.generation.header.update(sender, seq, &self.options)
    }

    /// Stores the frame; see [`MessageStore::append`]. MsgSeqNum 0 is refused as
    /// out of order: FIX numbers start at 1, and the log reads 0 as blank space.
    fn append(&mut self, seq: u64, frame: &[u8]) -> Result<(), StoreError> {
        let segment = self.generation.active.number;
        let appended = self.generation.append(seq, frame, &self.options);
        if appended.is_ok() {
            self.appended += 1;
        }
        // Even when the append failed after its roll (the new segment could not
        // grow): the flusher must follow the new active segment.
        if self.options.sync == SyncPolicy::Group && self.generation.active.number != segment {
            self.rolled_under_group_commit();
        }
        appended
    }

    fn sync_marks(&self) -> SyncMarks {
        if self.options.sync != SyncPolicy::Group {
            return SyncMarks::default();
        }
        SyncMarks {
            appended: self.appended,
            durable: self.marks.durable.load(Ordering::Acquire),
            failed: self.marks.failed.load(Ordering::Acquire),
        }
    }

    fn sync_in_background(&self) {
        if self.options.sync != SyncPolicy::Group || self.requested.get() >= self.appended {
            return;
        }
        let flusher = self.flusher.get_or_init(|| {
            let started = self
                .generation
                .active
                .file
                .as_ref()
                .map(File::try_clone)
                .transpose()
                .and_then(|file| match file {
                    Some(f) => Flusher::spawn(f, Arc::clone(&self.marks), self.dir.clone()),
                    None => Err(io::Error::other("the active segment has no open file")),
                });
            match started {
                Ok(f) => Some(f),
                Err(e) => {
                    // Nothing will become durable: say so, and the caller stops.
                    log::error!(
                        "{}: cannot start the background sync thread: {e}",
                        self.dir.display()
                    );
                    self.sync_failed();
                    None
                }
            }
        });
        if let Some(f) = flusher {
            f.sync(self.appended);
            self.requested.set(self.appended);
        }
    }

    fn sync_appends(&mut self) -> Result<(), StoreError> {
        if self.options.sync != SyncPolicy::Group {
            return Ok(());
        }
        if self.marks.failed.load(Ordering::Acquire) {
            return Err(StoreError::Io {
                path: self.dir.clone(),
                source: io::Error::other("an earlier sync failed: nothing more is durable"),
            });
        }
        if let Err(e) = self.generation.sync_log() {
            self.sync_failed();
            return Err(e);
        }
        self.mark_durable();
        Ok(())
    }

    fn on_background_sync(&self, wake: SyncWake) {
        self.marks.set_wake(wake);
    }

    fn read_range(
        &self,
        begin: u64,
        end: u64,
        max: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<u64, StoreError> {
        self.generation.read_range(begin, end, max, f)
    }

    /// Syncs the current generation, archives it under `archive/<generation>/` and
    /// starts an empty one, both sequence numbers at 1. Nothing is deleted, except
    /// archived generations beyond [`max_archives`](FileStoreOptions::max_archives)
    /// or older than [`max_archive_age`](FileStoreOptions::max_archive_age) (a
    /// deletion that fails is a warning, not an error of the reset). The new
    /// generation is built as `current.tmp/` and renamed into place, so a crash
    /// leaves either the old generation live or the new one.
    fn reset(&mut self) -> Result<(), StoreError> {
        if self.is_empty() && self.next_sender_seq() == 1 && self.next_target_seq() == 1 {
            // Already a new session: nothing to archive. A counterparty logging on
            // with ResetSeqNumFlag=Y every time must not leave a generation per Logon.
            return Ok(());
        }
        Self::sync(self)?;
        // The thread writes into `current/`, which is about to move to the archive.
        self.generation.stop_background(&self.options);
        // The flusher holds the old generation's segment: a new one follows it.
        self.flusher = std::cell::OnceCell::new();
        let old = self.generation.header.id.generation;
        let new = next_generation(old, &self.dir)?;
        let tmp = self.dir.join(CURRENT_TMP);
        let current = self.dir.join(CURRENT);
        let archive = self.dir.join(ARCHIVE);
        let mut fresh = match Generation::create(tmp.clone(), new, &self.options) {
            Ok(g) => g,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        let undo_tmp = |e: StoreError, fresh: Generation| {
            drop(fresh);
            let _ = fs::remove_dir_all(&tmp);
            e
        };
        if let Err(e) = fs::create_dir_all(&archive).map_err(io_at(&archive)) {
            return Err(undo_tmp(e, fresh));
        }
        let dest = free_archive_name(&archive, old);
        if let Err(e) = rename(&current, &dest) {
            return Err(undo_tmp(e, fresh));
        }
        if let Err(e) = rename(&tmp, &current) {
            // Put the old generation back so the store stays what it was.
            let _ = fs::rename(&dest, &current);
            return Err(undo_tmp(e, fresh));
        }
        // The renames are done: the store is the new generation now, even if making
        // the renames durable fails below.
        fresh.moved_to(current);
        self.generation = fresh;
        sync_dir(&self.dir, &self.options)?;
        sync_dir(&archive, &self.options)?;
        log::info!(
            "{}: reset to generation {new}; generation {old} archived in {}",
            self.dir.display(),
            dest.display()
        );
        archive::retain(&archive, &self.options);
        Ok(())
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("generation", &self.generation())
            .field("next_sender", &self.next_sender_seq())
            .field("next_target", &self.next_target_seq())
            .field("frames", &self.len())
            .field("segments", &self.segment_count())
            .field("sync", &self.options.sync)
            .finish_non_exhaustive()
    }
}

impl Drop for FileStore {
    fn drop(&mut self) {
        // A clean close leaves the header exact, so the next open has nothing to
        // derive from the log; the kernel writes the page back either way.
        self.generation.write_next_sender();
        // Before the lock is released with the fields: the threads must be done
        // with the folder when another FileStore may open it.
        self.generation.stop_background(&self.options);
        self.flusher.take();
        if self.options.sync != SyncPolicy::None
            && let Err(e) = self.generation.sync_all()
        {
            log::warn!("{}: sync on close failed: {e}", self.dir.display());
        }
    }
}

#[cfg(test)]
mod tests;
