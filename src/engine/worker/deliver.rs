//! Where the state machine's output goes: the application, with the worker's
//! part on the way (the log, the state published to the session's handles).
use std::sync::atomic::Ordering;

use crate::codec::{Encoder, MessageView};
use crate::engine::{Application, SessionState, Shared};
use crate::session::{Handler, Reply, SessionEvent, State};

/// What the state machine tells, handed to the application in the order the
/// machine produced it, with the worker's part on the way: the log, and the state
/// published to the session's handles.
pub(super) struct Deliver<'a, A> {
    pub(super) app: &'a mut A,
    pub(super) shared: &'a Shared,
    /// The state last published.
    pub(super) published: &'a mut SessionState,
    /// A connection is attached.
    pub(super) connected: bool,
    /// Why the frame being handled was dropped as garbled, for the message log.
    pub(super) garbled: &'a mut Option<String>,
}

impl<A: Application> Deliver<'_, A> {
    /// Publishes the state the session's handles see for `machine`'s state, and
    /// tells the application when it changed.
    pub(super) fn publish(&mut self, machine: State) {
        let shared = self.shared;
        let state = if shared.finalizing.load(Ordering::Acquire) && !self.connected {
            SessionState::Terminated
        } else {
            match machine {
                State::Established => SessionState::Established,
                State::WaitForLogout => SessionState::WaitForLogout,
                _ if self.connected || shared.accepting.load(Ordering::Acquire) => {
                    SessionState::WaitForLogon
                }
                _ => SessionState::Disconnected,
            }
        };
        shared.state.store(state.to_u8(), Ordering::Release);
        if state != *self.published {
            let from = std::mem::replace(self.published, state);
            self.app.on_state_change(from, state);
        }
    }
}

impl<A: Application> Handler for Deliver<'_, A> {
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        self.app.on_logon(logon)
    }

    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        self.app.on_message(message, reply);
    }

    fn on_admin(&mut self, message: &MessageView<'_>) {
        self.app.on_admin(message);
    }

    fn to_admin(&mut self, msg_type: &[u8], body: &mut Encoder<'_>) {
        self.app.to_admin(msg_type, body);
    }

    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        self.app.on_resend(message)
    }

    fn on_state_change(&mut self, _from: State, to: State) {
        self.publish(to);
    }

    fn on_event(&mut self, event: &SessionEvent) {
        let id = &self.shared.id;
        match event {
            SessionEvent::LoggedOn {
                reset,
                heart_bt_int,
            } => log::info!(
                "session {id}: logged on (HeartBtInt {heart_bt_int}s{})",
                if *reset {
                    ", sequence numbers reset"
                } else {
                    ""
                }
            ),
            SessionEvent::LoggedOut {
                text,
                by_counterparty,
            } => log::info!(
                "session {id}: Logout {}{}",
                if *by_counterparty { "received" } else { "sent" },
                text.as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            ),
            SessionEvent::LogonRefused { reason } => {
                log::warn!("session {id}: Logon refused: {reason}");
            }
            SessionEvent::Garbled { error } => {
                *self.garbled = Some(error.clone());
                log::debug!("session {id}: {event:?}");
            }
            other => log::debug!("session {id}: {other:?}"),
        }
        self.app.on_event(event);
    }
}
