//! FIX tag=value: framing a byte stream, zero-copy decoding, encoding, timestamps, tag names.
//!
//! Three steps, each its own type, so each can be tested, fuzzed and measured alone:
//!
//! 1. **Framing** — [`Framer::parse`] finds where one frame ends in a stream of bytes,
//!    validating BeginString(8), BodyLength(9), MsgType(35) and CheckSum(10). It
//!    tells "need more bytes" ([`Status::Partial`]) from "these bytes are garbage"
//!    ([`Garbled`], with how many to drop so the stream resynchronises).
//! 2. **Decoding** — [`Decoder::decode`] splits a complete frame into fields without
//!    copying; the [`MessageView`] it returns borrows the frame. Typed access comes
//!    from the [`Fields`] trait.
//! 3. **Encoding** — [`Encoder`] writes a frame into a caller-owned buffer and
//!    back-fills BodyLength and CheckSum; [`Message::encode`] does it for an owned
//!    [`Message`] with the session's standard header.
//!
//! This module uses std only: no sockets, threads or clocks.

/// The field delimiter, SOH (0x01).
pub const SOH: u8 = 0x01;

/// A test frame from its log form, `|` for SOH, so tests read like FIX logs;
/// shared by the tests of `decode.rs`, `view.rs` and `fields.rs`.
#[cfg(test)]
fn soh(s: &str) -> Vec<u8> {
    s.replace('|', "\x01").into_bytes()
}

mod checksum;
mod decode;
mod encode;
mod error;
mod fields;
mod frame;
mod message;
mod reject;
pub mod tags;
mod time;
mod view;

pub use checksum::{checksum, checksum_digits, parse_checksum};
pub(crate) use decode::find_soh;
pub use decode::{DEFAULT_MAX_FIELDS, Decoder};
pub use encode::Encoder;
pub(crate) use encode::format_u64;
pub use error::{DecodeError, FieldError, FrameError, Snippet};
pub use fields::{Field, FieldIter, Fields, Group, GroupEntry, GroupIter};
pub use frame::{DEFAULT_MAX_MESSAGE_SIZE, Framer, Garbled, Status};
pub use message::{FieldValue, Message, Timestamp};
pub use reject::RejectReason;
pub use tags::msg_type;
pub use time::{MAX_TIMESTAMP_LEN, TimePrecision, UtcTimestamp};
pub use view::MessageView;
