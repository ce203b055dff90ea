//! Recovery of `FileStore` after a crash: any prefix of a valid log, and any log
//! whose last record has flipped bytes, opens to exactly the records fully and
//! correctly written before the damage, and takes appends afterwards.

// Helpers outside #[test] functions panic on a failed setup step, as tests do.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use fixengine::store::{FileStore, FileStoreOptions, MessageStore};
use proptest::prelude::*;

const KEY: &str = "FIX.4.4-ISLD-TW";
/// Small segments, so a log of a few dozen records spans several.
const SEGMENT_SIZE: usize = 4096;
const SEGMENT_HEADER: usize = 16;
const RECORD_HEADER: usize = 16;

fn options() -> FileStoreOptions {
    FileStoreOptions::default()
        .with_segment_size(SEGMENT_SIZE as u64)
        .with_initial_segment_len(SEGMENT_SIZE as u64)
}

/// Where a record went: segment index (0-based), offset, end.
#[derive(Debug, Clone, Copy)]
struct Placed {
    segment: usize,
    start: usize,
    end: usize,
}

/// The documented roll rule: a segment takes a record unless it already holds one
/// and the record would take it past the segment size.
fn place(frames: &[Vec<u8>]) -> Vec<Placed> {
    let (mut segment, mut end) = (0, SEGMENT_HEADER);
    frames
        .iter()
        .map(|f| {
            let rec = RECORD_HEADER + f.len();
            if end > SEGMENT_HEADER && end + rec > SEGMENT_SIZE {
                segment += 1;
                end = SEGMENT_HEADER;
            }
            let start = end;
            end += rec;
            Placed {
                segment,
                start,
                end,
            }
        })
        .collect()
}

fn segment_path(dir: &Path, index: usize) -> PathBuf {
    dir.join("current").join(format!("{:010}.log", index + 1))
}

/// Writes `frames` as seq 1, 2, ... and returns the session folder.
fn write_log(root: &Path, frames: &[Vec<u8>]) -> PathBuf {
    let mut store = FileStore::open(root, KEY, options()).unwrap();
    for (i, f) in frames.iter().enumerate() {
        store.append(i as u64 + 1, f).unwrap();
    }
    let placed = place(frames);
    let segments = placed.last().map_or(1, |p| p.segment + 1);
    assert_eq!(store.segment_count(), segments, "the roll rule changed");
    store.dir().to_path_buf()
}

/// Opens the damaged store, checks it holds exactly `frames[..survivors]` and that
/// it takes an append, then checks that survives a reopen too.
fn check_recovered(root: &Path, frames: &[Vec<u8>], survivors: usize) {
    let mut store = FileStore::open(root, KEY, options()).unwrap();
    assert_eq!(stored(&store), expected(frames, survivors));
    // The header was not damaged: the next number is where the writer left it,
    // and so past every stored record.
    let next = store.next_sender_seq();
    assert_eq!(next, frames.len() as u64 + 1);
    store.append(next, b"after recovery").unwrap();
    drop(store);

    let store = FileStore::open(root, KEY, options()).unwrap();
    let mut want = expected(frames, survivors);
    want.push((next, b"after recovery".to_vec()));
    assert_eq!(stored(&store), want);
    assert_eq!(store.next_sender_seq(), next + 1);
}

fn stored(store: &FileStore) -> Vec<(u64, Vec<u8>)> {
    let mut got = Vec::new();
    let mut begin = 1;
    loop {
        let next = store
            .read_range(begin, u64::MAX - 1, 7, &mut |seq, f| {
                got.push((seq, f.to_vec()))
            })
            .unwrap();
        if next == u64::MAX {
            return got;
        }
        begin = next;
    }
}

fn expected(frames: &[Vec<u8>], survivors: usize) -> Vec<(u64, Vec<u8>)> {
    frames[..survivors]
        .iter()
        .enumerate()
        .map(|(i, f)| (i as u64 + 1, f.clone()))
        .collect()
}

/// The bytes of `buf` up to its last non-zero byte.
fn nonzero_len(buf: &[u8]) -> usize {
    buf.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1)
}

fn frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..40)
}

// Captures this thread's warnings, so a test checks what recovery reported.
thread_local! {
    static WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            WARNINGS.with(|w| w.borrow_mut().push(r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

fn take_cut_warnings() -> Vec<String> {
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Warn);
    WARNINGS
        .with(|w| std::mem::take(&mut *w.borrow_mut()))
        .into_iter()
        .filter(|m| m.contains("cut off"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A crash can leave any prefix of the log on disk: later segments missing, the
    /// last one cut at any byte.
    #[test]
    fn any_prefix_recovers_to_the_whole_records_in_it(
        frames in frames(),
        cut_at in any::<prop::sample::Index>(),
    ) {
        take_cut_warnings();
        let root = tempfile::tempdir().unwrap();
        let dir = write_log(root.path(), &frames);
        let placed = place(&frames);
        let segments = placed.last().unwrap().segment + 1;
        let data_ends: Vec<usize> = (0..segments)
            .map(|s| placed.iter().filter(|p| p.segment == s).map(|p| p.end).max().unwrap())
            .collect();
        let total: usize = data_ends.iter().sum();
        // A cut anywhere in the log, or a little way into the blank tail.
        let k = cut_at.index(total + 33);
        // Which segment the cut falls in, and where; past the end is the last one's
        // blank tail.
        let mut before = 0;
        let mut at = None;
        for (s, &len) in data_ends.iter().enumerate() {
            if k <= before + len {
                at = Some((s, k - before));
                break;
            }
            before += len;
        }
        let (segment, offset) =
            at.unwrap_or_else(|| (segments - 1, k - (total - data_ends[segments - 1])));
        let path = segment_path(&dir, segment);
        let original = fs::read(&path).unwrap();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(offset as u64).unwrap();
        for later in segment + 1..segments {
            fs::remove_file(segment_path(&dir, later)).unwrap();
        }

        let survivors = placed
            .iter()
            .take_while(|p| p.segment < segment || (p.segment == segment && p.end <= offset))
            .count();
        let good_end = placed[..survivors]
            .iter()
            .rev()
            .find(|p| p.segment == segment)
            .map_or(SEGMENT_HEADER, |p| p.end);
        // A cut in the blank tail may fall past the file's end when the last
        // record ends within 33 bytes of it: set_len then extends with zeros.
        let end = offset.min(original.len());
        let partial = &original[good_end.min(end)..end];
        check_recovered(root.path(), &frames, survivors);

        let warnings = take_cut_warnings();
        let cut = nonzero_len(partial);
        if cut == 0 {
            prop_assert!(warnings.is_empty(), "{warnings:?}");
        } else {
            prop_assert_eq!(warnings.len(), 1, "{:?}", warnings);
            let file = format!("{:010}.log", segment + 1);
            prop_assert!(
                warnings[0].contains(&format!("cut off {cut} bytes from offset {good_end}"))
                    && warnings[0].contains(&file),
                "{:?}", warnings
            );
        }
    }

    /// Bytes flipped anywhere in the last record (its header or its payload): the
    /// record is dropped, everything before it kept.
    #[test]
    fn flipped_bytes_in_the_last_record_drop_only_that_record(
        frames in frames(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..6),
    ) {
        take_cut_warnings();
        let root = tempfile::tempdir().unwrap();
        let dir = write_log(root.path(), &frames);
        let last = *place(&frames).last().unwrap();
        let path = segment_path(&dir, last.segment);
        let mut image = fs::read(&path).unwrap();
        for (at, mask) in &flips {
            image[last.start + at.index(last.end - last.start)] ^= mask;
        }
        fs::write(&path, &image).unwrap();

        check_recovered(root.path(), &frames, frames.len() - 1);

        let warnings = take_cut_warnings();
        let cut = nonzero_len(&image[last.start..]);
        if cut == 0 {
            prop_assert!(warnings.is_empty(), "{warnings:?}");
        } else {
            prop_assert_eq!(warnings.len(), 1, "{:?}", warnings);
            prop_assert!(
                warnings[0].contains(&format!("cut off {cut} bytes from offset {}", last.start)),
                "{:?}", warnings
            );
        }
    }
}

#[test]
fn a_torn_append_is_cut_and_the_next_append_lands_clean() {
    let root = tempfile::tempdir().unwrap();
    let frames: Vec<Vec<u8>> = (0..5).map(|i| vec![b'a' + i; 100]).collect();
    let dir = write_log(root.path(), &frames);
    let path = segment_path(&dir, 0);
    let mut image = fs::read(&path).unwrap();
    let end = place(&frames).last().unwrap().end;
    // A sixth record whose payload reached the page but whose header did not.
    image[end + RECORD_HEADER..end + RECORD_HEADER + 300].fill(b'z');
    fs::write(&path, &image).unwrap();
    take_cut_warnings();
    check_recovered(root.path(), &frames, 5);
    let warnings = take_cut_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&format!(
            "cut off {} bytes from offset {end}",
            RECORD_HEADER + 300
        )),
        "{warnings:?}"
    );
    // The garbage is gone from the file, not only skipped: the short record written
    // after recovery is followed by zeros.
    let image = fs::read(&path).unwrap();
    let after = end + RECORD_HEADER + b"after recovery".len();
    assert!(image[after..].iter().all(|&b| b == 0));
}
