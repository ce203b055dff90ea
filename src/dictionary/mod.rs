//! Data dictionaries: the fields, messages and repeating groups of a FIX version,
//! read from the QuickFIX XML format users already have, and validation of
//! inbound messages against them.
//!
//! Validation follows QuickFIX's order, so the same malformed message gets the same
//! Reject: fields out of order (header, body, trailer), unknown MsgType, required
//! fields, then field by field: repeated tag, empty value, data format, enumerated
//! value, unknown tag, tag not in the message, NumInGroup count. Each check can be
//! turned off ([`Validation`]).

mod set;
mod xml;

pub use set::DictionarySet;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::codec::{Field, Fields, MessageView, RejectReason, UtcTimestamp, tags};

/// Why a dictionary could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DictionaryError {
    /// The file could not be read.
    #[error("cannot read data dictionary {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The XML is malformed.
    #[error("malformed data dictionary XML at byte {offset}: {what}")]
    Xml {
        /// Where.
        offset: usize,
        /// What.
        what: &'static str,
    },
    /// The XML is well formed but not a usable dictionary.
    #[error("invalid data dictionary: {0}")]
    Invalid(String),
}

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
    /// Loads a QuickFIX-format XML dictionary from `path`.
    ///
    /// # Errors
    /// The file cannot be read or is not a valid dictionary.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, DictionaryError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| DictionaryError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_xml(&text)
    }

    /// Parses a QuickFIX-format XML dictionary.
    ///
    /// # Errors
    /// The XML is malformed, or refers to fields or components it does not define.
    pub fn from_xml(text: &str) -> Result<Self, DictionaryError> {
        let root = xml::parse(text)?;
        if root.name != "fix" {
            return Err(DictionaryError::Invalid(format!(
                "root element is <{}>, not <fix>",
                root.name
            )));
        }
        let kind = root.attr("type").unwrap_or("FIX");
        let major = root.attr("major").unwrap_or("4");
        let minor = root.attr("minor").unwrap_or("0");
        let begin_string = format!("{kind}.{major}.{minor}");

        let mut fields = FastMap::default();
        let mut names = HashMap::new();
        for f in root
            .child("fields")
            .map(|n| &n.children[..])
            .unwrap_or_default()
        {
            let (Some(number), Some(name)) = (f.attr("number"), f.attr("name")) else {
                return Err(DictionaryError::Invalid(
                    "<field> without number or name".into(),
                ));
            };
            let tag: u32 = number.parse().map_err(|_| {
                DictionaryError::Invalid(format!("field {name}: number {number:?}"))
            })?;
            let mut ty = field_type(f.attr("type").unwrap_or("STRING"));
            // FIX.4.0 and 4.1 call any string "char": only from 4.2 is it one character.
            if ty == FieldType::Char && matches!(begin_string.as_str(), "FIX.4.0" | "FIX.4.1") {
                ty = FieldType::Text;
            }
            let values: FastSet<Vec<u8>> = f
                .children
                .iter()
                .filter_map(|v| v.attr("enum"))
                .map(|e| e.as_bytes().to_vec())
                .collect();
            names.insert(name.to_owned(), tag);
            fields.insert(
                tag,
                FieldDef {
                    ty,
                    values: (!values.is_empty()).then_some(values),
                },
            );
        }
        let components: HashMap<&str, &xml::Node> = root
            .child("components")
            .map(|n| &n.children[..])
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.attr("name").map(|n| (n, c)))
            .collect();
        let resolver = Resolver {
            names: &names,
            components: &components,
        };
        let header = match root.child("header") {
            Some(h) => resolver.section(h, 0)?,
            None => Section::default(),
        };
        let trailer = match root.child("trailer") {
            Some(t) => resolver.section(t, 0)?,
            None => Section::default(),
        };
        let mut messages = FastMap::default();
        for m in root
            .child("messages")
            .map(|n| &n.children[..])
            .unwrap_or_default()
        {
            let msg_type = m
                .attr("msgtype")
                .ok_or_else(|| DictionaryError::Invalid("<message> without msgtype".into()))?;
            messages.insert(msg_type.as_bytes().to_vec(), resolver.section(m, 0)?);
        }
        Ok(Self {
            begin_string,
            fields: FieldTable::new(fields),
            header,
            trailer,
            messages,
        })
    }

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

    /// Validates `view` against this dictionary. For FIXT sessions, `self` is the
    /// transport dictionary (header, trailer, session messages) and `app` the
    /// application's; for FIX.4.x pass `None` (one dictionary holds everything).
    ///
    /// # Errors
    /// The first [`Violation`] found, in QuickFIX's order.
    pub fn validate(
        &self,
        app: Option<&Self>,
        view: &MessageView<'_>,
        checks: Validation,
    ) -> Result<(), Violation> {
        // By position, without collecting: this runs on every inbound message.
        let n = view.len();
        let field = |i: usize| view.field(i).unwrap_or(Field { tag: 0, value: &[] });
        if checks.fields_out_of_order {
            check_structure((0..n).map(field))?;
        }
        let msg_type = view.msg_type();
        let body_dict = match app {
            Some(app) if !self.has_msg_type(msg_type) => app,
            _ => self,
        };
        let Some(message) = body_dict.messages.get(msg_type) else {
            return Err(violation(RejectReason::InvalidMsgType, None));
        };
        if checks.required_fields {
            for section in [&self.header, message, &self.trailer] {
                for &tag in &section.required {
                    if !matches!(
                        tag,
                        tags::CHECK_SUM | tags::BODY_LENGTH | tags::BEGIN_STRING | tags::MSG_TYPE
                    ) && !view.contains(tag)
                    {
                        return Err(violation(
                            RejectReason::RequiredTagMissing,
                            Some(tag_bytes(tag)),
                        ));
                    }
                }
            }
        }
        let body = view.body_range();
        let cx = Walk {
            view,
            checks,
            dry: false,
        };
        self.walk(&cx, 0..body.start, &self.header, None, None)?;
        self.walk(&cx, body.end..n, &self.trailer, None, None)?;
        body_dict.walk(&cx, body, message, Some(self), None)?;
        Ok(())
    }

    /// Checks one level (message body, header, trailer, or one group instance when
    /// `delimiter` is set) from `range.start`, descending into repeating groups, and
    /// returns where the level ended: a group instance ends at the next delimiter or
    /// at the first field that is not one of the group's.
    fn walk(
        &self,
        cx: &Walk<'_, '_>,
        range: std::ops::Range<usize>,
        section: &Section,
        transport: Option<&Self>,
        delimiter: Option<u32>,
    ) -> Result<usize, Violation> {
        let mut seen = SeenTags::default();
        let mut i = range.start;
        while i < range.end {
            let Some(f) = cx.view.field(i) else { break };
            if let Some(d) = delimiter {
                let member = section.fields.contains_key(&f.tag);
                if !member || (f.tag == d && i != range.start) {
                    break;
                }
            }
            i += 1;
            if cx.dry {
                if let Some(group) = section.groups.get(&f.tag) {
                    i = self.walk_instances(cx, i..range.end, group, transport)?.0;
                }
                continue;
            }
            if !seen.insert(f.tag) {
                return Err(violation(
                    RejectReason::TagAppearsMoreThanOnce,
                    Some(tag_bytes(f.tag)),
                ));
            }
            self.check_field(f, transport, cx.checks, cx.view)?;
            if cx.checks.unknown_fields && !section.fields.contains_key(&f.tag) {
                return Err(violation(
                    RejectReason::TagNotDefinedForMessageType,
                    Some(tag_bytes(f.tag)),
                ));
            }
            let Some(group) = section.groups.get(&f.tag) else {
                continue;
            };
            let declared = std::str::from_utf8(f.value)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            // An instance must open with the group's first field.
            if let Some(first) = cx.view.field(i).filter(|g| {
                i < range.end
                    && group.section.fields.contains_key(&g.tag)
                    && g.tag != group.delimiter
            }) {
                return Err(violation(
                    RejectReason::RepeatingGroupFieldsOutOfOrder,
                    Some(tag_bytes(first.tag)),
                ));
            }
            // Count the instances before checking inside them: a wrong NumInGroup is
            // reported before any fault within the group, as QuickFIX does.
            let dry = Walk {
                view: cx.view,
                checks: cx.checks,
                dry: true,
            };
            let found = self.walk_instances(&dry, i..range.end, group, transport)?.1;
            if found != declared {
                return Err(violation(
                    RejectReason::IncorrectNumInGroupCount,
                    Some(tag_bytes(f.tag)),
                ));
            }
            i = self.walk_instances(cx, i..range.end, group, transport)?.0;
        }
        Ok(i)
    }

    /// Walks the consecutive instances of `group` starting at `range.start`; returns
    /// where they end and how many there were.
    fn walk_instances(
        &self,
        cx: &Walk<'_, '_>,
        range: std::ops::Range<usize>,
        group: &Group,
        transport: Option<&Self>,
    ) -> Result<(usize, usize), Violation> {
        let (mut i, mut found) = (range.start, 0);
        while i < range.end && cx.view.field(i).is_some_and(|g| g.tag == group.delimiter) {
            i = self.walk(
                cx,
                i..range.end,
                &group.section,
                transport,
                Some(group.delimiter),
            )?;
            found += 1;
        }
        Ok((i, found))
    }

    fn check_field(
        &self,
        f: Field<'_>,
        transport: Option<&Self>,
        checks: Validation,
        view: &MessageView<'_>,
    ) -> Result<(), Violation> {
        if f.tag == 0 {
            let raw = match view.problem() {
                Some(crate::codec::FieldError::InvalidTagNumber { found }) => {
                    found.as_bytes().to_vec()
                }
                _ => b"0".to_vec(),
            };
            return Err(violation(RejectReason::InvalidTagNumber, Some(raw)));
        }
        // BeginString, BodyLength, MsgType and CheckSum were checked by the framer;
        // some dictionaries (FIX.4.0's) give them types their values do not have.
        if matches!(
            f.tag,
            tags::BEGIN_STRING | tags::BODY_LENGTH | tags::MSG_TYPE | tags::CHECK_SUM
        ) {
            return Ok(());
        }
        if f.value.is_empty() {
            if checks.fields_have_values {
                return Err(violation(
                    RejectReason::TagSpecifiedWithoutValue,
                    Some(tag_bytes(f.tag)),
                ));
            }
            return Ok(());
        }
        let def = self
            .fields
            .get(f.tag)
            .or_else(|| transport.and_then(|t| t.fields.get(f.tag)));
        let Some(def) = def else {
            if checks.unknown_fields {
                return Err(violation(
                    RejectReason::InvalidTagNumber,
                    Some(tag_bytes(f.tag)),
                ));
            }
            return Ok(());
        };
        if checks.field_values {
            if !def.ty.accepts(f.value) {
                return Err(violation(
                    RejectReason::IncorrectDataFormat,
                    Some(tag_bytes(f.tag)),
                ));
            }
            if let Some(values) = &def.values {
                let ok = if def.ty == FieldType::MultipleValues {
                    f.value.split(|&b| b == b' ').all(|v| values.contains(v))
                } else {
                    values.contains(f.value)
                };
                if !ok {
                    return Err(violation(
                        RejectReason::ValueIsIncorrect,
                        Some(tag_bytes(f.tag)),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Header fields first, body next, trailer last.
fn check_structure<'a>(fields: impl Iterator<Item = Field<'a>>) -> Result<(), Violation> {
    // 0: header, 1: body, 2: trailer.
    let mut part = 0;
    for f in fields {
        let here = if tags::is_header(f.tag) {
            0
        } else if tags::is_trailer(f.tag) {
            2
        } else {
            1
        };
        if here < part {
            return Err(violation(
                RejectReason::TagSpecifiedOutOfRequiredOrder,
                Some(tag_bytes(f.tag)),
            ));
        }
        part = here;
    }
    Ok(())
}

/// Maps keyed by tags (and MsgTypes, and enumerated values) hashed with a
/// multiply-rotate hash instead of SipHash: validation looks up every field of
/// every message, and these tables are built from the dictionary file, never from
/// peer input, so flooding them is not a concern.
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<TagHasher>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<TagHasher>>;

#[derive(Debug, Default, Clone, Copy)]
struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

impl TagHasher {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// Field definitions by tag: a direct index for the tags of every published FIX
/// version (below 65536), a map for anything above.
#[derive(Debug, Clone, Default)]
struct FieldTable {
    index: Vec<u32>,
    defs: Vec<FieldDef>,
    high: FastMap<u32, FieldDef>,
}

impl FieldTable {
    const DIRECT: u32 = 1 << 16;

    fn new(all: FastMap<u32, FieldDef>) -> Self {
        let top = all
            .keys()
            .copied()
            .filter(|&t| t < Self::DIRECT)
            .max()
            .map_or(0, |t| t as usize + 1);
        let mut table = Self {
            index: vec![u32::MAX; top],
            defs: Vec::with_capacity(all.len()),
            high: FastMap::default(),
        };
        for (tag, def) in all {
            if tag < Self::DIRECT {
                table.index[tag as usize] = table.defs.len() as u32;
                table.defs.push(def);
            } else {
                table.high.insert(tag, def);
            }
        }
        table
    }

    fn get(&self, tag: u32) -> Option<&FieldDef> {
        match self.index.get(tag as usize) {
            Some(&i) if i != u32::MAX => self.defs.get(i as usize),
            Some(_) => None,
            None => self.high.get(&tag),
        }
    }
}

/// What every level of a walk shares.
struct Walk<'v, 'a> {
    view: &'v MessageView<'a>,
    checks: Validation,
    /// Only find where levels end (to count a group's instances first, as
    /// QuickFIX does); report nothing.
    dry: bool,
}

/// The tags met at one level, for the repeated-tag check, without allocating for
/// ordinary messages: a bitset below 4096, a short list above (tags that high
/// are rare), growing onto the heap only past that.
struct SeenTags {
    low: [u64; 64],
    high: [u32; 16],
    high_len: usize,
    spill: Vec<u32>,
}

impl Default for SeenTags {
    fn default() -> Self {
        Self {
            low: [0; 64],
            high: [0; 16],
            high_len: 0,
            spill: Vec::new(),
        }
    }
}

impl SeenTags {
    /// Records `tag`; false if it was already there.
    fn insert(&mut self, tag: u32) -> bool {
        if let Some(word) = self.low.get_mut((tag / 64) as usize) {
            let bit = 1u64 << (tag % 64);
            let fresh = *word & bit == 0;
            *word |= bit;
            return fresh;
        }
        if self.high[..self.high_len].contains(&tag) || self.spill.contains(&tag) {
            return false;
        }
        if self.high_len < self.high.len() {
            self.high[self.high_len] = tag;
            self.high_len += 1;
        } else {
            self.spill.push(tag);
        }
        true
    }
}

struct Resolver<'a> {
    names: &'a HashMap<String, u32>,
    components: &'a HashMap<&'a str, &'a xml::Node>,
}

impl Resolver<'_> {
    /// The section an element (message, header, group, component) describes, with
    /// components inlined. `depth` guards against components that include themselves.
    fn section(&self, node: &xml::Node, depth: usize) -> Result<Section, DictionaryError> {
        let mut section = Section::default();
        self.add(&mut section, node, true, depth)?;
        Ok(section)
    }

    fn add(
        &self,
        section: &mut Section,
        node: &xml::Node,
        required_ctx: bool,
        depth: usize,
    ) -> Result<(), DictionaryError> {
        if depth > 32 {
            return Err(DictionaryError::Invalid(
                "components nested more than 32 deep".into(),
            ));
        }
        for child in &node.children {
            let name = child.attr("name").unwrap_or_default();
            let required = required_ctx && child.attr("required") == Some("Y");
            match child.name.as_str() {
                "field" => {
                    let tag = self.tag(name)?;
                    section.fields.insert(tag, required);
                    if required {
                        section.required.push(tag);
                    }
                }
                "group" => {
                    let tag = self.tag(name)?;
                    section.fields.insert(tag, required);
                    if required {
                        section.required.push(tag);
                    }
                    let inner = self.section(child, depth + 1)?;
                    let delimiter = self.first_tag(child, depth + 1)?;
                    section.groups.insert(
                        tag,
                        Group {
                            delimiter,
                            section: inner,
                        },
                    );
                }
                "component" => {
                    let comp = self.components.get(name).ok_or_else(|| {
                        DictionaryError::Invalid(format!("unknown component {name:?}"))
                    })?;
                    self.add(section, comp, required, depth + 1)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The first field of a group or component: a group instance's delimiter.
    fn first_tag(&self, node: &xml::Node, depth: usize) -> Result<u32, DictionaryError> {
        if depth > 32 {
            return Err(DictionaryError::Invalid(
                "components nested more than 32 deep".into(),
            ));
        }
        let first = node
            .children
            .iter()
            .find(|c| matches!(c.name.as_str(), "field" | "group" | "component"))
            .ok_or_else(|| {
                DictionaryError::Invalid(format!(
                    "empty group or component {:?}",
                    node.attr("name")
                ))
            })?;
        let name = first.attr("name").unwrap_or_default();
        if first.name == "component" {
            let comp = self
                .components
                .get(name)
                .ok_or_else(|| DictionaryError::Invalid(format!("unknown component {name:?}")))?;
            return self.first_tag(comp, depth + 1);
        }
        self.tag(name)
    }

    fn tag(&self, name: &str) -> Result<u32, DictionaryError> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| DictionaryError::Invalid(format!("unknown field {name:?}")))
    }
}

fn field_type(name: &str) -> FieldType {
    match name {
        "INT" | "LENGTH" | "NUMINGROUP" | "SEQNUM" | "TAGNUM" | "DAYOFMONTH" => FieldType::Int,
        "FLOAT" | "PRICE" | "QTY" | "AMT" | "PERCENTAGE" | "PRICEOFFSET" => FieldType::Float,
        "CHAR" => FieldType::Char,
        "BOOLEAN" => FieldType::Boolean,
        "UTCTIMESTAMP" | "TIME" => FieldType::Timestamp,
        "UTCTIMEONLY" => FieldType::TimeOnly,
        "UTCDATEONLY" | "UTCDATE" | "LOCALMKTDATE" | "DATE" => FieldType::Date,
        "MULTIPLEVALUESTRING" | "MULTIPLESTRINGVALUE" | "MULTIPLECHARVALUE" => {
            FieldType::MultipleValues
        }
        _ => FieldType::Text,
    }
}

impl FieldType {
    fn accepts(self, v: &[u8]) -> bool {
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        match self {
            Self::Int => digits(v.strip_prefix(b"-").unwrap_or(v)),
            Self::Float => {
                let s = v.strip_prefix(b"-").unwrap_or(v);
                let mut parts = s.splitn(2, |&b| b == b'.');
                let int = parts.next().unwrap_or_default();
                let frac = parts.next().unwrap_or_default();
                (!int.is_empty() || !frac.is_empty())
                    && int.iter().all(u8::is_ascii_digit)
                    && frac.iter().all(u8::is_ascii_digit)
            }
            Self::Char => v.len() == 1,
            Self::Boolean => v == b"Y" || v == b"N",
            Self::Timestamp => UtcTimestamp::parse(v).is_some(),
            Self::TimeOnly => {
                let mut with_date = b"20000101-".to_vec();
                with_date.extend_from_slice(v);
                UtcTimestamp::parse(&with_date).is_some()
            }
            Self::Date => {
                let mut with_time = v.to_vec();
                with_time.extend_from_slice(b"-00:00:00");
                v.len() == 8 && UtcTimestamp::parse(&with_time).is_some()
            }
            Self::MultipleValues | Self::Text => true,
        }
    }
}

fn tag_bytes(tag: u32) -> Vec<u8> {
    tag.to_string().into_bytes()
}

fn violation(reason: RejectReason, tag: Option<Vec<u8>>) -> Violation {
    Violation { reason, tag }
}

#[cfg(test)]
mod tests;
