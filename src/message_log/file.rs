//! One message-log file: text appended through a map, grown allocated ahead of
//! the appends, and trimmed to its text when it is closed (or, after a crash,
//! when the log is opened again).
//!
//! The file is mapped a window at a time ([`GROW_STEP`], or more for a record
//! larger than that): growing it allocates and maps only the next window, so the
//! cost of growing does not rise with the file's size, and the window after the
//! current one is prepared while the session is idle. A record that does not fit
//! in what is left of a window continues in the next one.
//!
//! While a file is being written its end is zeros: the unwritten, allocated part
//! of the windows. Readers stop at the first zero byte where a record would start
//! ([`Parsed::End`](super::Parsed::End)); `grep -a` and `fixcat` read it whole.
//! Once closed it is plain text to the last newline.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::{Advice, MmapMut};

use crate::mmap::{map_range, write_zeros};

/// How much a file grows by: allocated (zeros written) and mapped at once. Small
/// enough that growing stalls the worker for well under a millisecond, large
/// enough that it happens once per thousands of messages.
pub(super) const GROW_STEP: usize = 2 << 20;

/// A page: the unit the map is faulted in by.
const PAGE: usize = 4096;

/// A mapped part of the file: bytes `start..start + map.len()`.
struct Window {
    start: usize,
    map: MmapMut,
}

impl Window {
    fn end(&self) -> usize {
        self.start + self.map.len()
    }
}

/// The file being written.
pub(super) struct LogFile {
    path: PathBuf,
    file: File,
    /// The window the next record goes into.
    current: Window,
    /// The window after it, allocated and mapped ahead.
    next: Option<Window>,
    /// Where the next record goes.
    end: usize,
}

impl LogFile {
    /// Creates `path` (which must not exist) with `len` bytes allocated and mapped.
    pub(super) fn create(path: PathBuf, len: usize) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        let current = match window(&file, 0, len) {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        Ok(Self {
            path,
            file,
            current,
            next: None,
            end: 0,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written.
    pub(super) fn len(&self) -> usize {
        self.end
    }

    /// Bytes that can be appended without growing.
    pub(super) fn room(&self) -> usize {
        self.current.end() - self.end + self.next.as_ref().map_or(0, |w| w.map.len())
    }

    /// Bytes that fit in the current window.
    pub(super) fn window_room(&self) -> usize {
        self.current.end() - self.end
    }

    /// The next `n` bytes of the file, to write a record into; `n` must fit in the
    /// current window ([`LogFile::window_room`]).
    pub(super) fn append(&mut self, n: usize) -> &mut [u8] {
        let from = self.end - self.current.start;
        self.end += n;
        &mut self.current.map[from..from + n]
    }

    /// Appends `bytes`, which may run from the current window into the next
    /// (`bytes.len() <= room()`).
    pub(super) fn append_across(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.window_room() == 0 {
                match self.next.take() {
                    Some(next) => self.current = next,
                    None => return,
                }
            }
            let n = bytes.len().min(self.window_room());
            self.append(n).copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
    }

    /// Moves to the next window once the current one is full, so that the next
    /// record starts in a window with room.
    pub(super) fn advance(&mut self) {
        if self.window_room() == 0
            && let Some(next) = self.next.take()
        {
            self.current = next;
        }
    }

    /// Makes room for `needed` more bytes: allocates and maps the window after
    /// the current one, a [`GROW_STEP`] or more. On error the file and its
    /// windows stay as they were.
    pub(super) fn grow(&mut self, needed: usize) -> io::Result<()> {
        if self.room() >= needed {
            return Ok(());
        }
        let start = self.next.as_ref().unwrap_or(&self.current).end();
        let len = (needed - self.room()).div_ceil(GROW_STEP).max(1) * GROW_STEP;
        let grown = window(&self.file, start, len)?;
        match &mut self.next {
            // A record larger than a window: the prepared window is replaced by
            // one large enough, from the same place.
            Some(next) => {
                let merged = window(&self.file, next.start, next.map.len() + len)?;
                drop(grown);
                *next = merged;
            }
            None => self.next = Some(grown),
        }
        Ok(())
    }

    /// Asks the kernel to write what was appended to the current window (not
    /// waiting for it).
    pub(super) fn flush_async(&self) -> io::Result<()> {
        let written = self.end - self.current.start;
        self.current.map.flush_async_range(0, written)
    }

    /// Closes the file, cut to the text written: the zeros past it go.
    pub(super) fn seal(self) -> io::Result<()> {
        let Self {
            file,
            current,
            next,
            end,
            ..
        } = self;
        // The maps are gone before the file is made shorter than they are.
        drop(current);
        drop(next);
        file.set_len(end as u64)
    }
}

/// Allocates `start..start + len` of `file` (zeros written, so that a full disk
/// fails here rather than as SIGBUS on a write through the map), maps it and
/// faults it in. On error the file is cut back to `start`.
fn window(file: &File, start: usize, len: usize) -> io::Result<Window> {
    let attempt = || -> io::Result<Window> {
        write_zeros(file, start as u64, (start + len) as u64)?;
        let map = map_range(file, start as u64, len)?;
        populate(&map, 0);
        Ok(Window { start, map })
    };
    attempt().inspect_err(|_| {
        let _ = file.set_len(start as u64);
    })
}

/// Faults the map in for writing from `from` on, so that appends take no page
/// faults; a kernel without MADV_POPULATE_WRITE (before 5.14) faults pages in as
/// they are written.
fn populate(map: &MmapMut, from: usize) {
    let from = from / PAGE * PAGE;
    if from < map.len() {
        let _ = map.advise_range(Advice::PopulateWrite, from, map.len() - from);
    }
}

/// Cuts a file left open by a crash (zeros at its end) to its text, and ends it
/// with a newline if its last record was torn, so that whatever is appended to
/// the folder later starts on a line of its own. Returns the bytes of a torn
/// record kept (0 when the file ended cleanly).
///
/// Only a file no map covers may be trimmed: the caller holds the folder's lock
/// and has not mapped it.
pub(super) fn trim(path: &Path) -> io::Result<u64> {
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    // The zeros are at most what growth allocated ahead.
    let end = rfind(&file, len, |b| b != 0)?.map_or(0, |i| i + 1);
    if end == len {
        return Ok(0);
    }
    file.set_len(end)?;
    if end == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, end - 1)?;
    if last[0] == b'\n' {
        return Ok(0);
    }
    // A torn record: its start is after the last newline.
    file.write_all_at(b"\n", end)?;
    let start = rfind(&file, end, |b| b == b'\n')?.map_or(0, |i| i + 1);
    Ok(end - start)
}

/// The offset of the last byte before `end` in `file` that `wanted` picks,
/// reading back a block at a time.
fn rfind(file: &File, end: u64, wanted: impl Fn(u8) -> bool) -> io::Result<Option<u64>> {
    let mut block = vec![0u8; 64 * 1024];
    let mut at = end;
    while at > 0 {
        let from = at.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(at - from) as usize];
        file.read_exact_at(chunk, from)?;
        if let Some(i) = chunk.iter().rposition(|&b| wanted(b)) {
            return Ok(Some(from + i as u64));
        }
        at = from;
    }
    Ok(None)
}

/// The file name for day `date` (`YYYYMMDD`) and its `index`-th file that day.
pub(super) fn file_name(date: &[u8; 8], index: u32) -> String {
    format!("{}-{index:03}.log", String::from_utf8_lossy(date))
}

/// The day and index a log file's name holds.
pub(super) fn parse_file_name(name: &str) -> Option<([u8; 8], u32)> {
    let stem = name.strip_suffix(".log")?;
    let (date, index) = stem.split_once('-')?;
    let date: [u8; 8] = date.as_bytes().try_into().ok()?;
    if !date.iter().all(u8::is_ascii_digit)
        || index.len() < 3
        || !index.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((date, index.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_grows_as_written_and_is_cut_to_its_text_when_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("20261203-001.log");
        let mut f = LogFile::create(path.clone(), GROW_STEP).unwrap();
        assert_eq!(f.room(), GROW_STEP);
        f.append(5).copy_from_slice(b"abcd\n");
        f.grow(GROW_STEP).unwrap();
        assert_eq!(f.room(), 2 * GROW_STEP - 5);
        f.append(3).copy_from_slice(b"ef\n");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            2 * GROW_STEP as u64
        );
        f.seal().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcd\nef\n");
    }

    #[test]
    fn a_crashed_file_is_trimmed_and_a_torn_record_ended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut content = b"one\ntwo\n".to_vec();
        content.resize(200_000, 0);
        std::fs::write(&path, &content).unwrap();
        assert_eq!(trim(&path).unwrap(), 0);
        assert_eq!(std::fs::read(&path).unwrap(), b"one\ntwo\n");

        let mut content = b"one\ntw".to_vec();
        content.resize(70_000, 0);
        std::fs::write(&path, &content).unwrap();
        assert_eq!(trim(&path).unwrap(), 2);
        assert_eq!(std::fs::read(&path).unwrap(), b"one\ntw\n");

        std::fs::write(&path, [0u8; 10]).unwrap();
        assert_eq!(trim(&path).unwrap(), 0);
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn file_names_carry_the_day_and_an_index() {
        assert_eq!(file_name(b"20261203", 7), "20261203-007.log");
        assert_eq!(parse_file_name("20261203-007.log"), Some((*b"20261203", 7)));
        assert_eq!(
            parse_file_name("20261203-1234.log"),
            Some((*b"20261203", 1234))
        );
        assert_eq!(parse_file_name("2026120-007.log"), None);
        assert_eq!(parse_file_name("lock"), None);
    }
}
