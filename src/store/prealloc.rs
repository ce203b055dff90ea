//! The background thread of a [`FileStore`](super::FileStore): it prepares the
//! next log segment and frees the old ones, so that the appending thread neither
//! waits on the kernel zero-filling new file pages nor on it unmapping and freeing
//! deleted ones.
//!
//! One thread per store, started the first time it has work (a store whose first
//! segment never gets half full never starts one) and stopped and joined when the
//! store closes or resets. The appender talks to it through two channels and never
//! blocks on it: when no prepared segment is ready at roll time the appender
//! creates the segment itself, exactly as without the thread, and the late one
//! serves the roll after (a prepared segment's bytes do not depend on its number).
//! At most one preparation is outstanding. Nothing the store reads or recovers
//! depends on the thread having done anything.
//!
//! A prepared segment is written under a temporary name (see [`prepared_name`]),
//! which recovery removes on open and never reads as a segment: a segment header
//! and zeros up to the full segment size, written with `write` (allocated, so a
//! full disk fails here rather than as SIGBUS later), fsync'd when the sync policy
//! asks for durability, then mapped, with one byte of every page written through
//! the map so the appender takes no first-touch page faults.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use memmap2::MmapMut;

use super::file::PAGE;
use super::layout;
use crate::mmap::ZEROS;
use crate::mmap::map;

/// The temporary name a prepared segment `number` has until the roll renames it
/// to its segment name. It ends in `.tmp`, which recovery removes on open.
pub(super) fn prepared_name(number: u32) -> String {
    format!("{number:010}{PREPARED_SUFFIX}")
}

/// How the name of a prepared segment ends.
pub(super) const PREPARED_SUFFIX: &str = ".prealloc.tmp";

/// A segment file made ready by the thread: header, zeros to the full length,
/// mapped and its pages touched. Still under its temporary name.
pub(super) struct Prepared {
    /// Its temporary path.
    pub(super) tmp: PathBuf,
    pub(super) file: File,
    pub(super) map: MmapMut,
}

/// A preparation that failed (disk full, say): its file is already removed.
pub(super) struct Failed {
    number: u32,
    path: PathBuf,
    error: io::Error,
}

enum Job {
    /// Prepare a segment at `tmp`, `len` bytes, fsync'd if `sync`; `number` is
    /// the segment it is meant for, for the log.
    Prepare {
        number: u32,
        tmp: PathBuf,
        len: u64,
        sync: bool,
    },
    /// Unmap a deleted segment (its last reference: the kernel frees its pages).
    Release(MmapMut),
}

/// The handle the store keeps on its background thread. Dropping it stops the
/// thread (a preparation in progress is cut short and its file removed), joins
/// it, and removes every prepared segment not taken.
pub(super) struct Preallocator {
    jobs: Option<Sender<Job>>,
    done: Receiver<Result<Prepared, Failed>>,
    /// Taken off `done` but not yet asked for (tests wait for a segment this way).
    staged: Option<Result<Prepared, Failed>>,
    /// Preparations asked for whose result has not been taken off `done`.
    pending: usize,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Held by a test to keep the thread from starting a preparation.
    #[cfg(test)]
    pub(super) gate: Arc<std::sync::Mutex<()>>,
}

impl Preallocator {
    /// Starts the thread.
    pub(super) fn spawn() -> io::Result<Self> {
        let (jobs, jobs_rx) = crossbeam_channel::unbounded();
        let (done_tx, done) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        #[cfg(test)]
        let gate = Arc::new(std::sync::Mutex::new(()));
        let worker = Worker {
            stop: Arc::clone(&stop),
            done: done_tx,
            #[cfg(test)]
            gate: Arc::clone(&gate),
        };
        let thread = thread::Builder::new()
            .name("fixengine-store".into())
            .spawn(move || worker.run(&jobs_rx))?;
        Ok(Self {
            jobs: Some(jobs),
            done,
            staged: None,
            pending: 0,
            stop,
            thread: Some(thread),
            #[cfg(test)]
            gate,
        })
    }

    /// True when a preparation is in progress or ready, not yet taken.
    pub(super) fn busy(&self) -> bool {
        self.pending > 0 || self.staged.is_some()
    }

    /// Asks for a segment at `tmp`, `len` bytes long, for segment `number` (or a
    /// later one). Nothing comes when the thread is gone (it panicked).
    pub(super) fn prepare(&mut self, number: u32, tmp: PathBuf, len: u64, sync: bool) {
        if self.send(Job::Prepare {
            number,
            tmp,
            len,
            sync,
        }) {
            self.pending += 1;
        }
    }

    /// Unmaps `map` on the thread (here, if the thread is gone).
    pub(super) fn release(&self, map: MmapMut) {
        self.send(Job::Release(map));
    }

    /// Takes a prepared segment if one is ready, logging preparations that
    /// failed. Never blocks. A segment prepared for a number the roll has since
    /// created itself serves as the next one: its bytes do not depend on it.
    pub(super) fn take(&mut self) -> Option<Prepared> {
        loop {
            let next = match self.staged.take() {
                Some(r) => r,
                None => {
                    let r = self.done.try_recv().ok()?;
                    self.pending = self.pending.saturating_sub(1);
                    r
                }
            };
            match next {
                Ok(p) => return Some(p),
                Err(f) => log::warn!(
                    "{}: preparing segment {} in the background failed ({}); it is created at the roll instead",
                    f.path.display(),
                    f.number,
                    f.error
                ),
            }
        }
    }

    /// Waits up to `timeout` for the next preparation to finish, keeping it for
    /// [`take`](Self::take). True when one did.
    #[cfg(test)]
    pub(super) fn wait(&mut self, timeout: std::time::Duration) -> bool {
        if self.staged.is_none() {
            self.staged = self.done.recv_timeout(timeout).ok();
            if self.staged.is_some() {
                self.pending = self.pending.saturating_sub(1);
            }
        }
        self.staged.is_some()
    }

    /// The stop flag, whose other owner is the thread: a test sees the thread
    /// gone when it holds the only reference.
    #[cfg(test)]
    pub(super) fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Sends `job`, or does it here when the thread is gone. False in that case.
    fn send(&self, job: Job) -> bool {
        let Some(jobs) = &self.jobs else {
            run_inline(job);
            return false;
        };
        match jobs.send(job) {
            Ok(()) => true,
            Err(crossbeam_channel::SendError(job)) => {
                run_inline(job);
                false
            }
        }
    }
}

impl Drop for Preallocator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Closing the channel ends the thread's loop once it has done what is
        // queued: unmaps run, preparations are skipped.
        self.jobs = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::warn!("the store's background thread panicked");
        }
        let leftovers = self.staged.take().into_iter().chain(self.done.try_iter());
        for p in leftovers.flatten() {
            discard(p);
        }
    }
}

/// Does a job on the calling thread, when the background thread is gone.
fn run_inline(job: Job) {
    match job {
        // Nobody will take it: the roll creates the segment itself.
        Job::Prepare { .. } => {}
        Job::Release(map) => drop(map),
    }
}

fn discard(p: Prepared) {
    let Prepared { tmp, map, file, .. } = p;
    drop(map);
    drop(file);
    if let Err(e) = fs::remove_file(&tmp) {
        log::warn!("{}: cannot remove an unused segment: {e}", tmp.display());
    }
}

/// The thread's side.
struct Worker {
    stop: Arc<AtomicBool>,
    done: Sender<Result<Prepared, Failed>>,
    #[cfg(test)]
    gate: Arc<std::sync::Mutex<()>>,
}

impl Worker {
    fn run(self, jobs: &Receiver<Job>) {
        for job in jobs {
            match job {
                Job::Prepare {
                    number,
                    tmp,
                    len,
                    sync,
                } => {
                    #[cfg(test)]
                    let _gate = self
                        .gate
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if self.stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let result = self.prepare(number, tmp, len, sync);
                    if let Err(crossbeam_channel::SendError(Ok(p))) = self.done.send(result) {
                        discard(p);
                    }
                }
                Job::Release(map) => drop(map),
            }
        }
    }

    /// An error once the store is closing, to cut a preparation short.
    fn check_stop(&self) -> io::Result<()> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "the store is closing",
            ));
        }
        Ok(())
    }

    fn prepare(&self, number: u32, tmp: PathBuf, len: u64, sync: bool) -> Result<Prepared, Failed> {
        let build = || -> io::Result<(File, MmapMut)> {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            file.write_all_at(&layout::segment_header(), 0)?;
            let mut at = layout::SEGMENT_HEADER_LEN as u64;
            while at < len {
                self.check_stop()?;
                let n = (len - at).min(ZEROS.len() as u64) as usize;
                file.write_all_at(&ZEROS[..n], at)?;
                at += n as u64;
            }
            self.check_stop()?;
            if sync {
                file.sync_all()?;
            }
            let mut map = map(&file)?;
            // One store per page (its last byte, never part of the segment
            // header): the page is mapped writable here, not on the appender's
            // first store into it.
            for at in (PAGE - 1..map.len()).step_by(PAGE) {
                map[at] = 0;
            }
            Ok((file, map))
        };
        match build() {
            Ok((file, map)) => Ok(Prepared { tmp, file, map }),
            Err(error) => {
                let _ = fs::remove_file(&tmp);
                Err(Failed {
                    number,
                    path: tmp,
                    error,
                })
            }
        }
    }
}
