//! Cases found by fuzzing the machine.

use super::*;

#[test]
fn a_field_without_a_tag_is_rejected_as_tag_0() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, "11=ID|=x");
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Invalid tag number|371=0|372=D|373=0"]
    );
}

#[test]
fn a_test_request_without_test_req_id_is_rejected() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("1", 2, "");
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Required tag missing|371=112|372=1|373=1"]
    );
    assert_eq!(h.seqs().1, 3);
}

#[test]
fn logout_after_close_sends_nothing() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("5", 2, "");
    h.out();
    assert!(h.m.wants_close());
    h.m.logout(h.now, Some("late"), &mut h.app).unwrap();
    assert!(h.out().is_empty());
}

/// Logged on, two batches of reports stored, a ResendRequest for all of them,
/// and only the first batch taken: a resend left in progress.
fn resend_in_progress(h: &mut Harness) {
    h.logon();
    for i in 0..2 * RESEND_BATCH as u64 {
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, i))
            .unwrap();
    }
    h.out();
    h.send("2", 2, "7=1|16=0");
    let mut first = Vec::new();
    h.m.poll_transmit(&mut first, &mut h.app).unwrap();
}

#[test]
fn a_reset_logon_abandons_a_resend_in_progress() {
    let mut h = Harness::new(FixVersion::Fix44);
    resend_in_progress(&mut h);
    // The counterparty starts the session over.
    h.send("A", 1, "98=0|108=30|141=Y");
    let out = h.out();
    assert_eq!(
        out,
        ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|141=Y"],
        "no resend of the old session follows"
    );
}

#[test]
fn a_reset_logon_takes_the_new_heart_bt_int_within_bounds() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("A", 1, "98=0|108=5|141=Y");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=5|141=Y"]);
    assert_eq!(h.m.heart_bt_int(), Duration::from_secs(5));
    h.advance(Duration::from_secs(5));
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW"]);
    // Out of bounds (0): refused with a Logout, nothing reset.
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("A", 1, "98=0|108=0|141=Y");
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=Logon HeartBtInt(108) missing or out of range"]
    );
}

#[test]
fn reset_on_logout_abandons_a_resend_in_progress() {
    let config = SessionConfig::default().with_reset_seq_num_on_logout(true);
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    resend_in_progress(&mut h);
    h.send("5", 3, "");
    assert_eq!(
        h.out(),
        ["35=5|34=514|49=ISLD|52=T|56=TW"],
        "the Logout, and no more of the old resend"
    );
    assert_eq!(h.seqs(), (1, 1));
}

#[test]
fn one_logout_for_a_flood_past_the_queue_bound() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    // Everything from 3 on is ahead of the missing 2.
    for seq in 3..(3 + MAX_QUEUED as u64 + 50) {
        h.send("0", seq, "");
    }
    let out = h.out();
    let logouts = out.iter().filter(|m| m.starts_with("35=5")).count();
    assert_eq!(logouts, 1, "{:?}", &out[out.len().saturating_sub(3)..]);
}

#[test]
fn validation_switches_in_the_session_configuration_apply() {
    use crate::dictionary::Dictionary;
    let xml = "<fix major='4' minor='4'><header/><trailer/><messages>\
        <message name='NewOrderSingle' msgtype='D' msgcat='app'><field name='ClOrdID' required='Y'/><field name='Symbol' required='N'/></message>\
        </messages><fields><field number='11' name='ClOrdID' type='STRING'/><field number='55' name='Symbol' type='STRING'/></fields></fix>";
    let dict = Arc::new(Dictionary::from_xml(xml).unwrap());
    for (required, rejected) in [(true, true), (false, false)] {
        // This little dictionary has no header fields: leave the unknown-field
        // check out, the switch under test is the required-field one.
        let config = SessionConfig::default()
            .with_validate_required_fields(required)
            .with_validate_unknown_fields(false);
        let mut h = Harness::with_config(FixVersion::Fix44, config.clone());
        h.m = std::mem::replace(
            &mut h.m,
            SessionMachine::new(
                SessionId::from_static("X", "Y"),
                FixVersion::Fix44,
                SessionConfig::default(),
                MemoryStore::new(),
                Arc::new(h.clock.clone()),
                h.now,
            ),
        )
        .with_dictionary(Arc::clone(&dict), None);
        h.logon();
        h.send("D", 2, "55=IBM");
        let out = h.out();
        assert_eq!(
            out.first().is_some_and(|m| m.starts_with("35=3|")),
            rejected,
            "{out:?}"
        );
    }
}

#[test]
fn heart_bt_int_zero_means_no_heartbeats_and_no_timers() {
    let config = SessionConfig::default().with_min_heart_bt_int(0);
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.send("A", 1, "98=0|108=0");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=0"]);
    assert_eq!(h.m.state(), State::Established);
    assert_eq!(h.m.poll_timeout(), None, "no deadline to spin on");
    h.advance(Duration::from_secs(3600));
    assert!(h.out().is_empty(), "no Heartbeat or TestRequest");
    assert_eq!(h.m.state(), State::Established);
}

#[test]
fn one_logout_when_the_gap_queue_passes_its_byte_bound() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    // Far fewer than MAX_QUEUED messages, but large ones, ahead of the missing 2.
    let text = "x".repeat(1 << 20);
    let count = MAX_QUEUED_BYTES / (1 << 20) + 5;
    for seq in 3..(3 + count as u64) {
        h.send("B", seq, &format!("148={text}"));
    }
    let out = h.out();
    let logouts: Vec<_> = out.iter().filter(|m| m.starts_with("35=5")).collect();
    assert_eq!(
        logouts,
        ["35=5|34=3|49=ISLD|52=T|56=TW|58=too many messages queued behind a sequence gap"]
    );
}

#[test]
fn secrets_compare_equal_only_when_identical() {
    assert!(same_secret(b"s3cret", b"s3cret"));
    assert!(!same_secret(b"s3creT", b"s3cret"));
    assert!(!same_secret(b"s3cre", b"s3cret"));
    assert!(!same_secret(b"s3crets", b"s3cret"));
    assert!(!same_secret(b"", b"s3cret"));
    assert!(same_secret(b"", b""));
}

#[test]
fn a_reject_for_an_empty_msg_type_names_none() {
    let config = SessionConfig::default().with_validate_fields_have_values(false);
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.logon();
    h.send("", 2, "");
    // Not handed to the application, whose business reject could name no type.
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Tag specified without a value|371=35|373=4"],
        "no RefMsgType(372) to give"
    );
    assert!(h.app.received.is_empty());
}
