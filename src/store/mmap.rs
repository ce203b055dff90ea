//! Mapping a store file into memory: the one `unsafe` call of the crate, fenced
//! into this module so that the crate-wide `deny(unsafe_code)` holds everywhere
//! else.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::{MmapMut, MmapOptions};

/// Maps all of `file` for reading and writing.
pub(super) fn map(file: &File) -> io::Result<MmapMut> {
    // SAFETY: memmap2 requires that the file is not modified or truncated by
    // anything else while mapped. Every mapped file lives in a session folder whose
    // lock this process holds for the store's life, so no other FileStore maps or
    // writes it; the store only ever grows a file, never shrinks it; and other
    // programs changing store files is outside the store's contract (FileStore docs).
    unsafe { MmapOptions::new().map_mut(file) }
}
