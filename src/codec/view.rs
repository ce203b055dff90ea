//! [`MessageView`], the decoded view of one frame: O(1) access to the header
//! fields the session reads on every message (through header slots the decoder
//! fills while it scans), the split into header, body and trailer, and the first
//! field-level problem met while decoding.

use std::fmt;

use crate::codec::error::FieldError;
use crate::codec::fields::{DisplayFields, Field, FieldIter, FieldSlice, Fields, value_of};
use crate::codec::tags;
use crate::codec::time::UtcTimestamp;
use crate::id::SeqNum;

/// The zero-copy decoded view of one frame, from [`Decoder::decode`].
///
/// Values are `&[u8]` into the frame; the [`Fields`] trait gives typed access.
/// Decoding is lenient: a field with an invalid tag number or an empty value does
/// not fail it, because the session must still read MsgSeqNum(34) to answer such a
/// message with a Reject(3). The first such problem is in [`MessageView::problem`].
///
/// [`Decoder::decode`]: crate::codec::Decoder::decode
#[derive(Clone, Copy)]
pub struct MessageView<'a> {
    pub(super) fields: FieldSlice<'a>,
    pub(super) header: [u32; HEADER_SLOTS],
    pub(super) problem: Option<FieldError>,
}

impl<'a> MessageView<'a> {
    /// The whole frame, as received.
    pub fn frame(&self) -> &'a [u8] {
        self.fields.frame
    }

    /// The field at `index` in wire order (0 is BeginString), for callers that walk
    /// the fields by position, as a validator descending into groups does.
    pub fn field(&self, index: usize) -> Option<Field<'a>> {
        let e = *self.fields.entries.get(index)?;
        Some(Field {
            tag: e.tag,
            value: value_of(self.fields.frame, e),
        })
    }

    /// The number of fields, BeginString(8) to CheckSum(10) included.
    pub fn len(&self) -> usize {
        self.fields.entries.len()
    }

    /// Never true for a decoded frame; here because `len` is.
    pub fn is_empty(&self) -> bool {
        self.fields.entries.is_empty()
    }

    /// BeginString(8).
    pub fn begin_string(&self) -> &'a [u8] {
        self.header_value(SLOT_BEGIN_STRING).unwrap_or_default()
    }

    /// MsgType(35), empty if absent (the framer guarantees it is present).
    pub fn msg_type(&self) -> &'a [u8] {
        self.header_value(SLOT_MSG_TYPE).unwrap_or_default()
    }

    /// MsgSeqNum(34).
    ///
    /// # Errors
    /// Missing or not a positive number.
    pub fn msg_seq_num(&self) -> Result<SeqNum, FieldError> {
        self.get_seq_num(tags::MSG_SEQ_NUM)
    }

    /// SenderCompID(49), if present.
    pub fn sender_comp_id(&self) -> Option<&'a [u8]> {
        self.header_value(SLOT_SENDER)
    }

    /// TargetCompID(56), if present.
    pub fn target_comp_id(&self) -> Option<&'a [u8]> {
        self.header_value(SLOT_TARGET)
    }

    /// SendingTime(52).
    ///
    /// # Errors
    /// Missing or not a UTCTimestamp.
    pub fn sending_time(&self) -> Result<UtcTimestamp, FieldError> {
        self.get_timestamp(tags::SENDING_TIME)
    }

    /// True when PossDupFlag(43) is `Y`.
    pub fn is_poss_dup(&self) -> bool {
        self.header_value(SLOT_POSS_DUP) == Some(b"Y")
    }

    /// True when PossResend(97) is `Y`.
    pub fn is_poss_resend(&self) -> bool {
        self.header_value(SLOT_POSS_RESEND) == Some(b"Y")
    }

    /// True for the session-level messages (Heartbeat, TestRequest, ResendRequest,
    /// Reject, SequenceReset, Logout, Logon).
    pub fn is_admin(&self) -> bool {
        tags::msg_type::is_admin(self.msg_type())
    }

    /// The first field-level problem met while decoding: an invalid tag number or a
    /// tag without a value. The session answers it with a Reject(3).
    pub fn problem(&self) -> Option<FieldError> {
        self.problem
    }

    /// The raw bytes of the body fields (`tag=value<SOH>...`), exactly as received:
    /// from the first field after the standard header to the trailer. A resend
    /// copies these verbatim behind a rewritten header.
    pub fn body_bytes(&self) -> &'a [u8] {
        let entries = self.fields.entries;
        let body = self.body_range();
        if body.is_empty() {
            return &[];
        }
        // A field starts right after the SOH that ends the one before it.
        let from = body
            .start
            .checked_sub(1)
            .map_or(0, |i| entries[i].end as usize + 1);
        let to = entries[body.end - 1].end as usize + 1;
        &self.fields.frame[from..to]
    }

    /// The positions (as for [`MessageView::field`]) of the body fields: after the
    /// standard header, before the trailer. Header fields are `0..start`, trailer
    /// fields `end..len()`.
    pub fn body_range(&self) -> std::ops::Range<usize> {
        let entries = self.fields.entries;
        let start = entries
            .iter()
            .position(|e| !tags::is_header(e.tag))
            .unwrap_or(entries.len());
        let end = entries
            .iter()
            .rposition(|e| !tags::is_trailer(e.tag))
            .map_or(start, |p| (p + 1).max(start));
        start..end
    }

    /// The standard header fields after BeginString, BodyLength and MsgType, in wire order.
    pub fn header(&self) -> FieldIter<'a> {
        let entries = self.fields.entries;
        let start = entries.len().min(3);
        let end = self.body_range().start.max(start);
        FieldIter {
            frame: self.fields.frame,
            entries: &entries[start..end],
        }
    }

    /// The fields after the standard header and before the trailer, in wire order.
    pub fn body(&self) -> FieldIter<'a> {
        FieldIter {
            frame: self.fields.frame,
            entries: &self.fields.entries[self.body_range()],
        }
    }

    fn header_value(&self, slot: usize) -> Option<&'a [u8]> {
        match self.header[slot] {
            NONE => None,
            i => Some(value_of(self.fields.frame, self.fields.entries[i as usize])),
        }
    }
}

impl<'a> Fields<'a> for MessageView<'a> {
    /// O(1) for the indexed header fields (8, 35, 34, 43, 49, 52, 56, 97, 122),
    /// a linear scan otherwise (messages have tens of fields; a scan of a few
    /// cache lines beats hashing them).
    fn get(&self, tag: u32) -> Option<&'a [u8]> {
        match header_slot(tag) {
            Some(slot) => self.header_value(slot),
            None => self.fields.get(tag),
        }
    }

    fn iter(&self) -> FieldIter<'a> {
        self.fields.iter()
    }
}

impl fmt::Display for MessageView<'_> {
    /// The frame as `tag=value|...` (SOH shown as `|`), with secrets such as
    /// Password(554) masked and control bytes escaped: safe for a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&DisplayFields(self.iter()), f)
    }
}

impl fmt::Debug for MessageView<'_> {
    /// Shows the fields with secrets such as Password(554) masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageView")
            .field("fields", &DisplayFields(self.iter()))
            .field("problem", &self.problem)
            .finish()
    }
}

pub(super) const NONE: u32 = u32::MAX;
pub(super) const HEADER_SLOTS: usize = 9;
const SLOT_BEGIN_STRING: usize = 0;
const SLOT_MSG_TYPE: usize = 1;
const SLOT_SEQ_NUM: usize = 2;
const SLOT_POSS_DUP: usize = 3;
const SLOT_SENDER: usize = 4;
const SLOT_SENDING_TIME: usize = 5;
const SLOT_TARGET: usize = 6;
const SLOT_POSS_RESEND: usize = 7;
const SLOT_ORIG_SENDING_TIME: usize = 8;

#[inline]
pub(super) const fn header_slot(tag: u32) -> Option<usize> {
    Some(match tag {
        tags::BEGIN_STRING => SLOT_BEGIN_STRING,
        tags::MSG_TYPE => SLOT_MSG_TYPE,
        tags::MSG_SEQ_NUM => SLOT_SEQ_NUM,
        tags::POSS_DUP_FLAG => SLOT_POSS_DUP,
        tags::SENDER_COMP_ID => SLOT_SENDER,
        tags::SENDING_TIME => SLOT_SENDING_TIME,
        tags::TARGET_COMP_ID => SLOT_TARGET,
        tags::POSS_RESEND => SLOT_POSS_RESEND,
        tags::ORIG_SENDING_TIME => SLOT_ORIG_SENDING_TIME,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Decoder;
    use crate::codec::soh;
    use crate::codec::tags::*;

    #[test]
    fn iterates_in_wire_order_and_looks_up() {
        let f = soh(
            "8=FIX.4.4|9=5|35=D|34=7|49=A|56=B|52=20261125-20:16:27.123|11=X|55=IBM|11=Y|10=000|",
        );
        let mut d = Decoder::new();
        let m = d.decode(&f).unwrap();
        let tags: Vec<u32> = m.iter().map(|f| f.tag).collect();
        assert_eq!(tags, [8, 9, 35, 34, 49, 56, 52, 11, 55, 11, 10]);
        assert_eq!(m.begin_string(), b"FIX.4.4");
        assert_eq!(m.msg_type(), b"D");
        assert_eq!(m.msg_seq_num().unwrap().get(), 7);
        assert_eq!(m.sender_comp_id(), Some(&b"A"[..]));
        assert_eq!(m.target_comp_id(), Some(&b"B"[..]));
        assert_eq!(m.get(CL_ORD_ID), Some(&b"X"[..]));
        assert_eq!(m.get_all(CL_ORD_ID).collect::<Vec<_>>(), [b"X", b"Y"]);
        assert_eq!(m.get(TEXT), None);
        assert_eq!(m.sending_time().unwrap().subsec_nanos(), 123_000_000);
        let body: Vec<u32> = m.body().map(|f| f.tag).collect();
        assert_eq!(body, [11, 55, 11]);
        assert_eq!(m.body_bytes(), b"11=X\x0155=IBM\x0111=Y\x01");
        let header: Vec<u32> = m.header().map(|f| f.tag).collect();
        assert_eq!(header, [34, 49, 56, 52]);
        assert!(m.problem().is_none());
        assert!(!m.is_admin());
    }

    #[test]
    fn debug_masks_passwords() {
        let f = soh("8=FIX.4.4|35=A|553=u|554=secret|10=000|");
        let mut d = Decoder::new();
        let m = d.decode(&f).unwrap();
        let shown = format!("{m:?}");
        assert!(shown.contains("554=***"), "{shown}");
        assert!(!shown.contains("secret"));
        assert_eq!(m.to_string(), "8=FIX.4.4|35=A|553=u|554=***|10=000|");
    }
}
