//! The session state machine driven by a small bytecode: frames from the
//! counterparty, raw bytes, the passage of time, application sends, logout,
//! reconnects. Every call is followed by draining `poll_transmit` and what the
//! handler was told, and the outbound stream and the machine's state are checked.
//!
//! Input layout: `[config] [config2] op...`
//! - `config` bits 0-2 pick the FixVersion (`FixVersion::ALL`), bit 3
//!   ResetSeqNumOnLogon, bit 4 ResetSeqNumOnLogout, bit 5 ResetSeqNumOnDisconnect,
//!   bit 6 EnableNextExpectedMsgSeqNum, bit 7 "lazy" draining (one `poll_transmit`
//!   per call, so a resend in batches stays in progress across calls);
//! - `config2` bit 0 turns CheckSendingTime off, bit 1 ValidateFieldsHaveValues off,
//!   bit 2 EnableLastMsgSeqNumProcessed on; bits 3-4 pick ResendRequestChunkSize
//!   and bits 5-6 ResendRequestNumberOfMessagesLimit (0, 1, 3, 300); bit 7
//!   LogonRefusalReply=silent.
//! - ops, `op % 16`: 0-5 and 15 a well-formed frame from TW (6 argument bytes, see
//!   `Driver::build_frame`); 6 raw bytes `[mode][len][len bytes]` (mode bit 0: behind
//!   a valid header and trailer, else cut by `Framer` as a read loop would); 7-8
//!   advance time by `[hi][lo]` scaled to 0-60 s, running the timers that fall due;
//!   9 an application send `[kind]`; 10 a burst of sends `[count]`; 11 logout
//!   `[text?]`; 12 disconnect and/or connect `[mode]` (mode bit 7: also
//!   `set_next_sender_seq`/`set_next_target_seq` `[which][value]` on the way);
//!   13 drain `poll_transmit` until
//!   empty; 14 flood `[n]` Heartbeats ahead of a gap (up to past `MAX_QUEUED`).
//!
//! Asserts (see `Driver::settle`): every byte written is complete frames of the
//! session's BeginString from ISLD to TW, with no field problem (no empty value);
//! non-PossDup MsgSeqNums go up by one (numbers
//! stored while not logged on are skipped on the wire; back to 1 only after a Logon
//! with ResetSeqNumFlag=Y or a reset policy); PossDup frames are GapFills or
//! application messages numbered below the next outbound number, a GapFill never
//! moving the counterparty beyond it; the store's next sender and target numbers fall
//! only on such resets; nothing new is sent once `wants_close`; state changes told
//! chain and match `state()`; application messages are told only after the state
//! told is Established or WaitForLogout; `close_reason` is set exactly while
//! `wants_close` and does not change until the disconnect; `poll_timeout()` is Some exactly while connected and not closing,
//! is in the future after `handle_timeout`, and an early `handle_timeout` does
//! nothing; a refused Logon changes no sequence number; application messages reach
//! the handler once, in increasing MsgSeqNum order; a "MsgSeqNum too low" Logout
//! names only the frame just fed, and only when it was too low on arrival (a
//! message queued behind a gap is never processed below the expected number); the
//! HeartBtInt of a LoggedOn
//! event is `heart_bt_int()`; one queue-overflow Logout per connection; stored
//! messages and events stay proportional to the work fed in.
//!
//! The session options and hooks of issue 14: LastMsgSeqNumProcessed(369) on every
//! new message iff enabled, never above an inbound number expected, kept as written
//! on a resend; our ResendRequests ask for at most ResendRequestChunkSize numbers,
//! the next chunk only once the previous is filled; an inbound ResendRequest over
//! the limit resends only the newest numbers, the rest in GapFills; the frames of a
//! resend cover its range once, in order, and `ResendServed` counts them (see
//! `session/resend.rs`); a refused Logon is answered by one Logout only when the
//! application refused it and LogonRefusalReply=logout, else closed silently;
//! `on_admin` sees every inbound session message processed and never an
//! application one; `to_admin`'s field is in exactly the Logon replies and Logouts
//! it was called for; a message `on_resend` vetoes goes out inside a GapFill.
//!
//! Env: `SESSION_TRACE=1` prints calls, frames and events; `SESSION_KNOWN=a,b` skips
//! the checks of known bugs (names in fuzz/README.md) to fuzz past them.
//!
//! Layout: `session/app.rs` is the handler, `session/driver.rs` the driver and its
//! calls, `session/frames.rs` the frames it builds, `session/checks.rs` the checks
//! after every call (`Driver::settle`).

#![no_main]

#[path = "session/app.rs"]
mod app;
#[path = "session/checks.rs"]
mod checks;
#[path = "session/driver.rs"]
mod driver;
#[path = "session/frames.rs"]
mod frames;
#[path = "session/resend.rs"]
mod resend;

use std::time::{Duration, Instant};

use fixengine::session::{MAX_QUEUED, State};
use fixengine::{
    Clock, Encoder, FixVersion, LogonRefusalReply, SessionConfig, Status, TimePrecision, tags,
};
use libfuzzer_sys::fuzz_target;

use driver::{Cfg, Driver, Input, MAX_FRAMES, MAX_SENDS, Step, TYPES, trace};

const MAX_OPS: usize = 256;

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let c = input.byte();
    let c2 = input.byte();
    let cfg = Cfg {
        version: FixVersion::ALL[usize::from(c & 7)],
        reset_on_logon: c & 8 != 0,
        reset_on_logout: c & 16 != 0,
        reset_on_disconnect: c & 32 != 0,
        next_expected: c & 64 != 0,
        lazy: c & 128 != 0,
        last_processed: c2 & 4 != 0,
        chunk: [0, 1, 3, 300][usize::from((c2 >> 3) & 3)],
        limit: [0, 1, 3, 300][usize::from((c2 >> 5) & 3)],
        refusal_silent: c2 & 128 != 0,
    };
    let config = SessionConfig::default()
        .with_reset_seq_num_on_logon(cfg.reset_on_logon)
        .with_reset_seq_num_on_logout(cfg.reset_on_logout)
        .with_reset_seq_num_on_disconnect(cfg.reset_on_disconnect)
        .with_enable_next_expected_msg_seq_num(cfg.next_expected)
        .with_check_sending_time(c2 & 1 == 0)
        .with_validate_fields_have_values(c2 & 2 == 0)
        .with_enable_last_msg_seq_num_processed(cfg.last_processed)
        .with_resend_request_chunk_size(cfg.chunk)
        .with_resend_request_number_of_messages_limit(cfg.limit)
        .with_logon_refusal_reply(if cfg.refusal_silent {
            LogonRefusalReply::Silent
        } else {
            LogonRefusalReply::Logout
        });

    // The one read of the monotonic clock: time only moves forward from here.
    #[allow(clippy::disallowed_methods)]
    let origin = Instant::now();
    let mut d = Driver::new(cfg, config, origin);
    d.connect();

    for _ in 0..MAX_OPS {
        if input.0.is_empty() {
            break;
        }
        let op = input.byte();
        if trace() {
            eprintln!(
                "op {op} ({}), {:?} {:?}",
                op % 16,
                d.m.state(),
                d.now - origin
            );
        }
        match op % 16 {
            0..=5 | 15 => {
                let a: [u8; 6] = std::array::from_fn(|_| input.byte());
                if d.frames_fed < MAX_FRAMES {
                    let frame = d.build_frame(a);
                    d.feed(&frame);
                }
            }
            6 => {
                let mode = input.byte();
                let len = usize::from(input.byte());
                let bytes = input.bytes(len);
                if mode & 1 != 0 {
                    // Fuzzer fields behind a valid header and trailer.
                    let mt = TYPES[usize::from(mode >> 1) % 10];
                    let mut frame = Vec::new();
                    let mut e = Encoder::start(&mut frame, cfg.version.begin_string(), mt);
                    if mode & 0x80 == 0 {
                        e.uint(tags::MSG_SEQ_NUM, d.expected_in());
                    }
                    e.str(tags::SENDER_COMP_ID, "TW")
                        .timestamp(tags::SENDING_TIME, d.clock.now_utc(), TimePrecision::Millis)
                        .str(tags::TARGET_COMP_ID, "ISLD")
                        .raw(bytes);
                    if !bytes.is_empty() && !bytes.ends_with(b"\x01") {
                        e.raw(b"\x01");
                    }
                    e.finish();
                    if matches!(d.framer.parse(&frame), Ok(Status::Complete(n)) if n == frame.len())
                    {
                        d.feed(&frame);
                    }
                } else {
                    // A read loop: what the framer cuts out is fed.
                    let mut buf = bytes;
                    while !buf.is_empty() {
                        match d.framer.parse(buf) {
                            Ok(Status::Complete(n)) => {
                                let (frame, rest) = buf.split_at(n);
                                d.feed(frame);
                                buf = rest;
                            }
                            Ok(Status::Partial(_)) => break,
                            Err(g) => buf = &buf[g.len.min(buf.len())..],
                        }
                    }
                }
            }
            7 | 8 => {
                let hi = u64::from(input.byte());
                let lo = u64::from(input.byte());
                let ms = ((hi << 8) | lo) * 60_000 / 65_535;
                d.advance(Duration::from_millis(ms));
            }
            9 => {
                let kind = input.byte();
                if d.sends < MAX_SENDS {
                    d.app_send(kind);
                }
            }
            10 => {
                let n = usize::from(input.byte()) * 2;
                for i in 0..n {
                    if d.sends >= MAX_SENDS {
                        break;
                    }
                    d.app_send((i % 4) as u8);
                }
            }
            11 => {
                let t = input.byte();
                d.logout(t);
            }
            12 => {
                let mode = input.byte();
                // Bit 7: sequence numbers set by hand, `[which][value]`, while
                // disconnected (refused when tried while connected).
                let set = (mode & 0x80 != 0).then(|| (input.byte(), input.byte()));
                let set = |d: &mut Driver| {
                    if let Some((which, v)) = set {
                        d.set_seq(which, v);
                    }
                };
                match mode % 3 {
                    0 => {
                        d.disconnect();
                        set(&mut d);
                        d.connect();
                    }
                    1 => {
                        d.disconnect();
                        set(&mut d);
                    }
                    _ => {
                        set(&mut d);
                        if d.m.state() != State::Disconnected {
                            d.disconnect();
                        }
                        d.connect();
                    }
                }
            }
            13 => {
                let closing = d.m.wants_close();
                // In lazy mode each settle takes one batch; keep going until dry.
                for _ in 0..64 {
                    d.settle(Step::default(), closing);
                }
            }
            _ => {
                // Heartbeats numbered past a gap at the expected number: queued.
                // Mostly small; from 208 on, past MAX_QUEUED.
                let b = usize::from(input.byte());
                let n = if b >= 208 { MAX_QUEUED + (b - 208) } else { b };
                let start = d.expected_in() + 1;
                for i in 0..n as u64 {
                    if d.frames_fed >= MAX_FRAMES || d.m.wants_close() {
                        break;
                    }
                    let mut f = Vec::new();
                    let mut e = Encoder::start(&mut f, cfg.version.begin_string(), b"0");
                    e.uint(tags::MSG_SEQ_NUM, start + i)
                        .str(tags::SENDER_COMP_ID, "TW")
                        .timestamp(tags::SENDING_TIME, d.clock.now_utc(), TimePrecision::Millis)
                        .str(tags::TARGET_COMP_ID, "ISLD");
                    e.finish();
                    d.feed(&f);
                }
            }
        }
    }
});
