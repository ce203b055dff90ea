//! Names for `--pretty`: from the dictionaries given with `--dict`, in the
//! order given, then from a small built-in table of the session-level fields
//! and the common MsgTypes, so that a log reads well without any file.

use fixengine::Dictionary;

/// Where names are looked up.
#[derive(Debug, Default)]
pub(crate) struct Names {
    dicts: Vec<Dictionary>,
}

impl Names {
    /// Names from `dicts` first, then the built-in table.
    pub(crate) fn new(dicts: Vec<Dictionary>) -> Self {
        Self { dicts }
    }

    /// The name of field `tag`.
    pub(crate) fn field(&self, tag: u32) -> Option<&str> {
        self.dicts
            .iter()
            .find_map(|d| d.field_name(tag))
            .or_else(|| builtin(FIELDS, tag))
    }

    /// The name of `value` of field `tag`: the message's name for MsgType(35)
    /// and RefMsgType(372), an enumerated value's description otherwise.
    pub(crate) fn value(&self, tag: u32, value: &[u8]) -> Option<&str> {
        if tag == 35 || tag == 372 {
            return self
                .dicts
                .iter()
                .find_map(|d| d.message_name(value))
                .or_else(|| builtin(MSG_TYPES, value));
        }
        self.dicts
            .iter()
            .find_map(|d| d.value_name(tag, value))
            .or_else(|| {
                if tag == 373 {
                    let reason: u32 = std::str::from_utf8(value).ok()?.parse().ok()?;
                    builtin(REJECT_REASONS, reason)
                } else {
                    None
                }
            })
    }
}

/// The name `key` has in a built-in table.
fn builtin<K: PartialEq + Copy>(table: &[(K, &'static str)], key: K) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, name)| *name)
}

/// The session-level fields, and those the session messages carry.
const FIELDS: &[(u32, &str)] = &[
    (7, "BeginSeqNo"),
    (8, "BeginString"),
    (9, "BodyLength"),
    (10, "CheckSum"),
    (16, "EndSeqNo"),
    (34, "MsgSeqNum"),
    (35, "MsgType"),
    (36, "NewSeqNo"),
    (43, "PossDupFlag"),
    (45, "RefSeqNum"),
    (49, "SenderCompID"),
    (52, "SendingTime"),
    (56, "TargetCompID"),
    (58, "Text"),
    (97, "PossResend"),
    (98, "EncryptMethod"),
    (108, "HeartBtInt"),
    (112, "TestReqID"),
    (122, "OrigSendingTime"),
    (123, "GapFillFlag"),
    (141, "ResetSeqNumFlag"),
    (371, "RefTagID"),
    (372, "RefMsgType"),
    (373, "SessionRejectReason"),
    (553, "Username"),
    (554, "Password"),
    (789, "NextExpectedMsgSeqNum"),
    (1128, "ApplVerID"),
    (1137, "DefaultApplVerID"),
];

/// The session MsgTypes and the common order-flow ones.
const MSG_TYPES: &[(&[u8], &str)] = &[
    (b"0", "Heartbeat"),
    (b"1", "TestRequest"),
    (b"2", "ResendRequest"),
    (b"3", "Reject"),
    (b"4", "SequenceReset"),
    (b"5", "Logout"),
    (b"A", "Logon"),
    (b"D", "NewOrderSingle"),
    (b"8", "ExecutionReport"),
    (b"F", "OrderCancelRequest"),
    (b"G", "OrderCancelReplaceRequest"),
    (b"9", "OrderCancelReject"),
    (b"j", "BusinessMessageReject"),
];

/// SessionRejectReason(373): the first thing to read in a Reject.
const REJECT_REASONS: &[(u32, &str)] = &[
    (0, "InvalidTagNumber"),
    (1, "RequiredTagMissing"),
    (2, "TagNotDefinedForThisMessageType"),
    (3, "UndefinedTag"),
    (4, "TagSpecifiedWithoutAValue"),
    (5, "ValueIsIncorrect"),
    (6, "IncorrectDataFormatForValue"),
    (7, "DecryptionProblem"),
    (8, "SignatureProblem"),
    (9, "CompIDProblem"),
    (10, "SendingTimeAccuracyProblem"),
    (11, "InvalidMsgType"),
    (12, "XMLValidationError"),
    (13, "TagAppearsMoreThanOnce"),
    (14, "TagSpecifiedOutOfRequiredOrder"),
    (15, "RepeatingGroupFieldsOutOfOrder"),
    (16, "IncorrectNumInGroupCountForRepeatingGroup"),
    (17, "NonDataValueIncludesFieldDelimiter"),
    (18, "InvalidUnsupportedApplicationVersion"),
    (99, "Other"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_stand_in_without_a_dictionary() {
        let names = Names::default();
        assert_eq!(names.field(35), Some("MsgType"));
        assert_eq!(names.field(1137), Some("DefaultApplVerID"));
        assert_eq!(names.field(54), None);
        assert_eq!(names.value(35, b"D"), Some("NewOrderSingle"));
        assert_eq!(names.value(372, b"A"), Some("Logon"));
        assert_eq!(names.value(373, b"5"), Some("ValueIsIncorrect"));
        assert_eq!(names.value(54, b"1"), None);
    }
}
