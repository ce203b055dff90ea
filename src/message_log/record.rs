//! One record of a message log, as a line of text: writing it, and reading it back.
//!
//! ```text
//! 20261203-15:50:31.123456 in 75 8=FIX.4.4^9=53^35=0^34=2^49=TW^...^10=012^
//! 20261203-15:50:31.123470 out 77 8=FIX.4.4^9=55^35=0^34=2^49=ISLD^...^10=201^
//! 20261203-15:50:31.123480 garbled 12 8=FIX.4.4^9=x CheckSum(10) missing
//! ```
//!
//! (`^` stands for SOH, which the log keeps.) Fields are separated by one space:
//! the UTC time with microseconds, the [`RecordKind`], the length of the bytes in
//! decimal, the bytes exactly as received or sent (masked values replaced), and
//! for a `garbled` or `note` record a space and a note saying why; then `\n`. The
//! length makes the line self-delimiting even when a data field holds a newline,
//! so a reader never guesses; `grep` and `less` see one line per message.

use std::fmt;

use crate::codec::{TimePrecision, UtcTimestamp};

/// The length of the time at the start of a record (`YYYYMMDD-HH:MM:SS.ffffff`).
pub const TIME_LEN: usize = 24;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// A message received, exactly as it arrived.
    In,
    /// A message sent for the first time.
    Out,
    /// A message sent again in answer to a ResendRequest: a resent application
    /// message, or a SequenceReset-GapFill standing for some (PossDupFlag(43)=Y).
    Resend,
    /// Received bytes dropped because they do not frame as a message; the note
    /// says why.
    Garbled,
    /// Something the engine says about the log itself (messages it could not log
    /// while its disk failed, say); the bytes are the text.
    Note,
}

impl RecordKind {
    /// The word in the log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
            Self::Resend => "resend",
            Self::Garbled => "garbled",
            Self::Note => "note",
        }
    }

    /// The kind a word names.
    pub fn from_word(word: &[u8]) -> Option<Self> {
        Some(match word {
            b"in" => Self::In,
            b"out" => Self::Out,
            b"resend" => Self::Resend,
            b"garbled" => Self::Garbled,
            b"note" => Self::Note,
            _ => return None,
        })
    }

    /// Received from the counterparty (`in`, `garbled`).
    pub const fn is_inbound(self) -> bool {
        matches!(self, Self::In | Self::Garbled)
    }

    /// Sent to the counterparty (`out`, `resend`).
    pub const fn is_outbound(self) -> bool {
        matches!(self, Self::Out | Self::Resend)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record read from a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// When the message was received or sent (microseconds).
    pub time: UtcTimestamp,
    /// What the record holds.
    pub kind: RecordKind,
    /// The message's bytes (SOH kept), or a note's text.
    pub bytes: &'a [u8],
    /// Why a `garbled` record was dropped; empty otherwise.
    pub note: &'a [u8],
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole record, `len` bytes with its newline.
    Record(Record<'a>, usize),
    /// The start of a record, cut short: more bytes may complete it (a log being
    /// written), or it is the torn last line of a log that was killed.
    Incomplete,
    /// A zero byte where a record would start: the unwritten end of a log file
    /// being written. Nothing follows it yet.
    End,
    /// Bytes that are not a record, up to and including the next newline
    /// (`len`; the rest of the buffer when there is none): to skip.
    Malformed(usize),
}

/// Reads the record at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    match buf.first() {
        None => return Parsed::Incomplete,
        Some(0) => return Parsed::End,
        Some(_) => {}
    }
    let malformed = || {
        Parsed::Malformed(
            buf.iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |i| i + 1),
        )
    };
    // The prefix is short: if it holds no newline and is cut short, wait.
    let Some(time) = buf.get(..TIME_LEN) else {
        return if buf.contains(&b'\n') {
            malformed()
        } else {
            Parsed::Incomplete
        };
    };
    let Some(time) = UtcTimestamp::parse(time) else {
        return malformed();
    };
    let rest = &buf[TIME_LEN..];
    let mut words = Words { buf: rest, at: 0 };
    let (Some(kind), Some(len)) = (words.next(), words.next()) else {
        return if rest.len() < 32 && !rest.contains(&b'\n') {
            Parsed::Incomplete
        } else {
            malformed()
        };
    };
    let Some(kind) = RecordKind::from_word(kind) else {
        return malformed();
    };
    let Some(len) = parse_len(len) else {
        return malformed();
    };
    // Past the space that ends the length.
    let start = TIME_LEN + words.at + 1;
    let Some(end) = start.checked_add(len) else {
        return malformed();
    };
    let Some(bytes) = buf.get(start..end) else {
        return Parsed::Incomplete;
    };
    let tail = &buf[end..];
    let Some(newline) = tail.iter().position(|&b| b == b'\n') else {
        return Parsed::Incomplete;
    };
    let note = match &tail[..newline] {
        [] => &[][..],
        [b' ', note @ ..] => note,
        _ => return malformed(),
    };
    let record = Record {
        time,
        kind,
        bytes,
        note,
    };
    Parsed::Record(record, end + newline + 1)
}

/// The records of a log file's bytes, in order: [`parse`] applied from the start
/// to the first zero byte (the unwritten end of a file being written) or the
/// first record cut short (a torn last record), whichever comes first. A stretch
/// that is not a record is an `Err` with its length, and reading goes on after it.
pub fn records(buf: &[u8]) -> Records<'_> {
    Records { buf, at: 0 }
}

/// The iterator [`records`] returns.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Records<'_> {
    /// Where the next record would start: after the last one read, at the end
    /// of what the buffer holds complete.
    pub fn offset(&self) -> usize {
        self.at
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.at..).filter(|r| !r.is_empty())?;
        match parse(rest) {
            Parsed::Record(record, len) => {
                self.at += len;
                Some(Ok(record))
            }
            Parsed::Malformed(len) => {
                self.at += len;
                Some(Err(len))
            }
            Parsed::Incomplete | Parsed::End => None,
        }
    }
}

/// Space-separated words after the time: each preceded by one space and ended
/// by one (left in place for the next).
struct Words<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Words<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.buf.get(self.at) != Some(&b' ') {
            return None;
        }
        let from = self.at + 1;
        let len = self.buf[from..].iter().position(|&b| b == b' ')?;
        self.at = from + len;
        Some(&self.buf[from..from + len])
    }
}

/// A decimal length: digits only, no leading zero but for `0`, at most 10 digits.
fn parse_len(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 10 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + usize::from(d - b'0'))
    })
}

/// The length of the record [`write`] makes.
pub(crate) fn record_len(kind: RecordKind, bytes: usize, note: &[u8]) -> usize {
    let note = if note.is_empty() { 0 } else { 1 + note.len() };
    TIME_LEN + 1 + kind.as_str().len() + 1 + digits(bytes) + 1 + bytes + note + 1
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Writes a record into `out`, which is exactly [`record_len`] bytes long. `time`
/// is the formatted time ([`format_time`]); a newline in `note` is written as a
/// space, so the note cannot end the line early.
pub(crate) fn write(
    out: &mut [u8],
    time: &[u8; TIME_LEN],
    kind: RecordKind,
    bytes: &[u8],
    note: &[u8],
) {
    let mut w = Cursor { out, at: 0 };
    w.put(time);
    w.put(b" ");
    w.put(kind.as_str().as_bytes());
    w.put(b" ");
    let mut len = [0u8; 20];
    let n = digits(bytes.len());
    let mut v = bytes.len();
    for slot in len[..n].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    w.put(&len[..n]);
    w.put(b" ");
    w.put(bytes);
    if !note.is_empty() {
        w.put(b" ");
        let from = w.at;
        w.put(note);
        for b in &mut w.out[from..w.at] {
            if *b == b'\n' {
                *b = b' ';
            }
        }
    }
    w.put(b"\n");
    debug_assert_eq!(w.at, w.out.len());
}

struct Cursor<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.out[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
}

/// `time` as a record starts with it.
pub(crate) fn format_time(time: UtcTimestamp) -> [u8; TIME_LEN] {
    let mut buf = [0u8; crate::codec::MAX_TIMESTAMP_LEN];
    let formatted = time.format(TimePrecision::Micros, &mut buf);
    let mut out = [0u8; TIME_LEN];
    out.copy_from_slice(formatted);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: RecordKind, bytes: &[u8], note: &[u8]) -> Vec<u8> {
        let time = format_time(UtcTimestamp::from_unix(1_764_776_400, 123_456_789));
        let mut out = vec![0; record_len(kind, bytes.len(), note)];
        write(&mut out, &time, kind, bytes, note);
        out
    }

    #[test]
    fn a_record_is_one_line_of_text() {
        let out = line(
            RecordKind::In,
            b"8=FIX.4.4\x019=5\x0135=0\x0110=163\x01",
            b"",
        );
        assert_eq!(
            out,
            b"20251203-15:40:00.123456 in 26 8=FIX.4.4\x019=5\x0135=0\x0110=163\x01\n"
        );
    }

    #[test]
    fn records_read_back_as_written() {
        for (kind, bytes, note) in [
            (
                RecordKind::Out,
                &b"8=FIX.4.4\x0158=two\nlines\x01"[..],
                &b""[..],
            ),
            (RecordKind::Resend, b"", b""),
            (
                RecordKind::Garbled,
                b"8=FIX.4.4\x019=x",
                b"BodyLength(9) is not a number",
            ),
            (RecordKind::Note, b"log resumed", b""),
        ] {
            let out = line(kind, bytes, note);
            let Parsed::Record(r, len) = parse(&out) else {
                panic!("{:?}", String::from_utf8_lossy(&out));
            };
            assert_eq!(len, out.len());
            assert_eq!((r.kind, r.bytes, r.note), (kind, bytes, note));
            assert_eq!(r.time, UtcTimestamp::from_unix(1_764_776_400, 123_456_000));
        }
    }

    #[test]
    fn a_newline_in_a_note_does_not_end_the_line() {
        let out = line(RecordKind::Garbled, b"x", b"one\ntwo");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let Parsed::Record(r, _) = parse(&out) else {
            panic!()
        };
        assert_eq!(r.note, b"one two");
    }

    #[test]
    fn a_cut_record_is_incomplete_at_every_length() {
        let out = line(
            RecordKind::In,
            b"8=FIX.4.4\x019=5\x0135=0\x0110=163\x01",
            b"",
        );
        for cut in 0..out.len() {
            assert_eq!(parse(&out[..cut]), Parsed::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn padding_ends_the_records_and_junk_is_skipped_to_the_next_line() {
        assert_eq!(parse(&[0, 0, 0]), Parsed::End);
        assert_eq!(parse(b"not a record\nmore"), Parsed::Malformed(13));
        let mut bad_kind = line(RecordKind::In, b"x", b"");
        bad_kind[25] = b'?';
        assert_eq!(parse(&bad_kind), Parsed::Malformed(bad_kind.len()));
        let mut bad_len = line(RecordKind::In, b"xy", b"");
        bad_len[28] = b'9'; // "in 9 xy\n": more bytes than the buffer holds
        assert_eq!(parse(&bad_len), Parsed::Incomplete);
    }
}
