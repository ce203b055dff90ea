//! `inspect`: a store's state read without its lock.

use super::*;

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
