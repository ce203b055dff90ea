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
//! as [`ConfigWarning`]s for the caller to show or log (this module logs
//! nothing). A line without `=`, a value that does not parse, a malformed
//! `Session.` key or a cross-field rule broken is a [`ConfigError`] that names
//! the line, the key and the value. Both name the file when there is one:
//! `engine.properties:12: ...`.
//!
//! Coming from another engine? A QuickFIX `.cfg` file (`[DEFAULT]`,
//! `[SESSION]`) is an error that says how this format differs. The warning
//! for an unknown key says what to write instead where it can: one of our keys
//! in the wrong place or case, or our name for a QuickFIX or FIX Antenna key
//! (`SocketAcceptPort` is `ListenPort`). Our `LogonTimeout` and `LogoutTimeout` are milliseconds,
//! QuickFIX's seconds: a value under 100 is kept, with a warning.
//!
//! # Engine keys
//!
//! | key | unit / form | default |
//! |---|---|---|
//! | `ListenPort` | port, or comma list of ports | none: accept nothing (an engine cannot start with no port at all: [`EngineConfig::validate_for_start`]) |
//! | `ListenAddress` | IPv4 or IPv6 address | `0.0.0.0` |
//! | `StorageDirectory` | directory path | `logs` |
//! | `CreateUnregisteredAcceptorSession` | boolean | `false` |
//! | `LogonTimeout` | milliseconds | `5000` |
//! | `MaxPendingConnections` | count | `1024` |
//! | `MaxMessageSize` | bytes, or with a `Kb` / `Mb` / `Gb` suffix (1024-based) | `1Mb` (1048576) |
//! | `DataDictionaryDirectory` | directory path: where dictionary names are looked up (`FIX44` is `FIX44.xml`); empty = none | none |
//! | `MessageLogDirectory` | directory path: the root of the message logs; empty = `StorageDirectory` | none |
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
//! | `BeginString` | `FIX.4.0` … `FIX.4.4`, `FIXT.1.1`, or `FIX.5.0` / `FIX.5.0SP1` / `FIX.5.0SP2` outright: the version of a session named here | `FIX.4.4` |
//! | `DefaultApplVerID` | with `FIXT.1.1`: `FIX.5.0`, `FIX.5.0SP1`, `FIX.5.0SP2` or `7`, `8`, `9`; empty = none | none |
//! | `UseDataDictionary` | boolean: `false` turns validation against a data dictionary off | `true` |
//! | `DataDictionary` | a dictionary name (`FIX44`, looked up in `DataDictionaryDirectory`) or a path (with a `/` or ending in `.xml`); empty = the version's from the folder, if set | none |
//! | `TransportDataDictionary` | FIX.5.0 sessions: the FIXT.1.1 dictionary, name or path; empty = `FIXT11` | none |
//! | `AppDataDictionary` | FIX.5.0 sessions: the application dictionary, name or path; beats `DataDictionary` | none |
//! | `Username` | text; empty = none | none |
//! | `Password` | text; empty = none; never printed | none |
//! | `AllowedRemoteAddresses` | comma list of IPs / CIDR blocks; empty or `*` = any | any |
//! | `ListenPort` | port; empty = none | none |
//! | `StorageSegmentSize` | bytes, or with a `Kb` / `Mb` / `Gb` suffix: a log segment's size before the next one starts | `64Mb` |
//! | `StorageMaxSegments` | count; 0 = keep every segment | `0` |
//! | `StorageMaxArchives` | count: generations archived by sequence resets kept; 0 = keep every one | `0` |
//! | `StorageMaxArchiveAge` | days: archived generations last written longer ago are deleted; 0 = kept | `0` |
//! | `StorageSync` | `none` \| `every` (each message on disk before it is sent, synced in groups by a background thread) \| a count N (msync every N messages) | `none` |
//! | `IdleStrategy` | `park` (efficiency) \| `spin` (latency) | `park` |
//! | `SpinTime` | microseconds a spinning worker polls after its last work before parking | `10000` |
//! | `EnableLastMsgSeqNumProcessed` | boolean: LastMsgSeqNumProcessed(369) on every message sent | `false` |
//! | `ResendRequestChunkSize` | count: ask for a gap in ResendRequests of at most this many messages; 0 = one request to the end | `0` |
//! | `ResendRequestNumberOfMessagesLimit` | count: the most messages a ResendRequest gets resent (the newest; a GapFill covers the rest); 0 = no limit | `0` |
//! | `LogonRefusalReply` | `logout` (a Logout saying why, for a known session) \| `silent` | `logout` |
//! | `PutWhileDisconnected` | `store` (numbered and stored; recovered by the counterparty's ResendRequest) \| `queue` (numbered and sent after the next Logon) | `store` |
//! | `MessageTimeToLive` | milliseconds a queued put waits for a Logon; 0 = as long as the session lives | `0` |
//! | `MessageLog` | `file` (every message in and out, in text files beside the store) \| `none` | `file` |
//! | `LogHeartbeats` | boolean: Heartbeats in the message log | `true` |
//! | `MaskedTags` | comma list of tags whose values the message log replaces with `***`; `none` = none; empty = the secrets | `554,925,1402,1404` |
//! | `MessageLogFileSize` | bytes, or with a `Kb` / `Mb` / `Gb` suffix: a log file's size before the next one starts | `256Mb` |
//! | `MessageLogMaxFiles` | count: log files kept; 0 = all | `0` |
//! | `MessageLogMaxAge` | days: log files last written longer ago are deleted; 0 = kept | `0` |
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

mod engine;
mod error;
mod hints;
mod keys;
mod net;
mod properties;
mod session;
#[cfg(test)]
mod tests;

pub use self::engine::EngineConfig;
pub use self::error::{ConfigError, ConfigWarning};
pub use self::net::IpNet;
pub use self::session::{
    BeginString, DEFAULT_MASKED_TAGS, IdleStrategy, LogonRefusalReply, MessageLogMode,
    PutWhileDisconnected, SessionConfig, StorageType,
};
pub use crate::store::SyncPolicy;

/// The embedded default `engine.properties`: what the example acceptor runs
/// on, and a commented template for a real deployment.
///
/// It listens on port 9880 on every interface, keeps session stores under
/// `logs/`, spells out every `Session.Default.*` key with its built-in value,
/// and registers the example session in which we are `TEST1` and the
/// counterparty is `TEST2`. It parses with no warnings.
pub const DEFAULT_PROPERTIES: &str = include_str!("default.properties");
