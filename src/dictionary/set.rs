//! `DictionarySet`: the dictionaries of every FIX version, loaded from one folder.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{Dictionary, DictionaryError};
use crate::id::FixVersion;

/// The QuickFIX file name of each version's dictionary.
const FILES: [(FixVersion, &str); 8] = [
    (FixVersion::Fix40, "FIX40.xml"),
    (FixVersion::Fix41, "FIX41.xml"),
    (FixVersion::Fix42, "FIX42.xml"),
    (FixVersion::Fix43, "FIX43.xml"),
    (FixVersion::Fix44, "FIX44.xml"),
    (FixVersion::Fix50, "FIX50.xml"),
    (FixVersion::Fix50Sp1, "FIX50SP1.xml"),
    (FixVersion::Fix50Sp2, "FIX50SP2.xml"),
];

/// The FIXT.1.1 transport dictionary every FIX.5.0 version shares.
const TRANSPORT_FILE: &str = "FIXT11.xml";

/// Data dictionaries by FIX version: for FIX.4.x one dictionary, for FIX.5.0 and
/// later the FIXT.1.1 transport dictionary with the application's.
#[derive(Debug, Clone, Default)]
pub struct DictionarySet {
    by_version: HashMap<FixVersion, (Arc<Dictionary>, Option<Arc<Dictionary>>)>,
}

impl DictionarySet {
    /// Loads the QuickFIX-named dictionaries found in `dir` (`FIX40.xml` ...
    /// `FIX44.xml`; `FIXT11.xml` with `FIX50.xml`, `FIX50SP1.xml`, `FIX50SP2.xml`).
    /// A version whose file is absent is left out; the FIX.5.0 versions need
    /// `FIXT11.xml` too.
    ///
    /// # Errors
    /// A file present but unreadable or invalid, naming the file.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, DictionaryError> {
        let dir = dir.as_ref();
        let load = |name: &str| -> Result<Option<Arc<Dictionary>>, DictionaryError> {
            let path = dir.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            Dictionary::from_file(&path)
                .map(|d| Some(Arc::new(d)))
                .map_err(|e| match e {
                    DictionaryError::Io { .. } => e,
                    other => DictionaryError::Invalid(format!("{}: {other}", path.display())),
                })
        };
        let transport = load(TRANSPORT_FILE)?;
        let mut set = Self::default();
        for (version, file) in FILES {
            let Some(dictionary) = load(file)? else {
                continue;
            };
            if version.is_fixt() {
                if let Some(t) = &transport {
                    set.insert(version, Arc::clone(t), Some(dictionary));
                }
            } else {
                set.insert(version, dictionary, None);
            }
        }
        Ok(set)
    }

    /// Sets the dictionaries of `version`.
    pub fn insert(
        &mut self,
        version: FixVersion,
        dictionary: Arc<Dictionary>,
        app: Option<Arc<Dictionary>>,
    ) {
        self.by_version.insert(version, (dictionary, app));
    }

    /// The dictionaries of `version`: the session's and, for FIXT, the application's.
    pub fn get(&self, version: FixVersion) -> Option<(Arc<Dictionary>, Option<Arc<Dictionary>>)> {
        self.by_version.get(&version).cloned()
    }

    /// The number of versions held.
    pub fn len(&self) -> usize {
        self.by_version.len()
    }

    /// True when no version is held.
    pub fn is_empty(&self) -> bool {
        self.by_version.is_empty()
    }
}
