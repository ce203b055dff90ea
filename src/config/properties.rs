//! The `Key = Value` reader: `engine.properties` text into an `EngineConfig`,
//! with a warning for each unknown or duplicate key and an error naming the
//! line for anything that does not parse.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::engine::{EngineConfig, SessionEntry, is_valid_comp_id};
use super::error::{ConfigError, ConfigWarning};
use super::hints::{self, Scope};
use super::keys::{engine_keys, field_type, session_keys};
use super::net::IpNet;
use super::session::{
    BeginString, IdleStrategy, LogonRefusalReply, MessageLogMode, PutWhileDisconnected, Secret,
    SessionConfig, StorageType,
};
use crate::id::FixVersion;
use crate::store::SyncPolicy;

pub(super) fn parse_properties(
    text: &str,
) -> Result<(EngineConfig, Vec<ConfigWarning>), ConfigError> {
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
        if hints::is_quickfix_section(trimmed) {
            return Err(ConfigError::QuickFixFormat {
                file: None,
                line,
                header: trimmed.to_owned(),
            });
        }
        let syntax = || ConfigError::Syntax {
            file: None,
            line,
            text: raw.to_owned(),
        };
        let (key, value) = trimmed.split_once('=').ok_or_else(syntax)?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(syntax());
        }
        if let Some(previous) = first_seen.insert(key, line) {
            warnings.push(ConfigWarning::new(
                line,
                key,
                format!("duplicate key (also set at line {previous}); this value wins"),
            ));
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
            let message = if self.apply_engine_key(Source { key, value, line })? {
                hints::short_timeout(key, value)
            } else {
                Some(hints::not_a_key(key, Scope::Engine))
            };
            warnings.extend(message.map(|message| ConfigWarning::new(line, key, message)));
            return Ok(());
        };
        // Key names have no dots, CompIDs may: the key name is after the last dot.
        let bad_key = || ConfigError::BadKey {
            file: None,
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
            warnings.push(ConfigWarning::new(
                line,
                key,
                hints::not_a_key(name, Scope::Session),
            ));
            return Ok(());
        };
        let message = hints::short_timeout(name, value);
        warnings.extend(message.map(|message| ConfigWarning::new(line, key, message)));
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
}

/// Builds the reader's arms for the [`engine_keys!`] table.
macro_rules! engine_properties {
    ($(
        $(#[$doc:meta])*
        $key:ident: $kind:ident $ty:ty = $default:expr,
            $getter:ident $(/ $setter:ident($param:ident))?, parse $parser:ident($($arg:expr),*);
    )*) => {
        impl EngineConfig {
            /// Sets engine key `at.key` from `at.value`; `Ok(false)` when it is not
            /// an engine key.
            fn apply_engine_key(&mut self, at: Source<'_>) -> Result<bool, ConfigError> {
                match at.key {
                    $(stringify!($key) => self.$getter = at.$parser($($arg),*)?,)*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

engine_keys!(engine_properties);

/// Builds `Setting`, one parsed session key, from the [`session_keys!`]
/// table.
macro_rules! settings {
    ($(
        $(#[$doc:meta])*
        $key:ident: $kind:ident $ty:ty = $default:expr,
            $getter:ident $(/ $setter:ident($param:ident))?, parse $parser:ident($($arg:expr),*);
    )*) => {
        /// One parsed session key, kept apart from a `SessionConfig` so that a
        /// session's entry overrides only the keys the file named. Optional keys
        /// carry `None` for an empty value, so a session can clear a credential or
        /// allow-list its defaults set.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(super) enum Setting {
            $($key(field_type!($kind $ty)),)*
        }

        impl Setting {
            /// Parses the value of session key `name`; `Ok(None)` when `name` is
            /// not a session key. `key` is the key as written, for error messages.
            fn parse(
                name: &str,
                value: &str,
                key: &str,
                line: usize,
            ) -> Result<Option<Self>, ConfigError> {
                let at = Source { key, value, line };
                let setting = match name {
                    $(stringify!($key) => Self::$key(at.$parser($($arg),*)?),)*
                    _ => return Ok(None),
                };
                Ok(Some(setting))
            }

            pub(super) fn apply(&self, config: &mut SessionConfig) {
                match self {
                    $(Self::$key(value) => config.$getter.clone_from(value),)*
                }
            }
        }
    };
}

session_keys!(settings);

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
            file: None,
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

    fn seconds(&self) -> Result<Duration, ConfigError> {
        self.number(EXPECTED_SECONDS).map(Duration::from_secs)
    }

    fn micros(&self) -> Result<Duration, ConfigError> {
        self.number(EXPECTED_MICROS).map(Duration::from_micros)
    }

    fn port(&self, item: &str) -> Result<u16, ConfigError> {
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.bad(item, EXPECTED_PORT));
        }
        item.parse().map_err(|_| self.bad(item, EXPECTED_PORT))
    }

    /// A single port, or `None` for an empty value.
    fn optional_port(&self) -> Result<Option<u16>, ConfigError> {
        if self.value.is_empty() {
            return Ok(None);
        }
        self.port(self.value).map(Some)
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

    /// A size in bytes, as `usize` for a buffer or `u64` for a file.
    fn byte_size<T: TryFrom<u64>>(&self) -> Result<T, ConfigError> {
        let split = self
            .value
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.value.len());
        let (digits, suffix) = self.value.split_at(split);
        let multiplier: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            _ => return Err(self.bad(self.value, EXPECTED_SIZE)),
        };
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(multiplier))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| self.bad(self.value, EXPECTED_SIZE))
    }

    fn storage_sync(&self) -> Result<SyncPolicy, ConfigError> {
        self.value
            .parse()
            .map_err(|_| self.bad(self.value, EXPECTED_STORAGE_SYNC))
    }

    /// One of the spellings `T` takes, in any case.
    fn choice<T: Choice>(&self) -> Result<T, ConfigError> {
        T::SPELLINGS
            .iter()
            .find(|(spelling, _)| self.value.eq_ignore_ascii_case(spelling))
            .map(|&(_, value)| value)
            .ok_or_else(|| self.bad(self.value, T::EXPECTED))
    }

    /// The text (a username, a password), or `None` for an empty value; never
    /// an error, but a `Result` like every parser the key tables name.
    fn optional_text<T: From<String>>(&self) -> Result<Option<T>, ConfigError> {
        Ok((!self.value.is_empty()).then(|| T::from(self.value.to_owned())))
    }

    fn ip_address(&self) -> Result<IpAddr, ConfigError> {
        self.value
            .parse()
            .map_err(|_| self.bad(self.value, EXPECTED_IP_ADDRESS))
    }

    fn directory(&self) -> Result<PathBuf, ConfigError> {
        if self.value.is_empty() {
            return Err(self.bad(self.value, EXPECTED_DIRECTORY));
        }
        Ok(PathBuf::from(self.value))
    }

    /// A directory, or `None` for an empty value.
    fn optional_directory(&self) -> Result<Option<PathBuf>, ConfigError> {
        Ok((!self.value.is_empty()).then(|| PathBuf::from(self.value)))
    }

    fn begin_string(&self) -> Result<BeginString, ConfigError> {
        self.value
            .parse()
            .map_err(|_| self.bad(self.value, EXPECTED_BEGIN_STRING))
    }

    /// A FIX.5.0 version by name or ApplVerID(1128), or `None` for an empty value.
    fn appl_ver_id(&self) -> Result<Option<FixVersion>, ConfigError> {
        if self.value.is_empty() {
            return Ok(None);
        }
        FixVersion::from_appl_ver_id(self.value.as_bytes())
            .or_else(|| self.value.parse().ok().filter(|v: &FixVersion| v.is_fixt()))
            .map(Some)
            .ok_or_else(|| self.bad(self.value, EXPECTED_APPL_VER_ID))
    }

    /// A comma list of tag numbers; `none` is the empty list, an empty value
    /// the default.
    fn tag_list(&self) -> Result<Option<Vec<u32>>, ConfigError> {
        if self.value.is_empty() {
            return Ok(None);
        }
        if self.value.eq_ignore_ascii_case("none") {
            return Ok(Some(Vec::new()));
        }
        self.value
            .split(',')
            .map(|item| {
                let item = item.trim();
                item.parse::<u32>()
                    .ok()
                    .filter(|&tag| tag > 0 && item.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| self.bad(item, EXPECTED_TAGS))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn days(&self) -> Result<Duration, ConfigError> {
        self.number::<u64>(EXPECTED_DAYS)
            .map(|days| Duration::from_secs(days.saturating_mul(86_400)))
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
            file: None,
            line: None,
            key: "StorageSync".to_owned(),
            value: s.to_owned(),
            expected: EXPECTED_STORAGE_SYNC,
        })
    }
}

const EXPECTED_BOOL: &str = "a boolean: true/false, yes/no, y/n or 1/0";
const EXPECTED_PORT: &str = "a TCP port number from 0 to 65535 (or a comma list of them)";
const EXPECTED_SECONDS: &str = "a whole number of seconds";
const EXPECTED_MILLIS: &str = "a whole number of milliseconds";
const EXPECTED_COUNT: &str = "a whole number";
const EXPECTED_SIZE: &str =
    "a size in bytes, optionally with a suffix B, Kb, Mb or Gb (1024-based), e.g. 1Mb";
const EXPECTED_STORAGE_SYNC: &str = "none, every, or a message count from 1";
const EXPECTED_MICROS: &str = "a whole number of microseconds";
const EXPECTED_DAYS: &str = "a whole number of days";
const EXPECTED_TAGS: &str = "a comma list of tag numbers (such as 554,925), or none";
const EXPECTED_IP_ADDRESS: &str = "an IPv4 or IPv6 address such as 0.0.0.0 or ::";
const EXPECTED_DIRECTORY: &str = "a directory path";
const EXPECTED_BEGIN_STRING: &str = "FIX.4.0, FIX.4.1, FIX.4.2, FIX.4.3, FIX.4.4, FIXT.1.1 \
     (with DefaultApplVerID), or FIX.5.0, FIX.5.0SP1, FIX.5.0SP2";
const EXPECTED_APPL_VER_ID: &str = "FIX.5.0, FIX.5.0SP1, FIX.5.0SP2, or 7, 8, 9";
pub(super) const EXPECTED_CIDR: &str =
    "an IP address or CIDR block with no host bits set, e.g. 10.0.0.0/8 or 127.0.0.1";
const EXPECTED_SESSION_KEY: &str = "Session.Default.<Key> or Session.<SenderCompID>/<TargetCompID>.<Key>, \
     where each CompID is 1 to 64 printable ASCII characters without '='";

/// A key whose value is one of a few words.
trait Choice: Copy + 'static {
    /// Each accepted spelling (lower case; matched in any case) and its value.
    const SPELLINGS: &'static [(&'static str, Self)];
    /// What an error says was expected.
    const EXPECTED: &'static str;
}

impl Choice for StorageType {
    // FIX Antenna C++ names its memory-mapped store `persistentMM`; ours is one.
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("persistent", Self::Persistent),
        ("persistentmm", Self::Persistent),
        ("transient", Self::Transient),
    ];
    const EXPECTED: &'static str = "persistent or transient";
}

impl Choice for IdleStrategy {
    const SPELLINGS: &'static [(&'static str, Self)] =
        &[("park", Self::Park), ("spin", Self::Spin)];
    const EXPECTED: &'static str = "park or spin";
}

impl Choice for LogonRefusalReply {
    const SPELLINGS: &'static [(&'static str, Self)] =
        &[("logout", Self::Logout), ("silent", Self::Silent)];
    const EXPECTED: &'static str = "logout or silent";
}

impl Choice for MessageLogMode {
    const SPELLINGS: &'static [(&'static str, Self)] =
        &[("none", Self::None), ("file", Self::File)];
    const EXPECTED: &'static str = "none or file";
}

impl Choice for PutWhileDisconnected {
    const SPELLINGS: &'static [(&'static str, Self)] =
        &[("store", Self::Store), ("queue", Self::Queue)];
    const EXPECTED: &'static str = "store or queue";
}
