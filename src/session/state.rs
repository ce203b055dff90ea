//! Where a session is, and the one way it moves: every state change and every
//! event goes through here on its way to the handler.
//!
//! The public [`State`] is what the application sees; the machine's [`Phase`]
//! carries the data that belongs to one state only (the Logon and Logout
//! deadlines, why the transport is to close), so that leaving a state drops it.

use std::time::Instant;

use super::{Handler, SessionEvent, SessionMachine, reasons};
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

/// The machine's state with its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// No transport attached.
    Disconnected,
    /// The counterparty's Logon is awaited until `deadline`.
    WaitForLogon { deadline: Instant },
    /// Logged on.
    Established,
    /// Our Logout is sent; the counterparty's is awaited until `deadline`.
    WaitForLogout { deadline: Instant },
    /// The session wants its transport closed, for `reason`, and takes no more
    /// input; `was` is the state it was in, which the application still sees.
    Closing { reason: String, was: State },
}

impl Phase {
    /// The state the application sees.
    pub(super) fn state(&self) -> State {
        match self {
            Self::Disconnected => State::Disconnected,
            Self::WaitForLogon { .. } => State::WaitForLogon,
            Self::Established => State::Established,
            Self::WaitForLogout { .. } => State::WaitForLogout,
            Self::Closing { was, .. } => *was,
        }
    }
}

/// What the session has to tell the handler, held until the call that produced it
/// (or the next application message) hands it over.
#[derive(Debug)]
pub(super) enum Notice {
    State { from: State, to: State },
    Event(SessionEvent),
}

impl<S: MessageStore> SessionMachine<S> {
    /// The one way the phase changes; the handler is told when the state it sees
    /// does. Closing lasts until the transport is gone or replaced (Disconnected,
    /// WaitForLogon): a move within it only changes the state it reports.
    pub(super) fn move_to(&mut self, to: Phase) {
        let from = self.phase.state();
        self.phase = match (std::mem::replace(&mut self.phase, Phase::Disconnected), to) {
            (
                Phase::Closing { reason, .. },
                to @ (Phase::Established | Phase::WaitForLogout { .. }),
            ) => Phase::Closing {
                reason,
                was: to.state(),
            },
            (_, to) => to,
        };
        let to = self.phase.state();
        if from != to {
            self.notices.push_back(Notice::State { from, to });
        }
    }

    /// Asks the driver to close the transport, for `reason` (the first one given
    /// stands).
    pub(super) fn close(&mut self, reason: &str) {
        if !self.wants_close() {
            let was = self.phase.state();
            self.move_to(Phase::Closing {
                reason: reason.to_owned(),
                was,
            });
        }
    }

    /// After our Logout: the counterparty's is awaited for LogoutTimeout.
    pub(super) fn await_logout(&mut self, now: Instant) {
        self.move_to(Phase::WaitForLogout {
            deadline: now + self.config.logout_timeout(),
        });
    }

    /// Our Logout, then the wait for the counterparty's.
    pub(super) fn logout_and_wait(
        &mut self,
        now: Instant,
        text: &str,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        self.send_logout(now, Some(text), handler)?;
        self.await_logout(now);
        Ok(())
    }

    pub(super) fn start_logout(
        &mut self,
        now: Instant,
        text: Option<&str>,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        match self.phase {
            Phase::Established => {
                self.send_logout(now, text, handler)?;
                self.await_logout(now);
            }
            Phase::WaitForLogon { .. } => self.close(reasons::LOGOUT_BEFORE_LOGON),
            // Already on the way out, or nobody to tell.
            Phase::WaitForLogout { .. } | Phase::Closing { .. } | Phase::Disconnected => {}
        }
        Ok(())
    }

    pub(super) fn tell(&mut self, event: SessionEvent) {
        self.notices.push_back(Notice::Event(event));
    }

    /// Hands what the session produced so far to the handler, in order.
    pub(super) fn notify(&mut self, handler: &mut (impl Handler + ?Sized)) {
        while let Some(notice) = self.notices.pop_front() {
            match notice {
                Notice::State { from, to } => handler.on_state_change(from, to),
                Notice::Event(event) => handler.on_event(&event),
            }
        }
    }
}
