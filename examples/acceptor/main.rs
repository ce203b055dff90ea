//! The example acceptor: the FIX Antenna "FIX Session Acceptor" example, runnable.
//!
//! ```sh
//! cargo run --release --example acceptor            # embedded defaults: port 9880, TEST1/TEST2 FIX.4.4
//! cargo run --release --example acceptor -- --help  # every flag
//! cargo run --release --example acceptor -- --port 9881 --session ME/YOU/FIX.4.2 --transient
//! cargo run --release --example acceptor -- --config engine.properties --unregistered
//! cargo run --release --example acceptor -- --conformance ../shared/conformance/spec --port 19880
//! ```
//!
//! It loads the configuration, starts the engine, creates its sessions, says
//! where it listens, and answers every NewOrderSingle(D) with an
//! ExecutionReport(8) that fills it ([`orders`]). It stops cleanly, logging every
//! session out, on `q` and Enter, at the end of standard input, or on SIGINT /
//! SIGTERM; standard input is left alone when it is `/dev/null` (a daemon), when
//! the acceptor runs in the background (`acceptor &`), or with `--no-stdin`.
//! Set `RUST_LOG=debug` to see every session event.
//!
//! The flags are in [`cli`] (and `--help`); the profile of the QuickFIX
//! acceptance suite, `--conformance`, is in [`conformance`].

mod cli;
mod conformance;
mod orders;

use std::process::ExitCode;

use fixengine::{Decision, FixEngine, Incoming, Session, SessionsManager};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = match cli::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => return ExitCode::SUCCESS, // --help
        Err(e) => return fail(&e),
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(error: &str) -> ExitCode {
    eprintln!("acceptor: {error}");
    ExitCode::from(2)
}

fn run(options: &cli::Options) -> Result<(), String> {
    let config = options.engine_config()?;

    // The manager is in place before the first connection: one set after the
    // engine starts would miss a Logon that comes at once. It is asked only when
    // the configuration accepts unknown sessions (CreateUnregisteredAcceptorSession,
    // or --unregistered). The sessions below are still registered after the port
    // opens: a TEST2 Logon in that moment is refused, or taken as an unknown session.
    let unknown = AcceptUnknown {
        echo: options.conformance.is_some(),
    };
    let engine = FixEngine::with_sessions_manager(config, unknown).map_err(|e| e.to_string())?;
    let sessions = match &options.conformance {
        Some(spec) => conformance::create_sessions(&engine, spec)?,
        None => orders::create_sessions(&engine, &options.sessions)?,
    };
    if sessions.is_empty() && !engine.config().create_unregistered_acceptor_session() {
        // It would listen and accept nothing: every Logon refused.
        return Err("no session to accept: the configuration names none \
                    (Session.<Sender>/<Target>.<Key>), --session gives none, and unknown \
                    sessions are not accepted (CreateUnregisteredAcceptorSession, --unregistered)"
            .to_owned());
    }
    print_banner(&engine, &sessions, options);

    let why = if options.no_stdin {
        engine.wait_for_signal()
    } else {
        engine.wait_for_shutdown()
    }
    .map_err(|e| e.to_string())?;
    log::info!("stopping: {why}");
    // Every session logs out at once, each waiting for its counterparty's Logout.
    engine.shutdown();
    drop(sessions);
    Ok(())
}

/// Where the acceptor listens, where it stores, whom it serves, how to stop it.
fn print_banner(engine: &FixEngine, sessions: &[Session], options: &cli::Options) {
    let config = engine.config();
    for addr in engine.local_addrs() {
        // tests/restart.rs (through tests/common/example.rs) parses this line: keep its text.
        println!("fixengine acceptor listening on {addr}");
    }
    if cli::uses_storage(config) {
        let storage = config.storage_directory();
        let storage = std::path::absolute(storage).unwrap_or_else(|_| storage.to_owned());
        println!("storage: {}", storage.display());
    } else {
        println!("storage: none (transient: sequence numbers and messages in memory only)");
    }
    for s in sessions {
        println!(
            "session {} {}: we are {}, the counterparty is {}",
            cli::wire_name(s.version()),
            s.id(),
            s.id().sender(),
            s.id().target()
        );
    }
    println!(
        "{}",
        cli::dictionaries(config, options.conformance.is_some())
    );
    if config.create_unregistered_acceptor_session() {
        println!("Logons for unknown sessions are accepted, and answered like the others");
    }
    // The banner's last line: tests read up to it.
    if options.no_stdin {
        println!("to stop: Ctrl-C or SIGTERM (standard input is not read)");
    } else {
        // wait_for_shutdown reads no terminal it does not own: a background job
        // stops on a signal only, even after `fg`.
        println!("to stop: q and Enter, or Ctrl-C, or SIGTERM (started with &: Ctrl-C or SIGTERM)");
    }
}

/// Unknown sessions, when the configuration accepts them: each gets the
/// application the registered ones have.
#[derive(Debug)]
struct AcceptUnknown {
    /// The conformance profile's application rather than the order-answering one.
    echo: bool,
}

impl SessionsManager for AcceptUnknown {
    fn on_unregistered_logon(&mut self, incoming: &Incoming<'_>) -> Decision {
        log::info!(
            "accepting unknown session {} ({}) from {}",
            incoming.session_id,
            cli::wire_name(incoming.version),
            incoming.remote
        );
        if self.echo {
            Decision::Accept(Box::new(conformance::EchoApp::default()))
        } else {
            Decision::Accept(Box::new(orders::OrderApp::default()))
        }
    }
}
