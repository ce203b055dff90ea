//! The engine: the reactor thread, one worker thread per session, the registry of
//! sessions, and the public handles [`FixEngine`] and [`Session`].
//!
//! ```text
//!              accept + first frame             handoff(stream, bytes read)
//!  clients ──▶ [reactor thread] ───────────────────────────────┐
//!                 │ unknown session → SessionsManager / close    ▼
//!                 │                              [worker thread per session]
//!  app ── Session::put ── crossbeam channel + Waker ──▶ mio Poll(socket + Waker)
//!                                                   SessionMachine + store
//!  Application callbacks ◀─────────────────────────  (on the worker thread)
//! ```
//!
//! The reactor only ever reads a connection up to its first frame; from the Logon
//! on, everything about a session happens on its own worker, which owns the state
//! machine, the store and the socket. One writer per session: no locks on the
//! message path. The registry (a mutex-guarded map) is touched only when a
//! connection logs on and when sessions are created or finalized.

mod app;
mod error;
mod probe;
mod reactor;
mod store;
mod worker;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, SendError, Sender};
use mio::Waker;

pub use app::{
    Application, Decision, Incoming, RejectingApplication, SessionState, SessionsManager,
};
pub use error::{EngineError, PutError, PutErrorKind};
pub use reactor::MAX_LOGON_BYTES;

use crate::clock::{Clock, SystemClock};
use crate::codec::Message;
use crate::config::{EngineConfig, SessionConfig};
use crate::dictionary::{Dictionary, DictionarySet, Validation};
use crate::id::{CompId, FixVersion, SessionId};
use crate::store::MessageStore;

/// Commands that steer a session's worker. They travel on their own unbounded
/// channel, beside the bounded queue of puts, so that a full queue or an outbound
/// backlog never holds up a disconnect, a handoff or finalization.
pub(crate) enum Control {
    /// A connection whose Logon the reactor has read: the socket and every byte
    /// read so far.
    Handoff {
        stream: mio::net::TcpStream,
        bytes: Vec<u8>,
        remote: SocketAddr,
    },
    /// Registration changed: recompute the state.
    Refresh,
    /// End the connection: with a Logout exchange (`graceful`) or at once.
    Disconnect {
        reason: String,
        graceful: bool,
        done: Sender<()>,
    },
    /// Reset both sequence numbers locally.
    Reset(Sender<Result<(), EngineError>>),
    /// Release everything and end the thread: the `finalizing` flag says so; this
    /// command only wakes the worker sooner.
    Finalize,
}

/// Messages a session's queue holds before [`Session::put`] reports it full.
pub const COMMAND_QUEUE_CAPACITY: usize = 8192;

/// What a session's handles and its worker share, readable from any thread.
#[derive(Debug)]
pub(crate) struct Shared {
    id: SessionId,
    version: FixVersion,
    config: SessionConfig,
    state: AtomicU8,
    /// `connect()` was called: the reactor may hand Logons to this session.
    accepting: AtomicBool,
    /// `finalize()` was called, or the session ended: the worker stops even with
    /// commands queued, and handles refuse new work.
    finalizing: AtomicBool,
    /// The worker's thread ended in a panic of the application.
    died: AtomicBool,
    /// Puts queued and not yet taken by the worker: the queue's bound.
    queued: AtomicUsize,
    /// `put` calls between their `finalizing` check and their send: the worker
    /// waits for them before its last drain, so no put is lost to finalization.
    putters: AtomicUsize,
    /// Created by the engine for one unregistered connection: ends with it.
    ephemeral: bool,
    /// The worker's thread, so a handle called from a callback does not wait on
    /// the thread it is running on.
    worker: OnceLock<ThreadId>,
    /// The worker is (about to be) asleep in its poller: a put must wake it. While
    /// it is awake it will see the put anyway, and the wake-up syscall is saved.
    parked: AtomicBool,
    next_sender: AtomicU64,
    next_target: AtomicU64,
    /// Disconnected when the worker's thread has ended, however it ended: nothing
    /// is ever sent on it.
    ended: Receiver<()>,
}

impl Shared {
    /// Waits until the worker's thread has ended, unless called on that thread.
    fn wait_ended(&self) {
        if self.worker.get() != Some(&std::thread::current().id()) {
            let _ = self.ended.recv();
        }
    }

    fn state(&self) -> SessionState {
        SessionState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// The session will run no more: handles refuse work, the reactor routes
    /// nothing to it, and its state reads Terminated.
    fn mark_ended(&self) {
        self.accepting.store(false, Ordering::Release);
        self.finalizing.store(true, Ordering::Release);
        self.state
            .store(SessionState::Terminated.to_u8(), Ordering::Release);
    }
}

/// A session's place in the registry, held by its worker: the two moments the
/// worker and the registry must agree on go through here, under the registry's
/// lock, so that a Logon routed by the reactor and a session ending never cross.
pub(crate) struct Registration {
    core: Weak<Core>,
    key: Key,
    shared: Arc<Shared>,
    /// Dropped with the registration, after the session left the registry:
    /// [`Shared::wait_ended`] returns then.
    ended: Sender<()>,
}

impl Registration {
    /// An engine-created session whose connection has ended asks to end too. It
    /// may not while a command (a Logon handed over) waits for it: that Logon was
    /// routed here before the session asked, and it is served. Otherwise the
    /// session is marked ending, and from then on the reactor holds Logons for its
    /// SessionId until it has released its store, then creates a successor that
    /// reads the stored numbers.
    pub(crate) fn try_end(&self, commands: &Receiver<Control>) -> bool {
        let core = self.core.upgrade();
        let _registry = core.as_ref().map(|c| lock(&c.registry));
        if !commands.is_empty() {
            return false;
        }
        self.shared.accepting.store(false, Ordering::Release);
        self.shared.finalizing.store(true, Ordering::Release);
        true
    }

    /// The worker's thread has ended (its store is closed): the session leaves the
    /// registry and, if the engine owned it, the engine.
    pub(crate) fn release(self) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        let _ended = self.ended;
        core.forget(&self.key, &self.shared);
        let released = {
            let mut owned = lock(&core.owned);
            owned
                .iter()
                .position(|s| Arc::ptr_eq(&s.inner.entry.shared, &self.shared))
                .map(|i| owned.swap_remove(i))
        };
        // Dropped outside the lock; its finalize sees the session already ending.
        drop(released);
    }
}

/// A registry key: QuickFIX's SessionID, which includes the BeginString so that one
/// pair of CompIDs may run, say, FIX.4.2 and FIX.4.4 side by side.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    begin_string: &'static str,
    ours: CompId,
    theirs: CompId,
}

impl Key {
    fn new(id: &SessionId, version: FixVersion) -> Self {
        Self {
            begin_string: version.begin_string(),
            ours: id.sender().clone(),
            theirs: id.target().clone(),
        }
    }
}

/// How the reactor reaches a session's worker.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    shared: Arc<Shared>,
    control: Sender<Control>,
    waker: Arc<Waker>,
}

impl Entry {
    /// Starts finalizing the session without waiting for it: handles refuse new
    /// work, the reactor routes nothing more to it, and its worker logs a
    /// counterparty out (waiting up to LogoutTimeout for the reply) before it
    /// ends. False when it was already finalizing.
    fn begin_finalize(&self, core: &Core, key: &Key) -> bool {
        if self.shared.finalizing.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.shared.accepting.store(false, Ordering::Release);
        core.forget(key, &self.shared);
        let _ = self.control.send(Control::Finalize);
        if let Err(e) = self.waker.wake() {
            log::error!("session {}: cannot wake its thread: {e}", self.shared.id);
        }
        true
    }
}

/// What the engine's handles, sessions and reactor share.
pub(crate) struct Core {
    config: EngineConfig,
    clock: Arc<dyn Clock>,
    registry: Mutex<HashMap<Key, Entry>>,
    /// Sessions the engine created for unregistered counterparties; it owns them.
    owned: Mutex<Vec<Session>>,
    manager: Mutex<Option<Box<dyn SessionsManager>>>,
    dictionaries: Mutex<DictionarySet>,
    shut_down: AtomicBool,
}

/// Locks `m`, recovering the data if a thread panicked while holding it: every
/// update under these locks is a single insert or remove, so the data is whole.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[allow(clippy::disallowed_methods)] // the engine drives the session layer: it reads time
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Per-session parameters beyond the engine's configuration.
///
/// ```
/// use fixengine::{SessionConfig, SessionParams};
/// let params = SessionParams::default()
///     .with_config(SessionConfig::default().with_max_heart_bt_int(60));
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default)]
pub struct SessionParams {
    config: Option<SessionConfig>,
    dictionary: Option<(Arc<Dictionary>, Option<Arc<Dictionary>>)>,
    validation: Validation,
}

impl SessionParams {
    /// Runs the session with `config` instead of what the engine's configuration
    /// says for its SessionId.
    #[must_use]
    pub fn with_config(mut self, config: SessionConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Validates inbound messages against `dictionary` (for FIXT: the transport
    /// dictionary, with `app` the application's).
    #[must_use]
    pub fn with_dictionary(
        mut self,
        dictionary: Arc<Dictionary>,
        app: Option<Arc<Dictionary>>,
    ) -> Self {
        self.dictionary = Some((dictionary, app));
        self
    }

    /// Which dictionary checks run (all by default, within what the session
    /// configuration enables).
    #[must_use]
    pub fn with_validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }
}

/// A FIX acceptor engine: listens, accepts Logons, and runs every session on its own
/// worker thread. See the [module docs](self).
///
/// ```no_run
/// use fixengine::{Application, EngineConfig, FixEngine, FixVersion, MessageView, Reply, SessionId};
///
/// struct Echo;
/// impl Application for Echo {
///     fn on_message(&mut self, message: &MessageView<'_>, _reply: &mut Reply<'_>) {
///         println!("received {message}");
///     }
/// }
///
/// let engine = FixEngine::new(EngineConfig::default().listen_port(9880))?;
/// let session = engine.create_session(SessionId::new("TEST1", "TEST2"), FixVersion::Fix44, Echo)?;
/// session.connect()?; // Logons from TEST2 to TEST1 are accepted from now on
/// # Ok::<(), fixengine::EngineError>(())
/// ```
pub struct FixEngine {
    core: Arc<Core>,
    reactor: Option<JoinHandle<()>>,
    reactor_waker: Arc<Waker>,
    local_addrs: Vec<SocketAddr>,
}

impl std::fmt::Debug for FixEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixEngine")
            .field("local_addrs", &self.local_addrs)
            .finish_non_exhaustive()
    }
}

impl FixEngine {
    /// Starts an engine: opens every listening port of `config` and its reactor
    /// thread. Sessions are then added with [`FixEngine::create_session`].
    ///
    /// # Errors
    /// [`EngineError::Listen`] when a port cannot be opened, [`EngineError::Start`]
    /// when the reactor cannot be set up.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        Self::start(config, None)
    }

    /// As [`FixEngine::new`], with the policy for incoming connections and
    /// unregistered sessions in place before the first connection is accepted.
    /// [`FixEngine::set_sessions_manager`] after `new` leaves a window in which a
    /// Logon for an unknown session finds no manager: with
    /// CreateUnregisteredAcceptorSession=Y it then gets the default application,
    /// which rejects every business message.
    ///
    /// # Errors
    /// As [`FixEngine::new`].
    pub fn with_sessions_manager(
        config: EngineConfig,
        manager: impl SessionsManager,
    ) -> Result<Self, EngineError> {
        Self::start(config, Some(Box::new(manager)))
    }

    fn start(
        config: EngineConfig,
        manager: Option<Box<dyn SessionsManager>>,
    ) -> Result<Self, EngineError> {
        let core = Arc::new(Core {
            config,
            clock: Arc::new(SystemClock),
            registry: Mutex::new(HashMap::new()),
            owned: Mutex::new(Vec::new()),
            manager: Mutex::new(manager),
            dictionaries: Mutex::new(DictionarySet::default()),
            shut_down: AtomicBool::new(false),
        });
        let started = reactor::start(Arc::clone(&core))?;
        Ok(Self {
            core,
            reactor: Some(started.thread),
            reactor_waker: started.waker,
            local_addrs: started.addrs,
        })
    }

    /// Starts an engine configured by an `engine.properties` file. Warnings (unknown
    /// keys) are logged.
    ///
    /// # Errors
    /// The file cannot be read or parsed, or as [`FixEngine::new`].
    pub fn from_properties(path: impl AsRef<Path>) -> Result<Self, crate::Error> {
        let (config, warnings) = EngineConfig::from_properties_file(path)?;
        for w in warnings {
            log::warn!("{w}");
        }
        Ok(Self::new(config)?)
    }

    /// The configuration the engine runs on.
    pub fn config(&self) -> &EngineConfig {
        &self.core.config
    }

    /// The addresses actually listened on (port 0 in the configuration becomes the
    /// port the OS chose).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Creates a session with the parameters the engine's configuration gives its
    /// SessionId. It accepts nothing until [`Session::connect`].
    ///
    /// `id` is from our side: its sender is our SenderCompID(49), its target the
    /// counterparty's.
    ///
    /// # Errors
    /// [`EngineError::DuplicateSession`] when a session with this SessionId and
    /// BeginString exists; [`EngineError::Start`] when its thread cannot start.
    pub fn create_session<A: Application>(
        &self,
        id: SessionId,
        version: FixVersion,
        application: A,
    ) -> Result<Session, EngineError> {
        self.create_session_with(id, version, application, SessionParams::default())
    }

    /// As [`FixEngine::create_session`], with per-session parameters.
    ///
    /// # Errors
    /// As [`FixEngine::create_session`].
    pub fn create_session_with<A: Application>(
        &self,
        id: SessionId,
        version: FixVersion,
        application: A,
        params: SessionParams,
    ) -> Result<Session, EngineError> {
        Core::create_session(&self.core, id, version, application, params, false)
    }

    /// Installs the policy for incoming connections and unregistered sessions,
    /// replacing the one before. Connections accepted before the first one is
    /// installed find none: to have it from the start, use
    /// [`FixEngine::with_sessions_manager`].
    pub fn set_sessions_manager(&self, manager: impl SessionsManager) {
        *lock(&self.core.manager) = Some(Box::new(manager));
    }

    /// The dictionaries sessions created for unregistered counterparties validate
    /// against, by FIX version.
    pub fn set_default_dictionaries(&self, dictionaries: DictionarySet) {
        *lock(&self.core.dictionaries) = dictionaries;
    }

    /// The sessions that exist, with their BeginStrings.
    pub fn sessions(&self) -> Vec<(SessionId, FixVersion)> {
        lock(&self.core.registry)
            .values()
            .map(|e| (e.shared.id.clone(), e.shared.version))
            .collect()
    }

    /// Stops listening and finalizes every session, as [`Session::finalize`] does,
    /// all at once: each logged-on counterparty gets a Logout and its reply is
    /// awaited (up to the session's LogoutTimeout) on every session together, so
    /// a thousand sessions stop in about one LogoutTimeout. Returns when every
    /// session has ended; their handles are then inert. Dropping the engine does
    /// the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.core.shut_down.store(true, Ordering::Release);
        if let Err(e) = self.reactor_waker.wake() {
            log::error!("cannot wake the reactor to stop it: {e}");
        }
        if let Some(reactor) = self.reactor.take()
            && reactor.join().is_err()
        {
            log::error!("the reactor thread panicked");
        }
        // Every session at once: each worker waits for its own counterparty's
        // Logout, so the wait is one LogoutTimeout, not one per session. Outside
        // the locks: the workers take the registry's as they end.
        let entries: Vec<(Key, Entry)> = lock(&self.core.registry)
            .iter()
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        for (key, entry) in &entries {
            entry.begin_finalize(&self.core, key);
        }
        for (_, entry) in &entries {
            entry.shared.wait_ended();
        }
        // Handles the sessions manager kept are released; their sessions have ended.
        let owned = std::mem::take(&mut *lock(&self.core.owned));
        drop(owned);
        let manager = lock(&self.core.manager).take();
        drop(manager);
    }
}

impl Drop for FixEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Core {
    /// Hands a connection whose Logon is for `entry`'s session to its worker, under
    /// the registry's lock (see [`Registration::try_end`]). A session that is
    /// ending gets nothing: the command comes back, for the reactor to route the
    /// Logon again once the session is gone.
    fn hand_off(&self, entry: &Entry, command: Control) -> Result<(), Control> {
        let registry = lock(&self.registry);
        if entry.shared.finalizing.load(Ordering::Acquire) {
            return Err(command);
        }
        let sent = entry.control.send(command).map_err(|e| e.into_inner());
        drop(registry);
        if sent.is_ok()
            && let Err(e) = entry.waker.wake()
        {
            log::error!("reactor: cannot wake session {}: {e}", entry.shared.id);
        }
        sent
    }

    fn create_session<A: Application>(
        core: &Arc<Self>,
        id: SessionId,
        version: FixVersion,
        application: A,
        params: SessionParams,
        ephemeral: bool,
    ) -> Result<Session, EngineError> {
        if core.shut_down.load(Ordering::Acquire) {
            return Err(EngineError::ShutDown);
        }
        let key = Key::new(&id, version);
        let config = params.config.clone().unwrap_or_else(|| {
            core.config
                .session_config(id.sender().as_str(), id.target().as_str())
        });
        let duplicate = || EngineError::DuplicateSession {
            id: id.clone(),
            begin_string: version.begin_string(),
        };
        // Checked before the store is opened too: the store of a live session is
        // locked, and "already exists" says more than "locked".
        if lock(&core.registry).contains_key(&key) {
            return Err(duplicate());
        }
        // A session the application creates opens its store here, so a damaged or
        // locked store is the caller's error at once. One the engine creates for a
        // Logon opens it on its own thread: the reactor never waits on the disk.
        let (store, numbers) = if ephemeral {
            let root = core.config.storage_directory().to_owned();
            let (id, config) = (id.clone(), config.clone());
            let open = move || store::SessionStore::open(&root, &id, version, &config);
            (worker::StoreSource::Open(Box::new(open)), (1, 1))
        } else {
            let store =
                store::SessionStore::open(core.config.storage_directory(), &id, version, &config)
                    .map_err(|source| EngineError::Store {
                    id: id.clone(),
                    source,
                })?;
            let numbers = (store.next_sender_seq(), store.next_target_seq());
            (worker::StoreSource::Ready(store), numbers)
        };
        let (ended_tx, ended) = crossbeam_channel::bounded(0);
        let shared = Arc::new(Shared {
            id: id.clone(),
            version,
            config: config.clone(),
            state: AtomicU8::new(SessionState::Disconnected.to_u8()),
            accepting: AtomicBool::new(false),
            finalizing: AtomicBool::new(false),
            died: AtomicBool::new(false),
            putters: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            ephemeral,
            worker: OnceLock::new(),
            parked: AtomicBool::new(true),
            next_sender: AtomicU64::new(numbers.0),
            next_target: AtomicU64::new(numbers.1),
            ended,
        });
        // Unbounded underneath, bounded by `Shared::queued`: a bounded crossbeam
        // channel allocates all its slots up front, which for a thousand mostly idle
        // sessions is hundreds of megabytes nobody uses.
        let (puts, puts_rx) = crossbeam_channel::unbounded();
        let (control, control_rx) = crossbeam_channel::unbounded();
        let mut registry = lock(&core.registry);
        if registry.contains_key(&key) {
            return Err(duplicate());
        }
        let registration = Registration {
            core: Arc::downgrade(core),
            key: key.clone(),
            shared: Arc::clone(&shared),
            ended: ended_tx,
        };
        let setup = worker::Setup {
            shared: Arc::clone(&shared),
            puts: puts_rx,
            control: control_rx,
            application,
            config,
            clock: Arc::clone(&core.clock),
            dictionary: params.dictionary,
            validation: params.validation,
            logon_timeout: core.config.logon_timeout(),
            max_message_size: core.config.max_message_size(),
            registration,
        };
        let spawned = worker::spawn(setup, store)?;
        let entry = Entry {
            shared,
            control,
            waker: spawned.waker,
        };
        registry.insert(key.clone(), entry.clone());
        drop(registry);
        Ok(Session {
            inner: Arc::new(Inner {
                entry,
                key,
                puts,
                core: Arc::clone(core),
                thread: Mutex::new(Some(spawned.thread)),
            }),
        })
    }

    /// Takes `shared`'s session out of the registry, unless `key` already names a
    /// newer session.
    fn forget(&self, key: &Key, shared: &Arc<Shared>) {
        let mut registry = lock(&self.registry);
        if registry
            .get(key)
            .is_some_and(|e| Arc::ptr_eq(&e.shared, shared))
        {
            registry.remove(key);
        }
    }

    /// The default parameters for a session created for an unregistered Logon.
    fn default_params(&self, version: FixVersion) -> SessionParams {
        let dictionaries = lock(&self.dictionaries);
        let mut params = SessionParams::default();
        if let Some((d, app)) = dictionaries.get(version) {
            params = params.with_dictionary(d, app);
        }
        params
    }
}

/// A handle to one session. Clones share the session; it lives until
/// [`Session::finalize`] or until the last handle is dropped.
///
/// All methods may be called from any thread.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    entry: Entry,
    key: Key,
    puts: Sender<Message>,
    core: Arc<Core>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
            self.control(Control::Refresh)?;
        }
        Ok(())
    }

    /// Sends an application message: numbered, stored, and transmitted when a
    /// counterparty is logged on. Put while nobody is connected, it is stored and
    /// reaches the counterparty after its next Logon (its ResendRequest recovers it):
    /// nothing is lost. Returns once the message is queued for the session's thread;
    /// never blocks.
    ///
    /// # Errors
    /// A session-level MsgType, an invalid message, a full queue (the counterparty
    /// reads more slowly than the application sends) or a session that has ended;
    /// the message is handed back in the error.
    pub fn put(&self, message: Message) -> Result<(), PutError> {
        let refuse = |reason, message| Err(PutError { reason, message });
        if message.is_admin() {
            let msg_type = String::from_utf8_lossy(message.msg_type()).into_owned();
            return refuse(PutErrorKind::AdminMessage { msg_type }, message);
        }
        if let Err(e) = message.validate() {
            return refuse(PutErrorKind::Invalid(e), message);
        }
        let shared = &self.inner.entry.shared;
        // Announced before the check: finalization waits for announced puts before
        // its last drain of the queue, so an accepted put is never lost.
        shared.putters.fetch_add(1, Ordering::SeqCst);
        let result = if shared.finalizing.load(Ordering::SeqCst) {
            Err(message)
        } else {
            if shared.queued.fetch_add(1, Ordering::AcqRel) >= COMMAND_QUEUE_CAPACITY {
                shared.queued.fetch_sub(1, Ordering::AcqRel);
                shared.putters.fetch_sub(1, Ordering::SeqCst);
                let reason = PutErrorKind::QueueFull {
                    id: shared.id.clone(),
                    capacity: COMMAND_QUEUE_CAPACITY,
                };
                return refuse(reason, message);
            }
            match self.inner.puts.send(message) {
                Ok(()) => Ok(()),
                Err(SendError(message)) => {
                    shared.queued.fetch_sub(1, Ordering::AcqRel);
                    Err(message)
                }
            }
        };
        shared.putters.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(()) => {
                // Pairs with the worker's park announcement (see `Shared::parked`).
                std::sync::atomic::fence(Ordering::SeqCst);
                if shared.parked.load(Ordering::SeqCst) {
                    self.wake();
                }
                Ok(())
            }
            Err(message) => refuse(self.ended_put(), message),
        }
    }

    /// Ends the connection gracefully: sends Logout with `reason`, waits (up to the
    /// session's LogoutTimeout) for the counterparty's, then closes. The session
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

    /// Closes the connection at once, without a Logout exchange. Sequence numbers
    /// and stored messages are kept, as after a dropped line.
    ///
    /// # Errors
    /// As [`Session::disconnect`].
    pub fn disconnect_now(&self, reason: &str) -> Result<(), EngineError> {
        self.end_connection(reason, false)
    }

    fn end_connection(&self, reason: &str, graceful: bool) -> Result<(), EngineError> {
        let (done, wait) = crossbeam_channel::bounded(1);
        self.control(Control::Disconnect {
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

    /// Sets both sequence numbers back to 1 and empties the store: a new FIX
    /// session with the same counterparty.
    ///
    /// # Errors
    /// [`EngineError::Reset`] while a counterparty is connected (there, the FIX way
    /// is a Logon with ResetSeqNumFlag(141)=Y) or when the store fails;
    /// [`EngineError::InCallback`] from the session's own callbacks;
    /// [`EngineError::Finalized`], [`EngineError::Stopped`], [`EngineError::Timeout`].
    pub fn reset_seq_num_local(&self) -> Result<(), EngineError> {
        if self.on_worker_thread() {
            return Err(EngineError::InCallback {
                id: self.inner.entry.shared.id.clone(),
                what: "reset_seq_num_local",
            });
        }
        let (done, wait) = crossbeam_channel::bounded(1);
        self.control(Control::Reset(done))?;
        match wait.recv_timeout(COMMAND_SLACK) {
            Ok(result) => result,
            Err(_) => Err(self.timeout("reset_seq_num_local", COMMAND_SLACK)),
        }
    }

    /// Releases the session; blocks up to its LogoutTimeout. It unregisters the
    /// session; a logged-on counterparty gets a Logout, and its reply is awaited
    /// (up to LogoutTimeout) so that its number is consumed and the next run starts
    /// without a gap; then the connection closes, what was put and not yet sent is
    /// stored, the store is flushed and released, and the thread ends. Other clones
    /// of this handle become inert: their `put` hands messages back. To stop many
    /// sessions, [`FixEngine::shutdown`] waits for all of them at once.
    ///
    /// An [`Application`] that keeps a handle to its own session keeps the session
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

    fn ended_put(&self) -> PutErrorKind {
        let id = self.inner.entry.shared.id.clone();
        if self.inner.entry.shared.died.load(Ordering::Acquire) {
            PutErrorKind::Stopped { id }
        } else {
            PutErrorKind::Finalized { id }
        }
    }

    fn check_alive(&self) -> Result<(), EngineError> {
        if self.inner.entry.shared.finalizing.load(Ordering::Acquire) {
            return Err(self.ended());
        }
        Ok(())
    }

    /// Sends a control command; never blocks (the control channel is unbounded and
    /// carries few, small commands).
    fn control(&self, command: Control) -> Result<(), EngineError> {
        self.check_alive()?;
        self.inner
            .entry
            .control
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
