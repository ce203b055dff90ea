//! `FileStore` across a real kill -9: a child process appends and is killed while
//! it holds the store; the parent then finds every appended frame, the sequence
//! numbers, and the lock released by the kernel.

// Helpers outside #[test] functions panic on a failed setup step, as tests do.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use fixengine::store::{FileStore, FileStoreOptions, MessageStore, StoreError};

const KEY: &str = "FIX.4.4-CRASH-TEST";
const CHILD_ENV: &str = "FIXENGINE_STORE_CRASH_CHILD_ROOT";
const FRAMES: u64 = 5_000;

fn frame(seq: u64) -> Vec<u8> {
    format!(
        "8=FIX.4.4\u{1}34={seq}\u{1}58={}\u{1}",
        "x".repeat((seq % 300) as usize)
    )
    .into_bytes()
}

fn options() -> FileStoreOptions {
    // Small segments, so the child rolls several before it is killed.
    FileStoreOptions::default()
        .with_segment_size(256 * 1024)
        .with_initial_segment_len(4096)
}

/// The child's part: append, report, and wait to be killed with the store open.
fn child(root: &Path) -> ! {
    let mut store = FileStore::open(root, KEY, options()).unwrap();
    for seq in 1..=FRAMES {
        store.append(seq, &frame(seq)).unwrap();
    }
    store.set_next_target_seq(42).unwrap();
    // Straight to the pipe: print! would go to the test harness's capture buffer.
    let mut out = std::io::stdout();
    writeln!(out, "ready {}", store.segment_count()).unwrap();
    out.flush().unwrap();
    loop {
        std::thread::park();
    }
}

/// Kills the child if the test fails before it does, so no process is left parked.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn kill_9_loses_nothing_appended_and_releases_the_lock() {
    if let Some(root) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&root));
    }
    let root = tempfile::tempdir().unwrap();
    let mut proc = Child(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "kill_9_loses_nothing_appended_and_releases_the_lock",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, root.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(proc.0.stdout.take().unwrap()).lines();
    // The harness prints "test <name> ... " without a newline before the child's
    // own output, so the report is at the end of a line.
    let ready = lines
        .by_ref()
        .map(Result::unwrap)
        .find_map(|l| l.split("ready ").nth(1).map(str::to_owned))
        .expect("the child reports ready");
    let segments: usize = ready.trim().parse().unwrap();
    assert!(segments > 1, "the child should have rolled segments");

    // While the child lives it holds the session.
    let e = FileStore::open(root.path(), KEY, options()).unwrap_err();
    assert!(matches!(e, StoreError::Locked { .. }), "{e}");

    proc.0.kill().unwrap(); // SIGKILL: no destructors, no sync, no unlock
    proc.0.wait().unwrap();

    let store = FileStore::open(root.path(), KEY, options()).unwrap();
    assert_eq!(
        (
            store.next_sender_seq(),
            store.next_target_seq(),
            store.len()
        ),
        (FRAMES + 1, 42, FRAMES as usize)
    );
    assert_eq!(store.segment_count(), segments);
    let mut seen = 0;
    let mut begin = 1;
    while begin <= FRAMES {
        begin = store
            .read_range(begin, FRAMES, 500, &mut |seq, f| {
                assert_eq!(f, frame(seq), "seq {seq}");
                seen += 1;
            })
            .unwrap();
    }
    assert_eq!(seen, FRAMES);
}
