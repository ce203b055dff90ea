//! Property tests of the codec: what the encoder writes decodes to the same fields,
//! a stream frames the same however it is split, and timestamps round-trip.

use fixengine::codec::{FrameError, tags};
use fixengine::{
    Decoder, Encoder, Fields, FixVersion, Framer, Message, Status, TimePrecision, UtcTimestamp,
};
use proptest::prelude::*;

/// Tags an application may use freely: not framing, not a data-length field
/// (whose next field is read by length), not a header field.
fn body_tag() -> impl Strategy<Value = u32> {
    (1u32..20_000).prop_filter("plain body tag", |&t| {
        !tags::is_header(t) && !tags::is_trailer(t) && tags::data_field_for_length(t).is_none()
    })
}

/// A value without SOH, as every non-data field must be.
fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_map(|b| if b == 0x01 { b'x' } else { b }),
        1..24,
    )
}

fn fields() -> impl Strategy<Value = Vec<(u32, Vec<u8>)>> {
    proptest::collection::vec((body_tag(), value()), 0..30)
}

fn version() -> impl Strategy<Value = FixVersion> {
    proptest::sample::select(FixVersion::ALL.to_vec())
}

/// One complete valid frame with the given body fields and an optional RawData
/// field of arbitrary bytes (SOH included).
fn encode(version: FixVersion, seq: u64, body: &[(u32, Vec<u8>)], raw: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::start(&mut out, version.begin_string(), b"D");
    e.uint(tags::MSG_SEQ_NUM, seq)
        .str(tags::SENDER_COMP_ID, "A");
    for (t, v) in body {
        e.bytes(*t, v);
    }
    if let Some(raw) = raw {
        e.uint(tags::RAW_DATA_LENGTH, raw.len() as u64)
            .bytes(tags::RAW_DATA, raw);
    }
    e.finish();
    out
}

/// What a stream frames into. Where a broken header is detected before the rest
/// of its frame has arrived, the framer drops what it has and the rest is skipped
/// as junk a moment later: the same bytes go, in different steps. So the error
/// kinds, the frames, the bytes dropped and what is left are compared, not the
/// individual discard lengths or the snippets in the errors.
#[derive(Debug, PartialEq, Default)]
struct Framed {
    frames: Vec<Vec<u8>>,
    /// The kinds of errors other than junk before a frame, in order.
    errors: Vec<std::mem::Discriminant<FrameError>>,
    dropped: usize,
    junk_bytes: usize,
    leftover: Vec<u8>,
}

/// Feeds `chunks` through a framer the way a reader of a socket would.
fn frame_stream<'a>(framer: &Framer, chunks: impl IntoIterator<Item = &'a [u8]>) -> Framed {
    let mut out = Framed::default();
    let mut buf = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match framer.parse(&buf) {
                Ok(Status::Complete(n)) => {
                    out.frames.push(buf.drain(..n).collect());
                }
                Ok(Status::Partial(needed)) => {
                    if let Some(n) = needed {
                        assert!(n > buf.len(), "Partial(Some({n})) with {} bytes", buf.len());
                    }
                    break;
                }
                Err(g) => {
                    assert!(
                        g.len >= 1 && g.len <= buf.len(),
                        "garbled len {} of {}",
                        g.len,
                        buf.len()
                    );
                    out.dropped += g.len;
                    match g.error {
                        FrameError::BeginStringNotFirst { .. } => out.junk_bytes += g.len,
                        e => out.errors.push(std::mem::discriminant(&e)),
                    }
                    buf.drain(..g.len);
                }
            }
        }
    }
    out.leftover = buf;
    out
}

#[derive(Debug, Clone)]
enum Segment {
    Frame(Vec<(u32, Vec<u8>)>, Option<Vec<u8>>),
    Junk(Vec<u8>),
    Corrupt(Vec<(u32, Vec<u8>)>, usize, u8),
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        4 => (fields(), proptest::option::of(proptest::collection::vec(any::<u8>(), 1..20)))
            .prop_map(|(f, r)| Segment::Frame(f, r)),
        1 => proptest::collection::vec(any::<u8>(), 1..30).prop_map(Segment::Junk),
        1 => (fields(), any::<usize>(), any::<u8>()).prop_map(|(f, at, b)| Segment::Corrupt(f, at, b)),
    ]
}

fn render(segments: &[Segment]) -> Vec<u8> {
    let mut stream = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        match s {
            Segment::Frame(f, raw) => {
                stream.extend(encode(FixVersion::Fix44, i as u64 + 1, f, raw.as_deref()))
            }
            Segment::Junk(j) => stream.extend_from_slice(j),
            Segment::Corrupt(f, at, b) => {
                let mut frame = encode(FixVersion::Fix42, i as u64 + 1, f, None);
                let at = at % frame.len();
                frame[at] = *b;
                stream.extend(frame);
            }
        }
    }
    stream
}

// 256 cases each by default; PROPTEST_CASES=N runs more.
proptest! {

    #[test]
    fn encoded_fields_decode_to_the_same_fields(
        version in version(),
        seq in 1u64..u64::MAX,
        body in fields(),
        // A data field is never empty: FIX has no empty values.
        raw in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..64)),
    ) {
        let frame = encode(version, seq, &body, raw.as_deref());
        prop_assert_eq!(Framer::default().parse(&frame), Ok(Status::Complete(frame.len())));
        let mut decoder = Decoder::new();
        let view = decoder.decode(&frame).unwrap();
        prop_assert_eq!(view.begin_string(), version.begin_string().as_bytes());
        prop_assert_eq!(view.msg_type(), b"D");
        prop_assert_eq!(view.msg_seq_num().unwrap().get(), seq);
        prop_assert!(view.problem().is_none());
        let mut expected: Vec<(u32, Vec<u8>)> = body.clone();
        if let Some(raw) = &raw {
            expected.push((tags::RAW_DATA_LENGTH, raw.len().to_string().into_bytes()));
            expected.push((tags::RAW_DATA, raw.clone()));
        }
        let got: Vec<(u32, Vec<u8>)> = view.body().map(|f| (f.tag, f.value.to_vec())).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn messages_encode_and_decode_back(version in version(), body in fields()) {
        let mut message = Message::new("8");
        for (t, v) in &body {
            message.push(*t, &v[..]);
        }
        prop_assert!(message.validate().is_ok());
        let mut out = Vec::new();
        let header: [(u32, &[u8]); 3] = [
            (tags::MSG_SEQ_NUM, b"42"),
            (tags::SENDER_COMP_ID, b"ISLD"),
            (tags::TARGET_COMP_ID, b"TW"),
        ];
        let len = message.encode(version, &header, &mut out);
        prop_assert_eq!(Framer::default().parse(&out), Ok(Status::Complete(len)));
        let mut decoder = Decoder::new();
        let view = decoder.decode(&out).unwrap();
        let back = Message::from(&view);
        let got: Vec<(u32, Vec<u8>)> = back
            .fields()
            .filter(|(t, _)| !tags::is_header(*t))
            .map(|(t, v)| (t, v.to_vec()))
            .collect();
        prop_assert_eq!(got, body);
        prop_assert_eq!(view.get(tags::TARGET_COMP_ID), Some(&b"TW"[..]));
    }

    #[test]
    fn a_stream_frames_the_same_however_it_is_split(
        segments in proptest::collection::vec(segment(), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let stream = render(&segments);
        let framer = Framer::default();
        let whole = frame_stream(&framer, [&stream[..]]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let pieces = points.windows(2).map(|w| &stream[w[0]..w[1]]);
        let same = |a: &Framed, b: &Framed| {
            a.frames == b.frames && a.errors == b.errors && a.dropped == b.dropped && a.leftover == b.leftover
        };
        let split = frame_stream(&framer, pieces);
        prop_assert!(same(&split, &whole), "split {:?}\nwhole {:?}", split, whole);
        // Byte by byte too: the harshest split.
        let bytewise = frame_stream(&framer, stream.chunks(1));
        prop_assert!(same(&bytewise, &whole), "bytewise {:?}\nwhole {:?}", bytewise, whole);
        for frame in &whole.frames {
            let mut decoder = Decoder::new();
            let _ = decoder.decode(frame);
        }
    }

    #[test]
    fn a_valid_frame_after_junk_is_recovered(
        junk in proptest::collection::vec(any::<u8>().prop_filter("no '8'", |&b| b != b'8'), 0..64),
        body in fields(),
    ) {
        let frame = encode(FixVersion::Fix44, 1, &body, None);
        let mut stream = junk.clone();
        stream.extend_from_slice(&frame);
        let out = frame_stream(&Framer::default(), [&stream[..]]);
        prop_assert_eq!(out.frames, vec![frame]);
        prop_assert_eq!(out.junk_bytes, junk.len());
        prop_assert!(out.errors.is_empty());
    }

    #[test]
    fn timestamps_round_trip(secs in 0i64..253_402_300_800, nanos in 0u32..1_000_000_000) {
        let t = UtcTimestamp::from_unix(secs, nanos);
        for (precision, unit) in [
            (TimePrecision::Seconds, 1_000_000_000),
            (TimePrecision::Millis, 1_000_000),
            (TimePrecision::Micros, 1_000),
            (TimePrecision::Nanos, 1),
        ] {
            let mut buf = [0u8; fixengine::codec::MAX_TIMESTAMP_LEN];
            let text = t.format(precision, &mut buf);
            prop_assert_eq!(text.len(), 17 + if precision.digits() == 0 { 0 } else { precision.digits() + 1 });
            let back = UtcTimestamp::parse(text).unwrap();
            prop_assert_eq!(back, UtcTimestamp::from_unix(secs, nanos / unit * unit));
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        bytes.push(0x01);
        let mut decoder = Decoder::new();
        if let Ok(view) = decoder.decode(&bytes) {
            let _ = (view.msg_seq_num(), view.sending_time(), view.problem(), format!("{view:?}"));
            let _ = Message::from(&view);
        }
    }
}
