//! NextExpectedMsgSeqNum(789) on Logon.

use super::*;

fn with_789() -> Harness {
    Harness::with_config(
        FixVersion::Fix44,
        SessionConfig::default().with_enable_next_expected_msg_seq_num(true),
    )
}

/// A session that sent Logon(1) and two orders (2, 3), then lost its connection.
fn reconnecting_with_789() -> Harness {
    let mut h = with_789();
    h.send("A", 1, "98=0|108=30|789=1");
    h.send("D", 2, ORDER);
    h.send("D", 3, ORDER);
    h.out();
    h.reconnect();
    h.events();
    h
}

#[test]
fn logon_789_in_step_needs_no_recovery() {
    let mut h = reconnecting_with_789();
    h.send("A", 4, "98=0|108=30|789=4");
    assert_eq!(h.out(), ["35=A|34=4|49=ISLD|52=T|56=TW|98=0|108=30|789=5"]);
    assert_eq!(h.seqs(), (5, 5));
}

#[test]
fn logon_789_low_resends_then_gap_fills_over_the_logon() {
    let mut h = reconnecting_with_789();
    h.send("A", 4, "98=0|108=30|789=2");
    let order = "11=ID|21=3|40=1|54=1|55=INTC";
    assert_eq!(
        h.out(),
        [
            "35=A|34=4|49=ISLD|52=T|56=TW|98=0|108=30|789=5".to_owned(),
            format!("35=D|34=2|43=Y|49=ISLD|52=T|56=TW|122=T|{order}"),
            format!("35=D|34=3|43=Y|49=ISLD|52=T|56=TW|122=T|{order}"),
            "35=4|34=4|43=Y|49=ISLD|52=T|56=TW|122=T|36=5|123=Y".to_owned(),
        ]
    );
}

#[test]
fn logon_789_too_high_logs_out() {
    let mut h = reconnecting_with_789();
    h.send("A", 4, "98=0|108=30|789=9");
    assert_eq!(
        h.out(),
        [
            "35=5|34=4|49=ISLD|52=T|56=TW|58=NextExpectedMsgSeqNum too high, expecting at most 4 but received 9"
        ]
    );
    assert!(h.m.wants_close());
}

#[test]
fn logon_789_ahead_of_us_waits_for_their_resend_without_asking() {
    let mut h = reconnecting_with_789();
    // They sent 4 and 5 while we were away; their Logon is 6.
    h.send("A", 6, "98=0|108=30|789=4");
    assert_eq!(h.out(), ["35=A|34=4|49=ISLD|52=T|56=TW|98=0|108=30|789=4"]);
    // They resend 4 and 5, and fill their Logon's number: no ResendRequest from us.
    h.send("D", 4, &format!("43=Y|122=20261125-20:16:26.000|{ORDER}"));
    h.send("D", 5, &format!("43=Y|122=20261125-20:16:26.000|{ORDER}"));
    h.send("4", 6, "43=Y|36=7|123=Y");
    assert_eq!(h.out().len(), 2, "the two orders echoed, nothing else");
    assert_eq!(h.seqs().1, 7);
}

#[test]
fn logon_789_is_ignored_unless_enabled() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("A", 1, "98=0|108=30|789=1");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30"]);
}

#[test]
fn t14k_embedded_soh_in_a_non_data_field() {
    let mut h = Harness::new(FixVersion::Fix42);
    h.send("A", 1, "98=0|108=30");
    h.out();
    h.send("D", 2, "11=ID|336=PRE-|OPEN|55=INTC");
    assert_eq!(
        h.out(),
        ["35=3|34=2|49=ISLD|52=T|56=TW|45=2|58=Embedded SOH|371=336|372=D"]
    );
    assert!(h.app.received.is_empty());
    assert_eq!(h.seqs().1, 3);
}
