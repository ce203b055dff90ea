//! A gap answered by SequenceReset: what was queued behind it.

use super::*;

/// A counterparty that sent 1..=11 (the acceptor expects 12 next) reconnects with
/// Logon 13 followed at once by the admin messages `queued` (TestRequests 14...),
/// as after a restart where its Logout (12) went unread. The acceptor answers the
/// Logon and asks for 12 onwards.
fn reconnected_with_a_gap(config: SessionConfig, queued: u64) -> Harness {
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.logon();
    for seq in 2..=11 {
        h.send("0", seq, "");
    }
    h.reconnect();
    h.out();
    h.events();
    h.send("A", 13, "98=0|108=30");
    for seq in 14..14 + queued {
        h.send("1", seq, &format!("112=Q{seq}"));
    }
    h
}

#[test]
fn a_gap_fill_past_queued_admin_messages_drops_them() {
    for queued in [1, 2, 5] {
        let mut h = reconnected_with_a_gap(SessionConfig::default(), queued);
        assert_eq!(
            h.out(),
            [
                "35=A|34=2|49=ISLD|52=T|56=TW|98=0|108=30",
                "35=2|34=3|49=ISLD|52=T|56=TW|7=12|16=0"
            ]
        );
        // Its Logout, its Logon and every TestRequest are admin messages: one
        // GapFill over all of them is the legal answer.
        let next = 14 + queued;
        h.send(
            "4",
            12,
            &format!("43=Y|122={}|36={next}|123=Y", "20261125-20:16:26.000"),
        );
        assert!(h.out().is_empty(), "{queued} queued: nothing to answer");
        h.send("1", next, "112=AFTER");
        assert_eq!(
            h.out(),
            ["35=0|34=4|49=ISLD|52=T|56=TW|112=AFTER"],
            "{queued} queued: the session goes on"
        );
        assert!(!h.m.wants_close());
        assert_eq!(h.seqs().1, next + 1);
    }
}

#[test]
fn a_gap_fill_up_to_the_logon_processes_the_logon_and_the_queue_at_once() {
    for queued in [1, 2, 5] {
        let mut h = reconnected_with_a_gap(SessionConfig::default(), queued);
        h.out();
        // The counterparty fills only its Logout (12), up to its Logon's number.
        h.send("4", 12, "43=Y|122=20261125-20:16:26.000|36=13|123=Y");
        let answers: Vec<String> = (14..14 + queued)
            .zip(4..)
            .map(|(id, seq)| format!("35=0|34={seq}|49=ISLD|52=T|56=TW|112=Q{id}"))
            .collect();
        assert_eq!(
            h.out(),
            answers,
            "{queued} queued: answered at once, in order"
        );
        assert_eq!(h.seqs().1, 14 + queued);
        // Nothing is asked for again when the next message arrives.
        h.send("0", 14 + queued, "");
        assert!(h.out().is_empty());
    }
}

#[test]
fn an_order_queued_behind_a_gap_reaches_the_application_once() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.reconnect();
    // Expecting 2; the counterparty's Logout (2) went unread.
    h.send("A", 3, "98=0|108=30");
    h.send("D", 4, ORDER);
    h.send("1", 5, "112=Q5");
    h.out();
    // The answer up to the last number sent: GapFill over 2 and 3, the order
    // again as a possible duplicate, a GapFill over the TestRequest.
    let orig = "43=Y|122=20261125-20:16:26.000";
    h.send("4", 2, &format!("{orig}|36=4|123=Y"));
    let order = "11=ID|21=3|40=1|54=1|55=INTC";
    assert_eq!(
        h.out(),
        [
            format!("35=D|34=4|49=ISLD|52=T|56=TW|{order}"),
            "35=0|34=5|49=ISLD|52=T|56=TW|112=Q5".to_owned(),
        ],
        "the queued order and TestRequest, processed at once"
    );
    h.send("D", 4, &format!("{orig}|{ORDER}"));
    h.send("4", 5, &format!("{orig}|36=6|123=Y"));
    assert!(h.out().is_empty());
    assert_eq!(h.app.received.len(), 1, "{:?}", h.app.received);
    assert_eq!(h.seqs().1, 6);
    assert!(!h.m.wants_close());
}

#[test]
fn a_sequence_reset_past_queued_messages_drops_them() {
    let mut h = reconnected_with_a_gap(SessionConfig::default(), 2);
    h.out();
    h.send("4", 0, "36=20");
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 20);
    h.send("1", 20, "112=AFTER");
    assert_eq!(h.out(), ["35=0|34=4|49=ISLD|52=T|56=TW|112=AFTER"]);
    assert!(!h.m.wants_close());
}

#[test]
fn with_789_a_fill_up_to_the_logon_processes_the_logon_and_the_queue() {
    let config = SessionConfig::default().with_enable_next_expected_msg_seq_num(true);
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.send("A", 1, "98=0|108=30|789=1");
    for seq in 2..=11 {
        h.send("0", seq, "");
    }
    h.reconnect();
    h.out();
    h.send("A", 13, "98=0|108=30|789=2");
    h.send("1", 14, "112=Q14");
    assert_eq!(
        h.out(),
        ["35=A|34=2|49=ISLD|52=T|56=TW|98=0|108=30|789=12"],
        "no ResendRequest: with 789 the counterparty resends by itself"
    );
    h.send("4", 12, "43=Y|122=20261125-20:16:26.000|36=13|123=Y");
    assert_eq!(h.out(), ["35=0|34=3|49=ISLD|52=T|56=TW|112=Q14"]);
    assert_eq!(h.seqs().1, 15);
}
