//! The session state machine driven by scripted frames on a fake clock.
//!
//! Test names follow the acceptor checklist of the FIX session-layer test cases
//! (and the QuickFIX acceptance scripts they mirror: `t2b_` is `2b_MsgSeqNumTooHigh`).
//! Outbound messages are shown as `35=..|34=..|...` without 8, 9 and 10 (checked
//! separately), with SendingTime and OrigSendingTime shown as `T`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::logon::same_secret;
use super::*;
use crate::clock::ManualClock;
use crate::codec::{
    Decoder, Encoder, FieldError, Fields, Framer, Message, MessageView, Status, TimePrecision,
    UtcTimestamp, tags,
};
use crate::config::SessionConfig;
use crate::id::{FixVersion, SessionId};
use crate::store::{MemoryStore, MessageStore};

const T0: &[u8] = b"20261125-20:16:27.000";

/// The application side: records what it is told, echoes orders, rejects the rest.
#[derive(Debug, Default)]
struct App {
    received: Vec<String>,
    refuse_logon: Option<String>,
    /// Everything the session told, in order, since the test last looked.
    told: Vec<Told>,
    /// The MsgTypes of the session-level messages shown to `on_admin`, in order.
    admin: Vec<String>,
    /// A field `to_admin` adds to the Logon reply and to Logouts.
    admin_field: Option<(u32, &'static str)>,
    /// `on_resend` vetoes stored messages carrying this ExecID(17).
    veto_exec_id: Option<&'static str>,
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

    fn on_admin(&mut self, message: &MessageView<'_>) {
        self.admin
            .push(String::from_utf8_lossy(message.msg_type()).into_owned());
    }

    fn to_admin(&mut self, _msg_type: &[u8], body: &mut Encoder<'_>) {
        if let Some((tag, value)) = self.admin_field {
            body.str(tag, value);
        }
    }

    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        self.veto_exec_id
            .is_none_or(|id| message.get(tags::EXEC_ID) != Some(id.as_bytes()))
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
            SessionId::from_static("ISLD", "TW"),
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
        self.m
            .poll_transmit(&mut self.pending, &mut self.app)
            .unwrap();
        // Resends come in batches: keep draining.
        while self
            .m
            .poll_transmit(&mut self.pending, &mut self.app)
            .unwrap()
            > 0
        {}
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

    /// The Logon was refused with a Logout numbered `seq` saying `why`, and the
    /// connection is to close; nothing was stored.
    fn assert_refused(&mut self, seq: u64, why: &str) {
        let stored = self.m.store().len();
        assert_eq!(
            self.out(),
            [format!(
                "35=5|34={seq}|49=ISLD|52=T|56=TW|58=Logon refused: {why}"
            )]
        );
        assert!(self.m.wants_close());
        assert_eq!(self.m.store().len(), stored);
    }

    /// A Logon refused without a word (another session's, or one breaking the
    /// protocol, as QuickFIX closes those), nothing stored.
    fn assert_closed_silently(&mut self, what: &str) {
        let stored = self.m.store().len();
        assert!(self.out().is_empty(), "{what}: nothing is sent");
        assert!(self.m.wants_close(), "{what}: the transport closes");
        assert_eq!(self.m.store().len(), stored, "{what}");
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

mod application;
mod fuzzed;
mod gap;
mod header;
mod heartbeat;
mod logon;
mod logout;
mod next_expected;
mod options;
mod resend;
mod sequence_reset;
