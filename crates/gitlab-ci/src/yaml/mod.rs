//! YAML with a span on every node.
//!
//! Built from saphyr-parser's event stream rather than a generic loader so that tokenscope controls
//! what GitLab's loader does differently from a plain YAML 1.2 one, and what hostile input could abuse:
//! - every node, key and scalar keeps its [`Span`];
//! - `<<` merge keys (`<<: *a`, `<<: [*a, *b]`) are applied, explicit keys winning;
//! - duplicate keys keep the last value, as GitLab does, and are recorded;
//! - tags (`!reference`) are kept on the node;
//! - nesting depth and the number of nodes after alias expansion are capped (alias bombs);
//! - the tree is built with an explicit stack, so deep input cannot overflow the call stack.
//!
//! Most CI files are plain block style: [`block`] reads those line by line into the same events, and
//! saphyr-parser reads the rest.

mod block;

use crate::source::{FileId, SourceMap, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// GitLab rejects CI YAML nested deeper than this (`max_yaml_depth`).
pub const MAX_DEPTH: usize = 100;
/// Cap on nodes in one file after alias expansion: far above any real configuration.
pub const MAX_NODES: usize = 1_000_000;

#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub tag: Option<Box<str>>,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    /// Any scalar that is not null. `plain` is false for quoted and block scalars.
    Str(String, bool),
    Seq(Vec<Node>),
    Map(Map),
}

#[derive(Clone, Debug, Default)]
pub struct Map {
    pub entries: Vec<(Key, Node)>,
    /// Where each key is, once the map has more than [`INDEXED`] keys, so that lookups and merges stay
    /// linear on maps of thousands of keys. Kept by the methods; valid while `entries` has `indexed`
    /// entries (code that pushes to `entries` directly makes it stale, and lookups then scan).
    index: Option<std::collections::HashMap<String, usize>>,
    indexed: usize,
}

/// Maps with more keys than this are indexed.
const INDEXED: usize = 16;

#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// A key that appeared twice in one mapping; the later value was kept.
#[derive(Clone, Debug)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Span,
    pub second: Span,
}

#[derive(Debug)]
pub struct Parsed {
    pub docs: Vec<Node>,
    pub duplicate_keys: Vec<DuplicateKey>,
    /// The documents' [`Node::weight`], measured once (a shared file is copied into many pipelines).
    weight: std::sync::OnceLock<u64>,
}

impl Parsed {
    /// What a copy of the documents costs in budget units.
    pub fn weight(&self) -> u64 {
        *self.weight.get_or_init(|| self.docs.iter().map(Node::weight).sum())
    }
}

#[derive(Clone, Debug)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    pub kind: YamlErrorKind,
}

/// What went wrong, for code that acts on it (the message is for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The scanner found a line indented where it cannot be (possibly a closing bracket GitLab accepts).
    Indentation,
    /// Any other syntax error.
    Syntax,
    /// Deeper, larger or more aliased than the limits allow.
    Limit,
}

impl Map {
    /// A map of entries whose keys are distinct.
    pub fn from_entries(entries: Vec<(Key, Node)>) -> Map {
        let mut m = Map { entries, index: None, indexed: 0 };
        m.reindex();
        m
    }

    fn reindex(&mut self) {
        if self.entries.len() > INDEXED {
            let mut index = std::collections::HashMap::with_capacity(self.entries.len());
            for (i, (k, _)) in self.entries.iter().enumerate() {
                index.entry(k.name.clone()).or_insert(i);
            }
            self.index = Some(index);
            self.indexed = self.entries.len();
        } else {
            self.index = None;
        }
    }

    /// Where `key` is.
    fn position(&self, key: &str) -> Option<usize> {
        if let Some(index) = &self.index
            && self.indexed == self.entries.len()
        {
            return index.get(key).copied().filter(|&i| self.entries[i].0.name == key);
        }
        self.entries.iter().position(|(k, _)| k.name == key)
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.position(key).map(|i| &self.entries[i].1)
    }
    pub fn get_entry(&self, key: &str) -> Option<(&Key, &Node)> {
        self.position(key).map(|i| (&self.entries[i].0, &self.entries[i].1))
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }
    pub fn remove(&mut self, key: &str) -> Option<(Key, Node)> {
        let i = self.position(key)?;
        let removed = self.entries.remove(i);
        if self.index.is_some() {
            self.reindex();
        }
        Some(removed)
    }
    /// Insert or replace, keeping the position of an existing key. Returns the replaced entry.
    pub fn insert(&mut self, key: Key, value: Node) -> Option<(Key, Node)> {
        if let Some(i) = self.position(&key.name) {
            return Some(std::mem::replace(&mut self.entries[i], (key, value)));
        }
        self.push_new(key, value);
        None
    }
    /// Append an entry whose key the map does not hold.
    fn push_new(&mut self, key: Key, value: Node) {
        let fresh = self.index.is_some() && self.indexed == self.entries.len();
        if fresh && let Some(index) = self.index.as_mut() {
            index.insert(key.name.clone(), self.entries.len());
            self.indexed += 1;
            self.entries.push((key, value));
        } else {
            self.entries.push((key, value));
            if self.entries.len() > INDEXED {
                self.reindex();
            }
        }
    }
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.name.as_str())
    }
}

impl Node {
    /// What a copy of this node costs in [`budget`](crate::budget) units: each node and key
    /// [`NODE_UNITS`](crate::budget::NODE_UNITS), plus the bytes of its text. Walks the node without
    /// recursion.
    pub fn weight(&self) -> u64 {
        use crate::budget::NODE_UNITS;
        let mut total = 0u64;
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            total = total.saturating_add(NODE_UNITS);
            match &n.value {
                Value::Str(s, _) => total = total.saturating_add(s.len() as u64),
                Value::Seq(items) => stack.extend(items.iter()),
                Value::Map(m) => {
                    for (k, v) in &m.entries {
                        total = total.saturating_add(NODE_UNITS + k.name.len() as u64);
                        stack.push(v);
                    }
                }
                Value::Null => {}
            }
        }
        total
    }

    pub fn new(span: Span, value: Value) -> Self {
        Node { span, tag: None, value }
    }
    pub fn str(span: Span, s: impl Into<String>) -> Self {
        Node::new(span, Value::Str(s.into(), false))
    }
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    /// The scalar's text (numbers and booleans included, as written).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s, _) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    /// Booleans as GitLab's YAML 1.1 loader reads them (`true`, `yes`, `on`, ... when unquoted).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Str(s, true) => match s.as_str() {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tag.as_deref() == Some(tag)
    }
    /// A short name of the node's type, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Str(..) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
    /// The node as JSON, each scalar (as written) passed through `scalar` (to redact secrets, say).
    pub fn to_json(&self, scalar: &dyn Fn(&str) -> String) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Str(s, _) => J::String(scalar(s)),
            Value::Seq(items) => J::Array(items.iter().map(|i| i.to_json(scalar)).collect()),
            Value::Map(m) => J::Object(m.entries.iter().map(|(k, v)| (k.name.clone(), v.to_json(scalar))).collect()),
        }
    }
}

/// A node's tag as written (`!reference`).
fn tag_text(tag: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>) -> Option<Box<str>> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix).into_boxed_str())
}

/// Scalars that YAML reads as null when unquoted.
fn is_null_plain(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        tag: Option<Box<str>>,
        items: Vec<Node>,
        size: usize,
    },
    Map {
        start: Span,
        anchor: usize,
        tag: Option<Box<str>>,
        entries: Vec<(Key, Node)>,
        /// Key read, waiting for its value.
        key: Option<Key>,
        /// Indexes into `entries` of `<<` merge values, applied when the mapping ends.
        merges: Vec<usize>,
        /// Key positions, once the mapping is large: a 50,000-project manifest must not compare every key
        /// with every earlier one.
        index: Option<HashMap<String, usize>>,
        size: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
    duplicates: Vec<DuplicateKey>,
    /// Nodes made so far, aliases' copies included, a scalar counting one more per [`TEXT_PER_NODE`]
    /// bytes of its text (an alias of a large scalar copies the text).
    nodes: usize,
    /// [`MAX_NODES`], or half the file's size in bytes for a larger file (a file without aliases stays
    /// below it).
    limit: usize,
}

/// Bytes of scalar text that count as one more node.
const TEXT_PER_NODE: usize = 16;

/// Parse a registered file into its documents.
pub fn parse(sources: &SourceMap, file: FileId) -> Result<Parsed, YamlError> {
    let src = sources.get(file);
    let mut text: std::borrow::Cow<str> = std::borrow::Cow::Borrowed(&src.text);
    // saphyr-parser rejects a flow collection whose closing bracket sits at its parent's indentation
    // (`key: [\n  "a",\n]`), which GitLab's loader accepts (saphyr-rs/saphyr#108). Such a bracket is
    // moved to the end of the line before it: same length, same offsets, so every span stays exact.
    for _ in 0..64 {
        match parse_text(&text, &src, file) {
            Err(e) if e.kind == YamlErrorKind::Indentation => match reflow_bracket(&text, e.span.start as usize) {
                Some(fixed) => text = std::borrow::Cow::Owned(fixed),
                None => return Err(e),
            },
            other => return other,
        }
    }
    parse_text(&text, &src, file)
}

/// `...\n   ]` becomes `...   ]\n` when the bracket is alone at `at` and the line before has no comment.
fn reflow_bracket(text: &str, at: usize) -> Option<String> {
    let b = text.as_bytes();
    if !matches!(b.get(at), Some(b']' | b'}')) {
        return None;
    }
    let line_start = text[..at].rfind('\n')?;
    if !text[line_start + 1..at].bytes().all(|c| c == b' ') {
        return None;
    }
    let prev_start = text[..line_start].rfind('\n').map_or(0, |i| i + 1);
    if text[prev_start..line_start].contains('#') || text[prev_start..line_start].ends_with('\r') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..line_start]);
    out.push_str(&text[line_start + 1..=at]);
    out.push('\n');
    out.push_str(&text[at + 1..]);
    Some(out)
}

fn parse_text(text: &str, src: &crate::source::SourceFile, file: FileId) -> Result<Parsed, YamlError> {
    #[cfg(debug_assertions)]
    if let FastPath::Differs(why) = fast_path(text) {
        panic!("the block-style fast path disagrees with saphyr-parser: {why}\n--- text ---\n{text}");
    }
    let mut b = Builder::new(text.len());
    match read_fast(text, file, &mut b) {
        Some(read) => read?,
        None => {
            b = Builder::new(text.len());
            read_saphyr(text, src, file, &mut b)?;
        }
    }
    Ok(Parsed { docs: b.docs, duplicate_keys: b.duplicates, weight: std::sync::OnceLock::new() })
}

/// The text's events through the fast path into `b`, or `None` when the fast path leaves the text to
/// saphyr-parser (`b` then holds a part to forget).
fn read_fast(text: &str, file: FileId, b: &mut Builder) -> Option<Result<(), YamlError>> {
    let mut failed = None;
    let read = block::read(text, |ev, s| {
        // The fast path's indexes are byte offsets already.
        let (start, end) = (s.start.index() as u32, s.end.index() as u32);
        let span =
            Span { file, start, end: end.max(start), line: s.start.line() as u32, col: s.start.col() as u32 + 1 };
        b.event(ev, span).map_err(|e| failed = Some(e)).is_ok()
    });
    match failed {
        // A limit reached, on events saphyr-parser would have produced the same.
        Some(e) => Some(Err(e)),
        None => read.map(Ok),
    }
}

/// The text's events through saphyr-parser into `b`.
fn read_saphyr(text: &str, src: &crate::source::SourceFile, file: FileId, b: &mut Builder) -> Result<(), YamlError> {
    let to_span = |s: saphyr_parser::Span| -> Span {
        let start = src.byte_of_char(s.start.index());
        let end = src.byte_of_char(s.end.index());
        Span { file, start, end: end.max(start), line: s.start.line() as u32, col: s.start.col() as u32 + 1 }
    };
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| {
            let m = e.marker();
            let at = src.byte_of_char(m.index());
            // saphyr's scanner stops at 256 levels of flow nesting, before our own check sees the events.
            let (message, kind) = match e.info() {
                "recursion limit exceeded" => {
                    (format!("YAML nesting is deeper than {MAX_DEPTH} levels (GitLab's limit)"), YamlErrorKind::Limit)
                }
                "invalid indentation" => ("invalid YAML: invalid indentation".to_string(), YamlErrorKind::Indentation),
                info => (format!("invalid YAML: {info}"), YamlErrorKind::Syntax),
            };
            YamlError {
                message,
                kind,
                span: Span { file, start: at, end: at, line: m.line() as u32, col: m.col() as u32 + 1 },
            }
        })?;
        b.event(ev, to_span(span))?;
    }
    Ok(())
}

/// What the block-style fast path makes of a text, against saphyr-parser.
#[derive(Debug, PartialEq, Eq)]
pub enum FastPath {
    /// The text is outside the fast path's subset: saphyr-parser reads it.
    Declined,
    /// The fast path read it, to the same events and spans as saphyr-parser.
    Same,
    /// The fast path read it differently (a bug): where and how.
    Differs(String),
}

/// Reads `text` both ways and compares what the tree builder would see: every event, and each event's
/// start, end, line and column (only the end for the end of a collection, which is all the builder
/// reads of it). For tests and, in debug builds, every parse.
pub fn fast_path(text: &str) -> FastPath {
    match block::events(text) {
        None => FastPath::Declined,
        Some(events) => compare(text, &events),
    }
}

fn compare(text: &str, fast: &[(Event<'_>, saphyr_parser::Span)]) -> FastPath {
    let mut slow = Vec::new();
    for ev in Parser::new_from_str(text) {
        match ev {
            Ok((Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::DocumentEnd, _)) => {}
            Ok(e) => slow.push(e),
            Err(e) => return FastPath::Differs(format!("saphyr-parser fails: {e}")),
        }
    }
    // saphyr-parser's indexes count characters, the fast path's bytes.
    let ascii = text.is_ascii();
    let char_bytes: Vec<usize> =
        if ascii { Vec::new() } else { text.char_indices().map(|(b, _)| b).chain([text.len()]).collect() };
    let byte = |chars: usize| if ascii { chars } else { char_bytes.get(chars).copied().unwrap_or(usize::MAX) };
    let key = |(ev, s): &(Event<'_>, saphyr_parser::Span), to_byte: &dyn Fn(usize) -> usize| match ev {
        Event::MappingEnd | Event::SequenceEnd => (0, to_byte(s.end.index()), 0, 0),
        _ => (to_byte(s.start.index()), to_byte(s.end.index()), s.start.line(), s.start.col()),
    };
    let key_fast = |e| key(e, &|i| i);
    let key_slow = |e| key(e, &byte);
    for (i, (f, s)) in fast.iter().zip(&slow).enumerate() {
        if f.0 != s.0 || key_fast(f) != key_slow(s) {
            return FastPath::Differs(format!(
                "event {i}: fast {:?} at {:?}, saphyr-parser {:?} at {:?}",
                f.0,
                key_fast(f),
                s.0,
                key_slow(s)
            ));
        }
    }
    if fast.len() != slow.len() {
        return FastPath::Differs(format!("{} events, saphyr-parser {}", fast.len(), slow.len()));
    }
    FastPath::Same
}

impl Builder {
    fn new(text_len: usize) -> Builder {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            docs: Vec::new(),
            duplicates: Vec::new(),
            nodes: 0,
            limit: MAX_NODES.max(text_len / 2),
        }
    }

    /// A syntax error the scanner let through.
    fn err(&self, span: Span, message: impl Into<String>) -> YamlError {
        YamlError { message: message.into(), span, kind: YamlErrorKind::Syntax }
    }

    /// A limit reached (depth, nodes through aliases).
    fn limit(&self, span: Span, message: String) -> YamlError {
        YamlError { message, span, kind: YamlErrorKind::Limit }
    }

    fn event(&mut self, ev: Event<'_>, span: Span) -> Result<(), YamlError> {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag_text(tag);
                let plain = style == ScalarStyle::Plain;
                let value = if plain && is_null_plain(&text) && tag.is_none() {
                    Value::Null
                } else {
                    Value::Str(text.into_owned(), plain)
                };
                let size = 1 + match &value {
                    Value::Str(t, _) => t.len() / TEXT_PER_NODE,
                    _ => 0,
                };
                let node = Node { span, tag, value };
                self.count(size, span)?;
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), size));
                }
                self.push(node, size)
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    return Err(self.err(span, "alias to an unknown anchor"));
                };
                self.count(size, span)?;
                self.push(node, size)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(span)?;
                self.stack.push(Frame::Seq { start: span, anchor, tag: tag_text(tag), items: Vec::new(), size: 1 });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                self.open(span)?;
                self.stack.push(Frame::Map {
                    start: span,
                    anchor,
                    tag: tag_text(tag),
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                    index: None,
                    size: 1,
                });
                Ok(())
            }
            Event::SequenceEnd => {
                let Some(Frame::Seq { start, anchor, tag, items, size }) = self.stack.pop() else {
                    return Err(self.err(span, "unbalanced sequence"));
                };
                let node = Node { span: self.join(start, span), tag, value: Value::Seq(items) };
                self.close(node, anchor, size)
            }
            Event::MappingEnd => {
                let Some(Frame::Map { start, anchor, tag, entries, merges, size, .. }) = self.stack.pop() else {
                    return Err(self.err(span, "unbalanced mapping"));
                };
                let map = self.apply_merges(entries, merges);
                let node = Node { span: self.join(start, span), tag, value: Value::Map(map) };
                self.close(node, anchor, size)
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => Ok(()),
        }
    }

    fn join(&self, start: Span, end: Span) -> Span {
        let end_byte = end.end.max(start.end);
        Span { end: end_byte, ..start }
    }

    fn open(&mut self, span: Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.limit(span, format!("YAML nesting is deeper than {MAX_DEPTH} levels (GitLab's limit)")));
        }
        self.count(1, span)
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limit {
            return Err(self.limit(
                span,
                format!(
                    "YAML expands to more than {} nodes through aliases, counting one per {TEXT_PER_NODE} bytes of text (an alias-expansion bomb?)",
                    self.limit
                ),
            ));
        }
        Ok(())
    }

    fn close(&mut self, node: Node, anchor: usize, size: usize) -> Result<(), YamlError> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.push(node, size)
    }

    /// Attach a finished node to its parent (or make it a document).
    fn push(&mut self, node: Node, node_size: usize) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => {
                self.docs.push(node);
                Ok(())
            }
            Some(Frame::Seq { items, size, .. }) => {
                items.push(node);
                *size += node_size;
                Ok(())
            }
            Some(Frame::Map { entries, key, merges, index, size, .. }) => {
                *size += node_size;
                match key.take() {
                    None => {
                        let span = node.span;
                        let name = match node.value {
                            Value::Str(s, _) => s,
                            Value::Null => String::new(),
                            _ => return Err(self.err(span, "a mapping key must be a scalar")),
                        };
                        *key = Some(Key { name, span });
                        Ok(())
                    }
                    Some(k) => {
                        if k.name == "<<" && !matches!(node.value, Value::Str(..)) {
                            merges.push(entries.len());
                            entries.push((k, node));
                            return Ok(());
                        }
                        const INDEX_FROM: usize = 16;
                        if index.is_none() && entries.len() >= INDEX_FROM {
                            let idx = entries
                                .iter()
                                .enumerate()
                                .filter(|(_, (e, _))| e.name != "<<")
                                .map(|(i, (e, _))| (e.name.clone(), i));
                            *index = Some(idx.collect());
                        }
                        let existing = match index {
                            Some(idx) => idx.get(&k.name).copied(),
                            None => entries.iter().position(|(e, _)| e.name == k.name && e.name != "<<"),
                        };
                        match existing {
                            Some(i) => {
                                let slot = &mut entries[i];
                                self.duplicates.push(DuplicateKey {
                                    key: k.name.clone(),
                                    first: slot.0.span,
                                    second: k.span,
                                });
                                *slot = (k, node);
                            }
                            None => {
                                if let Some(idx) = index {
                                    idx.insert(k.name.clone(), entries.len());
                                }
                                entries.push((k, node));
                            }
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Apply `<<` merge keys: merged entries never override keys written in the mapping itself, and
    /// within `<<: [*a, *b]` the earlier mapping wins.
    fn apply_merges(&self, entries: Vec<(Key, Node)>, merges: Vec<usize>) -> Map {
        if merges.is_empty() {
            return Map::from_entries(entries);
        }
        let explicit: std::collections::HashSet<String> =
            entries.iter().filter(|(k, _)| k.name != "<<").map(|(k, _)| k.name.clone()).collect();
        let mut out = Map::default();
        for (k, v) in entries {
            if k.name != "<<" {
                out.push_new(k, v);
                continue;
            }
            let sources: Vec<Node> = match v.value {
                Value::Map(_) => vec![v],
                Value::Seq(items) => items,
                _ => vec![],
            };
            for src in sources {
                if let Value::Map(m) = src.value {
                    for (mk, mv) in m.entries {
                        if !explicit.contains(&mk.name) && !out.contains(&mk.name) {
                            out.push_new(mk, mv);
                        }
                    }
                }
            }
        }
        out
    }
}
