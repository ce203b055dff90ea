//! Unit tests of `FileStore`: the store contract under each sync policy, and
//! recovery, rolls, retention, resets and the background thread, down to the
//! files on disk.

use std::num::{NonZeroU32, NonZeroUsize};

use super::disk::{HEADER, segment_name};
use super::segment::POPULATE_AHEAD;
use super::*;
use crate::store::contract::collect;
use crate::store::layout;
use crate::store::prealloc::{self, Preallocator};

const KEY_NAME: &str = "FIX.4.4-ISLD-TW";

mod background;
mod generations;
mod inspect;
mod recovery;

/// Small segments and steps, so rolls and growth happen within a test.
fn small() -> FileStoreOptions {
    FileStoreOptions::default()
        .with_initial_segment_len(4096)
        .with_segment_size(16 * 1024)
}

fn temp_store(options: FileStoreOptions) -> (FileStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), KEY_NAME, options).unwrap();
    (store, dir)
}

fn reopen(root: &tempfile::TempDir, options: FileStoreOptions) -> FileStore {
    FileStore::open(root.path(), KEY_NAME, options).unwrap()
}

fn frame(seq: u64, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
}

store_contract_tests!(contract, temp_store(small()));
store_contract_tests!(
    contract_periodic_sync,
    temp_store(small().with_sync(SyncPolicy::Periodic(NonZeroU32::new(5).unwrap())))
);
store_contract_tests!(
    contract_group_commit,
    temp_store(small().with_sync(SyncPolicy::Group))
);

/// Every frame 1..=`last` reads back as written (`len` bytes each).
fn all_frames(s: &FileStore, last: u64, len: usize) {
    let (got, _) = collect(s, 1, last, usize::MAX);
    assert_eq!(got.len() as u64, last);
    for (seq, f) in got {
        assert_eq!(f, frame(seq, len), "seq {seq}");
    }
}

/// How long a test waits for the background thread.
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[test]
fn is_send() {
    fn send<T: Send>() {}
    send::<FileStore>();
}

#[test]
fn every_message_sync_stores_and_reopens() {
    let (mut s, root) = temp_store(small().with_sync(SyncPolicy::EveryMessage));
    for seq in 1..=20 {
        s.append(seq, &frame(seq, 50)).unwrap();
    }
    s.set_next_target_seq(3).unwrap();
    drop(s);
    let s = reopen(&root, small());
    assert_eq!(
        (s.next_sender_seq(), s.next_target_seq(), s.len()),
        (21, 3, 20)
    );
    assert_eq!(collect(&s, 20, 20, 1).0, [(20, frame(20, 50))]);
}

/// Waits until `s`'s durable count reaches `n`, or fails after [`WAIT`].
fn wait_durable(s: &FileStore, n: u64) {
    let step = std::time::Duration::from_millis(1);
    for _ in 0..WAIT.as_millis() {
        let marks = s.sync_marks();
        assert!(!marks.failed, "the background sync failed");
        if marks.durable >= n {
            return;
        }
        std::thread::sleep(step);
    }
    panic!("not durable within {WAIT:?}: {:?}", s.sync_marks());
}

#[test]
fn group_commit_makes_appends_durable_in_the_background_and_says_so() {
    let (mut s, root) = temp_store(small().with_sync(SyncPolicy::Group));
    let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&woken);
    s.on_background_sync(Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
    }));
    for seq in 1..=3 {
        s.append(seq, &frame(seq, 50)).unwrap();
    }
    // Appended, not yet asked for: nothing is claimed durable.
    assert_eq!(s.sync_marks().appended, 3);
    assert_eq!(s.sync_marks().durable, 0);
    s.sync_in_background();
    wait_durable(&s, 3);
    // The owner is woken right after the count is published: give it the moment.
    for _ in 0..WAIT.as_millis() {
        if woken.load(Ordering::Relaxed) >= 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(woken.load(Ordering::Relaxed) >= 1, "the owner was woken");
    // Across segment rolls (1000-byte records, segments from 4 KiB): the
    // sealed segment is synced at the roll, the active one by the thread.
    for seq in 4..=40 {
        s.append(seq, &frame(seq, 984)).unwrap();
        if seq % 7 == 0 {
            s.sync_in_background();
        }
    }
    assert!(s.segment_count() > 2);
    s.sync_in_background();
    wait_durable(&s, 40);
    // On the calling thread, no waiting on the thread.
    s.append(41, b"inline").unwrap();
    s.sync_appends().unwrap();
    assert_eq!(s.sync_marks().durable, 41);
    // A reset keeps the counts growing: marks taken before it stay valid.
    s.reset().unwrap();
    assert_eq!(s.sync_marks().durable, 41);
    s.append(1, b"new life").unwrap();
    s.sync_in_background();
    wait_durable(&s, 42);
    drop(s);
    let s = reopen(&root, small());
    assert_eq!(collect(&s, 1, 1, 1).0, [(1, b"new life".to_vec())]);
}

#[test]
fn after_a_failed_sync_nothing_more_is_claimed_durable() {
    let (mut s, _root) = temp_store(small().with_sync(SyncPolicy::Group));
    s.append(1, b"before").unwrap();
    s.sync_appends().unwrap();
    assert_eq!(s.sync_marks().durable, 1);
    // As the flush thread leaves it when fdatasync fails: the kernel reports
    // a write-back error once, so a later sync that succeeds proves nothing.
    s.marks.failed.store(true, Ordering::Release);
    s.append(2, b"after").unwrap();
    assert!(s.sync_appends().is_err());
    s.sync().unwrap();
    let marks = s.sync_marks();
    assert!(marks.failed);
    assert_eq!((marks.appended, marks.durable), (2, 1));
}

#[test]
fn without_group_commit_nothing_is_held() {
    let (mut s, _root) =
        temp_store(small().with_sync(SyncPolicy::Periodic(NonZeroU32::new(5).unwrap())));
    s.append(1, b"x").unwrap();
    s.sync_in_background();
    assert_eq!(s.sync_marks(), SyncMarks::default());
}

#[test]
fn reopen_keeps_sequence_numbers_and_messages() {
    let (mut s, root) = temp_store(small());
    let created = s.created_unix_nanos();
    for seq in 1..=300 {
        s.append(seq, &frame(seq, 200)).unwrap();
    }
    s.set_next_sender_seq(305).unwrap();
    s.set_next_target_seq(77).unwrap();
    let segments = s.segment_count();
    assert!(segments > 1, "300 × 216 bytes must roll 16 KiB segments");
    drop(s);

    let s = reopen(&root, small());
    assert_eq!((s.next_sender_seq(), s.next_target_seq()), (305, 77));
    assert_eq!((s.len(), s.segment_count()), (300, segments));
    assert_eq!((s.generation(), s.created_unix_nanos()), (1, created));
    let (got, next) = collect(&s, 1, 400, 1000);
    assert_eq!(next, 401);
    assert_eq!(got.len(), 300);
    for (seq, f) in got {
        assert_eq!(f, frame(seq, 200), "seq {seq}");
    }
}

#[test]
fn creation_time_comes_from_the_clock() {
    let t = crate::UtcTimestamp::from_unix(1_764_000_000, 5);
    let clock = crate::clock::ManualClock::new(t);
    let (s, _root) = temp_store(small().with_clock(Arc::new(clock)));
    assert_eq!(s.created_unix_nanos(), 1_764_000_000_000_000_005);
}

#[test]
fn segments_roll_and_the_index_spans_them() {
    let (mut s, root) = temp_store(small());
    // 1000-byte records: 16 per 16 KiB segment.
    for seq in 1..=100 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    assert_eq!(s.segment_count(), 100usize.div_ceil(16));
    // Only the active segment keeps a descriptor open.
    let open_files = |s: &FileStore| {
        let g = &s.generation;
        (
            g.sealed.iter().filter(|seg| seg.file.is_some()).count(),
            g.active.file.is_some(),
        )
    };
    assert_eq!(open_files(&s), (0, true));
    let current = s.dir().join(CURRENT);
    for n in 1..=7 {
        let len = fs::metadata(current.join(segment_name(n))).unwrap().len();
        assert!(len <= 16 * 1024, "segment {n} is {len} bytes");
    }
    // A frame bigger than a segment gets a segment of its own.
    s.append(101, &frame(101, 40_000)).unwrap();
    s.append(102, b"after").unwrap();
    assert_eq!(s.segment_count(), 9);
    assert_eq!(collect(&s, 101, 102, 5).0[0].1.len(), 40_000);
    drop(s);
    let s = reopen(&root, small());
    assert_eq!(open_files(&s), (0, true));
    let (got, _) = collect(&s, 14, 18, 10);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [14, 15, 16, 17, 18]
    );
    assert_eq!(got[2].1, frame(16, 984));
    assert_eq!(collect(&s, 102, 102, 1).0, [(102, b"after".to_vec())]);
}

#[test]
fn appends_keep_the_map_write_faulted_ahead_of_them() {
    let options = small()
        .with_segment_size(1 << 20)
        .with_initial_segment_len(1 << 20);
    let (mut s, _root) = temp_store(options.with_preallocate(false));
    s.append(1, &frame(1, 984)).unwrap();
    let seg = &s.generation.active;
    // Supported here (Linux >= 5.14): a window past the record is ready.
    if seg.populated != usize::MAX {
        assert!(
            seg.populated >= seg.end + POPULATE_AHEAD - PAGE,
            "{}",
            seg.populated
        );
    }
    for seq in 2..=2000 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    let seg = &s.generation.active;
    assert!(seg.populated == usize::MAX || seg.populated >= seg.end);
    all_frames(&s, 2000, 984);
}

#[test]
fn growth_doubles_the_file_up_to_the_segment_size() {
    let options = small().with_segment_size(64 * 1024);
    let (mut s, _root) = temp_store(options);
    let path = s.dir().join(CURRENT).join(segment_name(1));
    let mut lens = vec![fs::metadata(&path).unwrap().len()];
    for seq in 1..=60 {
        s.append(seq, &frame(seq, 984)).unwrap();
        let len = fs::metadata(&path).unwrap().len();
        if Some(&len) != lens.last() {
            lens.push(len);
        }
    }
    assert_eq!(lens, [4096, 8192, 16384, 32768, 65536]);
    assert_eq!(s.segment_count(), 1);
}

#[test]
fn max_segments_deletes_the_oldest_and_reads_skip_them() {
    let options = small().with_max_segments(NonZeroUsize::new(2));
    let (mut s, root) = temp_store(options.clone());
    for seq in 1..=64 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    // 16 records per segment: segments 3 and 4 are kept.
    assert_eq!(s.segment_count(), 2);
    let current = s.dir().join(CURRENT);
    assert!(!current.join(segment_name(1)).exists());
    assert!(!current.join(segment_name(2)).exists());
    let (got, next) = collect(&s, 1, 64, 3);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [33, 34, 35]);
    assert_eq!(next, 36);
    assert_eq!(s.len(), 32);
    drop(s);
    let s = reopen(&root, options);
    assert_eq!((s.len(), s.next_sender_seq()), (32, 65));
    assert_eq!(collect(&s, 1, 33, 10).0, [(33, frame(33, 984))]);
}

#[test]
fn refuses_seq_zero() {
    let (mut s, _root) = temp_store(small());
    assert!(matches!(
        s.append(0, b"x"),
        Err(StoreError::OutOfOrder {
            seq: 0,
            expected: 1
        })
    ));
    assert!(s.is_empty());
}

#[test]
fn a_second_opener_is_refused_until_the_first_closes() {
    let (s, root) = temp_store(small());
    let e = FileStore::open(root.path(), KEY_NAME, small()).unwrap_err();
    let StoreError::Locked { path } = &e else {
        panic!("expected Locked, got {e}");
    };
    assert_eq!(path, &s.dir().join(LOCK));
    assert!(
        e.to_string().contains("is locked: another FileStore"),
        "{e}"
    );
    // Other sessions under the same root are unaffected.
    FileStore::open(root.path(), "FIX.4.4-ISLD-XX", small()).unwrap();
    drop(s);
    reopen(&root, small());
}

#[test]
fn a_failed_roll_leaves_the_store_as_it_was() {
    let (mut s, _root) = temp_store(small());
    // A directory where the next segment's temporary file must go: creating it
    // fails, as a full disk or a permission error would. The same where the
    // background thread prepares it, so that fails first.
    let blocker = s.dir().join(CURRENT).join("0000000002.log.tmp");
    fs::create_dir(&blocker).unwrap();
    fs::create_dir(s.dir().join(CURRENT).join(prealloc::prepared_name(2))).unwrap();
    for seq in 1..=16 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    let e = s.append(17, &frame(17, 984)).unwrap_err();
    assert!(
        matches!(&e, StoreError::Io { path, .. } if path == &blocker),
        "{e}"
    );
    assert_eq!(
        (s.next_sender_seq(), s.len(), s.segment_count()),
        (17, 16, 1)
    );
    assert_eq!(collect(&s, 16, 20, 10).0, [(16, frame(16, 984))]);
    fs::remove_dir(&blocker).unwrap();
    s.append(17, &frame(17, 984)).unwrap();
    assert_eq!(collect(&s, 17, 17, 1).0, [(17, frame(17, 984))]);
}
