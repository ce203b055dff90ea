//! `DictionarySet`: the dictionaries of every FIX version, loaded from one folder.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::folder::Folder;
use super::{Dictionary, DictionaryError};
use crate::id::FixVersion;

/// The FIXT.1.1 transport dictionary every FIX.5.0 version shares.
const TRANSPORT: &str = "FIXT11";

/// Data dictionaries by FIX version: for FIX.4.x one dictionary, for FIX.5.0 and
/// later the FIXT.1.1 transport dictionary with the application's.
#[derive(Debug, Clone, Default)]
pub struct DictionarySet {
    by_version: HashMap<FixVersion, (Arc<Dictionary>, Option<Arc<Dictionary>>)>,
}

impl DictionarySet {
    /// Loads the QuickFIX-named dictionaries found in `dir` (`FIX40.xml` ...
    /// `FIX44.xml`; `FIXT11.xml` with `FIX50.xml`, `FIX50SP1.xml`, `FIX50SP2.xml`),
    /// each named by the version's [`name`](FixVersion::name) (in any case). A
    /// version whose file is absent is left out; the FIX.5.0 versions need
    /// `FIXT11.xml` too.
    ///
    /// # Errors
    /// [`DictionaryError::Folder`] when `dir` cannot be read (it does not exist,
    /// say); [`DictionaryError::EmptyFolder`] when it holds no dictionary this
    /// loads; a file present but unreadable or invalid, naming the file.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, DictionaryError> {
        let folder = Folder::list(dir.as_ref())?;
        let load = |name: &str| -> Result<Option<Arc<Dictionary>>, DictionaryError> {
            folder
                .get(name)
                .map(|path| Dictionary::from_file(path).map(Arc::new))
                .transpose()
        };
        let transport = load(TRANSPORT)?;
        let mut set = Self::default();
        for version in FixVersion::ALL {
            let Some(dictionary) = load(version.name())? else {
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
        if set.is_empty() {
            return Err(DictionaryError::EmptyFolder {
                path: folder.path().to_owned(),
                what: "none of FIX40.xml, FIX41.xml, FIX42.xml, FIX43.xml, FIX44.xml, or \
                       FIXT11.xml with FIX50.xml, FIX50SP1.xml or FIX50SP2.xml",
            });
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
