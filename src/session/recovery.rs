//! Recovering from a gap in the inbound sequence: our ResendRequest, and the
//! messages held behind the gap until it fills.
//!
//! A message that arrives ahead of the expected number waits here, by MsgSeqNum,
//! and is processed once the numbers before it are filled in. A SequenceReset that
//! moves the expected number past a waiting message covers it: it is dropped, not
//! processed as too low.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Handler, MAX_QUEUED, MAX_QUEUED_BYTES, SessionEvent, SessionMachine};
use crate::codec::{Decoder, msg_type, tags};
use crate::store::{MessageStore, StoreError};

/// The state of a recovery: everything that goes when the session starts over.
#[derive(Debug, Default)]
pub(super) struct Recovery {
    /// Our outstanding ResendRequest: inbound messages up to this number are being
    /// resent.
    requested_to: Option<u64>,
    /// Asking in chunks (ResendRequestChunkSize): the last number of the gap still
    /// to ask for once the outstanding chunk is filled.
    gap_end: Option<u64>,
    /// Messages received ahead of the gap, by MsgSeqNum (`None`: already acted on,
    /// only its number remains to be consumed).
    queue: BTreeMap<u64, Option<Vec<u8>>>,
    /// The bytes of the frames in `queue`.
    queued_bytes: usize,
}

impl Recovery {
    /// Forgets the gap: a new transport, or a new FIX session.
    pub(super) fn clear(&mut self) {
        self.requested_to = None;
        self.gap_end = None;
        self.queue.clear();
        self.queued_bytes = 0;
    }

    /// A ResendRequest of ours is outstanding.
    pub(super) fn is_requested(&self) -> bool {
        self.requested_to.is_some()
    }

    /// Our ResendRequest asks for everything up to `to`.
    pub(super) fn requested(&mut self, to: u64) {
        self.requested_to = Some(to);
    }

    /// The message numbered `seq` was processed.
    pub(super) fn processed(&mut self, seq: u64) {
        if self.requested_to.is_some_and(|to| seq >= to) {
            self.requested_to = None;
        }
    }

    /// A SequenceReset moved the next number expected to `next`.
    pub(super) fn moved_to(&mut self, next: u64) {
        if self.requested_to.is_some_and(|to| next > to) {
            self.requested_to = None;
        }
    }

    /// Asking in chunks: the first number of the next chunk, once the outstanding
    /// one is filled (or moved past by a GapFill) and the gap goes on beyond it.
    pub(super) fn next_chunk(&mut self, expected: u64) -> Option<u64> {
        let end = self.gap_end?;
        if self.requested_to.is_some() {
            return None;
        }
        if expected > end {
            self.gap_end = None;
            return None;
        }
        Some(expected)
    }

    /// Whether a frame of `len` bytes can still be held.
    pub(super) fn has_room(&self, len: usize) -> bool {
        self.queue.len() < MAX_QUEUED && self.queued_bytes + len <= MAX_QUEUED_BYTES
    }

    /// Holds `seq` until its turn: its frame, or only its number (`None`) when it
    /// was already acted on.
    pub(super) fn hold(&mut self, seq: u64, frame: Option<&[u8]>) {
        let frame = frame.map(<[u8]>::to_vec);
        self.queued_bytes += frame.as_ref().map_or(0, Vec::len);
        if let Some(Some(old)) = self.queue.insert(seq, frame) {
            self.queued_bytes -= old.len();
        }
    }

    /// The held message numbered `expected`, if any; those below it were covered by
    /// a SequenceReset and are dropped on the way.
    fn take(&mut self, expected: u64) -> Option<(u64, Option<Vec<u8>>)> {
        while let Some(entry) = self.queue.first_entry() {
            let seq = *entry.key();
            if seq > expected {
                return None;
            }
            let frame = entry.remove();
            if let Some(frame) = &frame {
                self.queued_bytes -= frame.len();
            }
            if seq == expected {
                return Some((seq, frame));
            }
        }
        None
    }
}

impl<S: MessageStore> SessionMachine<S> {
    /// Processes the held messages that are now next in line.
    pub(super) fn drain_queue<H: Handler>(
        &mut self,
        now: Instant,
        decoder: &mut Decoder,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        while !self.wants_close() {
            let Some((seq, frame)) = self.recovery.take(self.store.next_target_seq()) else {
                break;
            };
            match frame {
                Some(frame) => self.process(now, &frame, decoder, handler)?,
                None => self.advance_inbound(seq)?,
            }
        }
        Ok(())
    }

    /// Asks for everything from `expected` on, having received `received`: to the
    /// end at once, or in chunks of ResendRequestChunkSize (QuickFIX/J's way: each
    /// chunk names its last number, and the one that reaches the gap's end asks
    /// to the end).
    pub(super) fn request_resend(
        &mut self,
        now: Instant,
        expected: u64,
        received: u64,
    ) -> Result<(), StoreError> {
        self.request_from(now, expected, received - 1)
    }

    /// Asks for the next chunk of a gap asked for in chunks, when one is due.
    pub(super) fn request_next_chunk(&mut self, now: Instant) -> Result<(), StoreError> {
        if self.wants_close() {
            // The Logout exchange is over (a Logout in the gap filled the chunk):
            // nothing follows our last Logout.
            return Ok(());
        }
        match (
            self.recovery.gap_end,
            self.recovery.next_chunk(self.store.next_target_seq()),
        ) {
            (Some(gap_end), Some(begin)) => self.request_from(now, begin, gap_end),
            _ => Ok(()),
        }
    }

    /// One ResendRequest from `begin`, for a gap known to end at `gap_end`.
    fn request_from(&mut self, now: Instant, begin: u64, gap_end: u64) -> Result<(), StoreError> {
        let expected = begin;
        let chunk = self.config.resend_request_chunk_size();
        let chunk_end = (chunk > 0)
            .then(|| begin.saturating_add(chunk - 1))
            .filter(|&end| end < gap_end);
        self.recovery.requested(chunk_end.unwrap_or(gap_end));
        self.recovery.gap_end = chunk_end.map(|_| gap_end);
        // "To the end": 0 from FIX.4.2 on, 999999 before.
        let end = match chunk_end {
            Some(end) => end,
            None if self.version.uses_999999_as_infinity() => 999_999,
            None => 0,
        };
        self.send_admin(now, msg_type::RESEND_REQUEST, |e| {
            e.uint(tags::BEGIN_SEQ_NO, expected)
                .uint(tags::END_SEQ_NO, end);
        })?;
        self.tell(SessionEvent::ResendRequestSent {
            begin: expected,
            end,
        });
        Ok(())
    }

    /// Starts a new FIX session: both numbers back to 1, store emptied, and nothing
    /// left over from the old one (a resend in progress, messages held behind a gap,
    /// an outstanding ResendRequest).
    pub(super) fn reset_sequence(&mut self) -> Result<(), StoreError> {
        self.store.reset()?;
        self.serving = None;
        self.recovery.clear();
        Ok(())
    }
}
