//! SequenceReset, GapFill and Reset (checklist 10, 11).

use super::*;

#[test]
fn t10_gap_fill_msg_seq_num_equal() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 2, "123=Y|36=20");
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 20);
}

#[test]
fn t10_gap_fill_msg_seq_num_greater() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 5, "123=Y|36=20");
    assert_eq!(h.out(), ["35=2|34=2|49=ISLD|52=T|56=TW|7=2|16=0"]);
    assert_eq!(h.seqs().1, 2);
}

#[test]
fn t10_gap_fill_msg_seq_num_less() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 1, "43=Y|122=20261125-20:16:26.000|36=20|123=Y");
    h.send("1", 2, "112=HELLO");
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW|112=HELLO"]);
    h.send("4", 1, "36=20|123=Y");
    assert_eq!(
        h.out(),
        ["35=5|34=3|49=ISLD|52=T|56=TW|58=MsgSeqNum too low, expecting 3 but received 1"]
    );
    assert!(h.m.wants_close());
}

#[test]
fn t11a_new_seq_no_greater() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, "36=20");
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 20);
    assert!(h.events().contains(&SessionEvent::SequenceReset {
        new_seq_num: 20,
        gap_fill: false
    }));
}

#[test]
fn t11b_new_seq_no_equal() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, "36=2");
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 2);
}

#[test]
fn t11c_new_seq_no_less() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, "36=1");
    assert_eq!(
        h.out(),
        [
            "35=3|34=2|49=ISLD|52=T|56=TW|45=0|58=Value is incorrect (out of range) for this tag|372=4|373=5"
        ]
    );
    h.send("1", 2, "112=HELLO");
    assert_eq!(h.out(), ["35=0|34=3|49=ISLD|52=T|56=TW|112=HELLO"]);
}
