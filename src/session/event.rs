//! What the session tells the application besides its messages and state changes.

use super::RejectReason;

/// What the application is told about, besides application messages and state
/// changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// The counterparty logged on.
    LoggedOn {
        /// True when sequence numbers were reset to 1 (ResetSeqNumFlag or policy).
        reset: bool,
        /// The HeartBtInt(108) agreed, in seconds.
        heart_bt_int: u32,
    },
    /// A Logon was refused before any session state changed.
    LogonRefused {
        /// Why.
        reason: String,
    },
    /// A Logout was sent or received.
    LoggedOut {
        /// Our Text(58), or the counterparty's.
        text: Option<String>,
        /// True when the counterparty started it.
        by_counterparty: bool,
    },
    /// We rejected an inbound message with Reject(3).
    RejectSent {
        /// The MsgSeqNum rejected.
        ref_seq_num: u64,
        /// SessionRejectReason(373).
        reason: RejectReason,
        /// The tag at fault, if any.
        ref_tag: Option<u32>,
    },
    /// The counterparty rejected one of ours.
    RejectReceived {
        /// RefSeqNum(45).
        ref_seq_num: Option<u64>,
        /// Text(58).
        text: Option<String>,
    },
    /// A frame that could not be decoded was ignored; no sequence number was used.
    Garbled {
        /// What was wrong.
        error: String,
    },
    /// We sent a ResendRequest for a gap in the inbound sequence.
    ResendRequestSent {
        /// BeginSeqNo(7).
        begin: u64,
        /// EndSeqNo(16); 0 is "to the end".
        end: u64,
    },
    /// We served a ResendRequest from the store.
    ResendServed {
        /// The first sequence number covered.
        begin: u64,
        /// The last sequence number covered.
        end: u64,
        /// Application messages resent.
        resent: u64,
        /// Sequence numbers covered by SequenceReset-GapFill.
        gap_filled: u64,
    },
    /// The inbound sequence moved by SequenceReset.
    SequenceReset {
        /// The next expected inbound MsgSeqNum.
        new_seq_num: u64,
        /// True for GapFill mode.
        gap_fill: bool,
    },
    /// The message log stopped writing (a full disk, a folder it may not write):
    /// the session goes on, unlogged, and the log tries again every few seconds.
    /// Told by the engine, once per failure.
    MessageLogFailed {
        /// What failed, naming the file or folder.
        error: String,
    },
    /// The message log writes again after [`MessageLogFailed`](Self::MessageLogFailed).
    MessageLogResumed {
        /// Messages it could not write meanwhile (a `note` record in the log says
        /// so too).
        lost: u64,
    },
}
