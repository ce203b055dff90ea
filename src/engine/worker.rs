//! A session's worker thread: owns the state machine, the store, the application
//! and, while connected, the socket, in its own mio `Poll` (socket + Waker).
//!
//! Writes are non-blocking through an outbound buffer, so a counterparty that
//! reads slowly delays only its own session. When that buffer passes
//! [`HIGH_WATER`], the worker stops reading the socket and taking commands until it
//! drains: the pressure goes back to the peer (TCP) and to the application
//! ([`Session::put`](super::Session::put) reports a full queue), never into
//! unbounded memory.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{Ordering, fence};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::{Events, Interest, Poll, Token, Waker};

use super::probe::Probe;
use super::{Application, Control, EngineError, Registration, SessionState, Shared, now};
use crate::clock::Clock;
use crate::codec::{FrameError, Framer, Message, MessageView, Status};
use crate::config::{IdleStrategy, SessionConfig};
use crate::dictionary::{Dictionary, Validation};
use crate::session::{Handler, Reply, SendError, SessionEvent, SessionMachine, State};
use crate::store::{MessageStore, StoreError};

const WAKER: Token = Token(0);
const SOCKET: Token = Token(1);

/// Outbound bytes pending beyond which the worker stops producing more.
pub(crate) const HIGH_WATER: usize = 4 << 20;

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

/// Puts taken per turn of the loop, for the same reason in the other direction.
const PUTS_PER_TURN: usize = 1024;

/// Everything a worker starts with, but its store.
pub(crate) struct Setup<A> {
    pub shared: Arc<Shared>,
    pub puts: Receiver<Message>,
    pub control: Receiver<Control>,
    pub application: A,
    pub config: SessionConfig,
    pub clock: Arc<dyn Clock>,
    pub dictionary: Option<(Arc<Dictionary>, Option<Arc<Dictionary>>)>,
    pub validation: Validation,
    pub logon_timeout: Duration,
    pub max_message_size: usize,
    /// The session's place in the engine's registry, released when the thread
    /// ends, however it ends.
    pub registration: Registration,
}

/// The store a worker runs on: opened already, or to open on the worker's thread.
pub(crate) enum StoreSource<S> {
    Ready(S),
    Open(Box<dyn FnOnce() -> Result<S, StoreError> + Send>),
}

/// A started worker.
pub(crate) struct Spawned {
    pub thread: JoinHandle<()>,
    pub waker: Arc<Waker>,
}

/// Starts the worker thread of a session, on `store`.
pub(crate) fn spawn<A: Application, S: MessageStore + Send + 'static>(
    setup: Setup<A>,
    store: StoreSource<S>,
) -> Result<Spawned, EngineError> {
    let id = setup.shared.id.clone();
    let start_error = |source| EngineError::Start {
        what: format!("the thread of session {id}"),
        source,
    };
    let poll = Poll::new().map_err(start_error)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(start_error)?);
    let sync_waker = Arc::clone(&waker);
    let thread = std::thread::Builder::new()
        .name(format!("fix-{id}"))
        .spawn(move || {
            let _ = setup.shared.worker.set(std::thread::current().id());
            let store = match store {
                StoreSource::Ready(store) => store,
                StoreSource::Open(open) => match open() {
                    Ok(store) => store,
                    Err(e) => {
                        log::error!("session {}: cannot open its store: {e}", setup.shared.id);
                        end_without_store(&setup.shared, &setup.control);
                        setup.registration.release();
                        return;
                    }
                },
            };
            let worker = Worker::new(setup, store, poll);
            // Group commit: the store's sync thread wakes the worker to send what
            // became durable.
            worker.machine.store().on_background_sync(Arc::new(move || {
                let _ = sync_waker.wake();
            }));
            worker.publish_seq_nums();
            // The store is closed when `run` returns: only then does the session
            // leave the registry, so that a successor opens it after it.
            worker.run().release();
        })
        .map_err(start_error)?;
    Ok(Spawned { thread, waker })
}

/// A session whose store could not be opened never runs: it is marked ended, and
/// the connection it was created for is closed.
fn end_without_store(shared: &Shared, control: &Receiver<Control>) {
    shared.mark_ended();
    refuse_control(shared, control, "its store cannot be opened", |id| {
        EngineError::Finalized { id }
    });
}

/// Answers the control commands still queued when a session ends: waiting
/// disconnects are released, resets fail with `error`, handed-off connections are
/// closed (logged with `why`).
fn refuse_control(
    shared: &Shared,
    control: &Receiver<Control>,
    why: &str,
    error: impl Fn(crate::id::SessionId) -> EngineError,
) {
    while let Ok(command) = control.try_recv() {
        match command {
            Control::Disconnect { done, .. } => {
                let _ = done.send(());
            }
            Control::Reset(done) => {
                let _ = done.send(Err(error(shared.id.clone())));
            }
            Control::Handoff { stream, remote, .. } => {
                log::info!(
                    "session {}: connection from {remote} closed: {why}",
                    shared.id
                );
                let _ = stream.shutdown(Shutdown::Both);
            }
            Control::Refresh | Control::Finalize => {}
        }
    }
}

struct Conn {
    stream: mio::net::TcpStream,
    remote: SocketAddr,
    /// Reading stopped at HIGH_WATER with bytes possibly left in the socket.
    read_pending: bool,
}

/// Inbound bytes: `buf[start..end]` is unread. Allocated once, reused.
struct InBuf {
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

struct Worker<A, S: MessageStore> {
    machine: SessionMachine<S>,
    app: A,
    shared: Arc<Shared>,
    puts: Receiver<Message>,
    control: Receiver<Control>,
    poll: Poll,
    conn: Option<Conn>,
    inbuf: InBuf,
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes ever put into `out`, and how many of them may be written: under
    /// group commit ([`SyncPolicy::Group`](crate::store::SyncPolicy::Group)) a
    /// message's bytes wait until its record is durable.
    produced: u64,
    released: u64,
    /// Group commit: `(produced, appends)` marks, oldest first — the bytes up to
    /// `produced` may go once the store's durable count reaches `appends`.
    held: VecDeque<(u64, u64)>,
    framer: Framer,
    logon_timeout: Duration,
    max_message_size: usize,
    /// Garbled bytes dropped since the last good frame.
    garbled_run: usize,
    /// In-engine read→write timing (feature `probe`; nothing otherwise).
    probe: Probe,
    /// Callers of `disconnect` waiting for the connection to end.
    waiters: Vec<Sender<()>>,
    /// The state last published.
    state: SessionState,
    /// Work is left (unread bytes, queued puts) that no event will announce: poll
    /// without waiting.
    busy: bool,
    /// Latency mode: how long to keep polling after the last work before parking.
    spin: Option<Duration>,
    /// Finalizing: the Logout is sent and its reply awaited; puts wait in the queue
    /// (they are stored, not sent, when the session ends).
    logging_out_to_end: bool,
    /// A connection was attached at least once: an engine-created session ends
    /// when it has none, but not before its first.
    served: bool,
    registration: Registration,
}

/// Where the state machine's output goes, built from the worker's fields so that
/// the machine can be borrowed beside it.
macro_rules! deliver {
    ($worker:ident) => {
        Deliver {
            app: &mut $worker.app,
            shared: &$worker.shared,
            published: &mut $worker.state,
            connected: $worker.conn.is_some(),
        }
    };
}

/// What the state machine tells, handed to the application in the order the
/// machine produced it, with the worker's part on the way: the log, and the state
/// published to the session's handles.
struct Deliver<'a, A> {
    app: &'a mut A,
    shared: &'a Shared,
    /// The state last published.
    published: &'a mut SessionState,
    /// A connection is attached.
    connected: bool,
}

impl<A: Application> Deliver<'_, A> {
    /// Publishes the state the session's handles see for `machine`'s state, and
    /// tells the application when it changed.
    fn publish(&mut self, machine: State) {
        let shared = self.shared;
        let state = if shared.finalizing.load(Ordering::Acquire) && !self.connected {
            SessionState::Terminated
        } else {
            match machine {
                State::Established => SessionState::Established,
                State::WaitForLogout => SessionState::WaitForLogout,
                _ if self.connected || shared.accepting.load(Ordering::Acquire) => {
                    SessionState::WaitForLogon
                }
                _ => SessionState::Disconnected,
            }
        };
        shared.state.store(state.to_u8(), Ordering::Release);
        if state != *self.published {
            let from = std::mem::replace(self.published, state);
            self.app.on_state_change(from, state);
        }
    }
}

impl<A: Application> Handler for Deliver<'_, A> {
    fn on_logon(&mut self, logon: &MessageView<'_>) -> Result<(), String> {
        self.app.on_logon(logon)
    }

    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        self.app.on_message(message, reply);
    }

    fn on_state_change(&mut self, _from: State, to: State) {
        self.publish(to);
    }

    fn on_event(&mut self, event: &SessionEvent) {
        let id = &self.shared.id;
        match event {
            SessionEvent::LoggedOn {
                reset,
                heart_bt_int,
            } => log::info!(
                "session {id}: logged on (HeartBtInt {heart_bt_int}s{})",
                if *reset {
                    ", sequence numbers reset"
                } else {
                    ""
                }
            ),
            SessionEvent::LoggedOut {
                text,
                by_counterparty,
            } => log::info!(
                "session {id}: Logout {}{}",
                if *by_counterparty { "received" } else { "sent" },
                text.as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            ),
            SessionEvent::LogonRefused { reason } => {
                log::warn!("session {id}: Logon refused: {reason}");
            }
            other => log::debug!("session {id}: {other:?}"),
        }
        self.app.on_event(event);
    }
}

impl<A: Application, S: MessageStore> Worker<A, S> {
    fn new(setup: Setup<A>, store: S, poll: Poll) -> Self {
        let Setup {
            shared,
            puts,
            control,
            application,
            config,
            clock,
            dictionary,
            validation,
            logon_timeout,
            max_message_size,
            registration,
        } = setup;
        let validate_check_sum = config.validate_check_sum();
        let spin = (config.idle_strategy() == IdleStrategy::Spin).then(|| config.spin_time());
        let mut machine = SessionMachine::new(
            shared.id.clone(),
            shared.version,
            config,
            store,
            clock,
            now(),
        );
        if let Some((dictionary, app)) = dictionary {
            machine = machine.with_dictionary(dictionary, app, validation);
        }
        Self {
            machine,
            app: application,
            shared,
            puts,
            control,
            poll,
            conn: None,
            inbuf: InBuf::default(),
            out: Vec::new(),
            out_pos: 0,
            produced: 0,
            released: 0,
            held: VecDeque::new(),
            framer: Framer::new(max_message_size, validate_check_sum),
            logon_timeout,
            max_message_size,
            garbled_run: 0,
            probe: Probe::new(),
            waiters: Vec::new(),
            state: SessionState::Disconnected,
            busy: false,
            spin,
            logging_out_to_end: false,
            served: false,
            registration,
        }
    }

    /// The thread's body. A panic in the application is caught here: the session is
    /// then marked stopped and its connection closed, rather than left looking alive.
    /// Returns the session's registration once everything else, the store
    /// included, is released.
    fn run(mut self) -> Registration {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.event_loop()));
        match outcome {
            Ok(()) => self.finish(),
            Err(_) => self.die(),
        }
    }

    fn event_loop(&mut self) {
        let mut events = Events::with_capacity(16);
        let mut last_work = now();
        loop {
            if self.shared.ephemeral
                && self.served
                && self.conn.is_none()
                && !self.shared.finalizing.load(Ordering::Acquire)
                && !self.registration.try_end(&self.control)
            {
                // A Logon was handed over meanwhile: serve it first.
                self.busy = true;
            }
            if self.shared.finalizing.load(Ordering::Acquire) && !self.ending(now()) {
                return;
            }
            let spinning = self
                .spin
                .is_some_and(|t| now().duration_since(last_work) < t);
            let timeout = if self.busy || spinning {
                Some(Duration::ZERO)
            } else {
                // Announce the park before the last look at the queues: a put that
                // lands after the look sees the flag and wakes us (both sides SeqCst).
                self.shared.parked.store(true, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                if (self.logging_out_to_end || self.puts.is_empty()) && self.control.is_empty() {
                    self.machine
                        .poll_timeout()
                        .map(|t| t.saturating_duration_since(now()))
                } else {
                    Some(Duration::ZERO)
                }
            };
            let polled = self.poll.poll(&mut events, timeout);
            self.shared.parked.store(false, Ordering::SeqCst);
            if let Err(e) = polled
                && e.kind() != ErrorKind::Interrupted
            {
                log::error!("session {}: poll failed, stopping: {e}", self.shared.id);
                return;
            }
            let now = now();
            let puts_to_take = !self.logging_out_to_end && !self.puts.is_empty();
            if !events.is_empty() || puts_to_take || !self.control.is_empty() {
                last_work = now;
            }
            let readable = events.iter().any(|e| {
                e.token() == SOCKET && (e.is_readable() || e.is_read_closed() || e.is_error())
            });
            if !self.take_control(now) {
                return;
            }
            if !self.logging_out_to_end {
                self.take_puts(now);
            }
            if readable || self.conn.as_ref().is_some_and(|c| c.read_pending) {
                self.read(now);
            }
            if let Err(e) = self.machine.handle_timeout(now, &mut deliver!(self)) {
                log::error!("session {}: store failure on a timer: {e}", self.shared.id);
                self.close("store failure");
            }
            self.pump();
            self.busy = self.has_work();
            if !self.held.is_empty() {
                self.group_commit();
                // The sync and the flush after it may have made room below the
                // high-water mark: reading resumes without waiting for an event.
                self.busy = self.has_work();
            }
        }
    }

    /// Runs the control commands; false when the worker must stop. They are never
    /// held back by the outbound backlog: a peer that does not read can always be
    /// disconnected.
    fn take_control(&mut self, now: Instant) -> bool {
        loop {
            let command = match self.control.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            };
            match command {
                Control::Handoff {
                    stream,
                    bytes,
                    remote,
                } => self.attach(now, stream, &bytes, remote),
                Control::Refresh => self.publish_state(),
                Control::Disconnect {
                    reason,
                    graceful,
                    done,
                } => {
                    if self.conn.is_none() {
                        let _ = done.send(());
                    } else {
                        self.waiters.push(done);
                        if graceful {
                            self.logout(now, &reason);
                        } else {
                            self.close(&reason);
                        }
                    }
                }
                Control::Reset(done) => {
                    let result = self.machine.reset_sequence_numbers().map_err(|source| {
                        EngineError::Reset {
                            id: self.shared.id.clone(),
                            source,
                        }
                    });
                    self.publish_seq_nums();
                    let _ = done.send(result);
                }
                // The `finalizing` flag, checked at the top of the loop, says what
                // to do: the command only woke the worker.
                Control::Finalize => {}
            }
        }
    }

    /// The session is finalizing: a logged-on counterparty gets a Logout, and the
    /// worker goes on (reading, running timers) until the counterparty's Logout
    /// arrives or LogoutTimeout passes, so that its number is consumed and the
    /// next run starts without a gap. False when there is nothing left to wait for.
    fn ending(&mut self, now: Instant) -> bool {
        if self.conn.is_none() {
            return false;
        }
        if !self.logging_out_to_end {
            self.logging_out_to_end = true;
            if self.machine.state() == State::Established {
                // What was put before finalize goes out ahead of the Logout; the
                // rest is stored at the end, for a later run.
                self.take_puts(now);
                self.logout(now, "session finalized");
                self.pump();
            }
        }
        if self.conn.is_some() && self.machine.state() == State::WaitForLogout {
            return true;
        }
        self.close("session finalized");
        false
    }

    /// Sends queued puts, a bounded number per turn and only below the high-water
    /// mark: beyond it they wait in the queue, and a full queue is the application's
    /// signal to slow down.
    fn take_puts(&mut self, now: Instant) {
        for _ in 0..PUTS_PER_TURN {
            if self.backlog() >= HIGH_WATER {
                return;
            }
            let Ok(message) = self.puts.try_recv() else {
                return;
            };
            self.shared.queued.fetch_sub(1, Ordering::AcqRel);
            self.put(now, message);
            // Moved out now so the high-water mark sees it; written once per turn,
            // all the puts of one wake-up in one write.
            self.transfer();
        }
    }

    fn put(&mut self, now: Instant, message: Message) {
        if let Err(e) = self.machine.send(now, &message) {
            let store_failed = matches!(e, SendError::Store(_));
            self.app.on_send_failed(message, e);
            if store_failed {
                self.logout(now, "store failure: cannot persist outbound messages");
            }
        }
    }

    /// Takes over a connection whose Logon the reactor read.
    fn attach(
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
            // The live connection is left alone; the newcomer gets nothing.
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
        self.discard_out();
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
    fn read(&mut self, now: Instant) {
        for _ in 0..READS_PER_TURN {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            if self.out.len() - self.out_pos >= HIGH_WATER {
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

    /// Feeds every complete frame held to the state machine.
    fn process(&mut self, now: Instant) {
        while self.conn.is_some() && !self.machine.wants_close() {
            match self.framer.parse(self.inbuf.data()) {
                Ok(Status::Complete(len)) => {
                    self.garbled_run = 0;
                    let frame = &self.inbuf.buf[self.inbuf.start..self.inbuf.start + len];
                    let result = self.machine.handle_frame(now, frame, &mut deliver!(self));
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

    fn backlog(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// Moves what the state machine produced to the socket, then reports events and
    /// closes the connection if the session asks.
    fn pump(&mut self) {
        // Published before the bytes leave, so whoever sees a reply sees its numbers.
        self.publish_seq_nums();
        if !self.held.is_empty() && self.machine.store().sync_marks().failed {
            // Held messages can never be durable: none of them is sent.
            self.close("store failure: messages cannot be made durable");
        }
        self.pump_out();
        if self.conn.is_some()
            && let Some(reason) = self.machine.close_reason()
        {
            let reason = reason.to_owned();
            self.close(&reason);
        }
        self.publish_state();
        self.publish_seq_nums();
    }

    fn pump_out(&mut self) {
        if self.conn.is_none() {
            // Nothing to transmit to: what the machine holds (nothing, normally,
            // since it stores without transmitting while disconnected) is dropped.
            let mut sink = Vec::new();
            while self
                .machine
                .poll_transmit(&mut sink, &mut deliver!(self))
                .unwrap_or(0)
                > 0
            {
                sink.clear();
            }
            return;
        }
        self.transfer();
        self.flush();
    }

    /// Moves what the state machine has ready into the outbound buffer, up to the
    /// high-water mark (a resend is produced in batches as it is taken).
    fn transfer(&mut self) {
        if self.conn.is_none() {
            return;
        }
        let before = self.out.len();
        while self.backlog() < HIGH_WATER {
            match self
                .machine
                .poll_transmit(&mut self.out, &mut deliver!(self))
            {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    log::error!("session {}: store read failed: {e}", self.shared.id);
                    break;
                }
            }
        }
        self.produced_since(before);
    }

    /// Accounts for the bytes added to `out` after `before`: releases them at
    /// once, or, when the store syncs in the background and has appends not yet
    /// durable, holds them and asks for a sync.
    fn produced_since(&mut self, before: usize) {
        let added = self.out.len().saturating_sub(before) as u64;
        if added == 0 {
            return;
        }
        self.produced += added;
        let marks = self.machine.store().sync_marks();
        if marks.appended > marks.durable || !self.held.is_empty() {
            self.held.push_back((self.produced, marks.appended));
            self.release();
        } else {
            self.released = self.produced;
        }
    }

    /// Gets held messages to the disk: with more work waiting, by the store's
    /// thread while this one goes on (the group grows meanwhile); with nothing
    /// else to do, right here, which spares the two thread hand-offs a
    /// background sync costs a lone message.
    fn group_commit(&mut self) {
        if self.busy {
            self.machine.store().sync_in_background();
            return;
        }
        // The store's thread may have done it meanwhile.
        self.release();
        if self.held.is_empty() {
            self.pump();
            return;
        }
        match self.machine.sync_appends() {
            Ok(()) => self.pump(),
            Err(e) => {
                log::error!("session {}: store sync failed: {e}", self.shared.id);
                self.close("store failure: messages cannot be made durable");
            }
        }
    }

    /// Work left that no event will announce: unread bytes or queued puts, with
    /// room to take them.
    fn has_work(&self) -> bool {
        let puts_to_take = !self.logging_out_to_end && !self.puts.is_empty();
        self.backlog() < HIGH_WATER
            && (self.conn.as_ref().is_some_and(|c| c.read_pending) || puts_to_take)
    }

    /// Drops everything in `out`, sent or not (the connection is gone or new).
    fn discard_out(&mut self) {
        self.out.clear();
        self.out_pos = 0;
        self.held.clear();
        self.released = self.produced;
    }

    /// Where `out`'s released bytes end: `out[out_pos..end]` may be written.
    fn released_end(&self) -> usize {
        let written = self.produced - (self.out.len() - self.out_pos) as u64;
        self.out_pos + (self.released - written) as usize
    }

    /// Releases the held bytes whose records became durable. After a failed sync
    /// nothing more is: what is held is never sent.
    fn release(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let marks = self.machine.store().sync_marks();
        if marks.failed {
            return;
        }
        let durable = marks.durable;
        while let Some(&(end, appends)) = self.held.front() {
            if appends > durable {
                break;
            }
            self.released = end;
            self.held.pop_front();
        }
    }

    /// Writes pending bytes until the socket would block.
    fn flush(&mut self) {
        self.release();
        // Only what is released: under group commit the rest waits for the disk.
        let end = self.released_end();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if self.out_pos < end {
            self.probe.write_start();
        }
        while self.out_pos < end {
            match conn.stream.write(&self.out[self.out_pos..end]) {
                Ok(0) => break,
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    log::info!("session {}: write failed: {e}", self.shared.id);
                    // The read side will see the close; drop what cannot be sent.
                    self.discard_out();
                    return;
                }
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        } else if self.out_pos > HIGH_WATER {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    fn logout(&mut self, now: Instant, reason: &str) {
        if let Err(e) = self.machine.logout(now, Some(reason), &mut deliver!(self)) {
            log::error!("session {}: Logout not stored: {e}", self.shared.id);
            self.close(reason);
        }
    }

    /// Ends the connection: flushes what is pending (bounded by LINGER), closes the
    /// socket and tells the state machine.
    fn close(&mut self, reason: &str) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // The last words (a Logout) are flushed blocking, within LINGER.
        let before = self.out.len();
        let _ = self
            .machine
            .poll_transmit(&mut self.out, &mut deliver!(self));
        self.produced_since(before);
        if !self.held.is_empty() && !self.machine.store().sync_marks().failed {
            // Group commit: what is held goes only once it is on disk; waiting for
            // it here costs one sync, once per connection.
            match self.machine.sync_store() {
                Ok(()) => self.release(),
                Err(e) => log::error!(
                    "session {}: store sync failed; {} bytes not yet durable are not sent: {e}",
                    self.shared.id,
                    self.produced - self.released
                ),
            }
        }
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let stream = std::net::TcpStream::from(conn.stream);
        let end = self.released_end();
        if self.out_pos < end {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_write_timeout(Some(LINGER));
            let _ = (&stream).write_all(&self.out[self.out_pos..end]);
        }
        let _ = stream.shutdown(Shutdown::Both);
        drop(stream);
        self.discard_out();
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

    /// Publishes the state for what changed outside the machine: registration,
    /// finalization.
    fn publish_state(&mut self) {
        let machine = self.machine.state();
        deliver!(self).publish(machine);
    }

    fn publish_seq_nums(&self) {
        let store = self.machine.store();
        self.shared
            .next_sender
            .store(store.next_sender_seq(), Ordering::Release);
        self.shared
            .next_target
            .store(store.next_target_seq(), Ordering::Release);
    }

    /// Finalization: the connection closes (after the Logout exchange `ending` ran,
    /// or with a Logout and no wait when the loop stopped another way), queued puts
    /// are stored (so they are not lost), the store is flushed.
    fn finish(mut self) -> Registration {
        let now = now();
        if self.machine.state() == State::Established {
            self.logout(now, "session finalized");
        }
        self.close("session finalized");
        // A put that saw the session alive completes its send before `putters`
        // drops: after this wait, nothing more can arrive in the queue.
        while self.shared.putters.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        }
        // Messages put before finalize are kept in the store for a later run.
        while let Ok(message) = self.puts.try_recv() {
            self.shared.queued.fetch_sub(1, Ordering::AcqRel);
            if let Err(e) = self.machine.send(now, &message) {
                self.app.on_send_failed(message, e);
            }
        }
        refuse_control(&self.shared, &self.control, "the session has ended", |id| {
            EngineError::Finalized { id }
        });
        if let Err(e) = self.machine.sync_store() {
            log::error!(
                "session {}: store not synced at finalize: {e}",
                self.shared.id
            );
        }
        self.publish_seq_nums();
        self.publish_state();
        log::info!("session {}: finalized", self.shared.id);
        self.registration
    }

    /// After a panic in the application: the session stops where it is. Its socket
    /// closes (the counterparty reconnects and recovers by resend once the session
    /// is recreated); callers waiting on it are released with an error.
    fn die(mut self) -> Registration {
        log::error!(
            "session {}: its application panicked; the session has stopped",
            self.shared.id
        );
        self.shared.died.store(true, Ordering::Release);
        self.shared.mark_ended();
        if let Some(conn) = self.conn.take() {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(());
        }
        refuse_control(
            &self.shared,
            &self.control,
            "the session has stopped",
            |id| EngineError::Stopped { id },
        );
        self.registration
    }
}
