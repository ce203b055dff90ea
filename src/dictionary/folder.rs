//! A folder of data dictionaries: its `.xml` files by name, the file name
//! without `.xml` (`FIX44` for `FIX44.xml`), as QuickFIX publishes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::DictionaryError;

/// The dictionary files of a folder, listed once.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    path: PathBuf,
    /// By name, sorted.
    files: BTreeMap<String, PathBuf>,
}

impl Folder {
    /// Lists the `.xml` files of `path` (the ending in any case).
    ///
    /// # Errors
    /// [`DictionaryError::Folder`] when the folder cannot be read (it does not
    /// exist, say), [`DictionaryError::EmptyFolder`] when it holds no `.xml` file.
    pub(crate) fn list(path: &Path) -> Result<Self, DictionaryError> {
        let unreadable = |source| DictionaryError::Folder {
            path: path.to_owned(),
            source,
        };
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(path).map_err(unreadable)? {
            let file = entry.map_err(unreadable)?.path();
            let is_xml = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
            if !is_xml || !file.is_file() {
                continue;
            }
            if let Some(name) = file.file_stem().and_then(|s| s.to_str()) {
                files.insert(name.to_owned(), file.clone());
            }
        }
        if files.is_empty() {
            return Err(DictionaryError::EmptyFolder {
                path: path.to_owned(),
                what: "no .xml file",
            });
        }
        Ok(Self {
            path: path.to_owned(),
            files,
        })
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file of dictionary `name`: `<name>.xml`, or in another case
    /// (`fix44` finds `FIX44.xml`).
    pub(crate) fn get(&self, name: &str) -> Option<&Path> {
        self.files
            .get(name)
            .or_else(|| {
                self.files
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, p)| p)
            })
            .map(PathBuf::as_path)
    }

    /// As [`get`](Self::get), with an error naming the folder and what it holds.
    ///
    /// # Errors
    /// [`DictionaryError::NotFound`] when the folder has no such file.
    pub(crate) fn find(&self, name: &str) -> Result<&Path, DictionaryError> {
        self.get(name).ok_or_else(|| DictionaryError::NotFound {
            name: name.to_owned(),
            folder: Some(self.path.clone()),
            available: self.files.keys().cloned().collect(),
        })
    }
}
