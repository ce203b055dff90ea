//! Printing the records that pass the filters: one line per record (the
//! default), `--pretty` (one field per line, with names) or `--json` (one
//! object per line).

use std::io::{self, Write};

use fixengine::{Decoder, TimePrecision, UtcTimestamp};

use crate::Fail;
use crate::filter::Filter;
use crate::item::{Item, Kind, MessageFields};
use crate::names::Names;
use fixengine::message_log::RecordKind;

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Format {
    /// `<time> <kind> <message with | for SOH>`.
    #[default]
    Line,
    /// A line for the record, then one line per field with its name.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Filters records and writes those that pass to `out`.
#[derive(Debug)]
pub(crate) struct Printer<W: Write> {
    out: W,
    filter: Filter,
    format: Format,
    names: Names,
    decoder: Decoder,
    line: Vec<u8>,
}

impl<W: Write> Printer<W> {
    /// A printer writing to `out`.
    pub(crate) fn new(out: W, filter: Filter, format: Format, names: Names) -> Self {
        Self {
            out,
            filter,
            format,
            names,
            decoder: Decoder::new(),
            line: Vec::with_capacity(1024),
        }
    }

    /// Prints `item` if it passes the filters.
    ///
    /// # Errors
    /// [`Fail::OutputClosed`] when stdout's reader has gone (`fixcat | head`),
    /// [`Fail::Output`] when writing fails otherwise.
    pub(crate) fn emit(&mut self, item: Item<'_>) -> Result<(), Fail> {
        let mut decoder = std::mem::take(&mut self.decoder);
        let fields = MessageFields::of(&item, &mut decoder);
        let result = if self.filter.accepts(&item, &fields) {
            self.line.clear();
            match self.format {
                Format::Line => line(&mut self.line, &item),
                Format::Pretty => pretty(&mut self.line, &item, &fields, &self.names),
                Format::Json => json(&mut self.line, &item, &fields),
            }
            self.out.write_all(&self.line).map_err(Fail::from_output)
        } else {
            Ok(())
        };
        drop(fields);
        self.decoder = decoder;
        result
    }

    /// Writes out what is buffered: after each batch when following, so a
    /// reader of the pipe sees records as they come.
    ///
    /// # Errors
    /// As [`Printer::emit`].
    pub(crate) fn flush(&mut self) -> Result<(), Fail> {
        self.out.flush().map_err(Fail::from_output)
    }
}

/// `<time> <kind> <bytes>[ [<note>]]`.
fn line(out: &mut Vec<u8>, item: &Item<'_>) {
    time(out, item.time);
    out.push(b' ');
    out.extend_from_slice(item.kind.word().as_bytes());
    out.push(b' ');
    text(out, item.bytes);
    if !item.note.is_empty() {
        out.extend_from_slice(b" [");
        text(out, item.note);
        out.push(b']');
    }
    out.push(b'\n');
}

/// A heading line, then `  <tag> <name> <value> (<value's name>)` per field and
/// a blank line.
fn pretty(out: &mut Vec<u8>, item: &Item<'_>, fields: &MessageFields<'_>, names: &Names) {
    time(out, item.time);
    out.push(b' ');
    out.extend_from_slice(item.kind.word().as_bytes());
    if item.kind == Kind::Logged(RecordKind::Note) {
        out.push(b' ');
        text(out, item.bytes);
        out.extend_from_slice(b"\n\n");
        return;
    }
    if let Some(t) = fields.get(35) {
        out.push(b' ');
        text(out, t);
        if let Some(name) = names.value(35, t) {
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
        }
    }
    if let Some(seq) = fields.seq() {
        out.extend_from_slice(format!(" seq {seq}").as_bytes());
    }
    if !item.note.is_empty() {
        out.extend_from_slice(b" [");
        text(out, item.note);
        out.push(b']');
    }
    out.push(b'\n');
    for (tag, value) in fields.iter() {
        let name = names.field(tag).unwrap_or("");
        out.extend_from_slice(format!("  {tag:>5} {name:<22} ").as_bytes());
        text(out, value);
        if let Some(meaning) = names.value(tag, value) {
            out.extend_from_slice(b" (");
            out.extend_from_slice(meaning.as_bytes());
            out.push(b')');
        }
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// `{"time":…,"kind":…,"dir":…,"type":…,"seq":…,"fields":[[tag,"value"],…]}`,
/// with `"note"` for a garbled record and `"text"` instead of the message
/// fields for a note.
fn json(out: &mut Vec<u8>, item: &Item<'_>, fields: &MessageFields<'_>) {
    out.extend_from_slice(b"{\"time\":");
    match item.time {
        Some(t) => {
            out.push(b'"');
            time(out, Some(t));
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"kind\":");
    json_string(out, item.kind.word().as_bytes());
    out.extend_from_slice(b",\"dir\":");
    match item.kind.direction() {
        Some(dir) => json_string(out, dir.as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    if item.kind == Kind::Logged(RecordKind::Note) {
        out.extend_from_slice(b",\"text\":");
        json_string(out, item.bytes);
        out.extend_from_slice(b"}\n");
        return;
    }
    out.extend_from_slice(b",\"type\":");
    match fields.get(35) {
        Some(t) => json_string(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"seq\":");
    match fields.seq() {
        Some(seq) => out.extend_from_slice(seq.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    if item.kind == Kind::Logged(RecordKind::Garbled) {
        out.extend_from_slice(b",\"note\":");
        json_string(out, item.note);
    }
    out.extend_from_slice(b",\"fields\":[");
    for (i, (tag, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("[{tag},").as_bytes());
        json_string(out, value);
        out.push(b']');
    }
    out.extend_from_slice(b"]}\n");
}

/// A time as the log writes it (microseconds), or `?` when unknown.
fn time(out: &mut Vec<u8>, time: Option<UtcTimestamp>) {
    match time {
        Some(t) => t.write_to(TimePrecision::Micros, out),
        None => out.push(b'?'),
    }
}

/// Message bytes on one line: SOH as `|`, other control bytes (a newline in a
/// data field) as `\xNN`; everything else as it is.
fn text(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            1 => out.push(b'|'),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            _ => out.push(b),
        }
    }
}

/// A JSON string. A value that is valid UTF-8 is kept as text (control
/// characters escaped); one that is not has each byte of 0x80 and above
/// written as `\u00XX`, that is, read as Latin-1, so no byte is lost and the
/// line stays valid JSON.
pub(crate) fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let utf8 = std::str::from_utf8(bytes).is_ok();
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            0x80.. if !utf8 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

impl Fail {
    /// A write error on stdout: a closed pipe is an ordinary way to stop.
    fn from_output(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Self::OutputClosed
        } else {
            Self::Output(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        json_string(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_strings_escape_quotes_controls_and_bytes_that_are_not_utf8() {
        assert_eq!(json_of(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_of(b"x\x01\n"), r#""x\u0001\u000a""#);
        assert_eq!(json_of("é".as_bytes()), "\"é\"");
        assert_eq!(json_of(b"caf\xe9"), r#""caf\u00e9""#);
    }

    #[test]
    fn a_line_shows_soh_as_a_bar_and_escapes_other_controls() {
        let mut out = Vec::new();
        text(&mut out, b"58=a\nb\x01");
        assert_eq!(out, b"58=a\\x0ab|");
    }
}
