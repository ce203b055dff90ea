//! Logon (checklist 1S): acceptance, refusals, sequence numbers across reconnects.

use super::*;

#[test]
fn t1a_valid_logon_with_correct_msg_seq_num() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    assert_eq!(h.seqs(), (2, 2));
    assert_eq!(h.m.heart_bt_int(), Duration::from_secs(30));
}

#[test]
fn t1a_valid_logon_msg_seq_num_too_high() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("A", 5, "98=0|108=30");
    assert_eq!(
        h.out(),
        [
            "35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30",
            "35=2|34=2|49=ISLD|52=T|56=TW|7=1|16=0"
        ]
    );
    assert_eq!(h.m.state(), State::Established);
    // The gap is filled by the counterparty's resends, then the session goes on.
    h.send("4", 1, "123=Y|36=6|43=Y");
    h.send("0", 6, "");
    assert_eq!(h.seqs().1, 7);
}

#[test]
fn t1c_invalid_comp_ids_close_without_sending() {
    for (sender, target) in [("XX", "ISLD"), ("TW", "XX")] {
        let mut h = Harness::new(FixVersion::Fix44);
        let f = h.frame_at("A", 1, "98=0|108=30", h.clock.now_utc(), sender, target);
        h.feed(&f);
        assert!(h.out().is_empty());
        assert!(h.m.wants_close());
        assert!(
            h.events()
                .iter()
                .any(|e| matches!(e, SessionEvent::LogonRefused { .. }))
        );
        assert_eq!(h.seqs(), (1, 1));
    }
}

#[test]
fn t1d_invalid_logon_bad_sending_time() {
    let mut h = Harness::new(FixVersion::Fix44);
    let old = UtcTimestamp::parse(b"20010101-00:00:00").unwrap();
    let f = h.frame_at("A", 1, "98=0|108=30", old, "TW", "ISLD");
    h.feed(&f);
    // Silent, as QuickFIX (the suite's 1d_InvalidLogonBadSendingTime).
    h.assert_closed_silently("a stale SendingTime");
    assert_eq!(h.seqs(), (1, 1), "the refusal used no number");
}

#[test]
fn t1d_invalid_logon_wrong_begin_string() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.version = FixVersion::Fix42; // the peer speaks another version
    h.send("A", 1, "98=0|108=30");
    h.version = FixVersion::Fix44;
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
}

#[test]
fn t1e_not_logon_message() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("D", 1, ORDER);
    assert!(h.out().is_empty());
    assert_eq!(h.m.close_reason(), Some("first message not a Logon"));
    assert!(h.app.received.is_empty());
}

#[test]
fn logon_refused_by_the_application_changes_nothing() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.out();
    h.m.handle_disconnect(&mut h.app).unwrap();
    let before = h.seqs();
    h.m.handle_connect(h.now, Duration::from_secs(5), &mut h.app);
    h.app.refuse_logon = Some("bad password".into());
    // Even a reset request from a peer that fails authentication resets nothing.
    h.send("A", 1, "98=0|108=30|141=Y");
    h.assert_refused(3, "bad password");
    assert_eq!(h.seqs(), before);
    assert_eq!(h.m.store().len(), 2, "the Logon reply and the echoed order");
}

#[test]
fn logon_credentials_from_the_configuration() {
    let config = SessionConfig::default()
        .with_username("tw")
        .with_password("pw");
    let mut h = Harness::with_config(FixVersion::Fix44, config.clone());
    h.send("A", 1, "98=0|108=30|553=tw|554=wrong");
    h.assert_refused(1, reasons::CREDENTIALS);
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.send("A", 1, "98=0|108=30|553=tw|554=pw");
    assert_eq!(h.out().len(), 1);
    assert_eq!(h.m.state(), State::Established);
}

#[test]
fn logon_heart_bt_int_outside_bounds_is_refused() {
    let config = SessionConfig::default()
        .with_min_heart_bt_int(5)
        .with_max_heart_bt_int(60);
    for hbi in ["1", "61", "x"] {
        let mut h = Harness::with_config(FixVersion::Fix44, config.clone());
        h.send("A", 1, &format!("98=0|108={hbi}"));
        h.assert_closed_silently(&format!("HeartBtInt {hbi}"));
    }
}

#[test]
fn logon_encrypt_method_must_be_none() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("A", 1, "98=1|108=30");
    h.assert_closed_silently("EncryptMethod 1");
}

#[test]
fn session_reset_logon_resets_both_and_echoes_141() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.out();
    h.m.handle_disconnect(&mut h.app).unwrap();
    assert_eq!(h.seqs(), (3, 3));
    h.m.handle_connect(h.now, Duration::from_secs(5), &mut h.app);
    h.send("A", 1, "98=0|108=30|141=Y");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|141=Y"]);
    assert_eq!(h.seqs(), (2, 2));
    assert!(h.events().contains(&SessionEvent::LoggedOn {
        reset: true,
        heart_bt_int: 30
    }));
}

#[test]
fn logon_continues_sequence_numbers_across_reconnects() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.reconnect();
    h.send("A", 3, "98=0|108=30");
    assert_eq!(h.out(), ["35=A|34=2|49=ISLD|52=T|56=TW|98=0|108=30"]);
    assert_eq!(h.seqs(), (3, 4));
}

#[test]
fn logon_msg_seq_num_too_low_logs_out() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.reconnect();
    h.send("A", 1, "98=0|108=30");
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=MsgSeqNum too low, expecting 3 but received 1"]
    );
    assert!(h.m.wants_close());
}

/// MsgSeqNum(34) = u64::MAX has no successor: recording it as processed overflowed
/// (a panic in a debug build, the expected number wrapped to 0 in a release one).
const MAX_SEQ: u64 = u64::MAX;
const MAX_SEQ_LOGOUT: &str =
    "35=5|34=2|49=ISLD|52=T|56=TW|58=MsgSeqNum is the largest possible, no message can follow it";

#[test]
fn max_msg_seq_num_after_a_sequence_reset_logs_out() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, &format!("36={MAX_SEQ}"));
    assert_eq!(h.seqs(), (2, MAX_SEQ));
    h.send("0", MAX_SEQ, "");
    assert_eq!(h.out(), [MAX_SEQ_LOGOUT]);
    assert_eq!(h.m.state(), State::WaitForLogout);
    assert_eq!(h.seqs(), (3, MAX_SEQ));
}

#[test]
fn reset_logon_with_max_msg_seq_num_logs_out() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("A", MAX_SEQ, "98=0|108=30|141=Y");
    assert_eq!(h.out(), [MAX_SEQ_LOGOUT]);
    assert_eq!(h.seqs(), (3, 2));
}

#[test]
fn logon_with_max_msg_seq_num_is_refused() {
    // The store may already expect u64::MAX from the previous connection.
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, &format!("36={MAX_SEQ}"));
    h.reconnect();
    h.send("A", MAX_SEQ, "98=0|108=30");
    h.assert_closed_silently("the largest MsgSeqNum");
    assert!(h.events().iter().any(|e| matches!(
        e,
        SessionEvent::LogonRefused { reason } if reason.contains("largest possible")
    )));
    assert_eq!(h.seqs(), (2, MAX_SEQ));
}

#[test]
fn logon_timeout_closes_a_silent_connection() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.advance(Duration::from_millis(4_999));
    assert!(!h.m.wants_close());
    h.advance(Duration::from_millis(1));
    assert!(h.m.wants_close());
    assert!(h.out().is_empty());
}

#[test]
fn already_logged_on_second_logon_is_an_error() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("A", 2, "98=0|108=30");
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=Logon received on an established session"]
    );
    assert_eq!(h.m.state(), State::WaitForLogout);
}

#[test]
fn fixt_logon_carries_default_appl_ver_id() {
    let mut h = Harness::new(FixVersion::Fix50Sp2);
    h.send("A", 1, "98=0|108=30|1137=9");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|1137=9"]);
    // A FIXT Logon without DefaultApplVerID is refused.
    let mut h = Harness::new(FixVersion::Fix50Sp2);
    h.send("A", 1, "98=0|108=30");
    // Silent, as QuickFIX (the suite's 1d_InvalidLogonNoDefaultApplVerID).
    h.assert_closed_silently("no DefaultApplVerID");
}

/// LogonRefusalReply = silent: a refused Logon is closed without a word, as every
/// refusal was before the key.
#[test]
fn a_silent_refusal_sends_nothing() {
    let config = SessionConfig::default()
        .with_password("pw")
        .with_logon_refusal_reply(crate::config::LogonRefusalReply::Silent);
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.send("A", 1, "98=0|108=30|554=wrong");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
    assert_eq!(h.seqs(), (1, 1));
}
