//! The fast path: saphyr-parser's events for the plain block style most CI files are written in, read
//! line by line.
//!
//! [`read`] hands the [`Builder`](super::Builder) exactly the events saphyr-parser produces for the same
//! text, with the spans the builder reads from them, or gives up as soon as the text uses anything
//! outside the subset it knows, and saphyr-parser then reads the file from the start. The subset: block
//! mappings and sequences (indentless ones included), plain keys and one-line quoted keys, plain scalars
//! (continued over more indented lines too), one-line quoted scalars, `|`/`|-` literal and `>`/`>-` folded
//! scalars, one-line flow sequences and mappings (nested, with aliases and tags inside), anchors, aliases
//! and `!name` tags, comments, `---` between documents, in text without tabs, carriage returns, other
//! control characters or byte order marks. Anything else (directives, `...`, flow collections or quoted
//! scalars over several lines, escapes other than the common ones, block scalars with indentation
//! indicators or `+`, complex keys, any syntax error) is left to saphyr-parser, which also words every
//! error.
//!
//! Where saphyr-parser puts a span is sometimes surprising, and the fast path copies it: a quoted scalar
//! (not a key) or a flow collection's `]`/`}` runs on over the spaces after it (to the line's end when a
//! comment follows); `[`/`{` takes the spaces after it; a block scalar starts at its first line's text and
//! ends where the next token is; an indentless sequence starts at its first entry's text; an empty value
//! is at its `:`, an empty entry at its line's end.
//!
//! In debug builds [`super::parse`] checks every text against saphyr-parser's events, so every test that
//! reads YAML is also a differential test of this module.

use memchr::memchr;
use saphyr_parser::{Event, Marker, ScalarStyle, Span, Tag};
use std::borrow::Cow;
use std::collections::HashMap;

/// Events with their spans, as saphyr-parser's `Parser` yields them (without the stream and document
/// events, which carry nothing the builder reads).
pub(super) type Events<'a> = Vec<(Event<'a>, Span)>;

/// Nesting beyond this is left to saphyr-parser (and to the builder's depth limit).
const MAX_NESTING: usize = 64;
/// Flow collections nested deeper than this are left to saphyr-parser.
const MAX_FLOW: usize = 16;
/// saphyr-parser's longest simple key is 1,024 characters; longer ones are left to it.
const MAX_KEY: usize = 1000;

/// The events of `text`, or `None` when it uses anything outside the subset this module reads.
pub(super) fn events(text: &str) -> Option<Events<'_>> {
    let mut out = Vec::new();
    read(text, |ev, span| {
        out.push((ev, span));
        true
    })?;
    Some(out)
}

/// Reads `text`, handing each event to `sink` as it is read, which returns false to stop. Returns
/// `None` when the text uses anything outside the subset this module reads (or the sink stopped): the
/// events handed over so far are then to be forgotten. The markers' indexes are byte offsets.
pub(super) fn read<'a>(text: &'a str, sink: impl FnMut(Event<'a>, Span) -> bool) -> Option<()> {
    let b = text.as_bytes();
    // Tabs, carriage returns, other control characters (saphyr-parser ends the text at a NUL) and byte
    // order marks are left to saphyr-parser.
    if b.iter().any(|&c| c < b' ' && c != b'\n' || c == 0x7f)
        || memchr::memmem::find(b, "\u{feff}".as_bytes()).is_some()
    {
        return None;
    }
    let wide = !text.is_ascii();
    let mut s = Scanner { text, b, wide, pos: 0, line: 1, ls: 0, sink, anchors: HashMap::new(), next_anchor: 1 };
    let mut next = s.next_content();
    loop {
        if next == Next::Document {
            // `---`, then nothing or a comment on its line.
            s.pos += 3;
            s.end_of_line()?;
            next = s.next_content();
        }
        // An empty document, directives and `...` are left to saphyr-parser.
        let Next::Indent(indent) = next else { return None };
        s.pos = s.ls + indent;
        s.block_collection(indent, None, 0)?;
        next = s.next_content();
        match next {
            Next::End => return Some(()),
            Next::Document => {}
            _ => return None,
        }
    }
}

/// What the next line with content is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Next {
    /// Content indented this much.
    Indent(usize),
    /// `---`: another document starts.
    Document,
    /// The end of the text.
    End,
    /// A directive (`%`) or a document end (`...`).
    Other,
}

/// Anchor and tag written before a node, with where they start.
#[derive(Clone)]
struct Props<'a> {
    anchor: usize,
    tag: Option<Cow<'a, Tag>>,
    start: usize,
    line: usize,
    col: usize,
}

/// The reader's state: where it is, the anchors defined so far (saphyr-parser numbers them from 1 in
/// order of appearance) and where the events go.
struct Scanner<'a, F> {
    text: &'a str,
    b: &'a [u8],
    /// The text has characters beyond ASCII: columns count characters, not bytes.
    wide: bool,
    /// The next byte to read.
    pos: usize,
    /// 1-based line of `pos`, and where that line starts.
    line: usize,
    ls: usize,
    sink: F,
    anchors: HashMap<&'a str, usize>,
    next_anchor: usize,
}

fn is_space_or_end(c: Option<&u8>) -> bool {
    matches!(c, None | Some(b' ' | b'\n'))
}

impl<'a, F: FnMut(Event<'a>, Span) -> bool> Scanner<'a, F> {
    /// Where byte `at` of the current line is. Its index is a byte offset (saphyr-parser counts
    /// characters: the caller knows which it has), its column counts characters.
    fn marker(&self, at: usize) -> Marker {
        Marker::new(at, self.line, self.col(at))
    }
    fn col(&self, at: usize) -> usize {
        let from = self.ls.min(at);
        if self.wide { self.text[from..at].chars().count() } else { at - from }
    }
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.marker(start), Marker::new(end, self.line, end - self.ls))
    }
    fn emit(&mut self, ev: Event<'a>, span: Span) -> Option<()> {
        (self.sink)(ev, span).then_some(())
    }
    fn at(&self, i: usize) -> Option<&u8> {
        self.b.get(i)
    }
    /// The first byte at or after `at` that is not a space.
    fn spaces_end(&self, mut at: usize) -> usize {
        while self.at(at) == Some(&b' ') {
            at += 1;
        }
        at
    }
    fn skip_spaces(&mut self) {
        self.pos = self.spaces_end(self.pos);
    }
    /// Nothing but a comment, if anything, from `at` to the line's end.
    fn line_ends_at(&self, at: usize) -> bool {
        matches!(self.at(at), None | Some(b'\n') | Some(b'#'))
    }
    /// End of the current line (the `\n`, or the end of the text).
    fn eol(&self) -> usize {
        self.eol_from(self.pos)
    }
    /// End of the line holding byte `at`.
    fn eol_from(&self, at: usize) -> usize {
        memchr(b'\n', &self.b[at..]).map_or(self.b.len(), |i| at + i)
    }
    /// Moves to the start of the next line that has content (not blank, not only a comment) and says
    /// what it is (`pos` at the text's end at its end). `pos` must be at a line start.
    fn next_content(&mut self) -> Next {
        loop {
            if self.pos >= self.b.len() {
                self.pos = self.b.len();
                return Next::End;
            }
            let start = self.pos;
            let i = self.spaces_end(start);
            match self.b.get(i) {
                None => {
                    self.pos = self.b.len();
                    return Next::End;
                }
                Some(b'\n') | Some(b'#') => {
                    self.pos = start;
                    self.next_line();
                }
                Some(c) => {
                    if i == start {
                        let marker = |m: &[u8]| self.b[i..].starts_with(m) && is_space_or_end(self.b.get(i + 3));
                        if marker(b"---") {
                            return Next::Document;
                        }
                        if *c == b'%' || marker(b"...") {
                            return Next::Other;
                        }
                    }
                    return Next::Indent(i - start);
                }
            }
        }
    }

    /// Moves `pos` to the start of the next line.
    fn next_line(&mut self) {
        match memchr(b'\n', &self.b[self.pos..]) {
            Some(i) => {
                self.pos += i + 1;
                self.line += 1;
                self.ls = self.pos;
            }
            None => self.pos = self.b.len(),
        }
    }

    /// After a node on this line: only spaces and a comment may follow. Moves to the next line.
    fn end_of_line(&mut self) -> Option<()> {
        let i = self.spaces_end(self.pos);
        match self.b.get(i) {
            None | Some(b'\n') => {}
            Some(b'#') if i > self.pos || self.b.get(i.wrapping_sub(1)) == Some(&b' ') => {}
            _ => return None,
        }
        self.pos = i;
        self.next_line();
        Some(())
    }

    /// The next content line, and where its token is, for the end of the block collections it closes:
    /// its first character (a `---` included), or the end of the text. Leaves `pos` at that line's start.
    fn next_token(&mut self) -> (Next, Span) {
        debug_assert!(self.pos == self.ls || self.pos == self.b.len(), "next_token away from a line start");
        let next = self.next_content();
        let at = match next {
            Next::Indent(i) => self.ls + i,
            Next::Document | Next::Other => self.ls,
            Next::End => self.b.len(),
        };
        let m = self.marker(at);
        (next, Span::new(m, m))
    }

    /// A block mapping or sequence whose first key or `-` is at `pos`, in column `indent`; its span starts
    /// at its properties (`props`: anchor and tag) when it has them.
    fn block_collection(&mut self, indent: usize, props: Option<Props<'a>>, depth: usize) -> Option<()> {
        if depth > MAX_NESTING {
            return None;
        }
        let (anchor, tag, span) = self.collection_start(props, self.pos);
        if self.is_entry(self.pos) {
            self.emit(Event::SequenceStart(anchor, tag), span)?;
            self.sequence(indent, false, depth)
        } else {
            self.emit(Event::MappingStart(anchor, tag), span)?;
            self.mapping(indent, depth)
        }
    }

    /// A block collection's anchor, tag and start event's span: from its properties, if any, to `first`
    /// (where saphyr-parser says the collection starts), else empty at `first`.
    fn collection_start(&self, props: Option<Props<'a>>, first: usize) -> (usize, Option<Cow<'a, Tag>>, Span) {
        match props {
            Some(p) => (p.anchor, p.tag, Span::new(Marker::new(p.start, p.line, p.col), self.marker(first))),
            None => (0, None, self.span(first, first)),
        }
    }

    /// `-` followed by a space or the line's end.
    fn is_entry(&self, at: usize) -> bool {
        self.at(at) == Some(&b'-') && is_space_or_end(self.at(at + 1))
    }

    /// The entries of a block sequence whose first `-` is at `pos`; emits its end.
    fn sequence(&mut self, indent: usize, indentless: bool, depth: usize) -> Option<()> {
        loop {
            self.pos = self.spaces_end(self.pos + 1);
            if self.line_ends_at(self.pos) {
                // saphyr-parser puts an empty entry at the end of its line, comment included.
                let eol = self.eol();
                let empty = self.span(eol, eol);
                self.end_of_line()?;
                self.nested(indent, false, empty, None, depth)?;
            } else if self.is_entry(self.pos) {
                return None;
            } else if self.key_end(self.pos).is_some() {
                // A mapping in the entry (`- key: value`), its keys in the column of the first.
                self.block_collection(self.pos - self.ls, None, depth + 1)?;
            } else {
                self.inline_value(indent, false, depth)?;
            }
            let (next, end) = self.next_token();
            match next {
                Next::Indent(i) if i == indent && self.is_entry(self.ls + i) => self.pos = self.ls + i,
                Next::Indent(i) if i > indent || (i == indent && !indentless) => return None,
                Next::Other => return None,
                Next::Indent(_) | Next::Document | Next::End => {
                    self.emit(Event::SequenceEnd, end)?;
                    return Some(());
                }
            }
        }
    }

    /// The entries of a block mapping whose first key is at `pos`; emits its end.
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<()> {
        if depth > MAX_NESTING {
            return None;
        }
        loop {
            let colon = self.key_end(self.pos)?;
            self.key(colon)?;
            // After the `:`.
            self.pos = self.spaces_end(colon + 1);
            if self.line_ends_at(self.pos) {
                let empty = self.span(colon, colon);
                self.end_of_line()?;
                self.nested(indent, true, empty, None, depth)?;
            } else {
                self.inline_value(indent, true, depth)?;
            }
            let (next, end) = self.next_token();
            match next {
                Next::Indent(i) if i == indent && !self.is_entry(self.ls + i) => self.pos = self.ls + i,
                Next::Indent(i) if i >= indent => return None,
                Next::Other => return None,
                Next::Indent(_) | Next::Document | Next::End => {
                    self.emit(Event::MappingEnd, end)?;
                    return Some(());
                }
            }
        }
    }

    /// A node written on the lines after its key or `-` (`pos` at the next line's start): a block
    /// collection more indented than `indent` (or, under a key, a sequence at the same indentation), or
    /// else an empty scalar at `empty`.
    fn nested(
        &mut self,
        indent: usize,
        in_map: bool,
        empty: Span,
        props: Option<Props<'a>>,
        depth: usize,
    ) -> Option<()> {
        let save = (self.pos, self.line, self.ls);
        match self.next_content() {
            Next::Indent(i) if i > indent || (in_map && i == indent && self.is_entry(self.ls + i)) => {
                self.pos = self.ls + i;
                if i == indent {
                    // An indentless sequence starts where its first entry's content does (or at the end
                    // of that line when the entry is empty).
                    let mut first = self.spaces_end(self.pos + 1);
                    if self.line_ends_at(first) {
                        first = self.eol();
                    }
                    let (anchor, tag, span) = self.collection_start(props, first);
                    self.emit(Event::SequenceStart(anchor, tag), span)?;
                    return self.sequence(i, true, depth + 1);
                }
                if !self.is_entry(self.pos) && self.key_end(self.pos).is_none() {
                    // A plain scalar on the lines after its key or `-`; anything else there is left to
                    // saphyr-parser.
                    let c = self.b[self.pos];
                    if props.is_some() || !plain_first(c, self.at(self.pos + 1)) {
                        return None;
                    }
                    return self.plain(indent, self.marker(self.pos), 0, None);
                }
                self.block_collection(i, props, depth + 1)
            }
            Next::Other => None,
            Next::Indent(_) | Next::Document | Next::End => {
                if props.is_some() {
                    return None;
                }
                (self.pos, self.line, self.ls) = save;
                self.emit(Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None), empty)?;
                Some(())
            }
        }
    }

    /// Where the `:` ending a simple key at `at` is, if the line there starts with one (plain, or quoted
    /// on one line without escapes).
    fn key_end(&self, at: usize) -> Option<usize> {
        let b = self.b;
        match b.get(at)? {
            b'"' | b'\'' => {
                let q = b[at];
                let close = at + 1 + memchr(q, &b[at + 1..])?;
                if b[at + 1..close].iter().any(|&c| c == b'\n' || c == b'\\') || b.get(close + 1) == Some(&q) {
                    return None;
                }
                (b.get(close + 1) == Some(&b':') && is_space_or_end(b.get(close + 2))).then_some(close + 1)
            }
            c if !plain_first(*c, b.get(at + 1)) => None,
            _ => {
                let mut i = at;
                while let Some(&c) = b.get(i) {
                    match c {
                        b'\n' => return None,
                        b':' if is_space_or_end(b.get(i + 1)) => {
                            return (i - at <= MAX_KEY).then_some(i);
                        }
                        b'#' if b[i - 1] == b' ' => return None,
                        _ => i += 1,
                    }
                }
                None
            }
        }
    }

    /// Emits the key that starts at `pos` and ends before the `:` at `colon`.
    fn key(&mut self, colon: usize) -> Option<()> {
        let start = self.pos;
        let (text, end, style) = match self.b[start] {
            b'"' => (&self.text[start + 1..colon - 1], colon, ScalarStyle::DoubleQuoted),
            b'\'' => (&self.text[start + 1..colon - 1], colon, ScalarStyle::SingleQuoted),
            _ => {
                let end = start + self.text[start..colon].trim_end_matches(' ').len();
                (&self.text[start..end], end, ScalarStyle::Plain)
            }
        };
        self.emit(Event::Scalar(Cow::Borrowed(text), style, 0, None), self.span(start, end))
    }

    /// A node that starts on this line at `pos`, after a key or `-` whose block indentation is `indent`.
    /// Leaves `pos` at the start of the next line.
    fn inline_value(&mut self, indent: usize, in_map: bool, depth: usize) -> Option<()> {
        let props = self.props()?;
        if let Some(p) = &props
            && self.line_ends_at(self.pos)
        {
            let empty = self.span(p.start, p.start);
            self.end_of_line()?;
            return self.nested(indent, in_map, empty, props, depth);
        }
        let start = props.as_ref().map_or(self.pos, |p| p.start);
        let (anchor, tag) = props.map_or((0, None), |p| (p.anchor, p.tag));
        match self.b[self.pos] {
            b'*' if anchor == 0 && tag.is_none() => {
                self.alias(false)?;
                self.end_of_line()
            }
            b'[' | b'{' => self.flow_line(start, anchor, tag),
            // A block scalar's properties move its span: left to saphyr-parser.
            b'|' | b'>' if anchor == 0 && tag.is_none() => self.block_scalar(indent),
            b'"' | b'\'' => {
                let (value, style, end) = self.quoted(self.pos)?;
                let span = self.span(start, self.after_quoted(end));
                self.emit(Event::Scalar(value, style, anchor, tag), span)?;
                self.pos = end;
                self.end_of_line()
            }
            c if plain_first(c, self.at(self.pos + 1)) => self.plain(indent, self.marker(start), anchor, tag),
            _ => None,
        }
    }

    /// A plain scalar starting at `pos`, continued on the lines after it that are more indented than
    /// `indent` (each trimmed, joined by a space, or by a line break per blank line between them), under
    /// a key or `-` whose block indentation is `indent`; its span starts at `start` (its properties, if
    /// any). Leaves `pos` at the start of the line after its last line.
    fn plain(&mut self, indent: usize, start: Marker, anchor: usize, tag: Option<Cow<'a, Tag>>) -> Option<()> {
        let mut value: Cow<'a, str> = Cow::Borrowed("");
        let mut blanks = 0;
        let mut end;
        loop {
            let begin = self.pos;
            let eol = self.eol();
            let cut = begin + plain_end(&self.b[begin..eol])?;
            let text = self.text[begin..cut].trim_end_matches(' ');
            if value.is_empty() {
                value = Cow::Borrowed(text);
            } else {
                let v = value.to_mut();
                if blanks == 0 {
                    v.push(' ');
                }
                for _ in 0..blanks {
                    v.push('\n');
                }
                v.push_str(text);
            }
            end = self.marker(begin + text.len());
            self.pos = begin + text.len();
            self.end_of_line()?;
            if cut < eol {
                // A comment ends the scalar.
                break;
            }
            // The next line that is not blank continues the scalar when it is more indented and not a
            // comment.
            let save = (self.pos, self.line, self.ls);
            blanks = 0;
            let mut i = self.spaces_end(self.pos);
            while self.at(i) == Some(&b'\n') {
                blanks += 1;
                self.next_line();
                i = self.spaces_end(self.pos);
            }
            if i - self.pos <= indent || matches!(self.at(i), None | Some(b'#')) {
                (self.pos, self.line, self.ls) = save;
                break;
            }
            self.pos = i;
        }
        self.emit(Event::Scalar(value, ScalarStyle::Plain, anchor, tag), Span::new(start, end))
    }

    /// Anchor and tag at `pos` (in either order), each followed by a space or the line's end.
    fn props(&mut self) -> Option<Option<Props<'a>>> {
        let mut props: Option<Props<'a>> = None;
        loop {
            let start = self.pos;
            let anchor = match self.at(start) {
                Some(b'&') => true,
                Some(b'!') => false,
                _ => return Some(props),
            };
            let end = if anchor {
                self.name_end(start + 1, false)?
            } else {
                let mut end = start + 1;
                while self.at(end).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-') {
                    end += 1;
                }
                if end == start + 1 || !is_space_or_end(self.at(end)) {
                    return None;
                }
                end
            };
            let p = props.get_or_insert(Props { anchor: 0, tag: None, start, line: self.line, col: self.col(start) });
            if anchor {
                if p.anchor != 0 {
                    return None;
                }
                p.anchor = self.next_anchor;
                self.next_anchor += 1;
                self.anchors.insert(&self.text[start + 1..end], p.anchor);
            } else {
                if p.tag.is_some() {
                    return None;
                }
                let suffix = self.text[start + 1..end].to_string();
                p.tag = Some(Cow::Owned(Tag { handle: "!".to_string(), suffix }));
            }
            self.pos = self.spaces_end(end);
        }
    }

    /// End of an anchor or alias name starting at `at`: letters, digits, `_`, `-`, `.`, then a space
    /// or the line's end (in a flow collection also `,`, `]` or `}`).
    fn name_end(&self, at: usize, flow: bool) -> Option<usize> {
        let mut end = at;
        while self.at(end).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')) {
            end += 1;
        }
        let ends = is_space_or_end(self.at(end)) || flow && matches!(self.at(end), Some(b',' | b']' | b'}'));
        (end > at && ends).then_some(end)
    }

    /// The alias at `pos` (`*name`), to an anchor already defined; leaves `pos` after it.
    fn alias(&mut self, flow: bool) -> Option<()> {
        let begin = self.pos;
        let end = self.name_end(begin + 1, flow)?;
        let id = *self.anchors.get(&self.text[begin + 1..end])?;
        self.emit(Event::Alias(id), self.span(begin, end))?;
        self.pos = end;
        Some(())
    }

    /// Where saphyr-parser ends a quoted scalar or a flow collection whose closing character ends at
    /// `end`: after the spaces that follow it, or at the end of the line when a comment follows them.
    fn after_quoted(&self, end: usize) -> usize {
        let i = self.spaces_end(end);
        if self.at(i) == Some(&b'#') { self.eol_from(i) } else { i }
    }

    /// A quoted scalar on one line starting at `at`: its value, style and the end of its closing quote.
    fn quoted(&self, at: usize) -> Option<(Cow<'a, str>, ScalarStyle, usize)> {
        let b = self.b;
        let q = b[at];
        let double = q == b'"';
        let eol = self.eol_from(at);
        // The value is a slice of the text until an escape is met, then an owned copy.
        let mut owned: Option<String> = None;
        let (mut i, mut from) = (at + 1, at + 1);
        loop {
            let j = i + if double { memchr::memchr2(q, b'\\', &b[i..eol]) } else { memchr(q, &b[i..eol]) }?;
            let unescaped = match (b[j], b.get(j + 1)) {
                (b'\'', Some(b'\'')) if !double => '\'',
                (c, _) if c == q => {
                    let value = match owned {
                        Some(mut s) => {
                            s.push_str(&self.text[from..j]);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(&self.text[at + 1..j]),
                    };
                    let style = if double { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
                    return Some((value, style, j + 1));
                }
                (_, Some(b'"')) => '"',
                (_, Some(b'\\')) => '\\',
                (_, Some(b'/')) => '/',
                (_, Some(b'n')) => '\n',
                (_, Some(b't')) => '\t',
                (_, Some(b' ')) => ' ',
                _ => return None,
            };
            let s = owned.get_or_insert_with(String::new);
            s.push_str(&self.text[from..j]);
            s.push(unescaped);
            i = j + 2;
            from = i;
        }
    }

    /// A flow collection on one line (`[a, "b", *c]`, `{k: v, l: [m]}`, nested up to [`MAX_FLOW`]
    /// levels) with `pos` at its `[` or `{`, its properties starting at `start`; then the line's end.
    fn flow_line(&mut self, start: usize, anchor: usize, tag: Option<Cow<'a, Tag>>) -> Option<()> {
        self.flow(start, anchor, tag, 0)?;
        self.end_of_line()
    }

    /// A flow collection at `pos`; leaves `pos` after its closing bracket.
    fn flow(&mut self, start: usize, anchor: usize, tag: Option<Cow<'a, Tag>>, depth: usize) -> Option<()> {
        if depth >= MAX_FLOW {
            return None;
        }
        let open = self.pos;
        let map = self.b[open] == b'{';
        let close_char = if map { b'}' } else { b']' };
        let after = self.spaces_end(open + 1);
        let span = self.span(start, after);
        self.emit(if map { Event::MappingStart(anchor, tag) } else { Event::SequenceStart(anchor, tag) }, span)?;
        self.pos = after;
        if self.at(self.pos) != Some(&close_char) {
            loop {
                if map {
                    // A key, plain or quoted, then `: ` (a key without a value is left to saphyr-parser).
                    self.flow_scalar(true)?;
                    if self.at(self.pos) != Some(&b':') || self.at(self.pos + 1) != Some(&b' ') {
                        return None;
                    }
                    self.pos += 2;
                    self.skip_spaces();
                }
                self.flow_node(depth)?;
                self.skip_spaces();
                match *self.at(self.pos)? {
                    b',' => {
                        self.pos += 1;
                        self.skip_spaces();
                        // A trailing comma, or an empty entry: left to saphyr-parser.
                        if matches!(self.at(self.pos), Some(b']' | b'}' | b',')) {
                            return None;
                        }
                    }
                    c if c == close_char => break,
                    _ => return None,
                }
            }
        }
        let close = self.pos;
        self.emit(
            if map { Event::MappingEnd } else { Event::SequenceEnd },
            self.span(close, self.after_quoted(close + 1)),
        )?;
        self.pos = close + 1;
        Some(())
    }

    /// An entry of a flow collection at `pos`: a scalar, an alias or a flow collection, with properties.
    fn flow_node(&mut self, depth: usize) -> Option<()> {
        let props = self.props()?;
        let start = props.as_ref().map_or(self.pos, |p| p.start);
        let (anchor, tag) = props.map_or((0, None), |p| (p.anchor, p.tag));
        match *self.at(self.pos)? {
            b'[' | b'{' => self.flow(start, anchor, tag, depth + 1),
            b'*' if anchor == 0 && tag.is_none() => self.alias(true),
            _ if anchor == 0 && tag.is_none() => self.flow_scalar(false),
            _ => None,
        }
    }

    /// A quoted or plain scalar inside a flow collection, at `pos`: as a key, a plain one ends before
    /// `: `; elsewhere a `:` in it is left to saphyr-parser. Leaves `pos` after it.
    fn flow_scalar(&mut self, key: bool) -> Option<()> {
        let begin = self.pos;
        match *self.at(begin)? {
            b'"' | b'\'' => {
                let (value, style, end) = self.quoted(begin)?;
                let span = if key { self.span(begin, end) } else { self.span(begin, self.after_quoted(end)) };
                self.emit(Event::Scalar(value, style, 0, None), span)?;
                self.pos = end;
                if !key {
                    self.skip_spaces();
                }
                Some(())
            }
            c if plain_first(c, self.at(begin + 1)) && !matches!(c, b'-' | b'?' | b':') => {
                let mut i = begin;
                while let Some(&c) = self.at(i) {
                    match c {
                        b',' | b']' | b'}' => break,
                        b':' if key && self.at(i + 1) == Some(&b' ') => break,
                        b'\n' | b'[' | b'{' | b':' | b'#' => return None,
                        _ => i += 1,
                    }
                }
                let value = self.text[begin..i].trim_end_matches(' ');
                // saphyr-parser rejects a word `-` before a flow indicator (`[x -]`).
                if value.contains(" -") || value.is_empty() {
                    return None;
                }
                let end = begin + value.len();
                self.emit(Event::Scalar(Cow::Borrowed(value), ScalarStyle::Plain, 0, None), self.span(begin, end))?;
                self.pos = if key { end } else { i };
                Some(())
            }
            _ => None,
        }
    }

    /// `|`, `|-`, `>` or `>-` at `pos`, under a key or `-` whose block indentation is `indent`.
    fn block_scalar(&mut self, indent: usize) -> Option<()> {
        let b = self.b;
        let literal = b[self.pos] == b'|';
        self.pos += 1;
        let strip = self.at(self.pos) == Some(&b'-');
        if strip {
            self.pos += 1;
        }
        if !matches!(self.at(self.pos), Some(b' ' | b'\n')) {
            return None;
        }
        self.end_of_line()?;
        // The first line fixes the indentation; a blank first line is left to saphyr-parser.
        let i = self.spaces_end(self.pos);
        let block = i - self.pos;
        if block <= indent || matches!(b.get(i), None | Some(b'\n')) {
            return None;
        }
        let first = i;
        let first_marker = self.marker(first);
        let mut value = String::new();
        // Line breaks seen since the last content line.
        let mut breaks = 0usize;
        let mut any = false;
        let end;
        loop {
            if self.pos >= b.len() {
                end = b.len();
                break;
            }
            let ls = self.pos;
            let j = self.spaces_end(ls);
            let eol = self.eol_from(ls);
            if j == eol {
                // A blank line: spaces beyond the indentation would be content.
                if j - ls > block {
                    return None;
                }
                if eol == b.len() {
                    // Spaces ending the text without a line break: saphyr-parser reads a line break
                    // more there; left to it.
                    if j > ls {
                        return None;
                    }
                    end = b.len();
                    break;
                }
                breaks += 1;
                self.pos = eol;
                self.next_line();
                continue;
            }
            if j - ls < block {
                end = j;
                break;
            }
            if eol == b.len() {
                // The last line has no line break: its chomping differs; left to saphyr-parser.
                return None;
            }
            let content = &self.text[ls + block..eol];
            if any {
                if literal {
                    for _ in 0..=breaks {
                        value.push('\n');
                    }
                } else {
                    if j - ls > block {
                        return None;
                    }
                    if breaks == 0 {
                        value.push(' ');
                    } else {
                        for _ in 0..breaks {
                            value.push('\n');
                        }
                    }
                }
            } else if !literal && j - ls > block {
                return None;
            }
            value.push_str(content);
            any = true;
            breaks = 0;
            self.pos = eol;
            self.next_line();
        }
        if !strip {
            value.push('\n');
        }
        let style = if literal { ScalarStyle::Literal } else { ScalarStyle::Folded };
        self.emit(Event::Scalar(Cow::Owned(value), style, 0, None), Span::new(first_marker, self.marker(end)))?;
        // `pos` is at the start of the line that ended the scalar (or the end of the text).
        if self.pos < b.len() && self.pos != self.ls {
            return None;
        }
        Some(())
    }
}

/// Where a one-line plain scalar starting `line` ends: before a comment (` #`) or at the line's end.
/// `None` when a `:` followed by a space or the line's end comes first (a mapping where none can be).
fn plain_end(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(h) = memchr::memchr2(b'#', b':', &line[from..]) {
        let at = from + h;
        if line[at] == b'#' {
            if at > 0 && line[at - 1] == b' ' {
                return Some(at - 1);
            }
        } else if matches!(line.get(at + 1), None | Some(b' ')) {
            return None;
        }
        from = at + 1;
    }
    Some(line.len())
}

/// Whether a plain scalar may start with `c` (followed by `next`) in block context.
fn plain_first(c: u8, next: Option<&u8>) -> bool {
    match c {
        b'-' | b'?' | b':' => !is_space_or_end(next),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
        | b'`' => false,
        b' ' | b'\n' => false,
        _ => true,
    }
}
