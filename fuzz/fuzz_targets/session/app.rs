//! The application the session target drives the machine with.

use fixengine::session::{Handler, Reply, SessionEvent, State};
use fixengine::{Encoder, Fields, FixVersion, Message, MessageView, msg_type, tags};

/// The field the application adds to our Logon reply and Logouts through
/// `to_admin` (two calls in three): it must appear there and nowhere else.
pub(crate) const ADMIN_TAG: u32 = 9001;
pub(crate) const ADMIN_VALUE: &[u8] = b"x";

/// The ExecID prefix of a stale ExecutionReport, which `on_resend` never lets be
/// resent.
pub(crate) const STALE: &str = "S";

/// The application: echoes orders, business-rejects the rest, refuses a Logon that
/// carries Text(58), adds a field to the Logon reply and Logouts, vetoes the resend
/// of stale ExecutionReports and of every message numbered 3 modulo 7, and records
/// what it is given.
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
    /// `to_admin` calls during the current step: the MsgType and whether the
    /// field was added.
    pub(crate) to_admin: Vec<(Vec<u8>, bool)>,
    pub(crate) to_admin_calls: u64,
    /// `on_resend` answers during the current step: MsgSeqNum, resend allowed.
    pub(crate) resend_asked: Vec<(u64, bool)>,
}

#[derive(Debug)]
pub(crate) enum Told {
    State(State, State),
    Event(SessionEvent),
    /// `on_logon` answered (true: accepted).
    Logon(bool),
    /// `on_admin` was shown this MsgType.
    Admin(Vec<u8>),
}

impl Handler for App {
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        self.logons_asked += 1;
        assert_eq!(logon.msg_type(), b"A");
        let accept = !logon.contains(tags::TEXT);
        self.told.push(Told::Logon(accept));
        if accept {
            Ok(())
        } else {
            Err("the application refuses".into())
        }
    }

    fn on_admin(&mut self, message: &MessageView<'_>) {
        assert!(
            message.is_admin(),
            "application message {:?} shown to on_admin",
            String::from_utf8_lossy(message.msg_type())
        );
        self.told.push(Told::Admin(message.msg_type().to_vec()));
    }

    fn to_admin(&mut self, mt: &[u8], body: &mut Encoder<'_>) {
        assert!(
            mt == msg_type::LOGON || mt == msg_type::LOGOUT,
            "to_admin for MsgType {:?}",
            String::from_utf8_lossy(mt)
        );
        self.to_admin_calls += 1;
        let add = self.to_admin_calls % 3 != 0;
        if add {
            body.bytes(ADMIN_TAG, ADMIN_VALUE);
        }
        self.to_admin.push((mt.to_vec(), add));
    }

    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        assert!(
            !message.is_admin(),
            "session message {:?} offered to on_resend",
            String::from_utf8_lossy(message.msg_type())
        );
        let seq = message
            .msg_seq_num()
            .expect("stored message without a valid MsgSeqNum offered to on_resend")
            .get();
        let stale = message
            .get(tags::EXEC_ID)
            .is_some_and(|id| id.starts_with(STALE.as_bytes()));
        let resend = !stale && seq % 7 != 3;
        self.resend_asked.push((seq, resend));
        resend
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
