//! Data dictionaries: the fields, messages and repeating groups of a FIX version,
//! read from the QuickFIX XML format users already have, and validation of
//! inbound messages against them.
//!
//! Validation follows QuickFIX's order, so the same malformed message gets the same
//! Reject: fields out of order (header, body, trailer), unknown MsgType, required
//! fields, then field by field: repeated tag, empty value, data format, enumerated
//! value, unknown tag, tag not in the message, NumInGroup count. Each check can be
//! turned off ([`Validation`]).

mod error;
mod folder;
mod load;
mod names;
mod set;
mod validate;
mod xml;

pub use error::DictionaryError;
pub(crate) use folder::Folder;
pub use set::DictionarySet;

use crate::codec::RejectReason;
use load::{FastMap, FastSet, FieldTable};
use names::Names;

/// Which validation checks run. All on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation {
    /// Header fields first, trailer last (SessionRejectReason 14).
    pub fields_out_of_order: bool,
    /// Empty values are rejected (SessionRejectReason 4).
    pub fields_have_values: bool,
    /// Values have their field's type (6) and, for enumerated fields, a listed value (5).
    pub field_values: bool,
    /// Tags unknown to the dictionary (0) and tags not defined for the message (2).
    pub unknown_fields: bool,
    /// Required fields are present (1).
    pub required_fields: bool,
}

impl Default for Validation {
    fn default() -> Self {
        Self {
            fields_out_of_order: true,
            fields_have_values: true,
            field_values: true,
            unknown_fields: true,
            required_fields: true,
        }
    }
}

/// What is wrong with a message: the SessionRejectReason and the tag (as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// SessionRejectReason(373).
    pub reason: RejectReason,
    /// RefTagID(371), as it appeared on the wire; `None` when no tag is at fault.
    pub tag: Option<Vec<u8>>,
}

/// One FIX version's data dictionary.
#[derive(Debug, Clone)]
pub struct Dictionary {
    begin_string: String,
    fields: FieldTable,
    header: Section,
    trailer: Section,
    messages: FastMap<Vec<u8>, Section>,
    names: Names,
}

#[derive(Debug, Clone)]
struct FieldDef {
    ty: FieldType,
    values: Option<FastSet<Vec<u8>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Int,
    Float,
    Char,
    Boolean,
    Timestamp,
    TimeOnly,
    Date,
    MultipleValues,
    Text,
}

/// The fields of a message, header, trailer or group instance.
#[derive(Debug, Clone, Default)]
struct Section {
    /// Every tag allowed at this level, with whether it is required.
    fields: FastMap<u32, bool>,
    /// The required tags, in the dictionary's order (which decides which missing
    /// field is reported first); kept apart so the check does not walk every
    /// optional field of a large message.
    required: Vec<u32>,
    /// Repeating groups at this level, by NumInGroup tag.
    groups: FastMap<u32, Group>,
}

#[derive(Debug, Clone)]
struct Group {
    delimiter: u32,
    section: Section,
}

impl Dictionary {
    /// The BeginString(8) this dictionary describes (`FIX.4.4`, `FIXT.1.1`, `FIX.5.0`...).
    pub fn begin_string(&self) -> &str {
        &self.begin_string
    }

    /// True when `value` is allowed for `tag`: the field lists it among its values,
    /// or lists none. Used to leave out SessionRejectReason(373) codes a version does
    /// not define (FIX.4.2 stops at 11).
    pub fn allows_value(&self, tag: u32, value: &[u8]) -> bool {
        self.fields
            .get(tag)
            .and_then(|f| f.values.as_ref())
            .is_none_or(|values| values.contains(value))
    }

    /// True when the dictionary defines field `tag`.
    pub fn has_field(&self, tag: u32) -> bool {
        self.fields.get(tag).is_some()
    }

    /// True when the dictionary defines MsgType `msg_type`.
    pub fn has_msg_type(&self, msg_type: &[u8]) -> bool {
        self.messages.contains_key(msg_type)
    }

    /// The name the dictionary gives field `tag` (`Side` for 54).
    pub fn field_name(&self, tag: u32) -> Option<&str> {
        self.names.fields.get(&tag).map(|name| &name[..])
    }

    /// The name of the message with MsgType(35) `msg_type` (`NewOrderSingle`
    /// for `D`).
    pub fn message_name(&self, msg_type: &[u8]) -> Option<&str> {
        self.names.messages.get(msg_type).map(|name| &name[..])
    }

    /// The description the dictionary gives `value` of the enumerated field
    /// `tag` (`BUY` for 54=1); `None` when the field lists no such value.
    pub fn value_name(&self, tag: u32, value: &[u8]) -> Option<&str> {
        self.names.value(tag, value)
    }
}

#[cfg(test)]
mod tests;
