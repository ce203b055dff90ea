//! The outbound bytes of one connection, and what of them may be written.
//!
//! Bytes are appended as the state machine produces them and written as the
//! socket takes them. Under group commit
//! ([`SyncPolicy::Group`](crate::store::SyncPolicy::Group)) a message must not
//! leave before its record is on disk: the bytes produced while the store has
//! appends not yet durable are held, each run marked with the append count that
//! must be durable first, and released in order as the store's durable count
//! passes those marks. Counts are over the connection's life (`produced`,
//! `released`), so that writing and compacting the buffer never disturb them.

use std::collections::VecDeque;

use crate::store::SyncMarks;

/// A connection's outbound buffer with its group-commit ledger.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// `buf[pos..]` is not written yet.
    buf: Vec<u8>,
    pos: usize,
    /// Bytes ever appended, and how many of them may be written.
    produced: u64,
    released: u64,
    /// `(produced, appends)` marks, oldest first: the bytes up to `produced` may go
    /// once the store's durable count reaches `appends`.
    held: VecDeque<(u64, u64)>,
    /// Bytes ever appended that the message log has been given.
    logged: u64,
}

impl Outbox {
    /// Bytes appended and not yet written, released or not.
    pub(super) fn backlog(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Where produced bytes are appended; [`Outbox::account`] must follow.
    pub(super) fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The length of the buffer, to pass to [`Outbox::account`] after appending.
    pub(super) fn mark(&self) -> usize {
        self.buf.len()
    }

    /// Accounts for the bytes appended since `mark`: released at once, or held
    /// when the store has appends not yet durable (or bytes are held already:
    /// order is kept).
    pub(super) fn account(&mut self, mark: usize, marks: SyncMarks) {
        let added = self.buf.len().saturating_sub(mark) as u64;
        if added == 0 {
            return;
        }
        self.produced += added;
        if marks.appended > marks.durable || !self.held.is_empty() {
            self.held.push_back((self.produced, marks.appended));
            self.release(marks);
        } else {
            self.released = self.produced;
        }
    }

    /// True while bytes wait for the store's sync.
    pub(super) fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Bytes produced and not released.
    pub(super) fn held_bytes(&self) -> u64 {
        self.produced - self.released
    }

    /// Releases the held bytes whose records became durable. After a failed sync
    /// nothing more is: what is held is never sent.
    pub(super) fn release(&mut self, marks: SyncMarks) {
        if marks.failed {
            return;
        }
        while let Some(&(end, appends)) = self.held.front() {
            if appends > marks.durable {
                break;
            }
            self.released = end;
            self.held.pop_front();
        }
    }

    /// The released bytes not yet written.
    pub(super) fn releasable(&self) -> &[u8] {
        let written = self.produced - self.backlog() as u64;
        let end = self.pos + (self.released - written) as usize;
        &self.buf[self.pos..end]
    }

    /// `n` bytes of [`Outbox::releasable`] were written.
    pub(super) fn written(&mut self, n: usize) {
        self.pos += n;
    }

    /// Gives back the room of what was written: all of it when everything was,
    /// else once the written part passes `threshold`.
    pub(super) fn compact(&mut self, threshold: usize) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > threshold {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// The bytes appended since the message log last took them (see
    /// [`Outbox::logged`]); they are still in the buffer, since the buffer only
    /// gives back room once the owner has logged what it holds.
    pub(super) fn unlogged(&self) -> &[u8] {
        let n = (self.produced - self.logged) as usize;
        &self.buf[self.buf.len().saturating_sub(n)..]
    }

    /// The message log took [`Outbox::unlogged`].
    pub(super) fn logged(&mut self) {
        self.logged = self.produced;
    }

    /// Drops everything, written or not (the connection is gone or new).
    pub(super) fn discard(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.held.clear();
        self.released = self.produced;
        self.logged = self.produced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(appended: u64, durable: u64) -> SyncMarks {
        SyncMarks {
            appended,
            durable,
            failed: false,
        }
    }

    fn produce(outbox: &mut Outbox, bytes: &[u8], store: SyncMarks) {
        let mark = outbox.mark();
        outbox.buf_mut().extend_from_slice(bytes);
        outbox.account(mark, store);
    }

    #[test]
    fn bytes_of_durable_records_are_released_at_once() {
        let mut o = Outbox::default();
        produce(&mut o, b"abc", marks(1, 1));
        assert_eq!(o.releasable(), b"abc");
        assert!(!o.is_holding());
        o.written(2);
        assert_eq!(o.releasable(), b"c");
        assert_eq!(o.backlog(), 1);
    }

    #[test]
    fn held_bytes_go_in_order_as_the_durable_count_passes_their_marks() {
        let mut o = Outbox::default();
        produce(&mut o, b"one", marks(1, 0));
        produce(&mut o, b"two", marks(2, 0));
        assert_eq!(o.releasable(), b"");
        assert_eq!(o.held_bytes(), 6);
        o.release(marks(2, 1));
        assert_eq!(o.releasable(), b"one");
        produce(&mut o, b"three", marks(3, 1));
        o.release(marks(3, 2));
        assert_eq!(o.releasable(), b"onetwo");
        o.release(marks(3, 3));
        assert_eq!(o.releasable(), b"onetwothree");
        assert!(!o.is_holding());
    }

    #[test]
    fn nothing_held_is_released_after_a_failed_sync() {
        let mut o = Outbox::default();
        produce(&mut o, b"kept", marks(1, 0));
        o.release(SyncMarks {
            appended: 1,
            durable: 1,
            failed: true,
        });
        assert_eq!(o.releasable(), b"");
        assert_eq!(o.held_bytes(), 4);
    }

    #[test]
    fn writing_and_compacting_keep_the_counts_right() {
        let mut o = Outbox::default();
        produce(&mut o, b"0123456789", marks(1, 1));
        o.written(6);
        o.compact(4);
        assert_eq!(o.releasable(), b"6789");
        produce(&mut o, b"ab", marks(2, 1));
        assert_eq!(o.releasable(), b"6789", "the new bytes are held");
        o.written(4);
        o.compact(usize::MAX);
        assert_eq!(o.releasable(), b"");
        assert_eq!(o.backlog(), 2);
        o.release(marks(2, 2));
        assert_eq!(o.releasable(), b"ab");
        o.written(2);
        o.compact(usize::MAX);
        assert_eq!(o.backlog(), 0);
    }

    #[test]
    fn the_log_takes_each_byte_once() {
        let mut o = Outbox::default();
        produce(&mut o, b"one", marks(1, 1));
        produce(&mut o, b"two", marks(2, 2));
        assert_eq!(o.unlogged(), b"onetwo");
        o.logged();
        assert_eq!(o.unlogged(), b"");
        o.written(6);
        o.compact(0);
        produce(&mut o, b"three", marks(3, 2));
        assert_eq!(
            o.unlogged(),
            b"three",
            "held or not, produced bytes are logged"
        );
        o.logged();
        o.discard();
        produce(&mut o, b"four", marks(4, 4));
        assert_eq!(o.unlogged(), b"four");
    }

    #[test]
    fn discarding_forgets_held_bytes_without_releasing_them_later() {
        let mut o = Outbox::default();
        produce(&mut o, b"lost", marks(1, 0));
        o.discard();
        assert_eq!(o.backlog(), 0);
        produce(&mut o, b"new", marks(1, 1));
        assert_eq!(o.releasable(), b"new");
    }
}
