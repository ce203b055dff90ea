//! The checks run after every call: `Driver::settle`.

use std::time::Duration;

use fixengine::session::{SessionEvent, State};
use fixengine::store::MessageStore;
use fixengine::{Fields, Status, msg_type, tags};

use crate::app::Told;
use crate::driver::{Driver, QUEUE_FULL, Step, TOO_LOW, is_admin, known, trace};

impl Driver {
    /// Drains the machine after a call and checks everything. `closing_before` is
    /// `wants_close()` before the call.
    pub(crate) fn settle(&mut self, step: Step, closing_before: bool) {
        self.steps += 1;
        let sender_before = self.wire_next;
        let (target_before, stored_before) = (self.prev_target, self.m.store().len());

        // The bytes.
        let mut out = Vec::new();
        let n = self.m.poll_transmit(&mut out, &mut self.app).expect("poll_transmit");
        assert_eq!(n, out.len());
        if !self.cfg.lazy {
            while self.m.poll_transmit(&mut out, &mut self.app).expect("poll_transmit") > 0 {}
        }
        // What the handler was told.
        let told = std::mem::take(&mut self.app.told);
        if trace() {
            for t in &told {
                eprintln!("  told {t:?}");
            }
        }
        let events: Vec<&SessionEvent> = told
            .iter()
            .filter_map(|t| match t {
                Told::Event(e) => Some(e),
                Told::State(..) => None,
            })
            .collect();
        self.events_total += events.len();
        let logon_reset = events
            .iter()
            .any(|e| matches!(e, SessionEvent::LoggedOn { reset: true, .. }));
        let logged_out = events
            .iter()
            .any(|e| matches!(e, SessionEvent::LoggedOut { .. }));
        let refused = events
            .iter()
            .any(|e| matches!(e, SessionEvent::LogonRefused { .. }));
        let reset_allowed = step.reset_allowed
            || logon_reset
            || (self.cfg.reset_on_logout && logged_out)
            || (self.cfg.reset_on_disconnect && step.disconnect);

        let mut non_dup_frames = 0;
        let mut buf = &out[..];
        while !buf.is_empty() {
            let len = match self.framer.parse(buf) {
                Ok(Status::Complete(len)) => len,
                other => panic!(
                    "the machine wrote bytes that are not a complete frame ({other:?}): {:?}",
                    String::from_utf8_lossy(buf)
                ),
            };
            let frame = &buf[..len];
            buf = &buf[len..];
            let view = self
                .decoder
                .decode(frame)
                .unwrap_or_else(|e| panic!("outbound frame does not decode ({e}): {frame:?}"));
            let shown = String::from_utf8_lossy(frame).replace('\x01', "|");
            if trace() {
                eprintln!("  out {shown}");
            }
            assert_eq!(
                view.begin_string(),
                self.cfg.version.begin_string().as_bytes(),
                "{shown}"
            );
            assert_eq!(view.sender_comp_id(), Some(&b"ISLD"[..]), "{shown}");
            assert_eq!(view.target_comp_id(), Some(&b"TW"[..]), "{shown}");
            assert!(
                view.problem().is_none() || known("empty-field"),
                "outbound field problem {:?}: {shown}",
                view.problem()
            );
            let seq = view
                .msg_seq_num()
                .unwrap_or_else(|e| panic!("outbound MsgSeqNum: {e}: {shown}"))
                .get();
            let mt = view.msg_type();
            if view.is_poss_dup() && !known("reset-during-resend") {
                assert!(
                    seq < self.wire_next,
                    "PossDup frame numbered {seq}, not below the next outbound {}: {shown}",
                    self.wire_next
                );
                assert!(view.contains(tags::ORIG_SENDING_TIME), "{shown}");
                if mt == msg_type::SEQUENCE_RESET {
                    assert_eq!(view.get_bool(tags::GAP_FILL_FLAG), Ok(true), "{shown}");
                    let new_seq = view.get_u64(tags::NEW_SEQ_NO).expect("NewSeqNo");
                    assert!(
                        new_seq > seq && new_seq <= self.wire_next,
                        "GapFill {seq} -> {new_seq} with next outbound {}: {shown}",
                        self.wire_next
                    );
                } else {
                    assert!(!is_admin(mt), "session message resent: {shown}");
                }
            } else if view.is_poss_dup() {
                // A known bug's resend after a reset: not checked.
            } else {
                assert!(
                    !closing_before || known("logout-after-close"),
                    "new message sent after wants_close(): {shown}"
                );
                if seq == 1 && self.wire_next != 1 && reset_allowed {
                    self.wire_next = 1;
                }
                assert_eq!(
                    seq, self.wire_next,
                    "outbound MsgSeqNum {seq}, expected {} (step {}): {shown}",
                    self.wire_next, self.steps
                );
                if view.get_bool(tags::RESET_SEQ_NUM_FLAG) == Ok(true) {
                    assert_eq!(mt, msg_type::LOGON, "{shown}");
                    assert_eq!(seq, 1, "{shown}");
                }
                self.wire_next += 1;
                non_dup_frames += 1;
                // The queue bound ends the session once: not one Logout per frame
                // that arrives past it.
                if mt == msg_type::LOGOUT && view.get(tags::TEXT) == Some(QUEUE_FULL) {
                    self.overflow_logouts += 1;
                    assert!(
                        self.overflow_logouts == 1 || known("logout-per-frame-past-max-queued"),
                        "a second queue-overflow Logout on one connection: {shown}"
                    );
                }
                // A message queued behind a gap was not too low when it arrived; a
                // SequenceReset that moved past it covered it: it is never processed
                // as too low.
                if mt == msg_type::LOGOUT
                    && let Some(received) = view
                        .get_str(tags::TEXT)
                        .ok()
                        .filter(|t| t.starts_with(TOO_LOW))
                        .and_then(|t| t.rsplit(' ').next()?.parse::<u64>().ok())
                {
                    assert_eq!(
                        step.fed_too_low,
                        Some(received),
                        "MsgSeqNum {received} processed as too low, but it was not when it arrived: {shown}"
                    );
                }
            }
        }
        if step.silent > 0 {
            assert_eq!(non_dup_frames, 0, "a send that was not to be transmitted was");
            self.wire_next += step.silent;
        }

        // Sequence numbers.
        let store = self.m.store();
        let (next_sender, next_target) = (store.next_sender_seq(), store.next_target_seq());
        if next_sender == 1 && reset_allowed {
            // A reset policy after the last message sent (Logout, disconnect).
            self.wire_next = next_sender;
        }
        assert_eq!(
            next_sender, self.wire_next,
            "store's next sender {next_sender} vs numbers seen on the wire"
        );
        if next_sender < sender_before || next_target < target_before {
            assert!(
                reset_allowed,
                "sequence numbers fell ({sender_before}->{next_sender}, {target_before}->{next_target}) without a reset"
            );
        }
        self.prev_target = next_target;
        if refused {
            assert!(step.logon_fed);
            assert!(out.is_empty(), "a refused Logon is not answered");
            assert_eq!(next_sender, sender_before, "a refused Logon changed numbers");
            assert_eq!(next_target, target_before, "a refused Logon changed numbers");
            assert_eq!(store.len(), stored_before);
        }

        // Deliveries: once each, increasing.
        if logon_reset {
            self.last_delivered = None;
        }
        for seq in std::mem::take(&mut self.app.delivered) {
            assert!(
                self.last_delivered.is_none_or(|l| seq > l),
                "application message {seq} delivered after {:?}",
                self.last_delivered
            );
            self.last_delivered = Some(seq);
        }
        if reset_allowed {
            self.last_delivered = None;
        }

        // Events and state.
        assert!(
            self.state != State::Disconnected || out.is_empty(),
            "bytes written while disconnected"
        );
        for t in &told {
            if let Told::State(from, to) = t {
                assert_eq!(*from, self.state, "state change chain broken: {told:?}");
                assert_ne!(from, to);
                self.state = *to;
            }
        }
        // The HeartBtInt announced is the one the timers run on.
        if let Some(hbi) = events.iter().rev().find_map(|e| match e {
            SessionEvent::LoggedOn { heart_bt_int, .. } => Some(*heart_bt_int),
            _ => None,
        }) && !known("reset-logon-heart-bt-int")
        {
            assert_eq!(
                self.m.heart_bt_int(),
                Duration::from_secs(u64::from(hbi)),
                "LoggedOn says HeartBtInt {hbi}, the session runs on {:?}",
                self.m.heart_bt_int()
            );
        }
        assert_eq!(self.state, self.m.state(), "{told:?}");
        let reason = self.m.close_reason().map(str::to_owned);
        assert_eq!(self.m.wants_close(), reason.is_some());
        if closing_before && !step.disconnect {
            assert_eq!(reason, self.close_reason, "the close reason changed");
        }
        self.close_reason = reason;
        let active = matches!(
            self.m.state(),
            State::Established | State::WaitForLogon | State::WaitForLogout
        ) && !self.m.wants_close();
        assert_eq!(
            self.m.poll_timeout().is_some(),
            active,
            "poll_timeout {:?} in {:?}, wants_close {}",
            self.m.poll_timeout(),
            self.m.state(),
            self.m.wants_close()
        );

        // Bounded: stored messages and events grow with the work fed in.
        let work = self.sends + 8 * (self.frames_fed + self.steps) + 8;
        assert!(self.m.store().len() <= work, "store holds {}", self.m.store().len());
        assert!(self.events_total <= work, "{} events", self.events_total);
    }
}
