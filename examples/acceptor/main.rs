//! The example acceptor: the FIX Antenna "FIX Session Acceptor" example, runnable.
//!
//! ```sh
//! cargo run --release --example acceptor            # embedded defaults: port 9880, TEST1/TEST2 FIX.4.4
//! cargo run --release --example acceptor -- --port 9881 --session ME/YOU/FIX.4.2 --transient
//! cargo run --release --example acceptor -- --config engine.properties --unregistered
//! cargo run --release --example acceptor -- --conformance ../shared/conformance/spec --port 19880
//! ```
//!
//! It answers every NewOrderSingle(D) with an ExecutionReport(8) that fills it.
//! Flags:
//!
//! - `--config FILE`: an `engine.properties` instead of the embedded default
//!   ([`fixengine::DEFAULT_PROPERTIES`]);
//! - `--port N`: listen on N instead of the configured ListenPort;
//! - `--storage DIR`: keep session stores under DIR;
//! - `--session SENDER/TARGET[/FIX.4.x]` (repeatable): the sessions to accept, ours
//!   first (default: every session the configuration names, as FIX.4.4);
//! - `--unregistered`: accept Logons for sessions nobody registered;
//! - `--transient`: keep sequence numbers and messages in memory only;
//! - `--storage-sync none|every|N`: StorageSync for every session (`every`: each
//!   message on disk before it is sent, synced in groups);
//! - `--latency-mode`: sessions spin (IdleStrategy = spin) instead of parking
//!   between messages: lower latency for a core's worth of CPU while busy;
//! - `--conformance SPECDIR`: the sessions and behaviour the QuickFIX acceptance
//!   suite in `../shared/conformance` expects (ISLD against TW40 ... TW50SP2, TW,
//!   NO_CHECK_FIELDS_HAVE_VALUES; reset on every Logon; validation against the
//!   QuickFIX XML dictionaries in SPECDIR; NewOrderSingle, SecurityDefinition and
//!   Email echoed back, anything else rejected as unsupported), on 127.0.0.1.
//!
//! It stops cleanly, finalizing every session, on `q` and Enter, at the end of
//! standard input (unless that is `/dev/null`, as for a daemon), or on SIGINT /
//! SIGTERM. Set `RUST_LOG=debug` to see every
//! session event.

use std::collections::HashSet;
use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use fixengine::{
    Application, DEFAULT_PROPERTIES, Decision, DictionarySet, EngineConfig, FieldValue, Fields,
    FixEngine, FixVersion, IdleStrategy, Incoming, Message, MessageView, Reply, Session,
    SessionConfig, SessionId, SessionParams, SessionsManager, StorageType, msg_type,
    store::SyncPolicy, tags,
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

/// What the command line asked for.
#[derive(Debug, Default)]
struct Options {
    config: Option<String>,
    port: Option<u16>,
    storage: Option<String>,
    sessions: Vec<(SessionId, FixVersion)>,
    unregistered: bool,
    transient: bool,
    storage_sync: Option<SyncPolicy>,
    latency_mode: bool,
    conformance: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--config" => options.config = Some(value()?),
            "--port" => {
                let v = value()?;
                options.port = Some(v.parse().map_err(|e| format!("--port {v}: {e}"))?);
            }
            "--storage" => options.storage = Some(value()?),
            "--session" => options.sessions.push(parse_session(&value()?)?),
            "--unregistered" => options.unregistered = true,
            "--transient" => options.transient = true,
            "--storage-sync" => {
                // The same values as StorageSync in engine.properties.
                let policy = value()?.parse::<SyncPolicy>();
                options.storage_sync = Some(policy.map_err(|e| format!("--storage-sync: {e}"))?);
            }
            "--latency-mode" => options.latency_mode = true,
            "--conformance" => options.conformance = Some(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: acceptor [--config FILE] [--port N] [--storage DIR] \
                            [--session SENDER/TARGET[/FIX.4.x]]... [--unregistered] \
                            [--transient] [--storage-sync none|every|N] [--latency-mode] \
                            [--conformance SPECDIR]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(options)
}

/// `SENDER/TARGET[/BEGINSTRING or version name]`.
fn parse_session(text: &str) -> Result<(SessionId, FixVersion), String> {
    let mut parts = text.split('/');
    let (Some(sender), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!(
            "--session {text}: expected SENDER/TARGET[/FIX.4.4]"
        ));
    };
    let version = match parts.next() {
        None => FixVersion::Fix44,
        Some(v) => {
            parse_version(v).ok_or_else(|| format!("--session {text}: unknown version {v}"))?
        }
    };
    let id = SessionId::new(sender, target).map_err(|e| format!("--session {text}: {e}"))?;
    Ok((id, version))
}

fn parse_version(v: &str) -> Option<FixVersion> {
    FixVersion::from_begin_string(v.as_bytes()).or(match v.to_ascii_uppercase().as_str() {
        "FIX40" => Some(FixVersion::Fix40),
        "FIX41" => Some(FixVersion::Fix41),
        "FIX42" => Some(FixVersion::Fix42),
        "FIX43" => Some(FixVersion::Fix43),
        "FIX44" => Some(FixVersion::Fix44),
        "FIX50" | "FIX.5.0" => Some(FixVersion::Fix50),
        "FIX50SP1" | "FIX.5.0SP1" => Some(FixVersion::Fix50Sp1),
        "FIX50SP2" | "FIX.5.0SP2" => Some(FixVersion::Fix50Sp2),
        _ => None,
    })
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acceptor: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_args()?;
    let (mut config, warnings) = match &options.config {
        Some(path) => EngineConfig::from_properties_file(path),
        None => EngineConfig::from_properties_str(DEFAULT_PROPERTIES),
    }
    .map_err(|e| e.to_string())?;
    for w in warnings {
        log::warn!("{w}");
    }
    if let Some(port) = options.port {
        config = config.with_listen_ports([port]);
    }
    if let Some(dir) = &options.storage {
        config = config.with_storage_directory(dir);
    }
    if options.unregistered {
        config = config.with_create_unregistered_acceptor_session(true);
    }
    // The flags beat the file: every session, named in it or not, gets them.
    if options.transient {
        config = for_every_session(config, |c| c.with_storage_type(StorageType::Transient));
    }
    if let Some(policy) = options.storage_sync {
        config = for_every_session(config, |c| c.with_storage_sync(policy));
    }
    if options.latency_mode {
        config = for_every_session(config, |c| c.with_idle_strategy(IdleStrategy::Spin));
    }
    if options.conformance.is_some() {
        // The suite plays on loopback only.
        config = config.with_listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    // The manager is in place before the first connection: one set after the
    // engine starts would miss a Logon that comes at once. (The sessions below
    // are still registered after the port opens: a TEST2 Logon in that moment is
    // refused, or with --unregistered taken as an unknown session.)
    let engine = if options.unregistered {
        FixEngine::with_sessions_manager(
            config,
            AcceptAll {
                echo: options.conformance.is_some(),
            },
        )
    } else {
        FixEngine::new(config)
    }
    .map_err(|e| e.to_string())?;
    let sessions = match &options.conformance {
        Some(spec) => conformance_sessions(&engine, spec)?,
        None => order_sessions(&engine, &options)?,
    };
    for addr in engine.local_addrs() {
        println!("fixengine acceptor listening on {addr}");
    }
    let storage = engine.config().storage_directory();
    println!(
        "storage: {} ({})",
        std::path::absolute(storage)
            .unwrap_or_else(|_| storage.to_owned())
            .display(),
        engine.config().session_defaults().storage_type()
    );
    for s in &sessions {
        println!(
            "session {} {}: we are {}, the counterparty is {}",
            s.version(),
            s.id(),
            s.id().sender(),
            s.id().target()
        );
    }
    if options.unregistered {
        println!("Logons for unknown sessions are accepted");
    }
    println!("type q and Enter to stop");

    let why = wait_for_stop();
    log::info!("stopping: {why}");
    // Every session logs out at once, each waiting for its counterparty's Logout.
    engine.shutdown();
    drop(sessions);
    Ok(())
}

/// Applies `change` to the session defaults and to every session the
/// configuration names.
fn for_every_session(
    config: EngineConfig,
    change: impl Fn(SessionConfig) -> SessionConfig,
) -> EngineConfig {
    let named: Vec<(String, String)> = config
        .sessions()
        .map(|(s, t)| (s.to_owned(), t.to_owned()))
        .collect();
    let defaults = change(config.session_defaults().clone());
    let mut config = config.with_session_defaults(defaults);
    for (sender, target) in named {
        let session = change(config.session_config(&sender, &target));
        config = config.with_session(sender, target, session);
    }
    config
}

/// The sessions of the command line, or of the configuration, answering orders.
fn order_sessions(engine: &FixEngine, options: &Options) -> Result<Vec<Session>, String> {
    let ids: Vec<(SessionId, FixVersion)> = if options.sessions.is_empty() {
        engine
            .config()
            .sessions()
            .map(|(s, t)| SessionId::new(s, t).map(|id| (id, FixVersion::Fix44)))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?
    } else {
        options.sessions.clone()
    };
    ids.into_iter()
        .map(|(id, version)| {
            let session = engine
                .create_session(id, version, OrderApp::default())
                .map_err(|e| e.to_string())?;
            session.connect().map_err(|e| e.to_string())?;
            Ok(session)
        })
        .collect()
}

/// The conformance suite's sessions and profile.
fn conformance_sessions(engine: &FixEngine, spec: &str) -> Result<Vec<Session>, String> {
    let dictionaries = DictionarySet::load_dir(spec).map_err(|e| e.to_string())?;
    if dictionaries.is_empty() {
        return Err(format!(
            "--conformance {spec}: no FIX*.xml dictionaries there"
        ));
    }
    engine.set_default_dictionaries(dictionaries.clone());
    let mut sessions = Vec::new();
    for &(target, version) in CONFORMANCE_SESSIONS {
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
                SessionId::new("ISLD", target).map_err(|e| e.to_string())?,
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

/// Blocks until `q`, the end of standard input, SIGINT or SIGTERM; says which.
fn wait_for_stop() -> String {
    let (stop, stopped) = crossbeam_channel::bounded::<String>(2);
    if stdin_is_dev_null() {
        // Started as a daemon (`< /dev/null`): its input ends at once, which must not
        // stop it; only a signal does.
        log::info!("standard input is /dev/null: stop with SIGINT or SIGTERM");
    } else {
        let stop = stop.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                match line {
                    Ok(l) if l.trim() == "q" => {
                        let _ = stop.send("q typed".to_owned());
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = stop.send("end of standard input".to_owned());
        });
    }
    match signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let _ = stop.send(format!("signal {signal}"));
                }
            });
        }
        Err(e) => log::warn!("SIGINT/SIGTERM not handled: {e}"),
    }
    stopped
        .recv()
        .unwrap_or_else(|_| "no way to stop left".to_owned())
}

/// True when standard input is a character device but not a terminal: /dev/null.
fn stdin_is_dev_null() -> bool {
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return false;
    }
    stdin
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.file_type().is_char_device())
}

/// Fills every NewOrderSingle at once with an ExecutionReport; anything else gets
/// a BusinessMessageReject.
#[derive(Debug)]
struct OrderApp {
    /// Makes OrderIDs and ExecIDs unique across runs: the start time, in seconds.
    run: u64,
    /// Numbers for OrderID and ExecID.
    next_id: u64,
    /// The report, rebuilt in place for every order, and the ID being written:
    /// kept so that answering an order allocates nothing.
    report: Message,
    id: Vec<u8>,
}

impl Default for OrderApp {
    #[allow(clippy::disallowed_methods)] // a program, not the library: it may read the clock
    fn default() -> Self {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            run,
            next_id: 0,
            report: Message::new(msg_type::EXECUTION_REPORT),
            id: Vec::with_capacity(32),
        }
    }
}

impl Application for OrderApp {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        if message.msg_type() != msg_type::NEW_ORDER_SINGLE {
            if let Err(e) = reply.business_reject(message, 3, "Unsupported Message Type") {
                log::error!("reject not sent: {e}");
            }
            return;
        }
        self.next_id += 1;
        let (run, n) = (self.run, self.next_id);
        let get = |tag| message.get(tag).unwrap_or_default();
        let report = self.report.reset(msg_type::EXECUTION_REPORT);
        report.push(tags::ORDER_ID, order_ref(&mut self.id, b'O', run, n));
        report.push(tags::CL_ORD_ID, get(tags::CL_ORD_ID));
        report
            .push(tags::EXEC_ID, order_ref(&mut self.id, b'E', run, n))
            .push(tags::EXEC_TYPE, 'F') // Trade
            .push(tags::ORD_STATUS, '2') // Filled
            .push(tags::SIDE, get(tags::SIDE))
            .push(tags::SYMBOL, get(tags::SYMBOL))
            .push(tags::ORDER_QTY, get(tags::ORDER_QTY))
            .push(tags::LEAVES_QTY, 0u32)
            .push(tags::CUM_QTY, get(tags::ORDER_QTY))
            .push(tags::AVG_PX, message.get(tags::PRICE).unwrap_or(b"0"));
        if let Err(e) = reply.send(&self.report) {
            log::error!("ExecutionReport not sent: {e}");
        }
    }
}

/// Writes `{prefix}{run}-{n}` into `buf`: OrderID and ExecID, with the codec's
/// own integer formatting. `write!` took about 1,100 instructions per order
/// here, a tenth of the acceptor's whole cost (callgrind).
fn order_ref(buf: &mut Vec<u8>, prefix: u8, run: u64, n: u64) -> &[u8] {
    buf.clear();
    buf.push(prefix);
    run.write_value(buf);
    buf.push(b'-');
    n.write_value(buf);
    buf
}

/// The QuickFIX acceptance-test application: echo orders, security definitions and
/// e-mails; reject everything else as unsupported.
#[derive(Debug, Default)]
struct EchoApp {
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

    fn on_event(&mut self, event: &fixengine::SessionEvent) {
        if matches!(event, fixengine::SessionEvent::LoggedOn { .. }) {
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

/// `--unregistered`: every unknown session is accepted and answered like the others.
struct AcceptAll {
    echo: bool,
}

impl SessionsManager for AcceptAll {
    fn on_unregistered_logon(&mut self, incoming: &Incoming<'_>) -> Decision {
        log::info!(
            "accepting unknown session {} ({}) from {}",
            incoming.session_id,
            incoming.version,
            incoming.remote
        );
        if self.echo {
            Decision::Accept(Box::new(EchoApp::default()))
        } else {
            Decision::Accept(Box::new(OrderApp::default()))
        }
    }
}
