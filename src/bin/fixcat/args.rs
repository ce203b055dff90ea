//! The command line, parsed by hand (the crate takes no argument-parsing
//! dependency): options, their values, and `--help`.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::filter::{self, Filter};
use crate::output::Format;

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    /// Print the help.
    Help,
    /// Print `fixcat store --help`.
    StoreHelp,
    /// Print the version.
    Version,
    /// Print the records of inputs.
    Cat(CatArgs),
    /// Show or change a store's state.
    Store(StoreArgs),
}

/// `fixcat [OPTIONS] [INPUT...]`.
#[derive(Debug, Default)]
pub(crate) struct CatArgs {
    /// The inputs, in order; `-` is stdin. Empty: stdin.
    pub(crate) inputs: Vec<OsString>,
    /// What to print.
    pub(crate) filter: Filter,
    /// How to print it.
    pub(crate) format: Format,
    /// Dictionaries for `--pretty`'s names.
    pub(crate) dicts: Vec<PathBuf>,
    /// Wait for more records at the end (`-f`).
    pub(crate) follow: bool,
}

/// `fixcat store DIR [--set-next-sender N] [--set-next-target N]`.
#[derive(Debug)]
pub(crate) struct StoreArgs {
    /// The session's store folder.
    pub(crate) dir: PathBuf,
    /// The next outbound MsgSeqNum(34) to set.
    pub(crate) next_sender: Option<u64>,
    /// The next expected inbound MsgSeqNum(34) to set.
    pub(crate) next_target: Option<u64>,
}

/// Parses the arguments after the program's name. `today` (`YYYYMMDD`, UTC)
/// dates the `HH:MM:SS` form of `--since` and `--until`.
///
/// # Errors
/// A message naming the argument that is wrong, for a usage error (exit 2).
pub(crate) fn parse(args: Vec<OsString>, today: &[u8; 8]) -> Result<Command, String> {
    if args.first().is_some_and(|a| a == "store") {
        return parse_store(&args[1..]);
    }
    let mut cat = CatArgs::default();
    let mut since = None;
    let mut until = None;
    let mut pretty = false;
    let mut json = false;
    let mut args = args.into_iter();
    let mut inputs_only = false;
    while let Some(arg) = args.next() {
        if inputs_only {
            cat.inputs.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            // Only a path can be anything but UTF-8.
            cat.inputs.push(arg);
            continue;
        };
        if text == "-" || !text.starts_with('-') {
            cat.inputs.push(arg);
            continue;
        }
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (text, None),
        };
        if inline.is_some() && !takes_value(name) {
            return Err(format!("{name} takes no value"));
        }
        let mut value = |what: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .ok_or_else(|| format!("{name} needs a value: {what}")),
            }
        };
        match name {
            "--" => inputs_only = true,
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-f" | "--follow" => cat.follow = true,
            "--pretty" => pretty = true,
            "--json" => json = true,
            "--type" => {
                let types = filter::parse_types(&value("a MsgType, e.g. --type D")?)?;
                cat.filter.types.extend(types);
            }
            "--seq" => cat.filter.seq = Some(filter::parse_seq(&value("FROM..TO")?)?),
            "--since" => since = Some(filter::parse_time(name, &value("a time")?, today)?),
            "--until" => until = Some(filter::parse_time(name, &value("a time")?, today)?),
            "--field" => {
                let field = filter::parse_field(&value("TAG=VALUE, e.g. --field 11=ORD-7")?)?;
                cat.filter.fields.push(field);
            }
            "--dir" => cat.filter.dir = Some(filter::parse_dir(&value("in or out")?)?),
            "--dict" => cat.dicts.push(PathBuf::from(value("a QuickFIX XML file")?)),
            _ => return Err(format!("unknown option {name}")),
        }
    }
    if let Some((t, _)) = since {
        cat.filter.since = Some(t);
    }
    if let Some((t, unit)) = until {
        // Inclusive of what the value names: `--until 10:00:05` keeps 10:00:05.7.
        cat.filter.until = Some(t.saturating_add(unit));
    }
    if let (Some((from, _)), Some((to, _))) = (since, until)
        && from > to
    {
        return Err(format!(
            "--since {from} is after --until {to}: nothing can match"
        ));
    }
    cat.format = match (pretty, json) {
        (true, true) => return Err("--pretty and --json cannot be combined".to_owned()),
        (true, false) => Format::Pretty,
        (false, true) => Format::Json,
        (false, false) => Format::Line,
    };
    if !cat.dicts.is_empty() && !pretty {
        return Err("--dict only serves --pretty (names are printed there only)".to_owned());
    }
    Ok(Command::Cat(cat))
}

fn takes_value(name: &str) -> bool {
    matches!(
        name,
        "--type" | "--seq" | "--since" | "--until" | "--field" | "--dir" | "--dict"
    )
}

/// Parses what follows `store`.
fn parse_store(args: &[OsString]) -> Result<Command, String> {
    let mut dir = None;
    let mut next_sender = None;
    let mut next_target = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let text = arg.to_str().unwrap_or("");
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (text, None),
        };
        let mut number = || -> Result<u64, String> {
            let v = match inline.clone() {
                Some(v) => v,
                None => args
                    .next()
                    .and_then(|v| v.to_str())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{name} needs a value: a sequence number"))?,
            };
            match v.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!(
                    "{name} {v}: expected a sequence number of 1 or more"
                )),
            }
        };
        match name {
            "-h" | "--help" => return Ok(Command::StoreHelp),
            "--set-next-sender" => next_sender = Some(number()?),
            "--set-next-target" => next_target = Some(number()?),
            _ if text.starts_with('-') && text != "-" => {
                return Err(format!("unknown option for fixcat store: {text}"));
            }
            _ if dir.is_some() => {
                return Err(format!(
                    "fixcat store takes one folder; {} is a second",
                    arg.to_string_lossy()
                ));
            }
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let dir = dir.ok_or("fixcat store needs the session's store folder: fixcat store DIR")?;
    Ok(Command::Store(StoreArgs {
        dir,
        next_sender,
        next_target,
    }))
}

/// `fixcat --help`.
pub(crate) const HELP: &str = "\
fixcat: print the messages of FIX message logs, session stores and raw captures

USAGE:
    fixcat [OPTIONS] [INPUT...]
    fixcat store DIR [--set-next-sender N] [--set-next-target N]

INPUT (read in the order given; none, or -, is stdin):
    a message-log file      messages/YYYYMMDD-NNN.log, written by the engine
    a message-log folder    a session's messages/ folder, or the session folder
                            holding it: its *.log files in name order
    a store folder          a session folder with current/ (and no messages/),
                            or a generation folder (DIR/current, DIR/archive/N):
                            its stored outbound messages, read-only; the time
                            shown is their SendingTime(52)
    any other file          a raw capture, cut into frames; direction and time
                            unknown (shown as ?)
    stdin                   a message log if it starts with a record, else raw

OPTIONS:
    --type T          MsgType(35) T; repeat (or T1,T2) for any of several
    --seq FROM..TO    MsgSeqNum(34) in FROM..TO, inclusive; FROM.. and ..TO too
    --since TIME      records at or after TIME
    --until TIME      records up to TIME, inclusive of its last digit
                      (--until 10:00:05 keeps 10:00:05.7)
                      TIME is UTC: YYYYMMDD-HH:MM:SS[.fff], YYYYMMDD, or
                      HH:MM:SS[.fff] for today; a raw frame is placed by its
                      SendingTime(52), and left out without one
    --field TAG=VAL   a field TAG with value VAL; repeat: all must match
    --dir in|out      in: received (in, garbled); out: sent (out, resend);
                      a raw frame, of unknown direction, never matches
                      Filters combine (AND). Notes are shown unless --type,
                      --seq or --field is given.
    --pretty          one field per line, with field and value names: built in
                      for the session fields and common MsgTypes, or from
    --dict FILE       a QuickFIX XML dictionary (repeat: the first that names
                      a field wins; FIXT11.xml then FIX50SP2.xml, say)
    --json            one JSON object per line: time (null if unknown), kind
                      (in, out, resend, garbled, note, ?), dir (in, out, null),
                      type, seq, fields [[tag, \"value\"], ...]; a note has
                      text, a garbled record note. A value that is not UTF-8
                      has each byte 0x80-0xFF written as \\u00XX (Latin-1).
    -f, --follow      after the end, wait for more (one message-log file or
                      folder; a folder moves on to each newer file); Ctrl-C stops
    -h, --help        this help (fixcat store --help: the store command)
    -V, --version     the version

OUTPUT (default): <time> <kind> <message, | for SOH>, one record per line;
    a garbled record adds [why], a note is <time> note <text>.

EXIT STATUS: 0 done; 1 an input or the store could not be read or changed;
    2 a usage error.
";

/// `fixcat store --help`.
pub(crate) const STORE_HELP: &str = "\
fixcat store: show, or change, the state of a session's store

USAGE:
    fixcat store DIR
    fixcat store DIR [--set-next-sender N] [--set-next-target N]

DIR is the session's folder under the StorageDirectory (the one holding
key, current/ and archive/).

Without options it prints the session key, the next sender and target
sequence numbers, the messages stored and their MsgSeqNum range, the
generation, the segment files and their sizes, the archived generations and
the last write. It reads the files without locking them: it works while an
engine runs the session (the numbers are then a snapshot).

--set-next-sender N   the MsgSeqNum(34) of the next message sent (at least one
                      past the last stored message)
--set-next-target N   the MsgSeqNum(34) expected on the next message received
    change a stopped session's numbers: the store is opened as the engine
    opens it, under its lock, so this is refused while an engine has the
    session open.
";
