//! A session's worker thread: owns the state machine, the store, the application
//! and, while connected, the socket, in its own mio `Poll` (socket + Waker).
//!
//! Writes are non-blocking through an outbound buffer, so a counterparty that
//! reads slowly delays only its own session. When that buffer passes
//! [`HIGH_WATER`], the worker stops reading the socket and taking puts until it
//! drains: the pressure goes back to the peer (TCP) and to the application
//! ([`Session::put`](super::Session::put) reports a full queue), never into
//! unbounded memory. Commands (a disconnect, a handed-over Logon, finalization)
//! are never held back: a peer that does not read can always be disconnected.

/// Where the state machine's output goes, built from the worker's fields so that
/// the machine can be borrowed beside it.
macro_rules! deliver {
    ($worker:ident) => {
        $crate::engine::worker::Deliver {
            app: &mut $worker.app,
            shared: &$worker.shared,
            published: &mut $worker.state,
            connected: $worker.conn.is_some(),
            garbled: &mut $worker.garbled_why,
        }
    };
}

mod conn;
mod deliver;
mod held;
mod lifecycle;
mod outbox;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::{Events, Poll, Token, Waker};

use super::command::SeqChange;
use super::dictionaries::DictionaryPair;
use super::probe::Probe;
use super::{Application, Command, EngineError, Origin, Registration, SessionState, Shared, now};
use crate::clock::Clock;
use crate::codec::{Framer, Message};
use crate::config::{IdleStrategy, SessionConfig};
use crate::dictionary::DictionaryError;
use crate::message_log::{self, LogEvent, LogOptions, MessageLog};
use crate::session::{SendError, SessionEvent, SessionMachine};
use crate::store::{MessageStore, StoreError};

use conn::{Conn, InBuf};
use deliver::Deliver;
use held::Held;
use lifecycle::end_unstarted;
use outbox::Outbox;

const WAKER: Token = Token(0);
const SOCKET: Token = Token(1);

/// Outbound bytes pending beyond which the worker stops producing more.
pub(crate) const HIGH_WATER: usize = 4 << 20;

/// Puts taken per turn of the loop: an application that never pauses still lets
/// reads, commands, timers and finalization through between turns.
const PUTS_PER_TURN: usize = 1024;

/// Everything a worker starts with, but its store.
pub(crate) struct Setup<A> {
    pub shared: Arc<Shared>,
    pub commands: Receiver<Command>,
    pub application: A,
    pub config: SessionConfig,
    pub clock: Arc<dyn Clock>,
    pub dictionary: DictionarySource,
    pub logon_timeout: Duration,
    pub max_message_size: usize,
    /// The session's place in the engine's registry, released when the thread
    /// ends, however it ends.
    pub registration: Registration,
    /// Where the message log goes and how it is written; none with `MessageLog =
    /// none`. Opened on the worker's thread, after the store.
    pub message_log: Option<(PathBuf, LogOptions)>,
}

/// The store a worker runs on: opened already, or to open on the worker's thread.
pub(crate) enum StoreSource<S> {
    Ready(S),
    Open(Box<dyn FnOnce() -> Result<S, StoreError> + Send>),
}

/// The data dictionaries a worker validates against: known already, or to load
/// on the worker's thread (for a session the engine creates for a Logon: the
/// reactor never waits on the disk).
pub(crate) enum DictionarySource {
    Ready(Option<DictionaryPair>),
    Load(Box<dyn FnOnce() -> Result<Option<DictionaryPair>, DictionaryError> + Send>),
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
            let mut setup = setup;
            let _ = setup.shared.worker.set(std::thread::current().id());
            let dictionary =
                match std::mem::replace(&mut setup.dictionary, DictionarySource::Ready(None)) {
                    DictionarySource::Ready(dictionary) => dictionary,
                    DictionarySource::Load(load) => match load() {
                        Ok(dictionary) => dictionary,
                        Err(e) => {
                            log::error!(
                                "session {}: cannot load its data dictionary: {e}",
                                setup.shared.id
                            );
                            end_unstarted(
                                &setup.shared,
                                &setup.commands,
                                "its data dictionary cannot be loaded",
                            );
                            setup.registration.release();
                            return;
                        }
                    },
                };
            setup.dictionary = DictionarySource::Ready(dictionary);
            let store = match store {
                StoreSource::Ready(store) => store,
                StoreSource::Open(open) => match open() {
                    Ok(store) => store,
                    Err(e) => {
                        log::error!("session {}: cannot open its store: {e}", setup.shared.id);
                        end_unstarted(&setup.shared, &setup.commands, "its store cannot be opened");
                        setup.registration.release();
                        return;
                    }
                },
            };
            let mut worker = Worker::new(setup, store, poll);
            worker.open_message_log();
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

struct Worker<A, S: MessageStore> {
    machine: SessionMachine<S>,
    app: A,
    shared: Arc<Shared>,
    commands: Receiver<Command>,
    poll: Poll,
    conn: Option<Conn>,
    inbuf: InBuf,
    outbox: Outbox,
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
    /// Puts held for a Logon (PutWhileDisconnected = queue).
    held: Held,
    /// A connection was attached at least once: an engine-created session ends
    /// when it has none, but not before its first.
    served: bool,
    registration: Registration,
    /// The message log, once open; what to open it with until then.
    log: Option<MessageLog>,
    log_setup: Option<(PathBuf, LogOptions)>,
    /// Why the state machine dropped the frame just handed to it as garbled.
    garbled_why: Option<String>,
}

impl<A: Application, S: MessageStore> Worker<A, S> {
    fn new(setup: Setup<A>, store: S, poll: Poll) -> Self {
        let Setup {
            shared,
            commands,
            application,
            config,
            clock,
            dictionary,
            logon_timeout,
            max_message_size,
            registration,
            message_log,
        } = setup;
        let validate_check_sum = config.validate_check_sum();
        let held = Held::new(&config);
        let spin = (config.idle_strategy() == IdleStrategy::Spin).then(|| config.spin_time());
        let mut machine = SessionMachine::new(
            shared.id.clone(),
            shared.version,
            config,
            store,
            clock,
            now(),
        );
        if let DictionarySource::Ready(Some((dictionary, app))) = dictionary {
            machine = machine.with_dictionary(dictionary, app);
        }
        Self {
            machine,
            app: application,
            shared,
            commands,
            poll,
            conn: None,
            inbuf: InBuf::default(),
            outbox: Outbox::default(),
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
            held,
            served: false,
            registration,
            log: None,
            log_setup: message_log,
            garbled_why: None,
        }
    }

    /// Opens the message log, if the session has one. A failure is reported and
    /// the session runs without it until the log recovers.
    fn open_message_log(&mut self) {
        let Some((dir, options)) = self.log_setup.take() else {
            return;
        };
        let (log, event) = MessageLog::open(dir, options, self.machine.now_utc());
        self.log = Some(log);
        self.report_log(event);
    }

    /// Tells the application what the message log has to report.
    fn report_log(&mut self, event: Option<LogEvent>) {
        let event = match event {
            None => return,
            Some(LogEvent::Failed(error)) => SessionEvent::MessageLogFailed { error },
            Some(LogEvent::Resumed { lost }) => SessionEvent::MessageLogResumed { lost },
        };
        self.app.on_event(&event);
    }

    /// Gives the message log what was produced for the socket since it last
    /// looked: called before the bytes are written, and before the buffer gives
    /// back their room.
    fn log_outbound(&mut self) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let bytes = self.outbox.unlogged();
        if bytes.is_empty() {
            return;
        }
        let event = log.outbound(self.machine.now_utc(), bytes);
        self.outbox.logged();
        self.report_log(event);
    }

    /// Work for the message log before the worker parks: growing its file ahead
    /// of the appends, trying its disk again after a failure.
    fn log_idle(&mut self) {
        if let Some(log) = self.log.as_mut().filter(|log| log.has_idle_work()) {
            let event = log.idle(self.machine.now_utc());
            self.report_log(event);
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
            if self.shared.origin == Origin::Unregistered
                && self.served
                && self.conn.is_none()
                && !self.shared.finalizing.load(Ordering::Acquire)
                && !self.registration.try_end(&self.commands)
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
                self.log_idle();
                // Announce the park before the last look at the queues: a put that
                // lands after the look sees the flag and wakes us (both sides SeqCst).
                self.shared.puts.park();
                if (self.logging_out_to_end || self.shared.puts.is_empty())
                    && self.commands.is_empty()
                {
                    let machine = self.machine.poll_timeout();
                    let expiry = self.held.next_expiry();
                    // A failed message log tries its disk again this often.
                    let log_retry = self
                        .log
                        .as_ref()
                        .is_some_and(MessageLog::is_failed)
                        .then(|| now() + message_log::RETRY);
                    machine
                        .into_iter()
                        .chain(expiry)
                        .chain(log_retry)
                        .min()
                        .map(|t| t.saturating_duration_since(now()))
                } else {
                    Some(Duration::ZERO)
                }
            };
            let polled = self.poll.poll(&mut events, timeout);
            self.shared.puts.unpark();
            if let Err(e) = polled
                && e.kind() != ErrorKind::Interrupted
            {
                log::error!("session {}: poll failed, stopping: {e}", self.shared.id);
                return;
            }
            let now = now();
            let puts_to_take = !self.logging_out_to_end && !self.shared.puts.is_empty();
            if !events.is_empty() || puts_to_take || !self.commands.is_empty() {
                last_work = now;
            }
            let readable = events.iter().any(|e| {
                e.token() == SOCKET && (e.is_readable() || e.is_read_closed() || e.is_error())
            });
            if !self.take_commands(now) {
                return;
            }
            self.expire_held(now);
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
            if self.outbox.is_holding() {
                self.group_commit();
                // The sync and the flush after it may have made room below the
                // high-water mark: reading resumes without waiting for an event.
                self.busy = self.has_work();
            }
        }
    }

    /// Runs the commands; false when the worker must stop. They are never
    /// held back by the outbound backlog: a peer that does not read can always be
    /// disconnected.
    fn take_commands(&mut self, now: Instant) -> bool {
        loop {
            let command = match self.commands.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            };
            match command {
                Command::Handoff {
                    stream,
                    bytes,
                    remote,
                } => self.attach(now, stream, &bytes, remote),
                Command::Refresh => self.publish_state(),
                Command::Disconnect {
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
                Command::Sequence { change, done } => {
                    let result = match change {
                        SeqChange::Reset => self.machine.reset_sequence_numbers(),
                        SeqChange::Sender(seq) => self.machine.set_next_sender_seq(seq),
                        SeqChange::Target(seq) => self.machine.set_next_target_seq(seq),
                    }
                    .map_err(|source| EngineError::Reset {
                        id: self.shared.id.clone(),
                        source,
                    });
                    self.publish_seq_nums();
                    let _ = done.send(result);
                }
                // The `finalizing` flag, checked at the top of the loop, says what
                // to do: the command only woke the worker.
                Command::Finalize => {}
            }
        }
    }

    /// Numbers, stores and (when logged on) sends one put.
    fn put(&mut self, now: Instant, message: Message) {
        if let Err(e) = self.machine.send(now, &message) {
            let store_failed = matches!(e, SendError::Store(_));
            self.app.on_send_failed(message, e);
            if store_failed {
                self.logout(now, "store failure: cannot persist outbound messages");
            }
        }
    }

    /// Moves what the state machine produced to the socket, then reports events and
    /// closes the connection if the session asks.
    fn pump(&mut self) {
        // Published before the bytes leave, so whoever sees a reply sees its numbers.
        self.publish_seq_nums();
        if self.outbox.is_holding() && self.machine.store().sync_marks().failed {
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
        let mark = self.outbox.mark();
        while self.outbox.backlog() < HIGH_WATER {
            match self
                .machine
                .poll_transmit(self.outbox.buf_mut(), &mut deliver!(self))
            {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    log::error!("session {}: store read failed: {e}", self.shared.id);
                    break;
                }
            }
        }
        self.outbox.account(mark, self.machine.store().sync_marks());
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
        if !self.outbox.is_holding() {
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
        let puts_to_take =
            !self.logging_out_to_end && !self.shared.puts.is_empty() || self.held_to_send();
        self.outbox.backlog() < HIGH_WATER
            && (self.conn.as_ref().is_some_and(|c| c.read_pending) || puts_to_take)
    }

    /// Releases the held bytes whose records became durable.
    fn release(&mut self) {
        if self.outbox.is_holding() {
            self.outbox.release(self.machine.store().sync_marks());
        }
    }

    fn logout(&mut self, now: Instant, reason: &str) {
        if let Err(e) = self.machine.logout(now, Some(reason), &mut deliver!(self)) {
            log::error!("session {}: Logout not stored: {e}", self.shared.id);
            self.close(reason);
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
}
