//! Reading message logs (the engine's `messages/YYYYMMDD-NNN.log` files): a
//! file, a folder of them, a stream on stdin, and following a file or folder
//! as it is written (`--follow`).
//!
//! A log file being written ends in zeros, the part allocated ahead of the
//! writer: reading stops there ([`Parsed::End`]) and, when following, starts
//! again from that offset on the next poll. A record the writer is copying in
//! at that moment reads as cut short: when following it is read again later;
//! otherwise the cut last record of a file (a log killed mid-write) is skipped
//! silently. Bytes that are not records are skipped to the next newline, with
//! one warning per file.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use fixengine::UtcTimestamp;
use fixengine::message_log::{Parsed, RecordKind, TIME_LEN, file_order, log_files, parse};

use crate::Fail;
use crate::item::Item;
use crate::output::Printer;

/// How often a followed log is read again.
const POLL: Duration = Duration::from_millis(200);

/// How much of a file is read at a time; doubled for a record longer than it.
const CHUNK: usize = 64 * 1024;

/// True when `buf`, the start of a file or stream, begins like a log record:
/// a time, a space and a record kind.
pub(crate) fn looks_like_log(buf: &[u8]) -> bool {
    if let Parsed::Record(..) = parse(buf) {
        return true;
    }
    let Some(time) = buf.get(..TIME_LEN) else {
        return false;
    };
    let Some(rest) = buf.get(TIME_LEN..).and_then(|r| r.strip_prefix(b" ")) else {
        return false;
    };
    let word = rest.split(|&b| b == b' ').next().unwrap_or_default();
    UtcTimestamp::parse(time).is_some() && RecordKind::from_word(word).is_some()
}

/// Prints every record of the log files in `dir`, oldest first.
pub(crate) fn read_folder<W: Write>(dir: &Path, printer: &mut Printer<W>) -> Result<(), Fail> {
    let files = log_files(dir).map_err(|e| Fail::input(dir, e))?;
    for path in files {
        match LogFile::open(&path) {
            Ok(mut file) => file.pump(printer, false)?,
            // Deleted by the log's retention since the listing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Fail::input(&path, e)),
        }
    }
    Ok(())
}

/// Prints the records of one log file.
pub(crate) fn read_file<W: Write>(path: &Path, printer: &mut Printer<W>) -> Result<(), Fail> {
    let mut file = LogFile::open(path).map_err(|e| Fail::input(path, e))?;
    file.pump(printer, false)
}

/// Prints the records of a log file as it is written, until stopped.
pub(crate) fn follow_file<W: Write>(path: &Path, printer: &mut Printer<W>) -> Result<(), Fail> {
    let mut file = LogFile::open(path).map_err(|e| Fail::input(path, e))?;
    loop {
        file.pump(printer, true)?;
        printer.flush()?;
        thread::sleep(POLL);
    }
}

/// Prints the records of the log files in `dir` as they are written, until
/// stopped: each file to its end, then, once a newer file appears, the rest of
/// the current one and on to the next.
pub(crate) fn follow_folder<W: Write>(dir: &Path, printer: &mut Printer<W>) -> Result<(), Fail> {
    let mut current: Option<LogFile> = None;
    loop {
        let files = log_files(dir).map_err(|e| Fail::input(dir, e))?;
        for path in &files {
            if current
                .as_ref()
                .is_some_and(|c| file_order(path) <= file_order(&c.path))
            {
                continue;
            }
            // A newer file: the current one is done (the writer closes a file
            // before it starts the next), so what it holds is final.
            if let Some(mut done) = current.take() {
                done.pump(printer, false)?;
            }
            match LogFile::open(path) {
                Ok(file) => current = Some(file),
                // Deleted by the log's retention since the listing.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Fail::input(path, e)),
            }
        }
        if let Some(file) = &mut current {
            file.pump(printer, true)?;
        }
        printer.flush()?;
        thread::sleep(POLL);
    }
}

/// Prints the records of a log arriving as a stream (stdin), of which `buf`
/// holds the first bytes already read. Zeros between records (`cat` of a file
/// being written, then another) are skipped.
pub(crate) fn read_stream<R: Read, W: Write>(
    name: &Path,
    mut input: R,
    mut buf: Vec<u8>,
    printer: &mut Printer<W>,
) -> Result<(), Fail> {
    let mut warn = Warning::new(name);
    let mut base = 0u64;
    let mut eof = false;
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let (used, stop) = scan(&buf, eof, false, base, &mut warn, printer)?;
        buf.drain(..used);
        base += used as u64;
        match stop {
            Stop::End => {
                let zeros = buf.iter().take_while(|&&b| b == 0).count();
                buf.drain(..zeros);
                base += zeros as u64;
                if !buf.is_empty() {
                    continue;
                }
            }
            Stop::Done | Stop::Wait => return Ok(()),
            Stop::More => {}
        }
        if eof {
            return Ok(());
        }
        // A pipe may pause for long (`tail -f log | fixcat`): what is printed
        // so far goes out before waiting on it.
        printer.flush()?;
        match input.read(&mut chunk) {
            Ok(0) => eof = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fail::input(name, e)),
        }
    }
}

/// A log file being read, and how far.
#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    file: File,
    /// The offset of the first record not yet printed.
    pos: u64,
    warn: Warning,
}

impl LogFile {
    fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            file: File::open(path)?,
            pos: 0,
            warn: Warning::new(path),
        })
    }

    /// Prints the records from where the last call stopped. `live`: the file
    /// may still be written, so a record cut short is left to read again
    /// later; otherwise it is the file's torn last record, and skipped.
    fn pump<W: Write>(&mut self, printer: &mut Printer<W>, live: bool) -> Result<(), Fail> {
        let mut want = CHUNK;
        loop {
            let mut buf = vec![0; want];
            let n =
                read_at(&self.file, &mut buf, self.pos).map_err(|e| Fail::input(&self.path, e))?;
            buf.truncate(n);
            if n == 0 {
                return Ok(());
            }
            let eof = n < want;
            let (used, stop) = scan(&buf, eof, live, self.pos, &mut self.warn, printer)?;
            self.pos += used as u64;
            match stop {
                Stop::More if !eof => {
                    // A record longer than what was read: read more at once.
                    want = if used == 0 {
                        want.saturating_mul(2)
                    } else {
                        CHUNK
                    };
                }
                _ => return Ok(()),
            }
        }
    }
}

/// Reads from `offset` until `buf` is full or the file ends; the bytes read.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Where [`scan`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At the end of the bytes, or at a record they cut short: read more.
    More,
    /// At a zero byte: the unwritten end of a file being written.
    End,
    /// At a record not complete yet in a file being written: read again later.
    Wait,
    /// At the torn last record of a finished file: nothing more to print.
    Done,
}

/// Prints the records at the start of `buf` (the bytes from offset `base`);
/// returns how many bytes were used and why it stopped. `eof`: nothing follows
/// `buf` for now; `live`: more may be written after it later.
fn scan<W: Write>(
    buf: &[u8],
    eof: bool,
    live: bool,
    base: u64,
    warn: &mut Warning,
    printer: &mut Printer<W>,
) -> Result<(usize, Stop), Fail> {
    let mut off = 0;
    while off < buf.len() {
        let rest = &buf[off..];
        match parse(rest) {
            Parsed::Record(r, len) => {
                printer.emit(Item {
                    time: Some(r.time),
                    kind: r.kind.into(),
                    bytes: r.bytes,
                    note: r.note,
                })?;
                off += len;
            }
            Parsed::End => return Ok((off, Stop::End)),
            Parsed::Malformed(len) => {
                // No newline up to the end of what was read: possibly a record
                // the writer is copying in (its time cut short), or the torn
                // last line of a file.
                if rest.get(len.saturating_sub(1)) != Some(&b'\n') {
                    match (eof, live) {
                        (false, _) => return Ok((off, Stop::More)),
                        (true, true) => return Ok((off, Stop::Wait)),
                        (true, false) => return Ok((buf.len(), Stop::Done)),
                    }
                }
                warn.malformed(base + off as u64);
                off += len.max(1);
            }
            Parsed::Incomplete => match (eof, live) {
                (false, _) => return Ok((off, Stop::More)),
                (true, true) => return Ok((off, Stop::Wait)),
                (true, false) => match rest.iter().position(|&b| b == b'\n') {
                    // Lines follow the record: it was cut short inside the file.
                    Some(i) if i + 1 < rest.len() => {
                        warn.malformed(base + off as u64);
                        off += i + 1;
                    }
                    // The last line: a log killed while writing it.
                    _ => return Ok((buf.len(), Stop::Done)),
                },
            },
        }
    }
    Ok((off, Stop::More))
}

/// The warning about bytes that are not records, said once per file.
#[derive(Debug)]
struct Warning {
    name: PathBuf,
    said: bool,
}

impl Warning {
    fn new(name: &Path) -> Self {
        Self {
            name: name.to_path_buf(),
            said: false,
        }
    }

    fn malformed(&mut self, offset: u64) {
        if !self.said {
            self.said = true;
            eprintln!(
                "fixcat: {}: skipping bytes that are not a log record, at byte {offset} \
                 (any more in this file are skipped without a word)",
                self.name.display()
            );
        }
    }
}
