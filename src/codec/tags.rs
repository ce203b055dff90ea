//! Tag numbers and MsgType(35) values, named as in the FIX specification.
//!
//! Every session-level field of FIX.4.0 to FIXT.1.1 is here, plus the handful
//! of application fields the examples, tests and benchmarks use. Tags are plain
//! `u32`: that is what appears on the wire and what every FIX user already reads.

/// Account(1)
pub const ACCOUNT: u32 = 1;
/// AvgPx(6)
pub const AVG_PX: u32 = 6;
/// BeginSeqNo(7): first message to resend in a ResendRequest.
pub const BEGIN_SEQ_NO: u32 = 7;
/// BeginString(8): always the first field.
pub const BEGIN_STRING: u32 = 8;
/// BodyLength(9): always the second field.
pub const BODY_LENGTH: u32 = 9;
/// CheckSum(10): always the last field.
pub const CHECK_SUM: u32 = 10;
/// ClOrdID(11)
pub const CL_ORD_ID: u32 = 11;
/// CumQty(14)
pub const CUM_QTY: u32 = 14;
/// EndSeqNo(16): last message to resend; 0 (or 999999 in FIX.4.0/4.1) means "to the end".
pub const END_SEQ_NO: u32 = 16;
/// ExecID(17)
pub const EXEC_ID: u32 = 17;
/// ExecTransType(20)
pub const EXEC_TRANS_TYPE: u32 = 20;
/// HandlInst(21)
pub const HANDL_INST: u32 = 21;
/// LastPx(31)
pub const LAST_PX: u32 = 31;
/// LastQty(32) (LastShares before FIX.4.3)
pub const LAST_QTY: u32 = 32;
/// MsgSeqNum(34)
pub const MSG_SEQ_NUM: u32 = 34;
/// MsgType(35): always the third field.
pub const MSG_TYPE: u32 = 35;
/// NewSeqNo(36): in SequenceReset.
pub const NEW_SEQ_NO: u32 = 36;
/// OrderID(37)
pub const ORDER_ID: u32 = 37;
/// OrderQty(38)
pub const ORDER_QTY: u32 = 38;
/// OrdStatus(39)
pub const ORD_STATUS: u32 = 39;
/// OrdType(40)
pub const ORD_TYPE: u32 = 40;
/// PossDupFlag(43)
pub const POSS_DUP_FLAG: u32 = 43;
/// Price(44)
pub const PRICE: u32 = 44;
/// RefSeqNum(45): the MsgSeqNum a Reject refers to.
pub const REF_SEQ_NUM: u32 = 45;
/// SenderCompID(49)
pub const SENDER_COMP_ID: u32 = 49;
/// SenderSubID(50)
pub const SENDER_SUB_ID: u32 = 50;
/// SendingTime(52)
pub const SENDING_TIME: u32 = 52;
/// Side(54)
pub const SIDE: u32 = 54;
/// Symbol(55)
pub const SYMBOL: u32 = 55;
/// TargetCompID(56)
pub const TARGET_COMP_ID: u32 = 56;
/// TargetSubID(57)
pub const TARGET_SUB_ID: u32 = 57;
/// Text(58)
pub const TEXT: u32 = 58;
/// TimeInForce(59)
pub const TIME_IN_FORCE: u32 = 59;
/// TransactTime(60)
pub const TRANSACT_TIME: u32 = 60;
/// Signature(89): data field, length in SignatureLength(93).
pub const SIGNATURE: u32 = 89;
/// SecureDataLen(90)
pub const SECURE_DATA_LEN: u32 = 90;
/// SecureData(91): data field, length in SecureDataLen(90).
pub const SECURE_DATA: u32 = 91;
/// SignatureLength(93)
pub const SIGNATURE_LENGTH: u32 = 93;
/// RawDataLength(95)
pub const RAW_DATA_LENGTH: u32 = 95;
/// RawData(96): data field, length in RawDataLength(95).
pub const RAW_DATA: u32 = 96;
/// PossResend(97)
pub const POSS_RESEND: u32 = 97;
/// EncryptMethod(98): 0 = none.
pub const ENCRYPT_METHOD: u32 = 98;
/// HeartBtInt(108), seconds.
pub const HEART_BT_INT: u32 = 108;
/// TestReqID(112)
pub const TEST_REQ_ID: u32 = 112;
/// OnBehalfOfCompID(115)
pub const ON_BEHALF_OF_COMP_ID: u32 = 115;
/// OnBehalfOfSubID(116)
pub const ON_BEHALF_OF_SUB_ID: u32 = 116;
/// OrigSendingTime(122)
pub const ORIG_SENDING_TIME: u32 = 122;
/// GapFillFlag(123)
pub const GAP_FILL_FLAG: u32 = 123;
/// DeliverToCompID(128)
pub const DELIVER_TO_COMP_ID: u32 = 128;
/// DeliverToSubID(129)
pub const DELIVER_TO_SUB_ID: u32 = 129;
/// ResetSeqNumFlag(141)
pub const RESET_SEQ_NUM_FLAG: u32 = 141;
/// SenderLocationID(142)
pub const SENDER_LOCATION_ID: u32 = 142;
/// TargetLocationID(143)
pub const TARGET_LOCATION_ID: u32 = 143;
/// OnBehalfOfLocationID(144)
pub const ON_BEHALF_OF_LOCATION_ID: u32 = 144;
/// DeliverToLocationID(145)
pub const DELIVER_TO_LOCATION_ID: u32 = 145;
/// Headline(148), the subject of a News(B).
pub const HEADLINE: u32 = 148;
/// ExecType(150)
pub const EXEC_TYPE: u32 = 150;
/// LeavesQty(151)
pub const LEAVES_QTY: u32 = 151;
/// XmlDataLen(212)
pub const XML_DATA_LEN: u32 = 212;
/// XmlData(213): data field, length in XmlDataLen(212).
pub const XML_DATA: u32 = 213;
/// MessageEncoding(347)
pub const MESSAGE_ENCODING: u32 = 347;
/// EncodedTextLen(354)
pub const ENCODED_TEXT_LEN: u32 = 354;
/// EncodedText(355): data field, length in EncodedTextLen(354).
pub const ENCODED_TEXT: u32 = 355;
/// LastMsgSeqNumProcessed(369)
pub const LAST_MSG_SEQ_NUM_PROCESSED: u32 = 369;
/// RefTagID(371): the tag a Reject refers to.
pub const REF_TAG_ID: u32 = 371;
/// RefMsgType(372): the MsgType a Reject refers to.
pub const REF_MSG_TYPE: u32 = 372;
/// SessionRejectReason(373)
pub const SESSION_REJECT_REASON: u32 = 373;
/// BusinessRejectRefID(379)
pub const BUSINESS_REJECT_REF_ID: u32 = 379;
/// BusinessRejectReason(380)
pub const BUSINESS_REJECT_REASON: u32 = 380;
/// MaxMessageSize(383)
pub const MAX_MESSAGE_SIZE: u32 = 383;
/// NoMsgTypes(384): repeating group in Logon.
pub const NO_MSG_TYPES: u32 = 384;
/// RefMsgType(372) inside NoMsgTypes(384) comes first; MsgDirection(385) follows.
pub const MSG_DIRECTION: u32 = 385;
/// TestMessageIndicator(464)
pub const TEST_MESSAGE_INDICATOR: u32 = 464;
/// Username(553)
pub const USERNAME: u32 = 553;
/// Password(554)
pub const PASSWORD: u32 = 554;
/// NoHops(627): header repeating group.
pub const NO_HOPS: u32 = 627;
/// HopCompID(628)
pub const HOP_COMP_ID: u32 = 628;
/// HopSendingTime(629)
pub const HOP_SENDING_TIME: u32 = 629;
/// HopRefID(630)
pub const HOP_REF_ID: u32 = 630;
/// NextExpectedMsgSeqNum(789)
pub const NEXT_EXPECTED_MSG_SEQ_NUM: u32 = 789;
/// NewPassword(925)
pub const NEW_PASSWORD: u32 = 925;
/// ApplVerID(1128)
pub const APPL_VER_ID: u32 = 1128;
/// CstmApplVerID(1129)
pub const CSTM_APPL_VER_ID: u32 = 1129;
/// RefApplVerID(1130)
pub const REF_APPL_VER_ID: u32 = 1130;
/// RefCstmApplVerID(1131)
pub const REF_CSTM_APPL_VER_ID: u32 = 1131;
/// DefaultApplVerID(1137): in the FIXT.1.1 Logon.
pub const DEFAULT_APPL_VER_ID: u32 = 1137;
/// ApplExtID(1156)
pub const APPL_EXT_ID: u32 = 1156;
/// EncryptedPasswordMethod(1400)
pub const ENCRYPTED_PASSWORD_METHOD: u32 = 1400;
/// EncryptedPasswordLen(1401)
pub const ENCRYPTED_PASSWORD_LEN: u32 = 1401;
/// EncryptedPassword(1402): data field, length in EncryptedPasswordLen(1401).
pub const ENCRYPTED_PASSWORD: u32 = 1402;
/// EncryptedNewPasswordLen(1403)
pub const ENCRYPTED_NEW_PASSWORD_LEN: u32 = 1403;
/// EncryptedNewPassword(1404): data field, length in EncryptedNewPasswordLen(1403).
pub const ENCRYPTED_NEW_PASSWORD: u32 = 1404;
/// DefaultApplExtID(1407)
pub const DEFAULT_APPL_EXT_ID: u32 = 1407;
/// DefaultCstmApplVerID(1408)
pub const DEFAULT_CSTM_APPL_VER_ID: u32 = 1408;
/// SessionStatus(1409)
pub const SESSION_STATUS: u32 = 1409;

/// Fields of the standard header (besides 8, 9 and 35), in every version.
///
/// The encoder writes these in ascending tag order right after MsgType(35), as
/// QuickFIX does, and [`is_header`] tells the decoder where the body starts.
pub const HEADER_TAGS: &[u32] = &[
    MSG_SEQ_NUM,
    POSS_DUP_FLAG,
    SENDER_COMP_ID,
    SENDER_SUB_ID,
    SENDING_TIME,
    TARGET_COMP_ID,
    TARGET_SUB_ID,
    SECURE_DATA_LEN,
    SECURE_DATA,
    POSS_RESEND,
    ON_BEHALF_OF_COMP_ID,
    ON_BEHALF_OF_SUB_ID,
    ORIG_SENDING_TIME,
    DELIVER_TO_COMP_ID,
    DELIVER_TO_SUB_ID,
    SENDER_LOCATION_ID,
    TARGET_LOCATION_ID,
    ON_BEHALF_OF_LOCATION_ID,
    DELIVER_TO_LOCATION_ID,
    XML_DATA_LEN,
    XML_DATA,
    MESSAGE_ENCODING,
    LAST_MSG_SEQ_NUM_PROCESSED,
    NO_HOPS,
    HOP_COMP_ID,
    HOP_SENDING_TIME,
    HOP_REF_ID,
    APPL_VER_ID,
    CSTM_APPL_VER_ID,
    APPL_EXT_ID,
];

/// True for BeginString(8), BodyLength(9), MsgType(35) and every [`HEADER_TAGS`] field.
#[inline]
pub const fn is_header(tag: u32) -> bool {
    // A bit per tag: this runs for every field the encoder and the view touch.
    let word = (tag / 64) as usize;
    word < HEADER_BITS.len() && HEADER_BITS[word] & (1 << (tag % 64)) != 0
}

const HEADER_BITS: [u64; 19] = {
    let mut bits = [0u64; 19];
    let framing = [BEGIN_STRING, BODY_LENGTH, MSG_TYPE];
    let mut i = 0;
    while i < framing.len() {
        bits[(framing[i] / 64) as usize] |= 1 << (framing[i] % 64);
        i += 1;
    }
    let mut i = 0;
    while i < HEADER_TAGS.len() {
        let tag = HEADER_TAGS[i];
        bits[(tag / 64) as usize] |= 1 << (tag % 64);
        i += 1;
    }
    bits
};

/// True for the trailer fields SignatureLength(93), Signature(89) and CheckSum(10).
pub const fn is_trailer(tag: u32) -> bool {
    matches!(tag, SIGNATURE_LENGTH | SIGNATURE | CHECK_SUM)
}

/// For a length field of a data (binary) field, the tag of the data field it announces.
///
/// Data fields may contain SOH, so the decoder reads exactly the announced number
/// of bytes for them instead of scanning for the delimiter.
pub const fn data_field_for_length(tag: u32) -> Option<u32> {
    Some(match tag {
        SECURE_DATA_LEN => SECURE_DATA,
        SIGNATURE_LENGTH => SIGNATURE,
        RAW_DATA_LENGTH => RAW_DATA,
        XML_DATA_LEN => XML_DATA,
        348 => 349, // EncodedIssuerLen -> EncodedIssuer
        350 => 351, // EncodedSecurityDescLen -> EncodedSecurityDesc
        352 => 353, // EncodedListExecInstLen -> EncodedListExecInst
        ENCODED_TEXT_LEN => ENCODED_TEXT,
        356 => 357,   // EncodedSubjectLen -> EncodedSubject
        358 => 359,   // EncodedHeadlineLen -> EncodedHeadline
        360 => 361,   // EncodedAllocTextLen -> EncodedAllocText
        362 => 363,   // EncodedUnderlyingIssuerLen -> EncodedUnderlyingIssuer
        364 => 365,   // EncodedUnderlyingSecurityDescLen -> EncodedUnderlyingSecurityDesc
        445 => 446,   // EncodedListStatusTextLen -> EncodedListStatusText
        618 => 619,   // EncodedLegIssuerLen -> EncodedLegIssuer
        621 => 622,   // EncodedLegSecurityDescLen -> EncodedLegSecurityDesc
        1184 => 1185, // SecurityXMLLen -> SecurityXML
        1277 => 1278, // DerivativeEncodedIssuerLen -> DerivativeEncodedIssuer
        ENCRYPTED_PASSWORD_LEN => ENCRYPTED_PASSWORD,
        ENCRYPTED_NEW_PASSWORD_LEN => ENCRYPTED_NEW_PASSWORD,
        _ => return None,
    })
}

/// Fields whose values never belong in a log: Password(554), NewPassword(925)
/// and the encrypted forms.
pub const fn is_secret(tag: u32) -> bool {
    matches!(
        tag,
        PASSWORD | NEW_PASSWORD | ENCRYPTED_PASSWORD | ENCRYPTED_NEW_PASSWORD
    )
}

/// MsgType(35) values. Byte strings, because that is what the wire and the
/// decoded view hold; `Message::new` takes them as they are.
pub mod msg_type {
    /// Heartbeat (0)
    pub const HEARTBEAT: &[u8] = b"0";
    /// TestRequest (1)
    pub const TEST_REQUEST: &[u8] = b"1";
    /// ResendRequest (2)
    pub const RESEND_REQUEST: &[u8] = b"2";
    /// Reject (3): session-level reject.
    pub const REJECT: &[u8] = b"3";
    /// SequenceReset (4): GapFill or Reset mode.
    pub const SEQUENCE_RESET: &[u8] = b"4";
    /// Logout (5)
    pub const LOGOUT: &[u8] = b"5";
    /// ExecutionReport (8)
    pub const EXECUTION_REPORT: &[u8] = b"8";
    /// OrderCancelReject (9)
    pub const ORDER_CANCEL_REJECT: &[u8] = b"9";
    /// Logon (A)
    pub const LOGON: &[u8] = b"A";
    /// News (B)
    pub const NEWS: &[u8] = b"B";
    /// Email (C)
    pub const EMAIL: &[u8] = b"C";
    /// NewOrderSingle (D)
    pub const NEW_ORDER_SINGLE: &[u8] = b"D";
    /// OrderCancelRequest (F)
    pub const ORDER_CANCEL_REQUEST: &[u8] = b"F";
    /// OrderCancelReplaceRequest (G)
    pub const ORDER_CANCEL_REPLACE_REQUEST: &[u8] = b"G";
    /// SecurityDefinition (d)
    pub const SECURITY_DEFINITION: &[u8] = b"d";
    /// BusinessMessageReject (j)
    pub const BUSINESS_MESSAGE_REJECT: &[u8] = b"j";
    /// XMLnonFIX (n)
    pub const XML_NON_FIX: &[u8] = b"n";

    /// True for the seven session-level (administrative) messages: Heartbeat,
    /// TestRequest, ResendRequest, Reject, SequenceReset, Logout and Logon.
    /// They are replaced by a SequenceReset-GapFill when resent.
    pub fn is_admin(msg_type: &[u8]) -> bool {
        matches!(msg_type, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_tags_are_sorted_and_recognised() {
        assert!(HEADER_TAGS.windows(2).all(|w| w[0] < w[1]));
        for &t in HEADER_TAGS {
            assert!(is_header(t), "{t}");
        }
        for t in [BEGIN_STRING, BODY_LENGTH, MSG_TYPE] {
            assert!(is_header(t));
        }
        assert!(!is_header(CL_ORD_ID));
        assert!(!is_header(CHECK_SUM));
        assert!(is_trailer(CHECK_SUM));
    }

    #[test]
    fn header_bitset_matches_the_list() {
        for tag in 0..5000 {
            let listed = HEADER_TAGS.contains(&tag) || [8, 9, 35].contains(&tag);
            assert_eq!(is_header(tag), listed, "{tag}");
        }
        assert!(!is_header(u32::MAX));
    }

    #[test]
    fn data_fields_pair_with_their_lengths() {
        assert_eq!(data_field_for_length(RAW_DATA_LENGTH), Some(RAW_DATA));
        assert_eq!(data_field_for_length(SIGNATURE_LENGTH), Some(SIGNATURE));
        assert_eq!(data_field_for_length(ENCODED_TEXT_LEN), Some(ENCODED_TEXT));
        assert_eq!(data_field_for_length(RAW_DATA), None);
    }

    #[test]
    fn admin_types() {
        for t in [b"0", b"1", b"2", b"3", b"4", b"5", b"A"] {
            assert!(msg_type::is_admin(t));
        }
        assert!(!msg_type::is_admin(msg_type::NEW_ORDER_SINGLE));
        assert!(!msg_type::is_admin(b"AA"));
    }
}
