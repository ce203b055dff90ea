//! The profile the QuickFIX acceptance suite in `../shared/conformance` expects
//! (`--conformance SPECDIR`): its sessions (ISLD against TW40 ... TW50SP2, TW,
//! NO_CHECK_FIELDS_HAVE_VALUES), reset on every Logon, validation against the
//! QuickFIX XML dictionaries in SPECDIR, and an application that echoes
//! NewOrderSingle, SecurityDefinition and Email and rejects anything else.

use std::collections::HashSet;

use fixengine::{
    Application, DictionarySet, Fields, FixEngine, FixVersion, Message, MessageView, Reply,
    Session, SessionEvent, SessionId, SessionParams, msg_type, tags,
};

/// The conformance suite's sessions: our CompID is always ISLD.
const SESSIONS: &[(&str, FixVersion)] = &[
    ("TW40", FixVersion::Fix40),
    ("TW41", FixVersion::Fix41),
    ("TW42", FixVersion::Fix42),
    ("TW43", FixVersion::Fix43),
    ("TW44", FixVersion::Fix44),
    ("TW50", FixVersion::Fix50),
    ("TW50SP1", FixVersion::Fix50Sp1),
    ("TW50SP2", FixVersion::Fix50Sp2),
    ("TW", FixVersion::Fix44),
    ("NO_CHECK_FIELDS_HAVE_VALUES", FixVersion::Fix44),
    // The `future` scripts use TW with FIX.4.2: sessions are told apart by BeginString too.
    ("TW", FixVersion::Fix42),
];

/// The conformance suite's sessions and profile.
pub(crate) fn create_sessions(engine: &FixEngine, spec: &str) -> Result<Vec<Session>, String> {
    // A folder that does not exist or holds no FIX*.xml is an error.
    let dictionaries =
        DictionarySet::load_dir(spec).map_err(|e| format!("--conformance {spec}: {e}"))?;
    engine.set_default_dictionaries(dictionaries.clone());
    let mut sessions = Vec::new();
    for &(target, version) in SESSIONS {
        let config = engine
            .config()
            .session_defaults()
            .clone()
            .with_reset_seq_num_on_logon(true)
            .with_max_heart_bt_int(3600)
            // The suite's validate/CheckFieldsHaveValues script expects this session
            // to accept empty values (QuickFIX's ValidateFieldsHaveValues=N).
            .with_validate_fields_have_values(target != "NO_CHECK_FIELDS_HAVE_VALUES");
        let mut params = SessionParams::default().with_config(config);
        if let Some((dictionary, app)) = dictionaries.get(version) {
            params = params.with_dictionary(dictionary, app);
        }
        let session = engine
            .create_session_with(
                SessionId::from_static("ISLD", target),
                version,
                EchoApp::default(),
                params,
            )
            .map_err(|e| e.to_string())?;
        session.connect().map_err(|e| e.to_string())?;
        sessions.push(session);
    }
    Ok(sessions)
}

/// The QuickFIX acceptance-test application: echo orders, security definitions and
/// e-mails; reject everything else as unsupported.
#[derive(Debug, Default)]
pub(crate) struct EchoApp {
    /// ClOrdIDs seen since the last Logon, to drop PossResend duplicates.
    seen_orders: HashSet<Vec<u8>>,
}

impl Application for EchoApp {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        let version = reply.version();
        let echo = match message.msg_type() {
            msg_type::NEW_ORDER_SINGLE => {
                let id = message.get(tags::CL_ORD_ID).unwrap_or_default().to_vec();
                let first_time = self.seen_orders.insert(id);
                if !first_time && message.is_poss_resend() {
                    // A possible resend of an order already seen: drop it silently.
                    return;
                }
                true
            }
            msg_type::SECURITY_DEFINITION => version >= FixVersion::Fix42,
            msg_type::EMAIL => true,
            _ => false,
        };
        let result = if echo {
            reply.send(&echo_of(message)).map(|_| ())
        } else if version >= FixVersion::Fix42 {
            reply.business_reject(message, 3, "Unsupported Message Type")
        } else {
            reply.business_reject(message, 3, "Unsupported message type")
        };
        if let Err(e) = result {
            log::error!("reply failed: {e}");
        }
    }

    fn on_event(&mut self, event: &SessionEvent) {
        if matches!(event, SessionEvent::LoggedOn { .. }) {
            self.seen_orders.clear();
        }
    }
}

/// The message back as received: extra header fields kept, the session's own
/// header fields re-stamped, body fields in ascending tag order as QuickFIX writes
/// them (unless a tag repeats, i.e. a repeating group, whose order must stay).
fn echo_of(message: &MessageView<'_>) -> Message {
    let mut echo = Message::new(message.msg_type());
    for f in message.header() {
        if !matches!(
            f.tag,
            tags::MSG_SEQ_NUM
                | tags::SENDER_COMP_ID
                | tags::SENDING_TIME
                | tags::TARGET_COMP_ID
                | tags::POSS_DUP_FLAG
                | tags::ORIG_SENDING_TIME
        ) {
            echo.push(f.tag, f.value);
        }
    }
    let mut body: Vec<(u32, &[u8])> = message.body().map(|f| (f.tag, f.value)).collect();
    let mut tags_seen = HashSet::new();
    if body.iter().all(|(t, _)| tags_seen.insert(*t)) {
        body.sort_by_key(|(t, _)| *t);
    }
    for (t, v) in body {
        echo.push(t, v);
    }
    echo
}
