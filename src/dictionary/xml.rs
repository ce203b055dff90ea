//! A minimal XML reader for QuickFIX data dictionaries: elements and attributes,
//! nothing else (no namespaces, no DTDs, no text content, which the format does
//! not use). std only; the dictionaries are trusted local files, but malformed
//! ones still get an error naming the byte offset.

use crate::dictionary::DictionaryError;

/// One element with its attributes and child elements.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Self>,
}

impl Node {
    /// The value of attribute `name`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child element called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Self> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Parses `text` into its root element.
pub(crate) fn parse(text: &str) -> Result<Node, DictionaryError> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut pos = 0;
    while let Some(lt) = find(bytes, b"<", pos) {
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            pos = find(bytes, b"-->", lt).ok_or_else(|| bad(lt, "unterminated comment"))? + 3;
            continue;
        }
        if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            pos = find(bytes, b">", lt).ok_or_else(|| bad(lt, "unterminated declaration"))? + 1;
            continue;
        }
        let gt = find_tag_end(bytes, lt).ok_or_else(|| bad(lt, "unterminated tag"))?;
        let inner = &text[lt + 1..gt];
        pos = gt + 1;
        if let Some(name) = inner.strip_prefix('/') {
            let done = stack.pop().ok_or_else(|| bad(lt, "unbalanced end tag"))?;
            if done.name != name.trim() {
                return Err(bad(lt, "end tag does not match its start tag"));
            }
            stack
                .last_mut()
                .ok_or_else(|| bad(lt, "unbalanced end tag"))?
                .children
                .push(done);
            continue;
        }
        let (inner, self_closing) = match inner.strip_suffix('/') {
            Some(i) => (i, true),
            None => (inner, false),
        };
        let node = element(inner, lt)?;
        if self_closing {
            stack
                .last_mut()
                .ok_or_else(|| bad(lt, "element outside the document"))?
                .children
                .push(node);
        } else {
            stack.push(node);
        }
    }
    let mut document = stack.pop().ok_or_else(|| bad(0, "empty document"))?;
    if !stack.is_empty() {
        return Err(bad(text.len(), "unclosed element"));
    }
    document
        .children
        .pop()
        .ok_or_else(|| bad(0, "no root element"))
}

fn element(inner: &str, at: usize) -> Result<Node, DictionaryError> {
    let inner = inner.trim();
    let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
    let mut node = Node {
        name: inner[..name_end].to_owned(),
        ..Node::default()
    };
    let mut rest = inner[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| bad(at, "attribute without '='"))?;
        let key = rest[..eq].trim().to_owned();
        let after = rest[eq + 1..].trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
            .ok_or_else(|| bad(at, "attribute value not quoted"))?;
        let close = after[1..]
            .find(quote)
            .ok_or_else(|| bad(at, "unterminated attribute value"))?;
        node.attrs.push((key, unescape(&after[1..=close])));
        rest = after[close + 2..].trim_start();
    }
    Ok(node)
}

fn unescape(v: &str) -> String {
    if !v.contains('&') {
        return v.to_owned();
    }
    v.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The `>` closing the tag opened at `lt`, skipping quoted attribute values.
fn find_tag_end(bytes: &[u8], lt: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(lt + 1) {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), c) if c == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn bad(offset: usize, what: &'static str) -> DictionaryError {
    DictionaryError::Xml { offset, what }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_elements_and_attributes() {
        let doc = parse(
            "<?xml version='1.0'?><!-- c --><fix major='4'>\n <header><field name='A' required=\"Y\" /></header>\n <x a='1 &amp; 2'/></fix>",
        )
        .unwrap();
        assert_eq!(doc.name, "fix");
        assert_eq!(doc.attr("major"), Some("4"));
        let field = &doc.child("header").unwrap().children[0];
        assert_eq!(
            (field.attr("name"), field.attr("required")),
            (Some("A"), Some("Y"))
        );
        assert_eq!(doc.child("x").unwrap().attr("a"), Some("1 & 2"));
    }

    #[test]
    fn malformed_documents_name_the_offset() {
        for bad in ["<a><b></a>", "<a", "<a x=1/>", "<a></a></b>", "", "<a>"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse("<a><b></a>").unwrap_err();
        assert!(e.to_string().contains("byte 6"), "{e}");
    }
}
