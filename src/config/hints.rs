//! What the reader tells someone new to fixengine about what it does not
//! take: a key written in the wrong place, a slip of case, another FIX
//! engine's name for one of ours, a timeout whose unit that engine spells
//! differently, or a QuickFIX `.cfg` file.

use super::keys::{ENGINE_KEYS, SESSION_KEYS};

/// Where a key was written: bare (an engine key) or after `Session.Default.`
/// or `Session.<Sender>/<Target>.` (a session key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Engine,
    Session,
}

/// The warning for key `name`, which is not a key of `scope`: why, and what
/// to write instead.
pub(super) fn not_a_key(name: &str, scope: Scope) -> String {
    let (own, other) = match scope {
        Scope::Engine => (ENGINE_KEYS, SESSION_KEYS),
        Scope::Session => (SESSION_KEYS, ENGINE_KEYS),
    };
    if other.contains(&name) {
        let advice = match scope {
            Scope::Engine => format!(
                "a session key, not an engine key: write Session.Default.{name} or \
                 Session.<SenderCompID>/<TargetCompID>.{name}"
            ),
            Scope::Session => {
                format!(
                    "an engine key, not a session key: write {name} without the Session. prefix"
                )
            }
        };
        return format!("{advice}{}; ignored", unit_note(name));
    }
    if let Some(close) = own.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return format!("unknown key (keys are case-sensitive: did you mean {close}?); ignored");
    }
    match FOREIGN
        .iter()
        .find(|(theirs, ..)| theirs.eq_ignore_ascii_case(name))
    {
        Some((_, engine, Ours::Same(ours))) => format!(
            "unknown key ({engine}'s name); fixengine calls it {ours}{}; ignored",
            placement(ours, scope)
        ),
        Some((_, engine, Ours::Closest(ours))) => format!(
            "unknown key ({engine}'s name); the closest fixengine key is {ours}{}; ignored",
            placement(ours, scope)
        ),
        Some((_, engine, Ours::Instead(instead))) => {
            format!("unknown key ({engine}'s name); {instead}; ignored")
        }
        None => "unknown key; ignored".to_owned(),
    }
}

/// A warning for a timeout so short it is likely a QuickFIX value in seconds
/// read as milliseconds; `None` for any other key or value.
pub(super) fn short_timeout(name: &str, value: &str) -> Option<String> {
    if !SECONDS_IN_QUICKFIX.contains(&name) {
        return None;
    }
    let millis: u64 = value.parse().ok()?;
    // No counterparty across a network can be counted on to answer a Logon
    // or a Logout within 100 ms, and QuickFIX's usual 2 to 30 s land here.
    (1..100).contains(&millis).then(|| {
        format!(
            "{millis} ms: {name} is in milliseconds, QuickFIX's in seconds \
             ({millis} s is {name} = {}); kept",
            millis * 1000
        )
    })
}

/// Whether `line` (trimmed) opens a section of a QuickFIX `.cfg` file.
pub(super) fn is_quickfix_section(line: &str) -> bool {
    line.eq_ignore_ascii_case("[DEFAULT]") || line.eq_ignore_ascii_case("[SESSION]")
}

/// Where `ours` goes, when it is not a key of `scope`.
fn placement(ours: &str, scope: Scope) -> String {
    match scope {
        Scope::Engine if !ENGINE_KEYS.contains(&ours) => format!(
            ", a session key: write Session.Default.{ours} or \
             Session.<SenderCompID>/<TargetCompID>.{ours}"
        ),
        Scope::Session if !SESSION_KEYS.contains(&ours) => {
            format!(", an engine key: write {ours} without the Session. prefix")
        }
        Scope::Engine | Scope::Session => String::new(),
    }
}

/// For a key QuickFIX also has, in seconds where ours is in milliseconds.
fn unit_note(name: &str) -> String {
    if SECONDS_IN_QUICKFIX.contains(&name) {
        format!(", in milliseconds (QuickFIX's {name} is in seconds)")
    } else {
        String::new()
    }
}

/// What fixengine has for another engine's key.
enum Ours {
    /// The same setting under fixengine's name.
    Same(&'static str),
    /// Not quite the same setting, but the nearest one.
    Closest(&'static str),
    /// No such setting: what to do instead.
    Instead(&'static str),
}

/// Other FIX engines' keys, with the engine that spells them so, checked
/// against their sources and manuals: QuickFIX C++ `SessionSettings.h`,
/// QuickFIX/J `Session.java` and `Acceptor.java`, QuickFIX/n
/// `SessionSettings.cs`, the FIX Antenna C++ and FIX Antenna Java
/// configuration pages. Matched without regard to case.
const FOREIGN: &[(&str, &str, Ours)] = &[
    ("SocketAcceptPort", "QuickFIX", Ours::Same("ListenPort")),
    (
        "SocketAcceptAddress",
        "QuickFIX/J",
        Ours::Same("ListenAddress"),
    ),
    (
        "SocketAcceptHost",
        "QuickFIX/n",
        Ours::Same("ListenAddress"),
    ),
    ("FileStorePath", "QuickFIX", Ours::Same("StorageDirectory")),
    ("FileLogPath", "QuickFIX", Ours::Same("MessageLogDirectory")),
    (
        "FileLogHeartbeats",
        "QuickFIX/J",
        Ours::Same("LogHeartbeats"),
    ),
    ("ResetOnLogon", "QuickFIX", Ours::Same("ResetSeqNumOnLogon")),
    (
        "ResetOnLogout",
        "QuickFIX",
        Ours::Same("ResetSeqNumOnLogout"),
    ),
    (
        "ResetOnDisconnect",
        "QuickFIX",
        Ours::Same("ResetSeqNumOnDisconnect"),
    ),
    ("CheckCompID", "QuickFIX", Ours::Same("ValidateCompIds")),
    ("CheckLatency", "QuickFIX", Ours::Same("CheckSendingTime")),
    // Seconds in both.
    ("MaxLatency", "QuickFIX", Ours::Same("MaxSendingTimeDelta")),
    // QuickFIX's also turns off the BodyLength(9) check.
    (
        "ValidateLengthAndChecksum",
        "QuickFIX",
        Ours::Closest("ValidateCheckSum"),
    ),
    // QuickFIX's covers user-defined tags (5000 and up) only.
    (
        "ValidateUserDefinedFields",
        "QuickFIX",
        Ours::Closest("ValidateUnknownFields"),
    ),
    (
        "HeartBtInt",
        "QuickFIX",
        Ours::Instead(
            "an acceptor takes HeartBtInt(108) from the counterparty's Logon; \
             Session.Default.MinHeartBtInt and MaxHeartBtInt bound it",
        ),
    ),
    (
        "ConnectionType",
        "QuickFIX",
        Ours::Instead("fixengine is an acceptor: there is nothing to choose"),
    ),
    (
        "SenderCompID",
        "QuickFIX",
        Ours::Instead(SESSION_NAMED_IN_KEYS),
    ),
    (
        "TargetCompID",
        "QuickFIX",
        Ours::Instead(SESSION_NAMED_IN_KEYS),
    ),
    // Where FIX Antenna C++ keeps each session's message logs, its store.
    (
        "LogDirectory",
        "FIX Antenna C++",
        Ours::Closest("StorageDirectory"),
    ),
    // Milliseconds in both.
    (
        "loginWaitTimeout",
        "FIX Antenna Java",
        Ours::Same("LogonTimeout"),
    ),
    (
        "SendNextExpectedMsgSeqNum",
        "QuickFIX",
        Ours::Same("EnableNextExpectedMsgSeqNum"),
    ),
    // FIX Antenna's also adopts the counterparty's 789 as our next number.
    (
        "handleSeqNumAtLogon",
        "FIX Antenna Java",
        Ours::Closest("EnableNextExpectedMsgSeqNum"),
    ),
    (
        "includeLastProcessed",
        "FIX Antenna Java",
        Ours::Same("EnableLastMsgSeqNumProcessed"),
    ),
    (
        "maxRequestResendInBlock",
        "FIX Antenna Java",
        Ours::Same("ResendRequestChunkSize"),
    ),
    (
        "MaxMessagesInResendRequest",
        "QuickFIX/n",
        Ours::Same("ResendRequestChunkSize"),
    ),
    (
        "RejectMessageWhileNoConnection",
        "FIX Antenna C++",
        Ours::Closest("PutWhileDisconnected"),
    ),
    // Milliseconds in both.
    (
        "logoutWaitTimeout",
        "FIX Antenna Java",
        Ours::Same("LogoutTimeout"),
    ),
    (
        "heartbeatReasonableTransmissionTime",
        "FIX Antenna Java",
        Ours::Same("ReasonableTransmissionTime"),
    ),
    // A fraction of HeartBtInt, where ours is a time.
    (
        "TestRequestDelayMultiplier",
        "QuickFIX/J",
        Ours::Closest("ReasonableTransmissionTime"),
    ),
    (
        "checkSendingTimeAccuracy",
        "FIX Antenna Java",
        Ours::Same("CheckSendingTime"),
    ),
    // Milliseconds, where ours is in seconds.
    (
        "reasonableDelayInMs",
        "FIX Antenna Java",
        Ours::Closest("MaxSendingTimeDelta"),
    ),
    (
        "senderTargetIdConsistencyCheck",
        "FIX Antenna Java",
        Ours::Same("ValidateCompIds"),
    ),
    // The reverse sense, and only below tag 5000.
    (
        "AllowUnknownMsgFields",
        "QuickFIX",
        Ours::Closest("ValidateUnknownFields"),
    ),
    ("FileStoreSync", "QuickFIX", Ours::Closest("StorageSync")),
    (
        "AcceptorTemplate",
        "QuickFIX/J",
        Ours::Closest("CreateUnregisteredAcceptorSession"),
    ),
    (
        "intraDaySeqNumReset",
        "FIX Antenna Java",
        Ours::Closest("ResetSeqNumOnLogout"),
    ),
    (
        "maxStorageSliceSize",
        "FIX Antenna Java",
        Ours::Closest("StorageSegmentSize"),
    ),
];

const SESSION_NAMED_IN_KEYS: &str = "a session is named in its keys: \
     Session.<SenderCompID>/<TargetCompID>.<Key>, with SenderCompID ours";

/// Our millisecond keys that QuickFIX spells the same but reads in seconds.
const SECONDS_IN_QUICKFIX: &[&str] = &["LogonTimeout", "LogoutTimeout"];

#[cfg(test)]
pub(super) fn foreign_names() -> impl Iterator<Item = (&'static str, Option<&'static str>)> {
    FOREIGN.iter().map(|(theirs, _, ours)| match ours {
        Ours::Same(key) | Ours::Closest(key) => (*theirs, Some(*key)),
        Ours::Instead(_) => (*theirs, None),
    })
}
