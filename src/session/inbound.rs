//! Every message after the Logon: header checks, sequence checks, PossDup, and
//! dispatch by MsgType. A check that fails is answered by
//! [`SessionMachine::answer`](super::SessionMachine).

use std::time::Instant;

use super::state::Phase;
use super::violation::ProtocolViolation;
use super::{Handler, Reply, SessionEvent, SessionMachine, reasons};
use crate::codec::{Decoder, FieldError, Fields, MessageView, RejectReason, msg_type, tags};
use crate::dictionary::{Validation, Violation};
use crate::id::SeqNum;
use crate::store::{MessageStore, StoreError};

impl<S: MessageStore> SessionMachine<S> {
    /// One frame: the Logon on a new transport, every message after it.
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
        match self.phase {
            Phase::WaitForLogon { .. } => self.on_first_message(now, &view, handler),
            Phase::Established | Phase::WaitForLogout { .. } => {
                self.on_message(now, &view, handler)
            }
            Phase::Disconnected | Phase::Closing { .. } => Ok(()),
        }
    }

    /// Every message after the Logon.
    fn on_message<H: Handler>(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        use ProtocolViolation as V;
        let mt = view.msg_type();
        if view.begin_string() != self.version.begin_string().as_bytes() {
            return self.answer(now, view, 0, V::IncorrectBeginString, handler);
        }
        let Ok(seq) = view.msg_seq_num().map(SeqNum::get) else {
            // A SequenceReset-Reset ignores its own MsgSeqNum (which may be 0).
            if mt == msg_type::SEQUENCE_RESET && !is_gap_fill(view) {
                self.admin_acted_on(view, handler);
                return self.on_sequence_reset(now, view, 0, handler);
            }
            return self.answer(now, view, 0, V::MsgSeqNumMissing, handler);
        };
        // Every path below may record seq + 1 as the next number expected.
        if seq == u64::MAX {
            return self.answer(now, view, seq, V::MsgSeqNumExhausted, handler);
        }
        if let Err(violation) = self.check_header(view) {
            return self.answer(now, view, seq, violation, handler);
        }
        let expected = self.store.next_target_seq();

        // SequenceReset-Reset ignores MsgSeqNum altogether.
        if mt == msg_type::SEQUENCE_RESET && !is_gap_fill(view) {
            self.admin_acted_on(view, handler);
            return self.on_sequence_reset(now, view, seq, handler);
        }
        // A Logon with ResetSeqNumFlag=Y on a live session starts the FIX session over.
        if mt == msg_type::LOGON && view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true) {
            self.admin_acted_on(view, handler);
            return self.on_reset_logon(now, view, seq, handler);
        }
        // Like QuickFIX, a Logout or a ResendRequest is acted on whatever its number:
        // answering either is harmless, and refusing a Logout helps nobody.
        if mt == msg_type::LOGOUT && seq != expected {
            self.admin_acted_on(view, handler);
            return self.on_logout(now, view, handler);
        }
        if mt == msg_type::RESEND_REQUEST && seq < expected && !view.is_poss_dup() {
            self.admin_acted_on(view, handler);
            return self.on_resend_request(now, view, seq, handler);
        }
        if seq > expected {
            return self.on_seq_too_high(now, view, seq, expected, handler);
        }
        if seq < expected {
            if !view.is_poss_dup() {
                let violation = V::MsgSeqNumTooLow {
                    expected,
                    received: seq,
                };
                return self.answer(now, view, seq, violation, handler);
            }
            // A possible duplicate of something already processed: checked, then
            // ignored.
            return match check_poss_dup(view) {
                Ok(()) => Ok(()),
                Err(violation) => self.answer(now, view, seq, violation, handler),
            };
        }

        // In sequence. PossDup messages in sequence must still carry a sane OrigSendingTime.
        if view.is_poss_dup()
            && let Err(violation) = check_poss_dup(view)
        {
            return self.answer(now, view, seq, violation, handler);
        }
        if let Some(violation) = self.validate(view) {
            return self.answer(now, view, seq, V::Invalid(violation), handler);
        }
        if view.is_admin() && mt != msg_type::LOGON {
            self.admin_acted_on(view, handler);
        }
        match mt {
            msg_type::HEARTBEAT => {
                if view.get(tags::TEST_REQ_ID) == Some(reasons::TEST_REQ_ID.as_bytes()) {
                    self.liveness.test_request_sent = None;
                }
                self.advance_inbound(seq)
            }
            msg_type::TEST_REQUEST => {
                let Some(id) = view.get(tags::TEST_REQ_ID).map(<[u8]>::to_vec) else {
                    return self.answer(now, view, seq, V::TestReqIdMissing, handler);
                };
                self.advance_inbound(seq)?;
                self.send_admin(now, msg_type::HEARTBEAT, |e| {
                    e.bytes(tags::TEST_REQ_ID, &id);
                })
            }
            msg_type::RESEND_REQUEST => {
                self.on_resend_request(now, view, seq, handler)?;
                self.advance_inbound(seq)
            }
            msg_type::REJECT => {
                self.tell(SessionEvent::RejectReceived {
                    ref_seq_num: view.get_u64(tags::REF_SEQ_NUM).ok(),
                    text: view.get_str(tags::TEXT).ok().map(str::to_owned),
                });
                self.advance_inbound(seq)
            }
            msg_type::SEQUENCE_RESET => self.on_sequence_reset(now, view, seq, handler),
            msg_type::LOGOUT => {
                self.advance_inbound(seq)?;
                self.on_logout(now, view, handler)
            }
            msg_type::LOGON => self.answer(now, view, seq, V::SecondLogon, handler),
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

    /// Shows the application a session-level message the session is about to act
    /// on, after what the session produced before it.
    fn admin_acted_on(&mut self, view: &MessageView<'_>, handler: &mut dyn Handler) {
        self.notify(handler);
        handler.on_admin(view);
    }

    /// The standard header's required fields, before anything reads them; then
    /// SendingTime(52) and the CompIDs, when the configuration checks them.
    fn check_header(&self, view: &MessageView<'_>) -> Result<(), ProtocolViolation> {
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
            return Err(ProtocolViolation::HeaderField { tag, reason });
        }
        if self.config.check_sending_time() && !self.sending_time_ok(view) {
            return Err(ProtocolViolation::SendingTime);
        }
        if self.config.validate_comp_ids() && !self.comp_ids_ok(view) {
            return Err(ProtocolViolation::CompId);
        }
        Ok(())
    }

    /// A message ahead of the expected number: held until the gap before it is
    /// filled, and the gap asked for (once: our ResendRequests run to the end).
    fn on_seq_too_high(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        expected: u64,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        let served = view.msg_type() == msg_type::RESEND_REQUEST;
        if served {
            self.admin_acted_on(view, handler);
            // Serve the counterparty first, then ask for our gap (test case 20).
            self.on_resend_request(now, view, seq, handler)?;
        }
        if !self.recovery.has_room(view.frame().len()) {
            if matches!(self.phase, Phase::WaitForLogout { .. }) {
                // Already logging out: one Logout is enough, the rest is dropped.
                return Ok(());
            }
            return self.answer(now, view, seq, ProtocolViolation::TooManyQueued, handler);
        }
        // A served ResendRequest keeps its place in the sequence, not its frame.
        self.recovery.hold(seq, (!served).then(|| view.frame()));
        if !self.recovery.is_requested() {
            self.request_resend(now, expected, seq)?;
        }
        Ok(())
    }

    /// What is wrong with an in-sequence message, if anything: against the data
    /// dictionary when there is one, else the decoder's own findings (invalid tag
    /// numbers, empty values).
    fn validate(&self, view: &MessageView<'_>) -> Option<Violation> {
        if let Some(FieldError::EmbeddedSoh { tag }) = view.problem() {
            return Some(Violation {
                reason: RejectReason::NonDataValueIncludesFieldDelimiter,
                tag: Some(tag.to_string().into_bytes()),
            });
        }
        if view.msg_type().is_empty() {
            // Whatever ValidateFieldsHaveValues says, a message without a type can
            // reach no handler (nor be business-rejected: RefMsgType(372) would be
            // empty too).
            return Some(Violation {
                reason: RejectReason::TagSpecifiedWithoutValue,
                tag: Some(tags::MSG_TYPE.to_string().into_bytes()),
            });
        }
        if let Some(dictionary) = &self.dictionary {
            // The session configuration is the one switch for each check.
            let c = &self.config;
            let checks = Validation {
                fields_have_values: c.validate_fields_have_values(),
                fields_out_of_order: c.validate_fields_out_of_order(),
                field_values: c.validate_field_values(),
                unknown_fields: c.validate_unknown_fields(),
                required_fields: c.validate_required_fields(),
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

    pub(super) fn on_sequence_reset(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        let expected = self.store.next_target_seq();
        let gap_fill = is_gap_fill(view);
        let refused = |reason, tag| ProtocolViolation::NewSeqNo { reason, tag };
        let new_seq = match view.get_u64(tags::NEW_SEQ_NO) {
            Ok(n) => n,
            Err(e) => {
                let reason = match e {
                    FieldError::Missing { .. } => RejectReason::RequiredTagMissing,
                    _ => RejectReason::IncorrectDataFormat,
                };
                return self.answer(
                    now,
                    view,
                    seq,
                    refused(reason, Some(tags::NEW_SEQ_NO)),
                    handler,
                );
            }
        };
        if new_seq < expected || (gap_fill && new_seq == expected && seq != expected) {
            // Lowering the expected number is never allowed (SessionRejectReason 5).
            return self.answer(
                now,
                view,
                seq,
                refused(RejectReason::ValueIsIncorrect, None),
                handler,
            );
        }
        if new_seq == expected && !gap_fill {
            // Reset to the number already expected: nothing to do (the spec's "warning").
            return Ok(());
        }
        self.store.set_next_target_seq(new_seq)?;
        self.recovery.moved_to(new_seq);
        self.tell(SessionEvent::SequenceReset {
            new_seq_num: new_seq,
            gap_fill,
        });
        Ok(())
    }

    pub(super) fn on_logout(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        let text = view.get_str(tags::TEXT).ok().map(str::to_owned);
        let by_counterparty = self.phase == Phase::Established;
        self.tell(SessionEvent::LoggedOut {
            text,
            by_counterparty,
        });
        if by_counterparty {
            self.send_logout(now, None, handler)?;
        }
        if self.config.reset_seq_num_on_logout() {
            self.reset_sequence()?;
        }
        self.close(reasons::LOGOUT_EXCHANGED);
        Ok(())
    }

    // Every seq here came through on_message, which stops at u64::MAX: seq + 1 fits.
    pub(super) fn advance_inbound(&mut self, seq: u64) -> Result<(), StoreError> {
        if seq >= self.store.next_target_seq() {
            self.store.set_next_target_seq(seq + 1)?;
        }
        self.recovery.processed(seq);
        Ok(())
    }

    pub(super) fn sending_time_ok(&self, view: &MessageView<'_>) -> bool {
        match view.sending_time() {
            Ok(t) => t.abs_diff(self.clock.now_utc()) <= self.config.max_sending_time_delta(),
            Err(_) => false,
        }
    }

    /// The counterparty's CompIDs are the session's, seen from its side.
    pub(super) fn comp_ids_ok(&self, view: &MessageView<'_>) -> bool {
        view.sender_comp_id() == Some(self.id.target().as_bytes())
            && view.target_comp_id() == Some(self.id.sender().as_bytes())
    }
}

/// PossDupFlag(43)=Y needs OrigSendingTime(122) no later than SendingTime(52); a
/// SequenceReset-GapFill, often sent without it, is accepted as it is.
fn check_poss_dup(view: &MessageView<'_>) -> Result<(), ProtocolViolation> {
    if view.msg_type() == msg_type::SEQUENCE_RESET {
        return Ok(());
    }
    let orig = view.get_timestamp(tags::ORIG_SENDING_TIME).map_err(|e| {
        ProtocolViolation::OrigSendingTime {
            reason: match e {
                FieldError::Missing { .. } => RejectReason::RequiredTagMissing,
                _ => RejectReason::IncorrectDataFormat,
            },
        }
    })?;
    match view.sending_time() {
        Ok(sent) if orig > sent => Err(ProtocolViolation::OrigSendingTimeAfterSendingTime),
        _ => Ok(()),
    }
}

pub(super) fn is_gap_fill(view: &MessageView<'_>) -> bool {
    view.get_bool(tags::GAP_FILL_FLAG) == Ok(true)
}
