//! The standard header (checklist 2): MsgSeqNum, PossDup, BeginString, CompIDs, SendingTime, field problems; and Reject received (7).

use super::*;

#[test]
fn t2a_msg_seq_num_correct() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    assert_eq!(h.app.received, ["D:11=ID|21=3|40=1|54=1|55=INTC"]);
    assert_eq!(
        h.out(),
        ["35=D|34=2|49=ISLD|52=T|56=TW|11=ID|21=3|40=1|54=1|55=INTC"]
    );
    assert_eq!(h.seqs(), (3, 3));
}

#[test]
fn t2b_msg_seq_num_too_high() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    for seq in 2..=4 {
        h.send("0", seq, "");
    }
    h.send("0", 10, "");
    assert_eq!(h.out(), ["35=2|34=2|49=ISLD|52=T|56=TW|7=5|16=0"]);
    // More messages ahead of the gap: queued, and no redundant ResendRequest.
    h.send("D", 11, ORDER);
    assert!(h.out().is_empty());
    for seq in 5..=9 {
        h.send("0", seq, "");
    }
    // The gap is filled: the queued 10 and 11 are processed, in order.
    assert_eq!(h.seqs().1, 12);
    assert_eq!(h.app.received.len(), 1);
    assert_eq!(
        h.out(),
        ["35=D|34=3|49=ISLD|52=T|56=TW|11=ID|21=3|40=1|54=1|55=INTC"]
    );
    h.send("5", 12, "");
    assert_eq!(h.out(), ["35=5|34=4|49=ISLD|52=T|56=TW"]);
    assert!(h.m.wants_close());
}

#[test]
fn t2c_msg_seq_num_too_low() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.send("0", 1, "");
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=MsgSeqNum too low, expecting 3 but received 1"]
    );
    assert!(h.m.wants_close());
}

#[test]
fn t2d_garbled_message_is_ignored() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    // A frame that cannot be split into fields (it does not end with SOH).
    h.feed(b"8=FIX.4.4\x019=5\x0135=0\x0110=000");
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, SessionEvent::Garbled { .. }))
    );
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 2);
    h.send("0", 2, "");
    assert_eq!(h.seqs().1, 3);
}

#[test]
fn t2e_poss_dup_already_received() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.out();
    let orig = h.clock.now_utc();
    h.clock.advance(Duration::from_secs(1));
    let body = format!("43=Y|122={orig}|{ORDER}").replace("000000", "");
    h.send("D", 2, &body);
    assert!(h.out().is_empty());
    assert_eq!(h.app.received.len(), 1);
    assert_eq!(h.seqs().1, 3);
}

#[test]
fn t2e_poss_dup_not_received() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send(
        "D",
        2,
        "43=Y|122=20261125-20:16:26.000|11=ID|21=3|40=1|54=1|55=INTC",
    );
    assert_eq!(h.app.received.len(), 1);
    assert_eq!(h.seqs().1, 3);
}

#[test]
fn t2f_poss_dup_orig_sending_time_too_high() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.send("D", 3, ORDER);
    h.out();
    h.send("D", 2, &format!("43=Y|122=20261125-20:16:37.000|{ORDER}"));
    assert_eq!(
        h.out(),
        [
            "35=3|34=4|49=ISLD|52=T|56=TW|45=2|58=SendingTime accuracy problem|372=D|373=10",
            "35=5|34=5|49=ISLD|52=T|56=TW",
        ]
    );
    assert_eq!(h.m.state(), State::WaitForLogout);
    h.send("5", 4, "");
    assert!(h.m.wants_close());
}

#[test]
fn t2g_poss_dup_no_orig_sending_time() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.send("D", 3, ORDER);
    h.out();
    h.send("D", 2, &format!("43=Y|{ORDER}"));
    assert_eq!(
        h.out(),
        ["35=3|34=4|49=ISLD|52=T|56=TW|45=2|58=Required tag missing|371=122|372=D|373=1"]
    );
    // The expected number did not move.
    h.send("1", 4, "112=HELLO");
    assert_eq!(h.out(), ["35=0|34=5|49=ISLD|52=T|56=TW|112=HELLO"]);
}

#[test]
fn t2i_begin_string_value_unexpected() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.version = FixVersion::Fix41;
    h.send("1", 2, "112=id");
    h.version = FixVersion::Fix44;
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=Incorrect BeginString"]
    );
    assert_eq!(h.m.state(), State::WaitForLogout);
    // No Logout comes back: the logout timeout closes the transport.
    h.advance(Duration::from_secs(2));
    assert!(h.m.wants_close());
    assert!(h.out().is_empty());
}

#[test]
fn t2k_comp_id_does_not_match_profile() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    let f = h.frame_at("D", 2, ORDER, h.clock.now_utc(), "WT", "ISLD");
    h.feed(&f);
    assert_eq!(
        h.out(),
        [
            "35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=CompID problem|372=D|373=9",
            "35=5|34=3|49=ISLD|52=T|56=TW"
        ]
    );
    assert!(h.app.received.is_empty());
    h.send("5", 3, "");
    assert!(h.m.wants_close());
    assert!(
        h.out().is_empty(),
        "a Logout answering ours is not answered"
    );
}

#[test]
fn t2o_sending_time_value_out_of_range() {
    for offset in [-121i64, 121] {
        let mut h = Harness::new(FixVersion::Fix44);
        h.logon();
        let t = UtcTimestamp::from_unix(h.clock.now_utc().unix_secs() + offset, 0);
        let f = h.frame_at("0", 2, "", t, "TW", "ISLD");
        h.feed(&f);
        assert_eq!(
            h.out(),
            [
                "35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=SendingTime accuracy problem|372=0|373=10",
                "35=5|34=3|49=ISLD|52=T|56=TW"
            ]
        );
    }
}

#[test]
fn field_problems_are_rejected_and_consume_the_number() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, "11=ID|x9=1");
    h.send("D", 3, "11=ID|58=");
    assert_eq!(
        h.out(),
        [
            "35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Invalid tag number|371=x9|372=D|373=0",
            "35=3|34=3|49=ISLD|52=T|56=TW|45=3|58=Tag specified without a value|371=58|372=D|373=4",
        ]
    );
    assert_eq!(h.seqs().1, 4);
    assert!(h.app.received.is_empty());
}

#[test]
fn fix40_rejects_carry_the_tag_in_the_text() {
    let mut h = Harness::new(FixVersion::Fix40);
    h.send("A", 1, "98=0|108=30");
    h.out();
    h.send("D", 2, "11=ID|58=");
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Tag specified without a value (58)"]
    );
}
