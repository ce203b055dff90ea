//! `ideal_acceptor`: the least a FIX acceptor can do, as a yardstick for the engine.
//!
//! PERFORMANCE.md states the many-session targets (T10, T11) against "the ideal
//! acceptor": one thread, one epoll loop over every connection, framing each
//! inbound message (BeginString, BodyLength, CheckSum) and answering it with
//! pre-shaped bytes. No store, no validation, no sequence checks, no per-session
//! thread, no application callback, no hand-off between threads. Whatever
//! `examples/acceptor/` costs above this, under the same client, is the engine's
//! cost. `../shared/bench`'s `rawecho` is the same idea without FIX, so the FIX
//! clients (`loadgen`, `fixload`) cannot log on to it; this one they can.
//!
//! It answers a Logon (35=A) with a Logon (CompIDs swapped, 98=0, the peer's
//! HeartBtInt, 141=Y if asked), a NewOrderSingle (35=D) with a filling
//! ExecutionReport of the same shape and size as the example acceptor's (ClOrdID,
//! Side, Symbol, OrderQty and Price echoed), a TestRequest with a Heartbeat and a
//! Logout with a Logout; everything else is read and dropped. Outbound MsgSeqNum
//! counts from 1 on every connection. Each readiness event reads until the
//! socket would block and sends all the replies with one `write`.
//!
//! With `--fdatasync FILE` it is the yardstick for StorageSync = every (T13): the
//! replies of each readiness event are first written into FILE, preallocated
//! with zeros as the engine's store is (so the sync writes data, not a new file
//! size), and `fdatasync`ed; only then do they go to the socket. The file is
//! written round from the start when full.
//!
//! With `--threads` each connection runs on a thread of its own, parked in a
//! poll of its own, as the engine's session workers are: what thread-per-session
//! costs by itself, with none of the engine's other work.
//!
//! ```sh
//! cargo build --release --example ideal_acceptor --example loadgen
//! target/release/examples/ideal_acceptor --port 19895 &           # add --spin to busy-poll
//! target/release/examples/loadgen --addr 127.0.0.1:19895 --mode window --sessions 100
//! ```

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

#[path = "rawfix/mod.rs"]
mod rawfix;
use rawfix::*;

const LISTENER: Token = Token(usize::MAX);
/// Bytes read per `read` call; a connection's unframed tail stays in its buffer.
const READ_CHUNK: usize = 64 * 1024;

/// `--fdatasync`: where replies are made durable before they are sent.
struct Durable {
    file: File,
    len: u64,
    at: u64,
}

/// The size of the `--fdatasync` file: one segment of the engine's store.
const DURABLE_LEN: u64 = 64 << 20;

impl Durable {
    fn create(path: &str) -> io::Result<Self> {
        let file = File::create(path)?;
        let zeros = vec![0u8; 1 << 20];
        let mut at = 0;
        while at < DURABLE_LEN {
            file.write_all_at(&zeros, at)?;
            at += zeros.len() as u64;
        }
        file.sync_all()?;
        Ok(Self {
            file,
            len: DURABLE_LEN,
            at: 0,
        })
    }

    /// Writes `bytes` and waits for the disk.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.at + bytes.len() as u64 > self.len {
            self.at = 0;
        }
        self.file.write_all_at(bytes, self.at)?;
        self.at += bytes.len() as u64;
        self.file.sync_data()
    }
}

/// One accepted connection.
struct Conn {
    stream: TcpStream,
    /// Read but not yet framed: `inbuf[..filled]`. The buffer keeps its length
    /// (it is zeroed once, never per read) and doubles only for a huge frame.
    inbuf: Vec<u8>,
    filled: usize,
    /// Makes OrderIDs and ExecIDs the same shape and size as the example
    /// acceptor's (`O{run}-{n}`): the start time, in seconds.
    run: u64,
    /// Encoded but not yet written.
    outbuf: Vec<u8>,
    /// The next outbound MsgSeqNum.
    out_seq: u64,
    /// Our CompID and theirs, learnt from the Logon.
    ours: Vec<u8>,
    theirs: Vec<u8>,
    orders: u64,
    /// Close once `outbuf` is written (after a Logout).
    closing: bool,
}

impl Conn {
    fn new(stream: TcpStream, run: u64) -> Self {
        Self {
            stream,
            inbuf: vec![0; READ_CHUNK],
            filled: 0,
            run,
            outbuf: Vec::with_capacity(READ_CHUNK),
            out_seq: 1,
            ours: Vec::new(),
            theirs: Vec::new(),
            orders: 0,
            closing: false,
        }
    }

    fn push_field(&mut self, tag: &[u8], value: &[u8]) {
        self.outbuf.extend_from_slice(tag);
        self.outbuf.push(b'=');
        self.outbuf.extend_from_slice(value);
        self.outbuf.push(SOH);
    }

    fn begin(&mut self, msg_type: &[u8], time: &[u8; 21]) -> usize {
        let seq = self.out_seq;
        self.out_seq += 1;
        begin_frame(
            &mut self.outbuf,
            msg_type,
            seq,
            &self.ours,
            &self.theirs,
            time,
        )
    }

    /// Answers one framed message. `false`: not FIX 4.4 as expected; close.
    fn on_message(&mut self, msg: &[u8], time: &[u8; 21]) -> bool {
        let f = parse_fields(msg);
        let value = |(a, b): (usize, usize)| &msg[a.min(b)..b];
        match value(f.msg_type) {
            b"A" => {
                self.ours = value(f.target).to_vec();
                self.theirs = value(f.sender).to_vec();
                let start = self.begin(b"A", time);
                self.push_field(b"98", b"0");
                let hb = value(f.heart_bt_int);
                self.push_field(b"108", if hb.is_empty() { b"30" } else { hb });
                if value(f.reset) == b"Y" {
                    self.push_field(b"141", b"Y");
                }
                end_frame(&mut self.outbuf, start);
            }
            b"D" => {
                self.orders += 1;
                let n = self.orders;
                let start = self.begin(b"8", time);
                self.outbuf.extend_from_slice(b"37=O");
                push_u64(&mut self.outbuf, self.run);
                self.outbuf.push(b'-');
                push_u64(&mut self.outbuf, n);
                self.outbuf.push(SOH);
                self.push_field(b"11", value(f.cl_ord_id));
                self.outbuf.extend_from_slice(b"17=E");
                push_u64(&mut self.outbuf, self.run);
                self.outbuf.push(b'-');
                push_u64(&mut self.outbuf, n);
                self.outbuf.extend_from_slice(b"\x01150=F\x0139=2\x01");
                let qty = value(f.order_qty);
                self.push_field(b"54", value(f.side));
                self.push_field(b"55", value(f.symbol));
                self.push_field(b"38", qty);
                self.push_field(b"151", b"0");
                self.push_field(b"14", qty);
                let px = value(f.price);
                self.push_field(b"6", if px.is_empty() { b"0" } else { px });
                end_frame(&mut self.outbuf, start);
            }
            b"1" => {
                let start = self.begin(b"0", time);
                self.push_field(b"112", value(f.test_req_id));
                end_frame(&mut self.outbuf, start);
            }
            b"5" => {
                let start = self.begin(b"5", time);
                end_frame(&mut self.outbuf, start);
                self.closing = true;
            }
            b"" => return false,
            _ => {}
        }
        true
    }

    /// Reads until the socket would block, answers every whole frame, and
    /// writes all the answers of this readiness event at once. `false`: the
    /// connection is done (closed, broken or garbage); what it sent before
    /// closing is still answered.
    fn on_readable(&mut self, time: &[u8; 21], durable: Option<&mut Durable>) -> bool {
        let mut open = true;
        let before = self.outbuf.len();
        loop {
            if self.filled == self.inbuf.len() {
                let len = self.inbuf.len();
                self.inbuf.resize(2 * len, 0);
            }
            match self.stream.read(&mut self.inbuf[self.filled..]) {
                Ok(0) => {
                    open = false;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    open = false;
                    break;
                }
            }
        }
        let inbuf = std::mem::take(&mut self.inbuf);
        let mut at = 0;
        let mut ok = true;
        while at < self.filled {
            match frame(&inbuf[at..self.filled]) {
                Framing::Partial => break,
                Framing::Complete(n) => {
                    ok = self.on_message(&inbuf[at..at + n], time);
                    at += n;
                }
                Framing::BadChecksum(_) | Framing::Garbage => ok = false,
            }
            if !ok {
                break;
            }
        }
        self.inbuf = inbuf;
        self.inbuf.copy_within(at..self.filled, 0);
        self.filled -= at;
        if let Some(d) = durable
            && let Err(e) = d.write(&self.outbuf[before..])
        {
            eprintln!("ideal_acceptor: --fdatasync: {e}");
            return false;
        }
        let flushed = self.flush();
        open && ok && flushed
    }

    /// Writes as much of `outbuf` as the socket takes. `false`: broken, or a
    /// Logout answered.
    fn flush(&mut self) -> bool {
        let mut done = 0;
        while done < self.outbuf.len() {
            match self.stream.write(&self.outbuf[done..]) {
                Ok(0) => return false,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.outbuf.drain(..done);
        !(self.closing && self.outbuf.is_empty())
    }
}

fn wall_ns() -> u64 {
    // A measuring example, not the library: reading wall time is its job.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Polls once (without blocking when `spin`). `None`: nothing happened.
fn wait(
    poll: &mut Poll,
    events: &mut Events,
    spin: bool,
    stamp: &mut Stamp,
) -> io::Result<Option<[u8; 21]>> {
    match poll.poll(events, spin.then_some(Duration::ZERO)) {
        Ok(()) if !events.is_empty() => Ok(Some(*stamp.at(wall_ns()))),
        Ok(()) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(e),
    }
}

/// `--threads`: one connection's loop, on its own thread.
fn serve(mut conn: Conn, spin: bool) -> io::Result<()> {
    const CONN: Token = Token(0);
    let mut poll = Poll::new()?;
    poll.registry().register(
        &mut conn.stream,
        CONN,
        Interest::READABLE | Interest::WRITABLE,
    )?;
    let mut events = Events::with_capacity(4);
    let mut stamp = Stamp::new();
    loop {
        let Some(time) = wait(&mut poll, &mut events, spin, &mut stamp)? else {
            continue;
        };
        for event in &events {
            let alive = if event.is_readable() {
                conn.on_readable(&time, None)
            } else {
                conn.flush()
            };
            if !alive {
                return Ok(());
            }
        }
    }
}

fn run(port: u16, spin: bool, threads: bool, mut durable: Option<Durable>) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // The engine's default backlog (MaxPendingConnections, 1024), not mio's 128: with
    // `--threads` a burst of connections outruns the accepting thread.
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    let mut listener = TcpListener::from_std(socket.into());
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!(
        "ideal_acceptor: listening on {addr}{}",
        if spin { " (spinning)" } else { "" }
    );
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut stamp = Stamp::new();
    let run = wall_ns() / 1_000_000_000;
    loop {
        // Spinning only while someone is connected, as rawecho does.
        let spinning = spin && conns.iter().any(Option::is_some);
        let Some(time) = wait(&mut poll, &mut events, spinning, &mut stamp)? else {
            continue;
        };
        for event in &events {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            if stream.set_nodelay(true).is_err() {
                                continue;
                            }
                            if threads {
                                let conn = Conn::new(stream, run);
                                let spawned = std::thread::Builder::new().spawn(move || {
                                    if let Err(e) = serve(conn, spin) {
                                        eprintln!("ideal_acceptor: connection thread: {e}");
                                    }
                                });
                                if let Err(e) = spawned {
                                    eprintln!("ideal_acceptor: no thread for a connection: {e}");
                                }
                                continue;
                            }
                            let slot =
                                conns.iter().position(Option::is_none).unwrap_or_else(|| {
                                    conns.push(None);
                                    conns.len() - 1
                                });
                            if poll
                                .registry()
                                .register(
                                    &mut stream,
                                    Token(slot),
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .is_err()
                            {
                                continue;
                            }
                            conns[slot] = Some(Conn::new(stream, run));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        // Out of descriptors, a connection reset before accept:
                        // that connection is lost, the acceptor goes on.
                        Err(e) => {
                            eprintln!("ideal_acceptor: accept: {e}");
                            break;
                        }
                    }
                }
                continue;
            }
            let slot = event.token().0;
            let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            let alive = if event.is_readable() {
                conn.on_readable(&time, durable.as_mut())
            } else {
                conn.flush()
            };
            if !alive && let Some(mut conn) = conns[slot].take() {
                let _ = poll.registry().deregister(&mut conn.stream);
            }
        }
    }
}

fn main() -> ExitCode {
    let mut port = 19895u16;
    let mut spin = false;
    let mut threads = false;
    let mut durable = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("ideal_acceptor: --port needs a port number");
                    return ExitCode::from(2);
                }
            },
            "--spin" => spin = true,
            "--threads" => threads = true,
            "--fdatasync" => match args.next() {
                Some(path) => durable = Some(path),
                None => {
                    eprintln!("ideal_acceptor: --fdatasync needs a file");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!(
                    "usage: ideal_acceptor [--port P] [--spin] [--threads | --fdatasync FILE]"
                );
                return ExitCode::from(2);
            }
        }
    }
    if threads && durable.is_some() {
        eprintln!("ideal_acceptor: --threads and --fdatasync do not go together");
        return ExitCode::from(2);
    }
    // Created (64 MB written and synced) only once the arguments are known good.
    let durable = match durable.map(|path| Durable::create(&path)).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("ideal_acceptor: --fdatasync: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(port, spin, threads, durable) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ideal_acceptor: {e}");
            ExitCode::FAILURE
        }
    }
}
