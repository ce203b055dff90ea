//! The on-disk format of [`FileStore`](super::FileStore) as pure functions over bytes.
//!
//! Kept apart from the file and mapping code so that the parsing and recovery logic
//! can be tested (and fuzzed) on plain slices. All integers are little-endian.
//!
//! # Header file (`header`, [`HEADER_LEN`] bytes)
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic [`HEADER_MAGIC`] |
//! | 8..12 | format version ([`VERSION`]) |
//! | 12..16 | header length ([`HEADER_LEN`]) |
//! | 16..24 | session creation time, unix nanoseconds (i64) |
//! | 24..32 | generation: 1 for a new session folder, +1 on every reset |
//! | 32..40 | checksum of bytes 0..32 (u64) |
//! | 512..544 | sequence-number slot 0 |
//! | 1024..1056 | sequence-number slot 1 |
//!
//! A slot is `counter u64 | next_sender u64 | next_target u64 | checksum u64`,
//! the checksum covering the first 24 bytes. An append does not update it: the
//! record is the durable step, and on open the next sender number is the larger of
//! the slot's and one past the log's last record. The slot is written when a
//! number is set, on sync and on close. An update writes the slot *not* holding the
//! newest state, with the counter one higher; on open the valid slot with the
//! highest counter wins. A write torn by a crash (kill -9 between two stores, or a
//! power cut between two sectors) leaves a slot whose checksum fails, so the other slot,
//! holding the previous state, is used: the numbers go back at most one update, and
//! are never a mix of two. This holds whatever order the compiler or the CPU emits
//! the stores in, which 8-byte "atomic" writes into a map would not promise. The
//! slots sit in different 512-byte sectors so one torn sector cannot hit both.
//!
//! # Log segment (`NNNNNNNNNN.log`)
//!
//! A [`SEGMENT_HEADER_LEN`]-byte header (magic [`SEGMENT_MAGIC`], version, 4 zero
//! bytes), then records back to back, then zeros up to the file's length:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | payload length (u32) |
//! | 4..12 | MsgSeqNum (u64, ≥ 1, strictly increasing through the log) |
//! | 12..16 | the low 32 bits of the checksum of the payload keyed by the MsgSeqNum |
//! | 16.. | payload: the frame's exact wire bytes |
//!
//! The payload and sequence number are written before the length, so a record
//! interrupted by a crash has a blank or wrong header and fails the scan. The
//! checksum covers the length too (it folds in the payload's length), so a record
//! whose length, number or payload is torn, cut short or flipped fails it.
//!
//! # Checksums
//!
//! Every check value is [`checksum`]: a multiply-and-fold hash written for this
//! store, whose module docs give its construction and why it fits (torn writes
//! leave zeros or stale bytes, random damage passes with probability about 2^-32
//! for a record and 2^-64 for a header field). A record keeps 32 bits of it, so
//! the 16-byte record header stays as it was; the header file, which has room,
//! keeps all 64.
//!
//! # Versions
//!
//! - 1: CRC-32 check values, 32 bits in the header file too.
//! - 2 ([`VERSION`]): [`checksum`] check values, the header file's widened to
//!   64 bits. Records are the same size.

use super::checksum::checksum;

/// Size of the header file.
pub(crate) const HEADER_LEN: usize = 4096;
/// First bytes of a header file.
pub(crate) const HEADER_MAGIC: [u8; 8] = *b"FIXEHDR\0";
/// First bytes of a log segment.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"FIXELOG\0";
/// The format version written, and the only one read (history in the module docs).
pub(crate) const VERSION: u32 = 2;
/// Size of a segment's header.
pub(crate) const SEGMENT_HEADER_LEN: usize = 16;
/// Size of a record's header.
pub(crate) const RECORD_HEADER_LEN: usize = 16;

const IDENTITY_LEN: usize = 32;
const SLOT_OFFSETS: [usize; 2] = [512, 1024];
const SLOT_LEN: usize = 32;

/// The fixed part of the header, written once per generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    /// When the generation began, unix nanoseconds.
    pub(crate) created_unix_nanos: i64,
    /// 1 for a new folder, +1 on every reset.
    pub(crate) generation: u64,
}

/// One sequence-number slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Which update this is; the higher valid one wins.
    pub(crate) counter: u64,
    /// The next outbound MsgSeqNum(34).
    pub(crate) next_sender: u64,
    /// The next expected inbound MsgSeqNum(34).
    pub(crate) next_target: u64,
}

/// What is wrong with a header or segment image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatError {
    /// Shorter than its fixed part.
    TooShort,
    /// The first eight bytes are not the magic number.
    BadMagic([u8; 8]),
    /// A version this code does not read.
    Version(u32),
    /// Corrupt at a byte offset, for a reason.
    Corrupt(u64, &'static str),
}

/// A fresh header image.
pub(crate) fn new_header(id: Identity, next_sender: u64, next_target: u64) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN];
    buf[0..8].copy_from_slice(&HEADER_MAGIC);
    buf[8..12].copy_from_slice(&VERSION.to_le_bytes());
    buf[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    buf[16..24].copy_from_slice(&id.created_unix_nanos.to_le_bytes());
    buf[24..32].copy_from_slice(&id.generation.to_le_bytes());
    let check = checksum(0, &buf[..IDENTITY_LEN]);
    buf[32..40].copy_from_slice(&check.to_le_bytes());
    write_slot(
        &mut buf,
        Slot {
            counter: 1,
            next_sender,
            next_target,
        },
    );
    buf
}

/// Reads a header image: its identity and the newest valid slot.
pub(crate) fn read_header(buf: &[u8]) -> Result<(Identity, Slot), FormatError> {
    check_magic_and_version(buf, &HEADER_MAGIC, HEADER_LEN)?;
    let declared = u32_at(buf, 12);
    if declared as usize != HEADER_LEN {
        return Err(FormatError::Corrupt(12, "header length field is wrong"));
    }
    if u64_at(buf, 32) != checksum(0, &buf[..IDENTITY_LEN]) {
        return Err(FormatError::Corrupt(32, "identity checksum mismatch"));
    }
    let id = Identity {
        created_unix_nanos: u64_at(buf, 16) as i64,
        generation: u64_at(buf, 24),
    };
    let slot = SLOT_OFFSETS
        .iter()
        .filter_map(|&at| read_slot(&buf[at..at + SLOT_LEN]))
        .max_by_key(|s| s.counter)
        .ok_or(FormatError::Corrupt(
            SLOT_OFFSETS[0] as u64,
            "neither sequence-number slot is valid",
        ))?;
    Ok((id, slot))
}

/// Writes `slot` into the slot position its counter selects (the one not holding
/// counter - 1), checksum last.
#[inline]
pub(crate) fn write_slot(buf: &mut [u8], slot: Slot) {
    let at = SLOT_OFFSETS[(slot.counter % 2) as usize];
    let s = &mut buf[at..at + SLOT_LEN];
    s[0..8].copy_from_slice(&slot.counter.to_le_bytes());
    s[8..16].copy_from_slice(&slot.next_sender.to_le_bytes());
    s[16..24].copy_from_slice(&slot.next_target.to_le_bytes());
    let check = checksum(0, &s[..24]);
    s[24..32].copy_from_slice(&check.to_le_bytes());
}

fn read_slot(s: &[u8]) -> Option<Slot> {
    let counter = u64_at(s, 0);
    if counter == 0 || u64_at(s, 24) != checksum(0, &s[..24]) {
        return None;
    }
    Some(Slot {
        counter,
        next_sender: u64_at(s, 8),
        next_target: u64_at(s, 16),
    })
}

/// A segment's header.
pub(crate) fn segment_header() -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[0..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks a segment image's header.
pub(crate) fn check_segment_header(buf: &[u8]) -> Result<(), FormatError> {
    check_magic_and_version(buf, &SEGMENT_MAGIC, SEGMENT_HEADER_LEN)
}

fn check_magic_and_version(buf: &[u8], magic: &[u8; 8], min_len: usize) -> Result<(), FormatError> {
    if buf.len() < 8 {
        return Err(FormatError::TooShort);
    }
    let mut found = [0u8; 8];
    found.copy_from_slice(&buf[..8]);
    if &found != magic {
        return Err(FormatError::BadMagic(found));
    }
    if buf.len() < min_len {
        return Err(FormatError::TooShort);
    }
    let version = u32_at(buf, 8);
    if version != VERSION {
        return Err(FormatError::Version(version));
    }
    Ok(())
}

/// The bytes a record with a `frame_len`-byte payload takes.
pub(crate) const fn record_len(frame_len: usize) -> usize {
    RECORD_HEADER_LEN + frame_len
}

/// Writes a record into `buf`, which is exactly `record_len(frame.len())` bytes
/// long. The length goes last: until it is written the record does not parse.
#[inline]
pub(crate) fn write_record(buf: &mut [u8], seq: u64, frame: &[u8]) {
    buf[RECORD_HEADER_LEN..].copy_from_slice(frame);
    buf[4..12].copy_from_slice(&seq.to_le_bytes());
    buf[12..16].copy_from_slice(&record_check(seq, frame).to_le_bytes());
    // Fits: the caller checked the frame length against u32.
    buf[0..4].copy_from_slice(&(frame.len() as u32).to_le_bytes());
}

/// The check value a record with `seq` and `payload` carries.
#[inline]
fn record_check(seq: u64, payload: &[u8]) -> u32 {
    // Truncation keeps the low half; the checksum's finalizer mixes every input
    // bit into each half alike.
    checksum(seq, payload) as u32
}

/// Where and why a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// One past the last valid record: where the next record goes.
    pub(crate) end: usize,
    /// Why the byte at `end` does not start a valid record.
    pub(crate) why: &'static str,
}

/// Walks the records of a segment image from `start`, calling
/// `on_record(seq, offset, payload_len)` for each valid one, until the first that
/// is blank, truncated, out of order (its seq not above `last_seq`) or fails its
/// checksum.
pub(crate) fn scan(
    buf: &[u8],
    start: usize,
    mut last_seq: u64,
    mut on_record: impl FnMut(u64, usize, u32),
) -> ScanEnd {
    let mut off = start;
    let why = loop {
        let Some(head) = buf.get(off..off + RECORD_HEADER_LEN) else {
            break if off >= buf.len() {
                "end of file"
            } else {
                "truncated record header"
            };
        };
        let len = u32_at(head, 0);
        let seq = u64_at(head, 4);
        let check = u32_at(head, 12);
        if len == 0 && seq == 0 && check == 0 {
            break "blank record header";
        }
        if seq == 0 {
            break "sequence number 0";
        }
        if seq <= last_seq {
            break "sequence number not above the previous record's";
        }
        let body = off + RECORD_HEADER_LEN;
        let Some(payload) = buf.get(body..body + len as usize) else {
            break "record runs past the end of the file";
        };
        if record_check(seq, payload) != check {
            break "checksum mismatch";
        }
        on_record(seq, off, len);
        last_seq = seq;
        off = body + len as usize;
    };
    ScanEnd { end: off, why }
}

/// The length of `buf` without its trailing zero bytes.
pub(crate) fn nonzero_len(buf: &[u8]) -> usize {
    // Whole blocks first: OR-folding a block vectorises, so a mostly blank 64 MiB
    // segment is checked at memory speed.
    const BLOCK: usize = 4096;
    let mut end = buf.len();
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        let block = &buf[start..end];
        if block.iter().fold(0u8, |a, &b| a | b) != 0 {
            return block
                .iter()
                .rposition(|&b| b != 0)
                .map_or(start, |p| start + p + 1);
        }
        end = start;
    }
    0
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Identity = Identity {
        created_unix_nanos: 1_764_000_000_123_456_789,
        generation: 3,
    };

    fn log_of(records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut buf = segment_header().to_vec();
        for &(seq, frame) in records {
            let at = buf.len();
            buf.resize(at + record_len(frame.len()), 0);
            write_record(&mut buf[at..], seq, frame);
        }
        buf
    }

    fn scanned(buf: &[u8]) -> (Vec<(u64, usize, u32)>, ScanEnd) {
        let mut got = Vec::new();
        let end = scan(buf, SEGMENT_HEADER_LEN, 0, |s, o, l| got.push((s, o, l)));
        (got, end)
    }

    #[test]
    fn header_round_trips_and_the_newest_slot_wins() {
        let mut h = new_header(ID, 1, 1);
        assert_eq!(
            read_header(&h).unwrap(),
            (
                ID,
                Slot {
                    counter: 1,
                    next_sender: 1,
                    next_target: 1
                }
            )
        );
        for counter in 2..6 {
            let slot = Slot {
                counter,
                next_sender: counter * 10,
                next_target: counter * 100,
            };
            write_slot(&mut h, slot);
            assert_eq!(read_header(&h).unwrap().1, slot);
        }
    }

    #[test]
    fn a_torn_slot_falls_back_to_the_previous_state() {
        let mut h = new_header(ID, 1, 1);
        let prev = Slot {
            counter: 2,
            next_sender: 7,
            next_target: 8,
        };
        write_slot(&mut h, prev);
        write_slot(
            &mut h,
            Slot {
                counter: 3,
                next_sender: 9,
                next_target: 10,
            },
        );
        // Slot 1 (counter 3) torn: only its sender field reached the file.
        let at = SLOT_OFFSETS[1];
        h[at + 16..at + 28].fill(0xAB);
        assert_eq!(read_header(&h).unwrap().1, prev);
    }

    #[test]
    fn header_errors_are_named() {
        let h = new_header(ID, 1, 1);
        assert_eq!(read_header(&h[..4]), Err(FormatError::TooShort));
        assert_eq!(read_header(&h[..100]), Err(FormatError::TooShort));
        let mut bad = h.clone();
        bad[0] = b'X';
        assert!(matches!(read_header(&bad), Err(FormatError::BadMagic(m)) if m[0] == b'X'));
        let mut bad = h.clone();
        bad[8] = 9;
        assert_eq!(read_header(&bad), Err(FormatError::Version(9)));
        let mut bad = h.clone();
        bad[20] ^= 1;
        assert!(matches!(
            read_header(&bad),
            Err(FormatError::Corrupt(32, _))
        ));
        let mut bad = h.clone();
        bad[SLOT_OFFSETS[1] + 3] ^= 1; // the initial slot (counter 1) lives at slot 1
        assert!(matches!(
            read_header(&bad),
            Err(FormatError::Corrupt(512, _))
        ));
    }

    #[test]
    fn scan_reads_records_and_stops_clean_at_blank_space() {
        let mut buf = log_of(&[(1, b"one"), (2, b""), (5, b"five")]);
        let written = buf.len();
        buf.resize(written + 100, 0);
        let (got, end) = scanned(&buf);
        assert_eq!(got, [(1, 16, 3), (2, 35, 0), (5, 51, 4)]);
        assert_eq!(end.end, written);
        assert_eq!(end.why, "blank record header");
        assert_eq!(nonzero_len(&buf[end.end..]), 0);
        assert_eq!(scanned(&buf[..written]).1.why, "end of file");
    }

    #[test]
    fn scan_stops_at_the_first_bad_record() {
        let good = log_of(&[(1, b"one"), (2, b"two")]);
        let cut = 16 + record_len(3);
        let mut flipped = good.clone();
        flipped[cut + 17] ^= 0x40;
        let mut disorder = log_of(&[(1, b"one"), (1, b"two")]);
        disorder.push(0);
        for (buf, why) in [
            (
                &good[..good.len() - 1],
                "record runs past the end of the file",
            ),
            (&good[..cut + 5], "truncated record header"),
            (&flipped, "checksum mismatch"),
            (&disorder, "sequence number not above the previous record's"),
        ] {
            let (got, end) = scanned(buf);
            assert_eq!(got, [(1, 16, 3)], "{why}");
            assert_eq!(end, ScanEnd { end: cut, why });
        }
    }

    /// A log of two 200-byte records and blank space, and where the second starts.
    fn two_records() -> (Vec<u8>, usize) {
        let first: Vec<u8> = (0..200u32).map(|i| (i * 13 + 1) as u8).collect();
        let second: Vec<u8> = (0..200u32).map(|i| (i * 29 + 7) as u8).collect();
        let mut buf = log_of(&[(41, &first), (42, &second)]);
        buf.resize(buf.len() + 64, 0);
        (buf, SEGMENT_HEADER_LEN + record_len(200))
    }

    /// The scan of `buf` keeps only the first record and stops where the second
    /// starts.
    fn keeps_only_the_first(buf: &[u8], second: usize, what: &str) {
        let (got, end) = scanned(buf);
        assert_eq!(got, [(41, SEGMENT_HEADER_LEN, 200)], "{what}");
        assert_eq!(end.end, second, "{what}: {}", end.why);
    }

    #[test]
    fn a_single_flipped_bit_anywhere_in_a_record_is_caught() {
        let (good, second) = two_records();
        assert_eq!(scanned(&good).0.len(), 2);
        for bit in 0..record_len(200) * 8 {
            let mut bad = good.clone();
            bad[second + bit / 8] ^= 1 << (bit % 8);
            keeps_only_the_first(&bad, second, &format!("bit {bit}"));
        }
    }

    #[test]
    fn truncated_and_zeroed_tails_are_caught() {
        let (good, second) = two_records();
        let end = second + record_len(200);
        for cut in second + 1..end {
            // The file ends inside the record.
            keeps_only_the_first(&good[..cut], second, &format!("cut at {cut}"));
            // The file is whole but the record's bytes from `cut` on never reached
            // it (the segment is zero-filled), or are what an earlier write left.
            let mut torn = good.clone();
            torn[cut..end].fill(0);
            keeps_only_the_first(&torn, second, &format!("zeros from {cut}"));
            for (i, b) in torn[cut..end].iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(101) ^ 0x5A;
            }
            keeps_only_the_first(&torn, second, &format!("stale bytes from {cut}"));
        }
        // Only the header reached the file: its length and number, payload zeros.
        let mut torn = good.clone();
        torn[second + RECORD_HEADER_LEN..end].fill(0);
        keeps_only_the_first(&torn, second, "payload never written");
    }

    #[test]
    fn a_record_moved_to_another_number_or_length_is_caught() {
        let (good, second) = two_records();
        let mut renumbered = good.clone();
        renumbered[second + 4..second + 12].copy_from_slice(&43u64.to_le_bytes());
        keeps_only_the_first(&renumbered, second, "renumbered");
        let mut shorter = good.clone();
        shorter[second..second + 4].copy_from_slice(&199u32.to_le_bytes());
        keeps_only_the_first(&shorter, second, "one byte shorter");
    }

    #[test]
    fn nonzero_len_finds_the_last_set_byte() {
        let mut buf = vec![0u8; 3 * 4096 + 17];
        assert_eq!(nonzero_len(&buf), 0);
        buf[5] = 1;
        assert_eq!(nonzero_len(&buf), 6);
        buf[4096 * 2 + 3] = 1;
        assert_eq!(nonzero_len(&buf), 4096 * 2 + 4);
        let last = buf.len() - 1;
        buf[last] = 1;
        assert_eq!(nonzero_len(&buf), buf.len());
    }
}
