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
mod command;
mod dictionaries;
mod error;
mod handle;
mod listen;
mod logon;
mod probe;
mod put_queue;
mod reactor;
mod registry;
mod session_store;
mod shutdown;
mod worker;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use mio::Waker;

pub use app::{
    Application, Decision, Incoming, RejectingApplication, SessionState, SessionsManager,
};
pub use error::{EngineError, PutError};
pub use handle::Session;
pub use put_queue::PUT_QUEUE_CAPACITY;
pub use reactor::MAX_LOGON_BYTES;
pub use shutdown::StopReason;

pub(crate) use command::Command;
use registry::lock;
pub(crate) use registry::{Core, Entry, Key, Origin, Registration, Shared};

use crate::clock::SystemClock;
use crate::config::{EngineConfig, SessionConfig};
use crate::dictionary::{Dictionary, DictionarySet};
use crate::id::{FixVersion, SessionId};

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
    /// dictionary, with `app` the application's), whatever the configuration
    /// names.
    #[must_use]
    pub fn with_dictionary(
        mut self,
        dictionary: Arc<Dictionary>,
        app: Option<Arc<Dictionary>>,
    ) -> Self {
        self.dictionary = Some((dictionary, app));
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
/// let session = engine.create_session(SessionId::from_static("TEST1", "TEST2"), FixVersion::Fix44, Echo)?;
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
    /// [`EngineError::Config`] when the configuration breaks a rule or listens on
    /// no port ([`EngineConfig::validate_for_start`]),
    /// [`EngineError::DictionaryDirectory`] when `DataDictionaryDirectory` is set
    /// but does not exist or holds no `.xml` file, [`EngineError::Listen`] when a
    /// port cannot be opened, [`EngineError::Start`] when the reactor cannot be
    /// set up.
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
        config.validate_for_start()?;
        let library = dictionaries::Library::new(config.data_dictionary_directory())
            .map_err(|source| EngineError::DictionaryDirectory { source })?;
        let core = Arc::new(Core {
            config,
            clock: Arc::new(SystemClock),
            registry: Mutex::new(HashMap::new()),
            owned: Mutex::new(Vec::new()),
            manager: Mutex::new(manager),
            dictionaries: Mutex::new(DictionarySet::default()),
            library: Arc::new(library),
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
    /// Inbound messages are validated against the data dictionary the
    /// configuration names for the session (`DataDictionary`, a name looked up in
    /// `DataDictionaryDirectory` or a path; for FIX.5.0 also
    /// `TransportDataDictionary` and `AppDataDictionary`) or, when it names none,
    /// `version`'s dictionary in `DataDictionaryDirectory` (`FIX44.xml`;
    /// `FIXT11.xml` with `FIX50SP2.xml`). With neither, nothing is validated
    /// against a dictionary. Each file is loaded once per engine and shared.
    ///
    /// # Errors
    /// [`EngineError::DuplicateSession`] when a session with this SessionId and
    /// BeginString exists; [`EngineError::Dictionary`] when its data dictionary
    /// cannot be found, read or parsed, or describes another version;
    /// [`EngineError::Store`] when its store cannot be opened;
    /// [`EngineError::Start`] when its thread cannot start.
    pub fn create_session<A: Application>(
        &self,
        id: SessionId,
        version: FixVersion,
        application: A,
    ) -> Result<Session, EngineError> {
        self.create_session_with(id, version, application, SessionParams::default())
    }

    /// As [`FixEngine::create_session`], with per-session parameters: a
    /// configuration that replaces the engine's for this session (its dictionary
    /// keys included), or a dictionary
    /// ([`SessionParams::with_dictionary`]), which beats any the configuration
    /// names.
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
        Core::create_session(
            &self.core,
            id,
            version,
            application,
            params,
            Origin::Application,
        )
    }

    /// Installs the policy for incoming connections and unregistered sessions,
    /// replacing the one before. Connections accepted before the first one is
    /// installed find none: to have it from the start, use
    /// [`FixEngine::with_sessions_manager`].
    pub fn set_sessions_manager(&self, manager: impl SessionsManager) {
        *lock(&self.core.manager) = Some(Box::new(manager));
    }

    /// The dictionaries sessions created for unregistered counterparties validate
    /// against, by FIX version. A version it does not hold gets what the
    /// configuration names for the session, as a registered one does (its version's
    /// dictionary from `DataDictionaryDirectory` when that is set); one whose
    /// dictionary cannot be loaded is not created, and its Logon's connection is
    /// closed (and logged).
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
