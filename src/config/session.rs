//! `SessionConfig`: one session's resolved settings, and the value types of
//! its keys (`StorageType`, `IdleStrategy`, the password kept as a secret).

use std::fmt;
use std::net::IpAddr;
use std::ops::Deref;
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::keys::{config_struct, session_keys};
use super::net::IpNet;
use crate::store::SyncPolicy;

session_keys!(config_struct
    /// One session's settings, resolved: see the module docs for the keys.
    ///
    /// Getters have the plain key name; setters are `with_*`, take `self` and
    /// return `Self`. `Debug` prints the password as `"***"`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SessionConfig {}
);

impl SessionConfig {
    /// Whether a connection from `address` is allowed by
    /// [`allowed_remote_addresses`](Self::allowed_remote_addresses).
    pub fn is_remote_address_allowed(&self, address: IpAddr) -> bool {
        self.allowed_remote_addresses
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|net| net.contains(address)))
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
