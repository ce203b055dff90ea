//! The session state machine driven by scripted frames on a fake clock.
//!
//! Test names follow the acceptor checklist of the FIX session-layer test cases
//! (and the QuickFIX acceptance scripts they mirror: `t2b_` is `2b_MsgSeqNumTooHigh`).
//! Outbound messages are shown as `35=..|34=..|...` without 8, 9 and 10 (checked
//! separately), with SendingTime and OrigSendingTime shown as `T`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::clock::ManualClock;
use crate::codec::{Framer, Status};
use crate::store::MemoryStore;

const T0: &[u8] = b"20261125-20:16:27.000";

/// The application side: records what it is told, echoes orders, rejects the rest.
#[derive(Debug, Default)]
struct App {
    received: Vec<String>,
    refuse_logon: Option<String>,
    /// Everything the session told, in order, since the test last looked.
    told: Vec<Told>,
}

/// One thing the session told the application.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Told {
    State(State, State),
    Event(SessionEvent),
    /// An application message, as `render_body` shows it.
    Message(String),
}

impl Handler for App {
    fn on_logon(&mut self, _logon: &MessageView<'_>) -> Result<(), String> {
        match &self.refuse_logon {
            Some(r) => Err(r.clone()),
            None => Ok(()),
        }
    }

    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        self.received.push(render_body(message));
        self.told.push(Told::Message(render_body(message)));
        if message.msg_type() == b"D" {
            let mut echo = Message::new("D");
            for f in message.body() {
                echo.push(f.tag, f.value);
            }
            reply.send(&echo).unwrap();
        } else {
            reply
                .business_reject(message, 3, "Unsupported Message Type")
                .unwrap();
        }
    }

    fn on_state_change(&mut self, from: State, to: State) {
        self.told.push(Told::State(from, to));
    }

    fn on_event(&mut self, event: &SessionEvent) {
        self.told.push(Told::Event(event.clone()));
    }
}

struct Harness {
    m: SessionMachine<MemoryStore>,
    clock: ManualClock,
    now: Instant,
    app: App,
    version: FixVersion,
    framer: Framer,
    decoder: Decoder,
    pending: Vec<u8>,
}

impl Harness {
    fn new(version: FixVersion) -> Self {
        Self::with_config(version, SessionConfig::default())
    }

    fn with_config(version: FixVersion, config: SessionConfig) -> Self {
        let clock = ManualClock::new(UtcTimestamp::parse(T0).unwrap());
        let now = origin();
        let mut m = SessionMachine::new(
            SessionId::new("ISLD", "TW"),
            version,
            config,
            MemoryStore::new(),
            Arc::new(clock.clone()),
            now,
        );
        let mut app = App::default();
        m.handle_connect(now, Duration::from_secs(5), &mut app);
        Self {
            m,
            clock,
            now,
            app,
            version,
            framer: Framer::default(),
            decoder: Decoder::new(),
            pending: Vec::new(),
        }
    }

    /// A frame from the counterparty TW: header then `body`, with SendingTime now.
    fn frame(&self, mt: &str, seq: u64, body: &str) -> Vec<u8> {
        let time = self.clock.now_utc();
        self.frame_at(mt, seq, body, time, "TW", "ISLD")
    }

    fn frame_at(
        &self,
        mt: &str,
        seq: u64,
        body: &str,
        time: UtcTimestamp,
        sender: &str,
        target: &str,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = Encoder::start(&mut out, self.version.begin_string(), mt.as_bytes());
        e.uint(tags::MSG_SEQ_NUM, seq)
            .str(tags::SENDER_COMP_ID, sender)
            .timestamp(tags::SENDING_TIME, time, TimePrecision::Millis)
            .str(tags::TARGET_COMP_ID, target);
        if !body.is_empty() {
            e.raw(body.replace('|', "\x01").as_bytes());
            if !body.ends_with('|') {
                e.raw(b"\x01");
            }
        }
        e.finish();
        out
    }

    fn feed(&mut self, frame: &[u8]) {
        self.m.handle_frame(self.now, frame, &mut self.app).unwrap();
    }

    fn send(&mut self, mt: &str, seq: u64, body: &str) {
        let f = self.frame(mt, seq, body);
        self.feed(&f);
    }

    /// Everything sent since the last call, one rendered message each.
    fn out(&mut self) -> Vec<String> {
        self.m.poll_transmit(&mut self.pending).unwrap();
        // Resends come in batches: keep draining.
        while self.m.poll_transmit(&mut self.pending).unwrap() > 0 {}
        let mut rendered = Vec::new();
        let mut buf = &self.pending[..];
        while !buf.is_empty() {
            let Ok(Status::Complete(len)) = self.framer.parse(buf) else {
                panic!(
                    "the machine wrote a bad frame: {:?}",
                    String::from_utf8_lossy(buf)
                );
            };
            let view = self.decoder.decode(&buf[..len]).unwrap();
            assert_eq!(view.begin_string(), self.version.begin_string().as_bytes());
            rendered.push(render(&view));
            buf = &buf[len..];
        }
        self.pending.clear();
        rendered
    }

    /// The events told since the last look (state changes and messages aside).
    fn events(&mut self) -> Vec<SessionEvent> {
        self.told()
            .into_iter()
            .filter_map(|t| match t {
                Told::Event(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// Everything told since the last look, in order.
    fn told(&mut self) -> Vec<Told> {
        std::mem::take(&mut self.app.told)
    }

    /// The transport dropped, and a new one is attached.
    fn reconnect(&mut self) {
        self.m.handle_disconnect(&mut self.app).unwrap();
        self.m
            .handle_connect(self.now, Duration::from_secs(5), &mut self.app);
    }

    /// Moves both clocks by `d`, running every timer that falls due on the way.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(at) = self.m.poll_timeout().filter(|&at| at <= end) {
            let step = at.saturating_duration_since(self.now);
            self.clock.advance(step);
            self.now = at.max(self.now);
            self.m.handle_timeout(self.now, &mut self.app).unwrap();
        }
        self.clock.advance(end.saturating_duration_since(self.now));
        self.now = end;
    }

    fn logon(&mut self) {
        self.send("A", 1, "98=0|108=30");
        assert_eq!(self.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30"]);
        assert_eq!(self.m.state(), State::Established);
        self.events();
    }

    fn seqs(&self) -> (u64, u64) {
        (
            self.m.store().next_sender_seq(),
            self.m.store().next_target_seq(),
        )
    }
}

/// A message as `35=..|34=..|...` without 8, 9, 10, with times as `T`.
fn render(view: &MessageView<'_>) -> String {
    view.iter()
        .filter(|f| !matches!(f.tag, 8..=10))
        .map(|f| match f.tag {
            52 | 122 => format!("{}=T", f.tag),
            _ => format!("{}={}", f.tag, String::from_utf8_lossy(f.value)),
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn render_body(view: &MessageView<'_>) -> String {
    format!(
        "{}:{}",
        String::from_utf8_lossy(view.msg_type()),
        view.body()
            .map(|f| format!("{}={}", f.tag, String::from_utf8_lossy(f.value)))
            .collect::<Vec<_>>()
            .join("|")
    )
}

/// The origin of a test's monotonic time; tests move time themselves from here.
#[allow(clippy::disallowed_methods)]
fn origin() -> Instant {
    Instant::now()
}

const ORDER: &str = "11=ID|21=3|40=1|54=1|55=INTC";

// ---- 1S: Logon ------------------------------------------------------------------

#[test]
fn t1a_valid_logon_with_correct_msg_seq_num() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    assert_eq!(h.seqs(), (2, 2));
    assert_eq!(h.m.heart_bt_int(), Duration::from_secs(30));
}

#[test]
fn t1a_valid_logon_msg_seq_num_too_high() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("A", 5, "98=0|108=30");
    assert_eq!(
        h.out(),
        [
            "35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30",
            "35=2|34=2|49=ISLD|52=T|56=TW|7=1|16=0"
        ]
    );
    assert_eq!(h.m.state(), State::Established);
    // The gap is filled by the counterparty's resends, then the session goes on.
    h.send("4", 1, "123=Y|36=6|43=Y");
    h.send("0", 6, "");
    assert_eq!(h.seqs().1, 7);
}

#[test]
fn t1c_invalid_comp_ids_close_without_sending() {
    for (sender, target) in [("XX", "ISLD"), ("TW", "XX")] {
        let mut h = Harness::new(FixVersion::Fix44);
        let f = h.frame_at("A", 1, "98=0|108=30", h.clock.now_utc(), sender, target);
        h.feed(&f);
        assert!(h.out().is_empty());
        assert!(h.m.wants_close());
        assert!(
            h.events()
                .iter()
                .any(|e| matches!(e, SessionEvent::LogonRefused { .. }))
        );
        assert_eq!(h.seqs(), (1, 1));
    }
}

#[test]
fn t1d_invalid_logon_bad_sending_time() {
    let mut h = Harness::new(FixVersion::Fix44);
    let old = UtcTimestamp::parse(b"20010101-00:00:00").unwrap();
    let f = h.frame_at("A", 1, "98=0|108=30", old, "TW", "ISLD");
    h.feed(&f);
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
}

#[test]
fn t1d_invalid_logon_wrong_begin_string() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.version = FixVersion::Fix42; // the peer speaks another version
    h.send("A", 1, "98=0|108=30");
    h.version = FixVersion::Fix44;
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
}

#[test]
fn t1e_not_logon_message() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("D", 1, ORDER);
    assert!(h.out().is_empty());
    assert_eq!(h.m.close_reason(), Some("first message not a Logon"));
    assert!(h.app.received.is_empty());
}

#[test]
fn logon_refused_by_the_application_changes_nothing() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.out();
    h.m.handle_disconnect(&mut h.app).unwrap();
    let before = h.seqs();
    h.m.handle_connect(h.now, Duration::from_secs(5), &mut h.app);
    h.app.refuse_logon = Some("bad password".into());
    // Even a reset request from a peer that fails authentication resets nothing.
    h.send("A", 1, "98=0|108=30|141=Y");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
    assert_eq!(h.seqs(), before);
    assert_eq!(h.m.store().len(), 2, "the Logon reply and the echoed order");
}

#[test]
fn logon_credentials_from_the_configuration() {
    let config = SessionConfig::default()
        .with_username("tw")
        .with_password("pw");
    let mut h = Harness::with_config(FixVersion::Fix44, config.clone());
    h.send("A", 1, "98=0|108=30|553=tw|554=wrong");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
    let mut h = Harness::with_config(FixVersion::Fix44, config);
    h.send("A", 1, "98=0|108=30|553=tw|554=pw");
    assert_eq!(h.out().len(), 1);
    assert_eq!(h.m.state(), State::Established);
}

#[test]
fn logon_heart_bt_int_outside_bounds_is_refused() {
    let config = SessionConfig::default()
        .with_min_heart_bt_int(5)
        .with_max_heart_bt_int(60);
    for hbi in ["1", "61", "x"] {
        let mut h = Harness::with_config(FixVersion::Fix44, config.clone());
        h.send("A", 1, &format!("98=0|108={hbi}"));
        assert!(h.out().is_empty(), "HeartBtInt {hbi}");
        assert!(h.m.wants_close());
    }
}

#[test]
fn logon_encrypt_method_must_be_none() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.send("A", 1, "98=1|108=30");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
}

#[test]
fn session_reset_logon_resets_both_and_echoes_141() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("D", 2, ORDER);
    h.out();
    h.m.handle_disconnect(&mut h.app).unwrap();
    assert_eq!(h.seqs(), (3, 3));
    h.m.handle_connect(h.now, Duration::from_secs(5), &mut h.app);
    h.send("A", 1, "98=0|108=30|141=Y");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|141=Y"]);
    assert_eq!(h.seqs(), (2, 2));
    assert!(h.events().contains(&SessionEvent::LoggedOn {
        reset: true,
        heart_bt_int: 30
    }));
}

#[test]
fn logon_continues_sequence_numbers_across_reconnects() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.reconnect();
    h.send("A", 3, "98=0|108=30");
    assert_eq!(h.out(), ["35=A|34=2|49=ISLD|52=T|56=TW|98=0|108=30"]);
    assert_eq!(h.seqs(), (3, 4));
}

#[test]
fn logon_msg_seq_num_too_low_logs_out() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("0", 2, "");
    h.reconnect();
    h.send("A", 1, "98=0|108=30");
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=MsgSeqNum too low, expecting 3 but received 1"]
    );
    assert!(h.m.wants_close());
}

/// MsgSeqNum(34) = u64::MAX has no successor: recording it as processed overflowed
/// (a panic in a debug build, the expected number wrapped to 0 in a release one).
const MAX_SEQ: u64 = u64::MAX;
const MAX_SEQ_LOGOUT: &str =
    "35=5|34=2|49=ISLD|52=T|56=TW|58=MsgSeqNum is the largest possible, no message can follow it";

#[test]
fn max_msg_seq_num_after_a_sequence_reset_logs_out() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, &format!("36={MAX_SEQ}"));
    assert_eq!(h.seqs(), (2, MAX_SEQ));
    h.send("0", MAX_SEQ, "");
    assert_eq!(h.out(), [MAX_SEQ_LOGOUT]);
    assert_eq!(h.m.state(), State::WaitForLogout);
    assert_eq!(h.seqs(), (3, MAX_SEQ));
}

#[test]
fn reset_logon_with_max_msg_seq_num_logs_out() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("A", MAX_SEQ, "98=0|108=30|141=Y");
    assert_eq!(h.out(), [MAX_SEQ_LOGOUT]);
    assert_eq!(h.seqs(), (3, 2));
}

#[test]
fn logon_with_max_msg_seq_num_is_refused() {
    // The store may already expect u64::MAX from the previous connection.
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("4", 0, &format!("36={MAX_SEQ}"));
    h.reconnect();
    h.send("A", MAX_SEQ, "98=0|108=30");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
    assert!(h.events().iter().any(|e| matches!(
        e,
        SessionEvent::LogonRefused { reason } if reason.contains("largest possible")
    )));
    assert_eq!(h.seqs(), (2, MAX_SEQ));
}

#[test]
fn logon_timeout_closes_a_silent_connection() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.advance(Duration::from_millis(4_999));
    assert!(!h.m.wants_close());
    h.advance(Duration::from_millis(1));
    assert!(h.m.wants_close());
    assert!(h.out().is_empty());
}

#[test]
fn already_logged_on_second_logon_is_an_error() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    h.send("A", 2, "98=0|108=30");
    assert_eq!(
        h.out(),
        ["35=5|34=2|49=ISLD|52=T|56=TW|58=Logon received on an established session"]
    );
    assert_eq!(h.m.state(), State::WaitForLogout);
}

#[test]
fn fixt_logon_carries_default_appl_ver_id() {
    let mut h = Harness::new(FixVersion::Fix50Sp2);
    h.send("A", 1, "98=0|108=30|1137=9");
    assert_eq!(h.out(), ["35=A|34=1|49=ISLD|52=T|56=TW|98=0|108=30|1137=9"]);
    // A FIXT Logon without DefaultApplVerID is refused.
    let mut h = Harness::new(FixVersion::Fix50Sp2);
    h.send("A", 1, "98=0|108=30");
    assert!(h.out().is_empty());
    assert!(h.m.wants_close());
}

// ---- 2: standard header -------------------------------------------------------------

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

// ---- 4, 5, 6: heartbeats and TestRequest ---------------------------------------------

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

// ---- 7: Reject received ----------------------------------------------------------------

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

// ---- 8: ResendRequest served ----------------------------------------------------------

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
    h.m.poll_transmit(&mut h.pending).unwrap();
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
        if h.m.poll_transmit(&mut buf).unwrap() == 0 {
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

// ---- 10, 11: SequenceReset ----------------------------------------------------------

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

// ---- 12, 13: Logout -----------------------------------------------------------------

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

// ---- 16, 20 and the application's side ------------------------------------------------

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

// ---- NextExpectedMsgSeqNum(789) ----------------------------------------------------

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

// ---- found by fuzzing the machine ------------------------------------------------

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

#[test]
fn a_reset_logon_abandons_a_resend_in_progress() {
    let mut h = Harness::new(FixVersion::Fix44);
    h.logon();
    let total = 2 * RESEND_BATCH as u64;
    for i in 0..total {
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, i))
            .unwrap();
    }
    h.out();
    h.send("2", 2, "7=1|16=0");
    // Take only the first batch, then the counterparty starts the session over.
    let mut first = Vec::new();
    h.m.poll_transmit(&mut first).unwrap();
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
    h.logon();
    for i in 0..2 * RESEND_BATCH as u64 {
        h.m.send(h.now, &Message::new("8").with(tags::EXEC_ID, i))
            .unwrap();
    }
    h.out();
    h.send("2", 2, "7=1|16=0");
    let mut first = Vec::new();
    h.m.poll_transmit(&mut first).unwrap();
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
    use crate::dictionary::{Dictionary, Validation};
    let xml = "<fix major='4' minor='4'><header/><trailer/><messages>\
        <message name='NewOrderSingle' msgtype='D' msgcat='app'><field name='ClOrdID' required='Y'/><field name='Symbol' required='N'/></message>\
        </messages><fields><field number='11' name='ClOrdID' type='STRING'/><field number='55' name='Symbol' type='STRING'/></fields></fix>";
    let dict = Arc::new(Dictionary::from_xml(xml).unwrap());
    for (required, rejected) in [(true, true), (false, false)] {
        let config = SessionConfig::default().with_validate_required_fields(required);
        let mut h = Harness::with_config(FixVersion::Fix44, config);
        h.m = std::mem::replace(
            &mut h.m,
            SessionMachine::new(
                SessionId::new("X", "Y"),
                FixVersion::Fix44,
                SessionConfig::default(),
                MemoryStore::new(),
                Arc::new(h.clock.clone()),
                h.now,
            ),
        )
        // This little dictionary has no header fields: leave the unknown-field
        // check out, the switch under test is the required-field one.
        .with_dictionary(
            Arc::clone(&dict),
            None,
            Validation {
                unknown_fields: false,
                ..Validation::default()
            },
        );
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

// ---- a gap answered by SequenceReset: what was queued behind it ----------------------

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
