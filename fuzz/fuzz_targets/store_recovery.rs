//! Store recovery: a FileStore is written, its newest log segment (or its header)
//! is overwritten with arbitrary bytes at an arbitrary offset, and the store is
//! opened again.
//!
//! Input layout: `[target] [offset_hi] [offset_lo] bytes...`
//! - `target` bit 0 picks the file: the log segment (0) or the header (1);
//! - the 16-bit offset (modulo the file's length) is where `bytes` are written.
//!
//! Asserts: opening never panics; it either fails with an error, or recovers a
//! store whose frames are exactly a prefix of those written (byte for byte, in
//! order), whose next outbound number is past the last frame kept, and which
//! takes a further append.

#![no_main]

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use fixengine::store::{FileStore, FileStoreOptions, MessageStore};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "FIX.4.4-FUZZ-STORE";
const FRAMES: u64 = 20;

fn frame(seq: u64) -> Vec<u8> {
    format!("8=FIX.4.4\x019=20\x0135=B\x0134={seq}\x01148=news {seq}\x0110=000\x01").into_bytes()
}

fn options() -> FileStoreOptions {
    // No background thread: the fuzzer runs many iterations per second.
    FileStoreOptions::default()
        .with_initial_segment_len(4096)
        .with_segment_size(1 << 20)
        .with_preallocate(false)
}

fn files(dir: &Path) -> (Option<std::path::PathBuf>, Option<std::path::PathBuf>) {
    let Ok(session) = std::fs::read_dir(dir).map(|mut d| d.next()) else {
        return (None, None);
    };
    let Some(Ok(session)) = session else {
        return (None, None);
    };
    let current = session.path().join("current");
    let mut logs: Vec<_> = std::fs::read_dir(&current)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    (logs.pop(), Some(current.join("header")))
}

fuzz_target!(|data: &[u8]| {
    let [target, hi, lo, bytes @ ..] = data else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    {
        let mut store = FileStore::open(dir.path(), KEY, options()).expect("a new store opens");
        for seq in 1..=FRAMES {
            store.append(seq, &frame(seq)).expect("append");
        }
        store.set_next_target_seq(7).expect("target");
        store.sync().expect("sync");
    }
    let (log, header) = files(dir.path());
    let path = if target & 1 == 0 { log } else { header };
    let Some(path) = path else {
        return;
    };
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0).max(1);
    let offset = (u64::from(*hi) << 8 | u64::from(*lo)) % len;
    {
        let mut f = OpenOptions::new().write(true).open(&path).expect("open for damage");
        f.seek(SeekFrom::Start(offset)).expect("seek");
        f.write_all(bytes).expect("damage");
    }
    let Ok(mut store) = FileStore::open(dir.path(), KEY, options()) else {
        return; // a named error is an acceptable outcome
    };
    let mut kept = Vec::new();
    store
        .read_range(1, u64::MAX, usize::MAX, &mut |seq, f| kept.push((seq, f.to_vec())))
        .expect("read back");
    for (i, (seq, f)) in kept.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1, "recovered frames are a prefix, in order");
        assert_eq!(f, &frame(*seq), "a recovered frame is byte for byte what was written");
    }
    let last = kept.last().map_or(0, |(s, _)| *s);
    assert!(store.next_sender_seq() > last, "the next number is past the frames kept");
    let next = store.next_sender_seq();
    store.append(next, &frame(next)).expect("the recovered store takes appends");
});
