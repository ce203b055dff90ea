//! Answering a ResendRequest from the store: application messages byte for byte
//! behind a rewritten header, everything else as SequenceReset-GapFill.
//!
//! A resent message differs from the stored one only in its header: PossDupFlag(43)=Y,
//! OrigSendingTime(122) = the original SendingTime, and a new SendingTime(52); the
//! body is copied as stored. Session-level messages (and numbers with nothing
//! stored) are never resent: consecutive ones collapse into one GapFill whose
//! NewSeqNo(36) is the next number resent (or the end of the range plus one).
//! Work is done in batches of stored messages so that a request for millions of
//! messages never holds them all at once.

use std::time::Instant;

use super::violation::ProtocolViolation;
use super::{Handler, RESEND_BATCH, SessionEvent, SessionMachine};
use crate::codec::{Decoder, Encoder, Fields, MAX_TIMESTAMP_LEN, MessageView, msg_type, tags};
use crate::id::FixVersion;
use crate::store::{MessageStore, StoreError};

/// A ResendRequest being served.
#[derive(Debug, Clone)]
pub(super) struct Progress {
    /// The first and last sequence numbers covered.
    pub(super) begin: u64,
    pub(super) end: u64,
    /// The next number to read from the store.
    next: u64,
    /// The first number of a gap not yet filled.
    gap_start: Option<u64>,
    pub(super) resent: u64,
    pub(super) gap_filled: u64,
}

impl Progress {
    pub(super) fn new(begin: u64, end: u64) -> Self {
        Self {
            begin,
            // u64::MAX has no successor for the cursor or for a closing GapFill's
            // NewSeqNo(36) (a store's next number can be u64::MAX when its file says so).
            end: end.min(u64::MAX - 1),
            next: begin,
            gap_start: None,
            resent: 0,
            gap_filled: 0,
        }
    }

    /// As [`Progress::new`], resending only the newest `limit` messages of the
    /// range: everything before them goes out as one GapFill (FIX Antenna's
    /// resendRequestNumberOfMessagesLimit, as its code does it).
    pub(super) fn newest(begin: u64, end: u64, limit: u64) -> Self {
        let mut progress = Self::new(begin, end);
        let first = progress.end.saturating_sub(limit - 1).max(begin);
        if first > begin {
            progress.next = first;
            progress.gap_start = Some(begin);
        }
        progress
    }

    /// Serves up to `batch` stored messages; true when the range is done.
    pub(super) fn step<S: MessageStore>(
        &mut self,
        store: &S,
        writer: &mut Writer<'_>,
        batch: usize,
    ) -> Result<bool, StoreError> {
        let mut cursor = self.next;
        let mut gap_start = self.gap_start;
        let (mut resent, mut gap_filled) = (0, 0);
        let next = store.read_range(self.next, self.end, batch, &mut |seq, frame| {
            if seq > cursor {
                gap_start.get_or_insert(cursor);
            }
            if writer.try_resend(frame, seq, gap_start) {
                if let Some(g) = gap_start.take() {
                    gap_filled += seq - g;
                }
                resent += 1;
            } else {
                gap_start.get_or_insert(seq);
            }
            cursor = seq + 1;
        })?;
        self.resent += resent;
        self.gap_filled += gap_filled;
        self.next = next;
        if next <= self.end {
            self.gap_start = gap_start;
            return Ok(false);
        }
        // Numbers after the last stored message are a gap too.
        if cursor <= self.end {
            gap_start.get_or_insert(cursor);
        }
        if let Some(g) = gap_start {
            writer.gap_fill(g, self.end + 1);
            self.gap_filled += self.end + 1 - g;
        }
        Ok(true)
    }
}

/// Writes resent messages and gap fills into the outbound buffer.
pub(super) struct Writer<'a> {
    pub(super) version: FixVersion,
    pub(super) sender: &'a [u8],
    pub(super) target: &'a [u8],
    /// The new SendingTime(52), already formatted.
    pub(super) sending_time: &'a [u8],
    pub(super) out: &'a mut Vec<u8>,
    pub(super) decoder: &'a mut Decoder,
    /// Asked about each stored application message: `false` gap-fills it.
    pub(super) approve: &'a mut dyn FnMut(&MessageView<'_>) -> bool,
}

/// The most header fields a stored message may carry for the rewrite; more (a
/// very long NoHops group) and it is gap-filled rather than resent.
const MAX_HEADER_FIELDS: usize = 48;

impl Writer<'_> {
    /// SequenceReset-GapFill numbered `seq`, moving the counterparty to `new_seq`.
    fn gap_fill(&mut self, seq: u64, new_seq: u64) {
        write_gap_fill(
            self.out,
            self.version,
            self.sender,
            self.target,
            self.sending_time,
            seq,
            new_seq,
        );
    }

    /// Resends the stored `frame` (MsgSeqNum `seq`) with PossDupFlag, OrigSendingTime
    /// and a new SendingTime, after a GapFill from `gap_start` when one is open.
    /// False, and nothing written, when the frame must be gap-filled itself: a
    /// session-level message, or one that no longer decodes. Decodes the frame once.
    fn try_resend(&mut self, frame: &[u8], seq: u64, gap_start: Option<u64>) -> bool {
        let Writer {
            version,
            sender,
            target,
            sending_time,
            out,
            decoder,
            approve,
        } = self;
        let Ok(view) = decoder.decode(frame) else {
            return false;
        };
        if view.is_admin() || view.header().count() + 3 > MAX_HEADER_FIELDS || !approve(&view) {
            return false;
        }
        if let Some(g) = gap_start {
            write_gap_fill(out, *version, sender, target, sending_time, g, seq);
        }
        let orig = view
            .get(tags::ORIG_SENDING_TIME)
            .or_else(|| view.get(tags::SENDING_TIME))
            .unwrap_or_default();
        let mut header: [(u32, &[u8]); MAX_HEADER_FIELDS] = [(0, &[]); MAX_HEADER_FIELDS];
        let mut n = 0;
        for f in view.header() {
            if !matches!(
                f.tag,
                tags::POSS_DUP_FLAG | tags::SENDING_TIME | tags::ORIG_SENDING_TIME
            ) {
                header[n] = (f.tag, f.value);
                n += 1;
            }
        }
        for field in [
            (tags::POSS_DUP_FLAG, &b"Y"[..]),
            (tags::SENDING_TIME, *sending_time),
            (tags::ORIG_SENDING_TIME, orig),
        ] {
            header[n] = field;
            n += 1;
        }
        // Ascending tag order as QuickFIX writes it; stable, so a NoHops group keeps
        // its internal order. Insertion sort: a dozen fields, no allocation.
        let header = &mut header[..n];
        for i in 1..header.len() {
            let mut j = i;
            while j > 0 && sort_key(header[j - 1].0) > sort_key(header[j].0) {
                header.swap(j - 1, j);
                j -= 1;
            }
        }
        let mut e = Encoder::start(out, version.begin_string(), view.msg_type());
        for &(tag, value) in header.iter() {
            e.bytes(tag, value);
        }
        e.raw(view.body_bytes());
        e.finish();
        true
    }
}

/// Writes a SequenceReset-GapFill numbered `seq`, moving the counterparty to `new_seq`.
fn write_gap_fill(
    out: &mut Vec<u8>,
    version: FixVersion,
    sender: &[u8],
    target: &[u8],
    sending_time: &[u8],
    seq: u64,
    new_seq: u64,
) {
    let mut e = Encoder::start(out, version.begin_string(), msg_type::SEQUENCE_RESET);
    e.uint(tags::MSG_SEQ_NUM, seq)
        .bool(tags::POSS_DUP_FLAG, true)
        .bytes(tags::SENDER_COMP_ID, sender)
        .bytes(tags::SENDING_TIME, sending_time)
        .bytes(tags::TARGET_COMP_ID, target)
        .bytes(tags::ORIG_SENDING_TIME, sending_time)
        .uint(tags::NEW_SEQ_NO, new_seq)
        .bool(tags::GAP_FILL_FLAG, true);
    e.finish();
}

/// The NoHops(627) group sorts as one block at 627.
fn sort_key(tag: u32) -> u32 {
    if (tags::NO_HOPS..=tags::HOP_REF_ID).contains(&tag) {
        tags::NO_HOPS
    } else {
        tag
    }
}

impl<S: MessageStore> SessionMachine<S> {
    pub(super) fn on_resend_request(
        &mut self,
        now: Instant,
        view: &MessageView<'_>,
        seq: u64,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        let (Ok(begin), Ok(end)) = (
            view.get_u64(tags::BEGIN_SEQ_NO),
            view.get_u64(tags::END_SEQ_NO),
        ) else {
            return self.answer(
                now,
                view,
                seq,
                ProtocolViolation::ResendRangeMissing,
                handler,
            );
        };
        let last_sent = self.store.next_sender_seq().saturating_sub(1);
        let infinite = end == 0 || (self.version.uses_999999_as_infinity() && end == 999_999);
        let end = if infinite {
            last_sent
        } else {
            end.min(last_sent)
        };
        let begin = begin.max(1);
        if begin > end {
            return Ok(());
        }
        // Replace any resend in progress: the counterparty's latest request wins.
        let limit = self.config.resend_request_number_of_messages_limit();
        self.serving = Some(if limit > 0 {
            Progress::newest(begin, end, limit)
        } else {
            Progress::new(begin, end)
        });
        self.serve_resend_batch(handler)
    }

    pub(super) fn serve_resend_batch(
        &mut self,
        handler: &mut dyn Handler,
    ) -> Result<(), StoreError> {
        let Some(mut progress) = self.serving.take() else {
            return Ok(());
        };
        let mut time_buf = [0u8; MAX_TIMESTAMP_LEN];
        let now_utc = self.clock.now_utc();
        let time = now_utc.format(self.precision(), &mut time_buf);
        let mut resend = Writer {
            version: self.version,
            sender: self.id.sender().as_bytes(),
            target: self.id.target().as_bytes(),
            sending_time: time,
            out: &mut self.outbox,
            decoder: &mut self.decoder,
            approve: &mut |view| handler.on_resend(view),
        };
        let done = progress.step(&self.store, &mut resend, RESEND_BATCH)?;
        if done {
            self.tell(SessionEvent::ResendServed {
                begin: progress.begin,
                end: progress.end,
                resent: progress.resent,
                gap_filled: progress.gap_filled,
            });
        } else {
            self.serving = Some(progress);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Framer, Message, Status};
    use crate::store::MemoryStore;

    /// Serves `begin..=u64::MAX` in one step and returns the NewSeqNo(36) of the
    /// GapFill written last.
    fn serve_to_max(store: &impl MessageStore, begin: u64) -> Vec<u8> {
        let (mut out, mut decoder) = (Vec::new(), Decoder::new());
        let mut writer = Writer {
            version: FixVersion::Fix44,
            sender: b"ISLD",
            target: b"TW",
            sending_time: b"20261125-20:16:27.000",
            out: &mut out,
            decoder: &mut decoder,
            approve: &mut |_| true,
        };
        let mut progress = Progress::new(begin, u64::MAX);
        assert!(progress.step(store, &mut writer, 10).unwrap(), "not done");
        let mut new_seq = Vec::new();
        let mut buf = &out[..];
        while let Ok(Status::Complete(len)) = Framer::default().parse(buf) {
            let view = decoder.decode(&buf[..len]).unwrap();
            if let Some(n) = view.get(tags::NEW_SEQ_NO) {
                new_seq = n.to_vec();
            }
            buf = &buf[len..];
        }
        new_seq
    }

    #[test]
    fn a_range_ending_at_u64_max_is_served_and_ends() {
        // Before the range stopped at u64::MAX - 1, a message stored at u64::MAX
        // overflowed the cursor (a panic in a debug build), and with nothing stored
        // there the store's continuation number, saturated at u64::MAX, never passed
        // the end: the resend never finished.
        let max = u64::MAX.to_string().into_bytes();
        assert_eq!(serve_to_max(&MemoryStore::new(), 5), max);
        let order = Message::new("D").with(tags::CL_ORD_ID, "1");
        let mut frame = Vec::new();
        order.encode(
            FixVersion::Fix44,
            &[
                (tags::MSG_SEQ_NUM, &max[..]),
                (tags::SENDING_TIME, b"20261125-20:16:27.000"),
            ],
            &mut frame,
        );
        // One message numbered u64::MAX, as a FileStore holds when its header file
        // said the next number was u64::MAX and a message was then sent.
        let mut store = MemoryStore::new();
        store.append(u64::MAX, &frame).unwrap();
        assert_eq!(serve_to_max(&store, 5), max);
    }
}
