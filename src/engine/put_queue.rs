//! The put protocol in one place: application threads put messages for a
//! session's worker, the worker takes them, sleeps when there is nothing to do,
//! and stores what is left when the session ends. No put is lost on the way and
//! no lock is taken.
//!
//! Three counters carry it:
//! - `queued` bounds the queue ([`PUT_QUEUE_CAPACITY`]). The channel underneath
//!   is unbounded because a bounded crossbeam channel allocates all its slots up
//!   front: for a thousand mostly idle sessions, hundreds of megabytes nobody uses.
//! - `putters` counts puts between their check that the session is alive and
//!   their send: the worker waits for them before its last drain, so a put that
//!   saw the session alive is never lost to its end.
//! - `parked` says the worker is (about to be) asleep in its poller, and a put must
//!   wake it. While it is awake it sees the put anyway, and the wake-up system
//!   call is saved. The worker announces the park before its last look at the
//!   queue and a put publishes its message before it reads the flag, both
//!   sequentially consistent: one of the two always sees the other.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

use crossbeam_channel::{Receiver, Sender};

use crate::codec::Message;

/// Messages a session's queue holds before [`Session::put`](super::Session::put)
/// reports it full.
pub const PUT_QUEUE_CAPACITY: usize = 8192;

/// The queue of one session's puts, shared by its handles and its worker.
#[derive(Debug)]
pub(crate) struct PutQueue {
    tx: Sender<Message>,
    rx: Receiver<Message>,
    queued: AtomicUsize,
    putters: AtomicUsize,
    parked: AtomicBool,
}

/// Why a put was not queued; the message comes back.
#[derive(Debug)]
pub(crate) enum Refused {
    /// [`PUT_QUEUE_CAPACITY`] messages wait already.
    Full(Message),
    /// The session has ended.
    Ended(Message),
}

impl PutQueue {
    pub(crate) fn new() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Self {
            tx,
            rx,
            queued: AtomicUsize::new(0),
            putters: AtomicUsize::new(0),
            parked: AtomicBool::new(true),
        }
    }

    /// From any thread: queues `message` unless the session has `ended`. Ok(true)
    /// when the worker is asleep and must be woken.
    pub(crate) fn put(&self, message: Message, ended: &AtomicBool) -> Result<bool, Refused> {
        // Announced before the check: the worker waits for announced puts before its
        // last drain of the queue.
        self.putters.fetch_add(1, Ordering::SeqCst);
        let result = if ended.load(Ordering::SeqCst) {
            Err(Refused::Ended(message))
        } else if self.queued.fetch_add(1, Ordering::AcqRel) >= PUT_QUEUE_CAPACITY {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            Err(Refused::Full(message))
        } else {
            self.tx.send(message).map_err(|e| {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                Refused::Ended(e.into_inner())
            })
        };
        self.putters.fetch_sub(1, Ordering::SeqCst);
        result?;
        // Pairs with the fence in `park`.
        fence(Ordering::SeqCst);
        Ok(self.parked.load(Ordering::SeqCst))
    }

    /// The worker: the next message put, if any.
    pub(crate) fn take(&self) -> Option<Message> {
        let message = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        Some(message)
    }

    /// The worker: the next message put, to be held on the worker's side (for a
    /// Logon) while it keeps its place in the queue's capacity, so that held
    /// messages bound puts as queued ones do. [`PutQueue::release`] gives the
    /// place back.
    pub(crate) fn take_to_hold(&self) -> Option<Message> {
        self.rx.try_recv().ok()
    }

    /// The worker: a message [`PutQueue::take_to_hold`] took has left (sent,
    /// expired or handed back).
    pub(crate) fn release(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The worker is about to sleep: a put from now on wakes it. Then it looks at
    /// the queue a last time ([`PutQueue::is_empty`]).
    pub(crate) fn park(&self) {
        self.parked.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// The worker is awake: puts need not wake it.
    pub(crate) fn unpark(&self) {
        self.parked.store(false, Ordering::SeqCst);
    }

    /// The worker, once the session has ended: waits for the puts that saw it
    /// alive, then takes what is left. Nothing more can arrive after that.
    pub(crate) fn drain(&self) -> impl Iterator<Item = Message> + '_ {
        while self.putters.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        }
        std::iter::from_fn(|| self.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: u64) -> Message {
        Message::new("D").with(11, n)
    }

    #[test]
    fn puts_wake_a_parked_worker_only() {
        let q = PutQueue::new();
        let alive = AtomicBool::new(false);
        // A new worker counts as parked until its loop runs.
        assert!(matches!(q.put(message(1), &alive), Ok(true)));
        q.unpark();
        assert!(matches!(q.put(message(2), &alive), Ok(false)));
        q.park();
        assert!(!q.is_empty(), "the last look before sleeping sees the puts");
        assert!(matches!(q.put(message(3), &alive), Ok(true)));
        let taken: Vec<_> = std::iter::from_fn(|| q.take()).collect();
        assert_eq!(taken.len(), 3);
        assert!(q.is_empty());
    }

    #[test]
    fn held_messages_keep_their_place_until_released() {
        let q = PutQueue::new();
        let alive = AtomicBool::new(false);
        for n in 0..PUT_QUEUE_CAPACITY as u64 {
            assert!(q.put(message(n), &alive).is_ok());
        }
        let held: Vec<_> = std::iter::from_fn(|| q.take_to_hold()).collect();
        assert_eq!(held.len(), PUT_QUEUE_CAPACITY);
        assert!(q.is_empty());
        assert!(
            matches!(q.put(message(99), &alive), Err(Refused::Full(_))),
            "held messages still count"
        );
        q.release();
        assert!(
            q.put(message(100), &alive).is_ok(),
            "a released place is free"
        );
    }

    #[test]
    fn a_full_queue_hands_the_message_back_and_makes_room_as_it_drains() {
        let q = PutQueue::new();
        let alive = AtomicBool::new(false);
        for n in 0..PUT_QUEUE_CAPACITY as u64 {
            assert!(q.put(message(n), &alive).is_ok());
        }
        let Err(Refused::Full(back)) = q.put(message(99), &alive) else {
            panic!("the queue took more than its capacity");
        };
        assert_eq!(back.get_str(11), Ok("99"));
        assert!(q.take().is_some());
        assert!(q.put(message(100), &alive).is_ok());
    }

    #[test]
    fn an_ended_session_takes_nothing_and_the_drain_returns_what_was_put() {
        let q = PutQueue::new();
        let ended = AtomicBool::new(false);
        q.put(message(1), &ended).unwrap();
        ended.store(true, Ordering::SeqCst);
        let Err(Refused::Ended(back)) = q.put(message(2), &ended) else {
            panic!("a put after the end was taken");
        };
        assert_eq!(back.get_str(11), Ok("2"));
        assert_eq!(q.drain().count(), 1);
    }

    /// Many threads put while the session ends: every put is either refused or
    /// found by the drain.
    #[test]
    fn no_put_is_lost_to_the_end() {
        for _ in 0..20 {
            let q = std::sync::Arc::new(PutQueue::new());
            let ended = std::sync::Arc::new(AtomicBool::new(false));
            let threads: Vec<_> = (0..4)
                .map(|t| {
                    let (q, ended) = (q.clone(), ended.clone());
                    std::thread::spawn(move || {
                        (0..500)
                            .filter(|n| q.put(message(t * 1000 + n), &ended).is_ok())
                            .count()
                    })
                })
                .collect();
            std::thread::yield_now();
            ended.store(true, Ordering::SeqCst);
            // The threads may still be putting: the drain waits for those that saw
            // the session alive.
            let taken = q.drain().count();
            let accepted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(taken, accepted);
            assert!(q.is_empty(), "a put arrived after the drain");
        }
    }
}
