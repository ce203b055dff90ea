//! Loading a dictionary: [`Dictionary::from_file`] and [`Dictionary::from_xml`]
//! turn QuickFIX XML into the tables validation reads. Components are inlined
//! by the `Resolver`, field definitions go into a `FieldTable` indexed by tag,
//! and every map hashes with `TagHasher`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::names::Described;
use super::{Dictionary, DictionaryError, FieldDef, FieldType, Group, Names, Section, xml};

impl Dictionary {
    /// Loads a QuickFIX-format XML dictionary from `path`.
    ///
    /// # Errors
    /// [`DictionaryError::Io`] when the file cannot be read,
    /// [`DictionaryError::File`] (naming it) when it is not a valid dictionary.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, DictionaryError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| DictionaryError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_xml(&text).map_err(|e| DictionaryError::File {
            path: path.to_owned(),
            source: Box::new(e),
        })
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
        let mut labels = Names::default();
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
            let described: Described = f
                .children
                .iter()
                .filter_map(|v| Some((v.attr("enum")?, v.attr("description")?)))
                .map(|(e, d)| (e.as_bytes().into(), d.into()))
                .collect();
            if !described.is_empty() {
                labels.values.insert(tag, described);
            }
            labels.fields.insert(tag, name.into());
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
            if let Some(name) = m.attr("name") {
                labels
                    .messages
                    .insert(msg_type.as_bytes().to_vec(), name.into());
            }
            messages.insert(msg_type.as_bytes().to_vec(), resolver.section(m, 0)?);
        }
        Ok(Self {
            begin_string,
            fields: FieldTable::new(fields),
            header,
            trailer,
            messages,
            names: labels,
        })
    }
}

/// Maps keyed by tags (and MsgTypes, and enumerated values) hashed with a
/// multiply-rotate hash instead of SipHash: validation looks up every field of
/// every message, and these tables are built from the dictionary file, never from
/// peer input, so flooding them is not a concern.
pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<TagHasher>>;
pub(super) type FastSet<K> = HashSet<K, BuildHasherDefault<TagHasher>>;

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TagHasher(u64);

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
pub(super) struct FieldTable {
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

    pub(super) fn get(&self, tag: u32) -> Option<&FieldDef> {
        match self.index.get(tag as usize) {
            Some(&i) if i != u32::MAX => self.defs.get(i as usize),
            Some(_) => None,
            None => self.high.get(&tag),
        }
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
