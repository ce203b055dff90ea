//! The registry of sessions: what a session's handles, its worker and the reactor
//! share, and the protocol by which a Logon reaches a session that is live and
//! never one that is ending.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::ThreadId;

use crossbeam_channel::{Receiver, Sender};
use mio::Waker;

use super::dictionaries::Library;
use super::handle::Inner;
use super::put_queue::PutQueue;
use super::{
    Application, Command, EngineError, Session, SessionParams, SessionState, SessionsManager,
    session_store, worker,
};
use crate::clock::Clock;
use crate::config::{EngineConfig, MessageLogMode, SessionConfig};
use crate::dictionary::DictionarySet;
use crate::id::{CompId, FixVersion, SessionId};
use crate::message_log::LogOptions;
use crate::store::MessageStore;

/// Who created a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The application: the session lives until it is finalized.
    Application,
    /// The engine, for a Logon nobody registered (CreateUnregisteredAcceptorSession):
    /// the session ends with its connection, and the next Logon creates it anew on
    /// the same store.
    Unregistered,
}

/// What a session's handles and its worker share, readable from any thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(super) id: SessionId,
    pub(super) version: FixVersion,
    pub(super) config: SessionConfig,
    pub(super) state: AtomicU8,
    /// `connect()` was called: the reactor may hand Logons to this session.
    pub(super) accepting: AtomicBool,
    /// `finalize()` was called, or the session ended: the worker stops even with
    /// commands queued, and handles refuse new work.
    pub(super) finalizing: AtomicBool,
    /// The worker's thread ended in a panic of the application.
    pub(super) died: AtomicBool,
    /// Who created the session, which decides when it ends.
    pub(super) origin: Origin,
    /// The worker's thread, so a handle called from a callback does not wait on
    /// the thread it is running on.
    pub(super) worker: OnceLock<ThreadId>,
    /// The application's puts on their way to the worker.
    pub(crate) puts: PutQueue,
    pub(super) next_sender: AtomicU64,
    pub(super) next_target: AtomicU64,
    /// Disconnected when the worker's thread has ended, however it ended: nothing
    /// is ever sent on it.
    pub(super) ended: Receiver<()>,
}

impl Shared {
    /// Waits until the worker's thread has ended, unless called on that thread.
    pub(super) fn wait_ended(&self) {
        if self.worker.get() != Some(&std::thread::current().id()) {
            let _ = self.ended.recv();
        }
    }

    pub(super) fn state(&self) -> SessionState {
        SessionState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// The session will run no more: handles refuse work, the reactor routes
    /// nothing to it, and its state reads Terminated.
    pub(super) fn mark_ended(&self) {
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
    pub(crate) fn try_end(&self, commands: &Receiver<Command>) -> bool {
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
    pub(super) begin_string: &'static str,
    pub(super) ours: CompId,
    pub(super) theirs: CompId,
}

impl Key {
    pub(super) fn new(id: &SessionId, version: FixVersion) -> Self {
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
    pub(super) shared: Arc<Shared>,
    pub(super) commands: Sender<Command>,
    pub(super) waker: Arc<Waker>,
}

impl Entry {
    /// Starts finalizing the session without waiting for it: handles refuse new
    /// work, the reactor routes nothing more to it, and its worker logs a
    /// counterparty out (waiting up to LogoutTimeout for the reply) before it
    /// ends. False when it was already finalizing.
    pub(super) fn begin_finalize(&self, core: &Core, key: &Key) -> bool {
        if self.shared.finalizing.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.shared.accepting.store(false, Ordering::Release);
        core.forget(key, &self.shared);
        let _ = self.commands.send(Command::Finalize);
        if let Err(e) = self.waker.wake() {
            log::error!("session {}: cannot wake its thread: {e}", self.shared.id);
        }
        true
    }
}

/// What the engine's handles, sessions and reactor share.
pub(crate) struct Core {
    pub(super) config: EngineConfig,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) registry: Mutex<HashMap<Key, Entry>>,
    /// Sessions the engine created for unregistered counterparties; it owns them.
    pub(super) owned: Mutex<Vec<Session>>,
    pub(super) manager: Mutex<Option<Box<dyn SessionsManager>>>,
    pub(super) dictionaries: Mutex<DictionarySet>,
    /// The dictionaries configuration names: `DataDictionaryDirectory`'s
    /// folder and every file loaded from it or named by path.
    pub(super) library: Arc<Library>,
    pub(super) shut_down: AtomicBool,
}

/// Locks `m`, recovering the data if a thread panicked while holding it: every
/// update under these locks is a single insert or remove, so the data is whole.
pub(super) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Core {
    /// Hands a connection whose Logon is for `entry`'s session to its worker, under
    /// the registry's lock (see [`Registration::try_end`]). A session that is
    /// ending gets nothing: the command comes back, for the reactor to route the
    /// Logon again once the session is gone.
    pub(super) fn hand_off(&self, entry: &Entry, command: Command) -> Result<(), Command> {
        let registry = lock(&self.registry);
        if entry.shared.finalizing.load(Ordering::Acquire) {
            return Err(command);
        }
        let sent = entry.commands.send(command).map_err(|e| e.into_inner());
        drop(registry);
        if sent.is_ok()
            && let Err(e) = entry.waker.wake()
        {
            log::error!("reactor: cannot wake session {}: {e}", entry.shared.id);
        }
        sent
    }

    pub(super) fn create_session<A: Application>(
        core: &Arc<Self>,
        id: SessionId,
        version: FixVersion,
        application: A,
        params: SessionParams,
        origin: Origin,
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
        // The application's dictionary, else the configuration's. One the engine
        // creates for a Logon loads it on its own thread, as it opens its store.
        let dictionary = match params.dictionary {
            Some(pair) => worker::DictionarySource::Ready(Some(pair)),
            None if origin == Origin::Unregistered => {
                let (library, config) = (Arc::clone(&core.library), config.clone());
                worker::DictionarySource::Load(Box::new(move || {
                    library.for_session(&config, version)
                }))
            }
            None => worker::DictionarySource::Ready(
                core.library
                    .for_session(&config, version)
                    .map_err(|source| EngineError::Dictionary {
                        id: id.clone(),
                        source,
                    })?,
            ),
        };
        // A session the application creates opens its store here, so a damaged or
        // locked store is the caller's error at once. One the engine creates for a
        // Logon opens it on its own thread: the reactor never waits on the disk.
        let (store, numbers) = if origin == Origin::Unregistered {
            let root = core.config.storage_directory().to_owned();
            let (id, config) = (id.clone(), config.clone());
            let open = move || session_store::SessionStore::open(&root, &id, version, &config);
            (worker::StoreSource::Open(Box::new(open)), (1, 1))
        } else {
            let store = session_store::SessionStore::open(
                core.config.storage_directory(),
                &id,
                version,
                &config,
            )
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
            origin,
            worker: OnceLock::new(),
            puts: PutQueue::new(),
            next_sender: AtomicU64::new(numbers.0),
            next_target: AtomicU64::new(numbers.1),
            ended,
        });
        let (commands, commands_rx) = crossbeam_channel::unbounded();
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
        let message_log = (config.message_log() == MessageLogMode::File).then(|| {
            let root = core
                .config
                .message_log_directory()
                .unwrap_or(core.config.storage_directory());
            (
                session_store::message_log_dir(root, &id, version),
                LogOptions::from_config(&config),
            )
        });
        let setup = worker::Setup {
            shared: Arc::clone(&shared),
            commands: commands_rx,
            application,
            config,
            clock: Arc::clone(&core.clock),
            dictionary,
            logon_timeout: core.config.logon_timeout(),
            max_message_size: core.config.max_message_size(),
            registration,
            message_log,
        };
        let spawned = worker::spawn(setup, store)?;
        let entry = Entry {
            shared,
            commands,
            waker: spawned.waker,
        };
        registry.insert(key.clone(), entry.clone());
        drop(registry);
        Ok(Session {
            inner: Arc::new(Inner {
                entry,
                key,
                core: Arc::clone(core),
                thread: Mutex::new(Some(spawned.thread)),
            }),
        })
    }

    /// Takes `shared`'s session out of the registry, unless `key` already names a
    /// newer session.
    pub(super) fn forget(&self, key: &Key, shared: &Arc<Shared>) {
        let mut registry = lock(&self.registry);
        if registry
            .get(key)
            .is_some_and(|e| Arc::ptr_eq(&e.shared, shared))
        {
            registry.remove(key);
        }
    }

    /// The default parameters for a session created for an unregistered Logon:
    /// the dictionaries [`FixEngine::set_default_dictionaries`](super::FixEngine::set_default_dictionaries)
    /// gave for its version, if any (else its configuration's, as any session's).
    pub(super) fn default_params(&self, version: FixVersion) -> SessionParams {
        let dictionaries = lock(&self.dictionaries);
        let mut params = SessionParams::default();
        if let Some((d, app)) = dictionaries.get(version) {
            params = params.with_dictionary(d, app);
        }
        params
    }
}
