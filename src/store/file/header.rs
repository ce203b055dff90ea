//! The mapped header file of a generation: its identity and the two slots
//! holding the next sequence numbers, written in turn.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use memmap2::MmapMut;

use super::disk::{format_error, io_at};
use super::options::{FileStoreOptions, SyncPolicy};
use crate::mmap::map;
use crate::store::StoreError;
use crate::store::layout::{self, FormatError, Identity, Slot};

pub(super) struct Header {
    pub(super) path: PathBuf,
    map: MmapMut,
    pub(super) id: Identity,
    pub(super) slot: Slot,
    dirty: bool,
}

impl Header {
    pub(super) fn open(path: PathBuf, file: File) -> Result<Self, StoreError> {
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
    pub(super) fn write(&mut self, next_sender: u64, next_target: u64) {
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
    pub(super) fn update(
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

    pub(super) fn sync(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            self.map.flush().map_err(io_at(&self.path))?;
            self.dirty = false;
        }
        Ok(())
    }
}
