//! UTCTimestamp (`YYYYMMDD-HH:MM:SS[.sss[sss[sss]]]`): parsing and formatting without allocation.
//!
//! SendingTime(52) is formatted on every outbound message and OrigSendingTime(122)
//! compared on every possible duplicate, so both directions work on stack buffers.
//! Reading the clock is not this module's business: see `clock.rs`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many fractional digits a formatted timestamp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimePrecision {
    /// `YYYYMMDD-HH:MM:SS`: the only form FIX.4.0 and 4.1 allow.
    Seconds,
    /// `.sss`: the FIX.4.2+ default, and what QuickFIX sends.
    #[default]
    Millis,
    /// `.ssssss`
    Micros,
    /// `.sssssssss`
    Nanos,
}

impl TimePrecision {
    /// The number of fractional digits.
    pub const fn digits(self) -> usize {
        match self {
            Self::Seconds => 0,
            Self::Millis => 3,
            Self::Micros => 6,
            Self::Nanos => 9,
        }
    }
}

/// A UTC instant with nanosecond resolution, as carried in FIX UTCTimestamp fields.
///
/// Ordered, so OrigSendingTime(122) > SendingTime(52) is a plain comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcTimestamp {
    secs: i64,
    nanos: u32,
}

/// 9999-12-31T23:59:59Z, the last second a UTCTimestamp can name.
const MAX_UNIX_SECS: i64 = 253_402_300_799;

/// The longest formatted timestamp: `YYYYMMDD-HH:MM:SS.sssssssss`.
pub const MAX_TIMESTAMP_LEN: usize = 27;

impl UtcTimestamp {
    /// The instant `secs` seconds and `nanos` nanoseconds after 1970-01-01T00:00:00Z.
    /// Nanoseconds of a second or more carry into `secs`.
    pub const fn from_unix(secs: i64, nanos: u32) -> Self {
        Self {
            secs: secs + (nanos / 1_000_000_000) as i64,
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Converts a `SystemTime` (which the caller has read from its clock). Instants
    /// before 1970 are clamped to the epoch: FIX has no use for them.
    pub fn from_system_time(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self::from_unix(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        )
    }

    /// Whole seconds since the Unix epoch.
    pub const fn unix_secs(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch (saturating).
    pub const fn unix_nanos(self) -> i128 {
        self.secs as i128 * 1_000_000_000 + self.nanos as i128
    }

    /// The instant `d` later, or the last one a `UtcTimestamp` holds.
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = self
            .unix_nanos()
            .saturating_add(i128::try_from(d.as_nanos()).unwrap_or(i128::MAX));
        Self::from_unix(
            i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX),
            nanos.rem_euclid(1_000_000_000) as u32,
        )
    }

    /// The absolute difference between two instants.
    pub fn abs_diff(self, other: Self) -> Duration {
        let d = (self.unix_nanos() - other.unix_nanos()).unsigned_abs();
        Duration::new(
            u64::try_from(d / 1_000_000_000).unwrap_or(u64::MAX),
            (d % 1_000_000_000) as u32,
        )
    }

    /// Parses `YYYYMMDD-HH:MM:SS` optionally followed by `.` and 1 to 12 fractional
    /// digits (digits past the ninth are truncated). Seconds may be 60 (leap second).
    ///
    /// Returns `None` for anything else, including impossible dates such as February 30.
    pub fn parse(s: &[u8]) -> Option<Self> {
        let head: &[u8; 17] = s.get(..17)?.try_into().ok()?;
        let [
            y0,
            y1,
            y2,
            y3,
            mo0,
            mo1,
            d0,
            d1,
            dash,
            h0,
            h1,
            c1,
            mi0,
            mi1,
            c2,
            s0,
            s1,
        ] = *head;
        if dash != b'-' || c1 != b':' || c2 != b':' {
            return None;
        }
        // Straight-line digit checks: SendingTime is parsed on every inbound message.
        let values = [y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1]
            .map(|b| b.wrapping_sub(b'0'));
        if values.iter().any(|&d| d > 9) {
            return None;
        }
        let [y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1] = values.map(u32::from);
        let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
        let month = mo0 * 10 + mo1;
        let day = d0 * 10 + d1;
        let hour = h0 * 10 + h1;
        let min = mi0 * 10 + mi1;
        let sec = s0 * 10 + s1;
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return None;
        }
        let nanos = match &s[17..] {
            [] => 0,
            [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 12 => {
                let (kept, finer) = frac.split_at(frac.len().min(9));
                // Digits finer than nanoseconds are dropped, but must still be digits.
                if !finer.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let mut n = digits(kept)?;
                for _ in kept.len()..9 {
                    n *= 10;
                }
                n
            }
            _ => return None,
        };
        let days = days_from_civil(i64::from(year), month, day);
        let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec);
        // A leap second on the last day of 9999 would be year 10000, which has no
        // four-digit form (found by fuzzing the parse/format round trip).
        (secs <= MAX_UNIX_SECS).then(|| Self::from_unix(secs, nanos))
    }

    /// Writes the timestamp into `out` with `precision` and returns the bytes written.
    pub fn format(self, precision: TimePrecision, out: &mut [u8; MAX_TIMESTAMP_LEN]) -> &[u8] {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let year = year.clamp(0, 9999) as u32;
        put4(&mut out[0..4], year);
        put2(&mut out[4..6], month);
        put2(&mut out[6..8], day);
        out[8] = b'-';
        put2(&mut out[9..11], sod / 3600);
        out[11] = b':';
        put2(&mut out[12..14], (sod / 60) % 60);
        out[14] = b':';
        put2(&mut out[15..17], sod % 60);
        let n = precision.digits();
        match precision {
            TimePrecision::Seconds => return &out[..17],
            TimePrecision::Millis => put_frac(&mut out[18..21], self.nanos / 1_000_000),
            TimePrecision::Micros => put_frac(&mut out[18..24], self.nanos / 1_000),
            TimePrecision::Nanos => put_frac(&mut out[18..27], self.nanos),
        }
        out[17] = b'.';
        &out[..18 + n]
    }

    /// Appends the formatted timestamp to `out`.
    pub fn write_to(self, precision: TimePrecision, out: &mut Vec<u8>) {
        let mut buf = [0u8; MAX_TIMESTAMP_LEN];
        out.extend_from_slice(self.format(precision, &mut buf));
    }
}

impl fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; MAX_TIMESTAMP_LEN];
        let s = self.format(TimePrecision::Nanos, &mut buf);
        // The formatter only ever writes ASCII digits and separators.
        f.write_str(std::str::from_utf8(s).map_err(|_| fmt::Error)?)
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Writes the two digits of `v` (< 100) from a pair table: one load instead of two divisions.
#[inline]
fn put2(out: &mut [u8], v: u32) {
    let i = 2 * v as usize;
    out[..2].copy_from_slice(&PAIRS[i..i + 2]);
}

/// Writes `v` zero-padded to exactly `out.len()` digits.
#[inline]
fn put_frac(out: &mut [u8], mut v: u32) {
    let mut end = out.len();
    while end >= 2 {
        put2(&mut out[end - 2..end], v % 100);
        v /= 100;
        end -= 2;
    }
    if end == 1 {
        out[0] = b'0' + (v % 10) as u8;
    }
}

const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

fn put4(out: &mut [u8], v: u32) {
    put2(&mut out[0..2], v / 100);
    put2(&mut out[2..4], v % 100);
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (public domain description,
// "chrono-Compatible Low-Level Date Algorithms"), proleptic Gregorian.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(t: UtcTimestamp, p: TimePrecision) -> String {
        let mut buf = [0u8; MAX_TIMESTAMP_LEN];
        String::from_utf8(t.format(p, &mut buf).to_vec()).unwrap()
    }

    #[test]
    fn formats_every_precision() {
        // 2026-11-25 20:16:27.123456789 UTC
        let t = UtcTimestamp::from_unix(1_795_637_787, 123_456_789);
        assert_eq!(fmt(t, TimePrecision::Seconds), "20261125-20:16:27");
        assert_eq!(fmt(t, TimePrecision::Millis), "20261125-20:16:27.123");
        assert_eq!(fmt(t, TimePrecision::Micros), "20261125-20:16:27.123456");
        assert_eq!(fmt(t, TimePrecision::Nanos), "20261125-20:16:27.123456789");
        assert_eq!(
            fmt(UtcTimestamp::from_unix(0, 0), TimePrecision::Millis),
            "19700101-00:00:00.000"
        );
    }

    #[test]
    fn parses_every_precision() {
        let base = UtcTimestamp::parse(b"20261125-20:16:27").unwrap();
        assert_eq!(base.unix_secs(), 1_795_637_787);
        assert_eq!(
            UtcTimestamp::parse(b"20261125-20:16:27.5")
                .unwrap()
                .subsec_nanos(),
            500_000_000
        );
        assert_eq!(
            UtcTimestamp::parse(b"20261125-20:16:27.123")
                .unwrap()
                .subsec_nanos(),
            123_000_000
        );
        assert_eq!(
            UtcTimestamp::parse(b"20261125-20:16:27.123456")
                .unwrap()
                .subsec_nanos(),
            123_456_000
        );
        assert_eq!(
            UtcTimestamp::parse(b"20261125-20:16:27.123456789")
                .unwrap()
                .subsec_nanos(),
            123_456_789
        );
        assert_eq!(
            UtcTimestamp::parse(b"20261125-20:16:27.123456789012")
                .unwrap()
                .subsec_nanos(),
            123_456_789
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"2026112-20:16:27",
            b"20261125 20:16:27",
            b"20261125-24:00:00",
            b"20261125-23:60:00",
            b"20261125-23:59:61",
            b"20261301-00:00:00",
            b"20260230-00:00:00",
            b"20250229-00:00:00",
            b"20261125-20:16:27.",
            b"20261125-20:16:27.12a",
            b"20261125-20:16:27.1234567890123",
            b"20261125-20:16:27x",
            b"2026112a-20:16:27",
        ] {
            assert!(
                UtcTimestamp::parse(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(UtcTimestamp::parse(b"20240229-00:00:00").is_some());
        assert!(UtcTimestamp::parse(b"20161231-23:59:60").is_some());
        assert!(UtcTimestamp::parse(b"99991231-23:59:59.999").is_some());
        assert!(UtcTimestamp::parse(b"99991231-23:59:60").is_none());
    }

    #[test]
    fn calendar_round_trips_over_centuries() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn orders_and_measures() {
        let a = UtcTimestamp::parse(b"20261125-20:16:27.000").unwrap();
        let b = UtcTimestamp::parse(b"20261125-20:18:28.500").unwrap();
        assert!(a < b);
        assert_eq!(a.abs_diff(b), Duration::from_millis(121_500));
        assert_eq!(b.abs_diff(a), Duration::from_millis(121_500));
        assert_eq!(b.to_string(), "20261125-20:18:28.500000000");
        assert_eq!(a.saturating_add(Duration::from_millis(121_500)), b);
        assert_eq!(
            a.saturating_add(Duration::MAX).unix_secs(),
            i64::MAX,
            "saturates"
        );
    }
}
