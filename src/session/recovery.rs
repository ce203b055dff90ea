//! Recovering from a gap in the inbound sequence: our ResendRequest, and the
//! messages held behind the gap until it fills.

use std::time::Instant;

use super::{Handler, SessionEvent, SessionMachine};
use crate::codec::{Decoder, msg_type, tags};
use crate::store::{MessageStore, StoreError};

impl<S: MessageStore> SessionMachine<S> {
    pub(super) fn drain_queue<H: Handler>(
        &mut self,
        now: Instant,
        decoder: &mut Decoder,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        while !self.wants_close() {
            let expected = self.store.next_target_seq();
            let Some(entry) = self.queue.first_entry() else {
                break;
            };
            let seq = *entry.key();
            if seq > expected {
                break;
            }
            let frame = entry.remove();
            if let Some(frame) = &frame {
                self.queued_bytes -= frame.len();
            }
            if seq < expected {
                // A SequenceReset (the counterparty's answer to our ResendRequest)
                // moved the expected number past it: the counterparty covered this
                // number, so what was queued under it is not processed again.
                continue;
            }
            match frame {
                Some(frame) => self.process(now, &frame, decoder, handler)?,
                None => self.advance_inbound(seq)?,
            }
        }
        Ok(())
    }

    pub(super) fn request_resend(
        &mut self,
        now: Instant,
        expected: u64,
        received: u64,
    ) -> Result<(), StoreError> {
        self.resend_requested_to = Some(received - 1);
        // "To the end": 0 from FIX.4.2 on, 999999 before.
        let end = if self.version.uses_999999_as_infinity() {
            999_999
        } else {
            0
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
        self.queue.clear();
        self.queued_bytes = 0;
        self.resend_requested_to = None;
        Ok(())
    }
}
