//! The store a session runs on, chosen by its `StorageType`: memory-mapped files
//! under the engine's StorageDirectory, or memory only.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use crate::config::{SessionConfig, StorageType};
use crate::id::{FixVersion, SessionId};
use crate::message_log;
use crate::store::{
    FileStore, FileStoreOptions, MemoryStore, MessageStore, StoreError, SyncMarks, SyncWake,
    folder_name,
};

/// The first segment file of a new session's log.
const FIRST_SEGMENT_LEN: u64 = 64 * 1024;

/// One session's store: either kind, without a trait object on the message path.
#[derive(Debug)]
pub(crate) enum SessionStore {
    Memory(MemoryStore),
    File(Box<FileStore>),
}

impl SessionStore {
    /// Opens the store `config` asks for. A persistent store is named after the
    /// BeginString and both CompIDs, so the same session finds its numbers and
    /// messages again after a restart.
    pub(crate) fn open(
        root: &Path,
        id: &SessionId,
        version: FixVersion,
        config: &SessionConfig,
    ) -> Result<Self, StoreError> {
        match config.storage_type() {
            StorageType::Transient => Ok(Self::Memory(MemoryStore::new())),
            StorageType::Persistent => {
                let key = session_key(id, version);
                let options = FileStoreOptions::default()
                    .with_sync(config.storage_sync())
                    .with_segment_size(config.storage_segment_size())
                    // A session starts small (an idle one costs little disk, and a
                    // thousand Logons do not write a gigabyte of zeros); the log
                    // doubles as it fills, and later segments are prepared ahead.
                    .with_initial_segment_len(FIRST_SEGMENT_LEN)
                    .with_max_segments(NonZeroUsize::new(config.storage_max_segments()))
                    // 0 in the configuration is "keep": no policy.
                    .with_max_archives(NonZeroUsize::new(config.storage_max_archives()))
                    .with_max_archive_age(
                        Some(config.storage_max_archive_age()).filter(|age| !age.is_zero()),
                    );
                FileStore::open(root, &key, options).map(|s| Self::File(Box::new(s)))
            }
        }
    }
}

/// The name a session's files go by: its BeginString and both CompIDs.
fn session_key(id: &SessionId, version: FixVersion) -> String {
    format!("{}-{}-{}", version.begin_string(), id.sender(), id.target())
}

/// The folder of a session's message log under `root`: in the session's folder,
/// beside its store when `root` is the StorageDirectory.
pub(crate) fn message_log_dir(root: &Path, id: &SessionId, version: FixVersion) -> PathBuf {
    let key = session_key(id, version);
    // CompIDs are never empty, so neither is the key.
    let folder = folder_name(&key).unwrap_or(key);
    root.join(folder).join(message_log::FOLDER)
}

/// Delegates to the store held.
macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            SessionStore::Memory($s) => $e,
            SessionStore::File($s) => $e,
        }
    };
}

impl MessageStore for SessionStore {
    fn next_sender_seq(&self) -> u64 {
        each!(self, s => s.next_sender_seq())
    }

    fn next_target_seq(&self) -> u64 {
        each!(self, s => s.next_target_seq())
    }

    fn set_next_sender_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        each!(self, s => s.set_next_sender_seq(seq))
    }

    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        each!(self, s => s.set_next_target_seq(seq))
    }

    fn append(&mut self, seq: u64, frame: &[u8]) -> Result<(), StoreError> {
        each!(self, s => s.append(seq, frame))
    }

    fn read_range(
        &self,
        begin: u64,
        end: u64,
        max: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<u64, StoreError> {
        each!(self, s => s.read_range(begin, end, max, f))
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        match self {
            Self::Memory(s) => s.sync(),
            Self::File(s) => MessageStore::sync(s.as_mut()),
        }
    }

    fn reset(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.reset())
    }

    fn sync_marks(&self) -> SyncMarks {
        each!(self, s => s.sync_marks())
    }

    fn sync_in_background(&self) {
        each!(self, s => s.sync_in_background())
    }

    fn sync_appends(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.sync_appends())
    }

    fn on_background_sync(&self, wake: SyncWake) {
        each!(self, s => s.on_background_sync(wake))
    }
}
