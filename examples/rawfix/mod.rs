//! Raw FIX 4.4 helpers shared by the measuring examples (`loadgen`, `ideal_acceptor`):
//! a hand-written encoder, framer and field scanner with no FIX engine behind them, so
//! that what they cost is the same on every side of a comparison. Not part of the
//! library: the engine's own codec is in `src/codec/`.

#![allow(dead_code)] // each example uses a different part

/// The FIX field separator.
pub(crate) const SOH: u8 = 0x01;

// ------------------------------------------------------------------------- time
/// A UTCTimestamp with milliseconds (`YYYYMMDD-HH:MM:SS.sss`), the date and time part
/// formatted only when the second changes.
#[derive(Debug)]
pub(crate) struct Stamp {
    second: u64,
    pub(crate) text: [u8; 21],
}

impl Stamp {
    pub(crate) fn new() -> Self {
        Self {
            second: u64::MAX,
            text: *b"00000000-00:00:00.000",
        }
    }

    /// The timestamp for `wall_ns` (nanoseconds since the Unix epoch).
    pub(crate) fn at(&mut self, wall_ns: u64) -> &[u8; 21] {
        let second = wall_ns / 1_000_000_000;
        if second != self.second {
            self.second = second;
            let (y, m, d) = civil_from_days((second / 86_400) as i64);
            let tod = second % 86_400;
            let t = &mut self.text;
            put_digits(&mut t[0..4], y as u64);
            put_digits(&mut t[4..6], u64::from(m));
            put_digits(&mut t[6..8], u64::from(d));
            put_digits(&mut t[9..11], tod / 3600);
            put_digits(&mut t[12..14], tod / 60 % 60);
            put_digits(&mut t[15..17], tod % 60);
        }
        put_digits(&mut self.text[18..21], wall_ns / 1_000_000 % 1000);
        &self.text
    }
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm),
/// so the program needs no date crate.
pub(crate) const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    (y, m, d)
}

// ---------------------------------------------------------------------- encoding

/// Writes `v` in decimal, zero-padded, filling `out` exactly.
pub(crate) fn put_digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Appends `v` in decimal, without allocating.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// The frame start: BeginString and a three-digit BodyLength placeholder, patched by
/// [`end_frame`]. Three digits fit every order and ER, so the common case is a
/// single pass with no move.
pub(crate) const FRAME_START: &[u8] = b"8=FIX.4.4\x019=000\x01";
/// Where the BodyLength digits start in [`FRAME_START`].
pub(crate) const BODY_LENGTH_AT: usize = 12;

/// Starts a message in `out` up to and including MsgType and the standard header:
/// MsgSeqNum, SenderCompID, SendingTime, TargetCompID. Returns the frame's start.
pub(crate) fn begin_frame(
    out: &mut Vec<u8>,
    msg_type: &[u8],
    seq: u64,
    sender: &[u8],
    target: &[u8],
    time: &[u8; 21],
) -> usize {
    let start = out.len();
    out.extend_from_slice(FRAME_START);
    out.extend_from_slice(b"35=");
    out.extend_from_slice(msg_type);
    out.extend_from_slice(b"\x0134=");
    push_u64(out, seq);
    out.extend_from_slice(b"\x0149=");
    out.extend_from_slice(sender);
    out.extend_from_slice(b"\x0152=");
    out.extend_from_slice(time);
    out.extend_from_slice(b"\x0156=");
    out.extend_from_slice(target);
    out.push(SOH);
    start
}

/// Patches BodyLength (9) and appends CheckSum (10) to the frame begun at `start`.
pub(crate) fn end_frame(out: &mut Vec<u8>, start: usize) {
    let body_start = start + FRAME_START.len();
    let body_len = out.len() - body_start;
    let digits = body_len.checked_ilog10().map_or(1, |d| d as usize + 1);
    if digits != 3 {
        // Short session messages (Heartbeat, Logout) or huge ones: shift the body.
        let old_len = out.len();
        if digits > 3 {
            out.resize(old_len + digits - 3, 0);
        }
        // The SOH after the placeholder moves with the body.
        let from = body_start - 1;
        out.copy_within(from..old_len, from + digits - 3);
        if digits < 3 {
            out.truncate(old_len - (3 - digits));
        }
    }
    put_digits(
        &mut out[start + BODY_LENGTH_AT..start + BODY_LENGTH_AT + digits],
        body_len as u64,
    );
    let sum = checksum(&out[start..]);
    out.extend_from_slice(b"10=000\x01");
    let at = out.len() - 4;
    put_digits(&mut out[at..at + 3], u64::from(sum));
}

/// The FIX CheckSum: the byte sum modulo 256 (written so the compiler vectorises it).
pub(crate) fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u32, |a, &b| a + u32::from(b)) as u8
}

// ---------------------------------------------------------------------- decoding

/// What the framer found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Not a whole frame yet.
    Partial,
    /// A whole, valid frame of this many bytes.
    Complete(usize),
    /// A whole frame of this many bytes whose CheckSum is wrong.
    BadChecksum(usize),
    /// Not a frame: BeginString, BodyLength or the CheckSum field is malformed.
    Garbage,
}

/// Frames one message: checks BeginString, BodyLength and CheckSum.
pub(crate) fn frame(buf: &[u8]) -> Framing {
    const BEGIN: &[u8] = b"8=FIX.4.4\x019=";
    let n = buf.len().min(BEGIN.len());
    if buf[..n] != BEGIN[..n] {
        return Framing::Garbage;
    }
    if buf.len() <= BEGIN.len() {
        return Framing::Partial;
    }
    let mut at = BEGIN.len();
    let mut body_len = 0usize;
    while at < buf.len() && buf[at].is_ascii_digit() {
        if at - BEGIN.len() >= 6 {
            return Framing::Garbage;
        }
        body_len = body_len * 10 + usize::from(buf[at] - b'0');
        at += 1;
    }
    if at == buf.len() {
        return Framing::Partial;
    }
    if buf[at] != SOH || at == BEGIN.len() {
        return Framing::Garbage;
    }
    let trailer = at + 1 + body_len;
    let total = trailer + 7;
    if buf.len() < total {
        return Framing::Partial;
    }
    let t = &buf[trailer..total];
    if &t[..3] != b"10=" || t[6] != SOH || !t[3..6].iter().all(u8::is_ascii_digit) {
        return Framing::Garbage;
    }
    let declared =
        u32::from(t[3] - b'0') * 100 + u32::from(t[4] - b'0') * 10 + u32::from(t[5] - b'0');
    if u32::from(checksum(&buf[..trailer])) == declared {
        Framing::Complete(total)
    } else {
        Framing::BadChecksum(total)
    }
}

/// The fields of an inbound message the client looks at, as byte ranges of the frame
/// (no copies).
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) msg_type: (usize, usize),
    pub(crate) seq: u64,
    pub(crate) sender: (usize, usize),
    pub(crate) target: (usize, usize),
    pub(crate) cl_ord_id: (usize, usize),
    pub(crate) test_req_id: (usize, usize),
    pub(crate) text: (usize, usize),
    pub(crate) new_seq: u64,
    pub(crate) begin_seq: u64,
    pub(crate) poss_dup: bool,
    pub(crate) ref_seq: u64,
    pub(crate) reason: (usize, usize),
    /// The order's Side, Symbol, OrderQty and Price, and a Logon's HeartBtInt and
    /// ResetSeqNumFlag: what an acceptor echoes back.
    pub(crate) side: (usize, usize),
    pub(crate) symbol: (usize, usize),
    pub(crate) order_qty: (usize, usize),
    pub(crate) price: (usize, usize),
    pub(crate) heart_bt_int: (usize, usize),
    pub(crate) reset: (usize, usize),
}

/// Decimal value of a field (0 when empty or not a number).
pub(crate) fn parse_u64(v: &[u8]) -> u64 {
    v.iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u64, |a, &b| {
            a.wrapping_mul(10).wrapping_add(u64::from(b - b'0'))
        })
}

/// One pass over the tag=value pairs of a framed message.
pub(crate) fn parse_fields(msg: &[u8]) -> Fields {
    let mut f = Fields::default();
    let mut at = 0;
    while at < msg.len() {
        let mut tag = 0u32;
        while at < msg.len() && msg[at] != b'=' {
            tag = tag
                .wrapping_mul(10)
                .wrapping_add(u32::from(msg[at].wrapping_sub(b'0')));
            at += 1;
        }
        let start = at + 1;
        let end = msg[start.min(msg.len())..]
            .iter()
            .position(|&b| b == SOH)
            .map_or(msg.len(), |p| start + p);
        let range = (start.min(end), end);
        let value = &msg[start.min(end)..end];
        match tag {
            35 => f.msg_type = range,
            34 => f.seq = parse_u64(value),
            49 => f.sender = range,
            56 => f.target = range,
            11 => f.cl_ord_id = range,
            112 => f.test_req_id = range,
            58 => f.text = range,
            36 => f.new_seq = parse_u64(value),
            7 => f.begin_seq = parse_u64(value),
            43 => f.poss_dup = value == b"Y",
            45 => f.ref_seq = parse_u64(value),
            373 | 380 => f.reason = range,
            54 => f.side = range,
            55 => f.symbol = range,
            38 => f.order_qty = range,
            44 => f.price = range,
            108 => f.heart_bt_int = range,
            141 => f.reset = range,
            _ => {}
        }
        at = end + 1;
    }
    f
}

/// The bytes of a field range, lossily as text, for error messages.
pub(crate) fn text(msg: &[u8], (a, b): (usize, usize)) -> String {
    String::from_utf8_lossy(&msg[a.min(b)..b]).into_owned()
}
