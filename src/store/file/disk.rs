//! The file-system steps of a store: the folder lock, the key file, renames and
//! folder syncs, growing a file with allocated zeros, and the names of segments
//! and archived generations.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::options::{FileStoreOptions, SyncPolicy};
use crate::mmap::lock_folder;
pub(super) use crate::mmap::{extend_and_map, write_zeros};
use crate::store::StoreError;
use crate::store::layout::{self, FormatError};

pub(super) const LOCK: &str = "lock";
pub(super) const KEY: &str = "key";
pub(super) const CURRENT: &str = "current";
pub(super) const CURRENT_TMP: &str = "current.tmp";
pub(super) const ARCHIVE: &str = "archive";
pub(super) const HEADER: &str = "header";

pub(super) fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn format_error(path: &Path, e: FormatError, magic: [u8; 8]) -> StoreError {
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

pub(super) fn lock(path: &Path) -> Result<File, StoreError> {
    match lock_folder(path) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(StoreError::Locked {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Records the key in a new folder, or checks it in an existing one.
pub(super) fn check_key(path: &Path, key: &str) -> Result<(), StoreError> {
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

pub(super) fn create_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_at(path))
}

pub(super) fn rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::rename(from, to).map_err(io_at(from))
}

/// Makes renames and new files in `dir` durable, when the policy asks for durability.
pub(super) fn sync_dir(dir: &Path, options: &FileStoreOptions) -> Result<(), StoreError> {
    if options.sync == SyncPolicy::None {
        return Ok(());
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

pub(super) fn segment_name(number: u32) -> String {
    format!("{number:010}.log")
}

pub(super) fn parse_segment_name(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The generation after `n`. Only a forged header or archive name can hold the
/// last possible number; refusing it keeps generations unique and ordered.
pub(super) fn next_generation(n: u64, dir: &Path) -> Result<u64, StoreError> {
    n.checked_add(1).ok_or_else(|| StoreError::Corrupt {
        path: dir.to_path_buf(),
        offset: 0,
        why: "generation numbers exhausted",
    })
}

/// The highest generation number archived in `archive`, if any.
pub(super) fn newest_archived(archive: &Path) -> Result<Option<u64>, StoreError> {
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
pub(super) fn free_archive_name(archive: &Path, generation: u64) -> PathBuf {
    let base = format!("{generation:010}");
    let mut path = archive.join(&base);
    let mut n = 1u32;
    while path.exists() {
        path = archive.join(format!("{base}-{n}"));
        n += 1;
    }
    path
}
