//! Reading fields: the [`Fields`] trait and its typed getters, [`Field`],
//! [`FieldIter`], repeating groups ([`Group`]), and the parse helpers they share.
//!
//! A run of fields is the frame plus a slice of the decoder's index (`Entry`: a
//! tag and where its value lies in the frame), so a whole message, its header or
//! body, and one group instance are all read the same way, without copying.

use std::fmt;

use crate::codec::error::{FieldError, Snippet};
use crate::codec::tags;
use crate::codec::time::UtcTimestamp;
use crate::id::SeqNum;

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
    pub(super) frame: &'a [u8],
    pub(super) entries: &'a [Entry],
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
pub(super) struct DisplayFields<'a>(pub(super) FieldIter<'a>);

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
pub(super) struct FieldSlice<'a> {
    pub(super) frame: &'a [u8],
    pub(super) entries: &'a [Entry],
}

impl<'a> FieldSlice<'a> {
    pub(super) fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.entries
            .iter()
            .find(|e| e.tag == tag)
            .map(|e| value_of(self.frame, *e))
    }

    pub(super) fn iter(&self) -> FieldIter<'a> {
        FieldIter {
            frame: self.frame,
            entries: self.entries,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) tag: u32,
    pub(super) start: u32,
    pub(super) end: u32,
}

pub(super) fn value_of(frame: &[u8], e: Entry) -> &[u8] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Decoder;
    use crate::codec::soh;
    use crate::codec::tags::*;

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
}
