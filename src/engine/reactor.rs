//! The reactor thread: owns the listening sockets, reads each new connection up to
//! its first frame, and hands Logons to the sessions' workers.
//!
//! It never processes a session's messages and never blocks: reads are
//! non-blocking, connections that have not logged on are bounded in number
//! (MaxPendingConnections), in bytes ([`MAX_LOGON_BYTES`]) and in time
//! (LogonTimeout), so a flood of idle or hostile connections cannot starve
//! anything else.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::{Control, Core, Decision, EngineError, Entry, Incoming, Key, lock, now};
use crate::codec::{Decoder, Fields, Framer, Status, msg_type, tags};
use crate::id::{FixVersion, SessionId};

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
            for event in &events {
                match event.token() {
                    WAKER => {}
                    Token(t) if t < FIRST_CONNECTION => self.accept(t - 1),
                    token => self.read(token),
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

    /// The first frame of `token` is complete (`len` bytes): find its session and
    /// hand the connection over, or refuse it.
    fn route(&mut self, token: Token, len: usize) {
        let Some(p) = self.pending.get(&token) else {
            return;
        };
        let (remote, local_port) = (p.remote, p.local_port);
        let decided = {
            let logon = match self.decoder.decode(&p.buf[..len]) {
                Ok(v) => v,
                Err(e) => {
                    let why = format!("first message cannot be decoded: {e}");
                    return self.refuse(token, &why);
                }
            };
            if logon.msg_type() != msg_type::LOGON {
                let why = format!(
                    "first message is not a Logon: MsgType {:?}",
                    String::from_utf8_lossy(logon.msg_type())
                );
                return self.refuse(token, &why);
            }
            let version = match logon.begin_string() {
                b"FIXT.1.1" => Some(
                    logon
                        .get(tags::DEFAULT_APPL_VER_ID)
                        .and_then(FixVersion::from_appl_ver_id)
                        .unwrap_or(FixVersion::Fix50Sp2),
                ),
                other => FixVersion::from_begin_string(other),
            };
            let Some(version) = version else {
                let why = format!(
                    "Logon with unsupported BeginString {:?}",
                    String::from_utf8_lossy(logon.begin_string())
                );
                return self.refuse(token, &why);
            };
            // From our side: the Logon's TargetCompID is ours.
            let id = match (logon.target_comp_id(), logon.sender_comp_id()) {
                (Some(ours), Some(theirs)) => SessionId::try_new(ours, theirs),
                _ => {
                    return self.refuse(token, "Logon without SenderCompID or TargetCompID");
                }
            };
            let id = match id {
                Ok(id) => id,
                Err(e) => return self.refuse(token, &format!("Logon with a bad CompID: {e}")),
            };
            let incoming = Incoming {
                logon: &logon,
                session_id: &id,
                version,
                remote,
                local_port,
            };
            decide(&self.core, &incoming)
        };
        match decided {
            Ok(entry) => self.hand_off(token, &entry),
            Err(Refusal::Later) => self.deferred.push(token),
            Err(Refusal::Closed(why)) => self.refuse(token, &why),
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
        let command = Control::Handoff {
            stream: p.stream,
            bytes: p.buf,
            remote: p.remote,
        };
        let Err(command) = self.core.hand_off(entry, command) else {
            return;
        };
        let Control::Handoff {
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

/// Opens a listening socket whose kernel accept queue holds `backlog`
/// connections (capped by the kernel's `net.core.somaxconn`).
///
/// mio and std both listen with a backlog of 128: a burst of more connections
/// than that, arriving faster than the reactor accepts them (a thousand
/// counterparties reconnecting at once after a restart), overflows the queue, and
/// each SYN dropped costs its client a one-second retransmission timeout. The
/// engine already bounds connections waiting to log on by MaxPendingConnections;
/// the queue before accept gets the same bound.
fn listen(addr: SocketAddr, backlog: usize) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As mio's own bind: a restarted engine rebinds at once despite TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog.max(128)).unwrap_or(i32::MAX))?;
    Ok(TcpListener::from_std(socket.into()))
}

/// How often a Logon waiting for an ending session is routed again.
const RETRY: Duration = Duration::from_millis(2);

/// Why a Logon is not handed to a session now.
enum Refusal {
    /// Closed without a reply, for this reason.
    Closed(String),
    /// The engine-created session it belongs to is ending: try again shortly.
    Later,
}

/// Decides on a Logon: the session to hand it to, or why it is refused.
fn decide(core: &Arc<Core>, incoming: &Incoming<'_>) -> Result<Entry, Refusal> {
    let key = Key::new(incoming.session_id, incoming.version);
    let ending =
        |entry: &Entry| entry.shared.ephemeral && entry.shared.finalizing.load(Ordering::Acquire);
    if lock(&core.registry).get(&key).is_some_and(ending) {
        // It ended with its last connection and is releasing its store: the new
        // connection waits for it (a counterparty reconnecting at once is normal).
        // Asked before the sessions manager, which sees the Logon once.
        return Err(Refusal::Later);
    }
    let mut manager = lock(&core.manager);
    if let Some(m) = manager.as_mut() {
        m.on_incoming_connection(incoming)
            .map_err(|why| Refusal::Closed(format!("refused by the sessions manager: {why}")))?;
    }
    let entry = lock(&core.registry).get(&key).cloned();
    match entry {
        // It started ending since the first look.
        Some(entry) if ending(&entry) => Err(Refusal::Later),
        Some(entry) => check(incoming, &key, entry).map_err(Refusal::Closed),
        None => create(core, incoming, &key, &mut manager).map_err(Refusal::Closed),
    }
}

/// Whether the registered session `entry` takes this Logon.
fn check(incoming: &Incoming<'_>, key: &Key, entry: Entry) -> Result<Entry, String> {
    let id = incoming.session_id;
    let shared = &entry.shared;
    if shared.died.load(Ordering::Acquire) {
        return Err(format!(
            "session {id} ({}) has stopped: its application panicked",
            key.begin_string
        ));
    }
    if shared.finalizing.load(Ordering::Acquire) {
        return Err(format!("session {id} ({}) is ending", key.begin_string));
    }
    if !shared.accepting.load(Ordering::Acquire) {
        return Err(format!(
            "session {id} ({}) exists but does not accept Logons (connect() not called)",
            key.begin_string
        ));
    }
    if let Some(port) = shared.config.listen_port()
        && port != incoming.local_port
    {
        return Err(format!(
            "session {id} accepts on port {port}, not {}",
            incoming.local_port
        ));
    }
    if !shared
        .config
        .is_remote_address_allowed(incoming.remote.ip())
    {
        return Err(format!(
            "session {id}: {} is not in AllowedRemoteAddresses",
            incoming.remote.ip()
        ));
    }
    Ok(entry)
}

/// A session for an unregistered Logon, when the configuration and the sessions
/// manager allow it.
fn create(
    core: &Arc<Core>,
    incoming: &Incoming<'_>,
    key: &Key,
    manager: &mut Option<Box<dyn super::SessionsManager>>,
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
        true,
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
    use std::net::{Ipv4Addr, TcpStream};

    use super::*;

    /// A burst of connections larger than std's and mio's backlog of 128 all
    /// complete their handshake before anything is accepted: none waits out a
    /// SYN retransmission.
    #[test]
    fn the_accept_queue_holds_a_burst_beyond_128() {
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(4096);
        let burst = 300.min(somaxconn);
        let listener = listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..burst)
            .map(|i| {
                TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                    .unwrap_or_else(|e| panic!("connection {i} of {burst}: {e}"))
            })
            .collect();
        assert_eq!(clients.len(), burst);
    }
}
