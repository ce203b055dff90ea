//! What the counterparty did wrong, one variant per rule, and the one place each is
//! answered on the wire: a check finds a [`ProtocolViolation`];
//! [`SessionMachine::answer`] decides between Reject(3), Reject and Logout, Logout
//! and wait, or Logout and close, and whether the message's number is used.

use std::time::Instant;

use super::{Handler, SessionMachine, reasons};
use crate::codec::{MessageView, RejectReason, tags};
use crate::dictionary::Violation;
use crate::store::{MessageStore, StoreError};

/// A rule of the session layer the counterparty broke.
#[derive(Debug)]
pub(super) enum ProtocolViolation {
    /// BeginString(8) is not the session's.
    IncorrectBeginString,
    /// MsgSeqNum(34) is missing (a SequenceReset-Reset, which ignores it, aside).
    MsgSeqNumMissing,
    /// MsgSeqNum(34) is `u64::MAX`: no number can follow it.
    MsgSeqNumExhausted,
    /// MsgSeqNum(34) below the expected number, without PossDupFlag(43).
    MsgSeqNumTooLow { expected: u64, received: u64 },
    /// A required standard-header field is missing or empty.
    HeaderField { tag: u32, reason: RejectReason },
    /// SendingTime(52) is missing or outside the accepted window.
    SendingTime,
    /// SenderCompID(49) or TargetCompID(56) is not the session's.
    CompId,
    /// PossDupFlag(43)=Y with OrigSendingTime(122) missing or malformed.
    OrigSendingTime { reason: RejectReason },
    /// OrigSendingTime(122) later than SendingTime(52).
    OrigSendingTimeAfterSendingTime,
    /// More messages wait behind a gap than the session holds.
    TooManyQueued,
    /// What the data dictionary (or, without one, the decoder) found wrong.
    Invalid(Violation),
    /// A TestRequest without TestReqID(112): there is nothing to echo.
    TestReqIdMissing,
    /// A ResendRequest without BeginSeqNo(7) or EndSeqNo(16).
    ResendRangeMissing,
    /// A SequenceReset whose NewSeqNo(36) is missing, malformed, or would lower the
    /// expected number.
    NewSeqNo {
        reason: RejectReason,
        tag: Option<u32>,
    },
    /// A Logon (without ResetSeqNumFlag) on an established session.
    SecondLogon,
    /// A Logon with ResetSeqNumFlag(141)=Y whose HeartBtInt(108) is missing or out
    /// of bounds.
    ResetLogonHeartBtInt,
}

impl<S: MessageStore> SessionMachine<S> {
    /// Answers `violation`, found in `view` (numbered `seq`, 0 when it has none).
    pub(super) fn answer(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        violation: ProtocolViolation,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        use ProtocolViolation as V;
        match violation {
            // The session cannot go on: Logout, and the counterparty's is awaited.
            V::IncorrectBeginString => {
                self.logout_and_wait(now, reasons::INCORRECT_BEGIN_STRING, handler)
            }
            V::MsgSeqNumExhausted => self.logout_and_wait(now, reasons::SEQ_NUM_EXHAUSTED, handler),
            V::ResetLogonHeartBtInt => {
                self.logout_and_wait(now, reasons::RESET_LOGON_HEART_BT_INT, handler)
            }
            V::TooManyQueued => self.logout_and_wait(now, reasons::TOO_MANY_QUEUED, handler),
            V::SecondLogon => {
                self.advance_inbound(seq)?;
                self.logout_and_wait(now, reasons::SECOND_LOGON, handler)
            }
            // The counterparty is behind us: nothing it sends can be trusted.
            V::MsgSeqNumTooLow { expected, received } => {
                self.send_logout(
                    now,
                    Some(&reasons::seq_too_low(expected, received)),
                    handler,
                )?;
                self.close(reasons::SEQ_TOO_LOW);
                Ok(())
            }
            // Reject, then Logout.
            V::SendingTime | V::OrigSendingTimeAfterSendingTime => self.reject_and_logout(
                now,
                view,
                seq,
                RejectReason::SendingTimeAccuracyProblem,
                handler,
            ),
            V::CompId => {
                self.reject_and_logout(now, view, seq, RejectReason::CompIdProblem, handler)
            }
            // Reject; the number is used when the message has one that is in sequence
            // and is otherwise whole.
            V::MsgSeqNumMissing => self.reject(
                now,
                view,
                0,
                RejectReason::RequiredTagMissing,
                Some(tags::MSG_SEQ_NUM),
            ),
            V::OrigSendingTime { reason } => {
                self.reject(now, view, seq, reason, Some(tags::ORIG_SENDING_TIME))
            }
            V::ResendRangeMissing => {
                self.reject(now, view, seq, RejectReason::RequiredTagMissing, None)
            }
            V::HeaderField { tag, reason } => {
                self.reject(now, view, seq, reason, Some(tag))?;
                self.advance_inbound(seq)
            }
            V::TestReqIdMissing => {
                let reason = RejectReason::RequiredTagMissing;
                self.reject(now, view, seq, reason, Some(tags::TEST_REQ_ID))?;
                self.advance_inbound(seq)
            }
            V::Invalid(violation) => {
                let tag = violation.tag.as_deref();
                self.reject_raw(now, view, seq, violation.reason, tag)?;
                self.advance_inbound(seq)
            }
            V::NewSeqNo { reason, tag } => {
                self.reject(now, view, seq, reason, tag)?;
                // A GapFill in sequence uses its number even when rejected; a Reset
                // has none.
                if super::inbound::is_gap_fill(view) && seq == self.store.next_target_seq() {
                    self.advance_inbound(seq)?;
                }
                Ok(())
            }
        }
    }
}
