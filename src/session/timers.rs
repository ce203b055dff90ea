//! The session's timers: the Logon and Logout timeouts, heartbeats, TestRequest.

use std::time::Instant;

use super::{SessionMachine, State, reasons};
use crate::codec::{msg_type, tags};
use crate::store::{MessageStore, StoreError};

impl<S: MessageStore> SessionMachine<S> {
    pub(super) fn run_timers(&mut self, now: Instant) -> Result<(), StoreError> {
        if self.wants_close() {
            return Ok(());
        }
        match self.state {
            State::Disconnected => {}
            State::WaitForLogon => {
                if self.logon_deadline.is_some_and(|d| now >= d) {
                    self.close("no Logon received within the logon timeout");
                }
            }
            State::WaitForLogout => {
                if self.logout_deadline.is_some_and(|d| now >= d) {
                    self.close("no Logout reply within the logout timeout");
                }
            }
            State::Established if self.heart_bt_int.is_zero() => {}
            State::Established => {
                let silence = self.heart_bt_int + self.config.reasonable_transmission_time();
                match self.test_request_sent {
                    Some(sent) if now >= sent + silence => {
                        self.close("TestRequest not answered: the link is lost");
                    }
                    Some(_) => {}
                    None if now >= self.last_received + silence => {
                        self.send_admin(now, msg_type::TEST_REQUEST, |e| {
                            e.str(tags::TEST_REQ_ID, reasons::TEST_REQ_ID);
                        })?;
                        self.test_request_sent = Some(now);
                    }
                    None if now >= self.last_sent + self.heart_bt_int => {
                        self.send_admin(now, msg_type::HEARTBEAT, |_| {})?;
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}
