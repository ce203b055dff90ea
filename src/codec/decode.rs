//! Splitting a complete frame into fields: the [`Decoder`] and its scanning loops.
//!
//! A [`Decoder`] splits a complete frame into `(tag, value range)` entries kept in
//! a buffer it reuses, so decoding allocates nothing once warm. The resulting
//! [`MessageView`] borrows both the frame and that buffer: values are `&[u8]`
//! into the frame until a caller asks for a typed value. The view lives in
//! `view.rs` and the field access in `fields.rs`; this file owns only the pass
//! over the bytes, which is most of the decoding time.
//!
//! Decoding is lenient on purpose: a field with an invalid tag number or an empty
//! value does not make the frame undecodable, because the session layer must still
//! read MsgSeqNum(34) to answer it with a Reject. The first such problem is kept
//! and reported by [`MessageView::problem`].

use crate::codec::SOH;
use crate::codec::error::{DecodeError, FieldError, Snippet};
use crate::codec::fields::{Entry, FieldSlice, parse_u64};
use crate::codec::tags;
use crate::codec::view::{HEADER_SLOTS, MessageView, NONE, header_slot};

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
pub(crate) fn find_soh(hay: &[u8]) -> Option<usize> {
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
    use crate::codec::Fields;
    use crate::codec::soh;
    use crate::codec::tags::*;

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
