//! The message log over real sockets: every frame the counterparty sent and got,
//! byte for byte and in order, in the session's `messages/` folder; resends and
//! garbled input marked; a log whose disk fails leaves the session trading.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::path::Path;

use common::log::{Logged, read as read_log};
use common::{Got, OrderApp, WAIT, config, engine_with, initiator, order};
use fixengine::message_log::{FOLDER, RecordKind};
use fixengine::{Message, SessionConfig, SessionEvent, tags};

#[test]
fn every_frame_in_and_out_is_in_the_log_byte_for_byte() {
    let (mut engine, addr) = engine_with(config());
    let _session = common::session(&engine, OrderApp::default());
    let root = engine.root();
    let mut client = initiator(addr);
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut received: Vec<Vec<u8>> = Vec::new();
    let logon = Message::new("A")
        .with(tags::ENCRYPT_METHOD, 0u32)
        .with(tags::HEART_BT_INT, 30u32);
    let send = |client: &mut common::Initiator, sent: &mut Vec<Vec<u8>>, m: &Message| {
        let bytes = client.encode(m, client.next_seq);
        client.next_seq += 1;
        client.send_raw(&bytes);
        sent.push(bytes);
    };
    send(&mut client, &mut sent, &logon);
    received.push(client.expect("A").bytes);
    for i in 0..200 {
        send(&mut client, &mut sent, &order(&format!("ORD-{i}")));
        received.push(client.expect("8").bytes);
    }
    // A frame whose CheckSum is wrong: dropped, and logged as garbled.
    let garbled = b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01".to_vec();
    client.send_raw(&garbled);
    // Our ResendRequest for three reports: resent with PossDupFlag(43)=Y.
    send(
        &mut client,
        &mut sent,
        &Message::new("2")
            .with(tags::BEGIN_SEQ_NO, 2u32)
            .with(tags::END_SEQ_NO, 4u32),
    );
    for _ in 0..3 {
        let resent = client.expect("8");
        assert_eq!(resent.get(tags::POSS_DUP_FLAG), Some("Y"));
        received.push(resent.bytes);
    }
    send(&mut client, &mut sent, &Message::new("5"));
    received.push(client.expect("5").bytes);
    assert!(matches!(client.recv_within(WAIT), Got::Closed));
    engine.shutdown();

    let log = read_log(&root);
    let inbound: Vec<&Logged> = log.iter().filter(|r| r.kind.is_inbound()).collect();
    let outbound: Vec<&Logged> = log.iter().filter(|r| r.kind.is_outbound()).collect();
    let ins: Vec<&[u8]> = inbound
        .iter()
        .filter(|r| r.kind == RecordKind::In)
        .map(|r| r.bytes.as_slice())
        .collect();
    let expected_ins: Vec<&[u8]> = sent.iter().map(Vec::as_slice).collect();
    assert_eq!(
        ins, expected_ins,
        "every frame sent, in order, byte for byte"
    );
    let garbled_records: Vec<&&Logged> = inbound
        .iter()
        .filter(|r| r.kind == RecordKind::Garbled)
        .collect();
    assert_eq!(garbled_records.len(), 1);
    assert_eq!(garbled_records[0].bytes, garbled);
    assert!(
        garbled_records[0].note.contains("CheckSum"),
        "why it was dropped: {}",
        garbled_records[0].note
    );
    let outs: Vec<&[u8]> = outbound.iter().map(|r| r.bytes.as_slice()).collect();
    let expected_outs: Vec<&[u8]> = received.iter().map(Vec::as_slice).collect();
    assert_eq!(
        outs, expected_outs,
        "every frame received, in order, byte for byte"
    );
    let resends: Vec<usize> = outbound
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == RecordKind::Resend)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(resends, [201, 202, 203], "the three resent reports, marked");
    assert!(
        log.windows(2).all(|w| w[0].time <= w[1].time),
        "times never go back"
    );
    // The order of the exchange: each order before its report.
    let position = |bytes: &[u8]| log.iter().position(|r| r.bytes == bytes).unwrap();
    for i in 0..200 {
        assert!(position(&sent[1 + i]) < position(&received[1 + i]));
    }
    assert!(log.iter().all(|r| r.file == log[0].file), "one file");
}

#[test]
fn heartbeats_can_be_left_out_and_secrets_are_masked() {
    let (mut engine, addr) = engine_with(config());
    let session_config = SessionConfig::default()
        .with_log_heartbeats(false)
        .with_password("hunter2");
    let _session = common::session_with_config(&engine, OrderApp::default(), session_config);
    let root = engine.root();
    let mut client = initiator(addr);
    client.logon_with(
        Message::new("A")
            .with(tags::ENCRYPT_METHOD, 0u32)
            .with(tags::HEART_BT_INT, 30u32)
            .with(tags::PASSWORD, "hunter2"),
    );
    client.send(&Message::new("0"));
    client.send(&Message::new("1").with(tags::TEST_REQ_ID, "T1"));
    client.expect("0");
    client.logout();
    engine.shutdown();
    let log = read_log(&root);
    let types: Vec<String> = log
        .iter()
        .map(|r| {
            let view = fixengine::Decoder::new()
                .decode(&r.bytes)
                .map(|v| v.msg_type().to_vec());
            format!(
                "{} {}",
                r.kind,
                String::from_utf8_lossy(&view.unwrap_or_default())
            )
        })
        .collect();
    assert_eq!(types, ["in A", "out A", "in 1", "in 5", "out 5"]);
    let logon = String::from_utf8_lossy(&log[0].bytes).into_owned();
    assert!(logon.contains("\x01554=***\x01"), "{logon:?}");
    let all: Vec<u8> = std::fs::read_dir(
        root.read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join(FOLDER),
    )
    .unwrap()
    .flat_map(|e| std::fs::read(e.unwrap().path()).unwrap())
    .collect();
    assert!(
        !all.windows(7).any(|w| w == b"hunter2"),
        "the password never reaches the disk"
    );
}

/// A session trading while its log folder breaks (`break_folder`, which may
/// decline: the test then checks nothing) and is repaired (`repair`).
fn a_log_fault_leaves_the_session_trading(
    break_folder: impl FnOnce(&Path) -> bool,
    repair: impl FnOnce(&Path),
) {
    let (mut engine, addr) = engine_with(config());
    // Small files: a new one starts every few messages.
    let session_config = SessionConfig::default().with_message_log_file_size(2048);
    let app = OrderApp::default();
    let _session = common::session_with_config(&engine, app.clone(), session_config);
    let root = engine.root();
    let mut client = initiator(addr);
    client.logon(30);
    client.send(&order("BEFORE"));
    client.expect("8");
    let folder = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join(FOLDER).is_dir())
        .unwrap()
        .join(FOLDER);
    if !break_folder(&folder) {
        return;
    }
    for i in 0..30 {
        client.send(&order(&format!("DURING-{i}")));
        let report = client.expect("8");
        assert_eq!(
            report.get(tags::CL_ORD_ID),
            Some(format!("DURING-{i}").as_str())
        );
    }
    let told = |app: &OrderApp| app.log.lock().unwrap().log_events.clone();
    let failures = told(&app)
        .iter()
        .filter(|e| matches!(e, SessionEvent::MessageLogFailed { .. }))
        .count();
    assert_eq!(failures, 1, "told once: {:?}", told(&app));
    // Repaired: within the retry interval the log resumes, saying how much it
    // missed.
    repair(&folder);
    common::wait_until("the log resumes", || {
        told(&app)
            .iter()
            .any(|e| matches!(e, SessionEvent::MessageLogResumed { .. }))
    });
    client.send(&order("AFTER"));
    client.expect("8");
    client.logout();
    engine.shutdown();
    let log = read_log(&root);
    let note = log
        .iter()
        .find(|r| r.kind == RecordKind::Note)
        .expect("a note");
    assert!(
        String::from_utf8_lossy(&note.bytes).contains("messages not logged since"),
        "{:?}",
        String::from_utf8_lossy(&note.bytes)
    );
    let after = String::from_utf8_lossy(&log.last().unwrap().bytes).into_owned();
    assert!(
        after.contains("35=5"),
        "logging goes on to the Logout: {after:?}"
    );
    assert!(
        log.iter()
            .any(|r| String::from_utf8_lossy(&r.bytes).contains("11=AFTER")),
        "the order after the recovery is logged"
    );
}

#[test]
fn a_log_folder_taken_away_leaves_the_session_trading() {
    a_log_fault_leaves_the_session_trading(
        |folder| {
            std::fs::rename(folder, folder.with_extension("gone")).unwrap();
            true
        },
        |folder| std::fs::create_dir(folder).unwrap(),
    );
}

#[test]
fn an_immutable_log_folder_leaves_the_session_trading() {
    // Permission bits do not stop root, which CI runs as; the immutable attribute
    // does. Where chattr cannot set it (not ext4/xfs, no CAP_LINUX_IMMUTABLE) the
    // test says so and checks nothing.
    let chattr = |flag: &str, folder: &Path| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(folder)
            .status()
            .is_ok_and(|s| s.success())
    };
    a_log_fault_leaves_the_session_trading(
        |folder| {
            let set = chattr("+i", folder);
            if !set {
                eprintln!("skipped: chattr +i is not available here");
            }
            set
        },
        |folder| assert!(chattr("-i", folder)),
    );
}
