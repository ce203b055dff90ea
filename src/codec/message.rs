//! The owned `Message` applications build and read: a MsgType and fields in order.
//!
//! All fields live in one byte buffer, already in wire form (`tag=value<SOH>`),
//! with a `(tag, range)` index beside it: a message of any size costs two
//! allocations, not one per field, and encoding its body is a single copy. The session layer
//! adds the standard header (MsgSeqNum, CompIDs, SendingTime) when it sends one:
//! applications only set the fields that are theirs.

use std::fmt;
use std::ops::Range;

use crate::codec::SOH;
use crate::codec::encode::{Encoder, write_u64};
use crate::codec::error::{FieldError, Snippet};
use crate::codec::fields::{Fields, format_error};
use crate::codec::tags;
use crate::codec::time::{TimePrecision, UtcTimestamp};
use crate::codec::view::MessageView;
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
    /// MsgType, then every field exactly as it goes on the wire (`tag=value<SOH>`),
    /// so encoding a body is one copy.
    data: Vec<u8>,
    msg_type_len: u32,
    fields: Vec<FieldRef>,
    /// Fields that cannot be copied with the body: header fields, which the encoder
    /// moves into the header, and the framing tags 8, 9, 10 and 35.
    special: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldRef {
    tag: u32,
    /// Where `tag=` starts in `data`.
    start: u32,
    /// The value, between `=` and SOH.
    value: Range<u32>,
}

impl Message {
    /// An empty message of the given MsgType(35), e.g. `"D"` or [`tags::msg_type::NEW_ORDER_SINGLE`].
    pub fn new(msg_type: impl AsRef<[u8]>) -> Self {
        let msg_type = msg_type.as_ref();
        let mut data = Vec::with_capacity(128);
        data.extend_from_slice(msg_type);
        Self {
            data,
            msg_type_len: msg_type.len() as u32,
            fields: Vec::with_capacity(16),
            special: 0,
        }
    }

    /// Empties the message and gives it MsgType `msg_type`, keeping its buffers:
    /// an application answering every order with a report can build each one in
    /// the same `Message` without allocating.
    pub fn reset(&mut self, msg_type: impl AsRef<[u8]>) -> &mut Self {
        let msg_type = msg_type.as_ref();
        self.data.clear();
        self.data.extend_from_slice(msg_type);
        self.msg_type_len = msg_type.len() as u32;
        self.fields.clear();
        self.special = 0;
        self
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
        write_u64(&mut self.data, u64::from(tag));
        self.data.push(b'=');
        let value_start = self.data.len() as u32;
        value.write_value(&mut self.data);
        let value_end = self.data.len() as u32;
        self.data.push(SOH);
        self.fields.push(FieldRef {
            tag,
            start,
            value: value_start..value_end,
        });
        self.special += u32::from(is_special(tag));
        self
    }

    /// Sets `tag` to `value`: replaces the first occurrence, or appends.
    pub fn set(&mut self, tag: u32, value: impl FieldValue) -> &mut Self {
        let Some(i) = self.fields.iter().position(|f| f.tag == tag) else {
            return self.push(tag, value);
        };
        let mut new = Vec::new();
        value.write_value(&mut new);
        let old = range(&self.fields[i].value);
        let delta = new.len() as i64 - old.len() as i64;
        self.data.splice(old, new);
        let end = self.fields[i].value.end as i64 + delta;
        self.fields[i].value.end = end as u32;
        self.shift_from(i + 1, delta);
        self
    }

    /// Removes every occurrence of `tag`; returns how many there were.
    pub fn remove(&mut self, tag: u32) -> usize {
        let mut removed = 0;
        while let Some(i) = self.fields.iter().position(|f| f.tag == tag) {
            let f = self.fields.remove(i);
            let bytes = f.start as usize..f.value.end as usize + 1;
            let delta = -(bytes.len() as i64);
            self.data.drain(bytes);
            self.shift_from(i, delta);
            self.special -= u32::from(is_special(tag));
            removed += 1;
        }
        removed
    }

    /// MsgType(35).
    pub fn msg_type(&self) -> &[u8] {
        &self.data[..self.msg_type_len as usize]
    }

    /// True for session-level MsgTypes, which applications may not send.
    pub fn is_admin(&self) -> bool {
        tags::msg_type::is_admin(self.msg_type())
    }

    /// The value of the first occurrence of `tag`.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.tag == tag)
            .map(|f| &self.data[range(&f.value)])
    }

    /// The value of `tag` as text, read as [`Fields::get_str`](super::Fields::get_str)
    /// reads a received message's: code moves between the two unchanged.
    ///
    /// # Errors
    /// [`FieldError::Missing`], [`FieldError::Empty`], or [`FieldError::Format`]
    /// when the value is not UTF-8.
    pub fn get_str(&self, tag: u32) -> Result<&str, FieldError> {
        match self.get(tag) {
            None => Err(FieldError::Missing { tag }),
            Some([]) => Err(FieldError::Empty { tag }),
            Some(v) => std::str::from_utf8(v).map_err(|_| format_error(tag, "String", v)),
        }
    }

    /// Every value of `tag`, in order.
    pub fn get_all(&self, tag: u32) -> impl Iterator<Item = &[u8]> {
        self.fields
            .iter()
            .filter(move |f| f.tag == tag)
            .map(|f| &self.data[range(&f.value)])
    }

    /// The fields in order, as `(tag, value)`.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (u32, &[u8])> {
        self.fields
            .iter()
            .map(|f| (f.tag, &self.data[range(&f.value)]))
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
            if is_framing(tag) {
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
        if self.special == 0 {
            // The common case: the body is already wire bytes.
            for &(t, v) in header {
                enc.bytes(t, v);
            }
            enc.raw(&self.data[self.msg_type_len as usize..]);
            return enc.finish();
        }
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
        while let Some(k) = self
            .fields()
            .filter(|&(t, _)| is_own_header(t) && last.is_none_or(|l| key(t) > l))
            .map(|(t, _)| key(t))
            .min()
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
        for f in &self.fields {
            if !is_special(f.tag) {
                enc.raw(&self.data[f.start as usize..=f.value.end as usize]);
            }
        }
        enc.finish()
    }

    /// Moves the fields from index `i` on by `delta` bytes, after an edit before them.
    fn shift_from(&mut self, i: usize, delta: i64) {
        let move_by = |x: u32| (i64::from(x) + delta) as u32;
        for f in &mut self.fields[i..] {
            f.start = move_by(f.start);
            f.value = move_by(f.value.start)..move_by(f.value.end);
        }
    }
}

impl From<&MessageView<'_>> for Message {
    /// Copies a decoded frame's MsgType and its fields, except BeginString(8),
    /// BodyLength(9), MsgType(35) and CheckSum(10).
    fn from(view: &MessageView<'_>) -> Self {
        let mut m = Self::new(view.msg_type());
        m.data.reserve(view.frame().len());
        m.fields.reserve(view.len());
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
/// Implemented for text and bytes (written as they are), integers, floating-point
/// numbers, `char`, `bool` (`Y`/`N`), [`UtcTimestamp`] (millisecond precision; use
/// [`Timestamp`] for another), [`SeqNum`] and [`CompId`].
///
/// A float is written as the shortest decimal that reads back as the same float,
/// never in exponent notation: `101.25` is written `101.25`, `0.1` is `0.1`. What
/// a computation in binary floating point rounded stays rounded (`0.1 + 0.2` is
/// `0.30000000000000004`): prices computed in a program are best kept in integer
/// ticks or as decimal text. NaN and the infinities have no FIX form: they are
/// written empty, and a send refuses the message for its empty field.
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

macro_rules! float_values {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            fn write_value(&self, out: &mut Vec<u8>) {
                use std::io::Write as _;
                if self.is_finite() {
                    // Display is the shortest round-trip form, without exponent;
                    // writing to a Vec cannot fail.
                    let _ = write!(out, "{self}");
                }
            }
        }
    )*};
}

unsigned_values!(u8, u16, u32, u64, usize);
float_values!(f32, f64);
signed_values!(i8, i16, i32, i64, isize);

fn range(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

/// Fields [`Message::encode`] cannot copy along with the body.
fn is_special(tag: u32) -> bool {
    tags::is_header(tag) || tag == tags::CHECK_SUM
}

fn is_framing(tag: u32) -> bool {
    matches!(
        tag,
        tags::BEGIN_STRING | tags::BODY_LENGTH | tags::MSG_TYPE | tags::CHECK_SUM
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::decode::Decoder;
    use crate::codec::frame::{Framer, Status};
    use crate::codec::tags::*;

    #[test]
    fn reset_empties_a_message_for_reuse() {
        let mut m = Message::new("D")
            .with(CL_ORD_ID, "A")
            .with(MSG_SEQ_NUM, 7u64);
        m.reset("8").push(ORDER_ID, "O1");
        assert_eq!(m.msg_type(), b"8");
        assert_eq!(m.get(CL_ORD_ID), None);
        assert_eq!(m.get(ORDER_ID), Some(&b"O1"[..]));
        assert_eq!(m, Message::new("8").with(ORDER_ID, "O1"));
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).replace('\x01', "|")
    }

    #[test]
    fn prices_as_floats_are_written_as_the_shortest_decimal() {
        let m = Message::new("8")
            .with(AVG_PX, 101.25)
            .with(PRICE, 0.1f64)
            .with(LAST_PX, 1e-7)
            .with(ORDER_QTY, 1e21)
            .with(CUM_QTY, 3.5f32)
            .with(LEAVES_QTY, -2.0);
        assert_eq!(m.get_str(AVG_PX), Ok("101.25"));
        assert_eq!(m.get_str(PRICE), Ok("0.1"));
        assert_eq!(m.get_str(LAST_PX), Ok("0.0000001"));
        assert_eq!(m.get_str(ORDER_QTY), Ok("1000000000000000000000"));
        assert_eq!(m.get_str(CUM_QTY), Ok("3.5"));
        assert_eq!(m.get_str(LEAVES_QTY), Ok("-2"));
        assert!(m.validate().is_ok());
        // No FIX form: written empty, so the message is refused.
        let bad = Message::new("8").with(AVG_PX, f64::NAN);
        assert_eq!(bad.get(AVG_PX), Some(&b""[..]));
        assert!(bad.validate().is_err());
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
        assert_eq!(m.get_str(CL_ORD_ID), Ok("A"));
        m.set(CL_ORD_ID, "B");
        m.set(TEXT, "new");
        assert_eq!(m.get_str(CL_ORD_ID), Ok("B"));
        assert_eq!(m.get_str(TEXT), Ok("new"));
        m.push(TEXT, "again");
        assert_eq!(m.get_all(TEXT).count(), 2);
        assert_eq!(m.remove(TEXT), 2);
        assert_eq!(m.remove(TEXT), 0);
        assert_eq!(m.get(POSS_RESEND), Some(&b"Y"[..]));
        m.set(CL_ORD_ID, "LONGER-ID");
        m.remove(ORDER_QTY);
        assert!(!m.is_admin());
        // Edits keep the wire form exact: the encoded message decodes to the fields.
        let mut out = Vec::new();
        m.encode(FixVersion::Fix44, &[(MSG_SEQ_NUM, b"1")], &mut out);
        let mut d = Decoder::new();
        let view = d.decode(&out).unwrap();
        let got: Vec<(u32, Vec<u8>)> = view.body().map(|f| (f.tag, f.value.to_vec())).collect();
        assert_eq!(
            got,
            [
                (CL_ORD_ID, b"LONGER-ID".to_vec()),
                (PRICE, b"-5".to_vec()),
                (SIDE, b"1".to_vec())
            ]
        );
        assert_eq!(view.get(POSS_RESEND), Some(&b"Y"[..]));
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
