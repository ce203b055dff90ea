//! One generation of a store: a header and its log segments in one folder, the
//! index over their records, and what an append, a roll, a read and a sync do
//! to them.

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use super::disk::{HEADER, create_file, io_at, parse_segment_name, segment_name, sync_dir};
use super::header::Header;
use super::options::{FileStoreOptions, SyncPolicy};
use super::segment::Segment;
use crate::store::layout::{self, Identity};
use crate::store::prealloc::{self, Preallocator};
use crate::store::{StoreError, read_batch};

/// One generation: a header and its log segments, in `dir`.
pub(super) struct Generation {
    dir: PathBuf,
    pub(super) header: Header,
    /// Full segments, oldest first.
    pub(super) sealed: VecDeque<Segment>,
    /// The segment taking appends.
    pub(super) active: Segment,
    /// Every stored record, ascending by seq.
    pub(super) index: VecDeque<Entry>,
    /// The last stored seq; 0 when none (FIX numbers start at 1).
    last_seq: u64,
    /// The next outbound number. An append advances it without touching the
    /// header: the record itself is the durable step (on open the number is
    /// derived as past the log's last record), which keeps an append to one write
    /// and one msync. The header slot catches up on set_next_*, sync and close.
    pub(super) next_sender: u64,
    /// The first log byte not yet synced: (segment number, offset).
    dirty: Option<(u32, usize)>,
    /// Appends since the last sync, counted under [`SyncPolicy::Periodic`] only:
    /// under the other policies nothing reads it, and nothing would reset it.
    unsynced_appends: u32,
    /// The background thread, started on first need; `None` before that, after
    /// it is stopped, or when it could not be started.
    pub(super) background: Option<Preallocator>,
    /// The active segment's end past which the next segment is asked of the
    /// background thread; `usize::MAX` once asked, or when that is off.
    prepare_at: usize,
}

/// Where a stored frame is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) seq: u64,
    pub(super) segment: u32,
    pub(super) len: u32,
    /// The record's offset in its segment.
    pub(super) offset: usize,
}

impl Generation {
    /// Creates generation `number` in the new folder `dir`: a header at 1 and 1 and
    /// one empty segment.
    pub(super) fn create(
        dir: PathBuf,
        number: u64,
        options: &FileStoreOptions,
    ) -> Result<Self, StoreError> {
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
    pub(super) fn open(dir: PathBuf, options: &FileStoreOptions) -> Result<Self, StoreError> {
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
    pub(super) fn moved_to(&mut self, dir: PathBuf) {
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

    pub(super) fn append(
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
    pub(super) fn prepare_next(&mut self, options: &FileStoreOptions) {
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
    pub(super) fn stop_background(&mut self, options: &FileStoreOptions) {
        self.background = None;
        self.prepare_at = options.prepare_at();
    }

    /// Brings the header's next sender number up to date (appends leave it behind).
    pub(super) fn write_next_sender(&mut self) {
        if self.header.slot.next_sender != self.next_sender {
            let target = self.header.slot.next_target;
            self.header.write(self.next_sender, target);
        }
    }

    /// Writes the header's numbers and syncs everything.
    pub(super) fn sync_all(&mut self) -> Result<(), StoreError> {
        self.write_next_sender();
        self.sync_dirty()
    }

    /// Syncs the log written since the last sync, and the header if a number was
    /// set: what an append under a syncing policy needs, one msync when only the
    /// log changed.
    pub(super) fn sync_dirty(&mut self) -> Result<(), StoreError> {
        self.sync_log()?;
        self.header.sync()?;
        self.unsynced_appends = 0;
        Ok(())
    }

    /// Syncs the log written since the last sync (not the header).
    pub(super) fn sync_log(&mut self) -> Result<(), StoreError> {
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

    pub(super) fn read_range(
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
