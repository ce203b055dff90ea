//! The example acceptor: accepts FIX sessions and answers orders.
//!
//! ```sh
//! cargo run --release --example acceptor                  # embedded engine.properties, port 9880
//! cargo run --release --example acceptor -- --port 9881
//! cargo run --release --example acceptor -- --properties my.properties
//! cargo run --release --example acceptor -- --conformance --port 19880 \
//!     --dictionaries ../shared/conformance/spec
//! ```
//!
//! `--conformance` registers the sessions the QuickFIX acceptance suite in
//! `../shared/conformance` expects (ISLD against TW40 ... TW50SP2, TW and
//! NO_CHECK_FIELDS_HAVE_VALUES, reset on every Logon) and behaves as its test
//! application: NewOrderSingle, SecurityDefinition and Email are echoed back,
//! anything else is rejected as unsupported. `--dictionaries DIR` validates
//! inbound messages against the QuickFIX XML data dictionaries in DIR
//! (FIX40.xml ... FIX44.xml, FIXT11.xml with FIX50*.xml). Type `q` and Enter to stop.
//!
//! This is a stopgap transport until the engine (mio reactor and worker threads)
//! lands: one blocking thread per connection, driving the same sans-IO
//! `SessionMachine` the engine will drive.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fixengine::dictionary::{Dictionary, Validation};
use fixengine::session::{Handler, Reply, SessionEvent, SessionMachine};
use fixengine::store::MemoryStore;
use fixengine::{
    DEFAULT_PROPERTIES, Decoder, EngineConfig, Fields, FixVersion, Framer, Message, MessageView,
    SessionConfig, SessionId, Status, SystemClock, msg_type, tags,
};

/// The conformance suite's sessions: our CompID is always ISLD.
const CONFORMANCE_SESSIONS: &[(&str, FixVersion)] = &[
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

struct Slot {
    machine: SessionMachine<MemoryStore>,
    app: EchoApp,
    connected: bool,
}

/// Sessions by (BeginString, our CompID, theirs): QuickFIX's SessionID.
type Registry = HashMap<(String, String, String), Arc<Mutex<Slot>>>;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let conformance = args.iter().any(|a| a == "--conformance");

    let (config, warnings) = match flag("--properties") {
        Some(path) => EngineConfig::from_properties_file(path),
        None => EngineConfig::from_properties_str(DEFAULT_PROPERTIES),
    }
    .unwrap_or_else(|e| {
        eprintln!("acceptor: {e}");
        std::process::exit(2);
    });
    for w in warnings {
        log::warn!("{w}");
    }
    let port = match flag("--port").map(|p| p.parse::<u16>()) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("acceptor: --port: {e}");
            return ExitCode::from(2);
        }
        None => config.listen_ports().first().copied().unwrap_or(9880),
    };

    let dictionaries = match flag("--dictionaries").map(|d| load_dictionaries(Path::new(d))) {
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            eprintln!("acceptor: {e}");
            return ExitCode::from(2);
        }
        None => HashMap::new(),
    };
    let registry = Arc::new(build_registry(&config, conformance, &dictionaries));
    // The conformance suite plays on loopback only.
    let ip = if conformance {
        std::net::Ipv4Addr::LOCALHOST.into()
    } else {
        config.listen_address()
    };
    let addr = SocketAddr::new(ip, port);
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("acceptor: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::info!(
        "listening on {addr} for {} session(s); type q and Enter to stop",
        registry.len()
    );

    std::thread::spawn(|| {
        let stdin = io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(l) if l.trim() == "q" => std::process::exit(0),
                Ok(_) => {}
                // No terminal (e.g. started in the background): run until killed.
                Err(_) => return,
            }
        }
    });

    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let registry = Arc::clone(&registry);
                let logon_timeout = config.logon_timeout();
                std::thread::spawn(move || serve(stream, &registry, logon_timeout));
            }
            Err(e) => log::warn!("accept failed: {e}"),
        }
    }
    ExitCode::SUCCESS
}

/// The dictionaries of every version found in `dir`, by version.
fn load_dictionaries(
    dir: &Path,
) -> Result<HashMap<FixVersion, Dictionaries>, fixengine::dictionary::DictionaryError> {
    let load = |name: &str| Dictionary::from_file(dir.join(name)).map(Arc::new);
    let mut out = HashMap::new();
    for (version, file) in [
        (FixVersion::Fix40, "FIX40.xml"),
        (FixVersion::Fix41, "FIX41.xml"),
        (FixVersion::Fix42, "FIX42.xml"),
        (FixVersion::Fix43, "FIX43.xml"),
        (FixVersion::Fix44, "FIX44.xml"),
    ] {
        out.insert(version, (load(file)?, None));
    }
    let transport = load("FIXT11.xml")?;
    for (version, file) in [
        (FixVersion::Fix50, "FIX50.xml"),
        (FixVersion::Fix50Sp1, "FIX50SP1.xml"),
        (FixVersion::Fix50Sp2, "FIX50SP2.xml"),
    ] {
        out.insert(version, (Arc::clone(&transport), Some(load(file)?)));
    }
    Ok(out)
}

/// A session's dictionary and, for FIXT, its application dictionary.
type Dictionaries = (Arc<Dictionary>, Option<Arc<Dictionary>>);

fn build_registry(
    config: &EngineConfig,
    conformance: bool,
    dictionaries: &HashMap<FixVersion, Dictionaries>,
) -> Registry {
    let mut sessions: Vec<(SessionId, FixVersion, SessionConfig)> = Vec::new();
    if conformance {
        for &(target, version) in CONFORMANCE_SESSIONS {
            let session_config = config
                .session_defaults()
                .clone()
                .with_reset_seq_num_on_logon(true)
                .with_max_heart_bt_int(3600);
            // The suite's validate/CheckFieldsHaveValues script expects this session
            // to accept empty values (QuickFIX's ValidateFieldsHaveValues=N).
            let session_config = session_config
                .with_validate_fields_have_values(target != "NO_CHECK_FIELDS_HAVE_VALUES");
            sessions.push((SessionId::new("ISLD", target), version, session_config));
        }
    } else {
        for (sender, target) in config.sessions() {
            match SessionId::try_new(sender, target) {
                Ok(id) => {
                    sessions.push((id, FixVersion::Fix44, config.session_config(sender, target)))
                }
                Err(e) => log::warn!("session {sender}/{target} skipped: {e}"),
            }
        }
    }
    sessions
        .into_iter()
        .map(|(id, version, session_config)| {
            let key = (
                version.begin_string().to_owned(),
                id.sender().to_string(),
                id.target().to_string(),
            );
            let mut machine = SessionMachine::new(
                id,
                version,
                session_config,
                MemoryStore::new(),
                Arc::new(SystemClock),
                now(),
            );
            if let Some((session, app)) = dictionaries.get(&version) {
                machine = machine.with_dictionary(
                    Arc::clone(session),
                    app.clone(),
                    Validation::default(),
                );
            }
            let slot = Slot {
                machine,
                app: EchoApp::default(),
                connected: false,
            };
            (key, Arc::new(Mutex::new(slot)))
        })
        .collect()
}

#[allow(clippy::disallowed_methods)] // the driver is where time is read
fn now() -> Instant {
    Instant::now()
}

/// One connection, from its first byte to its close.
fn serve(mut stream: TcpStream, registry: &Registry, logon_timeout: Duration) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let _ = stream.set_nodelay(true);
    let framer = Framer::default();
    let mut buf = Vec::with_capacity(8192);
    let deadline = now() + logon_timeout;

    // Read up to the first complete frame: it must be a Logon naming a known session.
    let first_len = loop {
        match framer.parse(&buf) {
            Ok(Status::Complete(len)) => break len,
            Ok(Status::Partial(_)) => {}
            Err(g) => {
                log::info!("{peer}: closed before Logon: {}", g.error);
                return;
            }
        }
        let left = deadline.saturating_duration_since(now());
        if left.is_zero() || read_some(&mut stream, &mut buf, left) != Got::Data {
            log::info!("{peer}: no Logon within {logon_timeout:?}");
            return;
        }
    };
    let key = {
        let mut decoder = Decoder::new();
        match decoder.decode(&buf[..first_len]) {
            Ok(logon) if logon.msg_type() == msg_type::LOGON => (
                String::from_utf8_lossy(logon.begin_string()).into_owned(),
                String::from_utf8_lossy(logon.target_comp_id().unwrap_or_default()).into_owned(),
                String::from_utf8_lossy(logon.sender_comp_id().unwrap_or_default()).into_owned(),
            ),
            _ => {
                log::info!("{peer}: first message not a Logon");
                return;
            }
        }
    };
    let Some(slot) = registry.get(&key) else {
        log::info!(
            "{peer}: Logon for unknown session {} {}/{}",
            key.0,
            key.1,
            key.2
        );
        return;
    };
    {
        let Ok(mut s) = slot.lock() else { return };
        if s.connected {
            // Spec 1S-b: drop the new connection without sending anything.
            log::warn!("{peer}: session {}/{} is already connected", key.1, key.2);
            return;
        }
        s.connected = true;
        s.machine.handle_connect(now(), logon_timeout);
    }
    log::info!("{peer}: session {}/{} connected", key.1, key.2);
    run_session(&mut stream, slot, &framer, buf);
    // Free the session before closing the socket: a counterparty that reconnects
    // the moment it sees the close must not find it still taken.
    if let Ok(mut s) = slot.lock() {
        let _ = s.machine.handle_disconnect(now());
        drain_events(&mut s);
        s.connected = false;
    }
    let _ = stream.shutdown(Shutdown::Both);
    log::info!("{peer}: session {}/{} disconnected", key.1, key.2);
}

fn run_session(stream: &mut TcpStream, slot: &Mutex<Slot>, framer: &Framer, mut buf: Vec<u8>) {
    let mut out = Vec::with_capacity(8192);
    loop {
        let Ok(mut guard) = slot.lock() else { return };
        let s = &mut *guard;
        // Feed every complete frame held.
        let mut start = 0;
        while !s.machine.wants_close() {
            match framer.parse(&buf[start..]) {
                Ok(Status::Complete(len)) => {
                    let frame = &buf[start..start + len];
                    if let Err(e) = s.machine.handle_frame(now(), frame, &mut s.app) {
                        log::error!("store failure: {e}");
                        return;
                    }
                    start += len;
                }
                Ok(Status::Partial(_)) => break,
                Err(g) => {
                    log::info!("garbled input dropped: {}", g.error);
                    start += g.len;
                }
            }
        }
        buf.drain(..start);
        let _ = s.machine.handle_timeout(now());
        out.clear();
        while s.machine.poll_transmit(&mut out).unwrap_or(0) > 0 {}
        drain_events(s);
        let closing = s.machine.wants_close();
        let wait = s
            .machine
            .poll_timeout()
            .map_or(Duration::from_secs(1), |t| {
                t.saturating_duration_since(now())
            });
        drop(guard);
        if !out.is_empty() && stream.write_all(&out).is_err() {
            return;
        }
        if closing {
            return;
        }
        if read_some(stream, &mut buf, wait.max(Duration::from_millis(1))) == Got::Closed {
            return;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Data,
    Timeout,
    Closed,
}

/// Reads what arrives within `wait`.
fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>, wait: Duration) -> Got {
    let _ = stream.set_read_timeout(Some(wait));
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk) {
        Ok(0) => Got::Closed,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Got::Data
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
            ) =>
        {
            Got::Timeout
        }
        Err(_) => Got::Closed,
    }
}

fn drain_events(s: &mut Slot) {
    while let Some(event) = s.machine.poll_event() {
        match &event {
            SessionEvent::LoggedOn { .. } => s.app.seen_orders.clear(),
            SessionEvent::Disconnect { reason } => log::info!("{}: {reason}", s.machine.id()),
            _ => log::debug!("{}: {event:?}", s.machine.id()),
        }
    }
}

/// The QuickFIX acceptance-test application: echo orders, security definitions and
/// e-mails; reject everything else as unsupported.
#[derive(Debug, Default)]
struct EchoApp {
    /// ClOrdIDs seen since the last Logon, to drop PossResend duplicates.
    seen_orders: HashSet<Vec<u8>>,
}

impl Handler for EchoApp {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        let mt = message.msg_type();
        let version = reply.version();
        let echo = match mt {
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
