//! `FileStore`: the memory-mapped session store; its docs give the layout on disk,
//! the recovery on open and what each sync policy survives.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::num::{NonZeroU32, NonZeroUsize};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use memmap2::{Advice, MmapMut};

use super::flusher::{Flusher, Marks};
use super::layout::{self, FormatError, Identity, Slot};
use super::mmap::map;
use super::naming;
use super::prealloc::{self, Preallocator};
use crate::clock::{Clock, SystemClock};
use crate::store::{MessageStore, StoreError, SyncMarks, SyncWake, read_batch};

/// When [`FileStore`] asks the kernel to write its maps to the disk (msync or
/// fdatasync).
///
/// See [`FileStore`] for what each policy survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Never, unless [`FileStore::sync`] is called: the page cache holds the data,
    /// which survives the process being killed but not the machine losing power.
    #[default]
    None,
    /// After every `n` appends (and on [`FileStore::sync`]). Counted in appends, not
    /// time, so the store needs no clock; an engine wanting a time bound calls
    /// [`FileStore::sync`] from its timer.
    Periodic(NonZeroU32),
    /// After every append and every sequence-number update: nothing acknowledged is
    /// lost on a power cut, at the price of an msync per message (of its record, or
    /// of the header when a number is set).
    EveryMessage,
    /// Group commit: an append returns at once, and a background thread makes
    /// records durable in groups when asked
    /// ([`MessageStore::sync_in_background`]), publishing how far it has come
    /// ([`MessageStore::sync_marks`]). The caller holds each message back until
    /// its record is durable — the engine does, for `StorageSync = every` — so
    /// nothing sent is lost on a power cut, at one `fdatasync` per group rather
    /// than per message. Sequence-number updates are synced with the header on
    /// [`FileStore::sync`] and at each segment roll, not per message: after a
    /// power cut the inbound number may fall back, and the counterparty resends
    /// (PossDupFlag=Y) what it covered; the outbound number never does, as it is
    /// recovered from the log.
    Group,
}

/// How a [`FileStore`] is laid out and synced. Build with [`Default`] and the setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FileStoreOptions {
    /// When to sync to disk. Default [`SyncPolicy::None`].
    pub sync: SyncPolicy,
    /// A segment stops taking records once the next one would take it past this
    /// many bytes; the next record starts a new segment. A record bigger than this
    /// gets a segment of its own. Default 64 MiB; at least 4 KiB.
    pub segment_size: u64,
    /// The first size of a segment file created on the appending thread; it
    /// doubles as it fills, up to `segment_size`. A segment prepared by the
    /// background thread (see [`preallocate`](Self::preallocate)) has the full
    /// `segment_size` at once. Default 1 MiB; at least 4 KiB.
    pub initial_segment_len: u64,
    /// How many segments to keep: when a new segment would make more, the oldest is
    /// deleted, and its messages are no longer stored (a resend gap-fills them).
    /// Default `None`: keep every segment.
    pub max_segments: Option<NonZeroUsize>,
    /// Whether a background thread prepares the next segment (created and
    /// zero-filled to the full `segment_size`) ahead of the roll, and frees
    /// deleted ones, keeping that work off the appending thread; see
    /// [Background thread](FileStore#background-thread). Off, every segment is
    /// created at the roll and grown on the appending thread. Default `true`.
    pub preallocate: bool,
    /// The clock stamping a generation's creation time. Default [`SystemClock`].
    pub clock: Arc<dyn Clock>,
}

impl Default for FileStoreOptions {
    fn default() -> Self {
        Self {
            sync: SyncPolicy::None,
            segment_size: 64 << 20,
            initial_segment_len: 1 << 20,
            max_segments: None,
            preallocate: true,
            clock: Arc::new(SystemClock),
        }
    }
}

impl FileStoreOptions {
    /// Sets [`sync`](Self::sync).
    pub fn sync(mut self, policy: SyncPolicy) -> Self {
        self.sync = policy;
        self
    }

    /// Sets [`segment_size`](Self::segment_size).
    pub fn segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes;
        self
    }

    /// Sets [`initial_segment_len`](Self::initial_segment_len).
    pub fn initial_segment_len(mut self, bytes: u64) -> Self {
        self.initial_segment_len = bytes;
        self
    }

    /// Sets [`max_segments`](Self::max_segments).
    pub fn max_segments(mut self, max: Option<NonZeroUsize>) -> Self {
        self.max_segments = max;
        self
    }

    /// Sets [`preallocate`](Self::preallocate).
    pub fn preallocate(mut self, on: bool) -> Self {
        self.preallocate = on;
        self
    }

    /// Sets [`clock`](Self::clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn segment_size_bytes(&self) -> usize {
        to_usize(self.segment_size.max(MIN_SEGMENT_LEN))
    }

    fn initial_len_bytes(&self) -> usize {
        to_usize(self.initial_segment_len.max(MIN_SEGMENT_LEN)).min(self.segment_size_bytes())
    }

    /// The active segment's length past which the next one is prepared in the
    /// background; `usize::MAX` (never) when that is off.
    fn prepare_at(&self) -> usize {
        if self.preallocate {
            self.segment_size_bytes() / 2
        } else {
            usize::MAX
        }
    }
}

/// A session's sequence numbers and sent messages in memory-mapped files under one
/// folder, surviving restarts.
///
/// # On disk
///
/// ```text
/// <root>/<folder named from the session key>/
///   lock                 held with an exclusive file lock while a FileStore is open
///   key                  the session key, to catch two keys whose folder names collide
///   current/             the live generation
///     header             4 KiB, mapped: magic, version, creation time, generation,
///                        next sender / next target sequence numbers (two slots)
///     0000000001.log     log segments, mapped, append-only: records of
///     0000000002.log     [length, seq, checksum] + the frame's wire bytes
///     0000000003.prealloc.tmp
///                        the next segment, blank, being prepared by the
///                        background thread (never read; see below)
///   archive/
///     0000000001/        a generation archived by reset(): its header and segments
/// ```
///
/// The byte formats are documented in `src/store/layout.rs`. The folder name keeps
/// `[A-Za-z0-9._-]` of the key and percent-encodes every other byte (a leading `.`
/// too), with a hash suffix for keys with upper-case letters (case-insensitive file
/// systems) or too long for a file name.
///
/// # Recovery on open
///
/// - Each segment is scanned forward; the first record that is blank, cut short,
///   not above the previous sequence number, or fails its checksum ends it. Every
///   non-zero byte from there on is zeroed (and synced) with a `log::warn!` naming
///   the file, the offset and the byte count, so later appends start clean. The
///   index (seq → segment, offset) is rebuilt from the records kept.
/// - The next sender number is the larger of the header's and one past the last
///   stored record (an append writes only its record, so after a crash the log is
///   ahead of the header).
/// - The newest segment cut inside its own 16-byte header is started again, empty.
///   Half-created files (`*.tmp`, `current.tmp/`) hold nothing yet and are removed:
///   among them segments the background thread prepared that no roll took
///   (`*.prealloc.tmp`), which are never read, whatever they hold. A segment
///   exists under its `NNNNNNNNNN.log` name only once a roll renamed it there.
/// - A wrong magic number, an unknown version (such as a store written by an
///   older format), a damaged header (both sequence slots failing their checksum)
///   or an older segment without a valid header is a named [`StoreError`]: never
///   a panic, never a silent reset.
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
/// # Safety of the maps
///
/// A file mapped by a `FileStore` is written through the map and never resized
/// smaller while mapped. Nothing outside this module writes it: the session folder
/// is held with an exclusive lock for the store's life, so no second `FileStore`
/// maps the same files. Another program editing or truncating the files of an open
/// store is outside the contract (a truncation would raise SIGBUS on access).
///
/// # Disk full
///
/// A segment grows by writing zeros with `write`, never by `set_len`, so it is
/// never sparse: its blocks are allocated as it grows, and a full disk surfaces as
/// an error from [`append`] at growth time (the failed append changes nothing)
/// rather than as SIGBUS on a later store into the map. When a doubling does not
/// fit, growth retries with just the room the record needs. (MADV_POPULATE_WRITE
/// on a sparse extension gives the same guarantee, but measured 15% slower per
/// append here. A copy-on-write file system such as btrfs or ZFS can still fail
/// at write-back; use a file system that allocates in place for the store.)
///
/// With [`preallocate`](FileStoreOptions::preallocate) on, the next segment is
/// allocated in full by the background thread, ahead of time: a full disk shows
/// there first, as a warning, and the roll then creates the segment itself, which
/// reports the error from [`append`] as above. The prepared segment takes up to
/// `segment_size` of disk before it is used.
///
/// [`append`]: MessageStore::append
///
/// # Background thread
///
/// The appending thread (the session's worker) owns the store and takes no lock.
/// What is slow on its path is the kernel's: zero-filling new file pages as a
/// segment grows, faulting them into the map, and freeing the pages of a segment
/// deleted by [`max_segments`](FileStoreOptions::max_segments). With
/// [`preallocate`](FileStoreOptions::preallocate) on (the default), a thread per
/// store does that work instead:
///
/// - Once the first segment is half full, and right after every roll from then
///   on, it prepares the next segment: `NNNNNNNNNN.prealloc.tmp` in the same
///   folder, the segment header and zeros written to the full `segment_size`
///   (allocated, as above), fsync'd unless the policy is [`SyncPolicy::None`],
///   then mapped with every page touched.
/// - At the roll, if the prepared segment is ready, it is renamed to the new
///   segment's name (and the folder synced unless the policy is
///   [`SyncPolicy::None`]), the same order as a segment created at the roll: its
///   header and zeros are durable before the name is. If it is not ready (the
///   thread fell behind, failed, or could not start) the roll creates the segment
///   itself, at `initial_segment_len` growing by doubling, as without the thread,
///   and the late one serves the following roll. Correctness never depends on the
///   thread.
/// - A segment deleted by `max_segments` is unlinked at the roll; its map, the
///   last reference to its pages, is dropped on the thread.
///
/// The thread starts the first time it is needed (a store that never fills half
/// a segment has none), and is stopped and joined, a preparation in progress cut
/// short and any unused prepared segment removed, on [`reset`] and when the store
/// is dropped, before the session folder's lock is released.
///
/// [`reset`]: MessageStore::reset
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
    /// sequence number is set past the last stored message (see
    /// [Recovery on open](FileStore#recovery-on-open)).
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
    /// the disk: the engine calls this on shutdown, and on its timer for a time
    /// bound under [`SyncPolicy::None`] or [`SyncPolicy::Periodic`].
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
    /// starts an empty one, both sequence numbers at 1; nothing is deleted. The new
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

/// One generation: a header and its log segments, in `dir`.
struct Generation {
    dir: PathBuf,
    header: Header,
    /// Full segments, oldest first.
    sealed: VecDeque<Segment>,
    /// The segment taking appends.
    active: Segment,
    /// Every stored record, ascending by seq.
    index: VecDeque<Entry>,
    /// The last stored seq; 0 when none (FIX numbers start at 1).
    last_seq: u64,
    /// The next outbound number. An append advances it without touching the
    /// header: the record itself is the durable step (on open the number is
    /// derived as past the log's last record), which keeps an append to one write
    /// and one msync. The header slot catches up on set_next_*, sync and close.
    next_sender: u64,
    /// The first log byte not yet synced: (segment number, offset).
    dirty: Option<(u32, usize)>,
    /// Appends since the last sync, counted under [`SyncPolicy::Periodic`] only:
    /// under the other policies nothing reads it, and nothing would reset it.
    unsynced_appends: u32,
    /// The background thread, started on first need; `None` before that, after
    /// it is stopped, or when it could not be started.
    background: Option<Preallocator>,
    /// The active segment's end past which the next segment is asked of the
    /// background thread; `usize::MAX` once asked, or when that is off.
    prepare_at: usize,
}

/// Where a stored frame is.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    segment: u32,
    len: u32,
    /// The record's offset in its segment.
    offset: usize,
}

struct Header {
    path: PathBuf,
    map: MmapMut,
    id: Identity,
    slot: Slot,
    dirty: bool,
}

struct Segment {
    number: u32,
    path: PathBuf,
    /// Open while the segment may grow; closed once sealed, since its map stays
    /// valid without it and a long-lived session would otherwise hold one
    /// descriptor per segment.
    file: Option<File>,
    map: MmapMut,
    /// Where the next record goes.
    end: usize,
    /// The map is write-faulted in up to here (see [`Segment::populate_ahead`]).
    populated: usize,
}

impl Generation {
    /// Creates generation `number` in the new folder `dir`: a header at 1 and 1 and
    /// one empty segment.
    fn create(dir: PathBuf, number: u64, options: &FileStoreOptions) -> Result<Self, StoreError> {
        fs::create_dir(&dir).map_err(io_at(&dir))?;
        let created = i64::try_from(options.clock.now_utc().unix_nanos()).unwrap_or(i64::MAX);
        let id = Identity {
            created_unix_nanos: created,
            generation: number,
        };
        let path = dir.join(HEADER);
        let file = create_file(&path)?;
        file.write_all_at(&layout::new_header(id, 1, 1), 0)
            .map_err(io_at(&path))?;
        if options.sync != SyncPolicy::None {
            file.sync_all().map_err(io_at(&path))?;
        }
        let header = Header::open(path, file)?;
        let active = Segment::create(&dir, 1, options)?;
        sync_dir(&dir, options)?;
        Ok(Self {
            dir,
            header,
            sealed: VecDeque::new(),
            active,
            index: VecDeque::new(),
            last_seq: 0,
            next_sender: 1,
            dirty: None,
            unsynced_appends: 0,
            background: None,
            prepare_at: options.prepare_at(),
        })
    }

    /// Opens the generation in `dir`, cutting off a damaged log tail and rebuilding
    /// the index.
    fn open(dir: PathBuf, options: &FileStoreOptions) -> Result<Self, StoreError> {
        let path = dir.join(HEADER);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_at(&path))?;
        let header = Header::open(path, file)?;

        let mut numbers = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_at(&dir))? {
            let entry = entry.map_err(io_at(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.ends_with(".tmp") {
                // A segment a crash kept from being renamed into place, or one the
                // background thread prepared that no roll took: it held no record.
                let what = if name.ends_with(prealloc::PREPARED_SUFFIX) {
                    "an unused prepared segment"
                } else {
                    "a half-created segment"
                };
                log::warn!("{}: removing {what}", entry.path().display());
                fs::remove_file(entry.path()).map_err(io_at(&entry.path()))?;
            } else if let Some(n) = parse_segment_name(name) {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        let Some(&last_number) = numbers.last() else {
            let active = Segment::create(&dir, 1, options)?;
            let (sealed, index) = (VecDeque::new(), VecDeque::new());
            return Ok(Self::assemble(
                dir, header, sealed, active, index, 0, options,
            ));
        };

        let mut sealed = VecDeque::new();
        let mut index = VecDeque::new();
        let mut last_seq = 0;
        let mut active = None;
        for &number in &numbers {
            let is_last = number == last_number;
            let seg = Segment::recover(&dir, number, is_last, &mut index, &mut last_seq)?;
            if is_last {
                active = Some(seg);
            } else {
                sealed.push_back(seg);
            }
        }
        let Some(active) = active else {
            // Unreachable: the last number is in the list; rebuild rather than panic.
            return Err(StoreError::Corrupt {
                path: dir,
                offset: 0,
                why: "no active segment",
            });
        };
        if header.slot.next_sender <= last_seq {
            // Appends after the last header update and no clean close: expected after
            // a crash, since an append writes only its record.
            log::info!(
                "{}: next sender sequence number {} moved past the last stored message, to {}",
                header.path.display(),
                header.slot.next_sender,
                last_seq.saturating_add(1)
            );
        }
        Ok(Self::assemble(
            dir, header, sealed, active, index, last_seq, options,
        ))
    }

    /// Points the paths at `dir`, where the generation's folder was renamed.
    fn moved_to(&mut self, dir: PathBuf) {
        self.header.path = dir.join(HEADER);
        for seg in self
            .sealed
            .iter_mut()
            .chain(std::iter::once(&mut self.active))
        {
            seg.path = dir.join(segment_name(seg.number));
        }
        self.dir = dir;
    }

    fn assemble(
        dir: PathBuf,
        header: Header,
        sealed: VecDeque<Segment>,
        active: Segment,
        index: VecDeque<Entry>,
        last_seq: u64,
        options: &FileStoreOptions,
    ) -> Self {
        let next_sender = header.slot.next_sender.max(last_seq.saturating_add(1));
        Self {
            dir,
            header,
            sealed,
            active,
            index,
            last_seq,
            next_sender,
            dirty: None,
            unsynced_appends: 0,
            background: None,
            prepare_at: options.prepare_at(),
        }
    }

    fn append(
        &mut self,
        seq: u64,
        frame: &[u8],
        options: &FileStoreOptions,
    ) -> Result<(), StoreError> {
        if seq == 0 || seq <= self.last_seq {
            return Err(StoreError::OutOfOrder {
                seq,
                expected: self.next_sender,
            });
        }
        let len = u32::try_from(frame.len()).map_err(|_| StoreError::Full { len: frame.len() })?;
        let rec = layout::record_len(frame.len());
        self.make_room(rec, options)?;

        let offset = self.active.end;
        if options.sync != SyncPolicy::Group {
            // Not under group commit: its whole-file fdatasync would write the
            // populated pages ahead, and make them fault again afterwards.
            self.active.populate_ahead(offset, offset + rec);
        }
        layout::write_record(&mut self.active.map[offset..offset + rec], seq, frame);
        let before = (self.next_sender, self.dirty, self.last_seq);
        self.next_sender = seq.saturating_add(1);
        self.index.push_back(Entry {
            seq,
            segment: self.active.number,
            len,
            offset,
        });
        self.active.end = offset + rec;
        self.last_seq = seq;
        self.dirty.get_or_insert((self.active.number, offset));

        let due = match options.sync {
            // Group: synced when the owner asks, on the flusher thread.
            SyncPolicy::None | SyncPolicy::Group => false,
            SyncPolicy::Periodic(n) => {
                self.unsynced_appends = self.unsynced_appends.saturating_add(1);
                self.unsynced_appends >= n.get()
            }
            SyncPolicy::EveryMessage => true,
        };
        if due && let Err(e) = self.sync_dirty() {
            // Not stored: take the record back out so the store matches what
            // the caller is told. The fill runs forward from the record header,
            // so a crash during the undo still leaves no valid record.
            let (next_sender, dirty, last_seq) = before;
            self.active.map[offset..offset + rec].fill(0);
            self.index.pop_back();
            self.active.end = offset;
            self.last_seq = last_seq;
            self.next_sender = next_sender;
            self.dirty = dirty.or(Some((self.active.number, offset)));
            return Err(e);
        }
        Ok(())
    }

    /// Makes room for a record of `rec` bytes in the active segment: rolls to a new
    /// segment when the active one would pass the segment size, grows the file when
    /// the map is too short. On error nothing has changed.
    fn make_room(&mut self, rec: usize, options: &FileStoreOptions) -> Result<(), StoreError> {
        let used = self.active.end;
        if used >= self.prepare_at {
            self.prepare_next(options);
        }
        if used > layout::SEGMENT_HEADER_LEN && used + rec > options.segment_size_bytes() {
            self.roll(options)?;
        }
        let needed = self.active.end + rec;
        if needed > self.active.map.len() {
            self.active.grow(needed, options)?;
        }
        Ok(())
    }

    fn roll(&mut self, options: &FileStoreOptions) -> Result<(), StoreError> {
        let next = self
            .active
            .number
            .checked_add(1)
            .ok_or(StoreError::Corrupt {
                path: self.active.path.clone(),
                offset: 0,
                why: "segment numbers exhausted",
            })?;
        let fresh = match self.take_prepared(next, options)? {
            Some(seg) => seg,
            None => Segment::create(&self.dir, next, options)?,
        };
        let mut full = std::mem::replace(&mut self.active, fresh);
        full.file = None;
        self.sealed.push_back(full);
        // A session that filled a segment fills the next: the one after it is
        // asked for at once, to give the thread a whole segment's time.
        if options.preallocate {
            self.prepare_at = 0;
        }
        if let Some(max) = options.max_segments {
            while self.sealed.len() + 1 > max.get() {
                let Some(oldest) = self.sealed.front() else {
                    break;
                };
                if let Err(e) = fs::remove_file(&oldest.path) {
                    // Keep it (and its messages) and try again at the next roll.
                    log::warn!("{}: cannot delete old segment: {e}", oldest.path.display());
                    break;
                }
                let number = oldest.number;
                log::info!(
                    "{}: deleted old segment (max_segments {max})",
                    oldest.path.display()
                );
                if let Some(gone) = self.sealed.pop_front() {
                    // Its file is unlinked but its pages live until the map goes:
                    // freeing them is the background thread's work, when there is one.
                    match &self.background {
                        Some(bg) => bg.release(gone.map),
                        None => drop(gone),
                    }
                }
                let keep = self.index.partition_point(|e| e.segment <= number);
                self.index.drain(..keep);
            }
        }
        Ok(())
    }

    /// Asks the background thread (started here the first time) for the segment
    /// after the active one. Best effort: when the thread cannot be had, the
    /// roll creates the segment itself.
    #[cold]
    fn prepare_next(&mut self, options: &FileStoreOptions) {
        self.prepare_at = usize::MAX;
        if self.background.as_ref().is_some_and(Preallocator::busy) {
            // The one in progress, or ready, serves the next roll.
            return;
        }
        let Some(next) = self.active.number.checked_add(1) else {
            return;
        };
        if self.background.is_none() {
            match Preallocator::spawn() {
                Ok(bg) => self.background = Some(bg),
                Err(e) => {
                    log::warn!(
                        "{}: cannot start the store's background thread ({e}); segments are created at the roll",
                        self.dir.display()
                    );
                    return;
                }
            }
        }
        if let Some(bg) = &mut self.background {
            let tmp = self.dir.join(prealloc::prepared_name(next));
            let len = options.segment_size_bytes() as u64;
            bg.prepare(next, tmp, len, options.sync != SyncPolicy::None);
        }
    }

    /// A segment from the background thread, renamed into place as segment
    /// `number`, if one is ready; `None` when none is (or none was asked for),
    /// and the roll creates it itself.
    fn take_prepared(
        &mut self,
        number: u32,
        options: &FileStoreOptions,
    ) -> Result<Option<Segment>, StoreError> {
        let Some(bg) = &mut self.background else {
            return Ok(None);
        };
        let Some(p) = bg.take() else {
            return Ok(None);
        };
        let path = self.dir.join(segment_name(number));
        // Its header and zeros were fsync'd before it was handed over (when the
        // policy asks for it), so the rename never exposes a segment without them.
        if let Err(e) = fs::rename(&p.tmp, &path) {
            log::warn!(
                "{}: cannot rename a prepared segment into place ({e}); creating it instead",
                p.tmp.display()
            );
            drop(p.map);
            let _ = fs::remove_file(&p.tmp);
            return Ok(None);
        }
        let seg = Segment {
            number,
            path,
            file: Some(p.file),
            populated: p.map.len(),
            map: p.map,
            end: layout::SEGMENT_HEADER_LEN,
        };
        // On error the file stays under its segment name, holding no record, as
        // after the same failure in Segment::create: the next roll replaces it.
        sync_dir(&self.dir, options)?;
        Ok(Some(seg))
    }

    /// Stops the background thread and waits for it; what it prepared is removed.
    /// It starts again when next needed.
    fn stop_background(&mut self, options: &FileStoreOptions) {
        self.background = None;
        self.prepare_at = options.prepare_at();
    }

    /// Brings the header's next sender number up to date (appends leave it behind).
    fn write_next_sender(&mut self) {
        if self.header.slot.next_sender != self.next_sender {
            let target = self.header.slot.next_target;
            self.header.write(self.next_sender, target);
        }
    }

    /// Writes the header's numbers and syncs everything.
    fn sync_all(&mut self) -> Result<(), StoreError> {
        self.write_next_sender();
        self.sync_dirty()
    }

    /// Syncs the log written since the last sync, and the header if a number was
    /// set: what an append under a syncing policy needs, one msync when only the
    /// log changed.
    fn sync_dirty(&mut self) -> Result<(), StoreError> {
        self.sync_log()?;
        self.header.sync()?;
        self.unsynced_appends = 0;
        Ok(())
    }

    /// Syncs the log written since the last sync (not the header).
    fn sync_log(&mut self) -> Result<(), StoreError> {
        if let Some((first, offset)) = self.dirty {
            for seg in self.sealed.iter().chain(std::iter::once(&self.active)) {
                if seg.number < first {
                    continue;
                }
                let from = if seg.number == first { offset } else { 0 };
                if seg.end > from {
                    seg.map
                        .flush_range(from, seg.end - from)
                        .map_err(io_at(&seg.path))?;
                }
            }
            self.dirty = None;
        }
        Ok(())
    }

    fn read_range(
        &self,
        begin: u64,
        end: u64,
        max: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<u64, StoreError> {
        let first = self.index.partition_point(|e| e.seq < begin);
        read_batch(
            self.index.range(first..),
            |e| e.seq,
            end,
            max,
            |e| {
                let seg = self.segment(e.segment).ok_or_else(|| StoreError::Corrupt {
                    path: self.dir.clone(),
                    offset: e.offset as u64,
                    why: "the index names a segment that is not open",
                })?;
                let start = e.offset + layout::RECORD_HEADER_LEN;
                f(e.seq, &seg.map[start..start + e.len as usize]);
                Ok(())
            },
        )
    }

    fn segment(&self, number: u32) -> Option<&Segment> {
        if number == self.active.number {
            return Some(&self.active);
        }
        let i = self
            .sealed
            .binary_search_by_key(&number, |s| s.number)
            .ok()?;
        self.sealed.get(i)
    }
}

impl Header {
    fn open(path: PathBuf, file: File) -> Result<Self, StoreError> {
        let len = file.metadata().map_err(io_at(&path))?.len();
        if len < layout::HEADER_LEN as u64 {
            let mut head = [0u8; 8];
            let n = file.read_at(&mut head, 0).map_err(io_at(&path))?;
            let err = match layout::read_header(&head[..n]) {
                Err(e) => e,
                Ok(_) => FormatError::TooShort,
            };
            return Err(format_error(&path, err, layout::HEADER_MAGIC));
        }
        let map = map(&file).map_err(io_at(&path))?;
        let (id, slot) =
            layout::read_header(&map).map_err(|e| format_error(&path, e, layout::HEADER_MAGIC))?;
        Ok(Self {
            path,
            map,
            id,
            slot,
            dirty: false,
        })
    }

    #[inline]
    fn write(&mut self, next_sender: u64, next_target: u64) {
        self.slot = Slot {
            counter: self.slot.counter.wrapping_add(1).max(1),
            next_sender,
            next_target,
        };
        layout::write_slot(&mut self.map, self.slot);
        self.dirty = true;
    }

    /// Writes the numbers, syncing under [`SyncPolicy::EveryMessage`]; on error the
    /// previous numbers are written back.
    fn update(
        &mut self,
        next_sender: u64,
        next_target: u64,
        options: &FileStoreOptions,
    ) -> Result<(), StoreError> {
        let before = self.slot;
        self.write(next_sender, next_target);
        if options.sync == SyncPolicy::EveryMessage
            && let Err(e) = self.sync()
        {
            self.write(before.next_sender, before.next_target);
            return Err(e);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            self.map.flush().map_err(io_at(&self.path))?;
            self.dirty = false;
        }
        Ok(())
    }
}

impl Segment {
    /// Creates segment `number` in `dir`, fully allocated to the initial length. It
    /// is written under a temporary name and renamed, so a crash never leaves a
    /// segment without its header.
    fn create(dir: &Path, number: u32, options: &FileStoreOptions) -> Result<Self, StoreError> {
        let path = dir.join(segment_name(number));
        let tmp = path.with_extension("log.tmp");
        let file = create_file(&tmp)?;
        let len = options.initial_len_bytes();
        let build = || -> io::Result<MmapMut> {
            file.write_all_at(&layout::segment_header(), 0)?;
            write_zeros(&file, layout::SEGMENT_HEADER_LEN as u64, len as u64)?;
            if options.sync != SyncPolicy::None {
                file.sync_all()?;
            }
            map(&file)
        };
        let map = match build() {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(StoreError::Io {
                    path: tmp,
                    source: e,
                });
            }
        };
        if let Err(e) = rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        sync_dir(dir, options)?;
        Ok(Self {
            number,
            path,
            file: Some(file),
            map,
            end: layout::SEGMENT_HEADER_LEN,
            populated: 0,
        })
    }

    /// Opens segment `number`, adds its valid records to `index`, and cuts off
    /// (zeroes) everything from the first bad record on.
    fn recover(
        dir: &Path,
        number: u32,
        is_last: bool,
        index: &mut VecDeque<Entry>,
        last_seq: &mut u64,
    ) -> Result<Self, StoreError> {
        let path = dir.join(segment_name(number));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_at(&path))?;
        let len = file.metadata().map_err(io_at(&path))?.len();
        let mut head = [0u8; layout::SEGMENT_HEADER_LEN];
        let n = file.read_at(&mut head, 0).map_err(io_at(&path))?;
        let head = &head[..n];
        match layout::check_segment_header(head) {
            Ok(()) => {}
            Err(FormatError::TooShort) | Err(FormatError::BadMagic(_))
                if is_last
                    && (head.starts_with(&layout::SEGMENT_MAGIC[..head.len().min(8)])
                        || head.iter().all(|&b| b == 0)) =>
            {
                // The newest segment cut inside its own header (or never written
                // past it): it holds no record, so start it again.
                log::warn!(
                    "{}: segment header cut short or blank ({len} bytes); rewriting it empty",
                    path.display()
                );
                file.write_all_at(&layout::segment_header(), 0)
                    .map_err(io_at(&path))?;
                // Zeros only past what the file holds: a blank header may still be
                // followed by records worth recovering.
                write_zeros(
                    &file,
                    len.max(layout::SEGMENT_HEADER_LEN as u64),
                    len.max(MIN_SEGMENT_LEN),
                )
                .map_err(io_at(&path))?;
            }
            Err(e) => return Err(format_error(&path, e, layout::SEGMENT_MAGIC)),
        }
        let mut map = map(&file).map_err(io_at(&path))?;
        let scan = layout::scan(
            &map,
            layout::SEGMENT_HEADER_LEN,
            *last_seq,
            |seq, offset, len| {
                index.push_back(Entry {
                    seq,
                    segment: number,
                    len,
                    offset,
                });
                *last_seq = seq;
            },
        );
        let cut = layout::nonzero_len(&map[scan.end..]);
        if cut > 0 {
            log::warn!(
                "{}: cut off {cut} bytes from offset {} ({})",
                path.display(),
                scan.end,
                scan.why
            );
            map[scan.end..scan.end + cut].fill(0);
            // Rare, and the cut must hold: a later crash must not bring the tail back.
            map.flush_range(scan.end, cut).map_err(io_at(&path))?;
        }
        Ok(Self {
            number,
            path,
            file: is_last.then_some(file),
            map,
            end: scan.end,
            populated: 0,
        })
    }

    /// Write-faults in [`POPULATE_AHEAD`] bytes of the map from the page of
    /// `start` once a record (`start..end`) passes what is done, in one
    /// `madvise(MADV_POPULATE_WRITE)`: a shared file map
    /// otherwise takes a write fault on the first store into each 4 KiB page
    /// (one append in twenty, several microseconds each on a VM: the p99 of a
    /// busy session), and MAP_POPULATE maps shared pages read-only. Best effort:
    /// where the kernel lacks it (before 5.14) appends fault as before.
    #[inline]
    fn populate_ahead(&mut self, start: usize, end: usize) {
        if end > self.populated {
            self.populate_from(start);
        }
    }

    #[cold]
    fn populate_from(&mut self, start: usize) {
        let from = (start.max(self.populated) / PAGE) * PAGE;
        let len = POPULATE_AHEAD.min(self.map.len().saturating_sub(from));
        if len == 0 {
            return;
        }
        self.populated = match self.map.advise_range(Advice::PopulateWrite, from, len) {
            Ok(()) => from + len,
            // Unsupported (a kernel before 5.14): never ask again.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => usize::MAX,
            // Anything else (memory pressure, a signal): the appends fault this
            // window in themselves; the next one is asked for again.
            Err(_) => from + len,
        };
    }

    /// Extends the file to hold `needed` bytes (doubling, up to the segment size),
    /// allocated, and maps it again. On error the old map stays.
    fn grow(&mut self, needed: usize, options: &FileStoreOptions) -> Result<(), StoreError> {
        let cap = options.segment_size_bytes().max(needed);
        let new_len = (self.map.len().saturating_mul(2))
            .max(options.initial_len_bytes())
            .max(needed)
            .min(cap);
        // No fsync of the new length here: the msync of a record past the old end
        // is an fdatasync of the range, which commits the size change with it.
        let Some(file) = &self.file else {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                offset: self.map.len() as u64,
                why: "a sealed segment cannot grow",
            });
        };
        let old_len = self.map.len() as u64;
        let map = extend_and_map(file, old_len, new_len as u64).or_else(|e| {
            // Nearly full: what the record needs may still fit where a doubling did not.
            if new_len > needed {
                extend_and_map(file, old_len, needed as u64)
            } else {
                Err(e)
            }
        });
        self.map = map.map_err(io_at(&self.path))?;
        // A new map has no pages faulted in; those below `end` are never
        // written again.
        if self.populated != usize::MAX {
            self.populated = self.end;
        }
        Ok(())
    }
}

const LOCK: &str = "lock";
const KEY: &str = "key";
const CURRENT: &str = "current";
const CURRENT_TMP: &str = "current.tmp";
const ARCHIVE: &str = "archive";
const HEADER: &str = "header";
const MIN_SEGMENT_LEN: u64 = 4096;
/// The page size the store assumes when it faults maps in ahead (here and on
/// the background thread); on larger pages some of that work is done twice.
pub(super) const PAGE: usize = 4096;
/// How much of a segment's map is write-faulted in at a time ahead of appends:
/// 32 pages, one `madvise` per about 600 appends of 200 bytes.
const POPULATE_AHEAD: usize = 128 * 1024;

pub(super) static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn format_error(path: &Path, e: FormatError, magic: [u8; 8]) -> StoreError {
    let path = path.to_path_buf();
    match e {
        FormatError::TooShort => StoreError::Corrupt {
            path,
            offset: 0,
            why: "file too short for its header",
        },
        FormatError::BadMagic(found) => StoreError::BadMagic {
            path,
            found: found.escape_ascii().to_string(),
            expected: magic.escape_ascii().to_string(),
        },
        FormatError::Version(found) => StoreError::VersionMismatch {
            path,
            found,
            expected: layout::VERSION,
        },
        FormatError::Corrupt(offset, why) => StoreError::Corrupt { path, offset, why },
    }
}

fn lock(path: &Path) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_at(path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked {
            path: path.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Records the key in a new folder, or checks it in an existing one.
fn check_key(path: &Path, key: &str) -> Result<(), StoreError> {
    match fs::read(path) {
        Ok(found) if found == key.as_bytes() => Ok(()),
        Ok(found) => Err(StoreError::KeyMismatch {
            path: path.to_path_buf(),
            expected: key.to_owned(),
            found: String::from_utf8_lossy(&found).into_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let tmp = path.with_extension("tmp");
            fs::write(&tmp, key).map_err(io_at(&tmp))?;
            rename(&tmp, path)
        }
        Err(e) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn create_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_at(path))
}

fn rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::rename(from, to).map_err(io_at(from))
}

/// Makes renames and new files in `dir` durable, when the policy asks for durability.
fn sync_dir(dir: &Path, options: &FileStoreOptions) -> Result<(), StoreError> {
    if options.sync == SyncPolicy::None {
        return Ok(());
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

/// Extends `file` from `old_len` to `new_len` bytes of allocated zeros and maps all
/// of it. On error the file is cut back to `old_len`, giving back what was taken.
fn extend_and_map(file: &File, old_len: u64, new_len: u64) -> io::Result<MmapMut> {
    let attempt = || -> io::Result<MmapMut> {
        write_zeros(file, old_len, new_len)?;
        map(file)
    };
    attempt().inspect_err(|_| {
        let _ = file.set_len(old_len);
    })
}

/// Writes zeros over `from..to`, allocating the blocks.
fn write_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

fn segment_name(number: u32) -> String {
    format!("{number:010}.log")
}

fn parse_segment_name(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The generation after `n`. Only a forged header or archive name can hold the
/// last possible number; refusing it keeps generations unique and ordered.
fn next_generation(n: u64, dir: &Path) -> Result<u64, StoreError> {
    n.checked_add(1).ok_or_else(|| StoreError::Corrupt {
        path: dir.to_path_buf(),
        offset: 0,
        why: "generation numbers exhausted",
    })
}

/// The highest generation number archived in `archive`, if any.
fn newest_archived(archive: &Path) -> Result<Option<u64>, StoreError> {
    let entries = match fs::read_dir(archive) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::Io {
                path: archive.to_path_buf(),
                source: e,
            });
        }
    };
    let mut newest = None;
    for entry in entries {
        let entry = entry.map_err(io_at(archive))?;
        let name = entry.file_name();
        let digits: String = name
            .to_string_lossy()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse::<u64>() {
            newest = newest.max(Some(n));
        }
    }
    Ok(newest)
}

/// `archive/<generation>`, or with a `-N` suffix if a crash already left that name.
fn free_archive_name(archive: &Path, generation: u64) -> PathBuf {
    let base = format!("{generation:010}");
    let mut path = archive.join(&base);
    let mut n = 1u32;
    while path.exists() {
        path = archive.join(format!("{base}-{n}"));
        n += 1;
    }
    path
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests;
