//! Session options operations teams reach for (issue 14): LastMsgSeqNumProcessed,
//! ResendRequestChunkSize, a cap on an inbound ResendRequest.

use super::*;

const ORIG: &str = "122=20261125-20:16:26.000";

fn with(config: SessionConfig) -> Harness {
    Harness::with_config(FixVersion::Fix44, config)
}

// ---- LastMsgSeqNumProcessed(369) ------------------------------------------------------

#[test]
fn last_msg_seq_num_processed_is_on_every_message_when_enabled() {
    let mut h = with(SessionConfig::default().with_enable_last_msg_seq_num_processed(true));
    h.send("A", 1, "98=0|108=30");
    assert_eq!(
        h.out(),
        ["35=A|34=1|49=ISLD|52=T|56=TW|369=0|98=0|108=30"],
        "written before the Logon it answers is counted"
    );
    h.send("1", 2, "112=HI");
    assert_eq!(h.out(), ["35=0|34=2|49=ISLD|52=T|56=TW|369=2|112=HI"]);
    // The application answers an order before the session counts it, as in
    // QuickFIX/J.
    h.send("D", 3, ORDER);
    assert_eq!(
        h.out(),
        [format!("35=D|34=3|49=ISLD|52=T|56=TW|369=2|{ORDER}")]
    );
    h.send("0", 4, "");
    // A resent message keeps the 369 it was written with.
    h.send("2", 5, "7=3|16=3");
    assert_eq!(
        h.out(),
        [format!(
            "35=D|34=3|43=Y|49=ISLD|52=T|56=TW|122=T|369=2|{ORDER}"
        )]
    );
}

#[test]
fn last_msg_seq_num_processed_is_on_a_logon_refusal_too() {
    let mut h = with(SessionConfig::default().with_enable_last_msg_seq_num_processed(true));
    h.send("A", 1, "98=0|108=30");
    h.send("D", 2, ORDER);
    h.out();
    h.m.handle_disconnect(&mut h.app).unwrap();
    h.m.handle_connect(h.now, Duration::from_secs(5), &mut h.app);
    h.app.refuse_logon = Some("not today".into());
    h.send("A", 3, "98=0|108=30");
    // The refused Logon is not processed: 369 names the order before it.
    assert_eq!(
        h.out(),
        ["35=5|34=3|49=ISLD|52=T|56=TW|369=2|58=Logon refused: not today"]
    );
    assert!(h.m.wants_close());
}

#[test]
fn last_msg_seq_num_processed_is_absent_by_default() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    assert!(!h.out()[0].contains("369="));
}

// ---- ResendRequestChunkSize ------------------------------------------------------------

/// A session expecting 4, with chunks of 5 messages.
fn chunked() -> Harness {
    let mut h = with(SessionConfig::default().with_resend_request_chunk_size(5));
    h.logon();
    h.send("0", 2, "");
    h.send("0", 3, "");
    h
}

/// QuickFIX/J's acceptance script: message 10 arrives while 4 is expected; the
/// gap is asked for as 4..8, then, once 8 is processed, 9 to the end.
#[test]
fn a_gap_is_asked_for_in_chunks_the_next_when_the_previous_is_filled() {
    let mut h = chunked();
    h.send("0", 10, "");
    assert_eq!(h.out(), ["35=2|34=2|49=ISLD|52=T|56=TW|7=4|16=8"]);
    for seq in 4..8 {
        h.send("0", seq, &format!("43=Y|{ORIG}"));
        assert!(
            h.out().is_empty(),
            "no new request before the chunk is filled"
        );
    }
    h.send("0", 8, &format!("43=Y|{ORIG}"));
    assert_eq!(h.out(), ["35=2|34=3|49=ISLD|52=T|56=TW|7=9|16=0"]);
    h.send("0", 9, &format!("43=Y|{ORIG}"));
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 11, "the queued 10 is processed once 9 is");
}

/// A Logout that fills a chunk ends the session: our Logout answers it and no
/// request for the next chunk follows. (Found by the session fuzz target.)
#[test]
fn a_logout_filling_a_chunk_is_the_last_word() {
    let mut h = chunked();
    h.send("0", 10, "");
    h.out();
    for seq in 4..8 {
        h.send("0", seq, &format!("43=Y|{ORIG}"));
    }
    h.send("5", 8, "");
    assert_eq!(h.out(), ["35=5|34=3|49=ISLD|52=T|56=TW"]);
    assert!(h.m.wants_close());
}

/// A chunk is filled once every number in it came, resent or covered by a
/// GapFill; a GapFill past a chunk's end brings the next chunk from its NewSeqNo.
/// (QuickFIX/J asks again from a NewSeqNo that only reaches the chunk's last
/// number, which that number's own resend then duplicates.)
#[test]
fn a_gap_fill_past_a_chunk_brings_the_next_chunk() {
    let mut h = chunked();
    h.send("0", 15, "");
    assert_eq!(h.out(), ["35=2|34=2|49=ISLD|52=T|56=TW|7=4|16=8"]);
    // 4..7 filled; 8, the chunk's last number, still to come.
    h.send("4", 4, &format!("43=Y|{ORIG}|123=Y|36=8"));
    assert!(h.out().is_empty());
    h.send("0", 8, &format!("43=Y|{ORIG}"));
    assert_eq!(h.out(), ["35=2|34=3|49=ISLD|52=T|56=TW|7=9|16=13"]);
    // Past the chunk's end at once.
    h.send("4", 9, &format!("43=Y|{ORIG}|123=Y|36=14"));
    assert_eq!(
        h.out(),
        ["35=2|34=4|49=ISLD|52=T|56=TW|7=14|16=0"],
        "the chunk that reaches the gap's end asks to the end"
    );
    h.send("4", 14, &format!("43=Y|{ORIG}|123=Y|36=15"));
    assert!(h.out().is_empty());
    assert_eq!(h.seqs().1, 16, "the queued 15 is processed");
}

#[test]
fn without_a_chunk_size_one_request_asks_to_the_end() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 20, "");
    assert_eq!(h.out(), ["35=2|34=2|49=ISLD|52=T|56=TW|7=2|16=0"]);
}

// ---- a cap on the counterparty's ResendRequest ------------------------------------

/// A session that sent its Logon (1) and nine ExecutionReports (2 to 10).
fn with_reports(limit: u64) -> Harness {
    let mut h = with(SessionConfig::default().with_resend_request_number_of_messages_limit(limit));
    h.logon();
    for i in 0..9u64 {
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, i))
            .unwrap();
    }
    h.out();
    h
}

/// Above the limit, the newest messages are resent and one GapFill covers the
/// rest, as FIX Antenna's code does (its documentation speaks of a reject).
#[test]
fn a_resend_request_over_the_limit_gets_the_newest_messages() {
    let mut h = with_reports(3);
    h.send("2", 2, "7=1|16=0");
    let out = h.out();
    assert_eq!(
        out,
        [
            "35=4|34=1|43=Y|49=ISLD|52=T|56=TW|122=T|36=8|123=Y",
            "35=8|34=8|43=Y|49=ISLD|52=T|56=TW|122=T|17=6",
            "35=8|34=9|43=Y|49=ISLD|52=T|56=TW|122=T|17=7",
            "35=8|34=10|43=Y|49=ISLD|52=T|56=TW|122=T|17=8",
        ]
    );
    assert!(h.events().contains(&SessionEvent::ResendServed {
        begin: 1,
        end: 10,
        resent: 3,
        gap_filled: 7
    }));
}

#[test]
fn a_resend_request_within_the_limit_is_served_whole() {
    let mut h = with_reports(3);
    h.send("2", 2, "7=8|16=10");
    assert_eq!(h.out().len(), 3);
    let mut h = with_reports(0);
    h.send("2", 2, "7=1|16=0");
    assert_eq!(
        h.out().len(),
        10,
        "a GapFill over the Logon, then nine reports"
    );
}

// ---- the application's hooks: on_admin, to_admin, on_resend ---------------------

#[test]
fn on_admin_sees_every_session_level_message_acted_on() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.send("1", 3, "112=T1");
    h.send("D", 4, ORDER);
    h.send("2", 5, "7=1|16=0");
    h.send("4", 6, "123=Y|36=8");
    h.send("5", 8, "");
    assert_eq!(
        h.app.admin,
        ["A", "0", "1", "2", "4", "5"],
        "orders are not admin"
    );
}

#[test]
fn to_admin_adds_fields_to_the_logon_reply_and_the_logout() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.app.admin_field = Some((5001, "VENUE-1"));
    h.send("A", 1, "98=0|108=30");
    assert_eq!(
        h.out(),
        ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|5001=VENUE-1"]
    );
    h.m.logout(h.now, Some("bye"), &mut h.app).unwrap();
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=bye|5001=VENUE-1"]
    );
}

#[test]
fn a_vetoed_message_is_resent_as_a_gap_fill() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    for id in ["E1", "STALE", "E3"] {
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, id))
            .unwrap();
    }
    h.out();
    h.app.veto_exec_id = Some("STALE");
    h.send("2", 2, "7=2|16=0");
    assert_eq!(
        h.out(),
        [
            "35=8|34=2|43=Y|49=ISLD|52=T|56=TW|122=T|17=E1",
            "35=4|34=3|43=Y|49=ISLD|52=T|56=TW|122=T|36=4|123=Y",
            "35=8|34=4|43=Y|49=ISLD|52=T|56=TW|122=T|17=E3",
        ]
    );
}
