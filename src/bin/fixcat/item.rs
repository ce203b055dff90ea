//! What every input comes down to: an [`Item`] (a message or a note, with its
//! time and direction when known) and the fields of its message.

use fixengine::message_log::RecordKind;
use fixengine::{Decoder, Fields, UtcTimestamp};

/// Where a record came from, as far as the input says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A message log's record, of that kind; a store's messages are `Out`.
    Logged(RecordKind),
    /// A raw capture's frame: direction unknown.
    Unknown,
}

impl Kind {
    /// The word printed for it: the log's, or `?`.
    pub(crate) const fn word(self) -> &'static str {
        match self {
            Self::Logged(kind) => kind.as_str(),
            Self::Unknown => "?",
        }
    }

    /// The direction for `--json`'s `dir`: `None` when unknown or not a message.
    pub(crate) const fn direction(self) -> Option<&'static str> {
        match self {
            Self::Logged(kind) if kind.is_inbound() => Some("in"),
            Self::Logged(kind) if kind.is_outbound() => Some("out"),
            Self::Logged(_) | Self::Unknown => None,
        }
    }
}

impl From<RecordKind> for Kind {
    fn from(kind: RecordKind) -> Self {
        Self::Logged(kind)
    }
}

/// One record to filter and print.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item<'a> {
    /// When it was received or sent: the log's time, a store message's
    /// SendingTime(52); `None` for a raw capture.
    pub(crate) time: Option<UtcTimestamp>,
    /// What it is.
    pub(crate) kind: Kind,
    /// The message's bytes (SOH kept), or a note's text.
    pub(crate) bytes: &'a [u8],
    /// Why a garbled record was dropped; empty otherwise.
    pub(crate) note: &'a [u8],
}

/// A message's fields in wire order: `(tag, value)`, tag 0 for one that is
/// not a number.
#[derive(Debug, Default)]
pub(crate) struct MessageFields<'a> {
    list: Vec<(u32, &'a [u8])>,
}

impl<'a> MessageFields<'a> {
    /// The fields of `item`'s message (none for a note). Read with the crate's
    /// decoder, which knows data fields (a RawData(96) may hold SOH); bytes it
    /// cannot split (a garbled record) are cut at each SOH instead.
    pub(crate) fn of(item: &Item<'a>, decoder: &'a mut Decoder) -> Self {
        if item.kind == Kind::Logged(RecordKind::Note) {
            return Self::default();
        }
        if let Ok(view) = decoder.decode(item.bytes) {
            return Self {
                list: view.iter().map(|f| (f.tag, f.value)).collect(),
            };
        }
        let list = item
            .bytes
            .split(|&b| b == 1)
            .filter(|f| !f.is_empty())
            .map(|f| match f.iter().position(|&b| b == b'=') {
                Some(eq) => {
                    let tag = std::str::from_utf8(&f[..eq])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    (tag, &f[eq + 1..])
                }
                None => (0, f),
            })
            .collect();
        Self { list }
    }

    /// The fields in wire order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &'a [u8])> + '_ {
        self.list.iter().copied()
    }

    /// The first value of `tag`.
    pub(crate) fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.all(tag).next()
    }

    /// Every value of `tag`.
    pub(crate) fn all(&self, tag: u32) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list
            .iter()
            .filter(move |(t, _)| *t == tag)
            .map(|(_, v)| *v)
    }

    /// MsgSeqNum(34), when it is a number.
    pub(crate) fn seq(&self) -> Option<u64> {
        std::str::from_utf8(self.get(34)?).ok()?.parse().ok()
    }

    /// SendingTime(52), when it is a timestamp.
    pub(crate) fn sending_time(&self) -> Option<UtcTimestamp> {
        UtcTimestamp::parse(self.get(52)?)
    }
}
