//! The public handle to one session: [`Session`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::command::SeqChange;
use super::put_queue::{PUT_QUEUE_CAPACITY, Refused};
use super::{Command, Core, EngineError, Entry, Key, PutError, SessionState, lock};
use crate::codec::Message;
use crate::id::{FixVersion, SessionId};
use crate::session::SendError;

/// A handle to one session. Clones share the session; it lives until
/// [`Session::finalize`] or until the last handle is dropped.
///
/// All methods may be called from any thread.
#[derive(Clone)]
pub struct Session {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) entry: Entry,
    pub(super) key: Key,
    pub(super) core: Arc<Core>,
    pub(super) thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.entry.shared.id)
            .field("version", &self.inner.entry.shared.version)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Extra time a blocking call waits for the worker beyond the protocol's own timeout.
const COMMAND_SLACK: Duration = Duration::from_secs(2);

impl Session {
    /// The session's identity, from our side.
    pub fn id(&self) -> &SessionId {
        &self.inner.entry.shared.id
    }

    /// The FIX version the session speaks.
    pub fn version(&self) -> FixVersion {
        self.inner.entry.shared.version
    }

    /// The session's state now.
    pub fn state(&self) -> SessionState {
        self.inner.entry.shared.state()
    }

    /// The MsgSeqNum(34) of the next message we send.
    pub fn next_sender_seq(&self) -> u64 {
        self.inner.entry.shared.next_sender.load(Ordering::Acquire)
    }

    /// The MsgSeqNum(34) expected on the next message we receive.
    pub fn next_target_seq(&self) -> u64 {
        self.inner.entry.shared.next_target.load(Ordering::Acquire)
    }

    /// Registers the session as an acceptor: from now on a Logon for its SessionId is
    /// accepted (credentials checked when configured). Calling it again does nothing.
    ///
    /// # Errors
    /// [`EngineError::Finalized`] after the session was finalized.
    pub fn connect(&self) -> Result<(), EngineError> {
        let shared = &self.inner.entry.shared;
        self.check_alive()?;
        if !shared.accepting.swap(true, Ordering::AcqRel) {
            let _ = shared.state.compare_exchange(
                SessionState::Disconnected.to_u8(),
                SessionState::WaitForLogon.to_u8(),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            self.command(Command::Refresh)?;
        }
        Ok(())
    }

    /// Sends an application message: numbered, stored, and transmitted when a
    /// counterparty is logged on. Returns once the message is queued for the
    /// session's thread; never blocks.
    ///
    /// Put while nobody is logged on, what happens is the session's
    /// [`PutWhileDisconnected`](crate::PutWhileDisconnected): by default it is
    /// numbered and stored, and reaches the counterparty when its ResendRequest
    /// after the next Logon asks for it (a Logon with ResetSeqNumFlag(141)=Y
    /// starts a new sequence without it); with `queue` it waits unnumbered and
    /// is sent right after the next Logon exchange, or handed back to
    /// [`Application::on_send_failed`](super::Application::on_send_failed)
    /// past MessageTimeToLive.
    ///
    /// # Errors
    /// A session-level MsgType, an invalid message, a full queue (the counterparty
    /// reads more slowly than the application sends, or, in `queue` mode,
    /// [`PUT_QUEUE_CAPACITY`] messages wait for a Logon) or a session that has
    /// ended; the message is handed back in the error.
    // The error hands the caller's message back, as crossbeam's `SendError<T>`
    // does: boxing it to pass the size lint would allocate on every refusal.
    #[allow(clippy::result_large_err)]
    pub fn put(&self, message: Message) -> Result<(), PutError> {
        if message.is_admin() {
            let msg_type = String::from_utf8_lossy(message.msg_type()).into_owned();
            let error = SendError::AdminMessage { msg_type };
            return Err(PutError::Refused { message, error });
        }
        if let Err(e) = message.validate() {
            let error = SendError::Invalid(e);
            return Err(PutError::Refused { message, error });
        }
        let shared = &self.inner.entry.shared;
        match shared.puts.put(message, &shared.finalizing) {
            Ok(wake) => {
                if wake {
                    self.wake();
                }
                Ok(())
            }
            Err(Refused::Full(message)) => Err(PutError::Full {
                message,
                id: shared.id.clone(),
                capacity: PUT_QUEUE_CAPACITY,
            }),
            Err(Refused::Ended(message)) => {
                let id = shared.id.clone();
                if shared.died.load(Ordering::Acquire) {
                    Err(PutError::Stopped { message, id })
                } else {
                    Err(PutError::Finalized { message, id })
                }
            }
        }
    }

    /// Ends the connection gracefully; blocks up to the session's LogoutTimeout.
    /// It sends Logout with `reason`, waits for the counterparty's, then closes. The session
    /// stays registered and keeps its sequence numbers and stored messages for the
    /// next Logon. Does nothing when nobody is connected. Called from one of the
    /// session's own callbacks, it returns at once and the Logout follows when the
    /// callback returns.
    ///
    /// # Errors
    /// [`EngineError::Finalized`] or [`EngineError::Stopped`]; [`EngineError::Timeout`]
    /// if the session thread does not confirm in time.
    pub fn disconnect(&self, reason: &str) -> Result<(), EngineError> {
        self.end_connection(reason, true)
    }

    /// Closes the connection at once, without a Logout exchange; blocks until the
    /// session's thread has closed it. Sequence numbers and stored messages are
    /// kept, as after a dropped line.
    ///
    /// # Errors
    /// As [`Session::disconnect`].
    pub fn disconnect_now(&self, reason: &str) -> Result<(), EngineError> {
        self.end_connection(reason, false)
    }

    /// As [`Session::disconnect`], without waiting: the Logout exchange runs on the
    /// session's thread while the caller goes on (FIX Antenna's
    /// `disconnectAsync`). `state()` reads `WaitForLogout`, then `WaitForLogon`
    /// once it is over.
    ///
    /// # Errors
    /// [`EngineError::Finalized`] or [`EngineError::Stopped`].
    pub fn disconnect_async(&self, reason: &str) -> Result<(), EngineError> {
        // Nobody waits on the confirmation: the worker's send to it fails quietly.
        let (done, _) = crossbeam_channel::bounded(1);
        self.command(Command::Disconnect {
            reason: reason.to_owned(),
            graceful: true,
            done,
        })
    }

    fn end_connection(&self, reason: &str, graceful: bool) -> Result<(), EngineError> {
        let (done, wait) = crossbeam_channel::bounded(1);
        self.command(Command::Disconnect {
            reason: reason.to_owned(),
            graceful,
            done,
        })?;
        if self.on_worker_thread() {
            return Ok(());
        }
        let limit = self.inner.entry.shared.config.logout_timeout() + COMMAND_SLACK;
        wait.recv_timeout(limit)
            .map_err(|_| self.timeout("disconnect", limit))
    }

    /// Sets both sequence numbers back to 1 and empties the store; blocks until the
    /// session's thread has done it. A new FIX session with the same counterparty.
    ///
    /// # Errors
    /// [`EngineError::Reset`] while a counterparty is connected (there, the FIX way
    /// is a Logon with ResetSeqNumFlag(141)=Y) or when the store fails;
    /// [`EngineError::InCallback`] from the session's own callbacks;
    /// [`EngineError::Finalized`], [`EngineError::Stopped`], [`EngineError::Timeout`].
    pub fn reset_seq_num_local(&self) -> Result<(), EngineError> {
        self.change_sequence(SeqChange::Reset, "reset_seq_num_local")
    }

    /// Sets the MsgSeqNum(34) of our next message, as an operator does to match
    /// what the counterparty expects; blocks until the session's thread has done
    /// it. Stored: it survives a restart. Only while no counterparty is connected.
    /// Going back to numbers already used starts the store over (its messages are
    /// archived, and a ResendRequest for them is answered with a GapFill).
    ///
    /// # Errors
    /// As [`Session::reset_seq_num_local`]; [`EngineError::Reset`] for 0.
    pub fn set_next_sender_seq(&self, seq: u64) -> Result<(), EngineError> {
        self.change_sequence(SeqChange::Sender(seq), "set_next_sender_seq")
    }

    /// Sets the MsgSeqNum(34) expected on the counterparty's next message; blocks
    /// until the session's thread has done it. Stored: it survives a restart. Only
    /// while no counterparty is connected.
    ///
    /// # Errors
    /// As [`Session::set_next_sender_seq`].
    pub fn set_next_target_seq(&self, seq: u64) -> Result<(), EngineError> {
        self.change_sequence(SeqChange::Target(seq), "set_next_target_seq")
    }

    fn change_sequence(&self, change: SeqChange, what: &'static str) -> Result<(), EngineError> {
        if self.on_worker_thread() {
            return Err(EngineError::InCallback {
                id: self.inner.entry.shared.id.clone(),
                what,
            });
        }
        let (done, wait) = crossbeam_channel::bounded(1);
        self.command(Command::Sequence { change, done })?;
        match wait.recv_timeout(COMMAND_SLACK) {
            Ok(result) => result,
            Err(_) => Err(self.timeout(what, COMMAND_SLACK)),
        }
    }

    /// Releases the session; blocks up to its LogoutTimeout. It unregisters the
    /// session; a logged-on counterparty gets a Logout, and its reply is awaited
    /// (up to LogoutTimeout) so that its number is consumed and the next run starts
    /// without a gap; then the connection closes, what was put and not yet sent is
    /// stored, the store is flushed and released, and the thread ends. Other clones
    /// of this handle become inert: their `put` hands messages back. To stop many
    /// sessions, [`FixEngine::shutdown`](super::FixEngine::shutdown) waits for all of them at once.
    ///
    /// An [`Application`](super::Application) that keeps a handle to its own session keeps the session
    /// alive: it must finalize it explicitly (dropping the other handles is not
    /// enough).
    ///
    /// Consuming the handle, it can only happen once:
    ///
    /// ```compile_fail
    /// # fn f(session: fixengine::Session) {
    /// session.finalize();
    /// session.finalize(); // error: use of moved value
    /// # }
    /// ```
    pub fn finalize(self) {
        self.inner.finalize();
    }

    fn on_worker_thread(&self) -> bool {
        self.inner.entry.shared.worker.get() == Some(&std::thread::current().id())
    }

    /// Why a handle can no longer reach its session.
    fn ended(&self) -> EngineError {
        let id = self.inner.entry.shared.id.clone();
        if self.inner.entry.shared.died.load(Ordering::Acquire) {
            EngineError::Stopped { id }
        } else {
            EngineError::Finalized { id }
        }
    }

    fn check_alive(&self) -> Result<(), EngineError> {
        if self.inner.entry.shared.finalizing.load(Ordering::Acquire) {
            return Err(self.ended());
        }
        Ok(())
    }

    /// Sends a command; never blocks (the command channel is unbounded and
    /// carries few, small commands).
    fn command(&self, command: Command) -> Result<(), EngineError> {
        self.check_alive()?;
        self.inner
            .entry
            .commands
            .send(command)
            .map_err(|_| self.ended())?;
        self.wake();
        Ok(())
    }

    fn wake(&self) {
        if let Err(e) = self.inner.entry.waker.wake() {
            log::error!("session {}: cannot wake its thread: {e}", self.id());
        }
    }

    fn timeout(&self, what: &'static str, limit: Duration) -> EngineError {
        EngineError::Timeout {
            id: self.inner.entry.shared.id.clone(),
            what,
            limit,
        }
    }
}

impl Inner {
    fn finalize(&self) {
        if !self.entry.begin_finalize(&self.core, &self.key) {
            return;
        }
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            // A callback on the worker itself may drop the last handle: never join
            // the current thread (the worker ends once the callback returns).
            if thread.thread().id() != std::thread::current().id() && thread.join().is_err() {
                log::error!("session {}: its thread panicked", self.entry.shared.id);
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.finalize();
    }
}
