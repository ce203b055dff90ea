//! The zero-copy decoded view of one frame.
//!
//! A [`Decoder`] splits a complete frame into `(tag, value range)` entries kept in
//! a buffer it reuses, so decoding allocates nothing once warm. The resulting
//! [`MessageView`] borrows both the frame and that buffer: values are `&[u8]`
//! into the frame until a caller asks for a typed value.
//!
//! Decoding is lenient on purpose: a field with an invalid tag number or an empty
//! value does not make the frame undecodable, because the session layer must still
//! read MsgSeqNum(34) to answer it with a Reject. The first such problem is kept
//! and reported by [`MessageView::problem`].

use std::fmt;

use crate::codec::SOH;
use crate::codec::error::{DecodeError, FieldError, Snippet};
use crate::codec::tags;
use crate::codec::time::UtcTimestamp;
use crate::id::SeqNum;

/// Reusable decoding state: the field index of the last decoded frame.
#[derive(Debug, Clone)]
pub struct Decoder {
    entries: Vec<Entry>,
    max_fields: usize,
}

/// The default limit on fields per message.
pub const DEFAULT_MAX_FIELDS: usize = 16_384;

impl Default for Decoder {
    /// A decoder that has not allocated yet (its index grows on first use), so
    /// one can be swapped out of a struct with `std::mem::take` for free.
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }
}

impl Decoder {
    /// A decoder accepting up to [`DEFAULT_MAX_FIELDS`] fields per message.
    pub fn new() -> Self {
        Self::with_max_fields(DEFAULT_MAX_FIELDS)
    }

    /// A decoder accepting up to `max_fields` fields per message.
    pub fn with_max_fields(max_fields: usize) -> Self {
        Self {
            entries: Vec::with_capacity(64),
            max_fields,
        }
    }

    /// Decodes one complete frame (as delimited by [`crate::Framer`]).
    ///
    /// # Errors
    /// [`DecodeError`] when the frame cannot be split into fields at all; the
    /// session treats such a frame as garbled.
    pub fn decode<'a>(&'a mut self, frame: &'a [u8]) -> Result<MessageView<'a>, DecodeError> {
        self.entries.clear();
        let mut header = [NONE; HEADER_SLOTS];
        let mut problem = None;
        if frame.last() != Some(&SOH) || u32::try_from(frame.len()).is_err() {
            return Err(DecodeError::Unterminated);
        }
        let mut pos = 0;
        // A data field's length, once its length field has been read.
        let mut pending_data: Option<(u32, u32, usize)> = None;
        'fields: while pos < frame.len() {
            let field_start = pos;
            let mut tag: u32 = 0;
            let mut tag_ok = true;
            if let Some((t, eq)) = fast_tag(frame, pos) {
                tag = t;
                pos = eq;
            } else {
                // The general path: long tags, the last few bytes, and every error.
                loop {
                    // In bounds: the frame ends with SOH (checked above), which ends
                    // this loop at the latest.
                    let b = frame[pos];
                    if b == b'=' {
                        break;
                    }
                    if b == SOH {
                        // No '=' before the next SOH: in a frame whose length and
                        // checksum are right, the likeliest reading is an SOH embedded
                        // in the previous value (SessionRejectReason 17).
                        let Some(previous) = self.entries.last_mut() else {
                            return Err(DecodeError::MissingEquals {
                                offset: field_start,
                                found: Snippet::new(&frame[field_start..]),
                            });
                        };
                        previous.end = pos as u32;
                        problem.get_or_insert(FieldError::EmbeddedSoh { tag: previous.tag });
                        pos += 1;
                        continue 'fields;
                    }
                    match (b.wrapping_sub(b'0'), tag.checked_mul(10)) {
                        (d @ 0..=9, Some(t)) => match t.checked_add(u32::from(d)) {
                            Some(t) => tag = t,
                            None => tag_ok = false,
                        },
                        _ => tag_ok = false,
                    }
                    pos += 1;
                }
            }
            if pos == field_start || tag == 0 {
                tag_ok = false;
            }
            let value_start = pos + 1;
            let value_end = match pending_data.take() {
                Some((length_tag, data_tag, len)) if data_tag == tag && tag_ok => {
                    let end = value_start.saturating_add(len);
                    if frame.get(end) != Some(&SOH) {
                        return Err(DecodeError::BadDataLength {
                            length_tag,
                            data_tag,
                            found: Snippet::new(len.to_string().as_bytes()),
                        });
                    }
                    end
                }
                _ => match find_soh(&frame[value_start..]) {
                    Some(p) => value_start + p,
                    None => return Err(DecodeError::Unterminated),
                },
            };
            if !tag_ok || value_end == value_start {
                note_problem(&mut problem, &mut tag, tag_ok, &frame[field_start..pos]);
            }
            if self.entries.len() == self.max_fields {
                return Err(DecodeError::TooManyFields {
                    max: self.max_fields,
                });
            }
            let index = self.entries.len();
            let class = match CLASS.get(tag as usize) {
                Some(&c) => c,
                None if tags::data_field_for_length(tag).is_some() => DATA_LENGTH,
                None => 0,
            };
            // A class holds a header slot plus one, so slot - 1 < HEADER_SLOTS.
            let slot = usize::from(class & !DATA_LENGTH);
            if slot != 0 && header[slot - 1] == NONE {
                header[slot - 1] = index as u32;
            }
            if let Some(data_tag) = (class & DATA_LENGTH != 0)
                .then(|| tags::data_field_for_length(tag))
                .flatten()
            {
                let value = &frame[value_start..value_end];
                match parse_u64(value).and_then(|n| usize::try_from(n).ok()) {
                    Some(len) => pending_data = Some((tag, data_tag, len)),
                    None => {
                        return Err(DecodeError::BadDataLength {
                            length_tag: tag,
                            data_tag,
                            found: Snippet::new(value),
                        });
                    }
                }
            }
            self.entries.push(Entry {
                tag,
                start: value_start as u32,
                end: value_end as u32,
            });
            pos = value_end + 1;
        }
        Ok(MessageView {
            fields: FieldSlice {
                frame,
                entries: &self.entries,
            },
            header,
            problem,
        })
    }
}

/// One field: its tag and its raw value, borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The tag number (0 for a tag that was not a valid number).
    pub tag: u32,
    /// The value bytes, without the `=` and the SOH.
    pub value: &'a [u8],
}

/// Read access to a run of fields: a whole message or one repeating-group instance.
///
/// The typed getters return [`FieldError::Missing`] when the tag is absent and
/// [`FieldError::Format`] when the value is not of the type; both carry the tag,
/// so the session can answer with the right SessionRejectReason(373).
pub trait Fields<'a> {
    /// The value of the first occurrence of `tag`.
    fn get(&self, tag: u32) -> Option<&'a [u8]>;

    /// The fields in wire order.
    fn iter(&self) -> FieldIter<'a>;

    /// True when `tag` occurs.
    fn contains(&self, tag: u32) -> bool {
        self.get(tag).is_some()
    }

    /// The raw value of `tag`, which must be present and non-empty.
    ///
    /// # Errors
    /// [`FieldError::Missing`] or [`FieldError::Empty`].
    fn get_bytes(&self, tag: u32) -> Result<&'a [u8], FieldError> {
        match self.get(tag) {
            None => Err(FieldError::Missing { tag }),
            Some([]) => Err(FieldError::Empty { tag }),
            Some(v) => Ok(v),
        }
    }

    /// Every value of `tag`, in wire order (repeated tags, group members).
    fn get_all(&self, tag: u32) -> impl Iterator<Item = &'a [u8]> {
        self.iter().filter(move |f| f.tag == tag).map(|f| f.value)
    }

    /// The value as UTF-8 text.
    ///
    /// # Errors
    /// Missing, empty, or not UTF-8.
    fn get_str(&self, tag: u32) -> Result<&'a str, FieldError> {
        let v = self.get_bytes(tag)?;
        std::str::from_utf8(v).map_err(|_| format_error(tag, "String", v))
    }

    /// The value as a FIX `int` (optional `-`, decimal digits).
    ///
    /// # Errors
    /// Missing, empty, or not an int that fits in `i64`.
    fn get_int(&self, tag: u32) -> Result<i64, FieldError> {
        let v = self.get_bytes(tag)?;
        parse_i64(v).ok_or_else(|| format_error(tag, "int", v))
    }

    /// The value as a non-negative integer (e.g. EndSeqNo(16), where 0 has a meaning).
    ///
    /// # Errors
    /// Missing, empty, or not a non-negative integer that fits in `u64`.
    fn get_u64(&self, tag: u32) -> Result<u64, FieldError> {
        let v = self.get_bytes(tag)?;
        parse_u64(v).ok_or_else(|| format_error(tag, "non-negative int", v))
    }

    /// The value as a sequence number (1 or more).
    ///
    /// # Errors
    /// Missing, empty, zero, or not a number.
    fn get_seq_num(&self, tag: u32) -> Result<SeqNum, FieldError> {
        let v = self.get_bytes(tag)?;
        parse_u64(v)
            .and_then(SeqNum::new)
            .ok_or_else(|| format_error(tag, "SeqNum", v))
    }

    /// The value as a FIX `Boolean`: `Y` or `N`.
    ///
    /// # Errors
    /// Missing, empty, or anything but `Y`/`N`.
    fn get_bool(&self, tag: u32) -> Result<bool, FieldError> {
        match self.get_bytes(tag)? {
            b"Y" => Ok(true),
            b"N" => Ok(false),
            v => Err(format_error(tag, "Boolean", v)),
        }
    }

    /// The value as a FIX `char`: exactly one byte.
    ///
    /// # Errors
    /// Missing, empty, or longer than one byte.
    fn get_char(&self, tag: u32) -> Result<u8, FieldError> {
        match self.get_bytes(tag)? {
            [c] => Ok(*c),
            v => Err(format_error(tag, "char", v)),
        }
    }

    /// The value as a UTCTimestamp (seconds to nanoseconds).
    ///
    /// # Errors
    /// Missing, empty, or not a valid UTCTimestamp.
    fn get_timestamp(&self, tag: u32) -> Result<UtcTimestamp, FieldError> {
        let v = self.get_bytes(tag)?;
        UtcTimestamp::parse(v).ok_or_else(|| format_error(tag, "UTCTimestamp", v))
    }

    /// The value as a FIX decimal (`float`, `Price`, `Qty`...), checked but kept as
    /// text so no precision is lost: optional `-`, digits, optional `.` and digits.
    ///
    /// # Errors
    /// Missing, empty, or not a decimal.
    fn get_decimal(&self, tag: u32) -> Result<&'a str, FieldError> {
        let v = self.get_bytes(tag)?;
        if is_decimal(v) {
            // A decimal is ASCII by construction.
            std::str::from_utf8(v).map_err(|_| format_error(tag, "float", v))
        } else {
            Err(format_error(tag, "float", v))
        }
    }

    /// The instances of the repeating group counted by `count_tag` (a NumInGroup
    /// field such as NoMsgTypes(384)).
    ///
    /// `members` lists the tags that may appear in an instance, the delimiter
    /// (the first field of every instance) first. Without a data dictionary this is
    /// how the end of the group is known: the group ends at the first field that is
    /// not a member. Nested groups work when their tags are listed too.
    ///
    /// # Errors
    /// [`FieldError::Missing`] when `count_tag` is absent, [`FieldError::Format`] when
    /// it is not a number, [`FieldError::GroupCount`] when the number of instances
    /// differs from its value (SessionRejectReason 16).
    fn group(&self, count_tag: u32, members: &[u32]) -> Result<Group<'a>, FieldError> {
        let all = self.iter();
        let (frame, entries) = (all.frame, all.entries);
        let at = entries
            .iter()
            .position(|e| e.tag == count_tag)
            .ok_or(FieldError::Missing { tag: count_tag })?;
        let raw = value_of(frame, entries[at]);
        let declared = parse_u64(raw)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format_error(count_tag, "NumInGroup", raw))?;
        let delimiter = members.first().copied().unwrap_or(0);
        let rest = &entries[at + 1..];
        let len = rest
            .iter()
            .position(|e| !members.contains(&e.tag))
            .unwrap_or(rest.len());
        let run = &rest[..len];
        // A run that does not start with the delimiter has fields outside any instance.
        let found = run.iter().filter(|e| e.tag == delimiter).count()
            + usize::from(run.first().is_some_and(|e| e.tag != delimiter));
        if found != declared {
            return Err(FieldError::GroupCount {
                count_tag,
                declared,
                found,
            });
        }
        Ok(Group {
            frame,
            entries: run,
            delimiter,
        })
    }
}

/// The zero-copy decoded view of one frame, from [`Decoder::decode`].
///
/// Values are `&[u8]` into the frame; the [`Fields`] trait gives typed access.
/// Decoding is lenient: a field with an invalid tag number or an empty value does
/// not fail it, because the session must still read MsgSeqNum(34) to answer such a
/// message with a Reject(3). The first such problem is in [`MessageView::problem`].
#[derive(Clone, Copy)]
pub struct MessageView<'a> {
    fields: FieldSlice<'a>,
    header: [u32; HEADER_SLOTS],
    problem: Option<FieldError>,
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

/// The instances of one repeating group; iterate to get each [`GroupEntry`].
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    frame: &'a [u8],
    entries: &'a [Entry],
    delimiter: u32,
}

impl<'a> Group<'a> {
    /// The number of instances.
    pub fn len(&self) -> usize {
        self.into_iter().count()
    }

    /// True when the group has no instances (NumInGroup = 0).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for Group<'a> {
    type Item = GroupEntry<'a>;
    type IntoIter = GroupIter<'a>;
    fn into_iter(self) -> GroupIter<'a> {
        GroupIter { group: self }
    }
}

/// Iterator over the instances of a [`Group`].
#[derive(Debug, Clone)]
pub struct GroupIter<'a> {
    group: Group<'a>,
}

impl<'a> Iterator for GroupIter<'a> {
    type Item = GroupEntry<'a>;
    fn next(&mut self) -> Option<GroupEntry<'a>> {
        let entries = self.group.entries;
        if entries.is_empty() {
            return None;
        }
        let end = entries[1..]
            .iter()
            .position(|e| e.tag == self.group.delimiter)
            .map_or(entries.len(), |p| p + 1);
        self.group.entries = &entries[end..];
        Some(GroupEntry(FieldSlice {
            frame: self.group.frame,
            entries: &entries[..end],
        }))
    }
}

/// One instance of a repeating group.
#[derive(Debug, Clone, Copy)]
pub struct GroupEntry<'a>(FieldSlice<'a>);

impl<'a> Fields<'a> for GroupEntry<'a> {
    fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.0.get(tag)
    }
    fn iter(&self) -> FieldIter<'a> {
        self.0.iter()
    }
}

/// Iterator over fields in wire order.
#[derive(Clone)]
pub struct FieldIter<'a> {
    frame: &'a [u8],
    entries: &'a [Entry],
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = Field<'a>;
    fn next(&mut self) -> Option<Field<'a>> {
        let (first, rest) = self.entries.split_first()?;
        self.entries = rest;
        Some(Field {
            tag: first.tag,
            value: value_of(self.frame, *first),
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.entries.len(), Some(self.entries.len()))
    }
}

impl ExactSizeIterator for FieldIter<'_> {}

impl fmt::Debug for FieldIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&DisplayFields(self.clone()), f)
    }
}

/// Formats fields as `tag=value|...`, masking secrets and escaping control bytes.
struct DisplayFields<'a>(FieldIter<'a>);

impl fmt::Debug for DisplayFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for field in self.0.clone() {
            write!(f, "{}=", field.tag)?;
            if tags::is_secret(field.tag) {
                f.write_str("***")?;
            } else {
                for &b in field.value {
                    match b {
                        0x20..=0x7e => write!(f, "{}", b as char)?,
                        _ => write!(f, "\\x{b:02x}")?,
                    }
                }
            }
            f.write_str("|")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct FieldSlice<'a> {
    frame: &'a [u8],
    entries: &'a [Entry],
}

impl<'a> FieldSlice<'a> {
    fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.entries
            .iter()
            .find(|e| e.tag == tag)
            .map(|e| value_of(self.frame, *e))
    }

    fn iter(&self) -> FieldIter<'a> {
        FieldIter {
            frame: self.frame,
            entries: self.entries,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tag: u32,
    start: u32,
    end: u32,
}

fn value_of(frame: &[u8], e: Entry) -> &[u8] {
    &frame[e.start as usize..e.end as usize]
}

pub(super) fn format_error(tag: u32, expected: &'static str, value: &[u8]) -> FieldError {
    FieldError::Format {
        tag,
        expected,
        found: Snippet::new(value),
    }
}

/// Parses unsigned decimal digits; `None` on anything else or overflow.
pub(crate) fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &b| {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

fn parse_i64(v: &[u8]) -> Option<i64> {
    match v {
        [b'-', digits @ ..] => {
            let n = parse_u64(digits)?;
            0i64.checked_sub_unsigned(n)
        }
        _ => i64::try_from(parse_u64(v)?).ok(),
    }
}

fn is_decimal(v: &[u8]) -> bool {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &[][..]),
    };
    (!int.is_empty() || !frac.is_empty())
        && int.iter().all(u8::is_ascii_digit)
        && frac.iter().all(u8::is_ascii_digit)
}

const NONE: u32 = u32::MAX;
const HEADER_SLOTS: usize = 9;
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
const fn header_slot(tag: u32) -> Option<usize> {
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

/// Keeps the first field-level problem; out of line, as it is rare.
#[cold]
fn note_problem(problem: &mut Option<FieldError>, tag: &mut u32, tag_ok: bool, raw_tag: &[u8]) {
    if tag_ok {
        problem.get_or_insert(FieldError::Empty { tag: *tag });
    } else {
        *tag = 0;
        problem.get_or_insert(FieldError::InvalidTagNumber {
            found: Snippet::new(raw_tag),
        });
    }
}

/// Per-tag facts the decoder needs for every field, for the tags below 256, looked
/// up instead of matched: the header slot plus one (0 = none) and [`DATA_LENGTH`].
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut tag = 0;
    while tag < 256 {
        if let Some(slot) = header_slot(tag as u32) {
            table[tag] = slot as u8 + 1;
        }
        if tags::data_field_for_length(tag as u32).is_some() {
            table[tag] |= DATA_LENGTH;
        }
        tag += 1;
    }
    table
};

/// Marks a length field whose data field follows (RawDataLength(95) and friends).
const DATA_LENGTH: u8 = 0x80;

/// Reads a tag of 1 to 9 digits followed by `=`: a plain digit loop with no
/// overflow checks (nine digits always fit in a `u32`). `None` sends the caller to
/// the general path, which also reports errors; a tag found here is exactly what
/// that path finds. (A word-at-a-time version measured slower: tags are short.)
#[inline]
fn fast_tag(frame: &[u8], pos: usize) -> Option<(u32, usize)> {
    let mut tag = 0u32;
    let mut p = pos;
    // The frame ends with SOH, which stops the loop before the end of the slice.
    while let Some(d) = frame
        .get(p)
        .map(|b| b.wrapping_sub(b'0'))
        .filter(|d| *d <= 9)
    {
        tag = tag.wrapping_mul(10).wrapping_add(u32::from(d));
        p += 1;
    }
    (frame.get(p) == Some(&b'=') && p > pos && p - pos <= 9 && tag != 0).then_some((tag, p))
}

/// The index of the first byte equal to `b` in the little-endian word `w`.
#[inline]
fn first_byte(w: u64, b: u8) -> Option<usize> {
    let x = w ^ (LO * u64::from(b));
    // The classic "has zero byte" test: the lowest flag is exact, higher ones may not be.
    let found = x.wrapping_sub(LO) & !x & HI;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The position of the first SOH, scanning a word at a time: values are most of
/// a message's bytes, so this loop is most of the decoding time.
#[inline]
fn find_soh(hay: &[u8]) -> Option<usize> {
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if let Some(i) = first_byte(u64::from_le_bytes(word), SOH) {
            return Some(base + i);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == SOH)
        .map(|p| base + p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tags::*;

    fn soh(s: &str) -> Vec<u8> {
        s.replace('|', "\x01").into_bytes()
    }

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
    fn typed_getters() {
        let f = soh(
            "8=FIX.4.4|35=A|34=0|43=Y|97=N|108=30|54=1|44=-12.50|38=.5|7=x|16=0|60=bad|58=ok|10=000|",
        );
        let mut d = Decoder::new();
        let m = d.decode(&f).unwrap();
        assert_eq!(m.get_int(HEART_BT_INT), Ok(30));
        assert_eq!(m.get_bool(POSS_DUP_FLAG), Ok(true));
        assert!(m.is_poss_dup());
        assert!(!m.is_poss_resend());
        assert_eq!(m.get_bool(POSS_RESEND), Ok(false));
        assert_eq!(m.get_char(SIDE), Ok(b'1'));
        assert_eq!(m.get_decimal(PRICE), Ok("-12.50"));
        assert_eq!(m.get_decimal(ORDER_QTY), Ok(".5"));
        assert_eq!(m.get_u64(END_SEQ_NO), Ok(0));
        assert_eq!(m.get_str(TEXT), Ok("ok"));
        assert!(matches!(
            m.msg_seq_num(),
            Err(FieldError::Format {
                tag: 34,
                expected: "SeqNum",
                ..
            })
        ));
        assert!(matches!(
            m.get_int(BEGIN_SEQ_NO),
            Err(FieldError::Format { tag: 7, .. })
        ));
        assert!(matches!(
            m.get_timestamp(TRANSACT_TIME),
            Err(FieldError::Format { tag: 60, .. })
        ));
        assert!(matches!(
            m.get_bool(HEART_BT_INT),
            Err(FieldError::Format { tag: 108, .. })
        ));
        assert!(matches!(
            m.get_char(PRICE),
            Err(FieldError::Format { tag: 44, .. })
        ));
        assert!(matches!(
            m.get_decimal(BEGIN_SEQ_NO),
            Err(FieldError::Format { tag: 7, .. })
        ));
        assert_eq!(m.get_int(SYMBOL), Err(FieldError::Missing { tag: 55 }));
        let e = m.get_timestamp(TRANSACT_TIME).unwrap_err();
        assert_eq!(
            e.to_string(),
            "tag 60 has incorrect data format for UTCTimestamp: \"bad\""
        );
    }

    #[test]
    fn int_edges() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_u64(b"007"), Some(7));
        assert!(!is_decimal(b"."));
        assert!(!is_decimal(b"1.2.3"));
        assert!(!is_decimal(b"1e5"));
        assert!(is_decimal(b"10."));
    }

    #[test]
    fn data_fields_may_contain_soh() {
        let f = soh("8=FIX.4.4|35=B|95=7|96=a|b=c|d|58=after|10=000|");
        let mut d = Decoder::new();
        let m = d.decode(&f).unwrap();
        assert_eq!(m.get(RAW_DATA), Some(&b"a\x01b=c\x01d"[..]));
        assert_eq!(m.body_bytes(), b"95=7\x0196=a\x01b=c\x01d\x0158=after\x01");
        // A frame the framer would refuse (no header first) still has safe accessors.
        let odd = soh("11=X|10=000|");
        let mut d2 = Decoder::new();
        let m2 = d2.decode(&odd).unwrap();
        assert_eq!(m2.body_bytes(), b"11=X\x01");
        assert_eq!(m2.header().count(), 0);
        assert_eq!(m.get(TEXT), Some(&b"after"[..]));
        let f = soh("8=FIX.4.4|35=B|354=3|355=||||58=x|10=000|");
        let m = d.decode(&f).unwrap();
        assert_eq!(m.get(ENCODED_TEXT), Some(&b"\x01\x01\x01"[..]));
        assert_eq!(m.get(TEXT), Some(&b"x"[..]));
    }

    #[test]
    fn data_length_errors() {
        let mut d = Decoder::new();
        let f = soh("8=FIX.4.4|35=B|95=50|96=abc|10=000|");
        assert!(matches!(
            d.decode(&f),
            Err(DecodeError::BadDataLength {
                length_tag: 95,
                data_tag: 96,
                ..
            })
        ));
        let f = soh("8=FIX.4.4|35=B|95=x|96=abc|10=000|");
        let e = d.decode(&f).unwrap_err();
        assert!(e.to_string().contains("95 = \"x\""), "{e}");
    }

    #[test]
    fn embedded_soh_joins_the_previous_value() {
        let f = soh("8=FIX.4.4|35=D|336=PRE-|OPEN|58=x|10=000|");
        let mut d = Decoder::new();
        let m = d.decode(&f).unwrap();
        assert_eq!(m.get(336), Some(&b"PRE-\x01OPEN"[..]));
        assert_eq!(m.get(TEXT), Some(&b"x"[..]));
        assert_eq!(m.problem(), Some(FieldError::EmbeddedSoh { tag: 336 }));
    }

    #[test]
    fn structural_errors() {
        let mut d = Decoder::new();
        assert!(matches!(
            d.decode(&soh("oops|8=FIX.4.4|10=000|")),
            Err(DecodeError::MissingEquals { offset: 0, .. })
        ));
        assert_eq!(
            d.decode(&soh("8=FIX.4.4|35=B")).unwrap_err(),
            DecodeError::Unterminated
        );
        let mut small = Decoder::with_max_fields(3);
        assert_eq!(
            small.decode(&soh("8=F|35=B|1=a|2=b|")).unwrap_err(),
            DecodeError::TooManyFields { max: 3 }
        );
    }

    #[test]
    fn field_problems_are_kept_not_fatal() {
        let mut d = Decoder::new();
        let f1 = soh("8=FIX.4.4|35=D|34=3|x1=5|58=|10=000|");
        let m = d.decode(&f1).unwrap();
        assert_eq!(m.msg_seq_num().unwrap().get(), 3);
        assert!(matches!(
            m.problem(),
            Some(FieldError::InvalidTagNumber { .. })
        ));
        let f2 = soh("8=FIX.4.4|35=D|34=3|58=|0=1|10=000|");
        let m = d.decode(&f2).unwrap();
        assert_eq!(m.problem(), Some(FieldError::Empty { tag: 58 }));
        assert_eq!(m.get_str(TEXT), Err(FieldError::Empty { tag: 58 }));
        let f3 = soh("8=FIX.4.4|35=D|=1|10=000|");
        let m = d.decode(&f3).unwrap();
        assert!(matches!(
            m.problem(),
            Some(FieldError::InvalidTagNumber { .. })
        ));
        let f4 = soh("8=FIX.4.4|35=D|99999999999=1|10=000|");
        let m = d.decode(&f4).unwrap();
        assert!(matches!(
            m.problem(),
            Some(FieldError::InvalidTagNumber { .. })
        ));
    }

    #[test]
    fn repeating_groups_in_order() {
        let f = soh("8=FIX.4.4|35=A|34=1|384=2|372=D|385=S|372=8|385=R|58=end|10=000|");
        let mut d = Decoder::new();
        let m = d.decode(&f).unwrap();
        let g = m
            .group(NO_MSG_TYPES, &[REF_MSG_TYPE, MSG_DIRECTION])
            .unwrap();
        assert_eq!(g.len(), 2);
        let types: Vec<(&[u8], &[u8])> = g
            .into_iter()
            .map(|e| (e.get(REF_MSG_TYPE).unwrap(), e.get(MSG_DIRECTION).unwrap()))
            .collect();
        assert_eq!(types, [(&b"D"[..], &b"S"[..]), (&b"8"[..], &b"R"[..])]);
        assert_eq!(m.get(TEXT), Some(&b"end"[..]));

        let f = soh("8=FIX.4.4|35=A|384=3|372=D|372=8|10=000|");
        let m = d.decode(&f).unwrap();
        assert_eq!(
            m.group(NO_MSG_TYPES, &[REF_MSG_TYPE]).unwrap_err(),
            FieldError::GroupCount {
                count_tag: 384,
                declared: 3,
                found: 2
            }
        );
        let f = soh("8=FIX.4.4|35=A|384=0|58=x|10=000|");
        let m = d.decode(&f).unwrap();
        assert!(m.group(NO_MSG_TYPES, &[REF_MSG_TYPE]).unwrap().is_empty());
        // A member before the delimiter counts as an instance of its own.
        let f = soh("8=FIX.4.4|35=A|384=1|385=S|372=D|10=000|");
        let m = d.decode(&f).unwrap();
        assert!(matches!(
            m.group(NO_MSG_TYPES, &[REF_MSG_TYPE, MSG_DIRECTION]),
            Err(FieldError::GroupCount { found: 2, .. })
        ));
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

    #[test]
    fn soh_scan_matches_naive() {
        let mut buf = [b'a'; 40];
        for i in 0..40 {
            buf[i] = 1;
            for start in 0..=i {
                assert_eq!(find_soh(&buf[start..]), Some(i - start));
            }
            buf[i] = b'a';
        }
        // Bytes next to SOH in value (0x00, 0x02, 0x81) must not confuse the scan.
        let tricky = [0x00, 0x02, 0x81, 0x80, 0xff, 0x00, 0x00, 0x02, 0x02, 0x01];
        assert_eq!(find_soh(&tricky), Some(9));
        assert_eq!(find_soh(b"abcdefghijklmnop"), None);
    }

    #[test]
    fn fast_tag_agrees_with_the_general_path() {
        let cases: &[&[u8]] = &[
            b"8=FIX.4.4",
            b"35=D\x01xxxx",
            b"1234567=x",
            b"12345678=x",
            b"0=1xxxxxx",
            b"01=1xxxxx",
            b"a1=1xxxxx",
            b"1a=1xxxxx",
            b"=1xxxxxxx",
            b"1\x01=xxxxxx",
            b"9999999=1",
            b"1/=1xxxxx",
            b"1:=1xxxxx",
            b"\xff1=1xxxxx",
            b"52=2026xxx",
            b"5=1",
            b"123456789=1",
            b"1234567890=1",
            b"4294967296=1",
            b"12",
        ];
        for c in cases {
            let naive = c
                .iter()
                .position(|&b| b == b'=' || b == SOH)
                .and_then(|eq| {
                    let digits = &c[..eq];
                    (c[eq] == b'='
                        && !digits.is_empty()
                        && digits.len() <= 9
                        && digits.iter().all(u8::is_ascii_digit))
                    .then(|| {
                        (
                            std::str::from_utf8(digits).unwrap().parse::<u32>().unwrap(),
                            eq,
                        )
                    })
                    .filter(|(t, _)| *t != 0)
                });
            assert_eq!(fast_tag(c, 0), naive, "{:?}", String::from_utf8_lossy(c));
        }
    }
}
