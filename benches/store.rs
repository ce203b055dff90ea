//! The stores side by side: appending a 200-byte frame, and reading one frame back
//! by sequence number, for `MemoryStore` and for `FileStore` under each sync policy.
//!
//! The FileStore appends run in steady state: segments roll and grow inside the
//! measurement (64 MiB segments, the two newest kept, so the disk use is bounded),
//! so their cost is in the figure, with the store's background thread preparing
//! the next segment as in production (at this rate, 200 bytes every ~75 ns, it
//! falls behind, and about half the rolls create their segment themselves);
//! `file_sync_none_preallocated` leaves growth, rolls and the background thread
//! out, to show the append path itself. The MemoryStore is emptied every
//! million appends outside the timed part, so memory stays bounded.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fixengine::store::{FileStore, FileStoreOptions, MemoryStore, MessageStore, SyncPolicy};

const FRAME_LEN: usize = 200;
const READ_STORE_LEN: u64 = 100_000;

/// A 200-byte FIX-looking frame (the bytes do not matter to the store, only the length).
fn frame() -> Vec<u8> {
    let mut f = b"8=FIX.4.4\x019=178\x0135=8\x0134=1\x0149=FIXENGINE\x0156=CLIENT01\x01".to_vec();
    while f.len() < FRAME_LEN - 7 {
        f.extend_from_slice(b"58=x\x01");
    }
    f.truncate(FRAME_LEN - 7);
    f.extend_from_slice(b"10=000\x01");
    assert_eq!(f.len(), FRAME_LEN);
    f
}

fn file_options(sync: SyncPolicy) -> FileStoreOptions {
    FileStoreOptions::default()
        .with_sync(sync)
        .with_max_segments(NonZeroUsize::new(2))
}

fn policies() -> [(&'static str, SyncPolicy); 3] {
    [
        ("file_sync_none", SyncPolicy::None),
        (
            "file_sync_every_64",
            SyncPolicy::Periodic(NonZeroU32::new(64).expect("64 is not zero")),
        ),
        ("file_sync_every_message", SyncPolicy::EveryMessage),
    ]
}

#[allow(clippy::disallowed_methods)] // a benchmark times its own loop (iter_custom)
fn append_memory(iters: u64, store: &mut MemoryStore, seq: &mut u64, frame: &[u8]) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        if store.len() >= 1_000_000 {
            store.reset().expect("the memory store does not fail");
            *seq = 1;
        }
        let batch = left.min(1_000_000 - store.len() as u64);
        let start = Instant::now();
        for _ in 0..batch {
            store
                .append(*seq, black_box(frame))
                .expect("the memory store does not fail");
            *seq += 1;
        }
        total += start.elapsed();
        left -= batch;
    }
    total
}

/// Appends into a segment allocated in full before the clock starts, a fresh store
/// every 250 000 frames (54 MB, within the 64 MiB segment), set up off the clock,
/// with no background thread (which would prepare a second segment meanwhile):
/// the CPU path of an append (checksum, copy, index) plus the first-touch
/// page faults, without growth, rolls or page-cache reclaim.
#[allow(clippy::disallowed_methods)] // a benchmark times its own loop (iter_custom)
fn append_preallocated(iters: u64, frame: &[u8]) -> Duration {
    const PER_STORE: u64 = 250_000;
    let options = FileStoreOptions::default()
        .with_segment_size(64 << 20)
        .with_initial_segment_len(64 << 20)
        .with_preallocate(false);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut store = FileStore::open(dir.path(), "FIX.4.4-BENCH-PREALLOC", options.clone())
            .expect("a new store");
        let batch = left.min(PER_STORE);
        let start = Instant::now();
        for seq in 1..=batch {
            store
                .append(seq, black_box(frame))
                .expect("the disk has room");
        }
        total += start.elapsed();
        assert_eq!(store.segment_count(), 1, "the batch must fit one segment");
        left -= batch;
    }
    total
}

fn append(c: &mut Criterion) {
    let frame = frame();
    let mut group = c.benchmark_group("store/append_200B");
    group.throughput(Throughput::Elements(1));

    let mut memory = MemoryStore::new();
    let mut seq = 1;
    group.bench_function("memory", |b| {
        b.iter_custom(|iters| append_memory(iters, &mut memory, &mut seq, &frame))
    });
    drop(memory);

    group.bench_function("file_sync_none_preallocated", |b| {
        b.iter_custom(|iters| append_preallocated(iters, &frame))
    });

    for (name, policy) in policies() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut store = FileStore::open(dir.path(), "FIX.4.4-BENCH-APPEND", file_options(policy))
            .expect("a new store");
        if policy == SyncPolicy::EveryMessage {
            // An msync per append: up to milliseconds on a real disk.
            group.sample_size(10);
        }
        let mut seq = 1u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                store
                    .append(seq, black_box(&frame))
                    .expect("the disk has room");
                seq += 1;
            })
        });
        drop(store);
    }
    group.finish();
}

fn read_by_seq(c: &mut Criterion) {
    let frame = frame();
    let mut group = c.benchmark_group("store/read_by_seq");
    group.throughput(Throughput::Elements(1));

    let mut memory = MemoryStore::new();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut file = FileStore::open(
        dir.path(),
        "FIX.4.4-BENCH-READ",
        FileStoreOptions::default(),
    )
    .expect("a new store");
    for seq in 1..=READ_STORE_LEN {
        memory.append(seq, &frame).expect("memory");
        file.append(seq, &frame).expect("the disk has room");
    }
    let stores: [(&str, &dyn MessageStore); 2] = [("memory", &memory), ("file", &file)];
    for (name, store) in stores {
        // A stride coprime with the store size visits every seq, in no cache-friendly order.
        let mut k = 0u64;
        group.bench_with_input(BenchmarkId::from_parameter(name), &store, |b, store| {
            b.iter(|| {
                k = (k + 7_919) % READ_STORE_LEN;
                let seq = k + 1;
                let mut len = 0;
                store
                    .read_range(seq, seq, 1, &mut |_, f| len = f.len())
                    .expect("readable");
                black_box(len)
            })
        });
    }
    group.finish();
}

/// Reopening a store of a million 200-byte messages: the scan that checks every
/// record and rebuilds the index (issue 6 target: at most 1 s), then a
/// ResendRequest's worth of reads: 10,000 stored frames read back in batches of 256
/// as the session serves them (target with the encoding: at most 10 ms).
fn recovery(c: &mut Criterion) {
    const STORED: u64 = 1_000_000;
    let frame = frame();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let key = "FIX.4.4-BENCH-RECOVERY";
    {
        let mut store =
            FileStore::open(dir.path(), key, FileStoreOptions::default()).expect("a new store");
        for seq in 1..=STORED {
            store.append(seq, &frame).expect("the disk has room");
        }
        store.sync().expect("synced");
    }
    let mut group = c.benchmark_group("store/recovery");
    group.sample_size(10);
    group.bench_function("reopen_1m_messages", |b| {
        b.iter(|| {
            let store =
                FileStore::open(dir.path(), key, FileStoreOptions::default()).expect("reopens");
            black_box(store.next_sender_seq())
        })
    });
    let store = FileStore::open(dir.path(), key, FileStoreOptions::default()).expect("reopens");
    group.bench_function("read_10k_for_a_resend", |b| {
        b.iter(|| {
            let (mut next, end, mut bytes) = (STORED - 10_000 + 1, STORED, 0usize);
            while next <= end {
                next = store
                    .read_range(next, end, 256, &mut |_, f| bytes += f.len())
                    .expect("readable");
            }
            black_box(bytes)
        })
    });
    group.finish();
}

criterion_group!(benches, append, read_by_seq, recovery);
criterion_main!(benches);
