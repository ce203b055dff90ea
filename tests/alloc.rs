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

/// The session's per-message path — frame in, sequence and header checks, the
/// application's callback, a reply encoded, stored and queued for the socket —
/// allocates nothing once warm, except when the store's buffers double.
#[test]
fn a_session_round_trip_allocates_nothing_once_warm() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use fixengine::clock::ManualClock;
    use fixengine::session::{Handler, Reply, SessionMachine};
    use fixengine::store::MemoryStore;
    use fixengine::{MessageView, SessionConfig, SessionId};

    struct Fill {
        report: Message,
    }
    impl Handler for Fill {
        fn on_message(&mut self, _order: &MessageView<'_>, reply: &mut Reply<'_>) {
            reply.send(&self.report).expect("stored");
        }
    }

    let now_utc = UtcTimestamp::parse(b"20261125-20:16:27.123").expect("valid timestamp");
    #[allow(clippy::disallowed_methods)] // a test sets its clock's origin
    let now = Instant::now();
    let mut machine = SessionMachine::new(
        SessionId::from_static("FIXENGINE", "CLIENT01"),
        FixVersion::Fix44,
        SessionConfig::default().with_check_sending_time(false),
        MemoryStore::new(),
        Arc::new(ManualClock::new(now_utc)),
        now,
    );
    let mut app = Fill {
        report: Message::new("8")
            .with(ORDER_ID, "OID-1")
            .with(EXEC_ID, "EXEC-1")
            .with(EXEC_TYPE, '0')
            .with(ORD_STATUS, '0')
            .with(SYMBOL, "MSFT"),
    };
    let frame = |seq: u64, mt: &[u8], body: &dyn Fn(&mut Encoder<'_>)| {
        let mut out = Vec::new();
        let mut e = Encoder::start(&mut out, "FIX.4.4", mt);
        e.uint(MSG_SEQ_NUM, seq)
            .str(SENDER_COMP_ID, "CLIENT01")
            .timestamp(SENDING_TIME, now_utc, TimePrecision::Millis)
            .str(TARGET_COMP_ID, "FIXENGINE");
        body(&mut e);
        e.finish();
        out
    };
    machine.handle_connect(now, Duration::from_secs(5), &mut app);
    let logon = frame(1, b"A", &|e| {
        e.uint(ENCRYPT_METHOD, 0).uint(HEART_BT_INT, 30);
    });
    machine.handle_frame(now, &logon, &mut app).unwrap();
    const WARM: u64 = 5_000;
    const MEASURED: u64 = 1_000;
    let orders: Vec<Vec<u8>> = (2..2 + WARM + MEASURED)
        .map(|seq| {
            frame(seq, b"D", &|e| {
                e.str(CL_ORD_ID, "ORD-1")
                    .char(SIDE, b'1')
                    .str(SYMBOL, "MSFT")
                    .str(ORDER_QTY, "100")
                    .char(ORD_TYPE, b'1');
            })
        })
        .collect();
    let mut out = Vec::with_capacity(1 << 20);
    let mut step = |order: &[u8], out: &mut Vec<u8>| {
        machine.handle_frame(now, order, &mut app).unwrap();
        out.clear();
        machine.poll_transmit(out, &mut app).unwrap();
    };
    for order in &orders[..WARM as usize] {
        step(order, &mut out);
    }
    let info = allocation_counter::measure(|| {
        for order in &orders[WARM as usize..] {
            step(order, &mut out);
        }
    });
    // The in-memory store keeps every frame in two growing vectors: at most a
    // doubling of each in 1,000 messages after 5,000.
    assert!(
        info.count_total <= 2,
        "the session path allocated {} times in {MEASURED} messages: {info:?}",
        info.count_total
    );
    assert!(!out.is_empty(), "replies were produced");
}
