//! Logout (checklist 12, 13).

use super::*;

#[test]
fn t12_logout_initiated_processes_messages_until_the_reply() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.m.logout(h.now, Some("end of day"), &mut h.app).unwrap();
    assert_eq!(h.out(), ["35=5|34=2|49=ISLD|52=T|56=TW|58=end of day"]);
    assert_eq!(h.m.state(), State::WaitForLogout);
    // A ResendRequest while waiting is still served.
    h.send("2", 2, "7=1|16=0");
    assert_eq!(
        h.out(),
        ["35=4|34=1|43=Y|49=ISLD|52=T|56=TW|122=T|36=3|123=Y"]
    );
    h.send("5", 3, "");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
}

#[test]
fn t12_logout_reply_never_comes() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.m.logout(h.now, None, &mut h.app).unwrap();
    h.out();
    h.advance(Duration::from_millis(1_999));
    assert!(!h.m.wants_close());
    h.advance(Duration::from_millis(1));
    assert!(h.m.wants_close());
}

#[test]
fn t13b_unsolicited_logout_message() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("5", 2, "");
    assert_eq!(h.out(), ["35=5|34=2|49=ISLD|52=T|56=TW"]);
    assert!(h.m.wants_close());
    assert_eq!(h.seqs(), (3, 3));
}
