//! Puts on their way to the state machine: sent at once, or, with
//! PutWhileDisconnected = queue, held unnumbered on the session's thread until
//! the next Logon exchange is done, their MessageTimeToLive passes, or the
//! session ends.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{HIGH_WATER, PUTS_PER_TURN, Worker};
use crate::codec::Message;
use crate::config::{PutWhileDisconnected, SessionConfig};
use crate::engine::Application;
use crate::session::{SendError, State};
use crate::store::MessageStore;

/// The messages waiting for a Logon, oldest first, with when each was taken.
/// Each keeps its place in the put queue's capacity until it leaves.
#[derive(Debug, Default)]
pub(super) struct Held {
    /// Holding at all (PutWhileDisconnected = queue).
    enabled: bool,
    /// MessageTimeToLive; `None` waits as long as the session lives.
    ttl: Option<Duration>,
    waiting: VecDeque<(Instant, Message)>,
}

impl Held {
    pub(super) fn new(config: &SessionConfig) -> Self {
        let ttl = config.message_time_to_live();
        Self {
            enabled: config.put_while_disconnected() == PutWhileDisconnected::Queue,
            ttl: (!ttl.is_zero()).then_some(ttl),
            waiting: VecDeque::new(),
        }
    }

    /// When the oldest held message expires, if one can.
    pub(super) fn next_expiry(&self) -> Option<Instant> {
        let ttl = self.ttl?;
        self.waiting.front().map(|(taken, _)| *taken + ttl)
    }
}

impl<A: Application, S: MessageStore> Worker<A, S> {
    /// Puts go to the machine now: always with PutWhileDisconnected = store,
    /// and with queue once a counterparty is logged on and no Logout started.
    fn sending_puts(&self) -> bool {
        !self.held.enabled
            || (self.machine.state() == State::Established && !self.logging_out_to_end)
    }

    /// Held messages ready to go out.
    pub(super) fn held_to_send(&self) -> bool {
        !self.held.waiting.is_empty() && self.sending_puts()
    }

    /// Sends queued puts (the held ones first, in put order), a bounded number
    /// per turn and only below the high-water mark: beyond it they wait in the
    /// queue, and a full queue is the application's signal to slow down. While
    /// puts are held, takes them all into the held list instead.
    pub(super) fn take_puts(&mut self, now: Instant) {
        if !self.sending_puts() {
            // At most the queue's capacity: held messages keep their places.
            while let Some(message) = self.shared.puts.take_to_hold() {
                self.held.waiting.push_back((now, message));
            }
            return;
        }
        for _ in 0..PUTS_PER_TURN {
            if self.outbox.backlog() >= HIGH_WATER {
                return;
            }
            let message = if let Some((_, message)) = self.held.waiting.pop_front() {
                self.shared.puts.release();
                message
            } else if let Some(message) = self.shared.puts.take() {
                message
            } else {
                return;
            };
            self.put(now, message);
            // Moved out now so the high-water mark sees it; written once per turn,
            // all the puts of one wake-up in one write.
            self.transfer();
        }
    }

    /// Hands back the held messages whose MessageTimeToLive has passed.
    pub(super) fn expire_held(&mut self, now: Instant) {
        while let Some(expiry) = self.held.next_expiry()
            && expiry <= now
        {
            let Some((taken, message)) = self.held.waiting.pop_front() else {
                return;
            };
            self.shared.puts.release();
            let waited = now.duration_since(taken);
            log::info!(
                "session {}: a queued message expired after {waited:?} without a Logon",
                self.shared.id
            );
            self.app
                .on_send_failed(message, SendError::Expired { waited });
        }
    }

    /// The session ends: what is held, and with PutWhileDisconnected = queue what
    /// was still queued, goes back to the application (it was never numbered);
    /// with store, the queued messages are stored for a later run.
    pub(super) fn settle_puts(&mut self, now: Instant) {
        for (_, message) in std::mem::take(&mut self.held.waiting) {
            self.shared.puts.release();
            self.app.on_send_failed(message, SendError::SessionEnded);
        }
        let queue = self.held.enabled;
        let shared = std::sync::Arc::clone(&self.shared);
        for message in shared.puts.drain() {
            if queue {
                self.app.on_send_failed(message, SendError::SessionEnded);
            } else if let Err(e) = self.machine.send(now, &message) {
                self.app.on_send_failed(message, e);
            }
        }
    }
}
