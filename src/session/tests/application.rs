//! Messages put while disconnected (16), simultaneous ResendRequests (20), and the application's side: sends, rejects, what it is told and in which order.

use super::*;

#[test]
fn t16_messages_put_while_disconnected_are_recovered() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.m.handle_disconnect(&mut h.app).unwrap();
    let seq =
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, "E1"))
            .unwrap();
    assert_eq!(seq.get(), 2);
    assert!(
        h.out().is_empty(),
        "nothing is transmitted while disconnected"
    );
    h.m.handle_connect(h.now, Duration::from_secs(5), &mut h.app);
    h.send("A", 2, "98=0|108=30");
    assert_eq!(h.out(), ["35=A|34=3|49=ISLD|52=T|56=TW|98=0|108=30"]);
    h.send("2", 3, "7=2|16=0");
    assert_eq!(
        h.out(),
        [
            "35=8|34=2|43=Y|49=ISLD|52=T|56=TW|122=T|17=E1",
            "35=4|34=3|43=Y|49=ISLD|52=T|56=TW|122=T|36=4|123=Y",
        ]
    );
}

#[test]
fn t20_simultaneous_resend_request() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.out();
    // The counterparty asks for a resend while itself ahead of us.
    h.send("2", 5, "7=1|16=0");
    let out = h.out();
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[0].starts_with("35=4|34=1|43=Y"));
    assert!(out[1].starts_with("35=D|34=2|43=Y"));
    assert_eq!(out[2], "35=2|34=3|49=ISLD|52=T|56=TW|7=3|16=0");
}

#[test]
fn application_sends_are_refused_for_session_messages() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    let e = h.m.send(h.now, &Message::new("5")).unwrap_err();
    assert!(matches!(e, SendError::AdminMessage { .. }));
    let e =
        h.m.send(h.now, &Message::new("D").with(tags::TEXT, ""))
            .unwrap_err();
    assert!(matches!(
        e,
        SendError::Invalid(FieldError::Empty { tag: 58 })
    ));
    assert_eq!(h.seqs().0, 2, "refused sends use no sequence number");
}

#[test]
fn t2r_unregistered_msg_type_gets_a_business_reject() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("B", 2, "148=news");
    assert_eq!(
        h.out(),
        ["35=j|34=2|49=ISLD|52=T|56=TW|45=2|58=Unsupported Message Type|372=B|380=3"]
    );
}

#[test]
fn events_report_state_changes_in_order() {
    let mut h = Harness::new(FixVersion::Fix44);
    assert_eq!(
        h.told(),
        [Told::State(State::Disconnected, State::WaitForLogon)]
    );
    h.send("A", 1, "98=0|108=30");
    assert_eq!(
        h.told(),
        [
            Told::State(State::WaitForLogon, State::Established),
            Told::Event(SessionEvent::LoggedOn {
                reset: false,
                heart_bt_int: 30
            })
        ]
    );
}

#[test]
fn what_was_told_before_a_queued_message_reaches_the_handler_before_it() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 3, ORDER);
    h.told();
    // The GapFill over 2 moves the session to 3: the event, then the order.
    h.send("4", 2, "123=Y|36=3");
    assert_eq!(
        h.told(),
        [
            Told::Event(SessionEvent::SequenceReset {
                new_seq_num: 3,
                gap_fill: true
            }),
            Told::Message(format!("D:{ORDER}")),
        ]
    );
}

#[test]
fn t10_logout_is_answered_whatever_its_number() {
    // 10_MsgSeqNumEqual: after a GapFill to 20, a Logout numbered 3 is still answered.
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 2, "36=20|123=Y");
    h.send("1", 20, "112=HELLO");
    h.out();
    h.send("5", 3, "");
    assert_eq!(h.out(), ["35=5|34=3|49=ISLD|52=T|56=TW"]);
    assert!(h.m.wants_close());
}

#[test]
fn t8_resend_request_with_a_used_number_is_still_served() {
    // 8_OnlyAdminMessages: the second ResendRequest repeats MsgSeqNum 5.
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("2", 2, "7=1|16=0");
    assert_eq!(
        h.out(),
        ["35=4|34=1|43=Y|49=ISLD|52=T|56=TW|122=T|36=2|123=Y"]
    );
    h.send("2", 2, "7=1|16=0");
    assert_eq!(
        h.out(),
        ["35=4|34=1|43=Y|49=ISLD|52=T|56=TW|122=T|36=2|123=Y"]
    );
    assert!(!h.m.wants_close());
    assert_eq!(h.seqs().1, 3);
}

#[test]
fn session_reset_logon_on_an_established_session() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    for seq in 2..=9 {
        h.send("0", seq, "");
    }
    h.send("1", 10, "112=1");
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW|112=1"]);
    h.send("A", 1, "98=0|108=30|141=Y");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|141=Y"]);
    h.send("1", 2, "112=1");
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW|112=1"]);
}

#[test]
fn rejects_are_routed_back_the_way_the_message_came() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, "115=JCD|116=|144=CHI|11=ID|58=");
    assert_eq!(
        h.out(),
        [
            "35=3|34=2|49=ISLD|52=T|56=TW|128=JCD|145=CHI|45=2|58=Tag specified without a value|371=116|372=D|373=4"
        ]
    );
}

/// Found by the session fuzzer: a routing field whose value holds an SOH was
/// copied into the Reject, whose own framing it broke.
#[test]
fn a_routing_value_with_an_embedded_soh_is_not_routed_back() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, "115=JCD|116=DESK|7|11=ID");
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|128=JCD|45=2|58=Embedded SOH|371=116|372=D|373=17"]
    );
}

#[test]
fn t14b_required_header_field_missing_is_rejected_and_consumes_the_number() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    let mut f = Vec::new();
    let mut e = Encoder::start(&mut f, "FIX.4.4", b"0");
    e.uint(tags::MSG_SEQ_NUM, 2)
        .str(tags::SENDER_COMP_ID, "TW")
        .timestamp(tags::SENDING_TIME, h.clock.now_utc(), TimePrecision::Millis);
    e.finish();
    h.feed(&f);
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Required tag missing|371=56|372=0|373=1"]
    );
    h.send("0", 3, "");
    assert_eq!(h.seqs().1, 4);
    assert!(h.out().is_empty());
}

#[test]
fn fix40_resend_requests_ask_to_999999() {
    let mut h = Harness::new(FixVersion::Fix41);
    h.send("A", 3, "98=0|108=30");
    assert_eq!(
        h.out(),
        [
            "35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30",
            "35=2|34=2|49=ISLD|52=T|56=TW|7=1|16=999999"
        ]
    );
}
