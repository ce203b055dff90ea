//! # fixengine
//!
//! A FIX session **acceptor** engine for low-latency programs that are not async.
//!
//! ```text
//!              accept + first frame                 handoff(stream, bytes)
//!  clients ──▶ [reactor thread: mio Poll] ───────────────────────────────┐
//!                                                                        ▼
//!                                                  [worker thread, one per session]
//!  app thread ── Session::put(msg) ── crossbeam ─▶  SessionMachine (sans-IO)
//!  app callbacks ◀── Application::on_message ────   Store (memory-mapped)
//! ```
//!
//! The layers, each a module:
//!
//! | module | owns |
//! |---|---|
//! | [`codec`] | FIX tag=value: framing, zero-copy decoding, encoding, UTC timestamps, tag constants |
//! | [`session`] | the session-layer state machine, sans-IO |
//! | [`dictionary`] | data dictionaries (QuickFIX XML) and message validation |
//! | [`store`] | per-session persistence: the store trait, the memory-mapped file store, the in-memory store |
//! | [`engine`] | the reactor and worker threads, the public handles [`FixEngine`] and [`Session`] |
//! | [`config`] | `engine.properties` and per-session parameters, with defaults |
//! | [`error`] | one error enum per layer, aggregated in [`Error`] |
//!
//! A program that runs the engine never needs a path deeper than `fixengine::`;
//! the layers' own parts (the sans-IO [`session::SessionMachine`], the stores,
//! [`clock::ManualClock`] for tests) are in their modules.
//!
//! ## A complete acceptor
//!
//! It accepts the session in which we are TEST1 and the counterparty TEST2, fills
//! every order with an ExecutionReport carrying the fields a validating
//! counterparty requires, and stops on Ctrl-C, SIGTERM or `q`, logging every
//! session out. `examples/acceptor` is this program with a command line;
//! `cargo run --release --example acceptor` runs it.
//!
#![doc = concat!("```no_run\n", include_str!("../examples/quickstart.rs"), "```")]
//!
//!
//! The examples: `examples/acceptor` (the program above with a command line, and
//! the QuickFIX acceptance suite's profile), `examples/initiator.rs` (a small
//! counterparty to try it with), `examples/loadgen.rs` and
//! `examples/ideal_acceptor.rs` (the benchmarks' client and yardstick). The
//! `fixcat` binary (`src/bin/fixcat.rs`) reads message logs, stores and captures.
//!
//! ## The codec in ten lines
//!
//! ```
//! use fixengine::{Decoder, Fields, FixVersion, Framer, Message, Status, tags};
//!
//! // An application builds an owned message...
//! let order = Message::new("D").with(tags::CL_ORD_ID, "ORD-1").with(tags::SIDE, '1');
//! // ...the session layer encodes it with the standard header...
//! let mut wire = Vec::new();
//! order.encode(FixVersion::Fix44, &[(tags::MSG_SEQ_NUM, b"1"), (tags::SENDER_COMP_ID, b"ME")], &mut wire);
//! // ...and the peer frames and decodes it without copying.
//! let Ok(Status::Complete(len)) = Framer::default().parse(&wire) else { panic!() };
//! let mut decoder = Decoder::new();
//! let view = decoder.decode(&wire[..len]).unwrap();
//! assert_eq!(view.msg_type(), b"D");
//! assert_eq!(view.get_str(tags::CL_ORD_ID).unwrap(), "ORD-1");
//! ```

#![deny(unsafe_code)]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod clock;
pub mod codec;
pub mod config;
pub mod dictionary;
pub mod engine;
pub mod error;
mod id;
pub mod message_log;
mod mmap;
pub mod session;
pub mod store;

pub use clock::{Clock, SystemClock};
pub use codec::{
    DecodeError, Decoder, Encoder, Field, FieldError, FieldValue, Fields, FrameError, Framer,
    Garbled, Message, MessageView, RejectReason, Status, TimePrecision, Timestamp, UtcTimestamp,
    msg_type, tags,
};
pub use config::{
    BeginString, ConfigError, ConfigWarning, DEFAULT_PROPERTIES, EngineConfig, IdleStrategy, IpNet,
    LogonRefusalReply, MessageLogMode, PutWhileDisconnected, SessionConfig, StorageType,
};
pub use dictionary::{Dictionary, DictionaryError, DictionarySet, Validation};
pub use engine::{
    Application, Decision, EngineError, FixEngine, Incoming, PUT_QUEUE_CAPACITY, PutError,
    RejectingApplication, Session, SessionParams, SessionState, SessionsManager, StopReason,
};
pub use error::Error;
pub use id::{CompId, FixVersion, IdError, MAX_COMP_ID_LEN, SeqNum, SessionId};
pub use session::{Reply, ResetError, SendError, SessionEvent};
pub use store::{StoreError, SyncPolicy};
