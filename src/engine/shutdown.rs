//! Waiting for the end of a program's run: SIGINT or SIGTERM, or `q` typed on
//! standard input, for a program whose main thread has nothing else to do once
//! its sessions run ([`FixEngine::wait_for_shutdown`]).

use std::fmt;
use std::io::{BufRead, IsTerminal};

use super::{EngineError, FixEngine};

/// Why [`FixEngine::wait_for_shutdown`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// SIGINT (Ctrl-C) or SIGTERM, by number.
    Signal(i32),
    /// `q` and Enter on standard input.
    Quit,
    /// Standard input ended (Ctrl-D, or the end of a pipe).
    EndOfInput,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signal(signal_hook::consts::SIGINT) => f.write_str("SIGINT"),
            Self::Signal(signal_hook::consts::SIGTERM) => f.write_str("SIGTERM"),
            Self::Signal(n) => write!(f, "signal {n}"),
            Self::Quit => f.write_str("q typed"),
            Self::EndOfInput => f.write_str("end of standard input"),
        }
    }
}

impl FixEngine {
    /// Blocks the calling thread until SIGINT (Ctrl-C) or SIGTERM arrives, or `q`
    /// and Enter are typed on standard input, or standard input ends; says which.
    /// Call [`FixEngine::shutdown`] next: every session then logs out.
    ///
    /// Standard input is read only where that is safe: not when it is
    /// `/dev/null` (a daemon: its input ends at once, which must not stop it),
    /// and not when it is a terminal the program does not own (started in the
    /// background with `&`, where a read would stop the whole process). There,
    /// only a signal stops the wait.
    ///
    /// # Errors
    /// [`EngineError::Start`] when the signal handlers cannot be installed.
    pub fn wait_for_shutdown(&self) -> Result<StopReason, EngineError> {
        wait(stdin_is_readable())
    }

    /// As [`FixEngine::wait_for_shutdown`], without reading standard input at
    /// all: only SIGINT (Ctrl-C) or SIGTERM ends the wait. For a program whose
    /// standard input is meant for something else, or that must not stop when it
    /// ends.
    ///
    /// # Errors
    /// [`EngineError::Start`] when the signal handlers cannot be installed.
    pub fn wait_for_signal(&self) -> Result<StopReason, EngineError> {
        wait(false)
    }
}

/// Blocks until SIGINT or SIGTERM, or, with `read_stdin`, `q` or the end of
/// standard input.
fn wait(read_stdin: bool) -> Result<StopReason, EngineError> {
    let (stop, stopped) = crossbeam_channel::bounded::<StopReason>(2);
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|source| EngineError::Start {
        what: "the SIGINT and SIGTERM handlers".to_owned(),
        source,
    })?;
    let handle = signals.handle();
    let on_signal = stop.clone();
    let signal_thread = std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _ = on_signal.send(StopReason::Signal(signal));
        }
    });
    if read_stdin {
        // Left blocked in its read if a signal comes first: it ends with the
        // process.
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                match line {
                    Ok(l) if l.trim() == "q" => {
                        let _ = stop.send(StopReason::Quit);
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = stop.send(StopReason::EndOfInput);
        });
    } else {
        drop(stop);
    }
    let reason = stopped.recv().unwrap_or(StopReason::EndOfInput);
    // The handlers go with the wait: a second Ctrl-C during the shutdown that
    // follows ends the process the usual way.
    handle.close();
    let _ = signal_thread.join();
    Ok(reason)
}

/// Whether reading standard input is safe and meaningful (see
/// [`FixEngine::wait_for_shutdown`]).
fn stdin_is_readable() -> bool {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return in_terminal_foreground();
    }
    !is_dev_null(&stdin)
}

/// True when standard input is a character device but not a terminal: /dev/null.
fn is_dev_null(stdin: &std::io::Stdin) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    stdin
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.file_type().is_char_device())
}

/// Whether this process's group is its terminal's foreground group, read from
/// `/proc/self/stat` (fields `pgrp` and `tpgid`): a background job that reads its
/// terminal is stopped by SIGTTIN. Where that file cannot be read, the process is
/// taken to be in the foreground.
fn in_terminal_foreground() -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return true;
    };
    foreground_in_stat(&stat).unwrap_or(true)
}

/// From a `/proc/<pid>/stat` line: `pgrp == tpgid`. The command name, in
/// parentheses, may hold spaces and parentheses: the fields are counted after
/// the last `)`.
fn foreground_in_stat(stat: &str) -> Option<bool> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // state ppid pgrp session tty_nr tpgid ...
    let fields: Vec<&str> = rest.split_whitespace().take(6).collect();
    let pgrp: i64 = fields.get(2)?.parse().ok()?;
    let tpgid: i64 = fields.get(5)?.parse().ok()?;
    Some(pgrp == tpgid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_foreground_is_read_from_proc_stat() {
        let foreground = "4242 (acceptor) S 1000 4242 1000 34816 4242 4194304 0";
        assert_eq!(foreground_in_stat(foreground), Some(true));
        let background = "4243 (acceptor) S 1000 4243 1000 34816 4100 4194304 0";
        assert_eq!(foreground_in_stat(background), Some(false));
        let odd_name = "7 (a) b (c) S 1 7 1 34816 7 0";
        assert_eq!(foreground_in_stat(odd_name), Some(true));
        assert_eq!(foreground_in_stat("garbage"), None);
    }

    #[test]
    fn stop_reasons_read_as_a_log_line_would() {
        assert_eq!(
            StopReason::Signal(signal_hook::consts::SIGTERM).to_string(),
            "SIGTERM"
        );
        assert_eq!(StopReason::Quit.to_string(), "q typed");
    }
}
