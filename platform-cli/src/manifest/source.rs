//! The manifest's text and where every value sits in it.
//!
//! serde forgets positions, so the loader parses the text a second time with `saphyr`, whose
//! nodes carry markers, and indexes every node by its JSON pointer. Diagnostics then look up
//! the field they complain about; promotion uses the same index to edit a value in place.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// A manifest file: its display name and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: Arc<String>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: Arc::new(text.into()),
        }
    }
}

/// A byte range in the source with its 1-based line and column (for `FILE:LINE:COL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub const START: Position = Position {
        offset: 0,
        len: 0,
        line: 1,
        column: 1,
    };
}

/// Where each node sits: the key of a mapping entry and the value itself.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpan {
    pub key: Option<Position>,
    pub value: Position,
    pub is_scalar: bool,
}

impl NodeSpan {
    /// What a diagnostic about this node underlines: a scalar's value, else the key naming it.
    pub fn label(&self) -> Position {
        match (self.is_scalar, self.key) {
            (false, Some(key)) => key,
            _ => self.value,
        }
    }
}

/// Positions of every node, by JSON pointer (`/environments/0/name`).
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    nodes: HashMap<String, NodeSpan>,
}

impl SpanIndex {
    /// Indexes `text`; a text saphyr cannot parse yields an empty index (positions fall back
    /// to the start of the file, the error itself comes from the serde parser).
    pub fn build(text: &str) -> Self {
        let mut index = Self::default();
        let Ok(docs) = MarkedYaml::load_from_str(text) else {
            return index;
        };
        let Some(root) = docs.first() else {
            return index;
        };
        let offsets = CharOffsets::new(text);
        index.visit(root, String::new(), None, &offsets);
        index
    }

    fn visit(&mut self, node: &MarkedYaml<'_>, pointer: String, key: Option<Position>, at: &CharOffsets) {
        let value = at.position(node.span.start.index(), node.span.end.index(), node.span.start);
        let is_scalar = !matches!(node.data, YamlData::Mapping(_) | YamlData::Sequence(_));
        match &node.data {
            YamlData::Mapping(map) => {
                for (k, v) in map {
                    let key_pos = at.position(k.span.start.index(), k.span.end.index(), k.span.start);
                    let child = format!("{pointer}/{}", escape(&key_text(k)));
                    self.visit(v, child, Some(key_pos), at);
                }
            }
            YamlData::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.visit(item, format!("{pointer}/{i}"), None, at);
                }
            }
            _ => {}
        }
        self.nodes.insert(pointer, NodeSpan { key, value, is_scalar });
    }

    pub fn get(&self, pointer: &str) -> Option<&NodeSpan> {
        self.nodes.get(pointer)
    }

    /// The indentation (in columns) of the keys directly under the mapping at `pointer`.
    pub fn child_key_indent(&self, pointer: &str) -> Option<usize> {
        let prefix = format!("{pointer}/");
        self.nodes
            .iter()
            .filter(|(p, _)| p.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/')))
            .filter_map(|(_, span)| span.key.map(|k| k.column - 1))
            .min()
    }

    /// The byte offset where the last scalar at or under `pointer` ends (the place to append a
    /// sibling after a mapping's last entry). Only scalars count: a collection's span runs on
    /// to the next token, past comments and blank lines.
    pub fn end_of_subtree(&self, pointer: &str) -> Option<usize> {
        let prefix = format!("{pointer}/");
        self.nodes
            .iter()
            .filter(|(p, span)| span.is_scalar && (*p == pointer || p.starts_with(&prefix)))
            .map(|(_, span)| span.value.offset + span.value.len)
            .max()
    }

    /// The node at `pointer`, or the nearest ancestor that exists (a missing field is
    /// reported at the mapping that should hold it).
    pub fn nearest(&self, pointer: &str) -> NodeSpan {
        let mut p = pointer;
        loop {
            if let Some(span) = self.nodes.get(p) {
                return *span;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => {
                    return NodeSpan {
                        key: None,
                        value: Position::START,
                        is_scalar: false,
                    };
                }
            }
        }
    }
}

fn key_text(node: &MarkedYaml<'_>) -> String {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => s.to_string(),
        YamlData::Value(Scalar::Integer(i)) => i.to_string(),
        YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
        YamlData::Value(Scalar::FloatingPoint(f)) => f.to_string(),
        YamlData::Value(Scalar::Null) => "null".into(),
        YamlData::Representation(s, _, _) => s.to_string(),
        _ => String::new(),
    }
}

/// JSON pointer escaping (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// saphyr counts characters; miette and editors want bytes.
struct CharOffsets {
    bytes: Vec<usize>,
    total: usize,
}

impl CharOffsets {
    fn new(text: &str) -> Self {
        Self {
            bytes: text.char_indices().map(|(b, _)| b).collect(),
            total: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.bytes.get(char_index).copied().unwrap_or(self.total)
    }

    fn position(&self, start: usize, end: usize, marker: saphyr::Marker) -> Position {
        let offset = self.byte(start);
        Position {
            offset,
            len: self.byte(end.max(start)).saturating_sub(offset),
            line: marker.line(),
            column: marker.col() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_and_values_by_pointer() {
        let text = "a:\n  b: [x, \"é\", z]\n  c: 1\n";
        let index = SpanIndex::build(text);
        let c = index.get("/a/c").expect("c indexed");
        assert_eq!((c.value.line, c.value.column), (3, 6));
        let z = index.get("/a/b/2").expect("z indexed");
        assert_eq!(&text[z.value.offset..z.value.offset + z.value.len], "z");
        let a = index.get("/a").expect("a indexed");
        assert_eq!(a.label().line, 1);
    }

    #[test]
    fn nearest_falls_back_to_the_parent() {
        let index = SpanIndex::build("a:\n  b: 1\n");
        assert_eq!(index.nearest("/a/missing").label().line, 1);
        let root = index.nearest("/nothing").label();
        assert_eq!((root.line, root.column), (1, 1));
    }
}
