//! The data dictionaries sessions validate against when the application gives
//! none: what their configuration names (`DataDictionary`, and for FIX.5.0
//! `TransportDataDictionary` and `AppDataDictionary`), as a name in
//! `DataDictionaryDirectory` or a path, or else their version's dictionary from
//! that folder. Each file is loaded once per engine, so a thousand sessions
//! naming `FIX44` share one [`Dictionary`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::registry::lock;
use crate::config::SessionConfig;
use crate::dictionary::{Dictionary, DictionaryError, Folder};
use crate::id::FixVersion;

/// A session's dictionary and, for FIX.5.0, the application's.
pub(crate) type DictionaryPair = (Arc<Dictionary>, Option<Arc<Dictionary>>);

/// The name of the FIXT.1.1 transport dictionary every FIX.5.0 version uses.
const TRANSPORT: &str = "FIXT11";

/// The `DataDictionaryDirectory` folder, listed when the engine starts, and
/// every dictionary file loaded so far, by canonical path.
#[derive(Debug, Default)]
pub(crate) struct Library {
    folder: Option<Folder>,
    loaded: Mutex<HashMap<PathBuf, Arc<Dictionary>>>,
}

impl Library {
    /// Lists `folder` (`DataDictionaryDirectory`), if there is one.
    ///
    /// # Errors
    /// The folder cannot be read or holds no `.xml` file.
    pub(crate) fn new(folder: Option<&Path>) -> Result<Self, DictionaryError> {
        Ok(Self {
            folder: folder.map(Folder::list).transpose()?,
            loaded: Mutex::default(),
        })
    }

    /// The dictionaries a session of `version` configured by `config` validates
    /// against; `None` when its configuration names none and no folder is set,
    /// or when `UseDataDictionary` is false.
    ///
    /// # Errors
    /// A name not in the folder (or named with no folder set), a file that cannot
    /// be read or is no dictionary, or one that describes another version.
    pub(crate) fn for_session(
        &self,
        config: &SessionConfig,
        version: FixVersion,
    ) -> Result<Option<DictionaryPair>, DictionaryError> {
        if !config.use_data_dictionary() {
            return Ok(None);
        }
        if !version.is_fixt() {
            let path = match config.data_dictionary() {
                Some(value) => self.locate(value)?,
                None => match &self.folder {
                    Some(folder) => folder.find(version.name())?.to_owned(),
                    None => return Ok(None),
                },
            };
            let dictionary = self.load(&path, version.begin_string())?;
            return Ok(Some((dictionary, None)));
        }
        let app_path = match config.app_data_dictionary().or(config.data_dictionary()) {
            Some(value) => self.locate(value)?,
            None => match &self.folder {
                Some(folder) => folder.find(version.name())?.to_owned(),
                None if config.transport_data_dictionary().is_some() => {
                    return Err(DictionaryError::Invalid(format!(
                        "a {} session with a TransportDataDictionary needs an application \
                         dictionary too: set AppDataDictionary (or DataDictionary), or \
                         DataDictionaryDirectory",
                        version.name()
                    )));
                }
                None => return Ok(None),
            },
        };
        let transport_path = match config.transport_data_dictionary() {
            Some(value) => self.locate(value)?,
            None => self.transport_for(&app_path)?,
        };
        let transport = self.load(&transport_path, version.begin_string())?;
        let app = self.load(&app_path, "FIX.5.0")?;
        Ok(Some((transport, Some(app))))
    }

    /// The file a `DataDictionary` value names: a path when it has a separator
    /// or ends in `.xml`, else a name in the folder.
    fn locate(&self, value: &str) -> Result<PathBuf, DictionaryError> {
        let is_path =
            value.contains(std::path::is_separator) || value.to_ascii_lowercase().ends_with(".xml");
        if is_path {
            return Ok(PathBuf::from(value));
        }
        match &self.folder {
            Some(folder) => folder.find(value).map(Path::to_owned),
            None => Err(DictionaryError::NotFound {
                name: value.to_owned(),
                folder: None,
                available: Vec::new(),
            }),
        }
    }

    /// The FIXT.1.1 dictionary of a FIX.5.0 session that names none:
    /// `FIXT11` from the folder, else `FIXT11.xml` beside the application's.
    fn transport_for(&self, app: &Path) -> Result<PathBuf, DictionaryError> {
        if let Some(path) = self.folder.as_ref().and_then(|f| f.get(TRANSPORT)) {
            return Ok(path.to_owned());
        }
        let beside = app.with_file_name(format!("{TRANSPORT}.xml"));
        if beside.is_file() {
            return Ok(beside);
        }
        let folder = self
            .folder
            .as_ref()
            .map(|f| format!(" or in {}", f.path().display()))
            .unwrap_or_default();
        Err(DictionaryError::Invalid(format!(
            "a FIX.5.0 session needs the FIXT.1.1 transport dictionary: no {TRANSPORT}.xml \
             beside {}{folder}; set TransportDataDictionary",
            app.display()
        )))
    }

    /// The dictionary in `path`, loaded once; it must describe `expected`
    /// (its BeginString: `FIX.4.4`, `FIXT.1.1`, `FIX.5.0`).
    fn load(&self, path: &Path, expected: &str) -> Result<Arc<Dictionary>, DictionaryError> {
        let key = std::fs::canonicalize(path).map_err(|source| DictionaryError::Io {
            path: path.to_owned(),
            source,
        })?;
        let dictionary = {
            let mut loaded = lock(&self.loaded);
            match loaded.get(&key) {
                Some(dictionary) => Arc::clone(dictionary),
                None => {
                    let dictionary = Arc::new(Dictionary::from_file(path)?);
                    loaded.insert(key, Arc::clone(&dictionary));
                    dictionary
                }
            }
        };
        if dictionary.begin_string() != expected {
            return Err(DictionaryError::WrongVersion {
                path: path.to_owned(),
                found: dictionary.begin_string().to_owned(),
                expected: expected.to_owned(),
            });
        }
        Ok(dictionary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest dictionary of a version: a root and empty sections.
    fn dictionary(root: &str) -> String {
        format!("{root}<header/><trailer/><messages/><fields/></fix>")
    }

    /// A folder holding QuickFIX-named dictionaries: FIX.4.2, FIX.4.4, FIXT.1.1
    /// and FIX.5.0SP2 (QuickFIX/J's roots, without type or servicepack, for
    /// the FIX ones).
    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (file, root) in [
            ("FIX42.xml", "<fix major='4' minor='2'>"),
            ("FIX44.xml", "<fix major='4' minor='4'>"),
            ("FIXT11.xml", "<fix type='FIXT' major='1' minor='1'>"),
            ("FIX50SP2.xml", "<fix major='5' minor='0'>"),
        ] {
            std::fs::write(dir.path().join(file), dictionary(root)).unwrap();
        }
        dir
    }

    fn library(dir: &Path) -> Library {
        Library::new(Some(dir)).unwrap()
    }

    /// Fails unless `library` refuses a `version` session configured by
    /// `config` with an error that says `part`.
    fn assert_refused(library: &Library, config: &SessionConfig, version: FixVersion, part: &str) {
        let err = library
            .for_session(config, version)
            .unwrap_err()
            .to_string();
        assert!(err.contains(part), "{err:?} does not say {part:?}");
    }

    fn versions(pair: &Option<DictionaryPair>) -> (&str, Option<&str>) {
        let (d, app) = pair.as_ref().expect("dictionaries");
        (
            d.begin_string(),
            app.as_deref().map(Dictionary::begin_string),
        )
    }

    #[test]
    fn without_folder_or_name_a_session_has_no_dictionary() {
        let library = Library::new(None).unwrap();
        for version in FixVersion::ALL {
            let pair = library
                .for_session(&SessionConfig::default(), version)
                .unwrap();
            assert!(pair.is_none(), "{version}");
        }
    }

    #[test]
    fn each_file_is_loaded_once_whatever_names_it() {
        let dir = folder();
        let library = library(dir.path());
        let by_name = SessionConfig::default().with_data_dictionary("FIX44");
        let by_path = SessionConfig::default()
            .with_data_dictionary(dir.path().join("FIX44.xml").to_str().unwrap());
        let first = library.for_session(&by_name, FixVersion::Fix44).unwrap();
        let (first, _) = first.unwrap();
        for config in [&by_name, &by_path, &SessionConfig::default()] {
            for _ in 0..1000 {
                let (d, app) = library
                    .for_session(config, FixVersion::Fix44)
                    .unwrap()
                    .unwrap();
                assert!(Arc::ptr_eq(&d, &first) && app.is_none());
            }
        }
        assert_eq!(lock(&library.loaded).len(), 1);
    }

    #[test]
    fn a_session_with_no_name_gets_its_versions_dictionary_from_the_folder() {
        let dir = folder();
        let library = library(dir.path());
        let none = SessionConfig::default();
        let got = library.for_session(&none, FixVersion::Fix42).unwrap();
        assert_eq!(versions(&got), ("FIX.4.2", None));
        let got = library.for_session(&none, FixVersion::Fix50Sp2).unwrap();
        assert_eq!(versions(&got), ("FIXT.1.1", Some("FIX.5.0")));
        // Not there: an error naming the folder and what it holds.
        let err = library
            .for_session(&none, FixVersion::Fix43)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"FIX43\"")
                && err.contains(&dir.path().display().to_string())
                && err.ends_with("it holds FIX42, FIX44, FIX50SP2, FIXT11"),
            "{err}"
        );
        // UseDataDictionary = false: none, whatever is there or named.
        let off = SessionConfig::default()
            .with_use_data_dictionary(false)
            .with_data_dictionary("MISSING");
        assert!(
            library
                .for_session(&off, FixVersion::Fix43)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_fix50_session_naming_its_dictionary_takes_fixt11_from_the_folder() {
        let dir = folder();
        let library = library(dir.path());
        let named = SessionConfig::default().with_data_dictionary("FIX50SP2");
        let got = library.for_session(&named, FixVersion::Fix50Sp2).unwrap();
        assert_eq!(versions(&got), ("FIXT.1.1", Some("FIX.5.0")));
        // QuickFIX's two keys, as names or paths; AppDataDictionary beats DataDictionary.
        let elsewhere = tempfile::tempdir().unwrap();
        let transport = elsewhere.path().join("transport.xml");
        std::fs::copy(dir.path().join("FIXT11.xml"), &transport).unwrap();
        let both = SessionConfig::default()
            .with_data_dictionary("FIX44")
            .with_transport_data_dictionary(transport.to_str().unwrap())
            .with_app_data_dictionary("FIX50SP2");
        let (t, app) = library
            .for_session(&both, FixVersion::Fix50)
            .unwrap()
            .unwrap();
        assert_eq!(t.begin_string(), "FIXT.1.1");
        assert_eq!(app.unwrap().begin_string(), "FIX.5.0");
        // For FIX.4.x, the FIXT keys are not read.
        let got = library.for_session(&both, FixVersion::Fix44).unwrap();
        assert_eq!(versions(&got), ("FIX.4.4", None));
    }

    #[test]
    fn without_a_folder_a_path_is_read_and_fixt11_found_beside_it() {
        let dir = folder();
        let library = Library::new(None).unwrap();
        let app = dir.path().join("FIX50SP2.xml");
        let config = SessionConfig::default().with_data_dictionary(app.to_str().unwrap());
        let got = library.for_session(&config, FixVersion::Fix50Sp1).unwrap();
        assert_eq!(versions(&got), ("FIXT.1.1", Some("FIX.5.0")));
        std::fs::remove_file(dir.path().join("FIXT11.xml")).unwrap();
        let fix50 = FixVersion::Fix50Sp1;
        assert_refused(&library, &config, fix50, "TransportDataDictionary");
        // A name needs a folder.
        let named = SessionConfig::default().with_data_dictionary("FIX44");
        assert_refused(
            &library,
            &named,
            FixVersion::Fix44,
            "no DataDictionaryDirectory",
        );
        // A transport dictionary alone validates nothing of the application's.
        let transport_only =
            SessionConfig::default().with_transport_data_dictionary("x/FIXT11.xml");
        assert_refused(&library, &transport_only, fix50, "AppDataDictionary");
    }

    #[test]
    fn a_dictionary_of_another_version_is_refused() {
        let dir = folder();
        let library = library(dir.path());
        let config = SessionConfig::default().with_data_dictionary("FIX44");
        let err = library.for_session(&config, FixVersion::Fix42).unwrap_err();
        assert!(
            matches!(err, DictionaryError::WrongVersion { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .ends_with("describes FIX.4.4, not FIX.4.2 as the session needs"),
            "{err}"
        );
        // A FIX.5.0 session's DataDictionary is the application's, not FIXT11.
        let config = SessionConfig::default().with_data_dictionary("FIXT11");
        assert_refused(&library, &config, FixVersion::Fix50Sp2, "not FIX.5.0");
    }

    #[test]
    fn a_missing_or_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Library::new(Some(&dir.path().join("nope"))).unwrap_err();
        assert!(matches!(err, DictionaryError::Folder { .. }), "{err:?}");
        let err = Library::new(Some(dir.path())).unwrap_err();
        assert!(
            matches!(err, DictionaryError::EmptyFolder { .. }),
            "{err:?}"
        );
    }
}
