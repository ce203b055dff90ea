//! The [`MessageStore`] contract as tests, run against every store.
//!
//! Each store's test module invokes `store_contract_tests!(name, make())`, where
//! `make()` returns the store and a guard kept alive for the test (a temporary
//! folder); the tests land in a module `name`.

use crate::store::MessageStore;

/// The frames of `begin..=end` (at most `max`) and the number to continue from.
pub(super) fn collect(
    store: &dyn MessageStore,
    begin: u64,
    end: u64,
    max: usize,
) -> (Vec<(u64, Vec<u8>)>, u64) {
    let mut got = Vec::new();
    let next = store
        .read_range(begin, end, max, &mut |seq, frame| {
            got.push((seq, frame.to_vec()))
        })
        .unwrap();
    (got, next)
}

pub(super) fn starts_at_one_and_one(s: &mut dyn MessageStore) {
    assert_eq!((s.next_sender_seq(), s.next_target_seq()), (1, 1));
    assert_eq!(collect(s, 1, u64::MAX, 10), (vec![], u64::MAX));
}

pub(super) fn appends_and_reads_in_bounded_batches(s: &mut dyn MessageStore) {
    for seq in [1, 2, 4, 5] {
        s.append(seq, format!("m{seq}").as_bytes()).unwrap();
    }
    assert_eq!(s.next_sender_seq(), 6);
    let (got, next) = collect(s, 1, 5, 2);
    assert_eq!(got, [(1, b"m1".to_vec()), (2, b"m2".to_vec())]);
    assert_eq!(next, 4);
    let (got, next) = collect(s, next, 5, 2);
    assert_eq!(got, [(4, b"m4".to_vec()), (5, b"m5".to_vec())]);
    assert_eq!(next, 6);
    let (got, next) = collect(s, 2, 4, 10);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(next, 5);
    assert_eq!(collect(s, 3, 3, 10), (vec![], 4));
    assert_eq!(collect(s, 6, u64::MAX, 10), (vec![], u64::MAX));
    assert_eq!(collect(s, 1, 5, 0), (vec![], 1));
}

pub(super) fn refuses_out_of_order_appends(s: &mut dyn MessageStore) {
    s.append(3, b"x").unwrap();
    let e = s.append(3, b"y").unwrap_err();
    assert_eq!(
        e.to_string(),
        "append of MsgSeqNum 3 out of order: the next outbound number is 4"
    );
    s.append(2, b"z").unwrap_err();
    assert_eq!(s.next_sender_seq(), 4);
    assert_eq!(collect(s, 1, 10, 10).0, [(3, b"x".to_vec())]);
}

pub(super) fn sequence_numbers_are_set_independently(s: &mut dyn MessageStore) {
    s.set_next_target_seq(42).unwrap();
    s.set_next_sender_seq(7).unwrap();
    assert_eq!((s.next_sender_seq(), s.next_target_seq()), (7, 42));
    s.append(7, b"seven").unwrap();
    assert_eq!((s.next_sender_seq(), s.next_target_seq()), (8, 42));
    s.set_next_sender_seq(100).unwrap();
    s.append(100, b"hundred").unwrap();
    assert_eq!(s.next_sender_seq(), 101);
    assert_eq!(
        collect(s, 1, 200, 10).0,
        [(7, b"seven".to_vec()), (100, b"hundred".to_vec())]
    );
}

pub(super) fn reset_starts_over(s: &mut dyn MessageStore) {
    s.append(1, b"x").unwrap();
    s.append(2, b"y").unwrap();
    s.set_next_target_seq(9).unwrap();
    s.reset().unwrap();
    assert_eq!((s.next_sender_seq(), s.next_target_seq()), (1, 1));
    assert_eq!(collect(s, 1, u64::MAX, 10), (vec![], u64::MAX));
    s.append(1, b"again").unwrap();
    assert_eq!(collect(s, 1, 1, 10).0, [(1, b"again".to_vec())]);
}

pub(super) fn keeps_many_frames_of_many_sizes_exactly(s: &mut dyn MessageStore) {
    let frame = |seq: u64| -> Vec<u8> {
        (0..(seq * 37 % 700) as usize)
            .map(|i| (i as u64 ^ seq) as u8)
            .collect()
    };
    for seq in 1..=600 {
        s.append(seq, &frame(seq)).unwrap();
    }
    for seq in [1, 2, 77, 299, 300, 599, 600] {
        assert_eq!(collect(s, seq, seq, 1).0, [(seq, frame(seq))], "seq {seq}");
    }
    let mut begin = 1;
    let mut seen = 0;
    while begin <= 600 {
        let (got, next) = collect(s, begin, 600, 64);
        for (seq, f) in got {
            assert_eq!(f, frame(seq));
            seen += 1;
        }
        begin = next;
    }
    assert_eq!(seen, 600);
}

/// Generates, in module `$module`, one `#[test]` per contract function for the
/// store `$make` returns as `(store, guard)`.
macro_rules! store_contract_tests {
    ($module:ident, $make:expr) => {
        store_contract_tests!(
            @each $module, $make;
            starts_at_one_and_one,
            appends_and_reads_in_bounded_batches,
            refuses_out_of_order_appends,
            sequence_numbers_are_set_independently,
            reset_starts_over,
            keeps_many_frames_of_many_sizes_exactly,
        );
    };
    (@each $module:ident, $make:expr; $($name:ident,)*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    let (mut store, _guard) = $make;
                    $crate::store::contract::$name(&mut store);
                    // Before the guard (a temporary folder) goes.
                    drop(store);
                }
            )*
        }
    };
}
