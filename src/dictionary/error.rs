//! [`DictionaryError`]: why a data dictionary could not be loaded.

use std::path::PathBuf;

use thiserror::Error;

/// Why a dictionary could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DictionaryError {
    /// The file could not be read.
    #[error("cannot read data dictionary {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The XML is malformed.
    #[error("malformed data dictionary XML at byte {offset}: {what}")]
    Xml {
        /// Where.
        offset: usize,
        /// What.
        what: &'static str,
    },
    /// The XML is well formed but not a usable dictionary.
    #[error("invalid data dictionary: {0}")]
    Invalid(String),
}
