//! Reading a [`FileStore`](super::FileStore)'s folder without opening the
//! store: [`inspect`] (its state) and [`read_stored`] (its messages), for tools
//! such as `fixcat` and for tests.
//!
//! Nothing here takes the folder's lock, maps a file or writes a byte, so it
//! works while an engine has the session open: files are read with `read`, and
//! what an engine is writing at that moment is what a crash would have left —
//! the scan stops at the first record that is blank, cut short or fails its
//! checksum, as recovery on open does (`layout::scan`). The numbers are a
//! snapshot: a running engine moves on while they are printed.

use std::fs::{self, File};
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::archive;
use super::disk::{ARCHIVE, CURRENT, HEADER, KEY, format_error, io_at, parse_segment_name};
use crate::codec::UtcTimestamp;
use crate::store::StoreError;
use crate::store::layout::{self, FormatError};

/// A session store's state, as [`inspect`] read it from its files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreInfo {
    /// The session's store folder.
    pub dir: PathBuf,
    /// The session key recorded in the folder's `key` file (`None` when the
    /// file is missing; bytes that are not UTF-8 are replaced).
    pub key: Option<String>,
    /// The current generation: 1 for a new folder, +1 on every reset.
    pub generation: u64,
    /// When the current generation began.
    pub created: UtcTimestamp,
    /// The MsgSeqNum(34) the next outbound message will carry, as the store
    /// derives it on open: the header's number, or one past the last stored
    /// message when that is higher (appends do not update the header).
    pub next_sender_seq: u64,
    /// The next outbound number the header holds (its valid slot with the
    /// higher counter); behind [`next_sender_seq`](Self::next_sender_seq) while
    /// an engine appends, or after a crash.
    pub header_next_sender_seq: u64,
    /// The MsgSeqNum(34) expected on the next inbound message.
    pub next_target_seq: u64,
    /// How many messages the current generation stores.
    pub messages: u64,
    /// The lowest and highest stored MsgSeqNum(34); `None` when none is stored.
    pub seq_range: Option<(u64, u64)>,
    /// The current generation's log segments, oldest first.
    pub segments: Vec<SegmentInfo>,
    /// The generations archived by resets, oldest first (by generation
    /// number): the order in which the store's retention deletes them.
    pub archived: Vec<ArchivedInfo>,
    /// The newest modification time of the current generation's files (its
    /// header and segments): the last write, to the file system's precision.
    /// The store writes through memory maps, whose writes the kernel stamps
    /// when it notices them (at the latest when it writes the pages back), so
    /// this may lag the last message by a few seconds.
    pub last_write: Option<SystemTime>,
}

/// One log segment of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentInfo {
    /// The segment file (`current/NNNNNNNNNN.log`).
    pub path: PathBuf,
    /// Its number, from its name.
    pub number: u32,
    /// The file's length: segments are allocated ahead, so mostly zeros at first.
    pub size: u64,
    /// The bytes up to the end of its last valid record (its header included).
    pub used: u64,
    /// How many messages it holds.
    pub messages: u64,
    /// Why the scan stopped where it did (`blank record header`: the free space
    /// after the last record, the normal end).
    pub end: &'static str,
}

/// A generation archived by a reset (`archive/NNNNNNNNNN/`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchivedInfo {
    /// The archived generation's folder.
    pub path: PathBuf,
    /// The generation number, from the folder's name (`None` for a name that
    /// does not start with digits).
    pub generation: Option<u64>,
    /// The total length of its files.
    pub size: u64,
    /// The newest modification time of its files: its last write, which
    /// [`max_archive_age`](super::FileStoreOptions::max_archive_age) measures
    /// its age from. `None` when no file's time can be read.
    pub last_write: Option<SystemTime>,
}

/// Reads the state of the store in `dir` (a session's store folder, holding
/// `key`, `current/` and maybe `archive/`) without opening it: no lock, no
/// write, so it works while an engine runs the session.
///
/// # Errors
/// [`StoreError::Io`] when a file cannot be read (naming it; a folder that is
/// not a store lacks `current/header`); [`StoreError::BadMagic`],
/// [`StoreError::VersionMismatch`] or [`StoreError::Corrupt`] for a header or
/// segment this build does not read, as [`FileStore::open`](super::FileStore::open)
/// would report them.
pub fn inspect(dir: &Path) -> Result<StoreInfo, StoreError> {
    let key = match fs::read(dir.join(KEY)) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_at(&dir.join(KEY))(e)),
    };
    let current = dir.join(CURRENT);
    let (id, slot) = read_header(&current.join(HEADER))?;
    let mut last_write = modified(&current.join(HEADER));
    let mut segments = Vec::new();
    let (mut messages, mut first, mut last) = (0u64, None, 0u64);
    walk_segments(&current, &mut |walked| {
        match walked {
            Walked::Record(seq, _) => {
                messages += 1;
                first.get_or_insert(seq);
                last = seq;
            }
            Walked::Segment(info) => {
                last_write = last_write.max(modified(&info.path));
                segments.push(info);
            }
        }
        ControlFlow::Continue(())
    })?;
    let seq_range = first.map(|first| (first, last));
    Ok(StoreInfo {
        dir: dir.to_path_buf(),
        key,
        generation: id.generation,
        created: UtcTimestamp::from_unix(
            id.created_unix_nanos.div_euclid(1_000_000_000),
            id.created_unix_nanos.rem_euclid(1_000_000_000) as u32,
        ),
        next_sender_seq: slot.next_sender.max(last.saturating_add(1)),
        header_next_sender_seq: slot.next_sender,
        next_target_seq: slot.next_target,
        messages,
        seq_range,
        segments,
        archived: archived(&dir.join(ARCHIVE))?,
        last_write,
    })
}

/// Calls `visit` with the MsgSeqNum(34) and exact wire bytes of every message
/// stored in `dir`, in order, until it returns [`ControlFlow::Break`]. `dir` is
/// a session's store folder (its `current/` generation is read) or one
/// generation's folder (`current/`, or `archive/NNNNNNNNNN/` for an archived
/// one). Read-only and without the lock, as [`inspect`].
///
/// # Errors
/// As [`inspect`].
pub fn read_stored(
    dir: &Path,
    visit: &mut dyn FnMut(u64, &[u8]) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let generation = if dir.join(HEADER).is_file() {
        dir.to_path_buf()
    } else {
        dir.join(CURRENT)
    };
    read_header(&generation.join(HEADER))?;
    walk_segments(&generation, &mut |walked| match walked {
        Walked::Record(seq, frame) => visit(seq, frame),
        Walked::Segment(_) => ControlFlow::Continue(()),
    })
}

/// The header's identity and newest valid slot.
fn read_header(path: &Path) -> Result<(layout::Identity, layout::Slot), StoreError> {
    let mut buf = Vec::with_capacity(layout::HEADER_LEN);
    File::open(path)
        .and_then(|f| f.take(layout::HEADER_LEN as u64).read_to_end(&mut buf))
        .map_err(io_at(path))?;
    layout::read_header(&buf).map_err(|e| format_error(path, e, layout::HEADER_MAGIC))
}

/// What [`walk_segments`] comes across.
enum Walked<'a> {
    /// A valid record: its MsgSeqNum and frame.
    Record(u64, &'a [u8]),
    /// The end of a segment, after its records.
    Segment(SegmentInfo),
}

/// Walks the segments of the generation in `dir`, oldest first, as recovery
/// does: the sequence numbers go on rising from one segment to the next.
fn walk_segments(
    dir: &Path,
    visit: &mut dyn FnMut(Walked<'_>) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let mut numbers = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        // Half-created and prepared segments end in `.tmp`: they hold no record.
        if let Some(n) = entry.file_name().to_str().and_then(parse_segment_name) {
            numbers.push((n, entry.path()));
        }
    }
    numbers.sort_unstable();
    let newest = numbers.last().map(|(n, _)| *n);
    let mut last_seq = 0;
    for (number, path) in numbers {
        let buf = match fs::read(&path) {
            Ok(buf) => buf,
            // Deleted by the engine's retention (max_segments) since the listing:
            // its messages are no longer stored.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_at(&path)(e)),
        };
        let info = |used: usize, messages: u64, end: &'static str| SegmentInfo {
            path: path.clone(),
            number,
            size: buf.len() as u64,
            used: used as u64,
            messages,
            end,
        };
        match layout::check_segment_header(&buf) {
            Ok(()) => {}
            // The newest segment cut inside its own header, or blank: the store
            // starts it again on open, so it holds no record.
            Err(FormatError::TooShort | FormatError::BadMagic(_))
                if Some(number) == newest
                    && (buf.starts_with(&layout::SEGMENT_MAGIC[..buf.len().min(8)])
                        || buf.iter().take(layout::SEGMENT_HEADER_LEN).all(|&b| b == 0)) =>
            {
                let blank = info(0, 0, "segment header blank or cut short");
                if visit(Walked::Segment(blank)).is_break() {
                    return Ok(());
                }
                continue;
            }
            Err(e) => return Err(format_error(&path, e, layout::SEGMENT_MAGIC)),
        }
        let mut records = Vec::new();
        let end = layout::scan(
            &buf,
            layout::SEGMENT_HEADER_LEN,
            last_seq,
            |seq, at, len| {
                records.push((seq, at, len));
            },
        );
        for &(seq, at, len) in &records {
            let start = at + layout::RECORD_HEADER_LEN;
            let frame = buf.get(start..start + len as usize).unwrap_or_default();
            if visit(Walked::Record(seq, frame)).is_break() {
                return Ok(());
            }
            last_seq = seq;
        }
        if visit(Walked::Segment(info(
            end.end,
            records.len() as u64,
            end.why,
        )))
        .is_break()
        {
            return Ok(());
        }
    }
    Ok(())
}

/// The archived generations in `archive`, oldest first, as the store's
/// retention lists them.
fn archived(archive: &Path) -> Result<Vec<ArchivedInfo>, StoreError> {
    let mut found = Vec::new();
    for archived in archive::list(archive).map_err(io_at(archive))? {
        let size = match fs::read_dir(&archived.path) {
            Ok(files) => files
                .filter_map(Result::ok)
                .filter_map(|f| f.metadata().ok())
                .filter(fs::Metadata::is_file)
                .map(|m| m.len())
                .sum(),
            // Deleted by the engine's retention since the listing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            // Listed all the same: the folder is there, its size unknown.
            Err(_) => 0,
        };
        let digits: String = archived
            .name
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        found.push(ArchivedInfo {
            last_write: archive::last_write(&archived.path),
            generation: digits.parse().ok(),
            path: archived.path,
            size,
        });
    }
    Ok(found)
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}
