//! `fixcat store DIR`: a store's state, read with the library's read-only
//! [`inspect`]; and `--set-next-sender` / `--set-next-target`, which open the
//! store as the engine does, under its lock, so they are refused while an
//! engine runs the session.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use fixengine::store::{
    FileStore, FileStoreOptions, MessageStore, StoreError, StoreInfo, folder_name, inspect,
};
use fixengine::{TimePrecision, UtcTimestamp};

use crate::args::StoreArgs;

/// Why the command failed: the message to print, and whether it was a usage
/// error (exit 2) rather than a failure (exit 1).
#[derive(Debug)]
pub(crate) struct StoreFail {
    /// What to print.
    pub(crate) message: String,
    /// A usage error.
    pub(crate) usage: bool,
}

impl StoreFail {
    fn failed(message: String) -> Self {
        Self {
            message,
            usage: false,
        }
    }
}

/// Runs `fixcat store`, returning what to print on stdout.
///
/// # Errors
/// What to print on stderr when the store cannot be read or changed.
pub(crate) fn run(args: &StoreArgs) -> Result<String, StoreFail> {
    let dir = &args.dir;
    if !dir.join("current").join("header").is_file() {
        let hint = if dir.join(fixengine::message_log::FOLDER).is_dir() {
            " (it holds a message log: read it with fixcat DIR)"
        } else {
            ""
        };
        return Err(StoreFail {
            message: format!(
                "{} is not a session's store folder: it has no current/header{hint}",
                dir.display()
            ),
            usage: true,
        });
    }
    if args.next_sender.is_none() && args.next_target.is_none() {
        let info = inspect(dir).map_err(|e| StoreFail::failed(e.to_string()))?;
        return Ok(describe(&info));
    }
    let (before, after) = set(dir, args)?;
    let mut out = String::new();
    for (what, old, new, given) in [
        (
            "next sender seq",
            before.next_sender_seq,
            after.next_sender_seq,
            args.next_sender,
        ),
        (
            "next target seq",
            before.next_target_seq,
            after.next_target_seq,
            args.next_target,
        ),
    ] {
        if given.is_some() {
            let _ = writeln!(out, "set {what}: {old} -> {new}");
        }
    }
    out.push('\n');
    out.push_str(&describe(&after));
    Ok(out)
}

/// Opens the stopped session's store, sets its numbers and syncs; returns the
/// state before and after.
fn set(dir: &Path, args: &StoreArgs) -> Result<(StoreInfo, StoreInfo), StoreFail> {
    let failed = |e: StoreError| StoreFail::failed(e.to_string());
    // FileStore::open takes the root and the key, and derives the folder: the
    // folder must be the one the key names, or it would open (create) another.
    let dir: PathBuf =
        fs::canonicalize(dir).map_err(|e| StoreFail::failed(format!("{}: {e}", dir.display())))?;
    let key_file = dir.join("key");
    let key = fs::read(&key_file)
        .map_err(|e| StoreFail::failed(format!("{}: {e}", key_file.display())))?;
    let key = String::from_utf8(key).map_err(|_| {
        StoreFail::failed(format!(
            "{}: the session key is not UTF-8",
            key_file.display()
        ))
    })?;
    let (Some(root), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(StoreFail::failed(format!(
            "{}: a store folder has a parent folder (the StorageDirectory)",
            dir.display()
        )));
    };
    let expected = folder_name(&key).unwrap_or_default();
    if name != expected.as_str() {
        return Err(StoreFail::failed(format!(
            "{}: its key file names session {key:?}, whose folder is {expected:?}: \
             not opening it as another session's",
            dir.display()
        )));
    }
    // No background thread: nothing is appended, so no segment is prepared.
    let options = FileStoreOptions::default().with_preallocate(false);
    let mut store = FileStore::open(root, &key, options).map_err(|e| match e {
        StoreError::Locked { path } => StoreFail::failed(format!(
            "{}: the session is open in an engine (or another program): its store's lock \
             ({}) is held. Stop the session first; its numbers can only be changed while \
             it is stopped.",
            dir.display(),
            path.display()
        )),
        e => failed(e),
    })?;
    // Read under the lock: nothing moves meanwhile.
    let before = inspect(&dir).map_err(failed)?;
    if let Some(seq) = args.next_sender
        && let Some((_, last)) = before.seq_range
        && seq <= last
    {
        return Err(StoreFail {
            message: format!(
                "--set-next-sender {seq}: the store holds sent messages up to MsgSeqNum \
                 {last}, so the next sender number is at least {} (the store moves it past \
                 its last message when it opens). To start over from 1, reset the session.",
                last.saturating_add(1)
            ),
            usage: true,
        });
    }
    if let Some(seq) = args.next_sender {
        store.set_next_sender_seq(seq).map_err(failed)?;
    }
    if let Some(seq) = args.next_target {
        store.set_next_target_seq(seq).map_err(failed)?;
    }
    store.sync().map_err(failed)?;
    drop(store);
    let after = inspect(&dir).map_err(failed)?;
    Ok((before, after))
}

/// The state, one `name  value` line each, segments and archives indented.
fn describe(info: &StoreInfo) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| {
        let _ = writeln!(out, "{name:<17}{value}");
    };
    line("store", &info.dir.display().to_string());
    line(
        "session key",
        info.key.as_deref().unwrap_or("(no key file)"),
    );
    line(
        "generation",
        &format!("{}, begun {} UTC", info.generation, time(info.created)),
    );
    let sender = if info.header_next_sender_seq == info.next_sender_seq {
        info.next_sender_seq.to_string()
    } else {
        format!(
            "{} (the header says {}: messages were stored since it was written; \
             the store moves it on when it opens)",
            info.next_sender_seq, info.header_next_sender_seq
        )
    };
    line("next sender seq", &sender);
    line("next target seq", &info.next_target_seq.to_string());
    let messages = match info.seq_range {
        Some((first, last)) => format!("{}, MsgSeqNum {first}..{last}", info.messages),
        None => "0".to_owned(),
    };
    line("messages", &messages);
    line("segments", &info.segments.len().to_string());
    for s in &info.segments {
        let name = s.path.file_name().map(|n| n.to_string_lossy().into_owned());
        let mut text = format!(
            "  {:<16} {:>12} bytes, {} used, {} messages",
            name.unwrap_or_default(),
            s.size,
            s.used,
            s.messages
        );
        // The free space after the last record is the normal end of a scan.
        if !matches!(s.end, "blank record header" | "end of file") {
            let _ = write!(text, " (read up to: {})", s.end);
        }
        let _ = writeln!(out, "{text}");
    }
    let mut line = |name: &str, value: &str| {
        let _ = writeln!(out, "{name:<17}{value}");
    };
    line(
        "archived",
        &match info.archived.len() {
            0 => "none".to_owned(),
            n => format!("{n} generations"),
        },
    );
    for a in &info.archived {
        let name = a.path.file_name().map(|n| n.to_string_lossy().into_owned());
        let _ = writeln!(
            out,
            "  {:<16} {:>12} bytes",
            name.unwrap_or_default(),
            a.size
        );
    }
    let last = info.last_write.map_or("unknown".to_owned(), |t| {
        format!("{} UTC", time(UtcTimestamp::from_system_time(t)))
    });
    let _ = writeln!(out, "{:<17}{last}", "last write");
    out
}

fn time(t: UtcTimestamp) -> String {
    let mut buf = Vec::new();
    t.write_to(TimePrecision::Micros, &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
