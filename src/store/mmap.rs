//! Mapping a store file into memory: the one `unsafe` call of the crate, fenced
//! into this module so that the crate-wide `deny(unsafe_code)` holds everywhere
//! else.
//!
//! # Why the maps are sound
//!
//! memmap2 makes mapping `unsafe` because it cannot know what else touches the
//! file: while a map lives, the file must not be modified or truncated by anything
//! else, or memory Rust treats as owned changes under it (and a truncation raises
//! SIGBUS on the next access). A [`FileStore`](super::FileStore) keeps that
//! promise for every file it maps (headers and segments, including those the
//! background thread prepares):
//!
//! - **One owner.** Every mapped file lives in a session folder whose `lock` file
//!   this process holds with an exclusive lock for the store's life, so no second
//!   `FileStore`, in this process or another, maps or writes the same files.
//! - **Written through the map, only ever grown.** The store writes a mapped file
//!   through its map, and extends it by writing zeros past the mapped length
//!   before mapping it again; it never makes a file shorter than a live map (a
//!   failed extension is cut back only to the length the current map covers).
//! - **Other programs are outside the contract.** Another program editing or
//!   truncating the files of an open store is not something the store can
//!   prevent, and it is not supported.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::{MmapMut, MmapOptions};

/// Maps all of `file` for reading and writing.
pub(super) fn map(file: &File) -> io::Result<MmapMut> {
    // SAFETY: memmap2 requires that the file is not modified or truncated by
    // anything else while mapped. Every mapped file lives in a session folder whose
    // lock this process holds for the store's life, so no other FileStore maps or
    // writes it; the store only ever grows a file, never shrinks it under a map;
    // and other programs changing store files is outside the store's contract
    // (module docs).
    unsafe { MmapOptions::new().map_mut(file) }
}
