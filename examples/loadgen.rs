//! `loadgen`: a FIX 4.4 load generator and latency meter for acceptors on loopback.
//!
//! It is a raw-socket initiator: no FIX engine in the client, only a hand-written
//! encoder, a framer and just enough of the session layer to drive an acceptor. The
//! same client can therefore measure this crate's acceptor, the QuickFIX reference and
//! anything else that speaks FIX 4.4, at the same client cost. It is the Rust
//! counterpart of `fixload` in `../shared/bench` (same message pattern, same
//! percentile definition, same JSON field names where they overlap), written from
//! the method in `../shared/design/PERFORMANCE.md` §3.
//!
//! ```sh
//! export CARGO_TARGET_DIR=/work/target-loadgen
//! cargo build --release --example loadgen --example acceptor
//! $CARGO_TARGET_DIR/release/examples/acceptor --port 19890 --unregistered --transient </dev/null &
//! L=$CARGO_TARGET_DIR/release/examples/loadgen
//! $L --addr 127.0.0.1:19890 --mode pingpong --count 20000 --warmup 2000
//! $L --addr 127.0.0.1:19890 --mode rate --rate 10000 --sessions 10 --count 50000
//! $L --addr 127.0.0.1:19890 --mode window --window 100 --sessions 100 --count 200000 --spin
//! $L --help
//! ```
//!
//! What it does:
//!
//! - opens `--sessions N` TCP connections (non-blocking, `TCP_NODELAY`), one Logon
//!   each (SenderCompID `{sender}1..{sender}N`, TargetCompID `--target-comp`, 98=0,
//!   108=30, 141=Y), and waits until every Logon is answered with 49/56 swapped;
//! - runs the warm-up (`--warmup` orders in total), waits until every session has all
//!   its warm-up ExecutionReports (a barrier), then runs the measured phase (`--count`
//!   orders in total) on all sessions at once;
//! - logs every session out and records whether each Logout was answered.
//!
//! Orders are NewOrderSingles (35=D, about 160 bytes) whose ClOrdID (11) carries the
//! session and the order number; every ExecutionReport (35=8) is matched to its
//! order by that ClOrdID. Modes (`--mode`):
//!
//! - `pingpong`: one order in flight per session; latency is from just before the
//!   order's `write` to just after the `read` that completed its ER (closed loop).
//! - `rate`: open loop at `--rate R` orders/s in total, round-robin over the sessions.
//!   Latency is measured from each order's *intended* send time, so a client or
//!   acceptor stall is charged to every order it delays (coordinated omission
//!   corrected). A late client still sends, and still measures from the schedule.
//! - `window`: pipelined throughput; each session keeps up to `--window W` orders in
//!   flight and refills the free slots with one write once `--batch B` are free.
//!   The latency reported is mostly queueing (Little's law: W×sessions/rate).
//!
//! It answers TestRequest with a Heartbeat and ResendRequest with a
//! SequenceReset-GapFill (it never re-sends orders), checks every inbound frame's
//! BodyLength, CheckSum and MsgSeqNum, and fails the run (exit code 1) on any Reject
//! (35=3) or BusinessMessageReject (35=j), bad frame, disconnect or timeout.
//!
//! One thread and one `mio` poll over all sockets; `--spin` polls with a zero
//! timeout instead of blocking. The hot path does not allocate: buffers are reused,
//! per-order send times and the latency samples live in vectors sized up front.
//!
//! The output is a human-readable block and, as the last line on stdout, one flat
//! JSON object (`mode`, `sessions`, `count`, `lat_min_us` ... `lat_max_us`,
//! `lat_mean_us`, `orders_per_s`, `execs_per_s`, `rejects`, `seq_gaps`,
//! `bad_frames`, `logout_clean`, `ok`, `error`, ...) for scripts. Exit code: 0 when
//! the run was clean, 1 when it failed, 2 on a usage error.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

#[path = "rawfix/mod.rs"]
mod rawfix;
use rawfix::*;

/// `sent_at` value of an order that is not outstanding (never sent or already answered).
const NOT_OUTSTANDING: u64 = u64::MAX;
/// Digits of the session number in a ClOrdID: up to 9,999 sessions.
const CLORD_SESSION_DIGITS: usize = 4;
/// Digits of the order number in a ClOrdID: up to 99,999,999 orders per session.
const CLORD_ORDER_DIGITS: usize = 8;
/// Read buffer per session. Big enough for a window of ERs; grown (rarely) if needed.
const READ_BUF: usize = 64 * 1024;
/// How often idle sessions, timeouts and heartbeats are looked at when blocking.
const HOUSEKEEPING: Duration = Duration::from_millis(100);
/// How long to wait for Logout replies.
const LOGOUT_WAIT: Duration = Duration::from_secs(3);
/// Most orders a `rate` run sends in one go when it has fallen behind, so that reads
/// (and thus ER timestamps) still get their turn.
const RATE_BURST: u64 = 4096;
/// Kernel clock ticks per second for `/proc/self/stat` (USER_HZ, 100 on Linux).
const USER_HZ: f64 = 100.0;

const USAGE: &str = "\
usage: loadgen [options]
  --addr HOST:PORT     acceptor address (default 127.0.0.1:9880)
  --mode M             pingpong | rate | window (default pingpong)
  --sessions N         concurrent sessions (default 1)
  --sender ID          SenderCompID prefix: sessions are ID1..IDN (default CLIENT)
  --target-comp ID     TargetCompID (default SERVER1)
  --count N            measured orders, total over sessions (default 20000)
  --warmup N           warm-up orders, total over sessions, not measured (default 2000)
  --rate R             rate: orders/s, total over sessions (default 10000)
  --window W           window: orders in flight per session (default 100)
  --batch B            window: refill once B slots are free, in one write (default W/4)
  --heartbeat S        HeartBtInt (108) sent on Logon (default 30)
  --timeout S          abort the run after S seconds (default 120)
  --spin               busy-poll (poll timeout 0) instead of blocking
  --quiet              print only the JSON line
  --help               this text
The last line on stdout is one JSON object. Exit code 0: clean run; 1: the run
failed (reject, bad frame, disconnect, timeout); 2: usage error.";

/// Which load shape to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Closed loop, one order in flight per session.
    Pingpong,
    /// Open loop at a fixed aggregate rate, latency from the intended send time.
    Rate,
    /// Pipelined, up to `window` orders in flight per session.
    Window,
}

impl Mode {
    /// The name used on the command line and in the JSON line.
    const fn name(self) -> &'static str {
        match self {
            Self::Pingpong => "pingpong",
            Self::Rate => "rate",
            Self::Window => "window",
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone)]
struct Options {
    addr: String,
    mode: Mode,
    sessions: usize,
    sender: String,
    target: String,
    count: u64,
    warmup: u64,
    rate: f64,
    window: u64,
    batch: u64,
    heartbeat: u32,
    timeout: Duration,
    spin: bool,
    quiet: bool,
}

/// The value of option `arg` as a number.
fn num<T: std::str::FromStr>(arg: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{arg} {v}: not a valid number"))
}

/// Parses the command line; `Ok(None)` when `--help` was printed.
fn parse_args() -> Result<Option<Options>, String> {
    let mut o = Options {
        addr: "127.0.0.1:9880".to_owned(),
        mode: Mode::Pingpong,
        sessions: 1,
        sender: "CLIENT".to_owned(),
        target: "SERVER1".to_owned(),
        count: 20_000,
        warmup: 2_000,
        rate: 10_000.0,
        window: 100,
        batch: 0,
        heartbeat: 30,
        timeout: Duration::from_secs(120),
        spin: false,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--addr" => o.addr = value()?,
            "--mode" => {
                o.mode = match value()?.as_str() {
                    "pingpong" => Mode::Pingpong,
                    "rate" => Mode::Rate,
                    "window" => Mode::Window,
                    m => return Err(format!("--mode {m}: expected pingpong, rate or window")),
                }
            }
            "--sessions" => o.sessions = num(&arg, &value()?)?,
            "--sender" => o.sender = value()?,
            "--target-comp" => o.target = value()?,
            "--count" => o.count = num(&arg, &value()?)?,
            "--warmup" => o.warmup = num(&arg, &value()?)?,
            "--rate" => o.rate = num(&arg, &value()?)?,
            "--window" => o.window = num(&arg, &value()?)?,
            "--batch" => o.batch = num(&arg, &value()?)?,
            "--heartbeat" => o.heartbeat = num(&arg, &value()?)?,
            "--timeout" => {
                let s: f64 = num(&arg, &value()?)?;
                o.timeout = Duration::try_from_secs_f64(s)
                    .map_err(|_| format!("--timeout {s}: not a duration"))?;
            }
            "--spin" => o.spin = true,
            "--quiet" => o.quiet = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if o.sessions == 0 || o.sessions >= 10usize.pow(CLORD_SESSION_DIGITS as u32) {
        return Err("--sessions must be 1..9999".to_owned());
    }
    if o.count == 0 {
        return Err("--count must be at least 1".to_owned());
    }
    let per_session = (o.count + o.warmup).div_ceil(o.sessions as u64);
    if per_session >= 10u64.pow(CLORD_ORDER_DIGITS as u32) {
        return Err("at most 99,999,999 orders per session".to_owned());
    }
    if !(o.rate.is_finite() && o.rate > 0.0) {
        return Err("--rate must be positive".to_owned());
    }
    if o.window == 0 || o.heartbeat == 0 {
        return Err("--window and --heartbeat must be positive".to_owned());
    }
    if o.batch == 0 {
        o.batch = (o.window / 4).max(1);
    }
    o.batch = o.batch.min(o.window);
    let comp_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    if !comp_ok(&o.sender) || !comp_ok(&o.target) {
        return Err("--sender and --target-comp must be printable ASCII".to_owned());
    }
    Ok(Some(o))
}

// ------------------------------------------------------------------------ clocks

/// The one place the program reads time: monotonic nanoseconds since start, and the
/// wall clock derived from it (for SendingTime and TransactTime) so that a send needs
/// only one clock read.
#[derive(Debug)]
struct Clock {
    base: Instant,
    /// Wall-clock nanoseconds since the Unix epoch at `base`.
    wall_base_ns: u64,
}

impl Clock {
    // clippy.toml keeps clock reads out of the library (time is an argument there);
    // this is a measuring program, and reading the clock is its job.
    #[allow(clippy::disallowed_methods)]
    fn new() -> Self {
        let base = Instant::now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self {
            base,
            wall_base_ns: wall,
        }
    }

    /// Monotonic nanoseconds since start. Never `NOT_OUTSTANDING`.
    // Reading the clock is what a latency meter does (see `new`).
    #[allow(clippy::disallowed_methods)]
    #[inline]
    fn now(&self) -> u64 {
        Instant::now().duration_since(self.base).as_nanos() as u64
    }
}

/// CPU time (user + system) of this process so far, in seconds, from `/proc/self/stat`;
/// read only at phase boundaries, to say whether the client was the bottleneck.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is field 3,
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

// ---------------------------------------------------------------------- sessions

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Logon,
    Warmup,
    Measure,
    Logout,
    End,
}

impl Phase {
    /// Name for error messages.
    const fn name(self) -> &'static str {
        match self {
            Self::Logon => "logon",
            Self::Warmup => "warm-up",
            Self::Measure => "measured",
            Self::Logout => "logout",
            Self::End => "end",
        }
    }
}

/// One FIX session: its socket, buffers, sequence numbers and workload.
#[derive(Debug)]
struct Session {
    /// SenderCompID: `{sender}{index + 1}`.
    sender: Vec<u8>,
    /// Session number in ClOrdID: index + 1.
    number: u64,
    stream: TcpStream,
    /// Inbound bytes; `rlen` of them are valid. Fixed size, reused.
    rbuf: Vec<u8>,
    rlen: usize,
    /// Outbound bytes not yet written, from `woff`. Reused.
    wbuf: Vec<u8>,
    woff: usize,
    out_seq: u64,
    in_seq: u64,
    logged_on: bool,
    logout_rcvd: bool,
    closed: bool,
    /// Orders this session sends in the warm-up and the measured phase.
    warm_n: u64,
    meas_n: u64,
    /// Order numbers `[phase_begin, phase_end)` belong to the current phase.
    phase_begin: u64,
    phase_end: u64,
    /// The next order number to send.
    next_id: u64,
    /// ERs received for the current phase.
    phase_recv: u64,
    phase_done: bool,
    /// Per order number: when it was sent (or, in `rate` mode, was due), in monotonic
    /// ns; `NOT_OUTSTANDING` when not in flight.
    sent_at: Vec<u64>,
    /// When this session last wrote anything (for heartbeats).
    last_send: u64,
}

/// Counters reported at the end.
#[derive(Debug, Default)]
struct Counters {
    rejects: u64,
    seq_gaps: u64,
    bad_frames: u64,
    unknown_execs: u64,
    test_requests: u64,
    resend_requests: u64,
    heartbeats_sent: u64,
    nos_sent: u64,
    nos_bytes: u64,
    er_rcvd: u64,
    er_bytes: u64,
}

/// The whole run: options, sockets, phase, samples and counters.
#[derive(Debug)]
struct Run {
    opt: Options,
    clock: Clock,
    stamp: Stamp,
    target: Vec<u8>,
    poll: Poll,
    sessions: Vec<Session>,
    phase: Phase,
    /// Sessions logged on / done with the current phase.
    logged_on: usize,
    phase_done: usize,
    /// Latency samples of the measured phase, ns; capacity `count`, never grows.
    lat: Vec<u64>,
    c: Counters,
    error: Option<String>,
    /// Start of the measured phase, last measured ER, last measured order written.
    t0: u64,
    t1: u64,
    last_order_sent: u64,
    deadline: u64,
    logout_deadline: u64,
    next_housekeeping: u64,
    /// `rate` mode: orders of the phase scheduled so far, their total, the schedule's
    /// start and the interval between orders.
    rate_next: u64,
    rate_total: u64,
    rate_t0: u64,
    rate_interval_ns: f64,
    /// `rate` mode: the worst lateness of a send against its schedule (measured phase).
    max_send_lag: u64,
    /// Sessions with queued bytes during a `rate` send round. Preallocated.
    dirty: Vec<usize>,
    /// `--spin`: time spent in empty polls during the measured phase.
    idle_ns: u64,
    cpu0: Option<f64>,
    cpu1: Option<f64>,
    /// When the last Logon reply arrived, from before the first connect (ns).
    logon_ns: u64,
}

impl Run {
    /// Connects and logs on every session.
    fn connect(opt: Options) -> Result<Self, String> {
        let addr: SocketAddr = opt
            .addr
            .to_socket_addrs()
            .map_err(|e| format!("--addr {}: {e}", opt.addr))?
            .next()
            .ok_or_else(|| format!("--addr {}: no address", opt.addr))?;
        let poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
        // Started before the first connect: the Logon time covers connecting too.
        let clock = Clock::new();
        let n = opt.sessions as u64;
        let orders = |total: u64, i: u64| total / n + u64::from(i < total % n);
        let mut sessions = Vec::with_capacity(opt.sessions);
        for i in 0..opt.sessions {
            let std_stream =
                std::net::TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
            std_stream
                .set_nodelay(true)
                .and_then(|()| std_stream.set_nonblocking(true))
                .map_err(|e| format!("socket options: {e}"))?;
            let mut stream = TcpStream::from_std(std_stream);
            // Edge-triggered, both directions once: no re-registration on the hot path.
            poll.registry()
                .register(
                    &mut stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .map_err(|e| format!("register: {e}"))?;
            let (warm_n, meas_n) = (orders(opt.warmup, i as u64), orders(opt.count, i as u64));
            let in_flight = match opt.mode {
                Mode::Pingpong => 1,
                Mode::Window => opt.window as usize,
                Mode::Rate => 64,
            };
            sessions.push(Session {
                sender: format!("{}{}", opt.sender, i + 1).into_bytes(),
                number: i as u64 + 1,
                stream,
                rbuf: vec![0; READ_BUF],
                rlen: 0,
                wbuf: Vec::with_capacity(in_flight * 256 + 4096),
                woff: 0,
                out_seq: 1,
                in_seq: 1,
                logged_on: false,
                logout_rcvd: false,
                closed: false,
                warm_n,
                meas_n,
                phase_begin: 0,
                phase_end: 0,
                next_id: 0,
                phase_recv: 0,
                phase_done: false,
                sent_at: vec![NOT_OUTSTANDING; (warm_n + meas_n) as usize],
                last_send: 0,
            });
        }
        let mut run = Self {
            target: opt.target.clone().into_bytes(),
            lat: Vec::with_capacity(opt.count as usize),
            rate_interval_ns: 1e9 / opt.rate,
            deadline: opt.timeout.as_nanos() as u64,
            dirty: Vec::with_capacity(opt.sessions),
            opt,
            clock,
            stamp: Stamp::new(),
            poll,
            sessions,
            phase: Phase::Logon,
            logged_on: 0,
            phase_done: 0,
            c: Counters::default(),
            error: None,
            t0: 0,
            t1: 0,
            last_order_sent: 0,
            logout_deadline: 0,
            next_housekeeping: 0,
            rate_next: 0,
            rate_total: 0,
            rate_t0: 0,
            max_send_lag: 0,
            idle_ns: 0,
            cpu0: None,
            cpu1: None,
            logon_ns: 0,
        };
        let logon = format!("98=0\x01108={}\x01141=Y\x01", run.opt.heartbeat);
        for i in 0..run.sessions.len() {
            run.queue_admin(i, b"A", b"", logon.as_bytes());
            run.flush(i);
        }
        Ok(run)
    }

    /// Keeps the first error: it is the cause, later ones are consequences.
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            if !self.opt.quiet {
                eprintln!("loadgen: error: {message}");
            }
            self.error = Some(message);
        }
    }

    /// Queues a session-level message: `extra_header` goes after the standard header
    /// fields, `body` after it.
    fn queue_admin(&mut self, i: usize, msg_type: &[u8], extra_header: &[u8], body: &[u8]) {
        let now = self.clock.now();
        let s = &mut self.sessions[i];
        let time = self.stamp.at(self.clock.wall_base_ns + now);
        let start = begin_frame(
            &mut s.wbuf,
            msg_type,
            s.out_seq,
            &s.sender,
            &self.target,
            time,
        );
        s.out_seq += 1;
        s.wbuf.extend_from_slice(extra_header);
        s.wbuf.extend_from_slice(body);
        end_frame(&mut s.wbuf, start);
    }

    /// Queues NewOrderSingle number `id` on session `i`, stamped with wall time
    /// `wall_ns`. Returns its size.
    fn queue_order(&mut self, i: usize, id: u64, wall_ns: u64) -> usize {
        let s = &mut self.sessions[i];
        let time = self.stamp.at(wall_ns);
        let start = begin_frame(&mut s.wbuf, b"D", s.out_seq, &s.sender, &self.target, time);
        s.out_seq += 1;
        let w = &mut s.wbuf;
        // ClOrdID: session number and order number, fixed width, so an ER is matched
        // to its order (and its session) without a lookup table.
        w.extend_from_slice(b"11=");
        let at = w.len();
        w.resize(at + CLORD_SESSION_DIGITS + CLORD_ORDER_DIGITS, b'0');
        put_digits(&mut w[at..at + CLORD_SESSION_DIGITS], s.number);
        put_digits(&mut w[at + CLORD_SESSION_DIGITS..], id);
        w.extend_from_slice(b"\x0121=1\x0155=IBM\x0154=1\x0160=");
        w.extend_from_slice(time);
        w.extend_from_slice(b"\x0138=100\x0140=2\x0144=10.5\x01");
        end_frame(w, start);
        let size = w.len() - start;
        self.c.nos_sent += 1;
        self.c.nos_bytes += size as u64;
        size
    }

    /// Writes what session `i` has queued; the rest waits for a writable event.
    fn flush(&mut self, i: usize) {
        let s = &mut self.sessions[i];
        if s.closed {
            return;
        }
        while s.woff < s.wbuf.len() {
            match s.stream.write(&s.wbuf[s.woff..]) {
                Ok(0) => {
                    self.close(i, "write returned 0");
                    return;
                }
                Ok(n) => s.woff += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.close(i, &format!("write: {e}"));
                    return;
                }
            }
        }
        s.wbuf.clear();
        s.woff = 0;
        s.last_send = self.clock.now();
    }

    /// Closes session `i`; an error unless the run is already logging out.
    fn close(&mut self, i: usize, why: &str) {
        let s = &mut self.sessions[i];
        if s.closed {
            return;
        }
        s.closed = true;
        let _ = self.poll.registry().deregister(&mut s.stream);
        let _ = s.stream.shutdown(std::net::Shutdown::Both);
        if self.phase < Phase::Logout {
            let who = String::from_utf8_lossy(&s.sender).into_owned();
            self.fail(format!("session {who}: {why}"));
        }
    }

    /// Starts a phase of `n(session)` orders on every session.
    fn start_phase(&mut self, phase: Phase, now: u64) {
        self.phase = phase;
        self.phase_done = 0;
        let mut total = 0;
        for i in 0..self.sessions.len() {
            let s = &mut self.sessions[i];
            let n = if phase == Phase::Warmup {
                s.warm_n
            } else {
                s.meas_n
            };
            total += n;
            s.phase_begin = s.next_id;
            s.phase_end = s.next_id + n;
            s.phase_recv = 0;
            s.phase_done = n == 0;
            if s.phase_done {
                self.phase_done += 1;
            } else {
                self.pump(i);
            }
        }
        self.rate_next = 0;
        self.rate_total = total;
        self.rate_t0 = now;
    }

    /// `pingpong` and `window`: sends the orders the in-flight limit allows.
    fn pump(&mut self, i: usize) {
        let s = &self.sessions[i];
        if s.phase_done || s.closed || self.phase > Phase::Measure {
            return;
        }
        let outstanding = s.next_id - s.phase_begin - s.phase_recv;
        let remaining = s.phase_end - s.next_id;
        let n = match self.opt.mode {
            Mode::Rate => return,
            Mode::Pingpong if outstanding == 0 => remaining.min(1),
            Mode::Pingpong => return,
            Mode::Window => {
                let free = self.opt.window - outstanding;
                let n = free.min(remaining);
                // Refill only once `batch` slots are free (or the phase's last orders
                // are), so that one write carries many orders.
                if n < self.opt.batch.min(remaining) {
                    return;
                }
                n
            }
        };
        if n == 0 {
            return;
        }
        // TransactTime/SendingTime from the last clock read (ms precision): the send
        // time stamp below is taken after encoding, just before the write.
        let wall = self.clock.wall_base_ns + self.clock.now();
        let first = self.sessions[i].next_id;
        for id in first..first + n {
            self.queue_order(i, id, wall);
        }
        let now = self.clock.now();
        let s = &mut self.sessions[i];
        s.sent_at[first as usize..(first + n) as usize].fill(now);
        s.next_id += n;
        if self.phase == Phase::Measure {
            self.last_order_sent = now;
        }
        self.flush(i);
    }

    /// `rate`: sends every order whose scheduled time has come, round-robin over the
    /// sessions, one write per session. Each order's latency will be measured from its
    /// schedule, however late it actually goes out.
    fn send_due(&mut self, now: u64) {
        if self.opt.mode != Mode::Rate || !matches!(self.phase, Phase::Warmup | Phase::Measure) {
            return;
        }
        let n = self.sessions.len() as u64;
        let wall = self.clock.wall_base_ns + now;
        let mut sent = 0;
        while self.rate_next < self.rate_total && sent < RATE_BURST {
            let due = self.rate_due(self.rate_next);
            if due > now {
                break;
            }
            let i = (self.rate_next % n) as usize;
            let s = &self.sessions[i];
            if !s.closed && s.next_id < s.phase_end {
                if s.wbuf.len() == s.woff {
                    self.dirty.push(i);
                }
                let id = s.next_id;
                self.queue_order(i, id, wall);
                let s = &mut self.sessions[i];
                s.sent_at[id as usize] = due;
                s.next_id += 1;
                if self.phase == Phase::Measure {
                    self.max_send_lag = self.max_send_lag.max(now - due);
                }
            }
            self.rate_next += 1;
            sent += 1;
        }
        if sent > 0 && self.phase == Phase::Measure {
            self.last_order_sent = now;
        }
        for k in 0..self.dirty.len() {
            let i = self.dirty[k];
            self.flush(i);
        }
        self.dirty.clear();
    }

    /// `rate`: when order `j` of the phase is due, in monotonic ns.
    fn rate_due(&self, j: u64) -> u64 {
        self.rate_t0 + (j as f64 * self.rate_interval_ns) as u64
    }

    /// Reads everything session `i` has, handling each complete frame.
    fn on_readable(&mut self, i: usize) {
        loop {
            let s = &mut self.sessions[i];
            if s.closed {
                return;
            }
            if s.rbuf.len() - s.rlen < 4096 {
                // A frame bigger than the buffer: grow it (rare, not per message).
                let len = s.rbuf.len();
                s.rbuf.resize(len * 2, 0);
            }
            let space = s.rbuf.len() - s.rlen;
            match s.stream.read(&mut s.rbuf[s.rlen..]) {
                Ok(0) => {
                    self.close(i, "connection closed by the acceptor");
                    return;
                }
                Ok(n) => {
                    // The receive time of every frame completed by this read.
                    let now = self.clock.now();
                    self.sessions[i].rlen += n;
                    self.on_bytes(i, now);
                    if self.opt.mode == Mode::Window {
                        self.pump(i);
                    }
                    if n < space {
                        // A short read emptied the socket, and Linux raises a new
                        // edge for any later data: skip the read that would only say
                        // WouldBlock (a syscall per event is several µs here).
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.close(i, &format!("read: {e}"));
                    return;
                }
            }
        }
    }

    /// Frames and handles the bytes read so far on session `i`.
    fn on_bytes(&mut self, i: usize, now: u64) {
        // Take the buffer out so handlers can borrow the session mutably; `take`
        // swaps in an empty Vec, which does not allocate.
        let buf = std::mem::take(&mut self.sessions[i].rbuf);
        let len = self.sessions[i].rlen;
        let mut off = 0;
        while off < len && !self.sessions[i].closed {
            match frame(&buf[off..len]) {
                Framing::Partial => break,
                Framing::Complete(n) => {
                    self.on_message(i, &buf[off..off + n], now);
                    off += n;
                }
                Framing::BadChecksum(n) => {
                    self.c.bad_frames += 1;
                    self.fail(format!("session {}: bad CheckSum", self.sender(i)));
                    off += n;
                }
                Framing::Garbage => {
                    self.c.bad_frames += 1;
                    self.fail(format!(
                        "session {}: malformed frame (BeginString/BodyLength/CheckSum)",
                        self.sender(i)
                    ));
                    // Resynchronise at the next BeginString, keeping a possible partial one.
                    off = buf[off + 1..len]
                        .windows(5)
                        .position(|w| w == b"8=FIX")
                        .map_or(len.saturating_sub(4).max(off + 1), |p| off + 1 + p);
                }
            }
        }
        let s = &mut self.sessions[i];
        s.rbuf = buf;
        s.rbuf.copy_within(off..len, 0);
        s.rlen = len - off;
    }

    /// SenderCompID of session `i`, for messages.
    fn sender(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.sessions[i].sender).into_owned()
    }

    /// Handles one valid inbound frame.
    fn on_message(&mut self, i: usize, msg: &[u8], now: u64) {
        let f = parse_fields(msg);
        let s = &mut self.sessions[i];
        // MsgSeqNum must follow on; a GapFill/Reset moves it below.
        if f.seq != s.in_seq && (f.seq > s.in_seq || !f.poss_dup) {
            self.c.seq_gaps += 1;
        }
        if f.seq >= s.in_seq {
            s.in_seq = f.seq + 1;
        }
        let msg_type = &msg[f.msg_type.0..f.msg_type.1];
        match msg_type {
            b"8" => {
                self.c.er_rcvd += 1;
                self.c.er_bytes += msg.len() as u64;
                self.on_execution(i, &msg[f.cl_ord_id.0..f.cl_ord_id.1], now);
            }
            b"0" => {}
            b"A" => {
                let s = &mut self.sessions[i];
                let swapped = msg[f.sender.0..f.sender.1] == *self.target
                    && msg[f.target.0..f.target.1] == *s.sender;
                if !swapped {
                    let why = format!(
                        "Logon reply with SenderCompID={} TargetCompID={}",
                        text(msg, f.sender),
                        text(msg, f.target)
                    );
                    self.close(i, &why);
                } else if !s.logged_on {
                    s.logged_on = true;
                    self.logged_on += 1;
                }
            }
            b"1" => {
                self.c.test_requests += 1;
                let mut body = Vec::with_capacity(8 + f.test_req_id.1 - f.test_req_id.0);
                body.extend_from_slice(b"112=");
                body.extend_from_slice(&msg[f.test_req_id.0..f.test_req_id.1]);
                body.push(SOH);
                self.queue_admin(i, b"0", b"", &body);
                self.flush(i);
            }
            b"2" => {
                // Orders are never re-sent: gap-fill from BeginSeqNo to our next number.
                self.c.resend_requests += 1;
                let next = self.sessions[i].out_seq;
                let begin = if f.begin_seq == 0 || f.begin_seq >= next {
                    next
                } else {
                    f.begin_seq
                };
                let time = *self.stamp.at(self.clock.wall_base_ns + now);
                let mut header = b"43=Y\x01122=".to_vec();
                header.extend_from_slice(&time);
                header.push(SOH);
                let mut body = b"123=Y\x0136=".to_vec();
                push_u64(&mut body, next);
                body.push(SOH);
                // The GapFill carries BeginSeqNo as its own MsgSeqNum.
                self.sessions[i].out_seq = begin;
                self.queue_admin(i, b"4", &header, &body);
                self.sessions[i].out_seq = next;
                self.flush(i);
            }
            // SequenceReset (GapFill or Reset): the next number is NewSeqNo.
            b"4" if f.new_seq > 0 => self.sessions[i].in_seq = f.new_seq,
            b"3" | b"j" => {
                self.c.rejects += 1;
                let kind = if msg_type == b"3" {
                    "Reject(35=3)"
                } else {
                    "BusinessMessageReject(35=j)"
                };
                let why = format!(
                    "session {}: {kind} RefSeqNum={} Reason={} Text={}",
                    self.sender(i),
                    f.ref_seq,
                    text(msg, f.reason),
                    text(msg, f.text)
                );
                self.fail(why);
            }
            b"5" => {
                let s = &mut self.sessions[i];
                s.logout_rcvd = true;
                if self.phase < Phase::Logout {
                    let why = format!("unexpected Logout: {}", text(msg, f.text));
                    self.close(i, &why);
                } else {
                    self.close(i, "");
                }
            }
            _ => {}
        }
    }

    /// Matches an ExecutionReport to its order by ClOrdID and records the latency.
    fn on_execution(&mut self, i: usize, cl_ord_id: &[u8], now: u64) {
        let s = &mut self.sessions[i];
        let ok_len = cl_ord_id.len() == CLORD_SESSION_DIGITS + CLORD_ORDER_DIGITS;
        let (session, id) = cl_ord_id.split_at(CLORD_SESSION_DIGITS.min(cl_ord_id.len()));
        let id = parse_u64(id);
        if !ok_len
            || parse_u64(session) != s.number
            || id < s.phase_begin
            || id >= s.next_id
            || s.sent_at[id as usize] == NOT_OUTSTANDING
        {
            self.c.unknown_execs += 1;
            return;
        }
        let latency = now.saturating_sub(s.sent_at[id as usize]);
        s.sent_at[id as usize] = NOT_OUTSTANDING;
        s.phase_recv += 1;
        if s.phase_recv == s.phase_end - s.phase_begin {
            s.phase_done = true;
            self.phase_done += 1;
        }
        if self.phase == Phase::Measure {
            if self.lat.len() < self.lat.capacity() {
                self.lat.push(latency);
            }
            self.t1 = now;
        }
        if self.opt.mode == Mode::Pingpong {
            self.pump(i);
        }
    }

    /// Sends Logout on every open session.
    fn begin_logout(&mut self, now: u64) {
        self.phase = Phase::Logout;
        self.logout_deadline = now + LOGOUT_WAIT.as_nanos() as u64;
        for i in 0..self.sessions.len() {
            if !self.sessions[i].closed {
                self.queue_admin(i, b"5", b"", b"");
                self.flush(i);
            }
        }
    }

    /// Moves to the next phase when the current one is complete.
    fn advance(&mut self, now: u64) {
        let n = self.sessions.len();
        if self.error.is_some() && self.phase < Phase::Logout {
            self.begin_logout(now);
        }
        if self.phase == Phase::Logon && self.logged_on == n {
            self.logon_ns = now;
            self.start_phase(Phase::Warmup, now);
        }
        if self.phase == Phase::Warmup && self.phase_done == n {
            // The barrier: every session has all its warm-up ERs.
            self.cpu0 = cpu_seconds();
            self.t0 = self.clock.now();
            self.start_phase(Phase::Measure, self.t0);
        }
        if self.phase == Phase::Measure && self.phase_done == n {
            self.cpu1 = cpu_seconds();
            self.begin_logout(now);
        }
        if self.phase == Phase::Logout
            && (self.sessions.iter().all(|s| s.closed) || now > self.logout_deadline)
        {
            self.phase = Phase::End;
        }
    }

    /// Timeouts and heartbeats: looked at every `HOUSEKEEPING`, not per message.
    fn housekeeping(&mut self, now: u64) {
        self.next_housekeeping = now + HOUSEKEEPING.as_nanos() as u64;
        if now > self.deadline && self.phase < Phase::Logout {
            let (got, want) = self.sessions.iter().fold((0, 0), |(g, w), s| {
                (g + s.phase_recv, w + s.phase_end - s.phase_begin)
            });
            self.fail(format!(
                "timeout after {:.0} s in the {} phase ({got} of {want} replies)",
                self.opt.timeout.as_secs_f64(),
                self.phase.name()
            ));
            return;
        }
        if self.phase >= Phase::Logout {
            return;
        }
        let interval = u64::from(self.opt.heartbeat) * 1_000_000_000;
        for i in 0..self.sessions.len() {
            let s = &self.sessions[i];
            if s.logged_on && !s.closed && now.saturating_sub(s.last_send) > interval {
                self.c.heartbeats_sent += 1;
                self.queue_admin(i, b"0", b"", b"");
                self.flush(i);
            }
        }
    }

    /// How long the next poll may block.
    fn poll_timeout(&self, now: u64) -> Duration {
        if self.opt.spin {
            return Duration::ZERO;
        }
        let mut wait = self.next_housekeeping.saturating_sub(now);
        if self.opt.mode == Mode::Rate
            && matches!(self.phase, Phase::Warmup | Phase::Measure)
            && self.rate_next < self.rate_total
        {
            // mio's timeout has millisecond resolution (rounded up): sleep only while
            // the next order is more than a millisecond away, then spin to hit it.
            let until = self.rate_due(self.rate_next).saturating_sub(now);
            wait = wait.min(until.saturating_sub(1_000_000));
        }
        Duration::from_nanos(wait)
    }

    /// The event loop: one poll over every session until the run ends.
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = self.clock.now();
            if now >= self.next_housekeeping {
                self.housekeeping(now);
            }
            self.advance(now);
            if self.phase == Phase::End {
                break;
            }
            self.send_due(now);
            let timeout = self.poll_timeout(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.fail(format!("poll: {e}"));
                    self.phase = Phase::End;
                }
                continue;
            }
            if events.is_empty() {
                if timeout.is_zero() && self.phase == Phase::Measure {
                    self.idle_ns += self.clock.now() - now;
                }
                continue;
            }
            for event in &events {
                let i = event.token().0;
                if event.is_writable() {
                    self.flush(i);
                }
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.on_readable(i);
                }
            }
        }
        for i in 0..self.sessions.len() {
            self.close(i, "");
        }
    }

    /// The human-readable block and the JSON line.
    fn report(&mut self) -> bool {
        if self.error.is_none() && self.lat.len() as u64 != self.opt.count {
            self.fail("the measured phase did not complete".to_owned());
        }
        let o = &self.opt;
        let ok = self.error.is_none() && self.c.rejects == 0 && self.c.bad_frames == 0;
        let logout_clean = self.sessions.iter().all(|s| s.logout_rcvd);
        let elapsed = self.t1.saturating_sub(self.t0) as f64 / 1e9;
        let logon_ms = self.logon_ns as f64 / 1e6;
        let send_elapsed = self.last_order_sent.saturating_sub(self.t0) as f64 / 1e9;
        // Rates only for a completed measured phase: a partial one has no meaning.
        let complete = self.lat.len() as u64 == o.count;
        let per_s = |n: f64, secs: f64| {
            if complete && secs > 0.0 {
                n / secs
            } else {
                0.0
            }
        };
        let received = self.lat.len() as f64;
        // Orders/s up to the last order sent (fixload's definition); ERs/s up to the
        // last ER.
        let send_secs = if send_elapsed > 0.0 {
            send_elapsed
        } else {
            elapsed
        };
        let orders_per_s = per_s(o.count as f64, send_secs);
        let execs_per_s = per_s(received, elapsed);
        self.lat.sort_unstable();
        let lat = &self.lat;
        // Nearest rank, as fixload computes it: the ceil(p*n)-th smallest sample.
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let rank = (p * lat.len() as f64 - 1e-9).ceil().max(1.0) as usize;
            lat[rank.min(lat.len()) - 1] as f64 / 1000.0
        };
        let min = lat.first().map_or(0.0, |&v| v as f64 / 1000.0);
        let max = lat.last().map_or(0.0, |&v| v as f64 / 1000.0);
        let mean = if lat.is_empty() {
            0.0
        } else {
            lat.iter().map(|&v| v as f64).sum::<f64>() / lat.len() as f64 / 1000.0
        };
        let cpu_pct = match (self.cpu0, self.cpu1) {
            (Some(a), Some(b)) if elapsed > 0.0 => 100.0 * (b - a) / elapsed,
            _ => 0.0,
        };
        // Share of the measured phase the client was working: with --spin, wall time
        // minus empty polls; blocking, its CPU time. Near 100 = the client is the limit.
        let busy_pct = if o.spin && elapsed > 0.0 {
            100.0 * (1.0 - self.idle_ns as f64 / 1e9 / elapsed)
        } else {
            cpu_pct
        };
        let avg = |bytes: u64, n: u64| bytes.checked_div(n).unwrap_or(0);
        let (nos_bytes, er_bytes) = (
            avg(self.c.nos_bytes, self.c.nos_sent),
            avg(self.c.er_bytes, self.c.er_rcvd),
        );
        let lag_us = self.max_send_lag as f64 / 1000.0;
        let error = self.error.clone().unwrap_or_default();
        let c = &self.c;

        // Collected first and written once: a closed stdout (`| head`) is not an error
        // worth a panic.
        let mut h = String::new();
        if !o.quiet {
            let shape = match o.mode {
                Mode::Pingpong => String::new(),
                Mode::Rate => format!(" rate={}/s", o.rate),
                Mode::Window => format!(" window={} batch={}", o.window, o.batch),
            };
            let _ = writeln!(
                h,
                "loadgen {} {} sessions={}{shape}{}: {}",
                o.mode.name(),
                o.addr,
                o.sessions,
                if o.spin { " spin" } else { "" },
                if ok { "OK" } else { "FAILED" }
            );
            let _ = writeln!(
                h,
                "  measured {} ERs in {elapsed:.3} s: {orders_per_s:.0} orders/s sent, \
                 {execs_per_s:.0} ERs/s received",
                lat.len()
            );
            let _ = writeln!(
                h,
                "  latency us: min {min:.1}  p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  \
                 max {max:.1}  mean {mean:.1}",
                pct(0.5),
                pct(0.9),
                pct(0.99),
                pct(0.999)
            );
            if o.mode == Mode::Rate {
                let _ = writeln!(h, "  latest send behind schedule: {lag_us:.1} us");
            }
            let _ = writeln!(
                h,
                "  rejects {}  seq_gaps {}  bad_frames {}  unknown_execs {}  logout_clean {}",
                c.rejects, c.seq_gaps, c.bad_frames, c.unknown_execs, logout_clean
            );
            let _ = writeln!(
                h,
                "  client busy {busy_pct:.0}% (cpu {cpu_pct:.0}%); NOS {nos_bytes} B, ER {er_bytes} B"
            );
            let _ = writeln!(
                h,
                "  {} sessions connected and logged on in {logon_ms:.1} ms",
                o.sessions
            );
            if !error.is_empty() {
                let _ = writeln!(h, "  error: {error}");
            }
        }

        let mut j = String::with_capacity(1024);
        let _ = write!(
            j,
            "{{\"tool\":\"loadgen\",\"mode\":\"{}\",\"addr\":{},\"sessions\":{},\
             \"warmup\":{},\"count\":{},\"window\":{},\"batch\":{},\"rate\":{},\"spin\":{},\
             \"ok\":{ok},\"elapsed_s\":{elapsed:.4},\"logon_ms\":{logon_ms:.1},\"orders_per_s\":{orders_per_s:.0},\
             \"execs_per_s\":{execs_per_s:.0},\"lat_min_us\":{min:.1},\"lat_p50_us\":{:.1},\
             \"lat_p90_us\":{:.1},\"lat_p99_us\":{:.1},\"lat_p999_us\":{:.1},\
             \"lat_max_us\":{max:.1},\"lat_mean_us\":{mean:.1},\"send_lag_max_us\":{lag_us:.1},\
             \"nos_bytes\":{nos_bytes},\"er_bytes\":{er_bytes},\"client_cpu_pct\":{cpu_pct:.1},\
             \"client_busy_pct\":{busy_pct:.1},\"rejects\":{},\"seq_gaps\":{},\
             \"bad_frames\":{},\"unknown_execs\":{},\"test_requests\":{},\
             \"resend_requests\":{},\"heartbeats_sent\":{},\"logout_clean\":{logout_clean},\
             \"error\":{}}}",
            o.mode.name(),
            json_string(&o.addr),
            o.sessions,
            o.warmup,
            o.count,
            if o.mode == Mode::Window { o.window } else { 1 },
            if o.mode == Mode::Window { o.batch } else { 1 },
            if o.mode == Mode::Rate { o.rate } else { 0.0 },
            o.spin,
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(0.999),
            c.rejects,
            c.seq_gaps,
            c.bad_frames,
            c.unknown_execs,
            c.test_requests,
            c.resend_requests,
            c.heartbeats_sent,
            json_string(&error),
        );
        let mut out = io::stdout().lock();
        let _ = out.write_all(h.as_bytes());
        let _ = writeln!(out, "{j}");
        let _ = out.flush();
        ok
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() -> ExitCode {
    let opt = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut run = match Run::connect(opt) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(1);
        }
    };
    run.run();
    if run.report() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole message as `begin_frame` + body + `end_frame` writes it.
    fn message(msg_type: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = b"junk".to_vec();
        let time = *b"20231114-22:13:20.123";
        let start = begin_frame(&mut out, msg_type, 7, b"CLIENT1", b"SERVER1", &time);
        out.extend_from_slice(body);
        end_frame(&mut out, start);
        out.split_off(4)
    }

    #[test]
    fn frames_have_right_body_length_and_checksum() {
        // Two-digit (Heartbeat), three-digit and four-digit BodyLengths.
        for body in [&b""[..], &[b'x'; 100][..], &[b'y'; 1000][..]] {
            let mut body = body.to_vec();
            if !body.is_empty() {
                body.splice(0..0, b"58=".iter().copied());
                body.push(SOH);
            }
            let msg = message(b"0", &body);
            assert_eq!(frame(&msg), Framing::Complete(msg.len()), "{msg:?}");
            let f = parse_fields(&msg);
            assert_eq!(&msg[f.msg_type.0..f.msg_type.1], b"0");
            assert_eq!(f.seq, 7);
            assert_eq!(&msg[f.sender.0..f.sender.1], b"CLIENT1");
            let declared = parse_u64(&msg[12..]);
            let body_start = msg.iter().position(|&b| b == SOH).unwrap() + 1;
            let body_start = body_start + msg[body_start..].iter().position(|&b| b == SOH).unwrap();
            assert_eq!(declared as usize, msg.len() - 7 - body_start - 1);
        }
    }

    #[test]
    fn framer_waits_for_partial_and_rejects_bad_frames() {
        let msg = message(b"8", b"11=000100000042\x01");
        for cut in 0..msg.len() {
            assert_eq!(frame(&msg[..cut]), Framing::Partial, "cut at {cut}");
        }
        let mut bad = msg.clone();
        let n = bad.len();
        bad[n - 2] = if bad[n - 2] == b'9' { b'0' } else { b'9' };
        assert_eq!(frame(&bad), Framing::BadChecksum(n));
        assert_eq!(frame(b"9=FIX.4.4\x01"), Framing::Garbage);
        let mut long = msg;
        long.truncate(n - 7);
        long.extend_from_slice(b"99=xxx\x01");
        assert_eq!(frame(&long), Framing::Garbage);
    }

    #[test]
    fn utc_timestamps() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let mut stamp = Stamp::new();
        let ns = 1_700_000_000_123_456_789;
        assert_eq!(stamp.at(ns), b"20231114-22:13:20.123");
        assert_eq!(stamp.at(ns + 1_000_000_000), b"20231114-22:13:21.123");
    }

    #[test]
    fn fields_of_an_execution_report() {
        let msg = message(b"8", b"11=000300000042\x01112=T1\x0143=Y\x0136=12\x01");
        let f = parse_fields(&msg);
        assert_eq!(&msg[f.cl_ord_id.0..f.cl_ord_id.1], b"000300000042");
        assert_eq!(&msg[f.test_req_id.0..f.test_req_id.1], b"T1");
        assert!(f.poss_dup);
        assert_eq!(f.new_seq, 12);
    }
}
