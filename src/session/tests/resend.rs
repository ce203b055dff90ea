//! ResendRequest served (checklist 8).

use super::*;

fn session_with_history() -> Harness {
    // Sent: 1 Logon, 2-4 Heartbeats, 5-6 orders, 7-8 Heartbeats, 9 order.
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    for (seq, step) in (2..).zip(["1", "1", "1", "D", "D", "1", "1", "D"]) {
        let body = if step == "1" { "112=HELLO" } else { ORDER };
        h.send(step, seq, body);
    }
    h.out();
    h
}

#[test]
fn t8_admin_and_application_messages() {
    let mut h = session_with_history();
    h.send("2", 10, "7=2|16=4");
    assert_eq!(
        h.out(),
        ["35=4|34=2|43=Y|49=ISLD|52=T|56=TW|122=T|36=5|123=Y"]
    );
    h.send("2", 11, "7=2|16=8");
    let order = "11=ID|21=3|40=1|54=1|55=INTC";
    assert_eq!(
        h.out(),
        [
            "35=4|34=2|43=Y|49=ISLD|52=T|56=TW|122=T|36=5|123=Y".to_owned(),
            format!("35=D|34=5|43=Y|49=ISLD|52=T|56=TW|122=T|{order}"),
            format!("35=D|34=6|43=Y|49=ISLD|52=T|56=TW|122=T|{order}"),
            "35=4|34=7|43=Y|49=ISLD|52=T|56=TW|122=T|36=9|123=Y".to_owned(),
        ]
    );
    h.send("2", 12, "7=2|16=0");
    assert_eq!(h.out().len(), 5);
    // Resends do not use new numbers.
    h.send("1", 13, "112=HELLO");
    assert_eq!(h.out(), ["35=0|34=10|49=ISLD|52=T|56=TW|112=HELLO"]);
    let served = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, SessionEvent::ResendServed { .. }))
        .count();
    assert_eq!(served, 3);
}

#[test]
fn t8_resent_messages_keep_their_body_and_original_sending_time() {
    let mut h = session_with_history();
    let mut original = Vec::new();
    h.m.store()
        .read_range(5, 5, 1, &mut |_, f| original = f.to_vec())
        .unwrap();
    h.clock.advance(Duration::from_secs(3));
    h.send("2", 10, "7=5|16=5");
    h.m.poll_transmit(&mut h.pending, &mut h.app).unwrap();
    let resent = std::mem::take(&mut h.pending);
    let mut d1 = Decoder::new();
    let mut d2 = Decoder::new();
    let a = d1.decode(&original).unwrap();
    let b = d2.decode(&resent).unwrap();
    assert_eq!(a.body_bytes(), b.body_bytes());
    assert_eq!(b.get(tags::ORIG_SENDING_TIME), a.get(tags::SENDING_TIME));
    assert_ne!(b.get(tags::SENDING_TIME), a.get(tags::SENDING_TIME));
    assert!(b.is_poss_dup());
}

#[test]
fn t8_only_admin_messages() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("1", 2, "112=A");
    h.send("1", 3, "112=B");
    h.out();
    h.send("2", 4, "7=1|16=0");
    assert_eq!(
        h.out(),
        ["35=4|34=1|43=Y|49=ISLD|52=T|56=TW|122=T|36=4|123=Y"]
    );
}

#[test]
fn fix40_end_seq_no_999999_means_to_the_end() {
    let mut h = Harness::new(FixVersion::Fix40);
    h.send("A", 1, "98=0|108=30");
    h.out();
    h.send("D", 2, ORDER);
    h.out();
    h.send("2", 3, "7=1|16=999999");
    let out = h.out();
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].starts_with("35=4|34=1|43=Y"));
    assert!(out[1].starts_with("35=D|34=2|43=Y"));
}

#[test]
fn resend_of_a_long_history_is_served_in_bounded_batches() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    let total = 3 * RESEND_BATCH as u64 + 17;
    for i in 0..total {
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, i))
            .unwrap();
    }
    h.out();
    h.send("2", 2, "7=1|16=0");
    // Each poll yields at most one batch.
    let mut polls = 0;
    let mut frames = 0;
    loop {
        let mut buf = Vec::new();
        if h.m.poll_transmit(&mut buf, &mut h.app).unwrap() == 0 {
            break;
        }
        polls += 1;
        let mut rest = &buf[..];
        let mut in_batch = 0;
        while let Ok(Status::Complete(n)) = h.framer.parse(rest) {
            rest = &rest[n..];
            in_batch += 1;
        }
        assert!(in_batch <= RESEND_BATCH + 1, "batch of {in_batch}");
        frames += in_batch;
    }
    assert!(polls >= 4, "{polls} polls");
    assert_eq!(
        frames as u64,
        total + 1,
        "one GapFill for the Logon, then every report"
    );
}
