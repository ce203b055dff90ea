//! The session's timers: the Logon and Logout timeouts, heartbeats, TestRequest.
//!
//! Each timer's deadline is computed in one place ([`SessionMachine::deadline`])
//! from what it is measured from: the phase's own deadline, or the last message
//! sent or received. `poll_timeout` is the earliest of them, and `handle_timeout`
//! fires those due, in [`Timer::ALL`]'s order.

use std::time::{Duration, Instant};

use super::state::Phase;
use super::{SessionMachine, reasons};
use crate::codec::{msg_type, tags};
use crate::store::{MessageStore, StoreError};

/// The session's timers, in the order they are run when several are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// The counterparty's Logon did not arrive in time: close.
    Logon,
    /// The counterparty's Logout did not arrive in time: close.
    Logout,
    /// Our TestRequest was not answered: the link is lost, close.
    LinkLost,
    /// Nothing received for HeartBtInt plus a reasonable transmission time: send a
    /// TestRequest.
    TestRequest,
    /// Nothing sent for HeartBtInt: send a Heartbeat.
    Heartbeat,
}

impl Timer {
    pub(super) const ALL: [Self; 5] = [
        Self::Logon,
        Self::Logout,
        Self::LinkLost,
        Self::TestRequest,
        Self::Heartbeat,
    ];
}

/// What the heartbeat timers are measured from.
#[derive(Debug, Clone)]
pub(super) struct Liveness {
    /// The HeartBtInt(108) in force (the counterparty's, once logged on).
    pub(super) heart_bt_int: Duration,
    pub(super) last_sent: Instant,
    pub(super) last_received: Instant,
    /// Our TestRequest is outstanding since this time.
    pub(super) test_request_sent: Option<Instant>,
}

impl Liveness {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            heart_bt_int: Duration::from_secs(30),
            last_sent: now,
            last_received: now,
            test_request_sent: None,
        }
    }

    /// A new transport: silence is measured from now.
    pub(super) fn restart(&mut self, now: Instant) {
        self.last_sent = now;
        self.last_received = now;
        self.test_request_sent = None;
    }
}

impl<S: MessageStore> SessionMachine<S> {
    /// When `timer` fires, or `None` while it is not running.
    pub(super) fn deadline(&self, timer: Timer) -> Option<Instant> {
        let live = &self.liveness;
        // HeartBtInt(108) = 0 (allowed only when MinHeartBtInt is 0): no heartbeats.
        let heartbeats = self.phase == Phase::Established && !live.heart_bt_int.is_zero();
        let silence = live.heart_bt_int + self.config.reasonable_transmission_time();
        match (timer, &self.phase) {
            (Timer::Logon, Phase::WaitForLogon { deadline })
            | (Timer::Logout, Phase::WaitForLogout { deadline }) => Some(*deadline),
            (Timer::LinkLost, _) if heartbeats => live.test_request_sent.map(|sent| sent + silence),
            // While a TestRequest is outstanding, only its answer matters.
            (Timer::TestRequest, _) if heartbeats && live.test_request_sent.is_none() => {
                Some(live.last_received + silence)
            }
            (Timer::Heartbeat, _) if heartbeats && live.test_request_sent.is_none() => {
                Some(live.last_sent + live.heart_bt_int)
            }
            _ => None,
        }
    }

    /// Fires the timers due at `now`, each seeing what the ones before did.
    pub(super) fn run_timers(&mut self, now: Instant) -> Result<(), StoreError> {
        for timer in Timer::ALL {
            if self.deadline(timer).is_some_and(|at| now >= at) {
                self.fire(now, timer)?;
            }
        }
        Ok(())
    }

    fn fire(&mut self, now: Instant, timer: Timer) -> Result<(), StoreError> {
        match timer {
            Timer::Logon => self.close(reasons::NO_LOGON),
            Timer::Logout => self.close(reasons::NO_LOGOUT_REPLY),
            Timer::LinkLost => self.close(reasons::LINK_LOST),
            Timer::TestRequest => {
                self.send_admin(now, msg_type::TEST_REQUEST, |e| {
                    e.str(tags::TEST_REQ_ID, reasons::TEST_REQ_ID);
                })?;
                self.liveness.test_request_sent = Some(now);
            }
            Timer::Heartbeat => self.send_admin(now, msg_type::HEARTBEAT, |_| {})?,
        }
        Ok(())
    }
}
