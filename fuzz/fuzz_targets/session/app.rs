//! The application the session target drives the machine with.

use fixengine::session::{Handler, Reply, SessionEvent, State};
use fixengine::{Fields, FixVersion, Message, MessageView, tags};

/// The application: echoes orders, business-rejects the rest, refuses a Logon that
/// carries Text(58), and records what it is given.
#[derive(Default)]
pub(crate) struct App {
    pub(crate) version: Option<FixVersion>,
    /// MsgSeqNums delivered during the current step.
    pub(crate) delivered: Vec<u64>,
    pub(crate) logons_asked: usize,
    /// State changes and events told during the current step, in order.
    pub(crate) told: Vec<Told>,
    /// The last state told.
    pub(crate) state: Option<State>,
}

#[derive(Debug)]
pub(crate) enum Told {
    State(State, State),
    Event(SessionEvent),
}

impl Handler for App {
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        self.logons_asked += 1;
        assert_eq!(logon.msg_type(), b"A");
        if logon.contains(tags::TEXT) {
            Err("the application refuses".into())
        } else {
            Ok(())
        }
    }

    fn on_state_change(&mut self, from: State, to: State) {
        self.told.push(Told::State(from, to));
        self.state = Some(to);
    }

    fn on_event(&mut self, event: &SessionEvent) {
        self.told.push(Told::Event(event.clone()));
    }

    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        // One ordered stream: the Logon's state change comes before any message.
        assert!(
            matches!(self.state, Some(State::Established | State::WaitForLogout)),
            "application message told in state {:?}: {:?}",
            self.state,
            self.told
        );
        assert!(
            !message.is_admin(),
            "session message {:?} given to the application",
            String::from_utf8_lossy(message.msg_type())
        );
        let version = self.version.unwrap();
        assert_eq!(message.begin_string(), version.begin_string().as_bytes());
        let seq = message
            .msg_seq_num()
            .expect("application message without a valid MsgSeqNum delivered")
            .get();
        self.delivered.push(seq);
        if message.msg_type() == b"D" {
            let mut echo = Message::new("D");
            for f in message.body() {
                echo.push(f.tag, f.value);
            }
            // An echo the codec refuses uses no number; the driver checks that.
            let _ = reply.send(&echo);
        } else {
            reply
                .business_reject(message, 3, "Unsupported Message Type")
                .expect("business reject");
        }
    }
}
