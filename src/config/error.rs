//! `ConfigError` and `ConfigWarning`: what is wrong with a configuration,
//! naming the file, the line, the key and the value.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A non-fatal problem in `engine.properties`: an unknown or duplicate key,
/// or a value that is likely a mistake.
///
/// Displayed as `engine.properties:12: Key: message` when read from a file,
/// `line 12: Key: message` when parsed from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The file, when the text was read from one.
    pub file: Option<PathBuf>,
    /// 1-based line number.
    pub line: usize,
    /// The key as written.
    pub key: String,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl ConfigWarning {
    pub(super) fn new(line: usize, key: &str, message: String) -> Self {
        Self {
            file: None,
            line,
            key: key.to_owned(),
            message,
        }
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = Location(self.file.as_deref(), Some(self.line));
        write!(f, "{at}{}: {}", self.key, self.message)
    }
}

/// A configuration that cannot be used; the fault is the configuration's (or
/// the file system's, for [`ConfigError::Io`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The properties file could not be read.
    #[error("cannot read configuration file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is neither blank, a comment, nor `Key = Value`.
    #[error(
        "{}expected `Key = Value` or a comment, found {text:?}",
        Location(.file.as_deref(), Some(*.line))
    )]
    Syntax {
        /// The file, when the text was read from one.
        file: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// The line as written.
        text: String,
    },
    /// A `Session.` key does not have the form `Session.Default.<Key>` or
    /// `Session.<SenderCompID>/<TargetCompID>.<Key>`.
    #[error(
        "{}bad key {key:?}: expected {expected}",
        Location(.file.as_deref(), Some(*.line))
    )]
    BadKey {
        /// The file, when the text was read from one.
        file: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// The key as written.
        key: String,
        /// What the key should look like.
        expected: &'static str,
    },
    /// The text is a QuickFIX `.cfg` file: it has `[DEFAULT]` or `[SESSION]`
    /// sections, which `engine.properties` has not.
    #[error(
        "{}{header} opens a section of a QuickFIX .cfg file; fixengine reads FIX \
         Antenna-style properties instead: `Key = Value` lines, engine keys bare \
         (ListenPort = 9880), session keys as Session.Default.<Key> (every session) \
         or Session.<SenderCompID>/<TargetCompID>.<Key> (one session, SenderCompID \
         ours); once converted, each QuickFIX key left gets a warning naming ours",
        Location(.file.as_deref(), Some(*.line))
    )]
    QuickFixFormat {
        /// The file, when the text was read from one.
        file: Option<PathBuf>,
        /// 1-based line number of the first section header.
        line: usize,
        /// The header as written, e.g. `[DEFAULT]`.
        header: String,
    },
    /// A value does not parse as its key requires.
    #[error(
        "{}{key} = {value:?}: expected {expected}",
        Location(.file.as_deref(), *.line)
    )]
    BadValue {
        /// The file, when the text was read from one.
        file: Option<PathBuf>,
        /// 1-based line number; `None` for a value set from code.
        line: Option<usize>,
        /// The key as written.
        key: String,
        /// The offending value (for a list, the offending item).
        value: String,
        /// What the key accepts.
        expected: &'static str,
    },
    /// The engine would listen on no port, so accept no connection (see
    /// [`EngineConfig::validate_for_start`](super::EngineConfig::validate_for_start)).
    #[error(
        "no port to listen on: an acceptor that listens on nothing accepts no \
         connection; set ListenPort (ListenPort = 9880, or 0 for a port the OS \
         chooses), Session.Default.ListenPort or a session's ListenPort"
    )]
    NoListenPort,
    /// Values that each parse but together break a rule.
    #[error("{}invalid configuration: {what}", Location(.file.as_deref(), None))]
    Invalid {
        /// The file, when the configuration was read from one.
        file: Option<PathBuf>,
        /// The rule broken, with the keys and values involved.
        what: String,
    },
}

impl ConfigError {
    /// The same error, naming `path` as the file it comes from.
    pub(super) fn in_file(mut self, path: &Path) -> Self {
        match &mut self {
            Self::Syntax { file, .. }
            | Self::QuickFixFormat { file, .. }
            | Self::BadKey { file, .. }
            | Self::BadValue { file, .. }
            | Self::Invalid { file, .. } => *file = Some(path.to_owned()),
            Self::Io { .. } | Self::NoListenPort => {}
        }
        self
    }
}

/// Where a problem is, as a prefix: `engine.properties:12: ` (the form
/// editors and terminals turn into a link), `line 12: ` for text that came
/// from no file, `engine.properties: ` for the file as a whole, nothing for a
/// value set from code.
struct Location<'a>(Option<&'a Path>, Option<usize>);

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display()),
            (Some(file), None) => write!(f, "{}: ", file.display()),
            (None, Some(line)) => write!(f, "line {line}: "),
            (None, None) => Ok(()),
        }
    }
}

pub(super) fn invalid(what: String) -> ConfigError {
    ConfigError::Invalid { file: None, what }
}
