//! A session's connection: the socket, its read buffer, reading and framing,
//! writing, and closing with the last words flushed.
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::Interest;

use super::{HIGH_WATER, SOCKET, Worker};
use crate::codec::{FrameError, Status, UtcTimestamp};
use crate::engine::Application;
use crate::store::MessageStore;

pub(super) struct Conn {
    pub(super) stream: mio::net::TcpStream,
    pub(super) remote: SocketAddr,
    /// Reading stopped at HIGH_WATER with bytes possibly left in the socket.
    pub(super) read_pending: bool,
}

/// Inbound bytes: `buf[start..end]` is unread. Allocated once, reused.
pub(super) struct InBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Room asked of `spare`: grows while reads fill it.
    chunk: usize,
}

impl Default for InBuf {
    fn default() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            end: 0,
            chunk: FIRST_READ_CHUNK,
        }
    }
}

impl InBuf {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to read into: at least `chunk` bytes, moving unread bytes to the front
    /// first rather than growing.
    fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() - self.end < self.chunk {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < self.chunk {
                self.buf.resize(self.end + self.chunk, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Records a read of `n` bytes into `spare`; a read that filled it asks for
    /// more room next time.
    fn filled(&mut self, n: usize, room: usize) {
        self.end += n;
        if n == room && self.chunk < READ_CHUNK {
            self.chunk *= 2;
        }
    }

    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    fn set(&mut self, bytes: &[u8]) {
        self.clear();
        self.buf.clear();
        self.buf.extend_from_slice(bytes);
        self.end = bytes.len();
    }
}

/// How long a closing connection may take to flush its last bytes (the Logout).
const LINGER: Duration = Duration::from_millis(500);

/// The most bytes read from the socket per call. The buffer starts at
/// [`FIRST_READ_CHUNK`] and doubles up to this only while reads fill it, so an idle
/// or quiet session holds a few KiB, a busy one reads in large gulps.
const READ_CHUNK: usize = 64 * 1024;

/// The first read buffer of a connection.
const FIRST_READ_CHUNK: usize = 4 * 1024;

/// Reads per turn of the loop: a peer that never pauses still lets commands,
/// timers and finalization through between turns.
const READS_PER_TURN: usize = 16;

impl<A: Application, S: MessageStore> Worker<A, S> {
    /// Takes over a connection whose Logon the reactor read.
    pub(super) fn attach(
        &mut self,
        now: Instant,
        stream: mio::net::TcpStream,
        bytes: &[u8],
        remote: SocketAddr,
    ) {
        if self.conn.is_some() {
            // The connection may already be gone, its reset not yet seen: what it
            // still holds is read, and a reset or close found on the way ends it.
            self.read(now);
        }
        let id = &self.shared.id;
        if let Some(conn) = &self.conn {
            // The live connection is left alone; the newcomer, which has proven
            // nothing yet, learns nothing (as QuickFIX: its acceptance suite
            // expects a silent close).
            log::warn!(
                "session {id}: Logon from {remote} refused: already connected from {}",
                conn.remote
            );
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        if !self.shared.accepting.load(Ordering::Acquire) {
            log::warn!("session {id}: Logon from {remote} refused: not accepting");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        let mut stream = stream;
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            SOCKET,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::error!("session {id}: cannot watch the connection from {remote}: {e}");
            return;
        }
        log::info!("session {id}: connection from {remote}");
        self.served = true;
        self.conn = Some(Conn {
            stream,
            remote,
            read_pending: false,
        });
        self.inbuf.set(bytes);
        self.outbox.discard();
        let logon_timeout = self.logon_timeout;
        self.machine
            .handle_connect(now, logon_timeout, &mut deliver!(self));
        self.process(now);
        self.pump();
        // Bytes that arrived before the socket was registered raise no event.
        self.read(now);
    }

    /// Reads until the socket has nothing more (edge-triggered), processing frames as
    /// they complete; after READS_PER_TURN reads it leaves the rest for the next turn.
    pub(super) fn read(&mut self, now: Instant) {
        for _ in 0..READS_PER_TURN {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            if self.outbox.backlog() >= HIGH_WATER {
                // Resumed once the peer has read enough (a WRITABLE event).
                conn.read_pending = true;
                return;
            }
            conn.read_pending = false;
            let spare = self.inbuf.spare();
            let room = spare.len();
            let result = conn.stream.read(spare);
            match result {
                Ok(0) => {
                    self.process(now);
                    self.close("the counterparty closed the connection");
                    return;
                }
                Ok(n) => {
                    self.probe.read_done();
                    self.inbuf.filled(n, room);
                    self.process(now);
                    // Replies go out before the next read: the low-latency path.
                    self.pump();
                    self.probe.discard();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.close(&format!("read error: {e}"));
                    return;
                }
            }
        }
        if let Some(conn) = self.conn.as_mut() {
            conn.read_pending = true;
        }
    }

    /// Feeds every complete frame held to the state machine, logging each as it
    /// goes (before any answer is written to the socket).
    pub(super) fn process(&mut self, now: Instant) {
        // One clock reading stamps the frames of one read.
        let mut received = None;
        while self.conn.is_some() && !self.machine.wants_close() {
            match self.framer.parse(self.inbuf.data()) {
                Ok(Status::Complete(len)) => {
                    self.garbled_run = 0;
                    let frame = &self.inbuf.buf[self.inbuf.start..self.inbuf.start + len];
                    let result = self.machine.handle_frame(now, frame, &mut deliver!(self));
                    let why = self.garbled_why.take();
                    self.log_received(&mut received, len, why.as_deref());
                    self.inbuf.consume(len);
                    if let Err(e) = result {
                        log::error!("session {}: store failure: {e}", self.shared.id);
                        self.logout(now, "store failure: cannot persist session state");
                        return;
                    }
                }
                Ok(Status::Partial(total)) => {
                    let held = self.inbuf.end - self.inbuf.start;
                    let size = total.unwrap_or(held);
                    if size > self.max_message_size {
                        let reason = format!(
                            "inbound message of {size} bytes exceeds MaxMessageSize ({} bytes)",
                            self.max_message_size
                        );
                        log::warn!("session {}: {reason}", self.shared.id);
                        self.logout(now, &reason);
                        self.inbuf.clear();
                    }
                    return;
                }
                Err(garbled) if matches!(garbled.error, FrameError::MessageTooLarge { .. }) => {
                    let reason = format!("inbound message refused: {}", garbled.error);
                    log::warn!("session {}: {reason}", self.shared.id);
                    self.logout(now, &reason);
                    // The rest of it is still arriving: it is dropped as garbled.
                    self.inbuf.clear();
                    return;
                }
                Err(garbled) => {
                    log::warn!(
                        "session {}: {} garbled bytes dropped: {}",
                        self.shared.id,
                        garbled.len,
                        garbled.error
                    );
                    if self.log.is_some() {
                        let why = garbled.error.to_string();
                        self.log_received(&mut received, garbled.len, Some(&why));
                    }
                    self.inbuf.consume(garbled.len);
                    self.garbled_run += garbled.len;
                    if self.garbled_run > self.max_message_size {
                        let reason = format!(
                            "{} bytes of garbled input without a valid message",
                            self.garbled_run
                        );
                        self.close(&reason);
                        return;
                    }
                }
            }
        }
    }

    /// Gives the message log the first `len` unread bytes: a frame, or garbled
    /// bytes dropped for `why`. The frames of one read share its time, read from
    /// the clock once (`received`).
    fn log_received(&mut self, received: &mut Option<UtcTimestamp>, len: usize, why: Option<&str>) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let time = *received.get_or_insert_with(|| self.machine.now_utc());
        let event = log.inbound(time, &self.inbuf.data()[..len], why);
        self.report_log(event);
    }

    /// Writes pending bytes until the socket would block.
    pub(super) fn flush(&mut self) {
        self.release();
        if self.conn.is_none() {
            return;
        }
        // Logged before the socket has them, so that a kill -9 can never leave a
        // message the counterparty received missing from the log: a copy into
        // the log's map, no system call.
        self.log_outbound();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        // Only what is released: under group commit the rest waits for the disk.
        if !self.outbox.releasable().is_empty() {
            self.probe.write_start();
        }
        loop {
            let pending = self.outbox.releasable();
            if pending.is_empty() {
                break;
            }
            match conn.stream.write(pending) {
                Ok(0) => break,
                Ok(n) => self.outbox.written(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    log::info!("session {}: write failed: {e}", self.shared.id);
                    // The read side will see the close; drop what cannot be sent.
                    self.outbox.discard();
                    return;
                }
            }
        }
        self.outbox.compact(HIGH_WATER);
    }

    /// Ends the connection: flushes what is pending (bounded by LINGER), closes the
    /// socket and tells the state machine.
    pub(super) fn close(&mut self, reason: &str) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // The last words (a Logout) are flushed blocking, within LINGER.
        let mark = self.outbox.mark();
        let _ = self
            .machine
            .poll_transmit(self.outbox.buf_mut(), &mut deliver!(self));
        self.outbox.account(mark, self.machine.store().sync_marks());
        if self.outbox.is_holding() && !self.machine.store().sync_marks().failed {
            // Group commit: what is held goes only once it is on disk; waiting for
            // it here costs one sync, once per connection.
            match self.machine.sync_store() {
                Ok(()) => self.release(),
                Err(e) => log::error!(
                    "session {}: store sync failed; {} bytes not yet durable are not sent: {e}",
                    self.shared.id,
                    self.outbox.held_bytes()
                ),
            }
        }
        self.log_outbound();
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let stream = std::net::TcpStream::from(conn.stream);
        let last_words = self.outbox.releasable();
        if !last_words.is_empty() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_write_timeout(Some(LINGER));
            let _ = (&stream).write_all(last_words);
        }
        let _ = stream.shutdown(Shutdown::Both);
        drop(stream);
        self.outbox.discard();
        self.inbuf.clear();
        self.garbled_run = 0;
        self.probe.report(&self.shared.id);
        log::info!(
            "session {}: connection from {} closed: {reason}",
            self.shared.id,
            conn.remote
        );
        if let Err(e) = self.machine.handle_disconnect(&mut deliver!(self)) {
            log::error!(
                "session {}: store failure on disconnect: {e}",
                self.shared.id
            );
        }
        // Published before the waiters are released: a `disconnect` that returns
        // must find the new state.
        self.publish_state();
        self.publish_seq_nums();
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(());
        }
    }
}
