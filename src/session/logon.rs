//! The counterparty's Logon: the checks that refuse it before anything changes,
//! acceptance (NextExpectedMsgSeqNum(789) included), and a Logon that resets a
//! live session.

use std::time::{Duration, Instant};

use super::admin::write_refusal;
use super::state::Phase;
use super::violation::ProtocolViolation;
use super::{Handler, SessionEvent, SessionMachine, reasons, resend};
use crate::codec::{FieldError, Fields, MessageView, msg_type, tags};
use crate::config::LogonRefusalReply;
use crate::store::{MessageStore, StoreError};

impl<S: MessageStore> SessionMachine<S> {
    /// The first message on a new transport: it must be a valid Logon.
    pub(super) fn on_first_message<H: Handler>(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        handler: &mut H,
    ) -> Result<(), StoreError> {
        if view.msg_type() != msg_type::LOGON {
            self.close(reasons::FIRST_NOT_LOGON);
            return Ok(());
        }
        // A Logon for another session, or one that breaks the protocol, is
        // closed without a word, as QuickFIX does (its acceptance suite holds
        // us to it); a decision about this counterparty (its credentials, the
        // application's verdict) is told, per LogonRefusalReply.
        let checked = self
            .check_identity(view)
            .and_then(|()| self.check_logon(view));
        let heart_bt_int = match checked {
            Ok(heart_bt_int) => heart_bt_int,
            Err(reason) => {
                self.refuse_logon(reason, Tell::Nothing);
                return Ok(());
            }
        };
        if let Err(reason) = self.check_credentials(view) {
            self.refuse_logon(reason, Tell::Why);
            return Ok(());
        }
        self.notify(handler);
        if let Err(reason) = handler.on_logon(view) {
            self.refuse_logon(reason, Tell::Why);
            return Ok(());
        }
        handler.on_admin(view);
        // From here the Logon is accepted: state may change.
        let reset_requested = view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true);
        let reset = reset_requested || self.config.reset_seq_num_on_logon();
        if reset {
            self.reset_sequence()?;
        }
        self.liveness.heart_bt_int = Duration::from_secs(u64::from(heart_bt_int));
        self.default_appl_ver_id = view.get(tags::DEFAULT_APPL_VER_ID).map(<[u8]>::to_vec);
        let expected = self.store.next_target_seq();
        let seq = match view.msg_seq_num() {
            Ok(s) => s.get(),
            Err(_) => {
                self.close(reasons::LOGON_WITHOUT_SEQ_NUM);
                return Ok(());
            }
        };
        if seq < expected {
            // Answer with a Logout and no Logon: the counterparty is behind us.
            self.move_to(Phase::Established);
            self.send_logout(now, Some(&reasons::seq_too_low(expected, seq)), handler)?;
            self.close(reasons::LOGON_SEQ_TOO_LOW);
            return Ok(());
        }
        // NextExpectedMsgSeqNum(789), when agreed: the counterparty says which of our
        // messages it expects next, and we say which of its messages we expect.
        let next_out = self.store.next_sender_seq();
        let their_next_expected = if self.config.enable_next_expected_msg_seq_num() {
            view.get_u64(tags::NEXT_EXPECTED_MSG_SEQ_NUM).ok()
        } else {
            None
        };
        if let Some(n) = their_next_expected.filter(|&n| n > next_out || n == 0) {
            // It expects messages we never sent: nothing can repair that.
            self.move_to(Phase::Established);
            self.send_logout(
                now,
                Some(&reasons::next_expected_too_high(n, next_out)),
                handler,
            )?;
            self.close(reasons::LOGON_NEXT_EXPECTED_TOO_HIGH);
            return Ok(());
        }
        // check_logon refused MsgSeqNum u64::MAX, so seq + 1 here and below fits.
        let our_next_expected = if seq == expected { seq + 1 } else { expected };
        self.send_admin(now, msg_type::LOGON, |e| {
            e.uint(tags::ENCRYPT_METHOD, 0)
                .uint(tags::HEART_BT_INT, u64::from(heart_bt_int));
            if reset_requested {
                e.bool(tags::RESET_SEQ_NUM_FLAG, true);
            }
            if their_next_expected.is_some() {
                e.uint(tags::NEXT_EXPECTED_MSG_SEQ_NUM, our_next_expected);
            }
            handler.to_admin(msg_type::LOGON, e);
        })?;
        self.move_to(Phase::Established);
        self.tell(SessionEvent::LoggedOn {
            reset,
            heart_bt_int,
        });
        if seq > expected {
            // The Logon's own number is used, but only once the gap before it is
            // filled: it waits in the queue, already acted on, so that a fill up to
            // just before it moves the session past it (and past anything queued
            // behind it) at once.
            self.recovery.hold(seq, None);
        }
        match their_next_expected {
            // With 789 the counterparty resends from our 789 by itself (and fills its
            // Logon's own number): no ResendRequest. We resend what it missed, the
            // Logon just sent included (as a GapFill).
            Some(n) => {
                if seq > expected {
                    self.recovery.requested(seq);
                } else {
                    self.store.set_next_target_seq(seq + 1)?;
                }
                if n < next_out {
                    self.serving = Some(resend::Progress::new(n, next_out));
                    self.serve_resend_batch(handler)?;
                }
            }
            None if seq > expected => self.request_resend(now, expected, seq)?,
            None => self.store.set_next_target_seq(seq + 1)?,
        }
        Ok(())
    }

    /// The protocol checks that refuse a Logon before anything changes; the
    /// HeartBtInt(108) it asks for when it passes.
    fn check_logon(&self, view: &MessageView<'_>) -> Result<u32, String> {
        if self.config.check_sending_time() && !self.sending_time_ok(view) {
            return Err("SendingTime(52) missing or outside the accepted window".into());
        }
        if view.msg_seq_num().is_ok_and(|s| s.get() == u64::MAX) {
            return Err(reasons::SEQ_NUM_EXHAUSTED.into());
        }
        let heart_bt_int = self.heart_bt_int_of(view)?;
        if self.version.is_fixt() && !view.contains(tags::DEFAULT_APPL_VER_ID) {
            return Err("DefaultApplVerID(1137) missing from a FIXT.1.1 Logon".into());
        }
        match view.get_u64(tags::ENCRYPT_METHOD) {
            Ok(0) | Err(FieldError::Missing { .. }) => {}
            _ => return Err("EncryptMethod(98) must be 0 (none)".into()),
        }
        Ok(heart_bt_int)
    }

    /// Username(553) and Password(554), when the configuration names them.
    fn check_credentials(&self, view: &MessageView<'_>) -> Result<(), String> {
        // One answer for either mismatch, so a refusal does not tell a guesser
        // which user names exist.
        let user_ok = self
            .config
            .username()
            .is_none_or(|user| view.get(tags::USERNAME) == Some(user.as_bytes()));
        let password_ok = self.config.password().is_none_or(|password| {
            view.get(tags::PASSWORD)
                .is_some_and(|given| same_secret(given, password.as_bytes()))
        });
        if user_ok && password_ok {
            Ok(())
        } else {
            Err(reasons::CREDENTIALS.into())
        }
    }

    /// The HeartBtInt(108) a Logon asks for, within the configured bounds.
    fn heart_bt_int_of(&self, view: &MessageView<'_>) -> Result<u32, String> {
        let hbi = view
            .get_u64(tags::HEART_BT_INT)
            .map_err(|e| format!("Logon HeartBtInt: {e}"))?;
        let (min, max) = (
            self.config.min_heart_bt_int(),
            self.config.max_heart_bt_int(),
        );
        match u32::try_from(hbi) {
            Ok(h) if (min..=max).contains(&h) => Ok(h),
            _ => Err(format!("HeartBtInt(108) = {hbi} outside {min}..={max}")),
        }
    }

    /// The Logon names this session: its BeginString and CompIDs. One that does
    /// not is not this session's counterparty.
    fn check_identity(&self, view: &MessageView<'_>) -> Result<(), String> {
        if view.begin_string() != self.version.begin_string().as_bytes() {
            return Err(format!(
                "BeginString {:?} is not this session's {}",
                String::from_utf8_lossy(view.begin_string()),
                self.version.begin_string()
            ));
        }
        if !self.comp_ids_ok(view) {
            return Err("CompIDs do not match the session".into());
        }
        Ok(())
    }

    /// Closes without changing anything; tells the counterparty why when `tell`
    /// and the configuration ask for a Logout.
    fn refuse_logon(&mut self, reason: String, tell: Tell) {
        if tell == Tell::Why && self.config.logon_refusal_reply() == LogonRefusalReply::Logout {
            // Numbered, not stored: the peer has not proven it owns the session.
            write_refusal(
                self.version,
                &self.id,
                (self.store.next_sender_seq(), self.last_processed()),
                self.clock.now_utc(),
                &format!("Logon refused: {reason}"),
                &mut self.outbox,
            );
        }
        self.tell(SessionEvent::LogonRefused {
            reason: reason.clone(),
        });
        self.close(&format!("Logon refused: {reason}"));
    }

    /// Logon(141=Y) on an established session: both sides start again at 1.
    pub(super) fn on_reset_logon(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        // The new session's HeartBtInt is held to the same bounds as any Logon's.
        let Ok(heart_bt_int) = self.heart_bt_int_of(view) else {
            return self.answer(
                now,
                view,
                seq,
                ProtocolViolation::ResetLogonHeartBtInt,
                handler,
            );
        };
        self.reset_sequence()?;
        self.liveness.heart_bt_int = Duration::from_secs(u64::from(heart_bt_int));
        self.liveness.test_request_sent = None;
        self.send_admin(now, msg_type::LOGON, |e| {
            e.uint(tags::ENCRYPT_METHOD, 0)
                .uint(tags::HEART_BT_INT, u64::from(heart_bt_int))
                .bool(tags::RESET_SEQ_NUM_FLAG, true);
            handler.to_admin(msg_type::LOGON, e);
        })?;
        self.store.set_next_target_seq(seq + 1)?;
        self.tell(SessionEvent::LoggedOn {
            reset: true,
            heart_bt_int,
        });
        Ok(())
    }
}

/// Compares a secret in time that depends only on the lengths, not on where the
/// first difference is: a peer timing its refusals learns nothing about the
/// password's bytes.
pub(super) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, &e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(0);
        diff |= usize::from(g ^ e);
    }
    diff == 0
}

/// Whether a refused Logon's counterparty may hear why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tell {
    /// A decision about this counterparty: a Logout says why (LogonRefusalReply).
    Why,
    /// Another session's Logon, or one that breaks the protocol: silence.
    Nothing,
}
