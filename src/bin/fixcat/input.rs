//! What an INPUT argument is (a log file or folder, a store, a raw capture,
//! stdin), and reading each kind through the printer.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use fixengine::UtcTimestamp;
use fixengine::message_log::FOLDER;

use crate::item::{Item, Kind};
use crate::output::Printer;
use crate::{Fail, logread, raw};
use fixengine::message_log::RecordKind;

/// How many bytes are looked at to tell a log from a raw capture.
const SNIFF: usize = 64;

/// One input, as recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Standard input: a log or raw, told by its first bytes.
    Stdin,
    /// A message-log file.
    LogFile(PathBuf),
    /// A folder of message-log files.
    LogFolder(PathBuf),
    /// A store folder (a session's, or one generation's).
    Store(PathBuf),
    /// A raw capture.
    Raw(PathBuf),
}

impl Source {
    /// What it is, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Stdin => "stdin".to_owned(),
            Self::LogFile(p) => format!("{} (a message-log file)", p.display()),
            Self::LogFolder(p) => format!("{} (a message-log folder)", p.display()),
            Self::Store(p) => format!("{} (a store folder)", p.display()),
            Self::Raw(p) => format!("{} (a raw capture)", p.display()),
        }
    }
}

/// Recognises an INPUT argument.
///
/// # Errors
/// The message to print when it cannot be read or is a folder of none of the
/// kinds read.
pub(crate) fn detect(arg: &OsStr) -> Result<Source, String> {
    if arg == "-" {
        return Ok(Source::Stdin);
    }
    let path = Path::new(arg);
    let meta = path
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let messages = path.join(FOLDER);
        if messages.is_dir() {
            // A session folder: its log holds both directions with their real
            // times, where its store holds only what was sent.
            return Ok(Source::LogFolder(messages));
        }
        if path.join("current").is_dir() || path.join("header").is_file() {
            return Ok(Source::Store(path.to_path_buf()));
        }
        let has_logs = !fixengine::message_log::log_files(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .is_empty();
        if has_logs || path.file_name().is_some_and(|n| n == FOLDER) {
            return Ok(Source::LogFolder(path.to_path_buf()));
        }
        return Err(format!(
            "{}: not a message-log folder, a session folder or a store folder \
             (it holds no {FOLDER}/, current/ or YYYYMMDD-NNN.log files)",
            path.display()
        ));
    }
    if fixengine::message_log::file_order(path).is_some() {
        return Ok(Source::LogFile(path.to_path_buf()));
    }
    let mut head = Vec::with_capacity(SNIFF);
    File::open(path)
        .and_then(|f| f.take(SNIFF as u64).read_to_end(&mut head))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if logread::looks_like_log(&head) {
        Ok(Source::LogFile(path.to_path_buf()))
    } else {
        Ok(Source::Raw(path.to_path_buf()))
    }
}

/// Prints the records of `source`; `follow`: wait for more at the end.
pub(crate) fn read<W: Write>(
    source: &Source,
    follow: bool,
    printer: &mut Printer<W>,
) -> Result<(), Fail> {
    match source {
        Source::Stdin => read_stdin(printer),
        Source::LogFile(path) if follow => logread::follow_file(path, printer),
        Source::LogFile(path) => logread::read_file(path, printer),
        Source::LogFolder(dir) if follow => logread::follow_folder(dir, printer),
        Source::LogFolder(dir) => logread::read_folder(dir, printer),
        Source::Store(dir) => read_store(dir, printer),
        Source::Raw(path) => {
            let file = File::open(path).map_err(|e| Fail::input(path, e))?;
            raw::read(path, file, Vec::new(), printer)
        }
    }
}

/// Reads stdin: a log when its first bytes are a record, raw otherwise.
fn read_stdin<W: Write>(printer: &mut Printer<W>) -> Result<(), Fail> {
    let name = Path::new("stdin");
    let mut stdin = io::stdin().lock();
    let mut head = Vec::with_capacity(SNIFF);
    // Up to SNIFF bytes, however the pipe delivers them.
    while head.len() < SNIFF {
        let mut chunk = [0u8; SNIFF];
        match stdin.read(&mut chunk[..SNIFF - head.len()]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fail::input(name, e)),
        }
    }
    if logread::looks_like_log(&head) {
        logread::read_stream(name, stdin, head, printer)
    } else {
        raw::read(name, stdin, head, printer)
    }
}

/// Prints a store's messages: sent ones, stamped with their SendingTime(52).
fn read_store<W: Write>(dir: &Path, printer: &mut Printer<W>) -> Result<(), Fail> {
    let mut failed = None;
    fixengine::store::read_stored(dir, &mut |_, frame| {
        let item = Item {
            time: sending_time(frame),
            kind: Kind::Logged(RecordKind::Out),
            bytes: frame,
            note: b"",
        };
        match printer.emit(item) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        }
    })
    .map_err(|e| Fail::Input(e.to_string()))?;
    failed.map_or(Ok(()), Err)
}

/// SendingTime(52) of a frame, found without decoding it all.
fn sending_time(frame: &[u8]) -> Option<UtcTimestamp> {
    let field = frame
        .split(|&b| b == 1)
        .find_map(|f| f.strip_prefix(b"52="))?;
    UtcTimestamp::parse(field)
}
