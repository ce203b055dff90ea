//! The checks run after every call: `Driver::settle`, `Driver::outbound` for each
//! frame written, `Driver::after_frames` for what the step wrote as a whole.

use std::collections::VecDeque;
use std::time::Duration;

use fixengine::session::{SessionEvent, State};
use fixengine::store::MessageStore;
use fixengine::{Fields, MessageView, Status, msg_type, tags};

use crate::app::{ADMIN_TAG, ADMIN_VALUE, Told};
use crate::driver::{Driver, QUEUE_FULL, Sent, Step, TOO_LOW, is_admin, known, trace};
use crate::resend::Start;

/// Text(58) of the Logout refusing a Logon starts so.
const REFUSED: &str = "Logon refused: ";

/// What `settle` knows about the call, for the checks of each frame.
struct Ctx<'a> {
    step: &'a Step,
    closing_before: bool,
    reset_allowed: bool,
    /// A Logon was refused.
    refused: bool,
    /// The next inbound number expected before the call and after it.
    target_before: u64,
    target_after: u64,
}

/// What the frames written by one call showed, so far.
#[derive(Default)]
struct Written {
    frames: usize,
    non_dup_frames: usize,
    /// A frame numbered 1: the numbers were reset (or nothing was ever sent).
    reset_seen: bool,
    /// LastMsgSeqNumProcessed(369) of the last new message.
    last_processed: Option<u64>,
    /// `to_admin` calls not yet matched with the Logon or Logout they wrote.
    to_admin: VecDeque<(Vec<u8>, bool)>,
    /// The resend a request fed in this step may start.
    start: Option<Start>,
    /// MsgSeqNums of application messages resent.
    resent: Vec<u64>,
    /// GapFills written: the numbers covered, `first..end`.
    gap_fills: Vec<(u64, u64)>,
    /// Our ResendRequests: BeginSeqNo, EndSeqNo.
    requests: Vec<(u64, u64)>,
    /// New messages written after our last Logout.
    after_logout: Vec<String>,
    logout_seen: bool,
    /// The Logout refusing a Logon.
    refusal: bool,
}

impl Driver {
    /// Drains the machine after a call and checks everything. `closing_before` is
    /// `wants_close()` before the call.
    pub(crate) fn settle(&mut self, step: Step, closing_before: bool) {
        self.steps += 1;
        let sender_before = self.wire_next;
        let (target_before, stored_before) = (self.prev_target, self.m.store().len());

        // The bytes.
        let mut out = Vec::new();
        let n = self
            .m
            .poll_transmit(&mut out, &mut self.app)
            .expect("poll_transmit");
        assert_eq!(n, out.len());
        if !self.cfg.lazy {
            while self
                .m
                .poll_transmit(&mut out, &mut self.app)
                .expect("poll_transmit")
                > 0
            {}
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
                _ => None,
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

        let store = self.m.store();
        let target_after = store.next_target_seq();
        if let Some(f) = &step.fed {
            self.in_hi = self.in_hi.max(f.target_bound);
        }
        self.in_hi = self.in_hi.max(target_after);
        let ctx = Ctx {
            step: &step,
            closing_before,
            reset_allowed,
            refused,
            target_before,
            target_after,
        };
        let mut w = Written {
            to_admin: std::mem::take(&mut self.app.to_admin).into(),
            start: step.fed.as_ref().and_then(|f| f.resend),
            ..Written::default()
        };
        let mut decoder = std::mem::take(&mut self.decoder);
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
            let view = decoder
                .decode(frame)
                .unwrap_or_else(|e| panic!("outbound frame does not decode ({e}): {frame:?}"));
            let shown = String::from_utf8_lossy(frame).replace('\x01', "|");
            if trace() {
                eprintln!("  out {shown}");
            }
            w.frames += 1;
            self.outbound(&view, &shown, &ctx, &mut w);
        }
        self.decoder = decoder;
        if step.silent > 0 {
            assert_eq!(
                w.non_dup_frames, 0,
                "a send that was not to be transmitted was"
            );
            self.wire_next += step.silent;
        }
        self.after_frames(&told, &ctx, &w);

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
        let fell = next_sender < sender_before || next_target < target_before;
        if fell {
            assert!(
                reset_allowed,
                "sequence numbers fell ({sender_before}->{next_sender}, {target_before}->{next_target}) without a reset"
            );
            if !w.reset_seen {
                // Reset after the last message written: the store starts over.
                self.sent.clear();
                self.requested = None;
                self.resends.clear();
            }
        }
        self.prev_target = next_target;
        if refused {
            assert!(step.logon_fed);
            assert!(step.fed.is_some(), "a Logon refused that did not decode");
            // Only a verdict on the counterparty is told (credentials are not
            // configured here, so the application's); another session's Logon,
            // a protocol fault or a silent configuration closes without a word.
            let app_refused = told.iter().any(|t| matches!(t, Told::Logon(false)));
            if self.cfg.refusal_silent || !app_refused {
                assert!(out.is_empty(), "a refused Logon is not answered here");
            } else {
                assert!(
                    w.refusal && w.frames == 1,
                    "a refused Logon for this session gets one Logout and nothing else ({} frames)",
                    w.frames
                );
            }
            assert_eq!(
                next_sender, sender_before,
                "a refused Logon changed numbers"
            );
            assert_eq!(
                next_target, target_before,
                "a refused Logon changed numbers"
            );
            assert_eq!(
                store.len(),
                stored_before,
                "a refused Logon stored something"
            );
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
        assert!(
            self.m.store().len() <= work,
            "store holds {}",
            self.m.store().len()
        );
        assert!(self.events_total <= work, "{} events", self.events_total);
    }

    /// The checks of one frame written.
    fn outbound(&mut self, view: &MessageView<'_>, shown: &str, ctx: &Ctx<'_>, w: &mut Written) {
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
        if view.is_poss_dup() {
            assert!(
                view.get(ADMIN_TAG).is_none(),
                "to_admin's field in a resend: {shown}"
            );
            if !known("reset-during-resend") {
                self.resent_frame(view, seq, shown, w);
            }
            return;
        }
        if ctx.refused && mt == msg_type::LOGOUT {
            self.refusal(view, seq, shown, ctx, w);
            return;
        }
        assert!(
            !ctx.closing_before || known("logout-after-close"),
            "new message sent after wants_close(): {shown}"
        );
        if seq == 1 {
            // A new FIX session (or the first message of this one): the store
            // starts over, and with it what it holds and what was asked for.
            if self.wire_next != 1 && ctx.reset_allowed {
                self.wire_next = 1;
            }
            w.reset_seen = true;
            w.last_processed = None;
            self.sent.clear();
            self.requested = None;
            self.resends.clear();
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
        w.non_dup_frames += 1;
        self.last_processed(view, shown, ctx, w);

        // to_admin's field: in the Logon reply and the Logouts it was asked for,
        // nowhere else.
        let marked = view.get(ADMIN_TAG);
        if mt == msg_type::LOGON || mt == msg_type::LOGOUT {
            let Some((asked, added)) = w.to_admin.pop_front() else {
                panic!(
                    "{} written without to_admin: {shown}",
                    String::from_utf8_lossy(mt)
                );
            };
            assert_eq!(asked, mt, "to_admin was told another MsgType: {shown}");
            assert_eq!(
                marked,
                added.then_some(ADMIN_VALUE),
                "to_admin's field {}: {shown}",
                if added { "lost" } else { "not asked for" }
            );
        } else {
            assert!(
                marked.is_none(),
                "to_admin's field in a {:?}: {shown}",
                String::from_utf8_lossy(mt)
            );
        }
        if mt == msg_type::LOGOUT {
            w.logout_seen = true;
            w.after_logout.clear();
        } else if w.logout_seen {
            w.after_logout.push(shown.to_owned());
        }
        if mt == msg_type::RESEND_REQUEST {
            self.request(view, shown, ctx, w);
        }
        if !is_admin(mt) {
            self.sent.insert(
                seq,
                Sent {
                    msg_type: mt.to_vec(),
                    last: view
                        .get(tags::LAST_MSG_SEQ_NUM_PROCESSED)
                        .map(<[u8]>::to_vec),
                    body: view.body_bytes().to_vec(),
                },
            );
        }

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
                ctx.step.fed_too_low,
                Some(received),
                "MsgSeqNum {received} processed as too low, but it was not when it arrived: {shown}"
            );
        }
    }

    /// A PossDup frame: a GapFill or an application message resent as stored,
    /// numbered below the next outbound number, continuing the resend in progress
    /// or starting the one asked for in this step.
    fn resent_frame(&mut self, view: &MessageView<'_>, seq: u64, shown: &str, w: &mut Written) {
        let mt = view.msg_type();
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
            self.resends.frame(seq, new_seq, true, &mut w.start, shown);
            w.gap_fills.push((seq, new_seq));
            return;
        }
        assert!(!is_admin(mt), "session message resent: {shown}");
        self.resends.frame(seq, seq + 1, false, &mut w.start, shown);
        w.resent.push(seq);
        let Some(sent) = self.sent.get(&seq) else {
            panic!("message {seq} resent, but none was stored under that number: {shown}");
        };
        assert_eq!(
            sent.msg_type, mt,
            "message {seq} resent as another MsgType: {shown}"
        );
        assert_eq!(
            sent.last.as_deref(),
            view.get(tags::LAST_MSG_SEQ_NUM_PROCESSED),
            "message {seq} resent with another LastMsgSeqNumProcessed(369): {shown}"
        );
        assert!(
            sent.body == view.body_bytes(),
            "message {seq} resent with another body: {shown}"
        );
    }

    /// The Logout refusing a Logon that names this session: numbered with the
    /// next outbound number, which it does not use, and not stored.
    fn refusal(
        &mut self,
        view: &MessageView<'_>,
        seq: u64,
        shown: &str,
        ctx: &Ctx<'_>,
        w: &mut Written,
    ) {
        let fed = ctx
            .step
            .fed
            .as_ref()
            .expect("a Logon refused that did not decode");
        assert!(
            !self.cfg.refusal_silent,
            "LogonRefusalReply = silent, yet: {shown}"
        );
        assert!(
            fed.identity_ok,
            "a Logon not naming this session is told why: {shown}"
        );
        assert_eq!(seq, self.wire_next, "the refusal's MsgSeqNum: {shown}");
        assert!(
            view.get_str(tags::TEXT)
                .is_ok_and(|t| t.starts_with(REFUSED)),
            "{shown}"
        );
        assert!(
            view.get(ADMIN_TAG).is_none(),
            "to_admin's field in a refusal: {shown}"
        );
        assert!(!w.refusal, "two refusals: {shown}");
        let last = view.get(tags::LAST_MSG_SEQ_NUM_PROCESSED);
        if self.cfg.last_processed {
            assert!(
                last.is_some(),
                "EnableLastMsgSeqNumProcessed, but the Logout refusing a Logon has no 369: {shown}"
            );
        } else {
            assert!(last.is_none(), "{shown}");
        }
        w.refusal = true;
    }

    /// LastMsgSeqNumProcessed(369) of a new message: there iff enabled; the last
    /// inbound number processed: exactly the one before the call when no frame was
    /// fed; else no lower (until a reset) and no higher than any expected since.
    fn last_processed(
        &mut self,
        view: &MessageView<'_>,
        shown: &str,
        ctx: &Ctx<'_>,
        w: &mut Written,
    ) {
        let value = view.get(tags::LAST_MSG_SEQ_NUM_PROCESSED);
        if !self.cfg.last_processed {
            assert!(
                value.is_none(),
                "369 without EnableLastMsgSeqNumProcessed: {shown}"
            );
            return;
        }
        let Ok(v) = view.get_u64(tags::LAST_MSG_SEQ_NUM_PROCESSED) else {
            panic!("EnableLastMsgSeqNumProcessed, but no valid 369: {shown}");
        };
        if !ctx.step.frame {
            assert_eq!(
                v,
                ctx.target_before - 1,
                "369 = {v}, with nothing processed since {}: {shown}",
                ctx.target_before - 1
            );
        } else {
            assert!(
                v < self.in_hi,
                "369 = {v}, no inbound number up to it was expected: {shown}"
            );
            if !w.reset_seen {
                assert!(
                    v + 1 >= ctx.target_before,
                    "369 = {v}, below the {} processed before the call: {shown}",
                    ctx.target_before - 1
                );
            }
            assert!(
                w.last_processed.is_none_or(|l| v >= l),
                "369 = {v} after {:?} in the same call: {shown}",
                w.last_processed
            );
            w.last_processed = Some(v);
        }
    }

    /// Our ResendRequest: from the next number expected; the first for a gap when
    /// none is outstanding, to the end (0, or 999999 before FIX.4.2) or, with
    /// ResendRequestChunkSize N, to BeginSeqNo + N - 1 unless that reaches the gap's
    /// end; the next chunk only once the previous is filled.
    fn request(&mut self, view: &MessageView<'_>, shown: &str, ctx: &Ctx<'_>, w: &mut Written) {
        let begin = view.get_u64(tags::BEGIN_SEQ_NO).expect("BeginSeqNo");
        let end = view.get_u64(tags::END_SEQ_NO).expect("EndSeqNo");
        w.requests.push((begin, end));
        let infinity = if self.cfg.version.uses_999999_as_infinity() {
            999_999
        } else {
            0
        };
        assert_eq!(
            begin, ctx.target_after,
            "ResendRequest from {begin}, the next number expected is {}: {shown}",
            ctx.target_after
        );
        let gap = match self.requested {
            Some((to, _)) if ctx.target_after <= to => {
                panic!("ResendRequest while the one up to {to} is outstanding: {shown}")
            }
            // The next chunk of the gap.
            Some((to, gap)) if gap > to => gap,
            // A new gap, up to just before the frame that showed it.
            _ => {
                let seq = ctx.step.fed.as_ref().and_then(|f| f.seq);
                let seq = seq
                    .unwrap_or_else(|| panic!("ResendRequest without a frame too high: {shown}"));
                seq - 1
            }
        };
        assert!(
            begin <= gap,
            "ResendRequest from {begin}, past the gap's end {gap}: {shown}"
        );
        let chunk_end = (self.cfg.chunk > 0)
            .then(|| begin + self.cfg.chunk - 1)
            .filter(|&e| e < gap);
        assert_eq!(
            end,
            chunk_end.unwrap_or(infinity),
            "ResendRequest for a gap {begin}..={gap} in chunks of {}: {shown}",
            self.cfg.chunk
        );
        self.requested = Some((chunk_end.unwrap_or(gap), gap));
    }

    /// The checks of what one call wrote as a whole, against what the handler was
    /// told.
    fn after_frames(&mut self, told: &[Told], ctx: &Ctx<'_>, w: &Written) {
        if let Some((mt, _)) = w.to_admin.front() {
            panic!(
                "to_admin called for a {:?} that was not written",
                String::from_utf8_lossy(mt)
            );
        }
        // on_resend: what it allowed was resent, what it vetoed went out in a GapFill.
        for (seq, allowed) in std::mem::take(&mut self.app.resend_asked) {
            if allowed {
                assert!(
                    w.resent.contains(&seq),
                    "{seq} allowed by on_resend, not resent"
                );
            } else {
                assert!(
                    !w.resent.contains(&seq),
                    "{seq} vetoed by on_resend, resent"
                );
                assert!(
                    w.gap_fills.iter().any(|&(a, b)| (a..b).contains(&seq)),
                    "{seq} vetoed by on_resend, in no GapFill: {:?}",
                    w.gap_fills
                );
            }
        }
        // The events that account for the frames.
        let mut requests = w.requests.iter();
        for t in told {
            match t {
                Told::Event(SessionEvent::ResendRequestSent { begin, end }) => {
                    assert_eq!(requests.next(), Some(&(*begin, *end)), "{told:?}");
                }
                Told::Event(SessionEvent::ResendServed {
                    begin,
                    end,
                    resent,
                    gap_filled,
                }) if !known("reset-during-resend") => {
                    self.resends
                        .served(*begin, *end, *resent, *gap_filled, self.cfg.limit);
                }
                _ => {}
            }
        }
        assert_eq!(requests.next(), None, "a ResendRequest written, not told");
        // on_admin: the session-level message behind each event was shown first;
        // a refused Logon never, an accepted one at once.
        let mut shown: Vec<&[u8]> = Vec::new();
        fn take(shown: &mut Vec<&[u8]>, mt: &[u8], what: &SessionEvent, told: &[Told]) {
            let i = shown.iter().rposition(|m| *m == mt);
            let i = i.unwrap_or_else(|| panic!("{what:?} without on_admin({mt:?}): {told:?}"));
            shown.remove(i);
        }
        for (i, t) in told.iter().enumerate() {
            let mt = match t {
                Told::Admin(mt) => {
                    shown.push(mt);
                    continue;
                }
                Told::Logon(true) => {
                    assert!(
                        matches!(told.get(i + 1), Some(Told::Admin(mt)) if mt == msg_type::LOGON),
                        "a Logon accepted, not shown to on_admin: {told:?}"
                    );
                    continue;
                }
                Told::Event(SessionEvent::LoggedOn { .. }) => msg_type::LOGON,
                Told::Event(SessionEvent::SequenceReset { .. }) => msg_type::SEQUENCE_RESET,
                Told::Event(SessionEvent::RejectReceived { .. }) => msg_type::REJECT,
                Told::Event(SessionEvent::LoggedOut {
                    by_counterparty: true,
                    ..
                }) => msg_type::LOGOUT,
                _ => continue,
            };
            let Told::Event(e) = t else { unreachable!() };
            take(&mut shown, mt, e, told);
        }
        if ctx.refused {
            assert!(
                !told
                    .iter()
                    .any(|t| matches!(t, Told::Admin(mt) if mt == msg_type::LOGON)),
                "a refused Logon shown to on_admin: {told:?}"
            );
        }
        // Our answer to the counterparty's Logout ends the exchange: nothing new
        // follows it.
        let answered = told.iter().any(|t| {
            matches!(
                t,
                Told::Event(SessionEvent::LoggedOut {
                    by_counterparty: true,
                    ..
                })
            )
        });
        assert!(
            !answered || w.after_logout.is_empty(),
            "written after the Logout answering the counterparty's: {:?}",
            w.after_logout
        );
        // A chunk filled brings the next one at once while the session goes on.
        if let Some((to, gap)) = self.requested
            && ctx.target_after > to
        {
            assert!(
                !(gap > to
                    && ctx.target_after <= gap
                    && ctx.step.frame
                    && w.requests.is_empty()
                    && !self.m.wants_close()),
                "the chunk up to {to} is filled (next expected {}), the gap goes on to {gap}: no ResendRequest",
                ctx.target_after
            );
            self.requested = None;
        }
    }
}
