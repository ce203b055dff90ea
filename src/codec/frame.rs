//! The streaming framer: cuts a byte stream into complete FIX frames.
//!
//! It keeps "not yet" apart from "never": [`Status::Partial`] means read more,
//! [`Garbled`] means these bytes will never be a valid frame, drop `len` of them and
//! go on. A frame is delimited the way QuickFIX does it — BodyLength(9) says where
//! the body should end, and the frame ends at the first `<SOH>10=nnn<SOH>` found from
//! there on — so a wrong BodyLength swallows exactly what QuickFIX swallows, and the
//! conformance scripts that depend on it (2m) behave the same.

use crate::codec::checksum::{checksum, parse_checksum};
use crate::codec::error::{FrameError, Snippet};

/// The outcome of [`Framer::parse`] when the bytes are not (yet) wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A complete, valid frame occupies the first `len` bytes.
    Complete(usize),
    /// The frame is not complete. `Some(n)`: at least `n` bytes in all are needed
    /// (known once BodyLength(9) has been read); `None`: not known yet.
    Partial(Option<usize>),
}

/// Bytes that are not a valid frame: discard the first `len` bytes and parse again.
///
/// `len` is never 0, so a loop over [`Framer::parse`] always makes progress, and
/// never more than the bytes parsed, so dropping it cannot overrun them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garbled {
    /// How many bytes to discard.
    pub len: usize,
    /// What was wrong.
    pub error: FrameError,
}

/// Delimits and validates frames: BeginString(8), BodyLength(9) and MsgType(35)
/// first, in that order, BodyLength matching the body, CheckSum(10) three digits
/// and (unless turned off) matching the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framer {
    max_message_size: usize,
    validate_checksum: bool,
}

/// The default MaxMessageSize: 1 MiB, as FIX Antenna's `maxMessageSize`.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

const BEGIN: &[u8] = b"8=FIX";
// BeginString values are at most "FIXT.1.1"; anything much longer is not a header.
const MAX_BEGIN_STRING_FIELD: usize = 32;
const CHECKSUM_TAG: &[u8] = b"\x0110=";

impl Default for Framer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_MESSAGE_SIZE, true)
    }
}

impl Framer {
    /// A framer refusing frames longer than `max_message_size` bytes, checking
    /// CheckSum(10) values when `validate_checksum` is true (it always checks that
    /// CheckSum is present and three digits).
    pub const fn new(max_message_size: usize, validate_checksum: bool) -> Self {
        Self {
            max_message_size,
            validate_checksum,
        }
    }

    /// The largest frame accepted, in bytes.
    pub const fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Parses the frame at the start of `buf`.
    ///
    /// # Errors
    /// [`Garbled`] when the leading bytes can never form a valid frame; drop
    /// `garbled.len` bytes and call again.
    pub fn parse(&self, buf: &[u8]) -> Result<Status, Garbled> {
        // Every BeginString is FIX.x.y or FIXT.1.1, so a frame starts with "8=FIX": the
        // same test decides where junk ends, however the bytes arrive.
        if !buf.starts_with(BEGIN) {
            return if BEGIN.starts_with(buf) {
                Ok(Status::Partial(None))
            } else {
                Err(self.skip_junk(buf))
            };
        }
        let Some(begin_end) = find_soh(buf, 2, MAX_BEGIN_STRING_FIELD) else {
            return if buf.len() < 2 + MAX_BEGIN_STRING_FIELD {
                Ok(Status::Partial(None))
            } else {
                Err(self.resync(
                    buf,
                    FrameError::BeginStringMalformed {
                        found: Snippet::new(buf),
                    },
                ))
            };
        };

        // BodyLength(9): digits only, bounded by MaxMessageSize.
        let len_field = begin_end + 1;
        let rest = &buf[len_field..];
        if !b"9=".starts_with(&rest[..rest.len().min(2)]) {
            return Err(self.resync(
                buf,
                FrameError::BodyLengthNotSecond {
                    found: Snippet::new(rest),
                },
            ));
        }
        if rest.len() < 2 {
            return Ok(Status::Partial(None));
        }
        let mut body_len: usize = 0;
        let mut i = len_field + 2;
        loop {
            match buf.get(i) {
                None => return Ok(Status::Partial(None)),
                Some(&b) if b.is_ascii_digit() => {
                    body_len = body_len
                        .saturating_mul(10)
                        .saturating_add(usize::from(b - b'0'));
                    if body_len > self.max_message_size {
                        return Err(self.resync(
                            buf,
                            FrameError::MessageTooLarge {
                                declared: body_len,
                                max: self.max_message_size,
                            },
                        ));
                    }
                }
                Some(&0x01) if i > len_field + 2 => break,
                Some(_) => {
                    return Err(self.resync(
                        buf,
                        FrameError::BodyLengthNotNumber {
                            found: Snippet::new(&buf[len_field + 2..]),
                        },
                    ));
                }
            }
            i += 1;
        }
        let body_start = i + 1;
        // MaxMessageSize may be set as high as usize::MAX, so a BodyLength within it
        // can still put the end of the frame past any address: too large all the same.
        let Some(body_end) = body_start
            .checked_add(body_len)
            .filter(|&e| e <= usize::MAX - 7)
        else {
            return Err(self.resync(
                buf,
                FrameError::MessageTooLarge {
                    declared: body_len,
                    max: self.max_message_size,
                },
            ));
        };
        // The shortest possible frame from here: the body, then "10=nnn<SOH>".
        let min_total = body_end + 7;
        if buf.len() < min_total {
            return Ok(Status::Partial(Some(min_total)));
        }

        // Delimit: the first "<SOH>10=" at or after the SOH that should end the body.
        let limit = self
            .max_message_size
            .saturating_add(body_start)
            .min(buf.len());
        let Some(cs_soh) = find(&buf[..limit], CHECKSUM_TAG, body_end - 1) else {
            return if buf.len() < self.max_message_size.saturating_add(body_start) {
                Ok(Status::Partial(None))
            } else {
                Err(self.resync(
                    buf,
                    FrameError::CheckSumMissing {
                        max: self.max_message_size,
                    },
                ))
            };
        };
        let value_start = cs_soh + CHECKSUM_TAG.len();
        // A CheckSum value is three digits; look a little further so a wrong length
        // is reported as such rather than waited on.
        let Some(end_soh) = find_soh(buf, value_start, 8) else {
            return if buf.len() < value_start + 8 {
                Ok(Status::Partial(Some((value_start + 4).max(buf.len() + 1))))
            } else {
                Err(Garbled {
                    len: value_start,
                    error: FrameError::CheckSumNotThreeDigits {
                        found: Snippet::new(&buf[value_start..]),
                    },
                })
            };
        };
        let len = end_soh + 1;
        let garbled = |error| Err(Garbled { len, error });

        if cs_soh + 1 != body_end {
            return garbled(FrameError::BodyLengthMismatch {
                declared: body_len,
                actual: cs_soh + 1 - body_start,
            });
        }
        if !buf[body_start..].starts_with(b"35=") {
            return garbled(FrameError::MsgTypeNotThird {
                found: Snippet::new(&buf[body_start..]),
            });
        }
        let value = &buf[value_start..end_soh];
        let Some(declared) = parse_checksum(value) else {
            return garbled(FrameError::CheckSumNotThreeDigits {
                found: Snippet::new(value),
            });
        };
        if self.validate_checksum {
            let computed = checksum(&buf[..=cs_soh]);
            if computed != declared {
                return garbled(FrameError::CheckSumMismatch { declared, computed });
            }
        }
        Ok(Status::Complete(len))
    }

    /// Junk before a frame: skip to the next `8=FIX`.
    fn skip_junk(&self, buf: &[u8]) -> Garbled {
        let len = resync_len(buf);
        Garbled {
            len,
            error: FrameError::BeginStringNotFirst {
                found: Snippet::new(&buf[..len]),
            },
        }
    }

    /// A frame whose header is broken: drop up to the next `8=FIX` after its start.
    fn resync(&self, buf: &[u8], error: FrameError) -> Garbled {
        Garbled {
            len: resync_len(buf),
            error,
        }
    }
}

/// How many bytes to drop to reach the next `8=FIX` after `buf[0]`, keeping a tail
/// that may be the start of one whose rest has not arrived. At least 1.
fn resync_len(buf: &[u8]) -> usize {
    find(buf, BEGIN, 1)
        .unwrap_or_else(|| buf.len() - partial_begin_suffix(buf))
        .max(1)
}

/// The position of the first SOH in `buf[from..from + within]`.
fn find_soh(buf: &[u8], from: usize, within: usize) -> Option<usize> {
    let end = buf.len().min(from.saturating_add(within));
    buf.get(from..end)?
        .iter()
        .position(|&b| b == 0x01)
        .map(|p| from + p)
}

/// The position of the first `needle` in `buf` at or after `from`.
fn find(buf: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let hay = buf.get(from..)?;
    let first = needle[0];
    let mut start = 0;
    while let Some(p) = hay[start..].iter().position(|&b| b == first) {
        let at = start + p;
        if hay[at..].starts_with(needle) {
            return Some(from + at);
        }
        start = at + 1;
    }
    None
}

/// The length of the longest proper suffix of `buf` that is a prefix of `8=FIX`:
/// those bytes may begin a frame whose rest has not arrived.
fn partial_begin_suffix(buf: &[u8]) -> usize {
    (1..BEGIN.len())
        .rev()
        .find(|&n| n < buf.len() && buf.ends_with(&BEGIN[..n]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soh(s: &str) -> Vec<u8> {
        s.replace('|', "\x01").into_bytes()
    }

    /// A frame with a correct BodyLength and CheckSum around `body` (which starts at 35=).
    fn frame(body: &str) -> Vec<u8> {
        let body = soh(body);
        let mut out = format!("8=FIX.4.4\x019={}\x01", body.len()).into_bytes();
        out.extend_from_slice(&body);
        let sum = checksum(&out);
        out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        out
    }

    fn err(buf: &[u8]) -> Garbled {
        Framer::default().parse(buf).unwrap_err()
    }

    #[test]
    fn complete_frame() {
        let f = frame("35=0|34=2|49=A|56=B|52=20261125-20:16:27.000|");
        assert_eq!(Framer::default().parse(&f), Ok(Status::Complete(f.len())));
        let mut two = f.clone();
        two.extend_from_slice(&f);
        assert_eq!(Framer::default().parse(&two), Ok(Status::Complete(f.len())));
    }

    #[test]
    fn partial_frames_say_how_much_once_known() {
        let f = frame("35=0|34=2|49=A|56=B|");
        let framer = Framer::default();
        let body_len_end = f.iter().skip(10).position(|&b| b == 1).unwrap() + 11;
        for cut in 0..f.len() {
            let status = framer.parse(&f[..cut]).unwrap();
            match status {
                Status::Partial(Some(n)) => {
                    assert!(cut >= body_len_end, "length known too early at {cut}");
                    assert!(n <= f.len() && n > cut, "cut {cut}: needs {n}");
                }
                Status::Partial(None) => assert!(cut < body_len_end || cut >= f.len() - 4),
                Status::Complete(_) => panic!("complete at {cut}"),
            }
        }
    }

    #[test]
    fn junk_before_a_frame_is_skipped() {
        let f = frame("35=0|34=2|");
        let mut buf = b"garbage\x01\x0258=".to_vec();
        buf.extend_from_slice(&f);
        let g = err(&buf);
        assert!(matches!(g.error, FrameError::BeginStringNotFirst { .. }));
        assert_eq!(&buf[g.len..], &f[..]);
        assert_eq!(
            Framer::default().parse(&buf[g.len..]),
            Ok(Status::Complete(f.len()))
        );
        assert!(g.error.to_string().contains("garbage|"), "{}", g.error);
    }

    #[test]
    fn junk_keeps_a_possible_frame_start() {
        let g = err(b"xyz8=F");
        assert_eq!(g.len, 3);
        let g = err(b"xyz");
        assert_eq!(g.len, 3);
        assert_eq!(Framer::default().parse(b"8"), Ok(Status::Partial(None)));
        assert_eq!(Framer::default().parse(b"8=FI"), Ok(Status::Partial(None)));
        // "8=" alone does not start a frame: BeginString is always FIX.x.y or FIXT.1.1.
        let g = err(b"8=FOO.4.4\x019=5\x01");
        assert!(matches!(g.error, FrameError::BeginStringNotFirst { .. }));
        assert_eq!(Framer::default().parse(b""), Ok(Status::Partial(None)));
    }

    #[test]
    fn body_length_not_second() {
        let g = err(&soh("8=FIX.4.4|35=0|9=5|10=000|"));
        assert!(matches!(g.error, FrameError::BodyLengthNotSecond { .. }));
        assert!(g.error.to_string().contains("35=0|"), "{}", g.error);
    }

    #[test]
    fn body_length_not_a_number() {
        for bad in [
            "8=FIX.4.4|9=abc|35=0|10=000|",
            "8=FIX.4.4|9=|35=0|10=000|",
            "8=FIX.4.4|9=-5|35=0|",
        ] {
            let g = err(&soh(bad));
            assert!(
                matches!(g.error, FrameError::BodyLengthNotNumber { .. }),
                "{bad}: {:?}",
                g.error
            );
        }
        let g = err(&soh("8=FIX.4.4|9=12x|35=0|10=000|"));
        assert!(g.error.to_string().contains("12x|"), "{}", g.error);
    }

    #[test]
    fn enormous_body_length_is_refused_without_waiting() {
        let framer = Framer::new(4096, true);
        let g = framer
            .parse(&soh("8=FIX.4.4|9=99999999999999999999999|35=0|"))
            .unwrap_err();
        assert!(
            matches!(g.error, FrameError::MessageTooLarge { declared, max: 4096 } if declared > 4096),
            "{:?}",
            g.error
        );
        let g = framer.parse(&soh("8=FIX.4.4|9=4097|")).unwrap_err();
        assert_eq!(
            g.error,
            FrameError::MessageTooLarge {
                declared: 4097,
                max: 4096
            }
        );
        assert!(g.error.to_string().contains("4097"));
    }

    #[test]
    fn body_length_past_the_address_space_is_refused() {
        // With MaxMessageSize at usize::MAX the end of the body overflowed (a panic
        // in a debug build) instead of being refused.
        let framer = Framer::new(usize::MAX, true);
        for wire in [
            "8=FIX.4.4|9=18446744073709551615|",
            "8=FIX.4.4|9=18446744073709551579|35=0|",
        ] {
            let g = framer.parse(&soh(wire)).unwrap_err();
            assert!(
                matches!(g.error, FrameError::MessageTooLarge { .. }),
                "{:?}",
                g.error
            );
            assert!(g.len > 0);
        }
    }

    #[test]
    fn msg_type_not_third() {
        let mut f = frame("34=2|35=0|");
        let g = err(&f);
        assert!(matches!(g.error, FrameError::MsgTypeNotThird { .. }));
        assert!(
            g.error
                .to_string()
                .starts_with("MsgType(35) is not the third field: found \"34=2|35=0|"),
            "{}",
            g.error
        );
        assert_eq!(g.len, f.len());
        f.extend_from_slice(&frame("35=0|"));
        assert_eq!(err(&f).len, g.len);
    }

    #[test]
    fn checksum_wrong_value() {
        let mut f = frame("35=0|34=2|");
        let n = f.len();
        f[n - 2] = if f[n - 2] == b'9' { b'0' } else { f[n - 2] + 1 };
        let g = err(&f);
        assert!(
            matches!(g.error, FrameError::CheckSumMismatch { .. }),
            "{:?}",
            g.error
        );
        assert_eq!(g.len, f.len());
        // Turned off, the same frame passes.
        assert_eq!(
            Framer::new(1 << 20, false).parse(&f),
            Ok(Status::Complete(f.len()))
        );
    }

    #[test]
    fn checksum_not_three_digits() {
        // Two digits look like a partial frame until more bytes arrive.
        let f = soh("8=FIX.4.4|9=5|35=0|10=12|");
        assert_eq!(
            Framer::default().parse(&f),
            Ok(Status::Partial(Some(f.len() + 1)))
        );
        let f = soh("8=FIX.4.4|9=5|35=0|10=12|8=FIX.4.4|");
        let g = err(&f);
        assert!(matches!(g.error, FrameError::CheckSumNotThreeDigits { .. }));
        assert!(
            g.error.to_string().ends_with("000 to 255: \"12\""),
            "{}",
            g.error
        );
        let g = err(&soh("8=FIX.4.4|9=5|35=0|10=1x3|"));
        assert!(matches!(g.error, FrameError::CheckSumNotThreeDigits { .. }));
        let g = err(&soh("8=FIX.4.4|9=5|35=0|10=12345678|"));
        assert!(matches!(g.error, FrameError::CheckSumNotThreeDigits { .. }));
    }

    #[test]
    fn checksum_missing_within_limit() {
        let framer = Framer::new(64, true);
        let mut f = soh("8=FIX.4.4|9=5|35=0|");
        f.extend(std::iter::repeat_n(b'x', 100));
        let g = framer.parse(&f).unwrap_err();
        assert_eq!(g.error, FrameError::CheckSumMissing { max: 64 });
    }

    #[test]
    fn body_length_too_short_is_garbled_alone() {
        // The 2m conformance case: the declared end falls inside the body, the frame
        // ends at its own CheckSum, and the next message is untouched.
        let good = frame("35=D|34=2|11=ID|");
        let mut bad = good.clone();
        let pos = bad.iter().position(|&b| b == b'9').unwrap() + 2;
        bad[pos] = b'0'; // BodyLength 16 -> 06: too short
        let g = err(&bad);
        assert!(
            matches!(g.error, FrameError::BodyLengthMismatch { .. }),
            "{:?}",
            g.error
        );
        assert_eq!(g.len, bad.len());
    }

    #[test]
    fn body_length_too_long_swallows_the_next_message() {
        let first = soh("8=FIX.4.4|9=40|35=D|34=4|11=ID|10=000|");
        let second = frame("35=D|34=5|11=ID|");
        let mut buf = first.clone();
        buf.extend_from_slice(&second);
        let g = err(&buf);
        assert!(
            matches!(g.error, FrameError::BodyLengthMismatch { declared: 40, .. }),
            "{:?}",
            g.error
        );
        assert_eq!(g.len, buf.len());
    }

    #[test]
    fn error_names_body_length_values() {
        let f = soh("8=FIX.4.4|9=3|35=0|34=1|10=000|");
        let g = err(&f);
        assert_eq!(
            g.error,
            FrameError::BodyLengthMismatch {
                declared: 3,
                actual: 10
            }
        );
        assert_eq!(
            g.error.to_string(),
            "BodyLength(9) = 3 but the body is 10 bytes long"
        );
    }

    #[test]
    fn begin_string_window_is_the_same_however_bytes_arrive() {
        // Found by fuzzing: an SOH at the far end of the window was an error when
        // the buffer ended just before it, and a frame when it had arrived.
        let mut f = b"8=FIX.4.4".to_vec();
        f.extend(std::iter::repeat_n(b'x', 24));
        f.extend_from_slice(b"\x019=5\x0135=0\x0110=227\x01");
        let whole = Framer::default().parse(&f);
        for cut in 0..f.len() {
            match Framer::default().parse(&f[..cut]) {
                Ok(Status::Partial(_)) => {}
                other => assert_eq!(
                    other.map_err(|g| g.error),
                    whole.map_err(|g| g.error),
                    "cut {cut}"
                ),
            }
        }
    }

    #[test]
    fn malformed_begin_string() {
        let mut f = b"8=FIX".to_vec();
        f.extend(std::iter::repeat_n(b'X', 40));
        let e = err(&f).error;
        assert!(matches!(e, FrameError::BeginStringMalformed { .. }));
        assert!(e.to_string().contains("\"8=FIXXXXX"), "{e}");
    }
}
