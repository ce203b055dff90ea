//! The codec's hot paths allocate nothing once their buffers are warm.
//!
//! `allocation-counter` replaces the global allocator in this test binary and
//! counts per thread, so tests running in parallel do not disturb each other.

use fixengine::{
    Decoder, Encoder, Fields, FixVersion, Framer, Message, Status, TimePrecision, UtcTimestamp,
    tags::*,
};

fn new_order_single() -> Vec<u8> {
    let mut out = Vec::new();
    let now = UtcTimestamp::parse(b"20261125-20:16:27.123").expect("valid timestamp");
    let mut e = Encoder::start(&mut out, "FIX.4.4", b"D");
    e.uint(MSG_SEQ_NUM, 7)
        .str(SENDER_COMP_ID, "CLIENT01")
        .timestamp(SENDING_TIME, now, TimePrecision::Millis)
        .str(TARGET_COMP_ID, "FIXENGINE")
        .str(CL_ORD_ID, "ORD-1")
        .char(SIDE, b'1')
        .str(SYMBOL, "MSFT")
        .str(ORDER_QTY, "100")
        .char(ORD_TYPE, b'2')
        .str(PRICE, "101.25")
        .timestamp(TRANSACT_TIME, now, TimePrecision::Millis);
    e.finish();
    out
}

#[test]
fn framing_and_decoding_allocate_nothing_once_warm() {
    let nos = new_order_single();
    let mut stream = nos.clone();
    stream.extend_from_slice(b"junk");
    stream.extend_from_slice(&nos);
    let framer = Framer::default();
    let mut decoder = Decoder::new();
    // Warm-up: the decoder's field index grows to the message's size.
    decoder.decode(&nos).unwrap();

    let info = allocation_counter::measure(|| {
        for _ in 0..1_000 {
            let mut buf = &stream[..];
            while !buf.is_empty() {
                match framer.parse(buf) {
                    Ok(Status::Complete(len)) => {
                        let view = decoder.decode(&buf[..len]).unwrap();
                        assert_eq!(view.msg_seq_num().unwrap().get(), 7);
                        assert!(view.sending_time().is_ok());
                        assert_eq!(view.get_decimal(PRICE), Ok("101.25"));
                        assert_eq!(view.get(CL_ORD_ID), Some(&b"ORD-1"[..]));
                        buf = &buf[len..];
                    }
                    Ok(Status::Partial(_)) => break,
                    Err(garbled) => buf = &buf[garbled.len..],
                }
            }
        }
    });
    assert_eq!(info.count_total, 0, "frame + decode allocated: {info:?}");
}

#[test]
fn encoding_allocates_nothing_once_warm() {
    let now = UtcTimestamp::parse(b"20261125-20:16:27.123").unwrap();
    let report = Message::new(msg_type::EXECUTION_REPORT)
        .with(ORDER_ID, "O-1")
        .with(EXEC_ID, "E-1")
        .with(EXEC_TYPE, '0')
        .with(ORD_STATUS, '0')
        .with(SYMBOL, "MSFT")
        .with(SIDE, '1')
        .with(LEAVES_QTY, 100u32)
        .with(CUM_QTY, 0u32)
        .with(AVG_PX, "0");
    let mut out = Vec::with_capacity(1024);
    let mut ts = [0u8; fixengine::codec::MAX_TIMESTAMP_LEN];

    let info = allocation_counter::measure(|| {
        for seq in 1..=1_000u64 {
            out.clear();
            let mut enc = Encoder::start(&mut out, "FIX.4.4", b"0");
            enc.uint(MSG_SEQ_NUM, seq)
                .str(SENDER_COMP_ID, "FIXENGINE")
                .timestamp(SENDING_TIME, now, TimePrecision::Micros)
                .str(TARGET_COMP_ID, "CLIENT01");
            enc.finish();

            out.clear();
            let sending_time = now.format(TimePrecision::Millis, &mut ts);
            let header: [(u32, &[u8]); 3] = [
                (SENDER_COMP_ID, b"FIXENGINE"),
                (SENDING_TIME, sending_time),
                (TARGET_COMP_ID, b"CLIENT01"),
            ];
            report.encode(FixVersion::Fix44, &header, &mut out);
        }
    });
    assert_eq!(info.count_total, 0, "encoding allocated: {info:?}");
    assert!(Framer::default().parse(&out).is_ok());
}

#[test]
fn the_counter_does_count() {
    // Guards the two tests above against a counter that never counts.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(10));
    });
    assert_eq!(info.count_total, 1);
}
