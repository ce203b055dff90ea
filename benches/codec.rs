//! Codec benchmarks with real SOH-delimited messages (so CheckSum is exercised):
//! frame + decode a NewOrderSingle, encode an ExecutionReport, checksum alone,
//! timestamp formatting. README quotes the medians.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixengine::{
    Decoder, Encoder, Fields, FixVersion, Framer, Message, Status, TimePrecision, UtcTimestamp,
    codec::checksum, tags::*,
};

/// A FIX.4.4 NewOrderSingle of about 200 bytes, as an order-entry client sends it.
fn new_order_single() -> Vec<u8> {
    let mut out = Vec::new();
    let now = UtcTimestamp::parse(b"20261125-20:16:27.123").expect("valid timestamp");
    let mut e = Encoder::start(&mut out, "FIX.4.4", b"D");
    e.uint(MSG_SEQ_NUM, 123_456)
        .str(SENDER_COMP_ID, "CLIENT01")
        .timestamp(SENDING_TIME, now, TimePrecision::Millis)
        .str(TARGET_COMP_ID, "FIXENGINE")
        .str(ACCOUNT, "ACCT-0042")
        .str(CL_ORD_ID, "ORD-20261125-000001")
        .char(HANDL_INST, b'1')
        .str(ORDER_QTY, "1000")
        .char(ORD_TYPE, b'2')
        .str(PRICE, "101.2500")
        .char(SIDE, b'1')
        .str(SYMBOL, "MSFT")
        .char(TIME_IN_FORCE, b'0')
        .timestamp(TRANSACT_TIME, now, TimePrecision::Millis)
        .str(TEXT, "bench order");
    e.finish();
    out
}

fn decode(c: &mut Criterion) {
    let nos = new_order_single();
    let framer = Framer::default();
    let mut decoder = Decoder::new();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(nos.len() as u64));
    g.bench_function(
        format!("frame+decode NewOrderSingle ({} B)", nos.len()),
        |b| {
            b.iter(|| {
                let buf = black_box(&nos[..]);
                let Ok(Status::Complete(len)) = framer.parse(buf) else {
                    panic!("bench message must frame")
                };
                let view = decoder
                    .decode(&buf[..len])
                    .expect("bench message must decode");
                black_box(view.msg_type());
            })
        },
    );
    g.bench_function("frame only NewOrderSingle", |b| {
        b.iter(|| black_box(framer.parse(black_box(&nos[..]))))
    });
    g.bench_function("decode only NewOrderSingle (already framed)", |b| {
        b.iter(|| {
            let view = decoder
                .decode(black_box(&nos[..]))
                .expect("bench message must decode");
            black_box(view.len());
        })
    });
    g.bench_function(
        "frame+decode+validate NewOrderSingle (BodyLength, CheckSum, BeginString, MsgType, CompIDs, MsgSeqNum)",
        |b| {
            b.iter(|| {
                let buf = black_box(&nos[..]);
                let Ok(Status::Complete(len)) = framer.parse(buf) else {
                    panic!("bench message must frame")
                };
                let view = decoder.decode(&buf[..len]).expect("bench message must decode");
                let ok = view.begin_string() == b"FIX.4.4"
                    && view.msg_type() == b"D"
                    && view.sender_comp_id() == Some(b"CLIENT01")
                    && view.target_comp_id() == Some(b"FIXENGINE")
                    && view.problem().is_none();
                black_box((view.msg_seq_num().expect("seq"), ok));
            })
        },
    );
    g.bench_function(
        "frame+decode+header checks NewOrderSingle (seq, CompIDs, SendingTime, ClOrdID)",
        |b| {
            b.iter(|| {
                let buf = black_box(&nos[..]);
                let Ok(Status::Complete(len)) = framer.parse(buf) else {
                    panic!("bench message must frame")
                };
                let view = decoder
                    .decode(&buf[..len])
                    .expect("bench message must decode");
                let seq = view.msg_seq_num().expect("seq");
                let ok = view.sender_comp_id() == Some(b"CLIENT01")
                    && view.target_comp_id() == Some(b"FIXENGINE");
                let t = view.sending_time().expect("time");
                let id = view.get(CL_ORD_ID);
                black_box((seq, ok, t, id, view.problem()));
            })
        },
    );
    g.finish();
}

fn encode(c: &mut Criterion) {
    let now = UtcTimestamp::parse(b"20261125-20:16:27.123").expect("valid timestamp");
    let mut out = Vec::with_capacity(512);
    let mut g = c.benchmark_group("encode");
    g.bench_function("Encoder ExecutionReport (header + 16 body fields)", |b| {
        b.iter(|| {
            out.clear();
            let mut e = Encoder::start(&mut out, "FIX.4.4", b"8");
            e.uint(MSG_SEQ_NUM, black_box(123_456))
                .str(SENDER_COMP_ID, "FIXENGINE")
                .timestamp(SENDING_TIME, black_box(now), TimePrecision::Millis)
                .str(TARGET_COMP_ID, "CLIENT01")
                .str(ACCOUNT, "ACCT-0042")
                .str(AVG_PX, "0")
                .str(CL_ORD_ID, "ORD-20261125-000001")
                .str(CUM_QTY, "0")
                .str(EXEC_ID, "EXEC-000000001")
                .str(ORDER_ID, "OID-000000001")
                .str(ORDER_QTY, "1000")
                .char(ORD_STATUS, b'0')
                .char(ORD_TYPE, b'2')
                .str(PRICE, "101.2500")
                .char(SIDE, b'1')
                .str(SYMBOL, "MSFT")
                .timestamp(TRANSACT_TIME, now, TimePrecision::Millis)
                .char(EXEC_TYPE, b'0')
                .str(LEAVES_QTY, "1000");
            black_box(e.finish());
        })
    });
    let er = Message::new("8")
        .with(ACCOUNT, "ACCT-0042")
        .with(AVG_PX, "0")
        .with(CL_ORD_ID, "ORD-20261125-000001")
        .with(CUM_QTY, "0")
        .with(EXEC_ID, "EXEC-000000001")
        .with(ORDER_ID, "OID-000000001")
        .with(ORDER_QTY, "1000")
        .with(ORD_STATUS, '0')
        .with(ORD_TYPE, '2')
        .with(PRICE, "101.2500")
        .with(SIDE, '1')
        .with(SYMBOL, "MSFT")
        .with(TRANSACT_TIME, now)
        .with(EXEC_TYPE, '0')
        .with(LEAVES_QTY, "1000");
    g.bench_function(
        "Message::encode ExecutionReport (owned message + header)",
        |b| {
            let mut ts = [0u8; fixengine::codec::MAX_TIMESTAMP_LEN];
            b.iter(|| {
                out.clear();
                let sending_time = black_box(now).format(TimePrecision::Millis, &mut ts);
                let header: [(u32, &[u8]); 4] = [
                    (MSG_SEQ_NUM, b"123456"),
                    (SENDER_COMP_ID, b"FIXENGINE"),
                    (SENDING_TIME, sending_time),
                    (TARGET_COMP_ID, b"CLIENT01"),
                ];
                black_box(er.encode(FixVersion::Fix44, &header, &mut out));
            })
        },
    );
    g.finish();
}

fn primitives(c: &mut Criterion) {
    let nos = new_order_single();
    let mut g = c.benchmark_group("primitives");
    g.throughput(Throughput::Bytes(nos.len() as u64));
    g.bench_function(format!("checksum {} B", nos.len()), |b| {
        b.iter(|| black_box(checksum(black_box(&nos))))
    });
    g.finish();
    let now = UtcTimestamp::parse(b"20261125-20:16:27.123456789").expect("valid timestamp");
    let mut buf = [0u8; fixengine::codec::MAX_TIMESTAMP_LEN];
    c.bench_function("timestamp format millis", |b| {
        b.iter(|| black_box(black_box(now).format(TimePrecision::Millis, &mut buf).len()))
    });
    c.bench_function("timestamp parse millis", |b| {
        b.iter(|| black_box(UtcTimestamp::parse(black_box(b"20261125-20:16:27.123"))))
    });
}

criterion_group!(benches, decode, encode, primitives);
criterion_main!(benches);
