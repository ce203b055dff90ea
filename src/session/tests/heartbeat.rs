//! Heartbeats and TestRequest (checklist 4, 5, 6).

use super::*;

#[test]
fn t4a_no_data_sent_during_heart_bt_int() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.advance(Duration::from_millis(29_999));
    assert!(h.out().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW"]);
}

#[test]
fn t4b_received_test_request() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("1", 2, "112=HELLO");
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW|112=HELLO"]);
}

#[test]
fn t6_send_test_request_then_disconnect() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("A", 1, "98=0|108=6");
    h.out();
    // Silence: our Heartbeat after 6 s, the TestRequest after 6 s + 1 s of silence.
    h.advance(Duration::from_secs(6));
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW"]);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.out(), ["35=1|34=3|49=ISLD|52=T|56=TW|112=TEST"]);
    // Answered: the link is fine.
    h.send("0", 2, "112=TEST");
    h.advance(Duration::from_secs(6));
    assert_eq!(h.out(), ["35=0|34=4|49=ISLD|52=T|56=TW"]);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.out(), ["35=1|34=5|49=ISLD|52=T|56=TW|112=TEST"]);
    // Not answered: no heartbeat while waiting, then the link is declared lost.
    h.advance(Duration::from_millis(6_999));
    assert!(h.out().is_empty());
    assert!(!h.m.wants_close());
    h.advance(Duration::from_millis(1));
    assert!(h.m.wants_close());
    assert!(h.out().is_empty());
}

#[test]
fn t7_receive_reject_message() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("3", 2, "45=2|58=no");
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 3);
    assert!(h.events().contains(&SessionEvent::RejectReceived {
        ref_seq_num: Some(2),
        text: Some("no".into())
    }));
}
