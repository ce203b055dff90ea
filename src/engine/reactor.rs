//! The reactor thread: owns the listening sockets, reads each new connection up to
//! its first frame, and hands Logons to the sessions' workers.
//!
//! It never processes a session's messages and never blocks: reads are
//! non-blocking, connections that have not logged on are bounded in number
//! (MaxPendingConnections), in bytes ([`MAX_LOGON_BYTES`]) and in time
//! (LogonTimeout), so a flood of idle or hostile connections cannot starve
//! anything else.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::listen::listen;
use super::logon::{Refusal, decide, identify};
use super::{Command, Core, EngineError, Entry, Incoming, now};
use crate::codec::{Decoder, Framer, Status};
use crate::session::{last_processed, write_refusal};

const WAKER: Token = Token(0);
/// Listeners take tokens 1..=N; pending connections take tokens from here up.
const FIRST_CONNECTION: usize = 1 << 16;

/// The most bytes read from a connection before its Logon is complete.
pub const MAX_LOGON_BYTES: usize = 64 * 1024;

/// A started reactor.
pub(crate) struct Started {
    pub thread: JoinHandle<()>,
    pub waker: Arc<Waker>,
    /// The addresses listened on.
    pub addrs: Vec<SocketAddr>,
}

/// Opens the listeners and starts the reactor thread.
pub(crate) fn start(core: Arc<Core>) -> Result<Started, EngineError> {
    let start_error = |source| EngineError::Start {
        what: "the reactor".to_owned(),
        source,
    };
    let poll = Poll::new().map_err(start_error)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(start_error)?);
    let mut listeners = Vec::new();
    let mut addrs = Vec::new();
    for (i, port) in core.config.all_listen_ports().into_iter().enumerate() {
        let addr = SocketAddr::new(core.config.listen_address(), port);
        let backlog = core.config.max_pending_connections();
        let mut listener =
            listen(addr, backlog).map_err(|source| EngineError::Listen { addr, source })?;
        poll.registry()
            .register(&mut listener, Token(1 + i), Interest::READABLE)
            .map_err(start_error)?;
        let local = listener
            .local_addr()
            .map_err(|source| EngineError::Listen { addr, source })?;
        log::info!("listening on {local}");
        addrs.push(local);
        listeners.push((listener, local.port()));
    }
    let reactor = Reactor {
        core,
        poll,
        listeners,
        pending: HashMap::new(),
        deadlines: VecDeque::new(),
        next_token: FIRST_CONNECTION,
        // CheckSum checked here too: a Logon damaged in transit is closed at once
        // rather than handed to a session, whose slot it would hold until the
        // LogonTimeout.
        framer: Framer::new(MAX_LOGON_BYTES, true),
        decoder: Decoder::new(),
        refused_for_load: 0,
        deferred: Vec::new(),
    };
    let thread = std::thread::Builder::new()
        .name("fix-reactor".to_owned())
        .spawn(move || reactor.run())
        .map_err(start_error)?;
    Ok(Started {
        thread,
        waker,
        addrs,
    })
}

/// A connection that has not delivered its Logon yet.
struct Pending {
    stream: TcpStream,
    remote: SocketAddr,
    local_port: u16,
    buf: Vec<u8>,
}

struct Reactor {
    core: Arc<Core>,
    poll: Poll,
    listeners: Vec<(TcpListener, u16)>,
    pending: HashMap<Token, Pending>,
    /// Logon deadlines in accept order, which is deadline order: the timeout is the
    /// same for every connection. Entries of connections already gone are skipped.
    deadlines: VecDeque<(Instant, Token)>,
    next_token: usize,
    framer: Framer,
    decoder: Decoder,
    /// Connections refused because MaxPendingConnections was reached, since the last log.
    refused_for_load: u64,
    /// Logons for a session that is ending (an engine-created session whose
    /// connection just closed): routed again shortly, within their LogonTimeout.
    deferred: Vec<Token>,
}

impl Reactor {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let mut timeout = self
                .deadlines
                .front()
                .map(|(d, _)| d.saturating_duration_since(now()));
            if !self.deferred.is_empty() {
                timeout = Some(timeout.map_or(RETRY, |t| t.min(RETRY)));
            }
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != ErrorKind::Interrupted
            {
                log::error!("reactor: poll failed, no longer accepting: {e}");
                return;
            }
            if self.core.shut_down.load(Ordering::Acquire) {
                log::info!("reactor: stopped");
                return;
            }
            // Connections first, then the listeners: a pending connection found
            // closed in this batch frees its place (MaxPendingConnections) before
            // a connection in the same batch is refused for want of one.
            for event in &events {
                match event.token() {
                    WAKER => {}
                    Token(t) if t < FIRST_CONNECTION => {}
                    token => self.read(token),
                }
            }
            for event in &events {
                match event.token() {
                    WAKER => {}
                    Token(t) if t < FIRST_CONNECTION => self.accept(t - 1),
                    _ => {}
                }
            }
            self.retry_deferred();
            self.expire(now());
        }
    }

    /// Routes again the Logons that waited for an ending session to go.
    fn retry_deferred(&mut self) {
        for token in std::mem::take(&mut self.deferred) {
            let complete = self
                .pending
                .get(&token)
                .and_then(|p| match self.framer.parse(&p.buf) {
                    Ok(Status::Complete(len)) => Some(len),
                    _ => None,
                });
            if let Some(len) = complete {
                self.route(token, len);
            }
        }
    }

    fn accept(&mut self, index: usize) {
        let max_pending = self.core.config.max_pending_connections();
        loop {
            let Some((listener, local_port)) = self.listeners.get(index) else {
                return;
            };
            let local_port = *local_port;
            match listener.accept() {
                Ok((stream, remote)) => {
                    if self.pending.len() >= max_pending {
                        // Closed at once: a flood must not grow memory or delay others.
                        self.refused_for_load += 1;
                        if self.refused_for_load.is_power_of_two() {
                            log::warn!(
                                "reactor: {} connection(s) refused: {max_pending} \
                                 (MaxPendingConnections) are already waiting to log on",
                                self.refused_for_load
                            );
                        }
                        drop(stream);
                        continue;
                    }
                    self.add(stream, remote, local_port);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors, typically: try again on the next event.
                    log::error!("reactor: accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn add(&mut self, mut stream: TcpStream, remote: SocketAddr, local_port: u16) {
        if let Err(e) = stream.set_nodelay(true) {
            log::debug!("reactor: TCP_NODELAY on {remote}: {e}");
        }
        let token = Token(self.next_token);
        self.next_token = self.next_token.checked_add(1).unwrap_or(FIRST_CONNECTION);
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            log::error!("reactor: cannot watch the connection from {remote}: {e}");
            return;
        }
        log::debug!("reactor: connection from {remote} on port {local_port}");
        self.pending.insert(
            token,
            Pending {
                stream,
                remote,
                local_port,
                buf: Vec::new(),
            },
        );
        let deadline = now() + self.core.config.logon_timeout();
        self.deadlines.push_back((deadline, token));
        // Bytes may have arrived with the connection.
        self.read(token);
    }

    /// Reads a pending connection until its first frame is complete or the socket
    /// has nothing more.
    fn read(&mut self, token: Token) {
        let mut chunk = [0u8; 4096];
        loop {
            let Some(p) = self.pending.get_mut(&token) else {
                return;
            };
            match p.stream.read(&mut chunk) {
                Ok(0) => return self.refuse(token, "closed before logging on"),
                Ok(n) => {
                    p.buf.extend_from_slice(&chunk[..n]);
                    match self.framer.parse(&p.buf) {
                        Ok(Status::Complete(len)) => return self.route(token, len),
                        Ok(Status::Partial(total)) => {
                            if total.unwrap_or(p.buf.len()) > MAX_LOGON_BYTES {
                                let why = format!(
                                    "first message larger than {MAX_LOGON_BYTES} bytes: not a Logon"
                                );
                                return self.refuse(token, &why);
                            }
                        }
                        Err(garbled) => {
                            let why =
                                format!("first bytes are not a FIX message: {}", garbled.error);
                            return self.refuse(token, &why);
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return self.refuse(token, &format!("read error: {e}")),
            }
        }
    }

    /// Closes connections whose Logon did not arrive within LogonTimeout.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, token)) = self.deadlines.front() {
            if !self.pending.contains_key(&token) {
                self.deadlines.pop_front();
                continue;
            }
            if deadline > now {
                return;
            }
            self.deadlines.pop_front();
            let why = format!(
                "no Logon within LogonTimeout ({} ms)",
                self.core.config.logon_timeout().as_millis()
            );
            self.refuse(token, &why);
        }
    }

    /// Closes a pending connection without a reply, logging why.
    fn refuse(&mut self, token: Token, why: &str) {
        if let Some(mut p) = self.pending.remove(&token) {
            log::info!("reactor: connection from {} closed: {why}", p.remote);
            let _ = self.poll.registry().deregister(&mut p.stream);
            let _ = p.stream.shutdown(Shutdown::Both);
        }
    }

    /// Refuses a Logon for a known session with a Logout saying why, then closes.
    /// The Logout carries the session's next outbound number without using it.
    fn refuse_with_logout(&mut self, token: Token, why: &str, entry: &Entry) {
        if let Some(p) = self.pending.get_mut(&token) {
            let shared = &entry.shared;
            let last = last_processed(&shared.config, shared.next_target.load(Ordering::Acquire));
            let mut logout = Vec::new();
            write_refusal(
                shared.version,
                &shared.id,
                (shared.next_sender.load(Ordering::Acquire), last),
                self.core.clock.now_utc(),
                &format!("Logon refused: {why}"),
                &mut logout,
            );
            // A fresh connection's send buffer is empty: the write is whole or,
            // for a peer already gone, nothing; the close follows either way.
            let _ = p.stream.write(&logout);
        }
        self.refuse(token, why);
    }

    /// The first frame of `token` is complete (`len` bytes): find its session and
    /// hand the connection over, or refuse it.
    fn route(&mut self, token: Token, len: usize) {
        let Some(p) = self.pending.get(&token) else {
            return;
        };
        let (remote, local_port) = (p.remote, p.local_port);
        let decided = match self.decoder.decode(&p.buf[..len]) {
            Ok(logon) => match identify(&logon) {
                Ok((id, version)) => {
                    let incoming = Incoming {
                        logon: &logon,
                        session_id: &id,
                        version,
                        remote,
                        local_port,
                    };
                    decide(&self.core, &incoming)
                }
                Err(why) => Err(Refusal::Closed(why)),
            },
            Err(e) => Err(Refusal::Closed(format!(
                "first message cannot be decoded: {e}"
            ))),
        };
        match decided {
            Ok(entry) => self.hand_off(token, &entry),
            Err(Refusal::Later) => self.deferred.push(token),
            Err(Refusal::Closed(why)) => self.refuse(token, &why),
            Err(Refusal::LoggedOut(why, entry)) => self.refuse_with_logout(token, &why, &entry),
        }
    }

    /// Hands the connection to `entry`'s worker. When that session has started
    /// ending meanwhile, the connection goes back to waiting, and its Logon is
    /// routed again once the session is gone.
    fn hand_off(&mut self, token: Token, entry: &Entry) {
        let Some(mut p) = self.pending.remove(&token) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut p.stream);
        let command = Command::Handoff {
            stream: p.stream,
            bytes: p.buf,
            remote: p.remote,
        };
        let Err(command) = self.core.hand_off(entry, command) else {
            return;
        };
        let Command::Handoff {
            mut stream,
            bytes,
            remote,
        } = command
        else {
            return;
        };
        log::debug!(
            "reactor: Logon from {remote} waits: session {} is ending",
            entry.shared.id
        );
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            log::error!("reactor: cannot watch the connection from {remote} again: {e}");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        self.pending.insert(
            token,
            Pending {
                stream,
                remote,
                local_port: p.local_port,
                buf: bytes,
            },
        );
        self.deferred.push(token);
    }
}

/// How often a Logon waiting for an ending session is routed again.
const RETRY: Duration = Duration::from_millis(2);
