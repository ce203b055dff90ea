//! The background thread that prepares the next segment, and rolls with or
//! without it.

use super::*;

/// The names of the temporary files in `dir`.
fn tmp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

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
