//! The message log: every message a session receives and sends, as text, in
//! files beside its store; and the reading of those files back ([`parse`]).
//!
//! # On disk
//!
//! ```text
//! <StorageDirectory or MessageLogDirectory>/<the session's folder>/messages/
//!   lock               held with an exclusive file lock while the log is open
//!   20261203-001.log   a day's first file, one record per line (see `record.rs`)
//!   20261203-002.log   the next, once the first passed MessageLogFileSize
//!   20261204-001.log   a new day (UTC) starts a new file
//! ```
//!
//! # How it is written
//!
//! The session's worker writes each record into the current file through a
//! memory map: a copy, no system call. The map is allocated and faulted in ahead
//! of the appends (2 MiB at a time, when the worker is idle), so a
//! full disk fails with an error while growing, never as SIGBUS on a write. What
//! is written is in the page cache at once: a `kill -9` loses nothing written
//! before it; a power cut loses what the kernel had not written back (the store,
//! not the log, is what recovery rests on). A received message is logged before
//! its answer is written to the socket, a sent one just before it is: what the
//! counterparty got is always in the log. Only the copy is on that path; making
//! it durable (the kernel's writeback, an `msync` while idle) is not.
//!
//! An error (a full disk, a folder made read-only) never stops the session: the
//! log reports it once ([`SessionEvent::MessageLogFailed`]), counts what it could not write,
//! tries again every 5 seconds, and when it can, starts a new file with a `note`
//! record saying how many messages are missing
//! ([`SessionEvent::MessageLogResumed`]).
//!
//! When a file is closed (a new day, a full file, the session ending) it is cut
//! to its text. A file left open by a crash is cut when the log is opened again,
//! and a torn last record ended with a newline so that readers skip it.

mod file;
mod record;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use record::{Parsed, Record, RecordKind, Records, TIME_LEN, parse, records};

#[cfg(doc)]
use crate::session::SessionEvent;

use crate::codec::{UtcTimestamp, find_soh};
use crate::config::SessionConfig;
use crate::mmap::lock_folder;
use file::{GROW_STEP, LogFile, file_name, parse_file_name};

/// The name of the folder, inside the session's folder, that holds its log.
pub const FOLDER: &str = "messages";

/// The log files in `dir` (a session's `messages/` folder), oldest first: the
/// order their records were written in.
///
/// # Errors
/// The folder cannot be listed.
pub fn log_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(listing(dir)?.into_iter().map(|(path, _, _)| path).collect())
}

/// The day (`YYYYMMDD`, UTC) and the index that day a log file's name
/// (`YYYYMMDD-NNN.log`) holds: the order the files were written in. `None` for
/// any other name.
pub fn file_order(path: &Path) -> Option<([u8; 8], u32)> {
    parse_file_name(path.file_name()?.to_str()?)
}

/// The log files in `dir` with the day and index their names hold, oldest first.
fn listing(dir: &Path) -> io::Result<Vec<(PathBuf, [u8; 8], u32)>> {
    let mut files: Vec<_> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| {
            let name = entry.file_name();
            let (date, index) = parse_file_name(name.to_str()?)?;
            Some((entry.path(), date, index))
        })
        .collect();
    files.sort_by_key(|f| (f.1, f.2));
    Ok(files)
}

/// How long after an error the log tries its disk again.
pub(crate) const RETRY: Duration = Duration::from_secs(5);

/// What the value of a masked field is replaced with.
const MASK: &[u8] = b"***";

/// How a session's log is written: from the session's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogOptions {
    /// A file is closed and the next one started before it would pass this size.
    pub(crate) file_size: u64,
    /// Heartbeats are logged.
    pub(crate) heartbeats: bool,
    /// Fields whose values are replaced by `***`.
    pub(crate) masked: Masked,
    /// At most this many files are kept (0: no limit).
    pub(crate) max_files: usize,
    /// Files last written longer ago than this are deleted (none: kept).
    pub(crate) max_age: Option<Duration>,
}

impl LogOptions {
    /// The options a session's configuration gives.
    pub(crate) fn from_config(config: &SessionConfig) -> Self {
        let max_age = config.message_log_max_age();
        Self {
            file_size: config.message_log_file_size(),
            heartbeats: config.log_heartbeats(),
            masked: Masked::new(config.log_masked_tags()),
            max_files: config.message_log_max_files(),
            max_age: (!max_age.is_zero()).then_some(max_age),
        }
    }
}

impl Default for LogOptions {
    fn default() -> Self {
        Self::from_config(&SessionConfig::default())
    }
}

/// What the owner must report about the log (once each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogEvent {
    /// The log stopped writing: why, naming the file or folder.
    Failed(String),
    /// The log writes again; `lost` records could not be written meanwhile.
    Resumed {
        /// Records not written while it failed.
        lost: u64,
    },
}

/// A session's message log, open for writing.
pub(crate) struct MessageLog {
    dir: PathBuf,
    options: LogOptions,
    /// The folder's lock, held while files are mapped (see `crate::mmap`).
    lock: Option<File>,
    file: Option<LogFile>,
    /// The day of the current file (`YYYYMMDD`) and its index that day.
    date: [u8; 8],
    index: u32,
    /// Masked copies of frames holding a masked field.
    scratch: Vec<u8>,
    /// A record that runs from one window of the file into the next.
    spill: Vec<u8>,
    /// The last time formatted: the frames of one read, or of one write, share it.
    time: (UtcTimestamp, [u8; TIME_LEN]),
    failure: Option<Failure>,
}

struct Failure {
    lost: u64,
    since: UtcTimestamp,
    retry_at: UtcTimestamp,
    error: String,
}

impl MessageLog {
    /// Opens the log in `dir` (created if need be): cuts a file a crash left
    /// open, applies the retention policy, and starts a new file. An error leaves
    /// a log that is failed, to try again later, and is returned to report.
    pub(crate) fn open(
        dir: PathBuf,
        options: LogOptions,
        now: UtcTimestamp,
    ) -> (Self, Option<LogEvent>) {
        let mut log = Self {
            dir,
            options,
            lock: None,
            file: None,
            date: [b'0'; 8],
            index: 0,
            scratch: Vec::new(),
            spill: Vec::new(),
            time: (
                UtcTimestamp::from_unix(0, 0),
                record::format_time(UtcTimestamp::from_unix(0, 0)),
            ),
            failure: None,
        };
        let event = match log.start(now) {
            Ok(()) => None,
            Err(error) => Some(log.fail(now, error)),
        };
        (log, event)
    }

    /// Locks the folder, recovers it and starts a file.
    fn start(&mut self, now: UtcTimestamp) -> Result<(), String> {
        if self.lock.is_none() {
            fs::create_dir_all(&self.dir)
                .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
            self.lock = Some(lock(&self.dir.join("lock"))?);
            self.recover()?;
        }
        self.roll(now)
    }

    /// Cuts the newest file if a crash left it open (the only one that can be).
    fn recover(&mut self) -> Result<(), String> {
        if let Some((path, _, _)) = self.files()?.pop() {
            match file::trim(&path) {
                Ok(0) => {}
                Ok(torn) => log::warn!(
                    "message log {}: the last record ({torn} bytes) was cut short by a crash",
                    path.display()
                ),
                Err(e) => return Err(format!("cannot recover {}: {e}", path.display())),
            }
        }
        Ok(())
    }

    /// The log files in the folder, oldest first.
    fn files(&self) -> Result<Vec<(PathBuf, [u8; 8], u32)>, String> {
        listing(&self.dir).map_err(|e| format!("cannot list {}: {e}", self.dir.display()))
    }

    /// Closes the current file and starts the next for `now`'s day.
    fn roll(&mut self, now: UtcTimestamp) -> Result<(), String> {
        self.seal();
        let time = record::format_time(now);
        let date: [u8; 8] = time[..8].try_into().unwrap_or([b'0'; 8]);
        let files = self.files()?;
        let index = files
            .iter()
            .filter(|(_, d, _)| *d == date)
            .map(|(_, _, i)| i + 1)
            .max()
            .unwrap_or(1);
        let path = self.dir.join(file_name(&date, index));
        let len = GROW_STEP.min(usize::try_from(self.options.file_size).unwrap_or(usize::MAX));
        let file = LogFile::create(path.clone(), len.max(4096))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        self.file = Some(file);
        self.date = date;
        self.index = index;
        self.retain(now);
        Ok(())
    }

    /// Deletes the files the retention policy no longer keeps; never the current.
    fn retain(&self, now: UtcTimestamp) {
        let (max_files, max_age) = (self.options.max_files, self.options.max_age);
        if max_files == 0 && max_age.is_none() {
            return;
        }
        let Ok(files) = self.files() else { return };
        let current = self.file.as_ref().map(LogFile::path);
        let old: Vec<&PathBuf> = files
            .iter()
            .map(|(p, _, _)| p)
            .filter(|p| Some(p.as_path()) != current)
            .collect();
        let excess = if max_files == 0 {
            0
        } else {
            // The current file counts as one kept.
            (old.len() + 1).saturating_sub(max_files)
        };
        for (i, path) in old.into_iter().enumerate() {
            // As the store's archive retention: a file written after `now` (a
            // clock set back) has no age to go by and is kept.
            let too_old = max_age.is_some_and(|age| {
                fs::metadata(path)
                    .and_then(|m| m.modified())
                    .map(UtcTimestamp::from_system_time)
                    .is_ok_and(|written| written < now && now.abs_diff(written) > age)
            });
            if i < excess || too_old {
                match fs::remove_file(path) {
                    Ok(()) => log::info!("message log: retention deleted {}", path.display()),
                    Err(e) => log::warn!("message log: cannot delete {}: {e}", path.display()),
                }
            }
        }
    }

    /// Closes the current file, cut to its text.
    fn seal(&mut self) {
        if let Some(file) = self.file.take() {
            let path = file.path().to_path_buf();
            if let Err(e) = file.seal() {
                log::warn!(
                    "message log {}: cannot cut to its text: {e}",
                    path.display()
                );
            }
        }
    }

    fn fail(&mut self, now: UtcTimestamp, error: String) -> LogEvent {
        self.seal();
        log::error!(
            "message log {}: {error}; messages are not logged until it recovers",
            self.dir.display()
        );
        self.failure = Some(Failure {
            lost: 0,
            since: now,
            retry_at: now.saturating_add(RETRY),
            error: error.clone(),
        });
        LogEvent::Failed(error)
    }

    /// Fails while writing a record, which counts as the first one lost.
    fn fail_writing(&mut self, now: UtcTimestamp, error: String) -> LogEvent {
        let event = self.fail(now, error);
        if let Some(failure) = &mut self.failure {
            failure.lost += 1;
        }
        event
    }

    /// Tries the disk again after a failure, when it is time.
    fn retry(&mut self, now: UtcTimestamp) -> Option<LogEvent> {
        let failure = self.failure.as_mut()?;
        if now < failure.retry_at {
            return None;
        }
        failure.retry_at = now.saturating_add(RETRY);
        if self.start(now).is_err() {
            return None;
        }
        let Failure {
            lost, since, error, ..
        } = self.failure.take()?;
        let note = format!("{lost} messages not logged since {since}: {error}");
        log::warn!("message log {}: writing again; {note}", self.dir.display());
        self.write(now, RecordKind::Note, note.as_bytes(), b"");
        Some(LogEvent::Resumed { lost })
    }

    /// Logs one received frame (`kind` is `In`, or `Garbled` with why).
    pub(crate) fn inbound(
        &mut self,
        now: UtcTimestamp,
        frame: &[u8],
        garbled: Option<&str>,
    ) -> Option<LogEvent> {
        match garbled {
            Some(why) => self.record(now, RecordKind::Garbled, frame, why.as_bytes()),
            None => self.record(now, RecordKind::In, frame, b""),
        }
    }

    /// Logs the frames of `bytes`, as the engine wrote them to the socket: a
    /// frame with PossDupFlag(43)=Y is a resend.
    pub(crate) fn outbound(&mut self, now: UtcTimestamp, mut bytes: &[u8]) -> Option<LogEvent> {
        let mut event = None;
        while !bytes.is_empty() {
            let (len, resend) = outbound_frame(bytes).unwrap_or((bytes.len(), false));
            let (frame, rest) = bytes.split_at(len);
            let kind = if resend {
                RecordKind::Resend
            } else {
                RecordKind::Out
            };
            event = event.or(self.record(now, kind, frame, b""));
            bytes = rest;
        }
        event
    }

    /// Logs a record unless the options leave it out.
    fn record(
        &mut self,
        now: UtcTimestamp,
        kind: RecordKind,
        frame: &[u8],
        note: &[u8],
    ) -> Option<LogEvent> {
        if !self.options.heartbeats && kind != RecordKind::Garbled && msg_type(frame) == Some(b"0")
        {
            return None;
        }
        if self.failure.is_some() {
            let event = self.retry(now);
            if let Some(failure) = &mut self.failure {
                failure.lost += 1;
                return event;
            }
            return self.write_masked(now, kind, frame, note).or(event);
        }
        self.write_masked(now, kind, frame, note)
    }

    fn write_masked(
        &mut self,
        now: UtcTimestamp,
        kind: RecordKind,
        frame: &[u8],
        note: &[u8],
    ) -> Option<LogEvent> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let bytes = if mask(frame, &self.options.masked, &mut scratch) {
            &scratch[..]
        } else {
            frame
        };
        let event = self.write(now, kind, bytes, note);
        self.scratch = scratch;
        event
    }

    /// Writes one record, rolling to a new file or growing this one as needed.
    fn write(
        &mut self,
        now: UtcTimestamp,
        kind: RecordKind,
        bytes: &[u8],
        note: &[u8],
    ) -> Option<LogEvent> {
        if self.time.0 != now {
            self.time = (now, record::format_time(now));
        }
        let time = self.time.1;
        let len = record::record_len(kind, bytes.len(), note);
        let Some(file) = &self.file else {
            return None;
        };
        let over_size = file.len() > 0 && (file.len() + len) as u64 > self.options.file_size;
        if (time[..8] != self.date || over_size)
            && let Err(e) = self.roll(now)
        {
            return Some(self.fail_writing(now, e));
        }
        let file = self.file.as_mut()?;
        if file.room() < len
            && let Err(e) = file.grow(len)
        {
            let error = format!("cannot grow {}: {e}", file.path().display());
            return Some(self.fail_writing(now, error));
        }
        file.advance();
        if file.window_room() >= len {
            record::write(file.append(len), &time, kind, bytes, note);
        } else {
            // Across two windows (once per window): formatted aside, then copied.
            self.spill.resize(len, 0);
            record::write(&mut self.spill, &time, kind, bytes, note);
            file.append_across(&self.spill);
        }
        None
    }

    /// Whether [`MessageLog::idle`] has anything to do: checked before every
    /// park, so it reads no clock.
    pub(crate) fn has_idle_work(&self) -> bool {
        self.is_failed() || self.wants_growth()
    }

    /// The current file is running out of room and may still grow.
    fn wants_growth(&self) -> bool {
        self.file
            .as_ref()
            .is_some_and(|f| f.room() < GROW_STEP / 2 && (f.len() as u64) < self.options.file_size)
    }

    /// Work for when the session has nothing else to do: grows the current file
    /// ahead of the appends, tries the disk again after a failure.
    pub(crate) fn idle(&mut self, now: UtcTimestamp) -> Option<LogEvent> {
        if self.failure.is_some() {
            return self.retry(now);
        }
        if !self.wants_growth() {
            return None;
        }
        let file = self.file.as_mut()?;
        if let Err(e) = file.grow(GROW_STEP / 2) {
            let error = format!("cannot grow {}: {e}", file.path().display());
            return Some(self.fail(now, error));
        }
        let _ = file.flush_async();
        None
    }

    /// The log failed and waits to try its disk again: [`MessageLog::idle`]
    /// then has work that no message will bring.
    pub(crate) fn is_failed(&self) -> bool {
        self.failure.is_some()
    }
}

impl Drop for MessageLog {
    fn drop(&mut self) {
        self.seal();
    }
}

fn lock(path: &Path) -> Result<File, String> {
    match lock_folder(path) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(format!(
            "{} is locked: another engine writes this log",
            path.display()
        )),
        Err(e) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// The length of the frame at the start of `bytes`, from its BodyLength(9), and
/// whether it is a resend (PossDupFlag(43)=Y among the header fields the engine
/// writes before SenderCompID(49)): one pass over the engine's own output,
/// framed already.
fn outbound_frame(bytes: &[u8]) -> Option<(usize, bool)> {
    let begin_end = find_soh(bytes)? + 1;
    let rest = bytes.get(begin_end..)?.strip_prefix(b"9=")?;
    let digits = find_soh(rest)?;
    let body = rest[..digits].iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.saturating_mul(10).saturating_add(usize::from(d - b'0')))
    })?;
    let body_start = begin_end + 2 + digits + 1;
    // BeginString, BodyLength, the body, and CheckSum (`10=nnn` + SOH).
    let len = body_start.checked_add(body)?.checked_add(7)?;
    if len > bytes.len() {
        return None;
    }
    // MsgType and MsgSeqNum come first: PossDupFlag, when there, follows them.
    let mut at = body_start;
    let mut resend = false;
    for _ in 0..4 {
        let field = &bytes[at..len];
        let end = find_soh(field).unwrap_or(field.len());
        let field = &field[..end];
        if field == b"43=Y" {
            resend = true;
            break;
        }
        if field.starts_with(b"49=") {
            break;
        }
        at += end + 1;
        if at >= len {
            break;
        }
    }
    Some((len, resend))
}

/// MsgType(35), the third field of a frame.
fn msg_type(frame: &[u8]) -> Option<&[u8]> {
    let mut fields = frame.split(|&b| b == 1);
    let third = fields.nth(2)?;
    third.strip_prefix(b"35=")
}

/// Writes `frame` into `out` with the values of the `masked` fields replaced by
/// `***`; false (and `out` untouched) when it holds none. Every message passes
/// here, so the common case, none, is one word-at-a-time pass over the bytes
/// with no allocation.
fn mask(frame: &[u8], masked: &Masked, out: &mut Vec<u8>) -> bool {
    if masked.tags.is_empty() || first_masked(frame, masked).is_none() {
        return false;
    }
    out.clear();
    let mut rest = frame;
    while let Some((value_start, value_end)) = first_masked(rest, masked) {
        out.extend_from_slice(&rest[..value_start]);
        out.extend_from_slice(MASK);
        rest = &rest[value_end..];
    }
    out.extend_from_slice(rest);
    true
}

/// MaskedTags, ready for the scan: each tag's digits, and which endings one has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Masked {
    tags: Vec<Vec<u8>>,
    /// Bit `n` set when a masked tag of two or more digits ends in the two
    /// digits `n` (00 to 99).
    last_two: u128,
    /// Bit `d` set when `d` is a masked one-digit tag.
    single: u16,
}

impl Masked {
    fn new(tags: &[u32]) -> Self {
        let tags: Vec<Vec<u8>> = tags.iter().map(|t| t.to_string().into_bytes()).collect();
        let (mut last_two, mut single) = (0u128, 0u16);
        for tag in &tags {
            match tag.as_slice() {
                [.., a, b] => last_two |= 1 << (u32::from(a - b'0') * 10 + u32::from(b - b'0')),
                [d] => single |= 1 << (d - b'0'),
                [] => {}
            }
        }
        Self {
            tags,
            last_two,
            single,
        }
    }

    /// Whether a masked tag ends at `eq`, the position of an `=` in `bytes`,
    /// starting the bytes or right after an SOH. Most `=` signs are turned away
    /// by the two digits before them, without looking at the tags.
    #[inline]
    fn ends_at(&self, bytes: &[u8], eq: usize) -> bool {
        let digit = |i: usize| {
            bytes
                .get(i)
                .map(|b| b.wrapping_sub(b'0'))
                .filter(|d| *d <= 9)
        };
        let Some(last) = eq.checked_sub(1).and_then(digit) else {
            return false;
        };
        let worth_a_look = match eq.checked_sub(2).and_then(digit) {
            Some(before) => self.last_two & (1 << (u32::from(before) * 10 + u32::from(last))) != 0,
            None => self.single & (1 << last) != 0,
        };
        // Byte by byte: a few digits, where a call to memcmp costs more.
        worth_a_look
            && self.tags.iter().any(|tag| {
                eq >= tag.len()
                    && bytes[eq - tag.len()..eq]
                        .iter()
                        .rev()
                        .zip(tag.iter().rev())
                        .all(|(a, b)| a == b)
                    && (eq == tag.len() || bytes[eq - tag.len() - 1] == 1)
            })
    }
}

/// The value (start, end) of the first field of `bytes` whose tag is masked. One
/// pass a word at a time over the `=` signs; only an `=` after a digit that ends
/// a masked tag is looked at closer.
fn first_masked(bytes: &[u8], masked: &Masked) -> Option<(usize, usize)> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let value = |eq: usize| {
        let start = eq + 1;
        let end = find_soh(&bytes[start..]).map_or(bytes.len(), |p| start + p);
        (start, end)
    };
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ (LO * u64::from(b'='));
        // Flags every `=` (and, above a real one, perhaps a byte that is not:
        // each is checked).
        let mut found = x.wrapping_sub(LO) & !x & HI;
        while found != 0 {
            let eq = base + (found.trailing_zeros() / 8) as usize;
            if bytes[eq] == b'=' && masked.ends_at(bytes, eq) {
                return Some(value(eq));
            }
            found &= found - 1;
        }
        base += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == b'=' && masked.ends_at(bytes, base + i) {
            return Some(value(base + i));
        }
    }
    None
}

#[cfg(test)]
mod tests;
