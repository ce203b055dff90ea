//! `EngineConfig`: the engine-wide keys, the session defaults and the
//! per-session entries, and the rules that tie them together.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{ConfigError, ConfigWarning, invalid};
use super::keys::{config_struct, engine_keys};
use super::properties::{Setting, parse_properties};
use super::session::SessionConfig;
engine_keys!(config_struct
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
        session_defaults: SessionConfig = SessionConfig::default(),
        /// Sorted by (sender, target) so `sessions()` is deterministic.
        sessions: BTreeMap<(String, String), SessionEntry> = BTreeMap::new(),
    }
);

impl EngineConfig {
    /// Parses `engine.properties` text, then [validates](Self::validate) it.
    ///
    /// Returns the configuration and the warnings (unknown keys, duplicate
    /// keys, values that are likely mistakes). The warnings are not logged
    /// here: show or log each once (`FixEngine::from_properties` logs them).
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] for a line without `=`,
    /// [`ConfigError::QuickFixFormat`] for a QuickFIX `[DEFAULT]` or `[SESSION]`
    /// header, [`ConfigError::BadKey`] for a malformed `Session.` key,
    /// [`ConfigError::BadValue`] for a value that does not parse,
    /// [`ConfigError::Invalid`] for a broken cross-field rule.
    pub fn from_properties_str(text: &str) -> Result<(Self, Vec<ConfigWarning>), ConfigError> {
        parse_properties(text)
    }

    /// Reads and parses an `engine.properties` file, as
    /// [`from_properties_str`](Self::from_properties_str) does; every warning
    /// and error names the file (`engine.properties:12: ...`).
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
        let (config, mut warnings) = parse_properties(&text).map_err(|e| e.in_file(path))?;
        for warning in &mut warnings {
            warning.file = Some(path.to_path_buf());
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
    /// (1 to 64 printable ASCII characters, no `=`); every per-session
    /// `BeginString` gives a version ([`SessionConfig::fix_version`]).
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
            let config = self.session_config(sender, target);
            config.check_heart_bt_int_range(&format!("Session.{sender}/{target}"))?;
            config.check_fix_version(&format!("Session.{sender}/{target}"))?;
        }
        Ok(())
    }

    /// [`validate`](Self::validate), plus what only a running engine needs: a
    /// port to listen on. The engine should call it when it starts.
    ///
    /// A file or a builder may leave the ports out, as the example acceptor's
    /// `--port` supplies them after reading the file, so neither parsing nor
    /// `validate` requires one. But an acceptor that listens on nothing
    /// accepts no connection and would run silently useless: starting it is an
    /// error, not a warning. Port 0 (an ephemeral port, as in tests) counts.
    ///
    /// # Errors
    /// As [`validate`](Self::validate), and [`ConfigError::NoListenPort`] when
    /// [`all_listen_ports`](Self::all_listen_ports) is empty.
    pub fn validate_for_start(&self) -> Result<(), ConfigError> {
        self.validate()?;
        if self.all_listen_ports().is_empty() {
            return Err(ConfigError::NoListenPort);
        }
        Ok(())
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
            Some(SessionEntry::Full(config)) => SessionConfig::clone(config),
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
        self.sessions.insert(
            (sender.into(), target.into()),
            SessionEntry::Full(Box::new(config)),
        );
        self
    }
}

/// A per-session entry: the keys a file named (applied over the defaults at
/// lookup, so later changes to the defaults still show through), or a
/// complete configuration given from code (boxed: it is much the larger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SessionEntry {
    Overrides(Vec<Setting>),
    Full(Box<SessionConfig>),
}

/// One rule for CompIDs everywhere: the one `CompId` enforces.
pub(super) fn is_valid_comp_id(value: &str) -> bool {
    crate::id::CompId::new(value).is_ok()
}

/// Smaller than any Logon, so a smaller limit could never admit a session.
const MIN_MAX_MESSAGE_SIZE: usize = 64;
