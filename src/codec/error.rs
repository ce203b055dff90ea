//! Codec errors: what was wrong with the peer's bytes, naming the tag and the value.
//!
//! These errors are `Copy` and never allocate: a hostile peer can make us build
//! one per frame, and that must cost no more than parsing did.

use std::fmt;

use thiserror::Error;

/// Up to 24 bytes of the offending input, shown escaped (SOH as `|`), so an error
/// names the value without allocating and without writing control bytes to a log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    len: u8,
    truncated: bool,
    bytes: [u8; Self::CAPACITY],
}

impl Snippet {
    /// The most bytes a snippet keeps.
    pub const CAPACITY: usize = 24;

    /// The first [`Snippet::CAPACITY`] bytes of `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        let n = bytes.len().min(Self::CAPACITY);
        let mut buf = [0u8; Self::CAPACITY];
        buf[..n].copy_from_slice(&bytes[..n]);
        Self {
            len: n as u8,
            truncated: bytes.len() > n,
            bytes: buf,
        }
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.as_bytes() {
            match b {
                0x01 => f.write_str("|")?,
                b'"' | b'\\' => write!(f, "\\{}", b as char)?,
                0x20..=0x7e => write!(f, "{}", b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str(if self.truncated { "\"..." } else { "\"" })
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a byte stream could not be cut into a FIX frame. The frame (or the junk)
/// is discarded and the stream goes on: see [`crate::codec::Garbled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The bytes do not start with `8=`: junk before the next frame.
    #[error("BeginString(8) is not the first field: skipped {found}")]
    BeginStringNotFirst {
        /// The start of the skipped bytes.
        found: Snippet,
    },
    /// BeginString(8) is not terminated by SOH within a sane length.
    #[error("BeginString(8) value is malformed: {found}")]
    BeginStringMalformed {
        /// The start of the field.
        found: Snippet,
    },
    /// The second field is not BodyLength(9).
    #[error("BodyLength(9) is not the second field: found {found}")]
    BodyLengthNotSecond {
        /// The bytes where BodyLength was expected.
        found: Snippet,
    },
    /// BodyLength(9) is empty or not a decimal number.
    #[error("BodyLength(9) is not a number: {found}")]
    BodyLengthNotNumber {
        /// The value.
        found: Snippet,
    },
    /// BodyLength(9) announces more than the configured MaxMessageSize.
    #[error("BodyLength(9) = {declared} exceeds MaxMessageSize = {max}")]
    MessageTooLarge {
        /// The announced body length (saturated at `usize::MAX`).
        declared: usize,
        /// The configured limit.
        max: usize,
    },
    /// No CheckSum(10) field was found within MaxMessageSize.
    #[error("CheckSum(10) missing: no 10= field within {max} bytes")]
    CheckSumMissing {
        /// The configured limit.
        max: usize,
    },
    /// CheckSum(10) is not exactly three digits from 000 to 255.
    #[error("CheckSum(10) is not three digits from 000 to 255: {found}")]
    CheckSumNotThreeDigits {
        /// The value.
        found: Snippet,
    },
    /// CheckSum(10) does not match the bytes.
    #[error("CheckSum(10) = {declared:03} but the message sums to {computed:03}")]
    CheckSumMismatch {
        /// The value in the message.
        declared: u8,
        /// The sum of the bytes.
        computed: u8,
    },
    /// BodyLength(9) does not match where CheckSum(10) actually starts.
    #[error("BodyLength(9) = {declared} but the body is {actual} bytes long")]
    BodyLengthMismatch {
        /// The value in the message.
        declared: usize,
        /// The length of the body as delimited by `10=`.
        actual: usize,
    },
    /// The third field is not MsgType(35).
    #[error("MsgType(35) is not the third field: found {found}")]
    MsgTypeNotThird {
        /// The bytes where MsgType was expected.
        found: Snippet,
    },
}

/// Why a complete frame could not be decoded into fields. Such a frame is garbled:
/// the session ignores it without consuming a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A field has no `=` before the next SOH (or the end of the frame).
    #[error("field at byte {offset} has no '=': {found}")]
    MissingEquals {
        /// Where the field starts in the frame.
        offset: usize,
        /// The field.
        found: Snippet,
    },
    /// The frame does not end with SOH.
    #[error("frame does not end with SOH")]
    Unterminated,
    /// A data field's length field is not a number, or points past the end of the frame.
    #[error("length field {length_tag} = {found} does not fit data field {data_tag}")]
    BadDataLength {
        /// The length field's tag, e.g. RawDataLength(95).
        length_tag: u32,
        /// The data field's tag, e.g. RawData(96).
        data_tag: u32,
        /// The length value.
        found: Snippet,
    },
    /// More fields than the decoder accepts in one message.
    #[error("more than {max} fields in one message")]
    TooManyFields {
        /// The limit.
        max: usize,
    },
}

/// A field that is absent or whose value cannot be read as the type asked for.
/// The session layer turns these into Reject(3) with the matching SessionRejectReason(373).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A field's tag is not a positive number (SessionRejectReason 0, "Invalid tag number").
    #[error("invalid tag number {found}")]
    InvalidTagNumber {
        /// The tag as sent.
        found: Snippet,
    },
    /// The tag is not in the message (SessionRejectReason 1, "Required tag missing").
    #[error("required tag {tag} missing")]
    Missing {
        /// The tag asked for.
        tag: u32,
    },
    /// The tag has an empty value (SessionRejectReason 4, "Tag specified without a value").
    #[error("tag {tag} specified without a value")]
    Empty {
        /// The tag.
        tag: u32,
    },
    /// The value is not of the type asked for (SessionRejectReason 6, "Incorrect data format for value").
    #[error("tag {tag} has incorrect data format for {expected}: {found}")]
    Format {
        /// The tag.
        tag: u32,
        /// The type asked for, e.g. "int" or "UTCTimestamp".
        expected: &'static str,
        /// The value.
        found: Snippet,
    },
    /// A value contains SOH although its field is not a data field
    /// (SessionRejectReason 17): the decoder joined it to that value.
    #[error("tag {tag} has a value with an embedded SOH")]
    EmbeddedSoh {
        /// The field whose value holds the SOH.
        tag: u32,
    },
    /// A repeating group's NumInGroup does not match its instances (SessionRejectReason 16).
    #[error("repeating group {count_tag} declares {declared} instances but has {found}")]
    GroupCount {
        /// The NumInGroup tag.
        count_tag: u32,
        /// Its value.
        declared: usize,
        /// The instances found.
        found: usize,
    },
}

impl FieldError {
    /// The tag the error is about, for RefTagID(371); 0 for an invalid tag number.
    pub fn tag(&self) -> u32 {
        match *self {
            Self::Missing { tag }
            | Self::Empty { tag }
            | Self::Format { tag, .. }
            | Self::EmbeddedSoh { tag } => tag,
            Self::GroupCount { count_tag, .. } => count_tag,
            Self::InvalidTagNumber { .. } => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_escapes_and_truncates() {
        let s = Snippet::new(b"8=FIX\x01\"\x00");
        assert_eq!(s.to_string(), r#""8=FIX|\"\x00""#);
        let long = Snippet::new(&[b'a'; 40]);
        assert_eq!(long.as_bytes().len(), Snippet::CAPACITY);
        assert!(long.to_string().ends_with("\"..."));
    }

    #[test]
    fn messages_name_the_values() {
        let e = FrameError::CheckSumMismatch {
            declared: 7,
            computed: 200,
        };
        assert_eq!(
            e.to_string(),
            "CheckSum(10) = 007 but the message sums to 200"
        );
        let e = FieldError::Format {
            tag: 34,
            expected: "SeqNum",
            found: Snippet::new(b"x1"),
        };
        assert_eq!(
            e.to_string(),
            "tag 34 has incorrect data format for SeqNum: \"x1\""
        );
        assert_eq!(e.tag(), 34);
    }
}
