//! `fixcat`: frames a FIX byte stream (a capture, a log, stdin) and prints one
//! message per line with `|` for SOH, reporting garbled bytes on stderr.
//!
//! ```sh
//! cargo run --example fixcat -- capture.bin
//! printf '8=FIX.4.4\x019=5\x0135=0\x0110=163\x01' | cargo run --example fixcat
//! ```
//!
//! It reads in small chunks on purpose: that is how a socket delivers bytes, and
//! it shows the framer resuming across reads.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use fixengine::{Decoder, Framer, Status};

fn main() -> ExitCode {
    let mut input: Box<dyn Read> = match std::env::args_os().nth(1) {
        Some(path) => match std::fs::File::open(&path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("fixcat: cannot open {}: {e}", path.to_string_lossy());
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(io::stdin()),
    };
    let framer = Framer::default();
    let mut decoder = Decoder::new();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (mut messages, mut garbled) = (0u64, 0u64);
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("fixcat: read error: {e}");
                return ExitCode::FAILURE;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        loop {
            match framer.parse(&buf[start..]) {
                Ok(Status::Complete(len)) => {
                    let frame = &buf[start..start + len];
                    match decoder.decode(frame) {
                        Ok(view) => {
                            messages += 1;
                            if let Some(problem) = view.problem() {
                                eprintln!("fixcat: message {messages}: {problem}");
                            }
                            let seq = view.msg_seq_num().map(|s| s.get()).unwrap_or(0);
                            if writeln!(out, "{seq:>8} {view}").is_err() {
                                return ExitCode::SUCCESS;
                            }
                        }
                        Err(e) => {
                            garbled += 1;
                            eprintln!("fixcat: undecodable frame: {e}");
                        }
                    }
                    start += len;
                }
                Ok(Status::Partial(_)) => break,
                Err(g) => {
                    garbled += 1;
                    eprintln!("fixcat: dropped {} bytes: {}", g.len, g.error);
                    start += g.len;
                }
            }
        }
        buf.drain(..start);
    }
    if !buf.is_empty() {
        eprintln!(
            "fixcat: {} bytes of an incomplete frame at the end",
            buf.len()
        );
    }
    let _ = out.flush();
    eprintln!("fixcat: {messages} messages, {garbled} garbled");
    ExitCode::SUCCESS
}
