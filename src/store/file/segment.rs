//! One log segment file: created under a temporary name, recovered on open
//! (its damaged tail cut off), grown with allocated zeros, and write-faulted in
//! ahead of the appends.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::{Advice, MmapMut};

use super::disk::{
    create_file, extend_and_map, format_error, io_at, rename, segment_name, sync_dir, write_zeros,
};
use super::generation::Entry;
use super::options::{FileStoreOptions, MIN_SEGMENT_LEN, SyncPolicy};
use crate::mmap::map;
use crate::store::StoreError;
use crate::store::layout::{self, FormatError};

pub(super) struct Segment {
    pub(super) number: u32,
    pub(super) path: PathBuf,
    /// Open while the segment may grow; closed once sealed, since its map stays
    /// valid without it and a long-lived session would otherwise hold one
    /// descriptor per segment.
    pub(super) file: Option<File>,
    pub(super) map: MmapMut,
    /// Where the next record goes.
    pub(super) end: usize,
    /// The map is write-faulted in up to here (see [`Segment::populate_ahead`]).
    pub(super) populated: usize,
}

impl Segment {
    /// Creates segment `number` in `dir`, fully allocated to the initial length. It
    /// is written under a temporary name and renamed, so a crash never leaves a
    /// segment without its header.
    pub(super) fn create(
        dir: &Path,
        number: u32,
        options: &FileStoreOptions,
    ) -> Result<Self, StoreError> {
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
    pub(super) fn recover(
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
    pub(super) fn populate_ahead(&mut self, start: usize, end: usize) {
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
    pub(super) fn grow(
        &mut self,
        needed: usize,
        options: &FileStoreOptions,
    ) -> Result<(), StoreError> {
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

/// The page size the store assumes when it faults maps in ahead (here and on
/// the background thread); on larger pages some of that work is done twice.
pub(in crate::store) const PAGE: usize = 4096;
/// How much of a segment's map is write-faulted in at a time ahead of appends:
/// 32 pages, one `madvise` per about 600 appends of 200 bytes.
pub(super) const POPULATE_AHEAD: usize = 128 * 1024;
