//! [`DictionaryError`]: why a data dictionary could not be loaded.

use std::path::{Path, PathBuf};

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
    /// A file's XML is malformed or not a usable dictionary
    /// ([`Xml`](Self::Xml) or [`Invalid`](Self::Invalid)), with the file named.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<Self>,
    },
    /// A folder of dictionaries could not be read (it does not exist, say).
    #[error("cannot read the data dictionary folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A folder of dictionaries holds none.
    #[error("no data dictionary in {path}: {what}")]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
        /// What was looked for.
        what: &'static str,
    },
    /// A dictionary asked for by name is not in the folder, or there is no
    /// folder to look it up in.
    #[error("{}", not_found(.name, .folder.as_deref(), .available))]
    NotFound {
        /// The name asked for (`FIX44`).
        name: String,
        /// The folder looked in (`DataDictionaryDirectory`), if one is set.
        folder: Option<PathBuf>,
        /// The names the folder holds, sorted.
        available: Vec<String>,
    },
    /// A dictionary describes another FIX version than the session runs.
    #[error("{path} describes {found}, not {expected} as the session needs")]
    WrongVersion {
        /// The file.
        path: PathBuf,
        /// The dictionary's version (`FIX.4.2`).
        found: String,
        /// The version needed (`FIX.4.4`; `FIXT.1.1` for a FIX.5.0 session's
        /// transport dictionary, `FIX.5.0` for its application dictionary).
        expected: String,
    },
}

/// The message of [`DictionaryError::NotFound`].
fn not_found(name: &str, folder: Option<&Path>, available: &[String]) -> String {
    match folder {
        None => format!(
            "data dictionary {name:?} is a name, and no DataDictionaryDirectory is set to look \
             it up in (a path has a '/' or ends in .xml)"
        ),
        Some(folder) => format!(
            "no data dictionary {name:?} ({name}.xml) in {}: it holds {}",
            folder.display(),
            available.join(", ")
        ),
    }
}
