//! The routing of a Logon, without sockets: which session a first frame asks
//! for, and whether it gets it, waits for it, or is refused.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Core, Decision, Entry, Incoming, Key, Origin, SessionsManager, lock};
use crate::codec::{Fields, MessageView, msg_type, tags};
use crate::config::LogonRefusalReply;
use crate::id::{FixVersion, SessionId};

/// The session a first frame asks for, from our side (its TargetCompID is our
/// SenderCompID), and the FIX version it speaks; or why it asks for none.
pub(super) fn identify(logon: &MessageView<'_>) -> Result<(SessionId, FixVersion), String> {
    if logon.msg_type() != msg_type::LOGON {
        return Err(format!(
            "first message is not a Logon: MsgType {:?}",
            String::from_utf8_lossy(logon.msg_type())
        ));
    }
    let version = match logon.begin_string() {
        // FIXT names the application version in the Logon; FIX.5.0SP2 by default.
        b"FIXT.1.1" => Some(
            logon
                .get(tags::DEFAULT_APPL_VER_ID)
                .and_then(FixVersion::from_appl_ver_id)
                .unwrap_or(FixVersion::Fix50Sp2),
        ),
        other => FixVersion::from_begin_string(other),
    };
    let Some(version) = version else {
        return Err(format!(
            "Logon with unsupported BeginString {:?}",
            String::from_utf8_lossy(logon.begin_string())
        ));
    };
    let (Some(ours), Some(theirs)) = (logon.target_comp_id(), logon.sender_comp_id()) else {
        return Err("Logon without SenderCompID or TargetCompID".to_owned());
    };
    let id = SessionId::new(ours, theirs).map_err(|e| format!("Logon with a bad CompID: {e}"))?;
    Ok((id, version))
}

/// Why a Logon is not handed to a session now.
pub(super) enum Refusal {
    /// Closed without a reply, for this reason.
    Closed(String),
    /// Refused by the known session `Entry` names, whose LogonRefusalReply asks
    /// for a Logout saying why before the close.
    LoggedOut(String, Entry),
    /// The engine-created session it belongs to is ending: try again shortly.
    Later,
}

/// A refusal for `why`: a Logout first when the Logon names a known session
/// whose configuration asks for one, silence for a stranger.
fn refusal(known: Option<Entry>, why: String) -> Refusal {
    match known {
        Some(entry) if entry.shared.config.logon_refusal_reply() == LogonRefusalReply::Logout => {
            Refusal::LoggedOut(why, entry)
        }
        _ => Refusal::Closed(why),
    }
}

/// Decides on a Logon: the session to hand it to, or why it is refused.
pub(super) fn decide(core: &Arc<Core>, incoming: &Incoming<'_>) -> Result<Entry, Refusal> {
    let key = Key::new(incoming.session_id, incoming.version);
    let ending = |entry: &Entry| {
        entry.shared.origin == Origin::Unregistered
            && entry.shared.finalizing.load(Ordering::Acquire)
    };
    let known = lock(&core.registry).get(&key).cloned();
    if known.as_ref().is_some_and(ending) {
        // It ended with its last connection and is releasing its store: the new
        // connection waits for it (a counterparty reconnecting at once is normal).
        // Asked before the sessions manager, which sees the Logon once.
        return Err(Refusal::Later);
    }
    let mut manager = lock(&core.manager);
    if let Some(m) = manager.as_mut() {
        m.on_incoming_connection(incoming)
            .map_err(|why| refusal(known, format!("refused by the sessions manager: {why}")))?;
    }
    let entry = lock(&core.registry).get(&key).cloned();
    match entry {
        // It started ending since the first look.
        Some(entry) if ending(&entry) => Err(Refusal::Later),
        Some(entry) => check(incoming, &key, entry),
        None => create(core, incoming, &key, &mut manager).map_err(Refusal::Closed),
    }
}

/// Whether the registered session `entry` takes this Logon.
fn check(incoming: &Incoming<'_>, key: &Key, entry: Entry) -> Result<Entry, Refusal> {
    let id = incoming.session_id;
    let shared = &entry.shared;
    // The session's own state is no decision about this counterparty, and the
    // peer has proven nothing yet: silence, as QuickFIX.
    if shared.died.load(Ordering::Acquire) {
        return Err(Refusal::Closed(format!(
            "session {id} ({}) has stopped: its application panicked",
            key.begin_string
        )));
    }
    if shared.finalizing.load(Ordering::Acquire) {
        return Err(Refusal::Closed(format!(
            "session {id} ({}) is ending",
            key.begin_string
        )));
    }
    if !shared.accepting.load(Ordering::Acquire) {
        return Err(Refusal::Closed(format!(
            "session {id} ({}) exists but does not accept Logons (connect() not called)",
            key.begin_string
        )));
    }
    // Where this counterparty connects from is a decision about it: told.
    if let Some(port) = shared.config.listen_port()
        && port != incoming.local_port
    {
        let why = format!(
            "session {id} accepts on port {port}, not {}",
            incoming.local_port
        );
        return Err(refusal(Some(entry), why));
    }
    if !shared
        .config
        .is_remote_address_allowed(incoming.remote.ip())
    {
        let why = format!(
            "session {id}: {} is not in AllowedRemoteAddresses",
            incoming.remote.ip()
        );
        return Err(refusal(Some(entry), why));
    }
    Ok(entry)
}

/// A session for an unregistered Logon, when the configuration and the sessions
/// manager allow it.
fn create(
    core: &Arc<Core>,
    incoming: &Incoming<'_>,
    key: &Key,
    manager: &mut Option<Box<dyn SessionsManager>>,
) -> Result<Entry, String> {
    let id = incoming.session_id;
    if !core.config.create_unregistered_acceptor_session() {
        return Err(format!(
            "Logon for unknown session {id} ({}): CreateUnregisteredAcceptorSession is false",
            key.begin_string
        ));
    }
    let decision = match manager.as_mut() {
        Some(m) => m.on_unregistered_logon(incoming),
        None => Decision::Accept(Box::new(super::RejectingApplication)),
    };
    let application = match decision {
        Decision::Accept(application) => application,
        Decision::Refuse(why) => {
            return Err(format!(
                "Logon for unknown session {id} refused by the sessions manager: {why}"
            ));
        }
    };
    let params = core.default_params(incoming.version);
    let session = Core::create_session(
        core,
        id.clone(),
        incoming.version,
        application,
        params,
        Origin::Unregistered,
    )
    .map_err(|e| format!("cannot create session {id}: {e}"))?;
    session
        .connect()
        .map_err(|e| format!("cannot register session {id}: {e}"))?;
    log::info!(
        "session {id} ({}) created for an unregistered Logon from {}",
        key.begin_string,
        incoming.remote
    );
    lock(&core.owned).push(session.clone());
    if let Some(m) = manager.as_mut() {
        m.on_session_created(session);
    }
    lock(&core.registry)
        .get(key)
        .cloned()
        .ok_or_else(|| format!("session {id} was finalized as it was created"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Decoder, Encoder, TimePrecision, UtcTimestamp};

    fn logon(
        begin: &str,
        mt: &[u8],
        sender: Option<&str>,
        target: Option<&str>,
        extra: &[(u32, &str)],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = Encoder::start(&mut out, begin, mt);
        e.uint(tags::MSG_SEQ_NUM, 1);
        if let Some(s) = sender {
            e.str(tags::SENDER_COMP_ID, s);
        }
        e.timestamp(
            tags::SENDING_TIME,
            UtcTimestamp::from_unix(1_800_000_000, 0),
            TimePrecision::Millis,
        );
        if let Some(t) = target {
            e.str(tags::TARGET_COMP_ID, t);
        }
        for &(tag, value) in extra {
            e.str(tag, value);
        }
        e.finish();
        out
    }

    fn identified(frame: &[u8]) -> Result<(SessionId, FixVersion), String> {
        let mut decoder = Decoder::new();
        let view = decoder.decode(frame).expect("a well-formed frame");
        identify(&view)
    }

    #[test]
    fn a_logon_names_the_session_from_our_side() {
        let frame = logon("FIX.4.4", b"A", Some("THEM"), Some("US"), &[(108, "30")]);
        assert_eq!(
            identified(&frame),
            Ok((SessionId::from_static("US", "THEM"), FixVersion::Fix44))
        );
    }

    #[test]
    fn fixt_takes_the_application_version_from_the_logon() {
        let frame = logon("FIXT.1.1", b"A", Some("THEM"), Some("US"), &[(1137, "7")]);
        assert_eq!(identified(&frame).map(|(_, v)| v), Ok(FixVersion::Fix50));
        let frame = logon("FIXT.1.1", b"A", Some("THEM"), Some("US"), &[]);
        assert_eq!(identified(&frame).map(|(_, v)| v), Ok(FixVersion::Fix50Sp2));
    }

    #[test]
    fn what_is_not_a_usable_logon_says_why() {
        let not_logon = logon("FIX.4.4", b"D", Some("THEM"), Some("US"), &[]);
        assert!(identified(&not_logon).unwrap_err().contains("not a Logon"));
        let version = logon("FIX.9.9", b"A", Some("THEM"), Some("US"), &[]);
        assert!(
            identified(&version)
                .unwrap_err()
                .contains("unsupported BeginString")
        );
        let anonymous = logon("FIX.4.4", b"A", None, Some("US"), &[]);
        assert!(
            identified(&anonymous)
                .unwrap_err()
                .contains("without SenderCompID")
        );
        let bad = logon("FIX.4.4", b"A", Some("TH\x7fEM"), Some("US"), &[]);
        assert!(identified(&bad).unwrap_err().contains("bad CompID"));
    }
}
