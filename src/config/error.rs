//! `ConfigError` and `ConfigWarning`: what is wrong with a configuration,
//! naming the line, the key and the value.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// A non-fatal problem in `engine.properties`: an unknown or duplicate key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// 1-based line number.
    pub line: usize,
    /// The key as written.
    pub key: String,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.key, self.message)
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
    #[error("line {line}: expected `Key = Value` or a comment, found {text:?}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// The line as written.
        text: String,
    },
    /// A `Session.` key does not have the form `Session.Default.<Key>` or
    /// `Session.<SenderCompID>/<TargetCompID>.<Key>`.
    #[error("line {line}: bad key {key:?}: expected {expected}")]
    BadKey {
        /// 1-based line number.
        line: usize,
        /// The key as written.
        key: String,
        /// What the key should look like.
        expected: &'static str,
    },
    /// A value does not parse as its key requires.
    #[error("{}{key} = {value:?}: expected {expected}", LinePrefix(*.line))]
    BadValue {
        /// 1-based line number; `None` for a value set from code.
        line: Option<usize>,
        /// The key as written.
        key: String,
        /// The offending value (for a list, the offending item).
        value: String,
        /// What the key accepts.
        expected: &'static str,
    },
    /// Values that each parse but together break a rule.
    #[error("invalid configuration: {what}")]
    Invalid {
        /// The rule broken, with the keys and values involved.
        what: String,
    },
}

/// Prints `line N: ` for values from a file and nothing for values from code.
struct LinePrefix(Option<usize>);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, "line {line}: "),
            None => Ok(()),
        }
    }
}

pub(super) fn invalid(what: String) -> ConfigError {
    ConfigError::Invalid { what }
}
