//! Validating a message against a dictionary: [`Dictionary::validate`] and the
//! walk it makes over the fields, level by level and into repeating groups, in
//! QuickFIX's order (see the module docs). This runs on every inbound message
//! when a dictionary is configured, so the walk works by position and does not
//! allocate for ordinary messages (`SeenTags`).

use crate::codec::{Field, Fields, MessageView, RejectReason, UtcTimestamp, tags};

use super::{Dictionary, FieldType, Group, Section, Validation, Violation};

impl Dictionary {
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
