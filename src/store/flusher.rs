//! The group-commit thread of a [`FileStore`](super::FileStore) under
//! [`SyncPolicy::Group`](super::SyncPolicy::Group): it makes records durable in
//! groups, off the appending thread, and says how far it has come.
//!
//! The appender counts its appends and, when it wants them durable, sends the
//! count; the thread takes every request waiting, syncs the active segment file
//! once (`fdatasync`: a file's pages dirtied through a shared map are written
//! with it), publishes the largest count as durable and calls the wake-up the
//! store's owner set. A segment that rolls is synced by the appender itself, once
//! per roll, so the thread only ever syncs the one active file. A failed sync is
//! published as such and ends the thread: nothing is claimed durable after it.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};

use super::SyncWake;

/// What the thread publishes, shared with the store for its whole life (across
/// resets, so the counts only grow).
#[derive(Default)]
pub(super) struct Marks {
    /// How many appends are known durable.
    pub(super) durable: AtomicU64,
    /// A sync failed: `durable` does not move again.
    pub(super) failed: AtomicBool,
    /// Called after the marks moved.
    wake: Mutex<Option<SyncWake>>,
}

impl Marks {
    pub(super) fn set_wake(&self, wake: SyncWake) {
        if let Ok(mut w) = self.wake.lock() {
            *w = Some(wake);
        }
    }

    fn notify(&self) {
        let wake = self.wake.lock().ok().and_then(|w| w.clone());
        if let Some(wake) = wake {
            wake();
        }
    }
}

enum Job {
    /// The segment appends go to from now on (the previous one was synced).
    Active(File),
    /// Make the first `n` appends durable.
    Sync(u64),
}

/// The store's handle on its thread. Dropping it stops and joins the thread.
pub(super) struct Flusher {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts the thread on `active` (a handle of its own on the segment file).
    pub(super) fn spawn(active: File, marks: Arc<Marks>, dir: PathBuf) -> io::Result<Self> {
        let (jobs, rx) = crossbeam_channel::unbounded();
        let thread = thread::Builder::new()
            .name("fixengine-flush".to_owned())
            .spawn(move || run(&rx, active, &marks, &dir))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Asks for the first `appended` appends to be made durable.
    pub(super) fn sync(&self, appended: u64) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Sync(appended));
        }
    }

    /// Moves the thread to the new active segment after a roll.
    pub(super) fn rolled(&self, active: File) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Active(active));
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(rx: &Receiver<Job>, mut file: File, marks: &Marks, dir: &std::path::Path) {
    while let Ok(first) = rx.recv() {
        let mut target = 0;
        for job in std::iter::once(first).chain(rx.try_iter()) {
            match job {
                Job::Active(f) => file = f,
                Job::Sync(n) => target = target.max(n),
            }
        }
        if target <= marks.durable.load(Ordering::Acquire) {
            continue;
        }
        if let Err(e) = file.sync_data() {
            log::error!(
                "{}: background sync failed, nothing more is durable: {e}",
                dir.display()
            );
            marks.failed.store(true, Ordering::Release);
            marks.notify();
            return;
        }
        marks.durable.fetch_max(target, Ordering::AcqRel);
        marks.notify();
    }
}
