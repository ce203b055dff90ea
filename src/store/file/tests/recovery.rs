//! Opening a store a crash or another program left: copies taken while open,
//! damaged headers, foreign segments and keys, each a named error or a clean
//! recovery.

use super::*;

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
