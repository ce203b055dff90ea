//! The session-level messages the session writes: the standard header, Logout,
//! Reject with reverse routing.

use std::time::Instant;

use super::state::Phase;
use super::{Handler, SessionEvent, SessionMachine};
use crate::codec::{
    Encoder, Fields, MessageView, RejectReason, TimePrecision, UtcTimestamp, format_u64, msg_type,
    tags,
};
use crate::config::SessionConfig;
use crate::id::{FixVersion, SessionId};
use crate::store::{MessageStore, StoreError};

impl<S: MessageStore> SessionMachine<S> {
    /// Whether messages go to the transport now (otherwise they are only stored).
    pub(super) fn is_transmitting(&self) -> bool {
        matches!(self.phase, Phase::Established | Phase::WaitForLogout { .. })
    }

    pub(super) fn precision(&self) -> TimePrecision {
        self.version.default_time_precision()
    }

    /// LastMsgSeqNumProcessed(369) for a message written now, when the
    /// configuration asks for it: the last inbound number processed (0 before
    /// the first).
    pub(super) fn last_processed(&self) -> Option<u64> {
        last_processed(&self.config, self.store.next_target_seq())
    }

    /// Encodes, stores and queues a session-level message; `body` adds its fields.
    pub(super) fn send_admin(
        &mut self,
        now: Instant,
        mt: &[u8],
        body: impl FnOnce(&mut Encoder<'_>),
    ) -> Result<(), StoreError> {
        let seq = self.store.next_sender_seq();
        let time = self.clock.now_utc();
        self.scratch.clear();
        let last = self.last_processed();
        let mut e = Encoder::start(&mut self.scratch, self.version.begin_string(), mt);
        e.uint(tags::MSG_SEQ_NUM, seq)
            .bytes(tags::SENDER_COMP_ID, self.id.sender().as_bytes())
            .timestamp(
                tags::SENDING_TIME,
                time,
                self.version.default_time_precision(),
            )
            .bytes(tags::TARGET_COMP_ID, self.id.target().as_bytes());
        if let Some(last) = last {
            e.uint(tags::LAST_MSG_SEQ_NUM_PROCESSED, last);
        }
        body(&mut e);
        if mt == msg_type::LOGON {
            // FIXT: the Logon carries the application version (ours is the session's),
            // after the other body fields as QuickFIX orders them.
            if let Some(id) = self.version.appl_ver_id() {
                e.str(tags::DEFAULT_APPL_VER_ID, id);
            }
        }
        e.finish();
        self.store.append(seq, &self.scratch)?;
        self.outbox.extend_from_slice(&self.scratch);
        self.liveness.last_sent = now;
        Ok(())
    }

    pub(super) fn send_logout(
        &mut self,
        now: Instant,
        text: Option<&str>,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        self.send_admin(now, msg_type::LOGOUT, |e| {
            if let Some(t) = text {
                e.str(tags::TEXT, t);
            }
            handler.to_admin(msg_type::LOGOUT, e);
        })?;
        self.tell(SessionEvent::LoggedOut {
            text: text.map(str::to_owned),
            by_counterparty: false,
        });
        Ok(())
    }

    /// Sends Reject(3) for the inbound message `view` (MsgSeqNum `seq`).
    pub(super) fn reject(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        reason: RejectReason,
        ref_tag: Option<u32>,
    ) -> Result<(), StoreError> {
        let mut buf = [0u8; 20];
        let tag = ref_tag.map(|t| format_u64(u64::from(t), &mut buf).to_vec());
        self.reject_raw(now, view, seq, reason, tag.as_deref())
    }

    /// Sends Reject(3) with RefTagID(371) exactly as the tag appeared on the wire
    /// (an invalid tag such as `-1` is echoed as sent).
    pub(super) fn reject_raw(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        reason: RejectReason,
        ref_tag: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let ref_msg_type = view.msg_type().to_vec();
        // FIX.4.0/4.1 have no RefTagID/RefMsgType/SessionRejectReason: the tag goes in the text.
        let modern = !matches!(self.version, FixVersion::Fix40 | FixVersion::Fix41);
        // A version defines only some SessionRejectReason codes (FIX.4.2: 0 to 11);
        // the others are sent as Text alone, as QuickFIX does.
        let mut code_buf = [0u8; 20];
        let code = format_u64(u64::from(reason.code()), &mut code_buf);
        let reason_defined = match &self.dictionary {
            Some(d) => d.allows_value(tags::SESSION_REJECT_REASON, code),
            None => self.version != FixVersion::Fix42 || reason.code() <= 11,
        };
        let text = match (modern, ref_tag) {
            (false, Some(tag)) => format!("{} ({})", reason.text(), String::from_utf8_lossy(tag)),
            _ => reason.text().to_owned(),
        };
        // Route the Reject back the way the message came (OnBehalfOf <-> DeliverTo).
        let mut route: [(u32, &[u8]); REVERSE_ROUTE.len()] = [(0, &[]); REVERSE_ROUTE.len()];
        let mut hops = 0;
        for (to, from) in REVERSE_ROUTE {
            // Only fields the version has: FIX.4.0 has no LocationIDs.
            let known = match &self.dictionary {
                Some(d) => d.has_field(to),
                None => {
                    self.version != FixVersion::Fix40
                        || !matches!(
                            to,
                            tags::ON_BEHALF_OF_LOCATION_ID | tags::DELIVER_TO_LOCATION_ID
                        )
                }
            };
            if !known {
                continue;
            }
            // A value with an SOH inside (a field the decoder flagged) would break
            // the Reject's own framing: the route is left out rather than copied.
            if let Some(v) = view
                .get(from)
                .filter(|v| !v.is_empty() && !v.contains(&b'\x01'))
            {
                route[hops] = (to, v);
                hops += 1;
            }
        }
        self.send_admin(now, msg_type::REJECT, |e| {
            for &(tag, value) in &route[..hops] {
                e.bytes(tag, value);
            }
            e.uint(tags::REF_SEQ_NUM, seq).str(tags::TEXT, &text);
            if modern {
                if let Some(tag) = ref_tag {
                    e.bytes(tags::REF_TAG_ID, tag);
                }
                // A message whose MsgType(35) is empty (accepted as such with
                // ValidateFieldsHaveValues off) has none to refer to.
                if !ref_msg_type.is_empty() {
                    e.bytes(tags::REF_MSG_TYPE, &ref_msg_type);
                }
                if reason_defined {
                    e.uint(tags::SESSION_REJECT_REASON, u64::from(reason.code()));
                }
            }
        })?;
        self.tell(SessionEvent::RejectSent {
            ref_seq_num: seq,
            reason,
            ref_tag: ref_tag.and_then(|t| std::str::from_utf8(t).ok()?.parse().ok()),
        });
        Ok(())
    }

    /// A Reject that ends the session (SendingTime, CompID): Reject, Logout, then
    /// wait for the counterparty's Logout.
    pub(super) fn reject_and_logout(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        reason: RejectReason,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        self.reject(now, view, seq, reason, None)?;
        self.send_logout(now, None, handler)?;
        self.await_logout(now);
        Ok(())
    }
}

/// LastMsgSeqNumProcessed(369) for a message a session with `config` writes
/// when it expects `next_target` next: the last inbound number processed (0
/// before the first), when the configuration asks for it. The reactor's refusals
/// use it too, from the numbers the session publishes.
pub(crate) fn last_processed(config: &SessionConfig, next_target: u64) -> Option<u64> {
    config
        .enable_last_msg_seq_num_processed()
        .then(|| next_target.saturating_sub(1))
}

/// A Logout refusing a Logon, written where no session runs the connection (the
/// reactor, or a session already connected elsewhere) and by a session refusing
/// a Logon: numbered `seq`, the session's next outbound number, which it does not
/// use. Nothing is stored and no number moves: the peer has not proven it owns
/// the session. `last` is LastMsgSeqNumProcessed(369) when the session's
/// configuration asks for it on every message.
pub(crate) fn write_refusal(
    version: FixVersion,
    id: &SessionId,
    (seq, last): (u64, Option<u64>),
    now: UtcTimestamp,
    text: &str,
    out: &mut Vec<u8>,
) {
    let mut e = Encoder::start(out, version.begin_string(), msg_type::LOGOUT);
    e.uint(tags::MSG_SEQ_NUM, seq)
        .bytes(tags::SENDER_COMP_ID, id.sender().as_bytes())
        .timestamp(tags::SENDING_TIME, now, version.default_time_precision())
        .bytes(tags::TARGET_COMP_ID, id.target().as_bytes());
    if let Some(last) = last {
        e.uint(tags::LAST_MSG_SEQ_NUM_PROCESSED, last);
    }
    e.str(tags::TEXT, text);
    e.finish();
}

/// Reply header field <- inbound header field, in the ascending order of the reply's tags.
const REVERSE_ROUTE: [(u32, u32); 6] = [
    (tags::ON_BEHALF_OF_COMP_ID, tags::DELIVER_TO_COMP_ID),
    (tags::ON_BEHALF_OF_SUB_ID, tags::DELIVER_TO_SUB_ID),
    (tags::DELIVER_TO_COMP_ID, tags::ON_BEHALF_OF_COMP_ID),
    (tags::DELIVER_TO_SUB_ID, tags::ON_BEHALF_OF_SUB_ID),
    (tags::ON_BEHALF_OF_LOCATION_ID, tags::DELIVER_TO_LOCATION_ID),
    (tags::DELIVER_TO_LOCATION_ID, tags::ON_BEHALF_OF_LOCATION_ID),
];
