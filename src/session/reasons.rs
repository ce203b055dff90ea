//! Every text the session writes or reports, in one place: the Text(58) of the
//! Logouts it sends, and why it asks the driver to close the transport (for the
//! log). The Reject reasons and their texts are [`crate::codec::RejectReason`].
//!
//! The Logout wording follows QuickFIX, which counterparties and the conformance
//! suite compare byte for byte.

// ---- Logout Text(58) ------------------------------------------------------------

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

/// Logout text when more messages wait behind a gap than the session holds.
pub(crate) const TOO_MANY_QUEUED: &str = "too many messages queued behind a sequence gap";

/// Logout text for a Logon (without ResetSeqNumFlag) on an established session.
pub(crate) const SECOND_LOGON: &str = "Logon received on an established session";

/// Logout text for a Logon with ResetSeqNumFlag(141)=Y whose HeartBtInt(108) is
/// missing or outside the configured bounds.
pub(crate) const RESET_LOGON_HEART_BT_INT: &str = "Logon HeartBtInt(108) missing or out of range";

// ---- why the transport is closed (logged, never sent) ------------------------------

/// The first message on a new transport was not a Logon.
pub(crate) const FIRST_NOT_LOGON: &str = "first message not a Logon";

/// A Logon without a usable MsgSeqNum(34).
pub(crate) const LOGON_WITHOUT_SEQ_NUM: &str = "Logon without a valid MsgSeqNum(34)";

/// A Logon numbered below the expected number (after our Logout).
pub(crate) const LOGON_SEQ_TOO_LOW: &str = "Logon MsgSeqNum too low";

/// A Logon expecting messages we never sent (after our Logout).
pub(crate) const LOGON_NEXT_EXPECTED_TOO_HIGH: &str = "Logon NextExpectedMsgSeqNum(789) too high";

/// A message numbered below the expected number without PossDupFlag (after our
/// Logout).
pub(crate) const SEQ_TOO_LOW: &str = "MsgSeqNum too low without PossDupFlag";

/// The Logout exchange is complete.
pub(crate) const LOGOUT_EXCHANGED: &str = "Logout exchanged";

/// A logout was asked for before the counterparty logged on.
pub(crate) const LOGOUT_BEFORE_LOGON: &str = "logout requested before Logon";

/// The Logon timeout passed.
pub(crate) const NO_LOGON: &str = "no Logon received within the logon timeout";

/// The Logout timeout passed.
pub(crate) const NO_LOGOUT_REPLY: &str = "no Logout reply within the logout timeout";

/// Our TestRequest was not answered in time.
pub(crate) const LINK_LOST: &str = "TestRequest not answered: the link is lost";

// ---- other texts -------------------------------------------------------------------

/// The TestReqID(112) of the TestRequests the engine sends.
pub(crate) const TEST_REQ_ID: &str = "TEST";

/// Logon refused: Username(553) or Password(554) is not the configured one. One
/// text for both, so the reply does not confirm which user names exist.
pub(crate) const CREDENTIALS: &str = "Username(553) or Password(554) does not match";
