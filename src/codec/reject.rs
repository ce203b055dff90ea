//! SessionRejectReason(373): the reasons a message is rejected at session level,
//! with the Text(58) QuickFIX sends for each (counterparties and the conformance
//! suite compare it byte for byte). Shared by the session layer and the data
//! dictionary, which both find reasons to reject.

/// SessionRejectReason(373) values (FIX.4.2 and later; earlier versions send only Text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// 0: Invalid tag number.
    InvalidTagNumber,
    /// 1: Required tag missing.
    RequiredTagMissing,
    /// 2: Tag not defined for this message type.
    TagNotDefinedForMessageType,
    /// 3: Undefined tag.
    UndefinedTag,
    /// 4: Tag specified without a value.
    TagSpecifiedWithoutValue,
    /// 5: Value is incorrect (out of range) for this tag.
    ValueIsIncorrect,
    /// 6: Incorrect data format for value.
    IncorrectDataFormat,
    /// 7: Decryption problem.
    DecryptionProblem,
    /// 8: Signature problem.
    SignatureProblem,
    /// 9: CompID problem.
    CompIdProblem,
    /// 10: SendingTime accuracy problem.
    SendingTimeAccuracyProblem,
    /// 11: Invalid MsgType.
    InvalidMsgType,
    /// 12: XML validation error.
    XmlValidationError,
    /// 13: Tag appears more than once.
    TagAppearsMoreThanOnce,
    /// 14: Tag specified out of required order.
    TagSpecifiedOutOfRequiredOrder,
    /// 15: Repeating group fields out of order.
    RepeatingGroupFieldsOutOfOrder,
    /// 16: Incorrect NumInGroup count for repeating group.
    IncorrectNumInGroupCount,
    /// 17: Non "data" value includes field delimiter (SOH character).
    NonDataValueIncludesFieldDelimiter,
    /// 99: Other.
    Other,
}

impl RejectReason {
    /// The SessionRejectReason(373) code.
    pub const fn code(self) -> u32 {
        match self {
            Self::InvalidTagNumber => 0,
            Self::RequiredTagMissing => 1,
            Self::TagNotDefinedForMessageType => 2,
            Self::UndefinedTag => 3,
            Self::TagSpecifiedWithoutValue => 4,
            Self::ValueIsIncorrect => 5,
            Self::IncorrectDataFormat => 6,
            Self::DecryptionProblem => 7,
            Self::SignatureProblem => 8,
            Self::CompIdProblem => 9,
            Self::SendingTimeAccuracyProblem => 10,
            Self::InvalidMsgType => 11,
            Self::XmlValidationError => 12,
            Self::TagAppearsMoreThanOnce => 13,
            Self::TagSpecifiedOutOfRequiredOrder => 14,
            Self::RepeatingGroupFieldsOutOfOrder => 15,
            Self::IncorrectNumInGroupCount => 16,
            Self::NonDataValueIncludesFieldDelimiter => 17,
            Self::Other => 99,
        }
    }

    /// The Text(58) sent with it, as QuickFIX words it.
    pub const fn text(self) -> &'static str {
        match self {
            Self::InvalidTagNumber => "Invalid tag number",
            Self::RequiredTagMissing => "Required tag missing",
            Self::TagNotDefinedForMessageType => "Tag not defined for this message type",
            Self::UndefinedTag => "Undefined Tag",
            Self::TagSpecifiedWithoutValue => "Tag specified without a value",
            Self::ValueIsIncorrect => "Value is incorrect (out of range) for this tag",
            Self::IncorrectDataFormat => "Incorrect data format for value",
            Self::DecryptionProblem => "Decryption problem",
            Self::SignatureProblem => "Signature problem",
            Self::CompIdProblem => "CompID problem",
            Self::SendingTimeAccuracyProblem => "SendingTime accuracy problem",
            Self::InvalidMsgType => "Invalid MsgType",
            Self::XmlValidationError => "XML Validation Error",
            Self::TagAppearsMoreThanOnce => "Tag appears more than once",
            Self::TagSpecifiedOutOfRequiredOrder => "Tag specified out of required order",
            // QuickFIX has no text for 15 and 17; these are the acceptance suite's.
            Self::RepeatingGroupFieldsOutOfOrder => "Out of order repeating group members",
            Self::IncorrectNumInGroupCount => "Incorrect NumInGroup count for repeating group",
            Self::NonDataValueIncludesFieldDelimiter => "Embedded SOH",
            Self::Other => "Other",
        }
    }
}
