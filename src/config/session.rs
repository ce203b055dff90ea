//! `SessionConfig`: one session's resolved settings, and the value types of
//! its keys (`StorageType`, `IdleStrategy`, `MessageLogMode`, the password kept
//! as a secret).

use std::fmt;
use std::net::IpAddr;
use std::ops::Deref;
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::keys::{config_struct, session_keys};
use super::net::IpNet;
use crate::codec::tags;
use crate::id::FixVersion;
use crate::store::SyncPolicy;

session_keys!(config_struct
    /// One session's settings, resolved: see the module docs for the keys.
    ///
    /// Getters have the plain key name; setters are `with_*`, take `self` and
    /// return `Self`. `Debug` prints the password as `"***"`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SessionConfig {}
);

/// The fields the message log masks unless `MaskedTags` says otherwise: the
/// secrets the codec never prints either (Password(554), NewPassword(925),
/// EncryptedPassword(1402), EncryptedNewPassword(1404)).
pub const DEFAULT_MASKED_TAGS: &[u32] = &[
    tags::PASSWORD,
    tags::NEW_PASSWORD,
    tags::ENCRYPTED_PASSWORD,
    tags::ENCRYPTED_NEW_PASSWORD,
];

impl SessionConfig {
    /// The fields the message log masks: `MaskedTags`, or
    /// [`DEFAULT_MASKED_TAGS`] when it is not set.
    pub fn log_masked_tags(&self) -> &[u32] {
        self.masked_tags.as_deref().unwrap_or(DEFAULT_MASKED_TAGS)
    }

    /// Whether a connection from `address` is allowed by
    /// [`allowed_remote_addresses`](Self::allowed_remote_addresses).
    pub fn is_remote_address_allowed(&self, address: IpAddr) -> bool {
        self.allowed_remote_addresses
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|net| net.contains(address)))
    }

    /// The FIX version `BeginString` and `DefaultApplVerID` give: the one a
    /// program creates a session named in the configuration with.
    /// `BeginString = FIXT.1.1` takes its version from `DefaultApplVerID`;
    /// `FIX.4.x` ignores `DefaultApplVerID`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for `FIXT.1.1` without `DefaultApplVerID`, or a
    /// FIX.5.0 version named outright that `DefaultApplVerID` contradicts.
    /// [`EngineConfig::validate`](super::EngineConfig::validate) refuses both for
    /// every session the configuration names.
    pub fn fix_version(&self) -> Result<FixVersion, ConfigError> {
        self.resolve_version().map_err(invalid)
    }

    pub(super) fn check_fix_version(&self, scope: &str) -> Result<(), ConfigError> {
        self.resolve_version()
            .map(drop)
            .map_err(|what| invalid(format!("{scope}: {what}")))
    }

    fn resolve_version(&self) -> Result<FixVersion, String> {
        match (self.begin_string, self.default_appl_ver_id) {
            (BeginString::Fixt11, Some(version)) => Ok(version),
            (BeginString::Fixt11, None) => Err("BeginString is FIXT.1.1 but DefaultApplVerID \
                 is not set: it names the FIX.5.0 version the session runs (FIX.5.0, \
                 FIX.5.0SP1, FIX.5.0SP2, or 7, 8, 9)"
                .to_owned()),
            (BeginString::Fix(version), Some(appl)) if version.is_fixt() && version != appl => {
                Err(format!(
                    "BeginString is {} but DefaultApplVerID is {}",
                    BeginString::Fix(version),
                    BeginString::Fix(appl)
                ))
            }
            (BeginString::Fix(version), _) => Ok(version),
        }
    }

    pub(super) fn check_heart_bt_int_range(&self, scope: &str) -> Result<(), ConfigError> {
        if self.min_heart_bt_int > self.max_heart_bt_int {
            return Err(invalid(format!(
                "{scope}: MinHeartBtInt ({} s) is greater than MaxHeartBtInt ({} s)",
                self.min_heart_bt_int, self.max_heart_bt_int
            )));
        }
        Ok(())
    }
}

/// `BeginString`: the FIX version configured for a session, as QuickFIX writes
/// it. [`SessionConfig::fix_version`] resolves it with `DefaultApplVerID`.
///
/// ```
/// use fixengine::{BeginString, FixVersion};
///
/// assert_eq!("FIX.4.2".parse(), Ok(BeginString::Fix(FixVersion::Fix42)));
/// assert_eq!("FIXT.1.1".parse(), Ok(BeginString::Fixt11));
/// assert_eq!("FIX.5.0SP2".parse(), Ok(BeginString::Fix(FixVersion::Fix50Sp2)));
/// assert_eq!(BeginString::default().to_string(), "FIX.4.4");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BeginString {
    /// A version named outright: `FIX.4.0` to `FIX.4.4`, or a FIX.5.0 version
    /// (`FIX.5.0`, `FIX.5.0SP1`, `FIX.5.0SP2`), which runs over FIXT.1.1. The
    /// short names (`FIX44`) and any case are taken too.
    Fix(FixVersion),
    /// `FIXT.1.1`: the version is `DefaultApplVerID`'s.
    Fixt11,
}

impl Default for BeginString {
    /// FIX.4.4.
    fn default() -> Self {
        Self::Fix(FixVersion::Fix44)
    }
}

impl fmt::Display for BeginString {
    /// `FIX.4.4`, `FIX.5.0SP2`, `FIXT.1.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fix(version) => {
                let name = version.name();
                write!(f, "{}.{}.{}", &name[..3], &name[3..4], &name[4..])
            }
            Self::Fixt11 => f.write_str("FIXT.1.1"),
        }
    }
}

impl std::str::FromStr for BeginString {
    type Err = crate::id::IdError;

    /// `FIXT.1.1` (any case), or what [`FixVersion`]'s `FromStr` takes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("FIXT.1.1") || s.eq_ignore_ascii_case("FIXT11") {
            return Ok(Self::Fixt11);
        }
        s.parse().map(Self::Fix)
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

/// `LogonRefusalReply`: what a counterparty whose Logon names a known session is
/// told when a verdict on it refuses the Logon (wrong credentials, an address
/// or port not allowed, the application or the sessions manager saying no).
/// Other refusals are always closed without a word: a Logon naming no known
/// session (nothing about the acceptor reaches a stranger), one breaking the
/// protocol, or one the session's state refuses (a second connection), as
/// QuickFIX does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogonRefusalReply {
    /// A Logout whose Text(58) says why, then the connection closes, as QuickFIX
    /// and FIX Antenna answer a refused authentication. It carries the session's
    /// next outbound number without using it: the stored numbers do not move.
    /// Spelled `logout`.
    #[default]
    Logout,
    /// The connection closes without a reply. Spelled `silent`.
    Silent,
}

/// `PutWhileDisconnected`: what [`Session::put`](crate::Session::put) does with a
/// message while no counterparty is logged on (no connection, or its Logon
/// exchange not yet done).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PutWhileDisconnected {
    /// Numbered and stored at once, sent only when the counterparty asks for it
    /// with a ResendRequest after its next Logon, as QuickFIX, QuickFIX/J and
    /// Artio do. A counterparty that logs on with ResetSeqNumFlag(141)=Y starts
    /// a new sequence: such messages stay in the archived store and are never
    /// sent. Spelled `store`.
    #[default]
    Store,
    /// Waits unnumbered on the session's thread and is numbered and sent right
    /// after the next Logon exchange, a reset one included (FIX Antenna's way).
    /// With a `MessageTimeToLive`, one that waited longer is handed back to
    /// [`Application::on_send_failed`](crate::Application::on_send_failed)
    /// instead; so is every one still waiting when the session ends. Waiting
    /// messages count against the put queue's capacity. Spelled `queue`.
    Queue,
}

/// `MessageLog`: whether a session writes the messages it receives and sends to
/// its message log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageLogMode {
    /// Nothing is logged. Spelled `none`.
    None,
    /// Text files under the session's folder (see [`crate::message_log`]).
    /// Spelled `file`.
    #[default]
    File,
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

/// A password: compared and handed out, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Secret(String);

impl From<String> for Secret {
    fn from(password: String) -> Self {
        Self(password)
    }
}

// Lets the `text` kind hand a password out as `&str`, as it does a username.
impl Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}
