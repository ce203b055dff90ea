//! The session state machine on its own: an established FIX.4.4 session fed
//! NewOrderSingles in sequence, each answered with an ExecutionReport from the
//! application callback, against the in-memory store. No sockets: this is the
//! per-message cost of the session layer (decode, sequence and header checks,
//! callback, encode, store, outbound buffer).

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use fixengine::clock::ManualClock;
use fixengine::dictionary::Dictionary;
use fixengine::session::{Handler, Reply, SessionMachine};
use fixengine::store::{MemoryStore, MessageStore};
use fixengine::{
    Encoder, FixVersion, Message, MessageView, SessionConfig, SessionId, TimePrecision,
    UtcTimestamp, tags::*,
};

struct Exec {
    report: Message,
}

impl Handler for Exec {
    fn on_message(&mut self, _order: &MessageView<'_>, reply: &mut Reply<'_>) {
        reply
            .send(&self.report)
            .expect("the in-memory store does not fail");
    }
}

fn frame(seq: u64, mt: &[u8], now: UtcTimestamp, body: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut e = Encoder::start(&mut out, "FIX.4.4", mt);
    e.uint(MSG_SEQ_NUM, seq)
        .str(SENDER_COMP_ID, "CLIENT01")
        .timestamp(SENDING_TIME, now, TimePrecision::Millis)
        .str(TARGET_COMP_ID, "FIXENGINE");
    body(&mut e);
    e.finish();
    out
}

fn order(seq: u64, now: UtcTimestamp) -> Vec<u8> {
    frame(seq, b"D", now, |e| {
        e.str(ACCOUNT, "ACCT-0042")
            .str(CL_ORD_ID, "ORD-20261125-000001")
            .char(HANDL_INST, b'1')
            .str(ORDER_QTY, "1000")
            .char(ORD_TYPE, b'2')
            .str(PRICE, "101.2500")
            .char(SIDE, b'1')
            .str(SYMBOL, "MSFT")
            .char(TIME_IN_FORCE, b'0')
            .timestamp(TRANSACT_TIME, now, TimePrecision::Millis);
    })
}

#[allow(clippy::disallowed_methods)] // a benchmark reads the clock to set its origin
fn origin() -> Instant {
    Instant::now()
}

/// The QuickFIX FIX.4.4 dictionary, when the shared conformance material is beside
/// the repository (it is not copied into it).
fn fix44_dictionary() -> Option<Arc<Dictionary>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/conformance/spec/FIX44.xml"
    );
    match Dictionary::from_file(path) {
        Ok(d) => Some(Arc::new(d)),
        Err(e) => {
            eprintln!("session bench: no dictionary ({e}); the validating variant is skipped");
            None
        }
    }
}

/// The report the application answers each order with.
fn execution_report() -> Message {
    Message::new("8")
        .with(ORDER_ID, "OID-000000001")
        .with(EXEC_ID, "EXEC-000000001")
        .with(EXEC_TYPE, '0')
        .with(ORD_STATUS, '0')
        .with(SYMBOL, "MSFT")
        .with(SIDE, '1')
        .with(LEAVES_QTY, "1000")
        .with(CUM_QTY, "0")
        .with(AVG_PX, "0")
}

/// An established FIX.4.4 session on the in-memory store: connected, Logon
/// processed (its reply left in the machine's buffer), optionally validating.
fn logged_on(
    now_utc: UtcTimestamp,
    now: Instant,
    dictionary: Option<&Arc<Dictionary>>,
    app: &mut Exec,
) -> SessionMachine<MemoryStore> {
    let mut machine = SessionMachine::new(
        SessionId::from_static("FIXENGINE", "CLIENT01"),
        FixVersion::Fix44,
        SessionConfig::default(),
        MemoryStore::new(),
        Arc::new(ManualClock::new(now_utc)),
        now,
    );
    if let Some(d) = dictionary {
        machine = machine.with_dictionary(Arc::clone(d), None);
    }
    machine.handle_connect(now, Duration::from_secs(5), app);
    let logon = frame(1, b"A", now_utc, |e| {
        e.uint(ENCRYPT_METHOD, 0).uint(HEART_BT_INT, 30);
    });
    machine.handle_frame(now, &logon, app).expect("logon");
    machine
}

fn order_to_execution_report(c: &mut Criterion) {
    let now_utc = UtcTimestamp::parse(b"20261125-20:16:27.123").expect("valid timestamp");
    let report = execution_report();
    let mut variants = vec![(
        "session: NewOrderSingle in -> ExecutionReport out (MemoryStore)",
        None,
    )];
    if let Some(d) = fix44_dictionary() {
        variants.push((
            "session: the same, validated against the FIX.4.4 data dictionary",
            Some(d),
        ));
    }
    for (name, dictionary) in variants {
        c.bench_function(name, |b| {
            b.iter_custom(|iters| run_orders(iters, now_utc, &report, dictionary.as_ref()))
        });
    }
}

/// Feeds `iters` orders through a freshly logged-on session; returns the time spent
/// processing them (encoding the input frames is not timed).
fn run_orders(
    iters: u64,
    now_utc: UtcTimestamp,
    report: &Message,
    dictionary: Option<&Arc<Dictionary>>,
) -> Duration {
    let now = origin();
    let mut app = Exec {
        report: report.clone(),
    };
    let mut machine = logged_on(now_utc, now, dictionary, &mut app);
    let mut out = Vec::with_capacity(64 * 1024);
    machine.poll_transmit(&mut out, &mut app).expect("transmit");
    // Frames are encoded before the clock starts, in chunks to bound memory.
    let mut total = Duration::ZERO;
    let mut seq = 2;
    let mut left = iters;
    while left > 0 {
        let n = left.min(50_000);
        let frames: Vec<Vec<u8>> = (seq..seq + n).map(|s| order(s, now_utc)).collect();
        let start = origin();
        for f in &frames {
            machine
                .handle_frame(now, black_box(f), &mut app)
                .expect("order");
            out.clear();
            machine.poll_transmit(&mut out, &mut app).expect("transmit");
            black_box(out.len());
        }
        total += start.elapsed();
        seq += n;
        left -= n;
    }
    // Every order must have been answered: a rejected one would make the figure a lie.
    assert_eq!(
        machine.store().next_target_seq(),
        seq,
        "orders were rejected"
    );
    total
}

/// Serving a ResendRequest for 10,000 stored ExecutionReports: each read from the
/// store, its header rewritten with PossDupFlag and OrigSendingTime, and queued
/// (issue 6 target: at most 10 ms).
fn resend_10k(c: &mut Criterion) {
    const STORED: u64 = 10_000;
    let now_utc = UtcTimestamp::parse(b"20261125-20:16:27.123").expect("valid timestamp");
    let now = origin();
    let mut app = Exec {
        report: Message::new("8"),
    };
    let mut machine = logged_on(now_utc, now, None, &mut app);
    let report = execution_report();
    for _ in 0..STORED {
        machine.send(now, &report).expect("stored");
    }
    let mut out = Vec::with_capacity(8 << 20);
    machine.poll_transmit(&mut out, &mut app).expect("transmit");
    let mut seq = 2;
    let mut group = c.benchmark_group("session");
    group.sample_size(20);
    group.bench_function("serve a ResendRequest for 10,000 stored messages", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let request = frame(seq, b"2", now_utc, |e| {
                    e.uint(BEGIN_SEQ_NO, 2).uint(END_SEQ_NO, 1 + STORED);
                });
                seq += 1;
                let start = origin();
                machine
                    .handle_frame(now, &request, &mut app)
                    .expect("resend request");
                out.clear();
                while machine.poll_transmit(&mut out, &mut app).expect("transmit") > 0 {}
                total += start.elapsed();
                assert!(out.len() > 10_000 * 150, "the reports were resent");
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, order_to_execution_report, resend_10k);
criterion_main!(benches);
