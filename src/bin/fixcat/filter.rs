//! Which records `fixcat` prints: the filters of the command line (`--type`,
//! `--seq`, `--since`, `--until`, `--field`, `--dir`), AND-ed, and the parsing
//! of their values.

use std::time::Duration;

use fixengine::UtcTimestamp;

use crate::item::{Item, Kind, MessageFields};
use fixengine::message_log::RecordKind;

/// The filters given; the default lets everything through.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    /// MsgType(35) values, any of which matches (`--type`, repeated).
    pub(crate) types: Vec<Vec<u8>>,
    /// MsgSeqNum(34) range, inclusive (`--seq`).
    pub(crate) seq: Option<(u64, u64)>,
    /// Records at or after this time (`--since`).
    pub(crate) since: Option<UtcTimestamp>,
    /// Records before this time (`--until`, plus the unit it was given to, so
    /// that `--until 10:00:05` keeps 10:00:05.7).
    pub(crate) until: Option<UtcTimestamp>,
    /// Tag and value pairs, all of which must occur (`--field`, repeated).
    pub(crate) fields: Vec<(u32, Vec<u8>)>,
    /// One direction only (`--dir`).
    pub(crate) dir: Option<Direction>,
}

/// A direction for `--dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Received: `in` and `garbled` records.
    In,
    /// Sent: `out` and `resend` records (and a store's messages).
    Out,
}

impl Filter {
    /// True when a filter only messages can pass is set: notes are then left out.
    fn on_messages(&self) -> bool {
        !self.types.is_empty() || self.seq.is_some() || !self.fields.is_empty()
    }

    /// True when the record passes every filter. `fields` are the message's
    /// (empty for a note).
    pub(crate) fn accepts(&self, item: &Item<'_>, fields: &MessageFields<'_>) -> bool {
        if item.kind == Kind::Logged(RecordKind::Note) && self.on_messages() {
            return false;
        }
        if let Some(dir) = self.dir {
            let ok = match item.kind {
                Kind::Logged(RecordKind::Note) => true,
                Kind::Logged(kind) => match dir {
                    Direction::In => kind.is_inbound(),
                    Direction::Out => kind.is_outbound(),
                },
                Kind::Unknown => false,
            };
            if !ok {
                return false;
            }
        }
        if self.since.is_some() || self.until.is_some() {
            // A raw capture's frames have no time of their own: their
            // SendingTime(52) stands in; without one they cannot be placed.
            let Some(time) = item.time.or_else(|| fields.sending_time()) else {
                return false;
            };
            if self.since.is_some_and(|since| time < since)
                || self.until.is_some_and(|until| time >= until)
            {
                return false;
            }
        }
        if !self.types.is_empty() {
            let Some(t) = fields.get(35) else {
                return false;
            };
            if !self.types.iter().any(|want| want.as_slice() == t) {
                return false;
            }
        }
        if let Some((from, to)) = self.seq {
            match fields.seq() {
                Some(seq) if (from..=to).contains(&seq) => {}
                _ => return false,
            }
        }
        self.fields
            .iter()
            .all(|(tag, value)| fields.all(*tag).any(|v| v == value.as_slice()))
    }
}

/// Parses `--seq`: `FROM..TO`, `FROM..`, `..TO` or `N`.
pub(crate) fn parse_seq(s: &str) -> Result<(u64, u64), String> {
    let number = |part: &str| -> Result<u64, String> {
        part.parse()
            .map_err(|_| format!("--seq {s}: {part:?} is not a sequence number"))
    };
    let (from, to) = match s.split_once("..") {
        Some((from, to)) => (
            if from.is_empty() { 0 } else { number(from)? },
            if to.is_empty() { u64::MAX } else { number(to)? },
        ),
        None => {
            let n = number(s)?;
            (n, n)
        }
    };
    if from > to {
        return Err(format!(
            "--seq {s}: the range is empty ({from} is above {to})"
        ));
    }
    Ok((from, to))
}

/// Parses `--field TAG=VALUE`.
pub(crate) fn parse_field(s: &str) -> Result<(u32, Vec<u8>), String> {
    let (tag, value) = s
        .split_once('=')
        .ok_or_else(|| format!("--field {s}: expected TAG=VALUE, e.g. --field 11=ORD-7"))?;
    match tag.parse::<u32>() {
        Ok(tag) if tag > 0 => Ok((tag, value.as_bytes().to_vec())),
        _ => Err(format!("--field {s}: {tag:?} is not a tag number")),
    }
}

/// Parses `--dir`.
pub(crate) fn parse_dir(s: &str) -> Result<Direction, String> {
    match s {
        "in" => Ok(Direction::In),
        "out" => Ok(Direction::Out),
        _ => Err(format!("--dir {s}: expected in or out")),
    }
}

/// Parses `--type`: one MsgType, or several separated by commas (no MsgType
/// holds a comma).
pub(crate) fn parse_types(s: &str) -> Result<Vec<Vec<u8>>, String> {
    let types: Vec<Vec<u8>> = s.split(',').map(|t| t.trim().as_bytes().to_vec()).collect();
    if types.iter().any(Vec::is_empty) {
        return Err(format!("--type {s:?}: empty MsgType"));
    }
    Ok(types)
}

/// Parses a `--since`/`--until` time: `YYYYMMDD-HH:MM:SS[.fff...]`,
/// `YYYYMMDD` (midnight) or `HH:MM:SS[.fff...]` (on `today`, `YYYYMMDD`), all
/// UTC. Returns the instant and the unit of its last digit (a second, a day,
/// or a power of ten of a second), which `--until` adds to keep what the
/// value names.
pub(crate) fn parse_time(
    option: &str,
    s: &str,
    today: &[u8; 8],
) -> Result<(UtcTimestamp, Duration), String> {
    let bad = || {
        format!("{option} {s}: expected YYYYMMDD-HH:MM:SS[.fff], YYYYMMDD or HH:MM:SS[.fff] (UTC)")
    };
    let mut full = Vec::with_capacity(32);
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        full.extend_from_slice(s.as_bytes());
        full.extend_from_slice(b"-00:00:00");
        let t = UtcTimestamp::parse(&full).ok_or_else(bad)?;
        return Ok((t, Duration::from_secs(86_400)));
    }
    if s.as_bytes().get(2) == Some(&b':') {
        full.extend_from_slice(today);
        full.push(b'-');
    }
    full.extend_from_slice(s.as_bytes());
    let t = UtcTimestamp::parse(&full).ok_or_else(bad)?;
    let digits = full.get(18..).map_or(0, <[u8]>::len).min(9) as u32;
    let unit = Duration::from_nanos(10u64.pow(9 - digits));
    Ok((t, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_ranges() {
        assert_eq!(parse_seq("3..7"), Ok((3, 7)));
        assert_eq!(parse_seq("3.."), Ok((3, u64::MAX)));
        assert_eq!(parse_seq("..7"), Ok((0, 7)));
        assert_eq!(parse_seq("5"), Ok((5, 5)));
        assert!(parse_seq("7..3").unwrap_err().contains("empty"));
        assert!(parse_seq("a..3").unwrap_err().contains("\"a\""));
    }

    #[test]
    fn times_and_their_units() {
        let today = *b"20261203";
        let (t, unit) = parse_time("--since", "10:00:05", &today).unwrap();
        assert_eq!(t, UtcTimestamp::parse(b"20261203-10:00:05").unwrap());
        assert_eq!(unit, Duration::from_secs(1));
        let (_, unit) = parse_time("--since", "20261201-10:00:05.12", &today).unwrap();
        assert_eq!(unit, Duration::from_millis(10));
        let (t, unit) = parse_time("--until", "20261201", &today).unwrap();
        assert_eq!(t, UtcTimestamp::parse(b"20261201-00:00:00").unwrap());
        assert_eq!(unit, Duration::from_secs(86_400));
        assert!(parse_time("--until", "25:00:00", &today).is_err());
        assert!(parse_time("--until", "yesterday", &today).is_err());
    }
}
