//! Reading a session's message log back, as readers do: every file of its
//! `messages/` folder in order, each up to its unwritten end or a torn last
//! record; a stretch that is not a record fails the test.

use std::path::Path;

use fixengine::UtcTimestamp;
use fixengine::message_log::{FOLDER, RecordKind, log_files, records};

/// One record read back.
#[derive(Debug, Clone)]
pub struct Logged {
    pub file: String,
    pub time: UtcTimestamp,
    pub kind: RecordKind,
    pub bytes: Vec<u8>,
    pub note: String,
}

/// The records of the message log of the one session stored under `root`.
pub fn read(root: &Path) -> Vec<Logged> {
    let session = std::fs::read_dir(root)
        .expect("the storage folder")
        .map(|e| e.expect("a folder entry").path())
        .find(|p| p.join(FOLDER).is_dir())
        .expect("a session folder with a message log");
    let mut out = Vec::new();
    for path in log_files(&session.join(FOLDER)).expect("the log folder lists") {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let data = std::fs::read(&path).expect("a log file reads");
        for record in records(&data) {
            let r = record.unwrap_or_else(|len| panic!("{file}: {len} bytes not a record"));
            out.push(Logged {
                file: file.clone(),
                time: r.time,
                kind: r.kind,
                bytes: r.bytes.to_vec(),
                note: String::from_utf8_lossy(r.note).into_owned(),
            });
        }
    }
    out
}
