//! `fixcat`: reads the engine's message logs and session stores, and raw FIX
//! captures, and prints their messages one per line (or one field per line
//! with names, or as JSON), filtered by MsgType, sequence number, time, field
//! value and direction; follows a log as it is written; and shows, or changes,
//! a session store's state (`fixcat store DIR`).
//!
//! ```sh
//! fixcat store/FIX.4.4-ISLD-TW~1a2b3c4d5e6f7a8b          # a session's log
//! fixcat --type D --field 11=ORD-7 messages/20261203-001.log
//! fixcat -f --pretty store/FIX.4.4-ISLD-TW~1a2b3c4d5e6f7a8b/messages
//! fixcat store store/FIX.4.4-ISLD-TW~1a2b3c4d5e6f7a8b
//! ```
//!
//! Everything it reads, it reads through the crate's public API
//! ([`fixengine::message_log::parse`], [`fixengine::store::inspect`],
//! [`fixengine::Framer`]); `fixcat --help` is the manual. Exit status: 0 done,
//! 1 an input or the store could not be read or changed, 2 a usage error.

// A binary's root resolves `mod x;` beside itself (src/bin/x.rs), where other
// binaries would see it as one of theirs: its modules live in src/bin/fixcat/.
#[path = "fixcat/args.rs"]
mod args;
#[path = "fixcat/filter.rs"]
mod filter;
#[path = "fixcat/input.rs"]
mod input;
#[path = "fixcat/item.rs"]
mod item;
#[path = "fixcat/logread.rs"]
mod logread;
#[path = "fixcat/names.rs"]
mod names;
#[path = "fixcat/output.rs"]
mod output;
#[path = "fixcat/raw.rs"]
mod raw;
#[path = "fixcat/store_cmd.rs"]
mod store_cmd;

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use fixengine::{Clock, Dictionary, DictionaryError, SystemClock};

use crate::args::{CatArgs, Command};
use crate::input::Source;
use crate::output::Printer;

/// Why printing stopped early.
#[derive(Debug)]
pub(crate) enum Fail {
    /// Stdout was closed (`fixcat ... | head`): an ordinary way to stop.
    OutputClosed,
    /// Writing to stdout failed.
    Output(io::Error),
    /// An input could not be read: the message to print. The other inputs
    /// are still read.
    Input(String),
}

impl Fail {
    /// An input's I/O error, naming it.
    pub(crate) fn input(path: &Path, e: io::Error) -> Self {
        Self::Input(format!("{}: {e}", path.display()))
    }
}

/// Exit status for a usage error.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let today = today();
    let command = match args::parse(std::env::args_os().skip(1).collect(), &today) {
        Ok(command) => command,
        Err(e) => return usage_error(&e),
    };
    match command {
        Command::Help => print(args::HELP),
        Command::StoreHelp => print(args::STORE_HELP),
        Command::Version => print(&format!("fixcat {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Cat(cat) => run_cat(cat),
        Command::Store(store) => match store_cmd::run(&store) {
            Ok(text) => print(&text),
            Err(fail) => {
                eprintln!("fixcat store: {}", fail.message);
                if fail.usage {
                    ExitCode::from(USAGE)
                } else {
                    ExitCode::FAILURE
                }
            }
        },
    }
}

/// Reads every input in order and prints what passes the filters.
fn run_cat(cat: CatArgs) -> ExitCode {
    let CatArgs {
        inputs,
        filter,
        format,
        dicts,
        follow,
    } = cat;
    let mut loaded = Vec::new();
    for path in &dicts {
        match Dictionary::from_file(path) {
            Ok(d) => loaded.push(d),
            Err(DictionaryError::Io { path, source }) => {
                eprintln!("fixcat: --dict {}: {source}", path.display());
                return ExitCode::FAILURE;
            }
            Err(e) => return usage_error(&format!("--dict {}: {e}", path.display())),
        }
    }
    if follow && inputs.len() > 1 {
        return usage_error("--follow reads one input, a message-log file or folder");
    }
    let inputs = if inputs.is_empty() {
        vec!["-".into()]
    } else {
        inputs
    };
    let mut failed = false;
    let mut sources = Vec::new();
    for arg in &inputs {
        match input::detect(arg) {
            Ok(source) => sources.push(source),
            Err(e) => {
                eprintln!("fixcat: {e}");
                failed = true;
            }
        }
    }
    if follow {
        match sources.as_slice() {
            [Source::LogFile(_) | Source::LogFolder(_) | Source::Stdin] => {}
            [one] => {
                return usage_error(&format!(
                    "--follow reads a message-log file or folder; {} is not one",
                    one.describe()
                ));
            }
            // The one input could not be read: said above.
            _ => return ExitCode::FAILURE,
        }
    }
    let stdout = io::stdout();
    let mut printer = Printer::new(
        BufWriter::new(stdout.lock()),
        filter,
        format,
        names::Names::new(loaded),
    );
    for source in &sources {
        match input::read(source, follow, &mut printer) {
            Ok(()) => {}
            Err(Fail::OutputClosed) => return ExitCode::SUCCESS,
            Err(Fail::Output(e)) => {
                eprintln!("fixcat: cannot write to stdout: {e}");
                return ExitCode::FAILURE;
            }
            Err(Fail::Input(e)) => {
                eprintln!("fixcat: {e}");
                failed = true;
            }
        }
    }
    match printer.flush() {
        Ok(()) | Err(Fail::OutputClosed) => {}
        Err(e) => {
            eprintln!("fixcat: cannot write to stdout: {e:?}");
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Today's date, UTC, as `YYYYMMDD`: the day `--since HH:MM:SS` means.
fn today() -> [u8; 8] {
    let mut buf = Vec::new();
    SystemClock
        .now_utc()
        .write_to(fixengine::TimePrecision::Seconds, &mut buf);
    buf.get(..8)
        .and_then(|d| d.try_into().ok())
        .unwrap_or(*b"19700101")
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("fixcat: {message}\nTry 'fixcat --help' for more information.");
    ExitCode::from(USAGE)
}

/// Prints `text` on stdout; a closed stdout is no error.
fn print(text: &str) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixcat: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}
