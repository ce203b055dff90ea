//! What a [`FileStore`](super::FileStore) is opened with: when it syncs
//! ([`SyncPolicy`]) and how its log is laid out ([`FileStoreOptions`]).

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// When [`FileStore`](super::FileStore) asks the kernel to write its maps to the
/// disk (msync or fdatasync).
///
/// See [`FileStore`](super::FileStore) for what each policy survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Never, unless [`FileStore::sync`](super::FileStore::sync) is called: the
    /// page cache holds the data, which survives the process being killed but not
    /// the machine losing power.
    #[default]
    None,
    /// After every `n` appends (and on [`FileStore::sync`](super::FileStore::sync)).
    /// Counted in appends, not time, so the store needs no clock; a time bound is
    /// up to the caller, who calls [`FileStore::sync`](super::FileStore::sync) on
    /// its own timer (the engine has none).
    Periodic(NonZeroU32),
    /// After every append and every sequence-number update: nothing acknowledged is
    /// lost on a power cut, at the price of an msync per message (of its record, or
    /// of the header when a number is set).
    EveryMessage,
    /// Group commit: an append returns at once and a background thread makes
    /// records durable in groups; the owner holds each message back until its
    /// record is durable (the engine does, for `StorageSync = every`), so nothing
    /// sent is lost on a power cut, at one `fdatasync` per group.
    Group,
}

/// How a [`FileStore`](super::FileStore) is laid out and synced. Build with
/// [`Default`] and the `with_*` setters.
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
    /// How many generations archived by [`reset`](crate::store::MessageStore::reset)
    /// to keep in `archive/`: beyond it the oldest are deleted, when the store
    /// opens and after each reset. Default `None`: keep every one.
    pub max_archives: Option<NonZeroUsize>,
    /// Archived generations whose newest file was last written longer ago than
    /// this (by [`clock`](Self::clock)) are deleted, when the store opens and
    /// after each reset. Default `None`: kept however old.
    pub max_archive_age: Option<Duration>,
    /// Whether a background thread prepares the next segment (created and
    /// zero-filled to the full `segment_size`) ahead of the roll, and frees
    /// deleted ones, keeping that work off the appending thread; the prepared
    /// segment takes up to `segment_size` of disk before it is used. Off, every
    /// segment is created at the roll and grown on the appending thread. Default
    /// `true`.
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
            max_archives: None,
            max_archive_age: None,
            preallocate: true,
            clock: Arc::new(SystemClock),
        }
    }
}

impl FileStoreOptions {
    /// Sets [`sync`](Self::sync).
    #[must_use]
    pub fn with_sync(mut self, policy: SyncPolicy) -> Self {
        self.sync = policy;
        self
    }

    /// Sets [`segment_size`](Self::segment_size).
    #[must_use]
    pub fn with_segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes;
        self
    }

    /// Sets [`initial_segment_len`](Self::initial_segment_len).
    #[must_use]
    pub fn with_initial_segment_len(mut self, bytes: u64) -> Self {
        self.initial_segment_len = bytes;
        self
    }

    /// Sets [`max_segments`](Self::max_segments).
    #[must_use]
    pub fn with_max_segments(mut self, max: Option<NonZeroUsize>) -> Self {
        self.max_segments = max;
        self
    }

    /// Sets [`max_archives`](Self::max_archives).
    #[must_use]
    pub fn with_max_archives(mut self, max: Option<NonZeroUsize>) -> Self {
        self.max_archives = max;
        self
    }

    /// Sets [`max_archive_age`](Self::max_archive_age).
    #[must_use]
    pub fn with_max_archive_age(mut self, age: Option<Duration>) -> Self {
        self.max_archive_age = age;
        self
    }

    /// Sets [`preallocate`](Self::preallocate).
    #[must_use]
    pub fn with_preallocate(mut self, on: bool) -> Self {
        self.preallocate = on;
        self
    }

    /// Sets [`clock`](Self::clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub(super) fn segment_size_bytes(&self) -> usize {
        to_usize(self.segment_size.max(MIN_SEGMENT_LEN))
    }

    pub(super) fn initial_len_bytes(&self) -> usize {
        to_usize(self.initial_segment_len.max(MIN_SEGMENT_LEN)).min(self.segment_size_bytes())
    }

    /// The active segment's length past which the next one is prepared in the
    /// background; `usize::MAX` (never) when that is off.
    pub(super) fn prepare_at(&self) -> usize {
        if self.preallocate {
            self.segment_size_bytes() / 2
        } else {
            usize::MAX
        }
    }
}

pub(super) const MIN_SEGMENT_LEN: u64 = 4096;

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
