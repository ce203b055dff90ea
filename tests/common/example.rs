//! The example acceptor (`examples/acceptor/`) as a child process: started with
//! arguments, its banner read, stopped by `q`, a signal or SIGKILL, each wait
//! bounded by [`WAIT`](super::WAIT).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::WAIT;

/// The line the acceptor prints for each address it listens on.
pub const LISTENING: &str = "fixengine acceptor listening on ";
/// How the banner's last line starts: the way to stop the acceptor.
pub const TO_STOP: &str = "to stop: ";

/// The example acceptor, built next to the tests by `cargo test`.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join("examples").join("acceptor");
    assert!(
        path.is_file(),
        "{} not found: `cargo test` builds the examples; run it rather than the test binary alone",
        path.display()
    );
    path
}

/// Writes `dir/name`, an engine.properties for tests: any free port on
/// 127.0.0.1, stores under `dir/store`, then the lines of `extra`. Returns its
/// path, for `--config`.
pub fn loopback_config(dir: &Path, name: &str, extra: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "ListenPort = 0\nListenAddress = 127.0.0.1\nStorageDirectory = {}\n{extra}",
            dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// What a run that ends by itself (a refused command line, `--help`) printed.
#[derive(Debug)]
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the acceptor with `args` and an empty standard input (so that one that
/// starts after all stops at once), and returns what it printed.
pub fn run_to_end(args: &[&str]) -> Ended {
    let mut child = Command::new(binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let status = wait_for_exit(&mut child, WAIT).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the acceptor {args:?} did not end within {WAIT:?}")
    });
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Ended {
        status,
        stdout,
        stderr,
    }
}

/// A running acceptor. Dropping it kills the process.
pub struct Example {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The first address it listens on.
    pub addr: SocketAddr,
    /// Its standard output up to and including the line saying how to stop it.
    pub banner: Vec<String>,
}

impl Example {
    /// Starts the acceptor with `args` and a pipe for standard input, and reads
    /// its banner.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_stdin(args, Stdio::piped())
    }

    /// As [`Example::start`], with `stdin` as standard input.
    pub fn start_with_stdin(args: &[&str], stdin: Stdio) -> Self {
        let mut child = Command::new(binary())
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        // Read on a thread, which keeps draining stdout after the banner so the
        // child never blocks on a full pipe; the banner is awaited for WAIT at most.
        let stdout = child.stdout.take().unwrap();
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = line_tx.send(line);
            }
        });
        let deadline = Instant::now() + WAIT;
        let mut banner = Vec::new();
        while !banner
            .last()
            .is_some_and(|l: &String| l.starts_with(TO_STOP))
        {
            let left = deadline.saturating_duration_since(Instant::now());
            match line_rx.recv_timeout(left) {
                Ok(line) => banner.push(line),
                Err(e) => {
                    let _ = child.kill();
                    panic!("the acceptor {args:?} printed no whole banner ({e}): {banner:?}");
                }
            }
        }
        let addr = banner
            .iter()
            .find_map(|l| l.strip_prefix(LISTENING))
            .unwrap_or_else(|| panic!("no {LISTENING:?} line in {banner:?}"))
            .trim()
            .parse()
            .unwrap();
        Self {
            child,
            stdin,
            addr,
            banner,
        }
    }

    /// Fails the test unless some banner line contains `text`.
    pub fn assert_banner_says(&self, text: &str) {
        let says = self.banner.iter().any(|l| l.contains(text));
        assert!(says, "the banner says {text:?}: {:?}", self.banner);
    }

    /// Fails the test if a banner line contains `text`.
    pub fn assert_banner_never_says(&self, text: &str) {
        let says = self.banner.iter().any(|l| l.contains(text));
        assert!(!says, "the banner never says {text:?}: {:?}", self.banner);
    }

    /// Writes `line` and a newline to its standard input.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("standard input is a pipe");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Closes its standard input.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-s", "TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s TERM failed");
    }

    /// Fails the test unless it ends with exit status 0 within WAIT; `after`
    /// says what should have stopped it.
    pub fn assert_stops_cleanly(&mut self, after: &str) {
        let status = wait_for_exit(&mut self.child, WAIT);
        let status = status.unwrap_or_else(|| panic!("{after} stops the acceptor"));
        assert!(status.success(), "after {after}: {status:?}");
    }

    /// Fails the test if it ends within half a second (`ignored` says what it
    /// must not stop on), then checks that SIGTERM stops it cleanly.
    pub fn assert_only_a_signal_stops_it(&mut self, ignored: &str) {
        let ended = wait_for_exit(&mut self.child, Duration::from_millis(500));
        assert!(ended.is_none(), "{ignored} stopped the acceptor: {ended:?}");
        self.terminate();
        self.assert_stops_cleanly("SIGTERM");
    }

    /// SIGKILL, and waits for the end.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `child`'s exit status, if it ends within `wait`.
fn wait_for_exit(child: &mut Child, wait: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
