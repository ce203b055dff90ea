//! The names a dictionary gives: field names by tag, message names by MsgType,
//! and the descriptions of enumerated values. Validation never reads them; they
//! are for people (`fixcat --pretty`, logs), so they are kept apart from the
//! tables validation walks on every message.

use super::load::FastMap;

/// Names read from a dictionary file.
#[derive(Debug, Clone, Default)]
pub(super) struct Names {
    /// Field name by tag (`Side` for 54).
    pub(super) fields: FastMap<u32, Box<str>>,
    /// Message name by MsgType(35) (`NewOrderSingle` for `D`).
    pub(super) messages: FastMap<Vec<u8>, Box<str>>,
    /// The descriptions of a field's enumerated values (`BUY` for 54=1), in the
    /// dictionary's order: a short list per field, searched linearly.
    pub(super) values: FastMap<u32, Described>,
}

/// A field's enumerated values with their descriptions.
pub(super) type Described = Vec<(Box<[u8]>, Box<str>)>;

impl Names {
    pub(super) fn value(&self, tag: u32, value: &[u8]) -> Option<&str> {
        self.values
            .get(&tag)?
            .iter()
            .find(|(v, _)| &v[..] == value)
            .map(|(_, name)| &name[..])
    }
}
