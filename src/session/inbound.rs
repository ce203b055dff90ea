//! Every message after the Logon: header checks, sequence checks, PossDup, and
//! dispatch by MsgType.

use std::time::Instant;

use super::{
    Handler, MAX_QUEUED, MAX_QUEUED_BYTES, Reply, SessionEvent, SessionMachine, State, reasons,
};
use crate::codec::{Decoder, FieldError, Fields, MessageView, RejectReason, msg_type, tags};
use crate::dictionary::{Validation, Violation};
use crate::id::SeqNum;
use crate::store::{MessageStore, StoreError};

impl<S: MessageStore> SessionMachine<S> {
    pub(super) fn process<H: Handler>(
        &mut self,
        now: Instant,
        frame: &[u8],
        decoder: &mut Decoder,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        let view = match decoder.decode(frame) {
            Ok(v) => v,
            Err(e) => {
                self.tell(SessionEvent::Garbled {
                    error: e.to_string(),
                });
                return Ok(());
            }
        };
        match self.state {
            State::WaitForLogon => self.on_first_message(now, &view, handler),
            State::Established | State::WaitForLogout => self.on_message(now, &view, handler),
            State::Disconnected => Ok(()),
        }
    }

    /// Every message after the Logon.
    pub(super) fn on_message<H: Handler>(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        let mt = view.msg_type();
        if view.begin_string() != self.version.begin_string().as_bytes() {
            self.send_logout(now, Some(reasons::INCORRECT_BEGIN_STRING))?;
            self.await_logout_or_close(now);
            return Ok(());
        }
        let Ok(seq) = view.msg_seq_num().map(SeqNum::get) else {
            // A SequenceReset-Reset ignores its own MsgSeqNum (which may be 0).
            if mt == msg_type::SEQUENCE_RESET && !is_gap_fill(view) {
                return self.on_sequence_reset(now, view, 0);
            }
            self.reject(
                now,
                view,
                0,
                RejectReason::RequiredTagMissing,
                Some(tags::MSG_SEQ_NUM),
            )?;
            return Ok(());
        };
        // Every path below may record seq + 1 as the next number expected.
        if seq == u64::MAX {
            self.send_logout(now, Some(reasons::SEQ_NUM_EXHAUSTED))?;
            self.await_logout_or_close(now);
            return Ok(());
        }
        // The standard header's required fields, before anything reads them.
        for tag in [
            tags::SENDER_COMP_ID,
            tags::TARGET_COMP_ID,
            tags::SENDING_TIME,
        ] {
            let reason = match view.get(tag) {
                None => RejectReason::RequiredTagMissing,
                Some([]) => RejectReason::TagSpecifiedWithoutValue,
                Some(_) => continue,
            };
            self.reject(now, view, seq, reason, Some(tag))?;
            return self.advance_inbound(seq);
        }
        if self.config.check_sending_time() && !self.sending_time_ok(view) {
            self.reject_and_logout(now, view, seq, RejectReason::SendingTimeAccuracyProblem)?;
            return Ok(());
        }
        if self.config.validate_comp_ids()
            && (view.sender_comp_id() != Some(self.id.target().as_bytes())
                || view.target_comp_id() != Some(self.id.sender().as_bytes()))
        {
            self.reject_and_logout(now, view, seq, RejectReason::CompIdProblem)?;
            return Ok(());
        }
        let expected = self.store.next_target_seq();

        // SequenceReset-Reset ignores MsgSeqNum altogether.
        if mt == msg_type::SEQUENCE_RESET && !is_gap_fill(view) {
            return self.on_sequence_reset(now, view, seq);
        }
        // A Logon with ResetSeqNumFlag=Y on a live session starts the FIX session over.
        if mt == msg_type::LOGON && view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true) {
            return self.on_reset_logon(now, view, seq);
        }
        // Like QuickFIX, a Logout or a ResendRequest is acted on whatever its number:
        // answering either is harmless, and refusing a Logout helps nobody.
        if mt == msg_type::LOGOUT && seq != expected {
            return self.on_logout(now, view);
        }
        if mt == msg_type::RESEND_REQUEST && seq < expected && !view.is_poss_dup() {
            return self.on_resend_request(now, view, seq);
        }
        if seq > expected {
            let mut served = false;
            if mt == msg_type::RESEND_REQUEST {
                // Serve the counterparty first, then ask for our gap (test case 20).
                self.on_resend_request(now, view, seq)?;
                served = true;
            }
            if self.queue.len() >= MAX_QUEUED
                || self.queued_bytes + view.frame().len() > MAX_QUEUED_BYTES
            {
                if self.state == State::WaitForLogout {
                    // Already logging out: one Logout is enough, the rest is dropped.
                    return Ok(());
                }
                self.send_logout(now, Some("too many messages queued behind a sequence gap"))?;
                self.await_logout_or_close(now);
                return Ok(());
            }
            // A served ResendRequest keeps its place in the sequence, not its frame.
            if !served {
                self.queued_bytes += view.frame().len();
            }
            if let Some(Some(old)) = self
                .queue
                .insert(seq, (!served).then(|| view.frame().to_vec()))
            {
                self.queued_bytes -= old.len();
            }
            // Our ResendRequests run to the end (EndSeqNo 0), so one outstanding
            // request covers every later gap: never ask twice.
            if self.resend_requested_to.is_none() {
                self.request_resend(now, expected, seq)?;
            }
            return Ok(());
        }
        if seq < expected {
            return self.on_seq_too_low(now, view, seq, expected);
        }

        // In sequence. PossDup messages in sequence must still carry a sane OrigSendingTime.
        if view.is_poss_dup() && !self.poss_dup_ok(now, view, seq)? {
            return Ok(());
        }
        if let Some(violation) = self.validate(view) {
            self.reject_raw(now, view, seq, violation.reason, violation.tag.as_deref())?;
            return self.advance_inbound(seq);
        }
        match mt {
            msg_type::HEARTBEAT => {
                if view.get(tags::TEST_REQ_ID) == Some(reasons::TEST_REQ_ID.as_bytes()) {
                    self.test_request_sent = None;
                }
                self.advance_inbound(seq)
            }
            msg_type::TEST_REQUEST => {
                // TestReqID is required: without it there is nothing to echo.
                let Some(id) = view.get(tags::TEST_REQ_ID).map(<[u8]>::to_vec) else {
                    self.reject(
                        now,
                        view,
                        seq,
                        RejectReason::RequiredTagMissing,
                        Some(tags::TEST_REQ_ID),
                    )?;
                    return self.advance_inbound(seq);
                };
                self.advance_inbound(seq)?;
                self.send_admin(now, msg_type::HEARTBEAT, |e| {
                    e.bytes(tags::TEST_REQ_ID, &id);
                })
            }
            msg_type::RESEND_REQUEST => {
                self.on_resend_request(now, view, seq)?;
                self.advance_inbound(seq)
            }
            msg_type::REJECT => {
                self.tell(SessionEvent::RejectReceived {
                    ref_seq_num: view.get_u64(tags::REF_SEQ_NUM).ok(),
                    text: view.get_str(tags::TEXT).ok().map(str::to_owned),
                });
                self.advance_inbound(seq)
            }
            msg_type::SEQUENCE_RESET => self.on_sequence_reset(now, view, seq),
            msg_type::LOGOUT => {
                self.advance_inbound(seq)?;
                self.on_logout(now, view)
            }
            msg_type::LOGON => {
                // A second Logon on an established session is a protocol error.
                self.advance_inbound(seq)?;
                self.send_logout(now, Some("Logon received on an established session"))?;
                self.await_logout_or_close(now);
                Ok(())
            }
            _ => {
                // What the session produced before this message reaches the
                // application before it.
                self.notify(handler);
                let mut reply = Reply { machine: self, now };
                handler.on_message(view, &mut reply);
                // The inbound number moves only once the application has processed it.
                self.advance_inbound(seq)
            }
        }
    }

    /// What is wrong with an in-sequence message, if anything: against the data
    /// dictionary when there is one, else the decoder's own findings (invalid tag
    /// numbers, empty values).
    pub(super) fn validate(&self, view: &MessageView<'_>) -> Option<Violation> {
        if let Some(FieldError::EmbeddedSoh { tag }) = view.problem() {
            return Some(Violation {
                reason: RejectReason::NonDataValueIncludesFieldDelimiter,
                tag: Some(tag.to_string().into_bytes()),
            });
        }
        if let Some(dictionary) = &self.dictionary {
            // A check runs when both the session configuration and the Validation
            // given with the dictionary ask for it.
            let v = self.validation;
            let c = &self.config;
            let checks = Validation {
                fields_have_values: v.fields_have_values && c.validate_fields_have_values(),
                fields_out_of_order: v.fields_out_of_order && c.validate_fields_out_of_order(),
                field_values: v.field_values && c.validate_field_values(),
                unknown_fields: v.unknown_fields && c.validate_unknown_fields(),
                required_fields: v.required_fields && c.validate_required_fields(),
            };
            return dictionary
                .validate(self.app_dictionary.as_deref(), view, checks)
                .err();
        }
        match view.problem()? {
            FieldError::InvalidTagNumber { found } => Some(Violation {
                reason: RejectReason::InvalidTagNumber,
                // A field with no tag at all ("=x") is reported as tag 0: an empty
                // RefTagID would itself be a malformed field.
                tag: Some(if found.as_bytes().is_empty() {
                    b"0".to_vec()
                } else {
                    found.as_bytes().to_vec()
                }),
            }),
            FieldError::Empty { tag } if self.config.validate_fields_have_values() => {
                Some(Violation {
                    reason: RejectReason::TagSpecifiedWithoutValue,
                    tag: Some(tag.to_string().into_bytes()),
                })
            }
            _ => None,
        }
    }

    pub(super) fn on_seq_too_low(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        expected: u64,
    ) -> Result<(), StoreError> {
        if !view.is_poss_dup() {
            self.send_logout(now, Some(&reasons::seq_too_low(expected, seq)))?;
            self.close("MsgSeqNum too low without PossDupFlag");
            return Ok(());
        }
        // A possible duplicate of something already processed: check it, then ignore it.
        self.poss_dup_ok(now, view, seq)?;
        Ok(())
    }

    /// PossDupFlag=Y needs OrigSendingTime(122) no later than SendingTime(52).
    /// Returns false (after rejecting) when it does not.
    pub(super) fn poss_dup_ok(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
    ) -> Result<bool, StoreError> {
        // SequenceReset-GapFill is often sent without OrigSendingTime; accept it.
        if view.msg_type() == msg_type::SEQUENCE_RESET {
            return Ok(true);
        }
        match view.get_timestamp(tags::ORIG_SENDING_TIME) {
            Err(FieldError::Missing { .. }) => {
                self.reject(
                    now,
                    view,
                    seq,
                    RejectReason::RequiredTagMissing,
                    Some(tags::ORIG_SENDING_TIME),
                )?;
                Ok(false)
            }
            Err(_) => {
                self.reject(
                    now,
                    view,
                    seq,
                    RejectReason::IncorrectDataFormat,
                    Some(tags::ORIG_SENDING_TIME),
                )?;
                Ok(false)
            }
            Ok(orig) => match view.sending_time() {
                Ok(sent) if orig > sent => {
                    self.reject_and_logout(
                        now,
                        view,
                        seq,
                        RejectReason::SendingTimeAccuracyProblem,
                    )?;
                    Ok(false)
                }
                _ => Ok(true),
            },
        }
    }

    pub(super) fn on_sequence_reset(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
    ) -> Result<(), StoreError> {
        let expected = self.store.next_target_seq();
        let gap_fill = is_gap_fill(view);
        let new_seq = match view.get_u64(tags::NEW_SEQ_NO) {
            Ok(n) => n,
            Err(FieldError::Missing { .. }) => {
                return self.reject_then_maybe_advance(
                    now,
                    view,
                    seq,
                    gap_fill,
                    RejectReason::RequiredTagMissing,
                    Some(tags::NEW_SEQ_NO),
                );
            }
            Err(_) => {
                return self.reject_then_maybe_advance(
                    now,
                    view,
                    seq,
                    gap_fill,
                    RejectReason::IncorrectDataFormat,
                    Some(tags::NEW_SEQ_NO),
                );
            }
        };
        if new_seq < expected || (gap_fill && new_seq == expected && seq != expected) {
            // Lowering the expected number is never allowed (SessionRejectReason 5).
            return self.reject_then_maybe_advance(
                now,
                view,
                seq,
                gap_fill,
                RejectReason::ValueIsIncorrect,
                None,
            );
        }
        if new_seq == expected && !gap_fill {
            // Reset to the number already expected: nothing to do (the spec's "warning").
            return Ok(());
        }
        self.store.set_next_target_seq(new_seq)?;
        if self.resend_requested_to.is_some_and(|to| new_seq > to) {
            self.resend_requested_to = None;
        }
        self.tell(SessionEvent::SequenceReset {
            new_seq_num: new_seq,
            gap_fill,
        });
        Ok(())
    }

    pub(super) fn reject_then_maybe_advance(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        gap_fill: bool,
        reason: RejectReason,
        tag: Option<u32>,
    ) -> Result<(), StoreError> {
        self.reject(now, view, seq, reason, tag)?;
        // A GapFill in sequence uses its number even when rejected; a Reset has none.
        if gap_fill && seq == self.store.next_target_seq() {
            self.advance_inbound(seq)?;
        }
        Ok(())
    }

    pub(super) fn on_logout(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
    ) -> Result<(), StoreError> {
        let text = view.get_str(tags::TEXT).ok().map(str::to_owned);
        self.tell(SessionEvent::LoggedOut {
            text,
            by_counterparty: self.state == State::Established,
        });
        if self.state == State::Established {
            self.send_logout(now, None)?;
        }
        if self.config.reset_seq_num_on_logout() {
            self.reset_sequence()?;
        }
        self.close("Logout exchanged");
        Ok(())
    }

    // Every seq here came through on_message, which stops at u64::MAX: seq + 1 fits.
    pub(super) fn advance_inbound(&mut self, seq: u64) -> Result<(), StoreError> {
        if seq >= self.store.next_target_seq() {
            self.store.set_next_target_seq(seq + 1)?;
        }
        if self.resend_requested_to.is_some_and(|to| seq >= to) {
            self.resend_requested_to = None;
        }
        Ok(())
    }

    pub(super) fn sending_time_ok(&self, view: &MessageView<'_>) -> bool {
        match view.sending_time() {
            Ok(t) => t.abs_diff(self.clock.now_utc()) <= self.config.max_sending_time_delta(),
            Err(_) => false,
        }
    }
}

pub(super) fn is_gap_fill(view: &MessageView<'_>) -> bool {
    view.get_bool(tags::GAP_FILL_FLAG) == Ok(true)
}
