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
fn resetting_a_new_session_archives_nothing() {
    let (mut s, root) = temp_store(small());
    s.reset().unwrap();
    s.reset().unwrap();
    assert_eq!(s.generation(), 1, "nothing to set aside");
    assert!(!s.dir().join(ARCHIVE).exists());
    // A session with anything in it is archived as before.
    s.set_next_target_seq(2).unwrap();
    s.reset().unwrap();
    assert_eq!(s.generation(), 2);
    drop(s);
    reopen(&root, small());
}

#[test]
fn an_archive_at_the_last_generation_number_is_refused_not_wrapped() {
    let (mut s, root) = temp_store(small());
    s.append(1, b"first life").unwrap();
    s.reset().unwrap();
    let dir = s.dir().to_path_buf();
    drop(s);
    // A forged archive name at u64::MAX and no live generation: the next one
    // would need a number that does not exist.
    let archive = dir.join(ARCHIVE);
    fs::rename(
        archive.join("0000000001"),
        archive.join(u64::MAX.to_string()),
    )
    .unwrap();
    fs::remove_dir_all(dir.join(CURRENT)).unwrap();
    let err = FileStore::open(root.path(), KEY_NAME, small()).unwrap_err();
    assert!(
        err.to_string().contains("generation numbers exhausted"),
        "{err}"
    );
}

#[test]
fn reset_archives_the_old_generation() {
    let (mut s, root) = temp_store(small());
    s.append(1, b"first life").unwrap();
    s.set_next_target_seq(5).unwrap();
    s.reset().unwrap();
    assert_eq!(s.generation(), 2);
    assert_eq!(
        (s.next_sender_seq(), s.next_target_seq(), s.len()),
        (1, 1, 0)
    );
    s.append(1, b"second life").unwrap();
    s.reset().unwrap();
    assert_eq!(s.generation(), 3);

    let archive = s.dir().join(ARCHIVE);
    let first = fs::read(archive.join("0000000001").join(segment_name(1))).unwrap();
    let second = fs::read(archive.join("0000000002").join(segment_name(1))).unwrap();
    assert!(first.windows(10).any(|w| w == b"first life"));
    assert!(second.windows(11).any(|w| w == b"second life"));
    let (id, slot) =
        layout::read_header(&fs::read(archive.join("0000000001").join(HEADER)).unwrap()).unwrap();
    assert_eq!(
        (id.generation, slot.next_sender, slot.next_target),
        (1, 2, 5)
    );
    drop(s);
    let s = reopen(&root, small());
    assert_eq!((s.generation(), s.len(), s.next_sender_seq()), (3, 0, 1));
}

#[test]
fn a_crash_between_the_reset_renames_starts_the_next_generation() {
    let (mut s, root) = temp_store(small());
    s.append(1, b"x").unwrap();
    let dir = s.dir().to_path_buf();
    drop(s);
    // As if reset() died after archiving `current`, before renaming the new one
    // into place (which it builds as current.tmp).
    fs::create_dir(dir.join(ARCHIVE)).unwrap();
    fs::rename(dir.join(CURRENT), dir.join(ARCHIVE).join("0000000001")).unwrap();
    fs::create_dir(dir.join(CURRENT_TMP)).unwrap();
    let s = reopen(&root, small());
    assert_eq!((s.generation(), s.len(), s.next_sender_seq()), (2, 0, 1));
    assert!(!dir.join(CURRENT_TMP).exists());
}

/// The folders in the store's `archive/`, in name order.
fn archived_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join(ARCHIVE))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Moves the modification time of every file in `dir` back by `by`, as if
/// it had last been written that long before.
fn set_back(dir: &Path, by: std::time::Duration) {
    for entry in fs::read_dir(dir).unwrap() {
        set_file_back(&entry.unwrap().path(), by);
    }
}

fn set_file_back(path: &Path, by: std::time::Duration) {
    let file = File::options().write(true).open(path).unwrap();
    let written = file.metadata().unwrap().modified().unwrap();
    file.set_modified(written - by).unwrap();
}

const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Resets `s` `lives` times, each time after storing a message (an empty
/// session is not archived).
fn live_and_reset(s: &mut FileStore, lives: u64) {
    for _ in 0..lives {
        let life = s.generation();
        s.append(1, &frame(life, 20)).unwrap();
        s.reset().unwrap();
    }
}

#[test]
fn max_archives_keeps_the_newest_archived_generations() {
    let two = || small().with_max_archives(NonZeroUsize::new(2));
    let (mut s, root) = temp_store(two());
    live_and_reset(&mut s, 2);
    assert_eq!(archived_names(s.dir()), ["0000000001", "0000000002"]);
    // Each reset beyond the second deletes the oldest.
    live_and_reset(&mut s, 3);
    assert_eq!(archived_names(s.dir()), ["0000000004", "0000000005"]);
    assert_eq!(s.generation(), 6);
    // The store goes on as before, and the archives kept are whole.
    s.append(1, &frame(6, 20)).unwrap();
    assert_eq!(collect(&s, 1, 1, 1).0, [(1, frame(6, 20))]);
    let info = inspect(s.dir()).unwrap();
    let kept: Vec<_> = info.archived.iter().map(|a| a.generation).collect();
    assert_eq!(kept, [Some(4), Some(5)]);
    let mut old = Vec::new();
    read_stored(&info.archived[0].path, &mut |seq, f| {
        old.push((seq, f.to_vec()));
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(old, [(1, frame(4, 20))]);
    drop(s);
    let s = reopen(&root, two());
    assert_eq!((s.generation(), s.len()), (6, 1));
    assert_eq!(archived_names(s.dir()), ["0000000004", "0000000005"]);
    // A policy tightened between runs is applied when the store opens.
    drop(s);
    let s = reopen(&root, small().with_max_archives(NonZeroUsize::new(1)));
    assert_eq!(archived_names(s.dir()), ["0000000005"]);
}

#[test]
fn retention_counts_generations_by_number_and_leaves_other_folders_alone() {
    let (mut s, root) = temp_store(small());
    live_and_reset(&mut s, 1);
    let dir = s.dir().to_path_buf();
    drop(s);
    let archive = dir.join(ARCHIVE);
    // Generation 1 archived a second time after a crash, a generation past ten
    // digits (newest by number, though not by name), and what the store never
    // names: somebody's folder and file.
    for name in ["0000000001-1", "10000000000", "notes"] {
        fs::create_dir(archive.join(name)).unwrap();
    }
    fs::write(archive.join("README"), b"kept by hand").unwrap();
    set_back(&archive.join("0000000001"), 3650 * DAY);
    let s = reopen(
        &root,
        small()
            .with_max_archives(NonZeroUsize::new(2))
            .with_max_archive_age(Some(DAY)),
    );
    assert_eq!(
        archived_names(&dir),
        ["0000000001-1", "10000000000", "README", "notes"]
    );
    // inspect lists them in the order retention counts them.
    let order: Vec<_> = inspect(&dir)
        .unwrap()
        .archived
        .iter()
        .map(|a| a.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(order, ["notes", "0000000001-1", "10000000000"]);
    drop(s);
}

#[test]
fn max_archive_age_deletes_generations_last_written_longer_ago() {
    let (mut s, root) = temp_store(small());
    live_and_reset(&mut s, 2);
    let dir = s.dir().to_path_buf();
    drop(s);
    let archive = dir.join(ARCHIVE);
    set_back(&archive.join("0000000001"), 10 * DAY);
    // Generation 2's header is as old, but its newest file, the segment, was
    // written within the week: kept.
    set_file_back(&archive.join("0000000002").join(HEADER), 10 * DAY);
    set_file_back(&archive.join("0000000002").join(segment_name(1)), 6 * DAY);
    let info = inspect(&dir).unwrap();
    let age = |i: usize| {
        let written = info.archived[i].last_write.unwrap();
        let now = fs::metadata(dir.join(CURRENT).join(HEADER))
            .unwrap()
            .modified()
            .unwrap();
        now.duration_since(written).unwrap()
    };
    // inspect reports the newest file's time: what the policy goes by.
    assert!(age(0) >= 10 * DAY && age(1) < 7 * DAY, "{info:?}");

    let week = || small().with_max_archive_age(Some(7 * DAY));
    let mut s = reopen(&root, week());
    assert_eq!(archived_names(&dir), ["0000000002"]);
    // Two more days: generation 2 is past the week at the next reset, and the
    // generation that reset archives is new.
    set_back(&archive.join("0000000002"), 2 * DAY);
    live_and_reset(&mut s, 1);
    assert_eq!(archived_names(&dir), ["0000000003"]);
    assert_eq!((s.generation(), s.next_sender_seq()), (4, 1));
    s.append(1, b"fourth life").unwrap();
    drop(s);
    let s = reopen(&root, week());
    assert_eq!((s.generation(), s.len()), (4, 1));
}

#[test]
fn without_a_policy_every_archived_generation_is_kept() {
    let options = FileStoreOptions::default();
    assert_eq!(
        (options.max_archives, options.max_archive_age),
        (None, None)
    );
    let (mut s, root) = temp_store(small());
    live_and_reset(&mut s, 4);
    let dir = s.dir().to_path_buf();
    drop(s);
    for name in archived_names(&dir) {
        set_back(&dir.join(ARCHIVE).join(name), 3650 * DAY);
    }
    let mut s = reopen(&root, small());
    live_and_reset(&mut s, 1);
    assert_eq!(archived_names(&dir).len(), 5);
}

/// Clears the immutable attribute it set when dropped, so the test's
/// temporary folder can be removed even when the test fails.
struct Immutable(PathBuf);

impl Immutable {
    /// Makes `path` immutable (`chattr +i`), which stops even root from
    /// deleting what is in it; `None` where chattr cannot (not ext4 or xfs, no
    /// CAP_LINUX_IMMUTABLE).
    fn set(path: &Path) -> Option<Self> {
        std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success())
            .then(|| Self(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn an_archived_generation_that_cannot_be_deleted_leaves_the_reset_succeeding() {
    let one = || small().with_max_archives(NonZeroUsize::new(1));
    let (mut s, root) = temp_store(one());
    live_and_reset(&mut s, 1);
    let stuck = s.dir().join(ARCHIVE).join("0000000001");
    // Permission bits do not stop root, which CI runs as; the immutable
    // attribute does.
    let Some(immutable) = Immutable::set(&stuck) else {
        eprintln!("skipped: chattr +i is not available here");
        return;
    };
    // The deletion fails (a warning); the reset does not.
    live_and_reset(&mut s, 1);
    assert_eq!(s.generation(), 3);
    assert_eq!(archived_names(s.dir()), ["0000000001", "0000000002"]);
    s.append(1, b"third life").unwrap();
    assert_eq!(collect(&s, 1, 1, 1).0, [(1, b"third life".to_vec())]);
    // Nor does opening the store.
    drop(s);
    let mut s = reopen(&root, one());
    assert_eq!((s.generation(), s.len()), (3, 1));
    // Once it can be, the next reset deletes it, with the one now beyond the count.
    drop(immutable);
    s.reset().unwrap();
    assert_eq!(archived_names(s.dir()), ["0000000003"]);
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

/// The names of the temporary files in `dir`.
fn tmp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn all_frames(s: &FileStore, last: u64, len: usize) {
    let (got, _) = collect(s, 1, last, usize::MAX);
    assert_eq!(got.len() as u64, last);
    for (seq, f) in got {
        assert_eq!(f, frame(seq, len), "seq {seq}");
    }
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[test]
fn a_roll_takes_the_prepared_segment() {
    let (mut s, root) = temp_store(small());
    let current = s.dir().join(CURRENT);
    // 1000-byte records, 16 per 16 KiB segment: the 10th append finds the
    // segment past half full and asks for segment 2.
    for seq in 1..=10 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    let bg = s
        .generation
        .background
        .as_mut()
        .expect("the thread started");
    assert!(bg.wait(WAIT), "segment 2 prepared");
    let tmp = current.join(prealloc::prepared_name(2));
    assert_eq!(fs::metadata(&tmp).unwrap().len(), 16 * 1024);
    for seq in 11..=17 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    assert_eq!(s.segment_count(), 2);
    // Full size at once, not the 4 KiB a segment created at the roll starts at.
    let seg2 = current.join(segment_name(2));
    assert_eq!(fs::metadata(&seg2).unwrap().len(), 16 * 1024);
    assert!(!tmp.exists());
    all_frames(&s, 17, 984);
    drop(s);
    assert_eq!(tmp_files(&current), Vec::<String>::new());
    let s = reopen(&root, small());
    assert_eq!(
        (s.len(), s.segment_count(), s.next_sender_seq()),
        (17, 2, 18)
    );
    all_frames(&s, 17, 984);
}

#[test]
fn a_roll_creates_the_segment_itself_when_the_prepared_one_is_late() {
    let (mut s, root) = temp_store(small());
    let current = s.dir().join(CURRENT);
    let bg = Preallocator::spawn().unwrap();
    let gate = Arc::clone(&bg.gate);
    s.generation.background = Some(bg);
    // The thread cannot start a preparation while this is held.
    let held = gate.lock().unwrap();
    for seq in 1..=17 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    assert_eq!(s.segment_count(), 2);
    // Created at the roll: the initial length, growing by doubling.
    let seg2 = current.join(segment_name(2));
    assert_eq!(fs::metadata(&seg2).unwrap().len(), 4096);
    // Nothing more is asked for while the late one is outstanding.
    assert_eq!(tmp_files(&current), Vec::<String>::new());
    drop(held);
    // The late segment arrives, and serves the next roll as segment 3.
    let bg = s.generation.background.as_mut().unwrap();
    assert!(bg.wait(WAIT));
    assert_eq!(tmp_files(&current), [prealloc::prepared_name(2)]);
    for seq in 18..=40 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    assert_eq!(s.segment_count(), 3);
    assert_eq!(fs::metadata(&seg2).unwrap().len(), 16 * 1024);
    let seg3 = current.join(segment_name(3));
    assert_eq!(fs::metadata(&seg3).unwrap().len(), 16 * 1024);
    all_frames(&s, 40, 984);
    drop(s);
    assert_eq!(tmp_files(&current), Vec::<String>::new());
    let s = reopen(&root, small());
    assert_eq!((s.len(), s.segment_count()), (40, 3));
    all_frames(&s, 40, 984);
}

#[test]
fn without_preallocation_no_thread_starts() {
    let (mut s, _root) = temp_store(small().with_preallocate(false));
    for seq in 1..=40 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    assert_eq!(s.segment_count(), 3);
    assert!(s.generation.background.is_none());
    all_frames(&s, 40, 984);
}

#[test]
fn a_leftover_prepared_segment_is_removed_on_open_and_never_read() {
    let (mut s, root) = temp_store(small());
    for seq in 1..=5 {
        s.append(seq, &frame(seq, 100)).unwrap();
    }
    let current = s.dir().join(CURRENT);
    drop(s);
    // What a crash can leave: a prepared segment, here even holding a valid
    // record, which must not be taken for data.
    let mut image = layout::segment_header().to_vec();
    image.resize(16 * 1024, 0);
    let rec = layout::record_len(5);
    layout::write_record(&mut image[16..16 + rec], 6, b"ghost");
    let leftover = current.join(prealloc::prepared_name(2));
    fs::write(&leftover, &image).unwrap();
    let s = reopen(&root, small());
    assert!(!leftover.exists());
    assert_eq!((s.len(), s.segment_count(), s.next_sender_seq()), (5, 1, 6));
    all_frames(&s, 5, 100);
}

#[test]
fn dropping_the_store_stops_a_preparation_in_progress() {
    // A 64 MiB segment to prepare: long enough to be caught in the middle.
    let options = FileStoreOptions::default().with_initial_segment_len(4096);
    let (mut s, root) = temp_store(options.clone());
    s.append(1, b"m").unwrap();
    let current = s.dir().join(CURRENT);
    s.generation.prepare_next(&options);
    let stop = s.generation.background.as_ref().unwrap().stop_flag();
    let tmp = current.join(prealloc::prepared_name(2));
    for _ in 0..10_000 {
        if tmp.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    drop(s);
    // Joined: the thread held the other reference to the flag.
    assert_eq!(Arc::strong_count(&stop), 1);
    assert_eq!(tmp_files(&current), Vec::<String>::new());
    let s = reopen(&root, options);
    assert_eq!((s.len(), s.segment_count()), (1, 1));
}

#[test]
fn reset_stops_the_background_thread_before_archiving() {
    let (mut s, _root) = temp_store(small());
    for seq in 1..=10 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    assert!(s.generation.background.is_some());
    s.reset().unwrap();
    assert!(s.generation.background.is_none());
    let archived = s.dir().join(ARCHIVE).join("0000000001");
    assert_eq!(tmp_files(&archived), Vec::<String>::new());
    assert_eq!(tmp_files(&s.dir().join(CURRENT)), Vec::<String>::new());
    for seq in 1..=40 {
        s.append(seq, &frame(seq, 984)).unwrap();
    }
    all_frames(&s, 40, 984);
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn a_copy_taken_while_open_reopens_like_after_kill_9() {
    // The files as they are in the page cache while the store is open are what
    // a killed process leaves: no close, no sync.
    let (mut s, _root) = temp_store(small());
    for seq in 1..=10 {
        s.append(seq, &frame(seq, 300)).unwrap();
    }
    s.set_next_target_seq(4).unwrap();
    s.append(11, &frame(11, 300)).unwrap();
    let copy = tempfile::tempdir().unwrap();
    copy_dir(s.dir(), &copy.path().join(s.dir().file_name().unwrap()));
    let c = FileStore::open(copy.path(), KEY_NAME, small()).unwrap();
    assert_eq!(
        (c.next_sender_seq(), c.next_target_seq(), c.len()),
        (12, 4, 11)
    );
    assert_eq!(collect(&c, 11, 11, 1).0, [(11, frame(11, 300))]);
}

#[test]
fn the_next_sender_is_moved_past_the_last_stored_message() {
    let (mut s, root) = temp_store(small());
    for seq in 1..=5 {
        s.append(seq, b"m").unwrap();
    }
    let header = s.dir().join(CURRENT).join(HEADER);
    drop(s);
    // A header that lags the log, as after a power cut with SyncPolicy::None.
    let (id, _) = layout::read_header(&fs::read(&header).unwrap()).unwrap();
    fs::write(&header, layout::new_header(id, 3, 2)).unwrap();
    let s = reopen(&root, small());
    assert_eq!(
        (s.next_sender_seq(), s.next_target_seq(), s.len()),
        (6, 2, 5)
    );
}

#[test]
fn damaged_headers_are_named_errors() {
    let (mut s, root) = temp_store(small());
    s.append(1, b"m").unwrap();
    let header = s.dir().join(CURRENT).join(HEADER);
    drop(s);
    let good = fs::read(&header).unwrap();
    let open = |image: &[u8]| {
        fs::write(&header, image).unwrap();
        FileStore::open(root.path(), KEY_NAME, small()).unwrap_err()
    };

    let mut bad = good.clone();
    bad[..8].copy_from_slice(b"GARBAGE!");
    let e = open(&bad);
    assert!(
        matches!(&e, StoreError::BadMagic { path, .. } if path == &header),
        "{e}"
    );
    assert!(
        e.to_string().contains("is not a fixengine store file"),
        "{e}"
    );

    let mut bad = good.clone();
    bad[8] = 1; // a store written by the previous format
    let e = open(&bad);
    assert!(
        matches!(
            &e,
            StoreError::VersionMismatch {
                found: 1,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );

    let mut bad = good.clone();
    bad[17] ^= 0xFF;
    let e = open(&bad);
    assert!(matches!(&e, StoreError::Corrupt { offset: 32, .. }), "{e}");

    let mut bad = good.clone();
    bad[512..2048].fill(0x55);
    let e = open(&bad);
    assert!(
        e.to_string()
            .contains("neither sequence-number slot is valid"),
        "{e}"
    );

    let e = open(&good[..1000]);
    assert!(e.to_string().contains("too short"), "{e}");

    // Nothing was reset along the way.
    fs::write(&header, &good).unwrap();
    let s = reopen(&root, small());
    assert_eq!((s.len(), s.next_sender_seq()), (1, 2));
}

#[test]
fn a_foreign_segment_is_a_named_error() {
    let (s, root) = temp_store(small());
    let seg = s.dir().join(CURRENT).join(segment_name(1));
    drop(s);
    fs::write(&seg, b"PK\x03\x04 certainly not a log segment").unwrap();
    let e = FileStore::open(root.path(), KEY_NAME, small()).unwrap_err();
    assert!(
        matches!(&e, StoreError::BadMagic { path, .. } if path == &seg),
        "{e}"
    );
}

#[test]
fn a_segment_of_another_format_version_is_a_named_error() {
    let (mut s, root) = temp_store(small());
    s.append(1, b"m").unwrap();
    let seg = s.dir().join(CURRENT).join(segment_name(1));
    drop(s);
    let mut image = fs::read(&seg).unwrap();
    image[8..12].copy_from_slice(&1u32.to_le_bytes());
    fs::write(&seg, &image).unwrap();
    let e = FileStore::open(root.path(), KEY_NAME, small()).unwrap_err();
    assert!(
        matches!(
            &e,
            StoreError::VersionMismatch { path, found: 1, expected: 2 } if path == &seg
        ),
        "{e}"
    );
}

#[test]
fn session_keys_are_checked() {
    let root = tempfile::tempdir().unwrap();
    let e = FileStore::open(root.path(), "", small()).unwrap_err();
    assert!(matches!(e, StoreError::InvalidSessionKey { .. }), "{e}");

    let s = FileStore::open(root.path(), "../../etc", small()).unwrap();
    assert_eq!(s.dir().parent(), Some(root.path()));
    assert_eq!(s.dir().file_name().unwrap(), "%2E.%2F..%2Fetc");
    let key_file = s.dir().join(KEY);
    drop(s);
    fs::write(&key_file, "someone else").unwrap();
    let e = FileStore::open(root.path(), "../../etc", small()).unwrap_err();
    assert!(matches!(e, StoreError::KeyMismatch { .. }), "{e}");
}

/// `inspect` and `read_stored` read what the open store holds, across segment
/// rolls, without its lock (the store stays open throughout).
#[test]
fn inspect_reads_an_open_store_without_its_lock() {
    let (mut s, root) = temp_store(small().with_preallocate(false));
    for seq in 1..=40 {
        s.append(seq, &frame(seq, 700)).unwrap();
    }
    s.set_next_target_seq(17).unwrap();
    assert!(s.segment_count() > 1);
    let info = inspect(s.dir()).unwrap();
    assert_eq!(info.key.as_deref(), Some(KEY_NAME));
    assert_eq!(info.generation, 1);
    assert_eq!((info.next_sender_seq, info.next_target_seq), (41, 17));
    assert_eq!((info.messages, info.seq_range), (40, Some((1, 40))));
    assert_eq!(info.segments.len(), s.segment_count());
    assert_eq!(info.segments.iter().map(|g| g.messages).sum::<u64>(), 40);
    for g in &info.segments {
        assert_eq!(g.end, "blank record header", "{}", g.path.display());
        assert!(g.used <= g.size);
    }
    assert!(info.archived.is_empty());
    assert!(info.last_write.is_some());

    let mut seen = Vec::new();
    read_stored(s.dir(), &mut |seq, f| {
        assert_eq!(f, &frame(seq, 700)[..]);
        seen.push(seq);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, (1..=40).collect::<Vec<_>>());
    let mut first = None;
    read_stored(&s.dir().join(CURRENT), &mut |seq, _| {
        first = Some(seq);
        std::ops::ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(first, Some(1));
    drop(s);
    drop(root);
}

#[test]
fn inspect_lists_archived_generations_and_names_a_folder_that_is_no_store() {
    let (mut s, root) = temp_store(small());
    s.append(1, b"one").unwrap();
    s.reset().unwrap();
    s.append(1, b"two").unwrap();
    s.append(2, b"three").unwrap();
    let info = inspect(s.dir()).unwrap();
    assert_eq!(info.generation, 2);
    assert_eq!(info.archived.len(), 1);
    assert_eq!(info.archived[0].generation, Some(1));
    assert!(info.archived[0].size > 0);
    assert_eq!((info.messages, info.seq_range), (2, Some((1, 2))));
    let mut old = Vec::new();
    read_stored(&info.archived[0].path, &mut |seq, f| {
        old.push((seq, f.to_vec()));
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(old, [(1, b"one".to_vec())]);

    let e = inspect(root.path()).unwrap_err();
    assert!(
        matches!(e, StoreError::Io { ref path, .. } if path.ends_with("current/header")),
        "{e}"
    );
    // Closed first: the open store maps the header, which must not shrink under it.
    let dir = s.dir().to_path_buf();
    drop(s);
    fs::write(dir.join(CURRENT).join(HEADER), b"not a header").unwrap();
    let e = inspect(&dir).unwrap_err();
    assert!(matches!(e, StoreError::BadMagic { .. }), "{e}");
}
