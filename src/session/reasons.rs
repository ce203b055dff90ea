//! The Text(58) of the Logouts the session sends, in one place (the Reject
//! reasons and their texts are [`crate::codec::RejectReason`]).
//!
//! The wording follows QuickFIX, which counterparties and the conformance suite
//! compare byte for byte.

/// The Logout text for an inbound MsgSeqNum below the expected one.
pub(crate) fn seq_too_low(expected: u64, received: u64) -> String {
    format!("MsgSeqNum too low, expecting {expected} but received {received}")
}

/// The Logout text for a Logon whose NextExpectedMsgSeqNum(789) is beyond what we sent.
pub(crate) fn next_expected_too_high(received: u64, next_out: u64) -> String {
    format!("NextExpectedMsgSeqNum too high, expecting at most {next_out} but received {received}")
}

/// Logout text for an inbound MsgSeqNum(34) of `u64::MAX`: no number can follow it,
/// so the next one expected cannot be recorded.
pub(crate) const SEQ_NUM_EXHAUSTED: &str =
    "MsgSeqNum is the largest possible, no message can follow it";

/// Logout text when BeginString(8) differs from the session's.
pub(crate) const INCORRECT_BEGIN_STRING: &str = "Incorrect BeginString";

/// The TestReqID(112) of the TestRequests the engine sends.
pub(crate) const TEST_REQ_ID: &str = "TEST";
