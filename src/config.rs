//! Engine and session configuration: the `engine.properties` reader and the
//! same values set from code.
//!
//! This module owns every tunable the engine reads, its documented default, and
//! the rules that tie values together ([`EngineConfig::validate`]). It parses
//! text and touches no sockets; reading the file is its only I/O.
//!
//! # File format
//!
//! FIX Antenna style `Key = Value` lines. Whitespace around keys and values is
//! trimmed and a value may be empty. Lines starting with `#` or `!` are
//! comments; blank lines are ignored. There are no inline comments and no line
//! continuations: everything after the first `=` is the value.
//!
//! ```text
//! # engine-wide keys are bare
//! ListenPort = 9880, 9881
//! StorageDirectory = data
//!
//! # defaults for every session
//! Session.Default.MaxHeartBtInt = 120
//!
//! # one session: we are ISLD (SenderCompID), the counterparty is TW (TargetCompID)
//! Session.ISLD/TW.MaxHeartBtInt = 60
//! Session.ISLD/TW.AllowedRemoteAddresses = 10.0.0.0/8, 127.0.0.1
//! ```
//!
//! A session's value comes from `Session.<Sender>/<Target>.<Key>` if present,
//! else from `Session.Default.<Key>`, else from the built-in default. Keys are
//! case-sensitive. Session keys are accepted only under `Session.`, engine keys
//! only bare.
//!
//! Unknown keys and duplicate keys (the last one wins) are warnings, returned
//! as [`ConfigWarning`]s and logged with `log::warn!`. A line without `=`, a
//! value that does not parse, a malformed `Session.` key or a cross-field rule
//! broken is a [`ConfigError`] that names the line, the key and the value.
//!
//! # Engine keys
//!
//! | key | unit / form | default |
//! |---|---|---|
//! | `ListenPort` | port, or comma list of ports | none: accept nothing |
//! | `ListenAddress` | IPv4 or IPv6 address | `0.0.0.0` |
//! | `StorageDirectory` | directory path | `logs` |
//! | `CreateUnregisteredAcceptorSession` | boolean | `false` |
//! | `LogonTimeout` | milliseconds | `5000` |
//! | `MaxPendingConnections` | count | `1024` |
//! | `MaxMessageSize` | bytes, or with a `Kb` / `Mb` / `Gb` suffix (1024-based) | `1Mb` (1048576) |
//!
//! # Session keys (`Session.Default.<Key>` or `Session.<Sender>/<Target>.<Key>`)
//!
//! | key | unit / form | default |
//! |---|---|---|
//! | `StorageType` | `persistent` \| `transient` | `persistent` |
//! | `MinHeartBtInt` | seconds | `1` |
//! | `MaxHeartBtInt` | seconds | `3600` |
//! | `LogoutTimeout` | milliseconds | `2000` |
//! | `ReasonableTransmissionTime` | milliseconds | `1000` |
//! | `CheckSendingTime` | boolean | `true` |
//! | `MaxSendingTimeDelta` | seconds | `120` |
//! | `ResetSeqNumOnLogon` | boolean | `false` |
//! | `ResetSeqNumOnLogout` | boolean | `false` |
//! | `ResetSeqNumOnDisconnect` | boolean | `false` |
//! | `ValidateCheckSum` | boolean | `true` |
//! | `ValidateCompIds` | boolean | `true` |
//! | `ValidateFieldsHaveValues` | boolean | `true` |
//! | `ValidateFieldsOutOfOrder` | boolean (with a data dictionary) | `true` |
//! | `ValidateFieldValues` | boolean (with a data dictionary) | `true` |
//! | `ValidateUnknownFields` | boolean (with a data dictionary) | `true` |
//! | `ValidateRequiredFields` | boolean (with a data dictionary) | `true` |
//! | `EnableNextExpectedMsgSeqNum` | boolean | `false` |
//! | `Username` | text; empty = none | none |
//! | `Password` | text; empty = none; never printed | none |
//! | `AllowedRemoteAddresses` | comma list of IPs / CIDR blocks; empty or `*` = any | any |
//! | `ListenPort` | port; empty = none | none |
//! | `StorageSegmentSize` | bytes, or with a `Kb` / `Mb` / `Gb` suffix: a log segment's size before the next one starts | `64Mb` |
//! | `StorageMaxSegments` | count; 0 = keep every segment | `0` |
//! | `StorageSync` | `none` \| `every` (each message on disk before it is sent, synced in groups by a background thread) \| a count N (msync every N messages) | `none` |
//! | `IdleStrategy` | `park` (efficiency) \| `spin` (latency) | `park` |
//! | `SpinTime` | microseconds a spinning worker polls after its last work before parking | `10000` |
//!
//! Booleans are `true`/`false`, `yes`/`no`, `y`/`n` or `1`/`0`, in any case.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use fixengine::config::{EngineConfig, DEFAULT_PROPERTIES};
//!
//! let (config, warnings) = EngineConfig::from_properties_str(DEFAULT_PROPERTIES)?;
//! assert!(warnings.is_empty());
//! assert_eq!(config.listen_ports(), &[9880]);
//! assert_eq!(config.logon_timeout(), Duration::from_millis(5000));
//! let example = config.session_config("TEST1", "TEST2");
//! assert_eq!(example.max_heart_bt_int(), 300);
//! # Ok::<(), fixengine::config::ConfigError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

pub use crate::store::SyncPolicy;

/// The embedded default `engine.properties`: what the example acceptor runs
/// on, and a commented template for a real deployment.
///
/// It listens on port 9880 on every interface, keeps session stores under
/// `logs/`, spells out every `Session.Default.*` key with its built-in value,
/// and registers the example session in which we are `TEST1` and the
/// counterparty is `TEST2`. It parses with no warnings.
pub const DEFAULT_PROPERTIES: &str = r"# fixengine engine.properties: the embedded default configuration.
#
# Format: Key = Value. '#' and '!' start comment lines.
# Engine-wide keys are bare. Session keys go under Session.Default.<Key>
# (every session) or Session.<SenderCompID>/<TargetCompID>.<Key> (one
# session, where SenderCompID is ours and TargetCompID the counterparty's).
# A per-session key beats Session.Default, which beats the built-in default.

# ---- Engine ------------------------------------------------------------

# Port or comma-separated ports the acceptor listens on. No port: accept nothing.
ListenPort = 9880
# Local interface to bind; 0.0.0.0 means every IPv4 interface.
ListenAddress = 0.0.0.0
# Each session keeps its sequence numbers and sent messages in a folder here.
StorageDirectory = logs
# false: a Logon for a session nobody registered gets a Logout and is closed.
CreateUnregisteredAcceptorSession = false
# Milliseconds a new connection has to deliver a complete Logon.
LogonTimeout = 5000
# Connections accepted but not yet logged on, at most.
MaxPendingConnections = 1024
# Largest inbound message, in bytes (suffixes Kb, Mb, Gb are 1024-based).
MaxMessageSize = 1Mb

# ---- Defaults for every session ------------------------------------------

# persistent (memory-mapped files, survives restarts) or transient (memory only).
Session.Default.StorageType = persistent
# When a persistent store syncs to disk: none (the page cache: survives a killed
# process, not a power cut), every (each message is on disk before it is sent:
# survives a power cut; synced in groups by a background thread), or a count N
# (an msync every N messages). The store is always synced when a session ends.
Session.Default.StorageSync = none
# The message log rolls into a new segment file at this size; with
# StorageMaxSegments > 0 the oldest segments beyond it are deleted (messages no
# longer stored are gap-filled on resend). 0 keeps everything.
Session.Default.StorageSegmentSize = 64Mb
Session.Default.StorageMaxSegments = 0
# Accepted range of the HeartBtInt(108) a counterparty asks for, in seconds.
Session.Default.MinHeartBtInt = 1
Session.Default.MaxHeartBtInt = 3600
# Milliseconds to wait for the counterparty's Logout reply before closing.
Session.Default.LogoutTimeout = 2000
# Milliseconds of slack added to HeartBtInt before a TestRequest is sent.
Session.Default.ReasonableTransmissionTime = 1000
# Reject messages whose SendingTime(52) is more than MaxSendingTimeDelta seconds off.
Session.Default.CheckSendingTime = true
Session.Default.MaxSendingTimeDelta = 120
# Sequence numbers back to 1 on these events (false: continue across reconnects).
Session.Default.ResetSeqNumOnLogon = false
Session.Default.ResetSeqNumOnLogout = false
Session.Default.ResetSeqNumOnDisconnect = false
# Inbound validation.
Session.Default.ValidateCheckSum = true
Session.Default.ValidateCompIds = true
Session.Default.ValidateFieldsHaveValues = true
# With a data dictionary: each kind of check can be turned off.
Session.Default.ValidateFieldsOutOfOrder = true
Session.Default.ValidateFieldValues = true
Session.Default.ValidateUnknownFields = true
Session.Default.ValidateRequiredFields = true
# Use NextExpectedMsgSeqNum(789) on Logon (FIX.4.4 and later).
Session.Default.EnableNextExpectedMsgSeqNum = false
# Credentials the counterparty's Logon must carry (empty: not checked).
Session.Default.Username =
Session.Default.Password =
# Comma list of IPs or CIDR blocks allowed to connect (empty: any).
Session.Default.AllowedRemoteAddresses =
# How an idle session waits: park (sleep in poll, no CPU) or spin (poll without
# sleeping for SpinTime microseconds after the last work, then park): lower
# latency for a whole core while spinning. On two cores, spin one session at most.
Session.Default.IdleStrategy = park
Session.Default.SpinTime = 10000

# ---- The example session: we are TEST1, the counterparty is TEST2 ----------

Session.TEST1/TEST2.StorageType = persistent
Session.TEST1/TEST2.MaxHeartBtInt = 300
# Session.TEST1/TEST2.Username = test2
# Session.TEST1/TEST2.Password = secret
# Session.TEST1/TEST2.AllowedRemoteAddresses = 127.0.0.1, ::1, 10.0.0.0/8
# Session.TEST1/TEST2.ListenPort = 9881
";

/// Engine-wide settings, with the session defaults and per-session overrides.
///
/// Build it from a file with [`EngineConfig::from_properties_file`], from text
/// with [`EngineConfig::from_properties_str`], or from code starting at
/// [`EngineConfig::default`] with the builder methods. Getters have the plain
/// key name (`logon_timeout()`); setters take `self`, return `Self` and are
/// named `with_*`, except [`EngineConfig::listen_port`], which adds a port.
///
/// ```
/// use std::time::Duration;
/// use fixengine::config::{EngineConfig, SessionConfig};
///
/// let config = EngineConfig::default()
///     .listen_port(9880)
///     .with_storage_directory("data")
///     .with_logon_timeout(Duration::from_secs(2))
///     .with_session("ISLD", "TW", SessionConfig::default().with_max_heart_bt_int(60));
/// config.validate()?;
/// assert_eq!(config.session_config("ISLD", "TW").max_heart_bt_int(), 60);
/// assert_eq!(config.session_config("ISLD", "OTHER").max_heart_bt_int(), 3600);
/// # Ok::<(), fixengine::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    listen_ports: Vec<u16>,
    listen_address: IpAddr,
    storage_directory: PathBuf,
    create_unregistered_acceptor_session: bool,
    logon_timeout: Duration,
    max_pending_connections: usize,
    max_message_size: usize,
    session_defaults: SessionConfig,
    // Sorted by (sender, target) so `sessions()` is deterministic.
    sessions: BTreeMap<(String, String), SessionEntry>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            listen_ports: Vec::new(),
            listen_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            storage_directory: PathBuf::from("logs"),
            create_unregistered_acceptor_session: false,
            logon_timeout: Duration::from_millis(5000),
            max_pending_connections: 1024,
            max_message_size: 1024 * 1024,
            session_defaults: SessionConfig::default(),
            sessions: BTreeMap::new(),
        }
    }
}

impl EngineConfig {
    /// Parses `engine.properties` text, then [validates](Self::validate) it.
    ///
    /// Returns the configuration and the warnings (unknown keys, duplicate
    /// keys), which are also logged with `log::warn!`.
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] for a line without `=`, [`ConfigError::BadKey`]
    /// for a malformed `Session.` key, [`ConfigError::BadValue`] for a value
    /// that does not parse, [`ConfigError::Invalid`] for a broken cross-field
    /// rule.
    pub fn from_properties_str(text: &str) -> Result<(Self, Vec<ConfigWarning>), ConfigError> {
        let (config, warnings) = parse_properties(text)?;
        for warning in &warnings {
            log::warn!("engine properties: {warning}");
        }
        Ok((config, warnings))
    }

    /// Reads and parses an `engine.properties` file, as
    /// [`from_properties_str`](Self::from_properties_str) does.
    ///
    /// # Errors
    /// [`ConfigError::Io`] naming the path when the file cannot be read (or is
    /// not UTF-8), otherwise as [`from_properties_str`](Self::from_properties_str).
    pub fn from_properties_file(
        path: impl AsRef<Path>,
    ) -> Result<(Self, Vec<ConfigWarning>), ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (config, warnings) = parse_properties(&text)?;
        for warning in &warnings {
            log::warn!("{}: {warning}", path.display());
        }
        Ok((config, warnings))
    }

    /// Checks the rules that tie values together; parsing calls it, and a
    /// configuration built in code should too before it is used.
    ///
    /// The rules: `LogonTimeout` > 0; `MaxMessageSize` ≥ 64 bytes;
    /// `MaxPendingConnections` ≥ 1; for the session defaults and for every
    /// per-session entry (after resolution) `MinHeartBtInt` ≤ `MaxHeartBtInt`;
    /// every per-session SenderCompID and TargetCompID is a usable CompID
    /// (1 to 64 printable ASCII characters, no `=`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] describing the first rule broken, with the
    /// keys and values involved.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.logon_timeout.is_zero() {
            return Err(invalid("LogonTimeout must be greater than 0 ms".to_owned()));
        }
        if self.max_message_size < MIN_MAX_MESSAGE_SIZE {
            return Err(invalid(format!(
                "MaxMessageSize is {} bytes; it must be at least {MIN_MAX_MESSAGE_SIZE}",
                self.max_message_size
            )));
        }
        if self.max_pending_connections == 0 {
            return Err(invalid(
                "MaxPendingConnections is 0; it must be at least 1".to_owned(),
            ));
        }
        self.session_defaults
            .check_heart_bt_int_range("Session.Default")?;
        for (sender, target) in self.sessions() {
            for comp_id in [sender, target] {
                if !is_valid_comp_id(comp_id) {
                    return Err(invalid(format!(
                        "session {sender}/{target}: {comp_id:?} is not a valid CompID \
                         (1 to {} printable ASCII characters, no '=')",
                        crate::id::MAX_COMP_ID_LEN
                    )));
                }
            }
            self.session_config(sender, target)
                .check_heart_bt_int_range(&format!("Session.{sender}/{target}"))?;
        }
        Ok(())
    }

    /// `ListenPort`: the ports the acceptor listens on, in the order given.
    /// Default: none, so nothing is accepted unless a session has its own
    /// `ListenPort` (see [`all_listen_ports`](Self::all_listen_ports)). Port 0
    /// asks the OS for an ephemeral port.
    pub fn listen_ports(&self) -> &[u16] {
        &self.listen_ports
    }

    /// The engine's [`listen_ports`](Self::listen_ports) plus every port named
    /// by `Session.Default.ListenPort` or a per-session `ListenPort`: sorted,
    /// without duplicates. These are the sockets the engine must open.
    pub fn all_listen_ports(&self) -> Vec<u16> {
        let mut ports = self.listen_ports.clone();
        ports.extend(self.session_defaults.listen_port);
        ports.extend(
            self.sessions()
                .filter_map(|(sender, target)| self.session_config(sender, target).listen_port),
        );
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// `ListenAddress`: the local interface to bind. Default `0.0.0.0` (every
    /// IPv4 interface).
    pub fn listen_address(&self) -> IpAddr {
        self.listen_address
    }

    /// `StorageDirectory`: the root under which each session's store folder
    /// is created. Default `logs` (relative to the working directory).
    pub fn storage_directory(&self) -> &Path {
        &self.storage_directory
    }

    /// `CreateUnregisteredAcceptorSession`: whether a Logon for a session
    /// nobody registered may create one (subject to the sessions manager).
    /// Default `false`: such a Logon gets a Logout and the connection is closed.
    pub fn create_unregistered_acceptor_session(&self) -> bool {
        self.create_unregistered_acceptor_session
    }

    /// `LogonTimeout` (milliseconds in the file): the time a new connection has
    /// to deliver a complete Logon before it is closed. Default 5 s.
    pub fn logon_timeout(&self) -> Duration {
        self.logon_timeout
    }

    /// `MaxPendingConnections`: connections accepted but not yet logged on,
    /// at most; more are closed on accept. It is also the listening sockets'
    /// backlog (at least 128, at most the kernel's `net.core.somaxconn`), so a
    /// burst of reconnects waits in the kernel's queue rather than losing SYNs.
    /// Default 1024.
    pub fn max_pending_connections(&self) -> usize {
        self.max_pending_connections
    }

    /// `MaxMessageSize` (bytes): the largest inbound message accepted; a
    /// larger BodyLength(9) is garbled input. Default 1 MiB (1048576).
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The `Session.Default.*` values: what a session without its own entry
    /// gets, and the base a per-session entry overrides.
    pub fn session_defaults(&self) -> &SessionConfig {
        &self.session_defaults
    }

    /// The resolved configuration of the session in which we are `sender` and
    /// the counterparty is `target`: per-session keys over `Session.Default`
    /// over built-in defaults. A session without an entry gets the defaults.
    pub fn session_config(&self, sender: &str, target: &str) -> SessionConfig {
        // The tuple key needs owned Strings; a linear scan would avoid the
        // allocation but not scale to thousands of sessions.
        match self.sessions.get(&(sender.to_owned(), target.to_owned())) {
            None => self.session_defaults.clone(),
            Some(SessionEntry::Full(config)) => config.clone(),
            Some(SessionEntry::Overrides(settings)) => {
                let mut config = self.session_defaults.clone();
                for setting in settings {
                    setting.apply(&mut config);
                }
                config
            }
        }
    }

    /// The `(sender, target)` pairs that have a per-session entry (from
    /// `Session.<Sender>/<Target>.*` keys or [`with_session`](Self::with_session)),
    /// sorted, so the engine can register them up front.
    pub fn sessions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sessions
            .keys()
            .map(|(sender, target)| (sender.as_str(), target.as_str()))
    }

    /// Adds `port` to the listening ports (ignored if already present).
    #[must_use]
    pub fn listen_port(mut self, port: u16) -> Self {
        if !self.listen_ports.contains(&port) {
            self.listen_ports.push(port);
        }
        self
    }

    /// Replaces the listening ports; duplicates are dropped.
    #[must_use]
    pub fn with_listen_ports(mut self, ports: impl IntoIterator<Item = u16>) -> Self {
        self.listen_ports.clear();
        ports.into_iter().fold(self, Self::listen_port)
    }

    /// Sets `ListenAddress`.
    #[must_use]
    pub fn with_listen_address(mut self, address: IpAddr) -> Self {
        self.listen_address = address;
        self
    }

    /// Sets `StorageDirectory`.
    #[must_use]
    pub fn with_storage_directory(mut self, directory: impl Into<PathBuf>) -> Self {
        self.storage_directory = directory.into();
        self
    }

    /// Sets `CreateUnregisteredAcceptorSession`.
    #[must_use]
    pub fn with_create_unregistered_acceptor_session(mut self, create: bool) -> Self {
        self.create_unregistered_acceptor_session = create;
        self
    }

    /// Sets `LogonTimeout`.
    #[must_use]
    pub fn with_logon_timeout(mut self, timeout: Duration) -> Self {
        self.logon_timeout = timeout;
        self
    }

    /// Sets `MaxPendingConnections`.
    #[must_use]
    pub fn with_max_pending_connections(mut self, max: usize) -> Self {
        self.max_pending_connections = max;
        self
    }

    /// Sets `MaxMessageSize` in bytes.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Replaces the `Session.Default.*` values. Per-session entries parsed
    /// from a file keep overriding only the keys they named, on top of these.
    #[must_use]
    pub fn with_session_defaults(mut self, defaults: SessionConfig) -> Self {
        self.session_defaults = defaults;
        self
    }

    /// Gives the session (`sender` is our CompID, `target` the
    /// counterparty's) its complete configuration, replacing any entry it had.
    /// [`validate`](Self::validate) checks the CompIDs.
    #[must_use]
    pub fn with_session(
        mut self,
        sender: impl Into<String>,
        target: impl Into<String>,
        config: SessionConfig,
    ) -> Self {
        self.sessions
            .insert((sender.into(), target.into()), SessionEntry::Full(config));
        self
    }
}

/// One session's settings, resolved: see the module docs for the keys.
///
/// Getters have the plain key name; setters are `with_*`, take `self` and
/// return `Self`. `Debug` prints the password as `"***"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    storage_type: StorageType,
    min_heart_bt_int: u32,
    max_heart_bt_int: u32,
    logout_timeout: Duration,
    reasonable_transmission_time: Duration,
    check_sending_time: bool,
    max_sending_time_delta: Duration,
    reset_seq_num_on_logon: bool,
    reset_seq_num_on_logout: bool,
    reset_seq_num_on_disconnect: bool,
    validate_check_sum: bool,
    validate_comp_ids: bool,
    validate_fields_have_values: bool,
    validate_fields_out_of_order: bool,
    validate_field_values: bool,
    validate_unknown_fields: bool,
    validate_required_fields: bool,
    enable_next_expected_msg_seq_num: bool,
    username: Option<String>,
    password: Option<Secret>,
    allowed_remote_addresses: Option<Vec<IpNet>>,
    listen_port: Option<u16>,
    idle_strategy: IdleStrategy,
    spin_time: Duration,
    storage_sync: SyncPolicy,
    storage_segment_size: u64,
    storage_max_segments: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            storage_type: StorageType::Persistent,
            min_heart_bt_int: 1,
            max_heart_bt_int: 3600,
            logout_timeout: Duration::from_millis(2000),
            reasonable_transmission_time: Duration::from_millis(1000),
            check_sending_time: true,
            max_sending_time_delta: Duration::from_secs(120),
            reset_seq_num_on_logon: false,
            reset_seq_num_on_logout: false,
            reset_seq_num_on_disconnect: false,
            validate_check_sum: true,
            validate_comp_ids: true,
            validate_fields_have_values: true,
            validate_fields_out_of_order: true,
            validate_field_values: true,
            validate_unknown_fields: true,
            validate_required_fields: true,
            enable_next_expected_msg_seq_num: false,
            username: None,
            password: None,
            allowed_remote_addresses: None,
            listen_port: None,
            idle_strategy: IdleStrategy::Park,
            spin_time: Duration::from_millis(10),
            storage_sync: SyncPolicy::None,
            storage_segment_size: 64 << 20,
            storage_max_segments: 0,
        }
    }
}

impl SessionConfig {
    /// `StorageType`: where sequence numbers and sent messages are kept.
    /// Default [`StorageType::Persistent`].
    pub fn storage_type(&self) -> StorageType {
        self.storage_type
    }

    /// `MinHeartBtInt` (seconds): the smallest HeartBtInt(108) a Logon may
    /// ask for. Default 1.
    pub fn min_heart_bt_int(&self) -> u32 {
        self.min_heart_bt_int
    }

    /// `MaxHeartBtInt` (seconds): the largest HeartBtInt(108) a Logon may ask
    /// for. Default 3600.
    pub fn max_heart_bt_int(&self) -> u32 {
        self.max_heart_bt_int
    }

    /// `LogoutTimeout` (milliseconds in the file): how long to wait for the
    /// counterparty's Logout after sending ours before closing. Default 2 s.
    pub fn logout_timeout(&self) -> Duration {
        self.logout_timeout
    }

    /// `ReasonableTransmissionTime` (milliseconds in the file): slack added to
    /// HeartBtInt before silence from the counterparty triggers a TestRequest
    /// (and, after another interval, a disconnect). Default 1 s.
    pub fn reasonable_transmission_time(&self) -> Duration {
        self.reasonable_transmission_time
    }

    /// `CheckSendingTime`: whether SendingTime(52) must be within
    /// [`max_sending_time_delta`](Self::max_sending_time_delta) of our clock.
    /// Default `true`.
    pub fn check_sending_time(&self) -> bool {
        self.check_sending_time
    }

    /// `MaxSendingTimeDelta` (seconds in the file): the SendingTime(52)
    /// accuracy window. Default 120 s.
    pub fn max_sending_time_delta(&self) -> Duration {
        self.max_sending_time_delta
    }

    /// `ResetSeqNumOnLogon`: both sequence numbers back to 1 on every Logon.
    /// Default `false`.
    pub fn reset_seq_num_on_logon(&self) -> bool {
        self.reset_seq_num_on_logon
    }

    /// `ResetSeqNumOnLogout`: both sequence numbers back to 1 after a
    /// graceful Logout. Default `false`.
    pub fn reset_seq_num_on_logout(&self) -> bool {
        self.reset_seq_num_on_logout
    }

    /// `ResetSeqNumOnDisconnect`: both sequence numbers back to 1 after any
    /// disconnect. Default `false`: a reconnect continues the numbers.
    pub fn reset_seq_num_on_disconnect(&self) -> bool {
        self.reset_seq_num_on_disconnect
    }

    /// `ValidateCheckSum`: verify CheckSum(10) of inbound messages. Default `true`.
    pub fn validate_check_sum(&self) -> bool {
        self.validate_check_sum
    }

    /// `ValidateCompIds`: inbound SenderCompID(49)/TargetCompID(56) must match
    /// the session. Default `true`.
    pub fn validate_comp_ids(&self) -> bool {
        self.validate_comp_ids
    }

    /// `ValidateFieldsHaveValues`: reject inbound fields with an empty value
    /// (`tag=`). Default `true`.
    pub fn validate_fields_have_values(&self) -> bool {
        self.validate_fields_have_values
    }

    /// `ValidateFieldsOutOfOrder`: with a data dictionary, header fields first, body next, trailer last (SessionRejectReason 14). Default `true`.
    pub fn validate_fields_out_of_order(&self) -> bool {
        self.validate_fields_out_of_order
    }

    /// `ValidateFieldValues`: with a data dictionary, values have their field's type and, for enumerated fields, a listed value (6, 5). Default `true`.
    pub fn validate_field_values(&self) -> bool {
        self.validate_field_values
    }

    /// `ValidateUnknownFields`: with a data dictionary, tags unknown to the data dictionary, or not defined for the message, are rejected (0, 2). Default `true`.
    pub fn validate_unknown_fields(&self) -> bool {
        self.validate_unknown_fields
    }

    /// `ValidateRequiredFields`: with a data dictionary, the data dictionary's required fields must be present (1). Default `true`.
    pub fn validate_required_fields(&self) -> bool {
        self.validate_required_fields
    }

    /// `EnableNextExpectedMsgSeqNum`: handle and send
    /// NextExpectedMsgSeqNum(789) on Logon (FIX.4.4 and later). Default `false`.
    pub fn enable_next_expected_msg_seq_num(&self) -> bool {
        self.enable_next_expected_msg_seq_num
    }

    /// `Username`: the Username(553) the counterparty's Logon must carry.
    /// Default none (not checked).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// `Password`: the Password(554) the counterparty's Logon must carry.
    /// Default none (not checked).
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|secret| secret.0.as_str())
    }

    /// `AllowedRemoteAddresses`: the addresses the counterparty may connect
    /// from. Default `None`: any address.
    pub fn allowed_remote_addresses(&self) -> Option<&[IpNet]> {
        self.allowed_remote_addresses.as_deref()
    }

    /// Whether a connection from `address` is allowed by
    /// [`allowed_remote_addresses`](Self::allowed_remote_addresses).
    pub fn is_remote_address_allowed(&self, address: IpAddr) -> bool {
        self.allowed_remote_addresses
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|net| net.contains(address)))
    }

    /// Session-level `ListenPort`: a port this session is (also) accepted on.
    /// Default none: the engine's ports.
    pub fn listen_port(&self) -> Option<u16> {
        self.listen_port
    }

    /// `IdleStrategy`: how the session's thread waits when it has nothing to do.
    /// Default [`IdleStrategy::Park`].
    pub fn idle_strategy(&self) -> IdleStrategy {
        self.idle_strategy
    }

    /// `SpinTime`: how long a [`IdleStrategy::Spin`] session keeps polling after its
    /// last work before it parks. Default 10 ms.
    pub fn spin_time(&self) -> Duration {
        self.spin_time
    }

    /// `StorageSync`: when a persistent store writes through to the disk. Default
    /// [`SyncPolicy::None`].
    pub fn storage_sync(&self) -> SyncPolicy {
        self.storage_sync
    }

    /// `StorageSegmentSize`: the size at which a persistent store's message log
    /// starts a new segment file. Default 64 MiB.
    pub fn storage_segment_size(&self) -> u64 {
        self.storage_segment_size
    }

    /// `StorageMaxSegments`: how many log segments a persistent store keeps (the
    /// oldest are deleted beyond it); 0 keeps every one. Default 0.
    pub fn storage_max_segments(&self) -> usize {
        self.storage_max_segments
    }

    /// Sets `StorageSegmentSize`.
    #[must_use]
    pub fn with_storage_segment_size(mut self, bytes: u64) -> Self {
        self.storage_segment_size = bytes;
        self
    }

    /// Sets `StorageMaxSegments`.
    #[must_use]
    pub fn with_storage_max_segments(mut self, count: usize) -> Self {
        self.storage_max_segments = count;
        self
    }

    /// Sets `StorageSync`.
    #[must_use]
    pub fn with_storage_sync(mut self, policy: SyncPolicy) -> Self {
        self.storage_sync = policy;
        self
    }

    /// Sets `IdleStrategy`.
    #[must_use]
    pub fn with_idle_strategy(mut self, strategy: IdleStrategy) -> Self {
        self.idle_strategy = strategy;
        self
    }

    /// Sets `SpinTime`.
    #[must_use]
    pub fn with_spin_time(mut self, time: Duration) -> Self {
        self.spin_time = time;
        self
    }

    /// Sets `StorageType`.
    #[must_use]
    pub fn with_storage_type(mut self, storage_type: StorageType) -> Self {
        self.storage_type = storage_type;
        self
    }

    /// Sets `MinHeartBtInt` in seconds.
    #[must_use]
    pub fn with_min_heart_bt_int(mut self, seconds: u32) -> Self {
        self.min_heart_bt_int = seconds;
        self
    }

    /// Sets `MaxHeartBtInt` in seconds.
    #[must_use]
    pub fn with_max_heart_bt_int(mut self, seconds: u32) -> Self {
        self.max_heart_bt_int = seconds;
        self
    }

    /// Sets `LogoutTimeout`.
    #[must_use]
    pub fn with_logout_timeout(mut self, timeout: Duration) -> Self {
        self.logout_timeout = timeout;
        self
    }

    /// Sets `ReasonableTransmissionTime`.
    #[must_use]
    pub fn with_reasonable_transmission_time(mut self, time: Duration) -> Self {
        self.reasonable_transmission_time = time;
        self
    }

    /// Sets `CheckSendingTime`.
    #[must_use]
    pub fn with_check_sending_time(mut self, check: bool) -> Self {
        self.check_sending_time = check;
        self
    }

    /// Sets `MaxSendingTimeDelta`.
    #[must_use]
    pub fn with_max_sending_time_delta(mut self, delta: Duration) -> Self {
        self.max_sending_time_delta = delta;
        self
    }

    /// Sets `ResetSeqNumOnLogon`.
    #[must_use]
    pub fn with_reset_seq_num_on_logon(mut self, reset: bool) -> Self {
        self.reset_seq_num_on_logon = reset;
        self
    }

    /// Sets `ResetSeqNumOnLogout`.
    #[must_use]
    pub fn with_reset_seq_num_on_logout(mut self, reset: bool) -> Self {
        self.reset_seq_num_on_logout = reset;
        self
    }

    /// Sets `ResetSeqNumOnDisconnect`.
    #[must_use]
    pub fn with_reset_seq_num_on_disconnect(mut self, reset: bool) -> Self {
        self.reset_seq_num_on_disconnect = reset;
        self
    }

    /// Sets `ValidateCheckSum`.
    #[must_use]
    pub fn with_validate_check_sum(mut self, validate: bool) -> Self {
        self.validate_check_sum = validate;
        self
    }

    /// Sets `ValidateFieldsOutOfOrder`.
    #[must_use]
    pub fn with_validate_fields_out_of_order(mut self, validate: bool) -> Self {
        self.validate_fields_out_of_order = validate;
        self
    }

    /// Sets `ValidateFieldValues`.
    #[must_use]
    pub fn with_validate_field_values(mut self, validate: bool) -> Self {
        self.validate_field_values = validate;
        self
    }

    /// Sets `ValidateUnknownFields`.
    #[must_use]
    pub fn with_validate_unknown_fields(mut self, validate: bool) -> Self {
        self.validate_unknown_fields = validate;
        self
    }

    /// Sets `ValidateRequiredFields`.
    #[must_use]
    pub fn with_validate_required_fields(mut self, validate: bool) -> Self {
        self.validate_required_fields = validate;
        self
    }

    /// Sets `ValidateCompIds`.
    #[must_use]
    pub fn with_validate_comp_ids(mut self, validate: bool) -> Self {
        self.validate_comp_ids = validate;
        self
    }

    /// Sets `ValidateFieldsHaveValues`.
    #[must_use]
    pub fn with_validate_fields_have_values(mut self, validate: bool) -> Self {
        self.validate_fields_have_values = validate;
        self
    }

    /// Sets `EnableNextExpectedMsgSeqNum`.
    #[must_use]
    pub fn with_enable_next_expected_msg_seq_num(mut self, enable: bool) -> Self {
        self.enable_next_expected_msg_seq_num = enable;
        self
    }

    /// Sets `Username`.
    #[must_use]
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets `Password`.
    #[must_use]
    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret(password.into()));
        self
    }

    /// Sets `AllowedRemoteAddresses`. An empty list allows nobody; the default
    /// (never calling this) allows anybody.
    #[must_use]
    pub fn with_allowed_remote_addresses(mut self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.allowed_remote_addresses = Some(nets.into_iter().collect());
        self
    }

    /// Sets the session-level `ListenPort`.
    #[must_use]
    pub fn with_listen_port(mut self, port: u16) -> Self {
        self.listen_port = Some(port);
        self
    }

    fn check_heart_bt_int_range(&self, scope: &str) -> Result<(), ConfigError> {
        if self.min_heart_bt_int > self.max_heart_bt_int {
            return Err(invalid(format!(
                "{scope}: MinHeartBtInt ({} s) is greater than MaxHeartBtInt ({} s)",
                self.min_heart_bt_int, self.max_heart_bt_int
            )));
        }
        Ok(())
    }
}

/// `IdleStrategy`: how a session's thread waits for work.
///
/// | strategy | wake-up latency | CPU while idle |
/// |---|---|---|
/// | `Park` | a thread wake-up (tens of µs on a busy VM, a few µs on bare metal) | none |
/// | `Spin` | one poll loop (about a µs) | a whole core for `SpinTime` after each burst of work, then none |
///
/// Spinning helps only while the thread has a core of its own: on a machine with
/// two cores, spin one session at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdleStrategy {
    /// Sleep in the poller until an event or a deadline (efficiency mode).
    /// Spelled `park`.
    #[default]
    Park,
    /// Poll without sleeping for `SpinTime` after the last work, then park
    /// (latency mode). Spelled `spin`.
    Spin,
}

/// `StorageType`: where a session keeps its sequence numbers and sent messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StorageType {
    /// Memory-mapped files under the storage directory: survives restarts.
    /// Spelled `persistent` (or FIX Antenna's `persistentMM`) in the file.
    #[default]
    Persistent,
    /// In memory only: sequence numbers restart at 1 with the process.
    /// Spelled `transient` in the file.
    Transient,
}

impl StorageType {
    /// The spelling used in `engine.properties`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Persistent => "persistent",
            Self::Transient => "transient",
        }
    }
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IP network (CIDR block) such as `10.0.0.0/8` or `2001:db8::/32`, or a
/// single address (`/32`, `/128`), for `AllowedRemoteAddresses`.
///
/// The address is the network address: host bits after the prefix must be 0,
/// so a typo like `10.0.0.1/8` is refused rather than widened.
///
/// ```
/// use fixengine::config::IpNet;
///
/// let net: IpNet = "10.0.0.0/8".parse()?;
/// assert!(net.contains("10.1.2.3".parse().unwrap()));
/// assert!(!net.contains("11.0.0.1".parse().unwrap()));
/// // An IPv4 peer on a dual-stack socket appears as ::ffff:a.b.c.d, and matches.
/// assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
/// # Ok::<(), fixengine::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

impl IpNet {
    /// The network `addr/prefix_len`; `None` when the prefix is longer than
    /// the address (32 or 128 bits) or `addr` has bits set after the prefix.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        let net = Self { addr, prefix_len };
        let fits = prefix_len <= max_prefix_len(addr);
        (fits && net.masked(addr) == addr).then_some(net)
    }

    /// The network of the single address `addr` (`/32` or `/128`).
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix_len: max_prefix_len(addr),
        }
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `address` lies in this network. Families do not mix, except
    /// that an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is matched as its
    /// IPv4 address by an IPv4 network.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match (self.addr, address) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (IpAddr::V6(_), IpAddr::V4(_)) => return false,
            _ => address,
        };
        self.masked(address) == self.addr
    }

    fn masked(&self, address: IpAddr) -> IpAddr {
        match address {
            IpAddr::V4(v4) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        }
    }
}

impl FromStr for SyncPolicy {
    type Err = ConfigError;

    /// Parses a `StorageSync` value: `none`, `every` (each message on disk before
    /// it is sent, synced in groups: [`SyncPolicy::Group`]) or a message count
    /// from 1 ([`SyncPolicy::Periodic`]); case does not matter.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] for key `StorageSync`, with no line, naming the
    /// text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = match s.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            // The worker holds a message's bytes until its record is on disk.
            "every" => Some(Self::Group),
            // `u32::from_str` accepts a leading '+'; a properties file has no use
            // for it.
            n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse().ok().and_then(NonZeroU32::new).map(Self::Periodic)
            }
            _ => None,
        };
        parsed.ok_or_else(|| ConfigError::BadValue {
            line: None,
            key: "StorageSync".to_owned(),
            value: s.to_owned(),
            expected: EXPECTED_STORAGE_SYNC,
        })
    }
}

impl FromStr for IpNet {
    type Err = ConfigError;

    /// Parses `addr/prefix` or a bare address.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] for key `AllowedRemoteAddresses`, with no
    /// line, naming the text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let parsed = match text.split_once('/') {
            None => text.parse::<IpAddr>().ok().map(Self::host),
            Some((addr, prefix)) => match (addr.parse::<IpAddr>(), prefix.parse::<u8>()) {
                (Ok(addr), Ok(prefix_len)) => Self::new(addr, prefix_len),
                _ => None,
            },
        };
        parsed.ok_or_else(|| ConfigError::BadValue {
            line: None,
            key: "AllowedRemoteAddresses".to_owned(),
            value: text.to_owned(),
            expected: EXPECTED_CIDR,
        })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// A non-fatal problem in `engine.properties`: an unknown or duplicate key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// 1-based line number.
    pub line: usize,
    /// The key as written.
    pub key: String,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.key, self.message)
    }
}

/// A configuration that cannot be used; the fault is the configuration's (or
/// the file system's, for [`ConfigError::Io`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The properties file could not be read.
    #[error("cannot read configuration file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is neither blank, a comment, nor `Key = Value`.
    #[error("line {line}: expected `Key = Value` or a comment, found {text:?}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// The line as written.
        text: String,
    },
    /// A `Session.` key does not have the form `Session.Default.<Key>` or
    /// `Session.<SenderCompID>/<TargetCompID>.<Key>`.
    #[error("line {line}: bad key {key:?}: expected {expected}")]
    BadKey {
        /// 1-based line number.
        line: usize,
        /// The key as written.
        key: String,
        /// What the key should look like.
        expected: &'static str,
    },
    /// A value does not parse as its key requires.
    #[error("{}{key} = {value:?}: expected {expected}", LinePrefix(*.line))]
    BadValue {
        /// 1-based line number; `None` for a value set from code.
        line: Option<usize>,
        /// The key as written.
        key: String,
        /// The offending value (for a list, the offending item).
        value: String,
        /// What the key accepts.
        expected: &'static str,
    },
    /// Values that each parse but together break a rule.
    #[error("invalid configuration: {what}")]
    Invalid {
        /// The rule broken, with the keys and values involved.
        what: String,
    },
}

// ---- helpers ----------------------------------------------------------

/// A per-session entry: the keys a file named (applied over the defaults at
/// lookup, so later changes to the defaults still show through), or a
/// complete configuration given from code.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SessionEntry {
    Overrides(Vec<Setting>),
    Full(SessionConfig),
}

/// One parsed session key. Optional keys carry `None` for an empty value, so
/// a session can clear a credential or allow-list its defaults set.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    StorageType(StorageType),
    MinHeartBtInt(u32),
    MaxHeartBtInt(u32),
    LogoutTimeout(Duration),
    ReasonableTransmissionTime(Duration),
    CheckSendingTime(bool),
    MaxSendingTimeDelta(Duration),
    ResetSeqNumOnLogon(bool),
    ResetSeqNumOnLogout(bool),
    ResetSeqNumOnDisconnect(bool),
    ValidateCheckSum(bool),
    ValidateCompIds(bool),
    ValidateFieldsHaveValues(bool),
    ValidateFieldsOutOfOrder(bool),
    ValidateFieldValues(bool),
    ValidateUnknownFields(bool),
    ValidateRequiredFields(bool),
    EnableNextExpectedMsgSeqNum(bool),
    Username(Option<String>),
    Password(Option<Secret>),
    AllowedRemoteAddresses(Option<Vec<IpNet>>),
    ListenPort(Option<u16>),
    IdleStrategy(IdleStrategy),
    SpinTime(Duration),
    StorageSync(SyncPolicy),
    StorageSegmentSize(u64),
    StorageMaxSegments(usize),
}

impl Setting {
    /// Parses the value of session key `name`; `Ok(None)` when `name` is not
    /// a session key. `key` is the key as written, for error messages.
    fn parse(name: &str, value: &str, key: &str, line: usize) -> Result<Option<Self>, ConfigError> {
        let at = Source { key, value, line };
        let setting = match name {
            "StorageType" => Self::StorageType(at.storage_type()?),
            "MinHeartBtInt" => Self::MinHeartBtInt(at.number(EXPECTED_SECONDS)?),
            "MaxHeartBtInt" => Self::MaxHeartBtInt(at.number(EXPECTED_SECONDS)?),
            "LogoutTimeout" => Self::LogoutTimeout(at.millis()?),
            "ReasonableTransmissionTime" => Self::ReasonableTransmissionTime(at.millis()?),
            "CheckSendingTime" => Self::CheckSendingTime(at.boolean()?),
            "MaxSendingTimeDelta" => {
                Self::MaxSendingTimeDelta(Duration::from_secs(at.number(EXPECTED_SECONDS)?))
            }
            "ResetSeqNumOnLogon" => Self::ResetSeqNumOnLogon(at.boolean()?),
            "ResetSeqNumOnLogout" => Self::ResetSeqNumOnLogout(at.boolean()?),
            "ResetSeqNumOnDisconnect" => Self::ResetSeqNumOnDisconnect(at.boolean()?),
            "ValidateCheckSum" => Self::ValidateCheckSum(at.boolean()?),
            "ValidateCompIds" => Self::ValidateCompIds(at.boolean()?),
            "ValidateFieldsHaveValues" => Self::ValidateFieldsHaveValues(at.boolean()?),
            "ValidateFieldsOutOfOrder" => Self::ValidateFieldsOutOfOrder(at.boolean()?),
            "ValidateFieldValues" => Self::ValidateFieldValues(at.boolean()?),
            "ValidateUnknownFields" => Self::ValidateUnknownFields(at.boolean()?),
            "ValidateRequiredFields" => Self::ValidateRequiredFields(at.boolean()?),
            "EnableNextExpectedMsgSeqNum" => Self::EnableNextExpectedMsgSeqNum(at.boolean()?),
            "Username" => Self::Username(at.optional_text()),
            "Password" => Self::Password(at.optional_text().map(Secret)),
            "AllowedRemoteAddresses" => Self::AllowedRemoteAddresses(at.ip_nets()?),
            "ListenPort" => Self::ListenPort(if value.is_empty() {
                None
            } else {
                Some(at.port(value)?)
            }),
            "IdleStrategy" => Self::IdleStrategy(at.idle_strategy()?),
            "StorageSync" => Self::StorageSync(at.storage_sync()?),
            "StorageSegmentSize" => Self::StorageSegmentSize(at.byte_size()? as u64),
            "StorageMaxSegments" => Self::StorageMaxSegments(at.number(EXPECTED_COUNT)?),
            "SpinTime" => Self::SpinTime(Duration::from_micros(at.number(EXPECTED_MICROS)?)),
            _ => return Ok(None),
        };
        Ok(Some(setting))
    }

    fn apply(&self, config: &mut SessionConfig) {
        match self {
            Self::StorageType(v) => config.storage_type = *v,
            Self::MinHeartBtInt(v) => config.min_heart_bt_int = *v,
            Self::MaxHeartBtInt(v) => config.max_heart_bt_int = *v,
            Self::LogoutTimeout(v) => config.logout_timeout = *v,
            Self::ReasonableTransmissionTime(v) => config.reasonable_transmission_time = *v,
            Self::CheckSendingTime(v) => config.check_sending_time = *v,
            Self::MaxSendingTimeDelta(v) => config.max_sending_time_delta = *v,
            Self::ResetSeqNumOnLogon(v) => config.reset_seq_num_on_logon = *v,
            Self::ResetSeqNumOnLogout(v) => config.reset_seq_num_on_logout = *v,
            Self::ResetSeqNumOnDisconnect(v) => config.reset_seq_num_on_disconnect = *v,
            Self::ValidateCheckSum(v) => config.validate_check_sum = *v,
            Self::ValidateCompIds(v) => config.validate_comp_ids = *v,
            Self::ValidateFieldsHaveValues(v) => config.validate_fields_have_values = *v,
            Self::ValidateFieldsOutOfOrder(v) => config.validate_fields_out_of_order = *v,
            Self::ValidateFieldValues(v) => config.validate_field_values = *v,
            Self::ValidateUnknownFields(v) => config.validate_unknown_fields = *v,
            Self::ValidateRequiredFields(v) => config.validate_required_fields = *v,
            Self::EnableNextExpectedMsgSeqNum(v) => config.enable_next_expected_msg_seq_num = *v,
            Self::Username(v) => config.username.clone_from(v),
            Self::Password(v) => config.password.clone_from(v),
            Self::AllowedRemoteAddresses(v) => config.allowed_remote_addresses.clone_from(v),
            Self::ListenPort(v) => config.listen_port = *v,
            Self::IdleStrategy(v) => config.idle_strategy = *v,
            Self::SpinTime(v) => config.spin_time = *v,
            Self::StorageSync(v) => config.storage_sync = *v,
            Self::StorageSegmentSize(v) => config.storage_segment_size = *v,
            Self::StorageMaxSegments(v) => config.storage_max_segments = *v,
        }
    }
}

/// A password: compared and handed out, never printed.
#[derive(Clone, PartialEq, Eq)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Prints `line N: ` for values from a file and nothing for values from code.
struct LinePrefix(Option<usize>);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, "line {line}: "),
            None => Ok(()),
        }
    }
}

/// Where a value came from, so every parse error can name key, line and value.
#[derive(Clone, Copy)]
struct Source<'a> {
    key: &'a str,
    value: &'a str,
    line: usize,
}

impl Source<'_> {
    fn bad(&self, value: &str, expected: &'static str) -> ConfigError {
        ConfigError::BadValue {
            line: Some(self.line),
            key: self.key.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }

    fn boolean(&self) -> Result<bool, ConfigError> {
        match self.value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(true),
            "false" | "no" | "n" | "0" => Ok(false),
            _ => Err(self.bad(self.value, EXPECTED_BOOL)),
        }
    }

    fn number<T: FromStr>(&self, expected: &'static str) -> Result<T, ConfigError> {
        // `u64::from_str` accepts a leading '+'; a properties file has no use for it.
        if !self.value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.bad(self.value, expected));
        }
        self.value
            .parse()
            .map_err(|_| self.bad(self.value, expected))
    }

    fn millis(&self) -> Result<Duration, ConfigError> {
        self.number(EXPECTED_MILLIS).map(Duration::from_millis)
    }

    fn port(&self, item: &str) -> Result<u16, ConfigError> {
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.bad(item, EXPECTED_PORT));
        }
        item.parse().map_err(|_| self.bad(item, EXPECTED_PORT))
    }

    fn ports(&self) -> Result<Vec<u16>, ConfigError> {
        let mut ports = Vec::new();
        if self.value.is_empty() {
            return Ok(ports);
        }
        for item in self.value.split(',') {
            let port = self.port(item.trim())?;
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        Ok(ports)
    }

    fn byte_size(&self) -> Result<usize, ConfigError> {
        let split = self
            .value
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.value.len());
        let (digits, suffix) = self.value.split_at(split);
        let multiplier: usize = match suffix.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            _ => return Err(self.bad(self.value, EXPECTED_SIZE)),
        };
        digits
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_mul(multiplier))
            .ok_or_else(|| self.bad(self.value, EXPECTED_SIZE))
    }

    fn storage_type(&self) -> Result<StorageType, ConfigError> {
        match self.value.to_ascii_lowercase().as_str() {
            // FIX Antenna C++ names its memory-mapped store `persistentMM`; ours is one.
            "persistent" | "persistentmm" => Ok(StorageType::Persistent),
            "transient" => Ok(StorageType::Transient),
            _ => Err(self.bad(self.value, EXPECTED_STORAGE_TYPE)),
        }
    }

    fn storage_sync(&self) -> Result<SyncPolicy, ConfigError> {
        self.value
            .parse()
            .map_err(|_| self.bad(self.value, EXPECTED_STORAGE_SYNC))
    }

    fn idle_strategy(&self) -> Result<IdleStrategy, ConfigError> {
        match self.value.to_ascii_lowercase().as_str() {
            "park" => Ok(IdleStrategy::Park),
            "spin" => Ok(IdleStrategy::Spin),
            _ => Err(self.bad(self.value, EXPECTED_IDLE_STRATEGY)),
        }
    }

    fn optional_text(&self) -> Option<String> {
        (!self.value.is_empty()).then(|| self.value.to_owned())
    }

    fn ip_nets(&self) -> Result<Option<Vec<IpNet>>, ConfigError> {
        if self.value.is_empty() || self.value == "*" {
            return Ok(None);
        }
        self.value
            .split(',')
            .map(|item| {
                let item = item.trim();
                item.parse::<IpNet>()
                    .map_err(|_| self.bad(item, EXPECTED_CIDR))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

fn parse_properties(text: &str) -> Result<(EngineConfig, Vec<ConfigWarning>), ConfigError> {
    let mut config = EngineConfig::default();
    let mut warnings = Vec::new();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        // Editors on Windows may save a byte-order mark; it is not part of the first key.
        let raw = if index == 0 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        let syntax = || ConfigError::Syntax {
            line,
            text: raw.to_owned(),
        };
        let (key, value) = trimmed.split_once('=').ok_or_else(syntax)?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(syntax());
        }
        if let Some(previous) = first_seen.insert(key, line) {
            warnings.push(ConfigWarning {
                line,
                key: key.to_owned(),
                message: format!("duplicate key (also set at line {previous}); this value wins"),
            });
        }
        config.apply_property(key, value, line, &mut warnings)?;
    }
    config.validate()?;
    Ok((config, warnings))
}

impl EngineConfig {
    fn apply_property(
        &mut self,
        key: &str,
        value: &str,
        line: usize,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<(), ConfigError> {
        let Some(rest) = key.strip_prefix("Session.") else {
            return self.apply_engine_property(key, value, line, warnings);
        };
        // Key names have no dots, CompIDs may: the key name is after the last dot.
        let bad_key = || ConfigError::BadKey {
            line,
            key: key.to_owned(),
            expected: EXPECTED_SESSION_KEY,
        };
        let (scope, name) = rest.rsplit_once('.').ok_or_else(bad_key)?;
        let sender_target = if scope == "Default" {
            None
        } else {
            let (sender, target) = scope.split_once('/').ok_or_else(bad_key)?;
            if !is_valid_comp_id(sender) || !is_valid_comp_id(target) {
                return Err(bad_key());
            }
            Some((sender, target))
        };
        let Some(setting) = Setting::parse(name, value, key, line)? else {
            let message = if ENGINE_KEYS.contains(&name) {
                format!("{name} is an engine key: write it without the Session. prefix; ignored")
            } else {
                unknown_key_message(name, SESSION_KEYS)
            };
            warnings.push(ConfigWarning {
                line,
                key: key.to_owned(),
                message,
            });
            return Ok(());
        };
        match sender_target {
            None => setting.apply(&mut self.session_defaults),
            Some((sender, target)) => {
                let entry = self
                    .sessions
                    .entry((sender.to_owned(), target.to_owned()))
                    .or_insert_with(|| SessionEntry::Overrides(Vec::new()));
                match entry {
                    SessionEntry::Overrides(settings) => settings.push(setting),
                    SessionEntry::Full(config) => setting.apply(config),
                }
            }
        }
        Ok(())
    }

    fn apply_engine_property(
        &mut self,
        key: &str,
        value: &str,
        line: usize,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<(), ConfigError> {
        let at = Source { key, value, line };
        match key {
            "ListenPort" => self.listen_ports = at.ports()?,
            "ListenAddress" => {
                self.listen_address = value
                    .parse()
                    .map_err(|_| at.bad(value, EXPECTED_IP_ADDRESS))?;
            }
            "StorageDirectory" => {
                if value.is_empty() {
                    return Err(at.bad(value, EXPECTED_DIRECTORY));
                }
                self.storage_directory = PathBuf::from(value);
            }
            "CreateUnregisteredAcceptorSession" => {
                self.create_unregistered_acceptor_session = at.boolean()?;
            }
            "LogonTimeout" => self.logon_timeout = at.millis()?,
            "MaxPendingConnections" => self.max_pending_connections = at.number(EXPECTED_COUNT)?,
            "MaxMessageSize" => self.max_message_size = at.byte_size()?,
            _ => {
                let message = if SESSION_KEYS.contains(&key) {
                    format!(
                        "{key} is a session key: write Session.Default.{key} or \
                         Session.<SenderCompID>/<TargetCompID>.{key}; ignored"
                    )
                } else {
                    unknown_key_message(key, ENGINE_KEYS)
                };
                warnings.push(ConfigWarning {
                    line,
                    key: key.to_owned(),
                    message,
                });
            }
        }
        Ok(())
    }
}

fn unknown_key_message(name: &str, known: &[&str]) -> String {
    match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(close) => {
            format!("unknown key (keys are case-sensitive: did you mean {close}?); ignored")
        }
        None => "unknown key; ignored".to_owned(),
    }
}

fn invalid(what: String) -> ConfigError {
    ConfigError::Invalid { what }
}

fn max_prefix_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

// Mirrors `crate::id::CompId::new`; config stays free of other crate modules
// so it can be read (and tested) on its own.
/// One rule for CompIDs everywhere: the one `CompId` enforces.
fn is_valid_comp_id(value: &str) -> bool {
    crate::id::CompId::new(value).is_ok()
}
/// Smaller than any Logon, so a smaller limit could never admit a session.
const MIN_MAX_MESSAGE_SIZE: usize = 64;

const ENGINE_KEYS: &[&str] = &[
    "ListenPort",
    "ListenAddress",
    "StorageDirectory",
    "CreateUnregisteredAcceptorSession",
    "LogonTimeout",
    "MaxPendingConnections",
    "MaxMessageSize",
];

const SESSION_KEYS: &[&str] = &[
    "StorageType",
    "MinHeartBtInt",
    "MaxHeartBtInt",
    "LogoutTimeout",
    "ReasonableTransmissionTime",
    "CheckSendingTime",
    "MaxSendingTimeDelta",
    "ResetSeqNumOnLogon",
    "ResetSeqNumOnLogout",
    "ResetSeqNumOnDisconnect",
    "ValidateCheckSum",
    "ValidateCompIds",
    "ValidateFieldsHaveValues",
    "ValidateFieldsOutOfOrder",
    "ValidateFieldValues",
    "ValidateUnknownFields",
    "ValidateRequiredFields",
    "EnableNextExpectedMsgSeqNum",
    "Username",
    "Password",
    "AllowedRemoteAddresses",
    "ListenPort",
    "IdleStrategy",
    "SpinTime",
    "StorageSync",
    "StorageSegmentSize",
    "StorageMaxSegments",
];

const EXPECTED_BOOL: &str = "a boolean: true/false, yes/no, y/n or 1/0";
const EXPECTED_PORT: &str = "a TCP port number from 0 to 65535 (or a comma list of them)";
const EXPECTED_SECONDS: &str = "a whole number of seconds";
const EXPECTED_MILLIS: &str = "a whole number of milliseconds";
const EXPECTED_COUNT: &str = "a whole number";
const EXPECTED_SIZE: &str =
    "a size in bytes, optionally with a suffix B, Kb, Mb or Gb (1024-based), e.g. 1Mb";
const EXPECTED_STORAGE_TYPE: &str = "persistent or transient";
const EXPECTED_IDLE_STRATEGY: &str = "park or spin";
const EXPECTED_STORAGE_SYNC: &str = "none, every, or a message count from 1";
const EXPECTED_MICROS: &str = "a whole number of microseconds";
const EXPECTED_IP_ADDRESS: &str = "an IPv4 or IPv6 address such as 0.0.0.0 or ::";
const EXPECTED_DIRECTORY: &str = "a directory path";
const EXPECTED_CIDR: &str =
    "an IP address or CIDR block with no host bits set, e.g. 10.0.0.0/8 or 127.0.0.1";
const EXPECTED_SESSION_KEY: &str = "Session.Default.<Key> or Session.<SenderCompID>/<TargetCompID>.<Key>, \
     where each CompID is 1 to 64 printable ASCII characters without '='";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (EngineConfig, Vec<ConfigWarning>) {
        EngineConfig::from_properties_str(text).unwrap()
    }

    fn parse_err(text: &str) -> ConfigError {
        EngineConfig::from_properties_str(text).unwrap_err()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    /// Asserts a `BadValue` with this line, key and value, whose message names all three.
    fn assert_bad_value(err: &ConfigError, line: usize, key: &str, value: &str) {
        match err {
            ConfigError::BadValue {
                line: l,
                key: k,
                value: v,
                ..
            } => {
                assert_eq!((*l, k.as_str(), v.as_str()), (Some(line), key, value));
            }
            other => panic!("expected BadValue, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(&format!("line {line}")), "{message}");
        assert!(message.contains(key), "{message}");
        assert!(message.contains(value), "{message}");
        assert!(message.contains("expected"), "{message}");
    }

    #[test]
    fn defaults() {
        let config = EngineConfig::default();
        assert!(config.listen_ports().is_empty());
        assert!(config.all_listen_ports().is_empty());
        assert_eq!(config.listen_address(), ip("0.0.0.0"));
        assert_eq!(config.storage_directory(), Path::new("logs"));
        assert!(!config.create_unregistered_acceptor_session());
        assert_eq!(config.logon_timeout(), Duration::from_millis(5000));
        assert_eq!(config.max_pending_connections(), 1024);
        assert_eq!(config.max_message_size(), 1_048_576);
        assert_eq!(config.sessions().count(), 0);
        config.validate().unwrap();

        let s = config.session_defaults();
        assert_eq!(s, &SessionConfig::default());
        assert_eq!(s.storage_type(), StorageType::Persistent);
        assert_eq!((s.min_heart_bt_int(), s.max_heart_bt_int()), (1, 3600));
        assert_eq!(s.logout_timeout(), Duration::from_millis(2000));
        assert_eq!(
            s.reasonable_transmission_time(),
            Duration::from_millis(1000)
        );
        assert!(s.check_sending_time());
        assert_eq!(s.max_sending_time_delta(), Duration::from_secs(120));
        assert!(!s.reset_seq_num_on_logon());
        assert!(!s.reset_seq_num_on_logout());
        assert!(!s.reset_seq_num_on_disconnect());
        assert!(s.validate_check_sum());
        assert!(s.validate_comp_ids());
        assert!(s.validate_fields_have_values());
        assert!(!s.enable_next_expected_msg_seq_num());
        assert_eq!(s.username(), None);
        assert_eq!(s.password(), None);
        assert_eq!(s.allowed_remote_addresses(), None);
        assert!(s.is_remote_address_allowed(ip("203.0.113.9")));
        assert_eq!(s.listen_port(), None);
        assert_eq!(config.session_config("A", "B"), *s);

        let (empty, warnings) = parse("");
        assert_eq!(empty, config);
        assert!(warnings.is_empty());
    }

    #[test]
    fn parses_every_key() {
        let text = "\
ListenPort = 9880, 9881
ListenAddress = ::1
StorageDirectory = /var/lib/fix
CreateUnregisteredAcceptorSession = yes
LogonTimeout = 1500
MaxPendingConnections = 16
MaxMessageSize = 64Kb
Session.Default.StorageType = transient
Session.Default.MinHeartBtInt = 5
Session.Default.MaxHeartBtInt = 90
Session.Default.LogoutTimeout = 750
Session.Default.ReasonableTransmissionTime = 250
Session.Default.CheckSendingTime = N
Session.Default.MaxSendingTimeDelta = 30
Session.Default.ResetSeqNumOnLogon = Y
Session.Default.ResetSeqNumOnLogout = 1
Session.Default.ResetSeqNumOnDisconnect = TRUE
Session.Default.ValidateCheckSum = false
Session.Default.ValidateCompIds = no
Session.Default.ValidateFieldsHaveValues = 0
Session.Default.EnableNextExpectedMsgSeqNum = true
Session.Default.Username = alice
Session.Default.Password = s3cret
Session.Default.AllowedRemoteAddresses = 10.0.0.0/8, 127.0.0.1, 2001:db8::/32
Session.Default.ListenPort = 9882
";
        let (config, warnings) = parse(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.listen_ports(), &[9880, 9881]);
        assert_eq!(config.all_listen_ports(), vec![9880, 9881, 9882]);
        assert_eq!(config.listen_address(), ip("::1"));
        assert_eq!(config.storage_directory(), Path::new("/var/lib/fix"));
        assert!(config.create_unregistered_acceptor_session());
        assert_eq!(config.logon_timeout(), Duration::from_millis(1500));
        assert_eq!(config.max_pending_connections(), 16);
        assert_eq!(config.max_message_size(), 64 * 1024);

        let s = config.session_defaults();
        assert_eq!(s.storage_type(), StorageType::Transient);
        assert_eq!((s.min_heart_bt_int(), s.max_heart_bt_int()), (5, 90));
        assert_eq!(s.logout_timeout(), Duration::from_millis(750));
        assert_eq!(s.reasonable_transmission_time(), Duration::from_millis(250));
        assert!(!s.check_sending_time());
        assert_eq!(s.max_sending_time_delta(), Duration::from_secs(30));
        assert!(s.reset_seq_num_on_logon());
        assert!(s.reset_seq_num_on_logout());
        assert!(s.reset_seq_num_on_disconnect());
        assert!(!s.validate_check_sum());
        assert!(!s.validate_comp_ids());
        assert!(!s.validate_fields_have_values());
        assert!(s.enable_next_expected_msg_seq_num());
        assert_eq!(s.username(), Some("alice"));
        assert_eq!(s.password(), Some("s3cret"));
        assert_eq!(
            s.allowed_remote_addresses(),
            Some(&[net("10.0.0.0/8"), net("127.0.0.1/32"), net("2001:db8::/32")][..])
        );
        assert_eq!(s.listen_port(), Some(9882));
        // The same keys per session land on that session only.
        let per_session = text
            .lines()
            .filter_map(|l| l.strip_prefix("Session.Default."))
            .map(|l| format!("Session.ME/YOU.{l}\n"))
            .collect::<String>();
        let (config2, warnings) = parse(&per_session);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config2.session_config("ME", "YOU"), *s);
        assert_eq!(config2.session_defaults(), &SessionConfig::default());
    }

    #[test]
    fn per_session_beats_default_beats_built_in() {
        let (config, warnings) = parse(
            "Session.Default.MaxHeartBtInt = 120\n\
             Session.Default.Username = everyone\n\
             Session.ISLD/TW.MaxHeartBtInt = 60\n\
             Session.ISLD/TW.Username =\n\
             Session.ISLD/TW.ListenPort = 9881\n\
             Session.A.B/C.D.CheckSendingTime = false\n",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let isld = config.session_config("ISLD", "TW");
        assert_eq!(isld.max_heart_bt_int(), 60); // per-session
        assert_eq!(isld.username(), None); // per-session empty value clears the default
        assert_eq!(isld.listen_port(), Some(9881));
        assert_eq!(isld.min_heart_bt_int(), 1); // built-in
        let other = config.session_config("ISLD", "OTHER");
        assert_eq!(other.max_heart_bt_int(), 120); // Session.Default
        assert_eq!(other.username(), Some("everyone"));
        assert_eq!(&other, config.session_defaults());
        // CompIDs may contain dots; the key name is after the last one.
        assert!(!config.session_config("A.B", "C.D").check_sending_time());
        assert_eq!(
            config.sessions().collect::<Vec<_>>(),
            vec![("A.B", "C.D"), ("ISLD", "TW")]
        );
        assert_eq!(config.all_listen_ports(), vec![9881]);
        // Overrides sit on top of the defaults, including defaults changed later in code.
        let config =
            config.with_session_defaults(SessionConfig::default().with_min_heart_bt_int(7));
        let isld = config.session_config("ISLD", "TW");
        assert_eq!((isld.min_heart_bt_int(), isld.max_heart_bt_int()), (7, 60));
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let text = "\u{feff}# a comment\r\n\
                    \r\n\
                    ! a Java-style comment\n\
                    \t   # indented comment\n\
                    \x20  ListenPort   =   9880  \r\n\
                    \n\
                    StorageDirectory=data dir\n\
                    Session.Default.Password =\n\
                    Session.Default.AllowedRemoteAddresses = *\n";
        let (config, warnings) = parse(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.listen_ports(), &[9880]);
        assert_eq!(config.storage_directory(), Path::new("data dir"));
        assert_eq!(config.session_defaults().password(), None);
        assert_eq!(config.session_defaults().allowed_remote_addresses(), None);
        // Only the first `=` separates: the rest belongs to the value.
        let (config, _) = parse("Session.Default.Password = a=b#c\n");
        assert_eq!(config.session_defaults().password(), Some("a=b#c"));
    }

    #[test]
    fn unknown_key_is_a_warning_naming_key_and_line() {
        let (config, warnings) = parse(
            "ListenPort = 9880\n\
             # comment\n\
             NumberOfWorkers = 2\n\
             Session.Default.Frobnicate = 1\n\
             listenport = 1\n\
             MinHeartBtInt = 5\n\
             Session.Default.LogonTimeout = 10\n",
        );
        assert_eq!(config.listen_ports(), &[9880]);
        assert_eq!(config.logon_timeout(), Duration::from_millis(5000));
        assert_eq!(config.session_defaults().min_heart_bt_int(), 1);
        let got: Vec<_> = warnings.iter().map(|w| (w.line, w.key.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "NumberOfWorkers"),
                (4, "Session.Default.Frobnicate"),
                (5, "listenport"),
                (6, "MinHeartBtInt"),
                (7, "Session.Default.LogonTimeout"),
            ]
        );
        assert_eq!(
            warnings[0].to_string(),
            "line 3: NumberOfWorkers: unknown key; ignored"
        );
        assert!(warnings[2].message.contains("did you mean ListenPort"));
        assert!(
            warnings[3]
                .message
                .contains("Session.Default.MinHeartBtInt")
        );
        assert!(warnings[4].message.contains("engine key"));
    }

    #[test]
    fn duplicate_key_last_wins_with_warning() {
        let (config, warnings) = parse("LogonTimeout = 100\nListenPort = 1\nLogonTimeout = 200\n");
        assert_eq!(config.logon_timeout(), Duration::from_millis(200));
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            (warnings[0].line, warnings[0].key.as_str()),
            (3, "LogonTimeout")
        );
        assert!(warnings[0].message.contains("line 1"), "{}", warnings[0]);
    }

    #[test]
    fn bad_port() {
        let err = parse_err("# ports\nListenPort = 9880, 70000\n");
        assert_bad_value(&err, 2, "ListenPort", "70000");
        assert_bad_value(&parse_err("ListenPort = http\n"), 1, "ListenPort", "http");
        assert_bad_value(&parse_err("ListenPort = 9880,\n"), 1, "ListenPort", "");
        assert_bad_value(&parse_err("ListenPort = -1\n"), 1, "ListenPort", "-1");
        assert_bad_value(
            &parse_err("Session.A/B.ListenPort = 1, 2\n"),
            1,
            "Session.A/B.ListenPort",
            "1, 2",
        );
        // The empty list is valid and means: accept nothing.
        assert!(parse("ListenPort =\n").0.listen_ports().is_empty());
        assert_eq!(parse("ListenPort = 1,1, 2\n").0.listen_ports(), &[1, 2]);
    }

    #[test]
    fn bad_bool() {
        let err = parse_err("\nSession.Default.CheckSendingTime = maybe\n");
        assert_bad_value(&err, 2, "Session.Default.CheckSendingTime", "maybe");
        assert!(err.to_string().contains("true/false"), "{err}");
        let err = parse_err("CreateUnregisteredAcceptorSession = 2\n");
        assert_bad_value(&err, 1, "CreateUnregisteredAcceptorSession", "2");
        for (text, expected) in [
            ("true", true),
            ("FALSE", false),
            ("Yes", true),
            ("no", false),
            ("y", true),
            ("N", false),
            ("1", true),
            ("0", false),
        ] {
            let (config, _) = parse(&format!("CreateUnregisteredAcceptorSession = {text}\n"));
            assert_eq!(
                config.create_unregistered_acceptor_session(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn bad_number() {
        assert_bad_value(&parse_err("LogonTimeout = 5s\n"), 1, "LogonTimeout", "5s");
        assert_bad_value(&parse_err("LogonTimeout = +5\n"), 1, "LogonTimeout", "+5");
        assert_bad_value(
            &parse_err("Session.X/Y.MinHeartBtInt = -1\n"),
            1,
            "Session.X/Y.MinHeartBtInt",
            "-1",
        );
        assert_bad_value(
            &parse_err("Session.Default.MaxHeartBtInt = 99999999999\n"),
            1,
            "Session.Default.MaxHeartBtInt",
            "99999999999",
        );
        assert_bad_value(
            &parse_err("MaxPendingConnections =\n"),
            1,
            "MaxPendingConnections",
            "",
        );
        assert_bad_value(
            &parse_err("ListenAddress = localhost\n"),
            1,
            "ListenAddress",
            "localhost",
        );
        assert_bad_value(
            &parse_err("StorageDirectory =\n"),
            1,
            "StorageDirectory",
            "",
        );
    }

    #[test]
    fn bad_cidr() {
        let err = parse_err(
            "Session.Default.AllowedRemoteAddresses = 10.0.0.0/8, 10.0.0.0/33, 127.0.0.1\n",
        );
        assert_bad_value(
            &err,
            1,
            "Session.Default.AllowedRemoteAddresses",
            "10.0.0.0/33",
        );
        for bad in [
            "10.0.0.1/8",
            "example.com",
            "1.2.3.4/",
            "::/129",
            "1.2.3/24",
            "",
        ] {
            let text = format!("Session.A/B.AllowedRemoteAddresses = 127.0.0.1, {bad}\n");
            assert_bad_value(
                &parse_err(&text),
                1,
                "Session.A/B.AllowedRemoteAddresses",
                bad,
            );
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        let err = "10.0.0.1/8".parse::<IpNet>().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("AllowedRemoteAddresses = \"10.0.0.1/8\": expected {EXPECTED_CIDR}")
        );
    }

    #[test]
    fn byte_sizes() {
        for (text, bytes) in [
            ("4096", 4096),
            ("64Kb", 65_536),
            ("64kb", 65_536),
            ("64 KB", 65_536),
            ("2k", 2048),
            ("1Mb", 1_048_576),
            ("1MiB", 1_048_576),
            ("1gb", 1 << 30),
            ("100b", 100),
        ] {
            let (config, _) = parse(&format!("MaxMessageSize = {text}\n"));
            assert_eq!(config.max_message_size(), bytes, "{text}");
        }
    }

    #[test]
    fn bad_size_suffix() {
        let err = parse_err("MaxMessageSize = 10Tb\n");
        assert_bad_value(&err, 1, "MaxMessageSize", "10Tb");
        assert!(err.to_string().contains("Kb"), "{err}");
        for bad in ["Mb", "1.5Mb", "-1", "1 M b", "99999999999999999999Gb"] {
            assert_bad_value(
                &parse_err(&format!("MaxMessageSize = {bad}\n")),
                1,
                "MaxMessageSize",
                bad,
            );
        }
    }

    #[test]
    fn storage_sync_values() {
        let (config, _) = parse(
            "Session.Default.StorageSync = EVERY\nSession.A/B.StorageSync = 64\n\
             Session.C/D.StorageSync = none\n",
        );
        assert_eq!(config.session_defaults().storage_sync(), SyncPolicy::Group);
        assert_eq!(
            config.session_config("A", "B").storage_sync(),
            SyncPolicy::Periodic(NonZeroU32::new(64).unwrap())
        );
        assert_eq!(
            config.session_config("C", "D").storage_sync(),
            SyncPolicy::None
        );
        for bad in ["0", "+5", "-1", "", "always", "99999999999"] {
            assert_bad_value(
                &parse_err(&format!("Session.Default.StorageSync = {bad}\n")),
                1,
                "Session.Default.StorageSync",
                bad,
            );
            // The same rules from code (the example acceptor's --storage-sync).
            let err = bad.parse::<SyncPolicy>().unwrap_err();
            assert!(
                matches!(&err, ConfigError::BadValue { line: None, key, .. } if key == "StorageSync"),
                "{err:?}"
            );
        }
        assert_eq!("Every".parse::<SyncPolicy>().unwrap(), SyncPolicy::Group);
    }

    #[test]
    fn bad_storage_type() {
        let err = parse_err("Session.Default.StorageType = disk\n");
        assert_bad_value(&err, 1, "Session.Default.StorageType", "disk");
        assert!(err.to_string().contains("persistent or transient"), "{err}");
        let (config, _) = parse(
            "Session.Default.StorageType = Transient\nSession.A/B.StorageType = persistentMM\n",
        );
        assert_eq!(
            config.session_defaults().storage_type(),
            StorageType::Transient
        );
        assert_eq!(
            config.session_config("A", "B").storage_type(),
            StorageType::Persistent
        );
    }

    #[test]
    fn syntax_error_names_line_and_text() {
        let err = parse_err("ListenPort = 9880\n\n# ok\nLogonTimeout 5000\n");
        match &err {
            ConfigError::Syntax { line, text } => {
                assert_eq!((*line, text.as_str()), (4, "LogonTimeout 5000"));
            }
            other => panic!("expected Syntax, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "line 4: expected `Key = Value` or a comment, found \"LogonTimeout 5000\""
        );
        assert!(matches!(
            parse_err("= 5\n"),
            ConfigError::Syntax { line: 1, .. }
        ));
    }

    #[test]
    fn malformed_session_key_is_an_error() {
        for key in [
            "Session.ISLD.MaxHeartBtInt",
            "Session.ISLD/.MaxHeartBtInt",
            "Session./TW.MaxHeartBtInt",
            "Session.Default",
            "Session.A B/TW.MaxHeartBtInt",
        ] {
            match parse_err(&format!("\n{key} = 1\n")) {
                ConfigError::BadKey { line, key: k, .. } => {
                    assert_eq!((line, k.as_str()), (2, key))
                }
                other => panic!("{key}: expected BadKey, got {other:?}"),
            }
        }
    }

    #[test]
    fn min_heart_bt_int_above_max_is_an_error() {
        let err =
            parse_err("Session.Default.MinHeartBtInt = 30\nSession.Default.MaxHeartBtInt = 10\n");
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("Session.Default"), "{message}");
        assert!(message.contains("MinHeartBtInt (30 s)"), "{message}");
        assert!(message.contains("MaxHeartBtInt (10 s)"), "{message}");
        // Each value is fine alone; only the resolved session breaks the rule.
        let err =
            parse_err("Session.Default.MinHeartBtInt = 30\nSession.ISLD/TW.MaxHeartBtInt = 20\n");
        assert!(err.to_string().contains("Session.ISLD/TW"), "{err}");
        // From code, validate() applies the same rule.
        let config = EngineConfig::default().with_session(
            "ISLD",
            "TW",
            SessionConfig::default()
                .with_min_heart_bt_int(5)
                .with_max_heart_bt_int(4),
        );
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("Session.ISLD/TW")
        );
    }

    #[test]
    fn validate_checks_engine_rules() {
        let ok = EngineConfig::default();
        ok.clone().with_max_message_size(64).validate().unwrap();
        let err = ok.clone().with_max_message_size(63).validate().unwrap_err();
        assert!(err.to_string().contains("MaxMessageSize is 63"), "{err}");
        let err = ok
            .clone()
            .with_logon_timeout(Duration::ZERO)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("LogonTimeout"), "{err}");
        let err = ok
            .clone()
            .with_max_pending_connections(0)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("MaxPendingConnections"), "{err}");
        let err = ok
            .with_session("ME", "BAD ID", SessionConfig::default())
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("\"BAD ID\""), "{err}");
        assert!(matches!(
            parse_err("MaxMessageSize = 10\n"),
            ConfigError::Invalid { .. }
        ));
        assert!(matches!(
            parse_err("LogonTimeout = 0\n"),
            ConfigError::Invalid { .. }
        ));
    }

    #[test]
    fn ip_net_v4() {
        let net = net("192.168.1.0/24");
        assert_eq!((net.addr(), net.prefix_len()), (ip("192.168.1.0"), 24));
        assert_eq!(net.to_string(), "192.168.1.0/24");
        assert!(net.contains(ip("192.168.1.0")));
        assert!(net.contains(ip("192.168.1.255")));
        assert!(!net.contains(ip("192.168.2.1")));
        assert!(!net.contains(ip("::1")));
        // IPv4 peers on a dual-stack socket arrive as IPv4-mapped IPv6.
        assert!(net.contains(ip("::ffff:192.168.1.7")));
        assert!(!net.contains(ip("::ffff:192.168.2.7")));
    }

    #[test]
    fn ip_net_v6() {
        let net = net("2001:db8::/32");
        assert!(net.contains(ip("2001:db8::1")));
        assert!(net.contains(ip("2001:db8:ffff::1")));
        assert!(!net.contains(ip("2001:db9::1")));
        assert!(!net.contains(ip("32.1.13.184")));
        let loopback = IpNet::host(ip("::1"));
        assert_eq!(loopback.prefix_len(), 128);
        assert!(loopback.contains(ip("::1")));
        assert!(!loopback.contains(ip("::2")));
    }

    #[test]
    fn ip_net_edges() {
        let all_v4 = net("0.0.0.0/0");
        assert!(all_v4.contains(ip("255.255.255.255")));
        assert!(all_v4.contains(ip("0.0.0.0")));
        assert!(!all_v4.contains(ip("::1")));
        let all_v6 = net("::/0");
        assert!(all_v6.contains(ip("ffff::1")));
        assert!(!all_v6.contains(ip("10.0.0.1")));
        let host = net("10.1.2.3/32");
        assert!(host.contains(ip("10.1.2.3")));
        assert!(!host.contains(ip("10.1.2.4")));
        let exact = net("10.1.2.3");
        assert_eq!(exact, host);
        assert!(exact.contains(ip("10.1.2.3")));
        assert!(!exact.contains(ip("10.1.2.2")));
        assert_eq!(IpNet::new(ip("10.1.2.3"), 33), None);
        assert_eq!(IpNet::new(ip("10.1.2.3"), 8), None);
        assert_eq!(IpNet::new(ip("10.0.0.0"), 8), Some(net("10.0.0.0/8")));
        assert_eq!(net(" 10.0.0.0/8 ").to_string(), "10.0.0.0/8");
    }

    #[test]
    fn allow_list_on_session() {
        let (config, _) = parse("Session.A/B.AllowedRemoteAddresses = 10.0.0.0/8, ::1\n");
        let session = config.session_config("A", "B");
        assert!(session.is_remote_address_allowed(ip("10.9.8.7")));
        assert!(session.is_remote_address_allowed(ip("::1")));
        assert!(!session.is_remote_address_allowed(ip("127.0.0.1")));
        let nobody = SessionConfig::default().with_allowed_remote_addresses([]);
        assert!(!nobody.is_remote_address_allowed(ip("127.0.0.1")));
    }

    #[test]
    fn password_is_masked_in_debug() {
        let session = SessionConfig::default()
            .with_username("alice")
            .with_password("hunter2");
        let debug = format!("{session:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        assert!(debug.contains("alice"), "{debug}");
        assert_eq!(session.password(), Some("hunter2"));

        let (config, _) =
            parse("Session.Default.Password = topsecret\nSession.A/B.Password = othersecret\n");
        let debug = format!("{config:?} {:#?}", config.session_config("A", "B"));
        assert!(!debug.contains("topsecret"), "{debug}");
        assert!(!debug.contains("othersecret"), "{debug}");
    }

    #[test]
    fn default_properties_parse_without_warnings() {
        let (config, warnings) = EngineConfig::from_properties_str(DEFAULT_PROPERTIES).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.listen_ports(), &[9880]);
        assert_eq!(config.storage_directory(), Path::new("logs"));
        assert_eq!(config.session_defaults(), &SessionConfig::default());
        assert_eq!(
            config.sessions().collect::<Vec<_>>(),
            vec![("TEST1", "TEST2")]
        );
        let example = config.session_config("TEST1", "TEST2");
        assert_eq!(example.max_heart_bt_int(), 300);
        assert_eq!(example.storage_type(), StorageType::Persistent);
        // Apart from the port and the example session, it spells out the built-in defaults.
        let (mut rebuilt, _) = parse(DEFAULT_PROPERTIES);
        rebuilt.sessions.clear();
        assert_eq!(rebuilt, EngineConfig::default().listen_port(9880));
    }

    #[test]
    fn builder_round_trip() {
        let session = SessionConfig::default()
            .with_storage_type(StorageType::Transient)
            .with_min_heart_bt_int(10)
            .with_max_heart_bt_int(60)
            .with_logout_timeout(Duration::from_millis(300))
            .with_reasonable_transmission_time(Duration::from_millis(400))
            .with_check_sending_time(false)
            .with_max_sending_time_delta(Duration::from_secs(5))
            .with_reset_seq_num_on_logon(true)
            .with_reset_seq_num_on_logout(true)
            .with_reset_seq_num_on_disconnect(true)
            .with_validate_check_sum(false)
            .with_validate_comp_ids(false)
            .with_validate_fields_have_values(false)
            .with_enable_next_expected_msg_seq_num(true)
            .with_username("bob")
            .with_password("pw")
            .with_allowed_remote_addresses([net("10.0.0.0/8"), net("::1")])
            .with_listen_port(9990);
        let config = EngineConfig::default()
            .listen_port(9880)
            .listen_port(9881)
            .listen_port(9880)
            .with_listen_address(ip("127.0.0.1"))
            .with_storage_directory("data")
            .with_create_unregistered_acceptor_session(true)
            .with_logon_timeout(Duration::from_millis(1234))
            .with_max_pending_connections(8)
            .with_max_message_size(4096)
            .with_session_defaults(SessionConfig::default().with_max_heart_bt_int(100))
            .with_session("ISLD", "TW", session.clone());
        config.validate().unwrap();
        assert_eq!(config.listen_ports(), &[9880, 9881]);
        assert_eq!(config.all_listen_ports(), vec![9880, 9881, 9990]);
        assert_eq!(config.listen_address(), ip("127.0.0.1"));
        assert_eq!(config.storage_directory(), Path::new("data"));
        assert!(config.create_unregistered_acceptor_session());
        assert_eq!(config.logon_timeout(), Duration::from_millis(1234));
        assert_eq!(config.max_pending_connections(), 8);
        assert_eq!(config.max_message_size(), 4096);
        assert_eq!(config.session_defaults().max_heart_bt_int(), 100);
        assert_eq!(config.session_config("ISLD", "TW"), session);
        assert_eq!(config.session_config("ISLD", "X").max_heart_bt_int(), 100);
        assert_eq!(config.sessions().collect::<Vec<_>>(), vec![("ISLD", "TW")]);

        // The same configuration written as properties parses to an equal value.
        let text = "\
ListenPort = 9880, 9881
ListenAddress = 127.0.0.1
StorageDirectory = data
CreateUnregisteredAcceptorSession = true
LogonTimeout = 1234
MaxPendingConnections = 8
MaxMessageSize = 4Kb
Session.Default.MaxHeartBtInt = 100
Session.ISLD/TW.StorageType = transient
Session.ISLD/TW.MinHeartBtInt = 10
Session.ISLD/TW.MaxHeartBtInt = 60
Session.ISLD/TW.LogoutTimeout = 300
Session.ISLD/TW.ReasonableTransmissionTime = 400
Session.ISLD/TW.CheckSendingTime = false
Session.ISLD/TW.MaxSendingTimeDelta = 5
Session.ISLD/TW.ResetSeqNumOnLogon = true
Session.ISLD/TW.ResetSeqNumOnLogout = true
Session.ISLD/TW.ResetSeqNumOnDisconnect = true
Session.ISLD/TW.ValidateCheckSum = false
Session.ISLD/TW.ValidateCompIds = false
Session.ISLD/TW.ValidateFieldsHaveValues = false
Session.ISLD/TW.EnableNextExpectedMsgSeqNum = true
Session.ISLD/TW.Username = bob
Session.ISLD/TW.Password = pw
Session.ISLD/TW.AllowedRemoteAddresses = 10.0.0.0/8, ::1
Session.ISLD/TW.ListenPort = 9990
";
        let (parsed, warnings) = parse(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(parsed.session_config("ISLD", "TW"), session);
        assert_eq!(parsed.with_session("ISLD", "TW", session), config);
    }

    #[test]
    fn reads_files_and_names_the_path_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.properties");
        std::fs::write(&path, "ListenPort = 7000\nBogus = 1\n").unwrap();
        let (config, warnings) = EngineConfig::from_properties_file(&path).unwrap();
        assert_eq!(config.listen_ports(), &[7000]);
        assert_eq!(warnings.len(), 1);

        let missing = dir.path().join("missing.properties");
        let err = EngineConfig::from_properties_file(&missing).unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("missing.properties"), "{err}");
    }

    #[test]
    fn validation_switches_parse_per_session() {
        let text = "Session.Default.ValidateFieldValues = false\nSession.ISLD/TW.ValidateUnknownFields = no\n";
        let (config, warnings) = EngineConfig::from_properties_str(text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let s = config.session_config("ISLD", "TW");
        assert!(!s.validate_field_values());
        assert!(!s.validate_unknown_fields());
        assert!(s.validate_required_fields());
        assert!(s.validate_fields_out_of_order());
        let d = SessionConfig::default().with_validate_required_fields(false);
        assert!(!d.validate_required_fields());
    }
}
