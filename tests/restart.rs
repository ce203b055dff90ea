//! kill -9 and restart: the example acceptor runs as a child process on a
//! persistent store; a test initiator trades with it, the acceptor is killed with
//! SIGKILL at a random point, restarted on the same storage, and asked to resend
//! everything. Every message it ever sent must come back byte for byte (apart from
//! the PossDup header fields), with sequence numbers continuing.
//!
//! The message log survives the kills too: every frame the initiator received
//! and every frame the acceptor read are in it, in order, byte for byte, with
//! the torn record a kill may leave skipped.
//!
//! `FIXENGINE_KILL_ROUNDS=N` runs N kill/restart rounds (default 10); the seed is
//! printed so a failure can be replayed with `FIXENGINE_KILL_SEED`.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::example::Example;
use common::{Got, Initiator, order};
use fixengine::message_log::RecordKind;
use fixengine::{FixVersion, Message, tags};

/// A small deterministic generator (xorshift), seeded per run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The fields of a message that a resend must reproduce: everything except the
/// header fields a resend changes, and the framing fields that follow from them.
fn resend_invariant(fields: &[(u32, String)]) -> Vec<(u32, String)> {
    fields
        .iter()
        .filter(|(t, _)| {
            !matches!(
                *t,
                tags::BODY_LENGTH
                    | tags::CHECK_SUM
                    | tags::POSS_DUP_FLAG
                    | tags::ORIG_SENDING_TIME
                    | tags::SENDING_TIME
            )
        })
        .cloned()
        .collect()
}

/// Answers the acceptor's ResendRequest (it lost orders it had not processed when
/// killed) with a gap fill: the test checks the acceptor's messages, not ours.
fn fill_gap(client: &mut Initiator, request: &common::Received) {
    let begin: u64 = request.get(tags::BEGIN_SEQ_NO).unwrap().parse().unwrap();
    let mut time = [0u8; fixengine::codec::MAX_TIMESTAMP_LEN];
    let now = fixengine::UtcTimestamp::from_system_time(std::time::SystemTime::now())
        .format(fixengine::TimePrecision::Millis, &mut time)
        .to_vec();
    let gap_fill = Message::new("4")
        .with(tags::POSS_DUP_FLAG, true)
        .with(tags::ORIG_SENDING_TIME, now)
        .with(tags::GAP_FILL_FLAG, true)
        .with(tags::NEW_SEQ_NO, client.next_seq);
    client.send_with_seq(&gap_fill, begin);
}

#[test]
fn every_message_sent_survives_kill_9_and_comes_back_on_resend() {
    let rounds: u64 = std::env::var("FIXENGINE_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("FIXENGINE_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("FIXENGINE_KILL_SEED={seed}");
    let mut rng = Rng(seed);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.properties");
    std::fs::write(
        &config,
        format!(
            "ListenPort = 0\nListenAddress = 127.0.0.1\nStorageDirectory = {}\n\
             Session.TEST1/TEST2.StorageType = persistent\n",
            dir.path().join("store").display()
        ),
    )
    .unwrap();

    // Every application message the acceptor was seen to send, by MsgSeqNum.
    let mut seen: BTreeMap<u64, Vec<(u32, String)>> = BTreeMap::new();
    // Every frame the initiator sent and received, in order, for the message log.
    let mut sent_frames: Vec<Vec<u8>> = Vec::new();
    let mut received_frames: Vec<Vec<u8>> = Vec::new();
    let mut our_next = 1u64;
    let mut order_no = 0u64;
    for round in 0..rounds {
        let acceptor = Example::start(&["--config", config.to_str().unwrap()]);
        let mut client = Initiator::connect(acceptor.addr, "TEST2", "TEST1", FixVersion::Fix44);
        client.next_seq = our_next;
        let logon = client.logon(30);
        let their_next = logon.seq();
        let highest_seen = seen.keys().next_back().copied().unwrap_or(0);
        assert!(
            their_next > highest_seen,
            "round {round}: the acceptor's sequence went backwards: Logon {their_next}, \
             already seen {highest_seen}"
        );
        // Everything, from the start.
        client.send(
            &Message::new("2")
                .with(tags::BEGIN_SEQ_NO, 1u32)
                .with(tags::END_SEQ_NO, 0u32),
        );
        let mut covered = 1u64; // every number below this is accounted for
        // The acceptor's next live (not resent) message number.
        let mut live = their_next + 1;
        while covered < their_next {
            let m = client.recv();
            if m.get(tags::POSS_DUP_FLAG) != Some("Y") {
                assert_eq!(m.seq(), live, "round {round}: live message out of sequence");
                live += 1;
                if m.msg_type() == "2" {
                    fill_gap(&mut client, &m);
                }
                continue;
            }
            match m.msg_type() {
                "4" => {
                    let new_seq: u64 = m.get(tags::NEW_SEQ_NO).unwrap().parse().unwrap();
                    assert_eq!(m.seq(), covered, "round {round}: gap fill out of place");
                    for s in covered..new_seq {
                        assert!(
                            !seen.contains_key(&s),
                            "round {round}: message {s} was seen but is gap-filled, not resent"
                        );
                    }
                    covered = new_seq;
                }
                "8" => {
                    assert_eq!(m.seq(), covered, "round {round}: resend out of order");
                    assert_eq!(m.get(tags::POSS_DUP_FLAG), Some("Y"));
                    let fields = resend_invariant(&m.fields);
                    if let Some(original) = seen.get(&m.seq()) {
                        assert_eq!(
                            &fields,
                            original,
                            "round {round}: message {} differs on resend",
                            m.seq()
                        );
                    } else {
                        // Stored before the kill but never delivered: it counts now.
                        seen.insert(m.seq(), fields);
                    }
                    covered += 1;
                }
                other => panic!("round {round}: unexpected resent MsgType {other}"),
            }
        }
        // Trade, and kill the acceptor at a random point, replies in flight or not.
        let orders = 1 + rng.below(200);
        let kill_after = rng.below(orders + 1);
        // Every live message must come in sequence; a report is recorded.
        let mut take = |client: &mut Initiator, m: &common::Received| -> bool {
            if m.get(tags::POSS_DUP_FLAG) == Some("Y") {
                return false; // the tail of the resend
            }
            assert_eq!(m.seq(), live, "round {round}: live message out of sequence");
            live += 1;
            match m.msg_type() {
                "2" => fill_gap(client, m),
                "8" => {
                    seen.insert(m.seq(), resend_invariant(&m.fields));
                    return true;
                }
                _ => {}
            }
            false
        };
        for n in 0..orders {
            if n == kill_after {
                break;
            }
            order_no += 1;
            client.send(&order(&format!("K-{order_no}")));
            if rng.below(4) == 0 {
                // Sometimes wait for the report, sometimes keep several in flight.
                while let Got::Message(m) = client.recv_within(Duration::from_millis(200)) {
                    if take(&mut client, &m) {
                        break;
                    }
                }
            }
        }
        // Take whatever else arrives within a moment, then kill.
        if rng.below(2) == 0 {
            while let Got::Message(m) = client.recv_within(Duration::from_millis(50)) {
                take(&mut client, &m);
            }
        }
        acceptor.kill();
        our_next = client.next_seq;
        sent_frames.append(&mut client.sent_frames);
        received_frames.append(&mut client.received_frames);
        println!(
            "round {round}: {orders} orders planned, killed after {kill_after}; \
             {} reports seen so far",
            seen.len()
        );
    }
    assert!(!seen.is_empty(), "some reports were exchanged");

    // The message log: what the acceptor read is what was sent, in order (the
    // frames still in flight at a kill were never read); what the initiator
    // received is all there, in order, among what the acceptor wrote.
    let (ins, outs) = read_message_log(&dir.path().join("store"));
    assert_subsequence("read by the acceptor", &ins, &sent_frames);
    assert_subsequence("received by the initiator", &received_frames, &outs);
    println!(
        "message log: {} frames in, {} out ({} received)",
        ins.len(),
        outs.len(),
        received_frames.len()
    );
}

/// The inbound and outbound frames of the one session's message log under
/// `root`, in order, across its files; torn records skipped as readers do.
fn read_message_log(root: &std::path::Path) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    for r in common::log::read(root) {
        match r.kind {
            RecordKind::In => ins.push(r.bytes),
            RecordKind::Out | RecordKind::Resend => outs.push(r.bytes),
            RecordKind::Garbled | RecordKind::Note => {
                panic!("{}: unexpected {} record", r.file, r.kind)
            }
        }
    }
    (ins, outs)
}

/// `part` is `whole` with some frames left out, the rest in the same order.
fn assert_subsequence(what: &str, part: &[Vec<u8>], whole: &[Vec<u8>]) {
    let mut at = 0;
    for (i, frame) in part.iter().enumerate() {
        match whole[at..].iter().position(|w| w == frame) {
            Some(j) => at += j + 1,
            None => {
                let anywhere = whole.iter().position(|w| w == frame);
                panic!(
                    "{what}: frame {i} of {} is not in the log after position {at} \
                     (anywhere: {anywhere:?}; the previous one matched {:?}): {:?}",
                    part.len(),
                    at.checked_sub(1)
                        .map(|p| String::from_utf8_lossy(&whole[p]).into_owned()),
                    String::from_utf8_lossy(frame)
                );
            }
        }
    }
}
