//! Mapping files into memory, and growing them allocated: the one `unsafe` call
//! of the crate, fenced into this module so that the crate-wide
//! `deny(unsafe_code)` holds everywhere else. Two owners map files: the
//! [`FileStore`](crate::store::FileStore) (headers and log segments) and the
//! message log (its text files).
//!
//! # Why the maps are sound
//!
//! memmap2 makes mapping `unsafe` because it cannot know what else touches the
//! file: while a map lives, the file must not be modified or truncated by anything
//! else, or memory Rust treats as owned changes under it (and a truncation raises
//! SIGBUS on the next access). Both owners keep that promise for every file they
//! map:
//!
//! - **One owner.** Every mapped file lives in a folder whose `lock` file this
//!   process holds with an exclusive lock for the owner's life (the store's
//!   session folder; the message log's folder), so no second owner, in this
//!   process or another, maps or writes the same files.
//! - **Written through the map, only ever grown while mapped.** An owner writes a
//!   mapped file through its map, and extends it by writing zeros past the mapped
//!   length before mapping it again ([`extend_and_map`]); it never makes a file
//!   shorter than a live map (a failed extension is cut back only to the length
//!   the current map covers; the message log trims a file only after dropping
//!   its map).
//! - **Other programs are outside the contract.** Another program editing or
//!   truncating the files of an open store or log is not something the engine
//!   can prevent, and it is not supported. Readers (`fixcat`, `grep`) only read.

#![allow(unsafe_code)]

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use memmap2::{MmapMut, MmapOptions};

/// Takes the exclusive lock of an owner's folder, on its `lock` file at `path`
/// (created if need be): the "one owner" half of the contract above. `Ok(None)`
/// when another owner, in this process or another, holds it.
pub(crate) fn lock_folder(path: &Path) -> io::Result<Option<File>> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// A block of zeros to allocate file space with.
pub(crate) static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// Maps all of `file` for reading and writing.
pub(crate) fn map(file: &File) -> io::Result<MmapMut> {
    // SAFETY: memmap2 requires that the file is not modified or truncated by
    // anything else while mapped. Every mapped file lives in a folder whose lock
    // this process holds for its owner's life, so no other owner maps or writes
    // it; the owners only ever grow a file while it is mapped, never shrink it
    // under a map; and other programs changing these files is outside the
    // contract (module docs).
    unsafe { MmapOptions::new().map_mut(file) }
}

/// Maps `len` bytes of `file` from `offset` (a multiple of the page size) for
/// reading and writing: a window on a file that keeps growing, so that growing
/// it maps only the new part.
pub(crate) fn map_range(file: &File, offset: u64, len: usize) -> io::Result<MmapMut> {
    // SAFETY: as for `map`: the file lives in a folder whose lock this process
    // holds for its owner's life, it is only grown while mapped, and other
    // programs changing it are outside the contract (module docs).
    unsafe { MmapOptions::new().offset(offset).len(len).map_mut(file) }
}

/// Extends `file` from `old_len` to `new_len` bytes of allocated zeros and maps all
/// of it. On error the file is cut back to `old_len`, giving back what was taken.
pub(crate) fn extend_and_map(file: &File, old_len: u64, new_len: u64) -> io::Result<MmapMut> {
    let attempt = || -> io::Result<MmapMut> {
        write_zeros(file, old_len, new_len)?;
        map(file)
    };
    attempt().inspect_err(|_| {
        let _ = file.set_len(old_len);
    })
}

/// Writes zeros over `from..to`, allocating the blocks (so that a full disk fails
/// here, with an error, rather than as SIGBUS on a write through a map).
pub(crate) fn write_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(())
}
