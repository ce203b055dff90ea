//! The command line: the flags, `--help`, and the configuration they make of
//! the embedded default or an `engine.properties`.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use fixengine::{
    DEFAULT_PROPERTIES, EngineConfig, FixVersion, IdleStrategy, SessionConfig, SessionId,
    StorageType, SyncPolicy,
};

/// Every flag and what it does, as `--help` prints them. README.md's flag table
/// ("The two commands") says the same: keep the two together.
const FLAGS: &[(&str, &str)] = &[
    (
        "--config FILE",
        "an engine.properties instead of the embedded default",
    ),
    (
        "--port N",
        "listen on N (0 to 65535; 0: any free port) instead of ListenPort",
    ),
    (
        "--storage DIR",
        "keep the session stores under the directory DIR (StorageDirectory)",
    ),
    (
        "--session SENDER/TARGET[/VERSION]",
        "accept this session, ours first (repeatable; VERSION as below, FIX.4.4 when \
         left out; default: every session the configuration names, in the version \
         its BeginString gives)",
    ),
    (
        "--unregistered",
        "accept Logons for sessions nobody registered and answer their orders \
         (CreateUnregisteredAcceptorSession)",
    ),
    (
        "--transient",
        "sequence numbers and messages in memory only: no storage",
    ),
    (
        "--storage-sync none|every|N",
        "StorageSync for every session, the values engine.properties takes \
         (every: each message on disk before it is sent, synced in groups)",
    ),
    (
        "--latency-mode",
        "sessions spin between messages instead of parking (IdleStrategy = spin)",
    ),
    (
        "--conformance SPECDIR",
        "the sessions and behaviour of the QuickFIX acceptance suite, validating \
         against the dictionaries in SPECDIR, on 127.0.0.1",
    ),
    (
        "--no-stdin",
        "leave standard input alone: stop only on SIGINT (Ctrl-C) or SIGTERM",
    ),
    ("-h, --help", "print this and exit"),
];

/// What the command line asked for.
#[derive(Debug, Default)]
pub(crate) struct Options {
    config: Option<String>,
    port: Option<u16>,
    storage: Option<String>,
    /// `--session`, in order: empty for the configuration's sessions.
    pub(crate) sessions: Vec<(SessionId, FixVersion)>,
    unregistered: bool,
    transient: bool,
    storage_sync: Option<SyncPolicy>,
    latency_mode: bool,
    /// `--conformance SPECDIR`.
    pub(crate) conformance: Option<String>,
    /// `--no-stdin`: only a signal stops the acceptor.
    pub(crate) no_stdin: bool,
}

/// Reads the arguments (without the program's name): `Ok(None)` for `--help`,
/// which has printed the usage.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--config" => options.config = Some(value()?),
            "--port" => options.port = Some(parse_port(&value()?)?),
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
            "--no-stdin" => options.no_stdin = true,
            "-h" | "--help" => {
                print!("{}", usage());
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Some(options))
}

impl Options {
    /// The configuration to run: the file or the embedded default, then the
    /// flags, which beat the file. Refuses a storage path that is not a
    /// directory, before anything listens.
    pub(crate) fn engine_config(&self) -> Result<EngineConfig, String> {
        let (mut config, warnings) = match &self.config {
            Some(path) => EngineConfig::from_properties_file(path),
            None => EngineConfig::from_properties_str(DEFAULT_PROPERTIES),
        }
        .map_err(|e| e.to_string())?;
        for w in warnings {
            log::warn!("{w}");
        }
        if let Some(port) = self.port {
            config = config.with_listen_ports([port]);
        }
        if let Some(dir) = &self.storage {
            config = config.with_storage_directory(dir);
        }
        if self.unregistered {
            config = config.with_create_unregistered_acceptor_session(true);
        }
        // Every session, named in the file or not, gets these.
        if self.transient {
            config = for_every_session(config, |c| c.with_storage_type(StorageType::Transient));
        }
        if let Some(policy) = self.storage_sync {
            config = for_every_session(config, |c| c.with_storage_sync(policy));
        }
        if self.latency_mode {
            config = for_every_session(config, |c| c.with_idle_strategy(IdleStrategy::Spin));
        }
        if self.conformance.is_some() {
            // The suite plays on loopback only.
            config = config.with_listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        if uses_storage(&config) {
            let flag = if self.storage.is_some() {
                "--storage"
            } else {
                "StorageDirectory"
            };
            check_storage_directory(flag, config.storage_directory())?;
        }
        Ok(config)
    }
}

/// Whether any session keeps its store on disk: the defaults (which unknown
/// sessions and `--session` ones not in the file get) or a session the
/// configuration names.
pub(crate) fn uses_storage(config: &EngineConfig) -> bool {
    let persistent = |c: &SessionConfig| c.storage_type() == StorageType::Persistent;
    persistent(config.session_defaults())
        || config
            .sessions()
            .any(|(sender, target)| persistent(&config.session_config(sender, target)))
}

/// What the sessions validate against, for the banner: the folder
/// (DataDictionaryDirectory), the dictionaries named (DataDictionary), or
/// nothing but well-formedness, said so a newcomer knows. `--conformance`
/// gives its sessions the dictionaries of its own folder.
pub(crate) fn dictionaries(config: &EngineConfig, conformance: bool) -> String {
    if conformance {
        return "data dictionaries: the --conformance folder's".to_owned();
    }
    if let Some(dir) = config.data_dictionary_directory() {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        return format!(
            "data dictionaries: from {} (each session's version, or what its \
             DataDictionary names)",
            dir.display()
        );
    }
    let named = config.session_defaults().data_dictionary().is_some()
        || config
            .sessions()
            .any(|(s, t)| config.session_config(s, t).data_dictionary().is_some());
    if named {
        "data dictionaries: as each session's DataDictionary names them".to_owned()
    } else {
        "data dictionaries: none, so messages are checked for well-formedness only \
         (set DataDictionaryDirectory: see README, Validation and data dictionaries)"
            .to_owned()
    }
}

/// A version as the wire names it: BeginString(8), and for FIX.5.0 and later
/// the application version it carries over FIXT.1.1.
pub(crate) fn wire_name(version: FixVersion) -> String {
    if version.is_fixt() {
        format!("{} ({})", version.begin_string(), dotted(version))
    } else {
        version.begin_string().to_owned()
    }
}

/// `FIX.4.4`, `FIX.5.0SP2`: the conventional name (`FIX44`) with its dots,
/// the form `--session` takes.
fn dotted(version: FixVersion) -> String {
    let name = version.name();
    format!("{}.{}.{}", &name[..3], &name[3..4], &name[4..])
}

/// The versions `--session` takes, for its usage and its errors.
fn versions() -> String {
    let names: Vec<String> = FixVersion::ALL.into_iter().map(dotted).collect();
    format!("{} (FIX.5.0 and later over FIXT.1.1)", names.join(", "))
}

fn usage() -> String {
    let mut text = String::from(
        "usage: acceptor [FLAG]...\n\n\
         Answers every NewOrderSingle with an ExecutionReport that fills it. Stops on\n\
         q and Enter, at the end of standard input, or on SIGINT (Ctrl-C) / SIGTERM.\n\n",
    );
    for (flag, meaning) in FLAGS {
        text.push_str(&format!("  {flag}\n"));
        wrap(&mut text, "      ", meaning);
    }
    text.push_str("\n  VERSION\n");
    wrap(&mut text, "      ", &versions());
    text
}

/// Appends `words` to `text` in lines of at most 80 columns, each after `indent`.
fn wrap(text: &mut String, indent: &str, words: &str) {
    let mut line = String::new();
    for word in words.split(' ') {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > 80 {
            text.push_str(&format!("{indent}{line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    text.push_str(&format!("{indent}{line}\n"));
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("--port {text}: a port is a number from 0 to 65535"))
}

/// `SENDER/TARGET[/VERSION]`.
fn parse_session(text: &str) -> Result<(SessionId, FixVersion), String> {
    let parts: Vec<&str> = text.split('/').collect();
    let (sender, target, version) = match parts[..] {
        [sender, target] => (sender, target, FixVersion::Fix44),
        [sender, target, version] => {
            let version = version.parse().map_err(|_| {
                format!(
                    "--session {text}: unknown version {version:?}; the versions are {}",
                    versions()
                )
            })?;
            (sender, target, version)
        }
        _ => {
            return Err(format!(
                "--session {text}: expected SENDER/TARGET or SENDER/TARGET/VERSION, \
                 VERSION one of {}",
                versions()
            ));
        }
    };
    let id = SessionId::new(sender, target).map_err(|e| format!("--session {text}: {e}"))?;
    Ok((id, version))
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

/// Refuses a storage path that exists and is not a directory (or lies under a
/// file): the engine would only find out when the first session opens its store.
fn check_storage_directory(flag: &str, dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "{flag} {}: must be a directory (the session stores go under it), and this is a file",
            dir.display()
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()), // made on first use
        Err(e) => Err(format!(
            "{flag} {}: must be a directory (the session stores go under it): {e}",
            dir.display()
        )),
    }
}
