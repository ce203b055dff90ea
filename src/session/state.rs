//! Where a session is, and the one way it moves: every state change and every
//! event goes through here on its way to the handler.

use std::time::Instant;

use super::{Handler, SessionEvent, SessionMachine};
use crate::store::{MessageStore, StoreError};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// No transport attached.
    Disconnected,
    /// A transport is attached; the counterparty's Logon has not arrived.
    WaitForLogon,
    /// Logged on: messages flow.
    Established,
    /// We sent Logout and wait for the counterparty's.
    WaitForLogout,
}

/// What the session has to tell the handler, held until the call that produced it
/// (or the next application message) hands it over.
#[derive(Debug)]
pub(super) enum Notice {
    State { from: State, to: State },
    Event(SessionEvent),
}

impl<S: MessageStore> SessionMachine<S> {
    pub(super) fn start_logout(
        &mut self,
        now: Instant,
        text: Option<&str>,
    ) -> Result<(), StoreError> {
        if self.wants_close() {
            // Already on the way out: the transport is closing.
            return Ok(());
        }
        match self.state {
            State::Established => {
                self.send_logout(now, text)?;
                self.logout_deadline = Some(now + self.config.logout_timeout());
                self.set_state(State::WaitForLogout);
            }
            State::WaitForLogon => self.close("logout requested before Logon"),
            State::WaitForLogout | State::Disconnected => {}
        }
        Ok(())
    }

    pub(super) fn await_logout_or_close(&mut self, now: Instant) {
        self.logout_deadline = Some(now + self.config.logout_timeout());
        self.set_state(State::WaitForLogout);
    }

    pub(super) fn close(&mut self, reason: &str) {
        if self.close_reason.is_none() {
            self.close_reason = Some(reason.to_owned());
        }
    }

    pub(super) fn set_state(&mut self, to: State) {
        if self.state != to {
            let from = std::mem::replace(&mut self.state, to);
            self.notices.push_back(Notice::State { from, to });
        }
    }

    pub(super) fn tell(&mut self, event: SessionEvent) {
        self.notices.push_back(Notice::Event(event));
    }

    /// Hands what the session produced so far to the handler, in order.
    pub(super) fn notify(&mut self, handler: &mut impl Handler) {
        while let Some(notice) = self.notices.pop_front() {
            match notice {
                Notice::State { from, to } => handler.on_state_change(from, to),
                Notice::Event(event) => handler.on_event(&event),
            }
        }
    }
}
