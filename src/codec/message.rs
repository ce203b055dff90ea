//! The owned `Message` applications build and read: a MsgType and fields in order.
//!
//! All values live in one byte buffer with a `(tag, range)` index beside it, so a
//! message of any size costs two allocations, not one per field. The session layer
//! adds the standard header (MsgSeqNum, CompIDs, SendingTime) when it sends one:
//! applications only set the fields that are theirs.

use std::fmt;
use std::ops::Range;

use crate::codec::decode::{Fields, MessageView};
use crate::codec::encode::{Encoder, write_u64};
use crate::codec::error::{FieldError, Snippet};
use crate::codec::tags;
use crate::codec::time::{TimePrecision, UtcTimestamp};
use crate::id::{CompId, FixVersion, SeqNum};

/// An application message owned by the caller.
///
/// ```
/// use fixengine::{Message, tags};
/// let order = Message::new("D")
///     .with(tags::CL_ORD_ID, "ORD-1")
///     .with(tags::SIDE, '1')
///     .with(tags::ORDER_QTY, 100u32)
///     .with(tags::PRICE, "10.25");
/// assert_eq!(order.msg_type(), b"D");
/// assert_eq!(order.get(tags::ORDER_QTY), Some(&b"100"[..]));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    msg_type: Range<u32>,
    fields: Vec<(u32, Range<u32>)>,
    data: Vec<u8>,
}

impl Message {
    /// An empty message of the given MsgType(35), e.g. `"D"` or [`tags::msg_type::NEW_ORDER_SINGLE`].
    pub fn new(msg_type: impl AsRef<[u8]>) -> Self {
        let msg_type = msg_type.as_ref();
        let mut data = Vec::with_capacity(128);
        data.extend_from_slice(msg_type);
        Self {
            msg_type: 0..msg_type.len() as u32,
            fields: Vec::with_capacity(16),
            data,
        }
    }

    /// Appends `tag=value` and returns the message, for building in one expression.
    #[must_use]
    pub fn with(mut self, tag: u32, value: impl FieldValue) -> Self {
        self.push(tag, value);
        self
    }

    /// Appends `tag=value`, after any existing occurrence (repeated tags and group
    /// members are pushed in wire order).
    pub fn push(&mut self, tag: u32, value: impl FieldValue) -> &mut Self {
        let start = self.data.len() as u32;
        value.write_value(&mut self.data);
        let end = self.data.len() as u32;
        self.fields.push((tag, start..end));
        self
    }

    /// Sets `tag` to `value`: replaces the first occurrence, or appends.
    pub fn set(&mut self, tag: u32, value: impl FieldValue) -> &mut Self {
        match self.fields.iter().position(|(t, _)| *t == tag) {
            Some(i) => {
                // The old bytes stay in the buffer unused; rebuilding would cost more
                // than it saves for messages that live as briefly as these do.
                let start = self.data.len() as u32;
                value.write_value(&mut self.data);
                self.fields[i].1 = start..self.data.len() as u32;
            }
            None => {
                self.push(tag, value);
            }
        }
        self
    }

    /// Removes every occurrence of `tag`; returns how many there were.
    pub fn remove(&mut self, tag: u32) -> usize {
        let before = self.fields.len();
        self.fields.retain(|(t, _)| *t != tag);
        before - self.fields.len()
    }

    /// MsgType(35).
    pub fn msg_type(&self) -> &[u8] {
        &self.data[range(&self.msg_type)]
    }

    /// True for session-level MsgTypes, which applications may not send.
    pub fn is_admin(&self) -> bool {
        tags::msg_type::is_admin(self.msg_type())
    }

    /// The value of the first occurrence of `tag`.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, r)| &self.data[range(r)])
    }

    /// The value of `tag` as text, if present and UTF-8.
    pub fn get_str(&self, tag: u32) -> Option<&str> {
        self.get(tag).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `tag`, in order.
    pub fn get_all(&self, tag: u32) -> impl Iterator<Item = &[u8]> {
        self.fields
            .iter()
            .filter(move |(t, _)| *t == tag)
            .map(|(_, r)| &self.data[range(r)])
    }

    /// The fields in order, as `(tag, value)`.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (u32, &[u8])> {
        self.fields.iter().map(|(t, r)| (*t, &self.data[range(r)]))
    }

    /// The number of fields (MsgType not counted).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the message has no fields besides MsgType.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Checks that the message can be put on the wire as it is: a non-empty MsgType
    /// without SOH or `=`, tags above 0, no field the session layer owns (BeginString,
    /// BodyLength, CheckSum), no empty values, and no SOH except in data fields.
    ///
    /// # Errors
    /// The first problem, naming the tag.
    pub fn validate(&self) -> Result<(), FieldError> {
        let mt = self.msg_type();
        if mt.is_empty() || mt.iter().any(|&b| b == SOH || b == b'=') {
            return Err(FieldError::Format {
                tag: tags::MSG_TYPE,
                expected: "MsgType",
                found: Snippet::new(mt),
            });
        }
        let mut data_tag = None;
        for (tag, value) in self.fields() {
            if tag == 0 {
                return Err(FieldError::InvalidTagNumber {
                    found: Snippet::new(b"0"),
                });
            }
            if matches!(
                tag,
                tags::BEGIN_STRING | tags::BODY_LENGTH | tags::CHECK_SUM | tags::MSG_TYPE
            ) {
                return Err(FieldError::Format {
                    tag,
                    expected: "a field the application may set (the session writes 8, 9, 10 and 35)",
                    found: Snippet::new(value),
                });
            }
            if value.is_empty() {
                return Err(FieldError::Empty { tag });
            }
            let is_data = data_tag.take() == Some(tag);
            if !is_data && value.contains(&SOH) {
                return Err(FieldError::Format {
                    tag,
                    expected: "a value without SOH",
                    found: Snippet::new(value),
                });
            }
            data_tag = tags::data_field_for_length(tag);
        }
        Ok(())
    }

    /// Encodes the message as a complete frame at the end of `out` and returns its length.
    ///
    /// `header` holds the standard header fields the session supplies (MsgSeqNum,
    /// SenderCompID, SendingTime, TargetCompID...), in ascending tag order. They are
    /// merged with the message's own header fields (OnBehalfOfCompID, PossResend...)
    /// so the header comes out in ascending tag order after 8, 9 and 35, as QuickFIX
    /// writes it; where both set a tag, `header` wins. Body fields follow in the
    /// message's order. Fields the session owns (8, 9, 10, 35) are never copied.
    pub fn encode(&self, version: FixVersion, header: &[(u32, &[u8])], out: &mut Vec<u8>) -> usize {
        let mut enc = Encoder::start(out, version.begin_string(), self.msg_type());
        let is_own_header =
            |t: u32| tags::is_header(t) && !is_framing(t) && !header.iter().any(|h| h.0 == t);
        // Ascending by tag, except that the NoHops(627) group stays together and in
        // its own order. Selection by repeated minimum: a message has a handful of
        // header fields at most, and this needs no allocation.
        let key = |t: u32| {
            if (tags::NO_HOPS..=tags::HOP_REF_ID).contains(&t) {
                tags::NO_HOPS
            } else {
                t
            }
        };
        let mut std_fields = header.iter().peekable();
        let mut last: Option<u32> = None;
        let has_own_header = self.fields.iter().any(|(t, _)| is_own_header(*t));
        while let Some(k) = has_own_header
            .then(|| {
                self.fields()
                    .filter(|&(t, _)| is_own_header(t) && last.is_none_or(|l| key(t) > l))
                    .map(|(t, _)| key(t))
                    .min()
            })
            .flatten()
        {
            while let Some(&(t, v)) = std_fields.next_if(|(t, _)| *t < k) {
                enc.bytes(t, v);
            }
            for (t, v) in self
                .fields()
                .filter(|&(t, _)| is_own_header(t) && key(t) == k)
            {
                enc.bytes(t, v);
            }
            last = Some(k);
        }
        for &(t, v) in std_fields {
            enc.bytes(t, v);
        }
        for (t, v) in self.fields() {
            if !tags::is_header(t) && !is_framing(t) {
                enc.bytes(t, v);
            }
        }
        enc.finish()
    }
}

impl From<&MessageView<'_>> for Message {
    /// Copies a decoded frame's MsgType and its fields, except BeginString(8),
    /// BodyLength(9), MsgType(35) and CheckSum(10).
    fn from(view: &MessageView<'_>) -> Self {
        let mut m = Self::new(view.msg_type());
        m.data.reserve(view.frame().len());
        for f in view.iter() {
            if !is_framing(f.tag) {
                m.push(f.tag, f.value);
            }
        }
        m
    }
}

impl fmt::Debug for Message {
    /// Shows `35=<type>|tag=value|...` with secrets such as Password(554) masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Message(35={}|",
            Snippet::new(self.msg_type()).to_string().trim_matches('"')
        )?;
        for (tag, value) in self.fields() {
            if tags::is_secret(tag) {
                write!(f, "{tag}=***|")?;
            } else {
                let mut shown = String::with_capacity(value.len());
                for &b in value {
                    match b {
                        0x20..=0x7e => shown.push(b as char),
                        _ => shown.push_str(&format!("\\x{b:02x}")),
                    }
                }
                write!(f, "{tag}={shown}|")?;
            }
        }
        f.write_str(")")
    }
}

/// A value that can be written as a FIX field value.
///
/// Implemented for text and bytes (written as they are), integers, `char`, `bool`
/// (`Y`/`N`), [`UtcTimestamp`] (millisecond precision; use [`Timestamp`] for
/// another), [`SeqNum`] and [`CompId`]. Floating-point numbers are deliberately
/// not: pass prices and quantities as decimal text so no rounding creeps in.
pub trait FieldValue {
    /// Appends the value's wire bytes to `out`.
    fn write_value(&self, out: &mut Vec<u8>);
}

/// A [`UtcTimestamp`] with an explicit precision, for [`Message::with`].
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub UtcTimestamp, pub TimePrecision);

impl FieldValue for Timestamp {
    fn write_value(&self, out: &mut Vec<u8>) {
        self.0.write_to(self.1, out);
    }
}

impl FieldValue for UtcTimestamp {
    fn write_value(&self, out: &mut Vec<u8>) {
        self.write_to(TimePrecision::Millis, out);
    }
}

impl FieldValue for &str {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FieldValue for String {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FieldValue for &String {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl FieldValue for &[u8] {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> FieldValue for &[u8; N] {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self[..]);
    }
}

impl FieldValue for Vec<u8> {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl FieldValue for char {
    fn write_value(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(self.encode_utf8(&mut buf).as_bytes());
    }
}

impl FieldValue for bool {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.push(if *self { b'Y' } else { b'N' });
    }
}

impl FieldValue for SeqNum {
    fn write_value(&self, out: &mut Vec<u8>) {
        write_u64(out, self.get());
    }
}

impl FieldValue for &CompId {
    fn write_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

macro_rules! unsigned_values {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            fn write_value(&self, out: &mut Vec<u8>) {
                write_u64(out, *self as u64);
            }
        }
    )*};
}

macro_rules! signed_values {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            fn write_value(&self, out: &mut Vec<u8>) {
                if *self < 0 {
                    out.push(b'-');
                }
                write_u64(out, (*self as i64).unsigned_abs());
            }
        }
    )*};
}

unsigned_values!(u8, u16, u32, u64, usize);
signed_values!(i8, i16, i32, i64, isize);

fn range(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

fn is_framing(tag: u32) -> bool {
    matches!(
        tag,
        tags::BEGIN_STRING | tags::BODY_LENGTH | tags::MSG_TYPE | tags::CHECK_SUM
    )
}

const SOH: u8 = 0x01;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::decode::Decoder;
    use crate::codec::frame::{Framer, Status};
    use crate::codec::tags::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).replace('\x01', "|")
    }

    #[test]
    fn builds_reads_and_edits() {
        let mut m = Message::new(msg_type::NEW_ORDER_SINGLE)
            .with(CL_ORD_ID, "A")
            .with(ORDER_QTY, 100u32)
            .with(PRICE, -5i32)
            .with(SIDE, '1')
            .with(POSS_RESEND, true);
        assert_eq!(m.len(), 5);
        assert_eq!(m.get(PRICE), Some(&b"-5"[..]));
        assert_eq!(m.get_str(CL_ORD_ID), Some("A"));
        m.set(CL_ORD_ID, "B");
        m.set(TEXT, "new");
        assert_eq!(m.get_str(CL_ORD_ID), Some("B"));
        assert_eq!(m.get_str(TEXT), Some("new"));
        m.push(TEXT, "again");
        assert_eq!(m.get_all(TEXT).count(), 2);
        assert_eq!(m.remove(TEXT), 2);
        assert_eq!(m.remove(TEXT), 0);
        assert_eq!(m.get(POSS_RESEND), Some(&b"Y"[..]));
        assert!(!m.is_admin());
        assert!(Message::new("0").is_admin());
    }

    #[test]
    fn encodes_header_in_ascending_order_after_8_9_35() {
        let m = Message::new("D")
            .with(CL_ORD_ID, "ORD-1")
            .with(ON_BEHALF_OF_COMP_ID, "OBO")
            .with(POSS_RESEND, "Y")
            .with(SYMBOL, "IBM")
            .with(MSG_SEQ_NUM, "999"); // the session's value wins
        let mut out = Vec::new();
        let header: [(u32, &[u8]); 4] = [
            (MSG_SEQ_NUM, b"5"),
            (SENDER_COMP_ID, b"ISLD"),
            (SENDING_TIME, b"20261125-20:16:27.000"),
            (TARGET_COMP_ID, b"TW"),
        ];
        let n = m.encode(FixVersion::Fix44, &header, &mut out);
        assert_eq!(Framer::default().parse(&out), Ok(Status::Complete(n)));
        let s = text(&out);
        assert!(
            s.starts_with("8=FIX.4.4|9=") && s.contains("|35=D|34=5|49=ISLD|52=20261125-20:16:27.000|56=TW|97=Y|115=OBO|11=ORD-1|55=IBM|10="),
            "{s}"
        );
    }

    #[test]
    fn round_trips_through_the_decoder() {
        let m = Message::new("8")
            .with(ORDER_ID, "O1")
            .with(RAW_DATA_LENGTH, 3u8)
            .with(RAW_DATA, &b"a\x01b"[..])
            .with(TEXT, "t");
        m.validate().unwrap();
        let mut out = Vec::new();
        m.encode(FixVersion::Fix50Sp2, &[(MSG_SEQ_NUM, b"1")], &mut out);
        assert!(out.starts_with(b"8=FIXT.1.1\x01"));
        let mut d = Decoder::new();
        let view = d.decode(&out).unwrap();
        let back = Message::from(&view);
        assert_eq!(back.msg_type(), b"8");
        assert_eq!(back.get(RAW_DATA), Some(&b"a\x01b"[..]));
        let body: Vec<(u32, &[u8])> = back.fields().filter(|f| !is_header(f.0)).collect();
        let orig: Vec<(u32, &[u8])> = m.fields().collect();
        assert_eq!(body, orig);
    }

    #[test]
    fn validate_names_the_problem() {
        assert_eq!(
            Message::new("D").with(TEXT, "").validate(),
            Err(FieldError::Empty { tag: 58 })
        );
        let e = Message::new("D")
            .with(TEXT, "a\x01b")
            .validate()
            .unwrap_err();
        assert!(matches!(e, FieldError::Format { tag: 58, .. }));
        assert!(e.to_string().contains("a|b"), "{e}");
        assert!(Message::new("D").with(CHECK_SUM, "000").validate().is_err());
        assert!(Message::new("").validate().is_err());
        assert!(Message::new("D").with(0, "x").validate().is_err());
        // SOH is fine inside a data field announced by its length.
        assert!(
            Message::new("D")
                .with(RAW_DATA_LENGTH, 3u8)
                .with(RAW_DATA, "a\x01b")
                .validate()
                .is_ok()
        );
        // ...but not in a data field without its length before it.
        assert!(
            Message::new("D")
                .with(RAW_DATA, "a\x01b")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn debug_masks_secrets() {
        let m = Message::new("A")
            .with(USERNAME, "u")
            .with(PASSWORD, "hunter2");
        let s = format!("{m:?}");
        assert!(s.contains("554=***") && !s.contains("hunter2"), "{s}");
    }
}
