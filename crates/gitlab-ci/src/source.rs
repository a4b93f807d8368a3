//! Every file tokenscope reads, and the spans that point into them.
//!
//! Findings and diagnostics carry a [`Span`] (a file id plus a byte range); this module turns spans into
//! the `file:line:column` users see, in one place. Files are registered once and shared between threads.

use std::sync::{Arc, RwLock};

/// Index of a file in the [`SourceMap`].
pub type FileId = u32;

/// A byte range in one source file, with the 1-based line and column of its start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column (in characters) of `start`.
    pub col: u32,
}

/// A file as tokenscope read it.
#[derive(Debug)]
pub struct SourceFile {
    /// Path shown to users, as the reader names it (relative to a snapshot root, or as given on the command line).
    pub display: String,
    /// The project whose repository holds the file, when it is a repository file.
    pub project: Option<String>,
    /// Path inside the project's repository.
    pub repo_path: Option<String>,
    pub text: Arc<str>,
    /// Byte offset of each character, present only when the text is not pure ASCII.
    char_bytes: Option<Vec<u32>>,
    /// Byte offset where each line starts.
    line_starts: Vec<u32>,
    /// The text with tokens masked, made once when first shown.
    masked: std::sync::OnceLock<Arc<str>>,
}

impl SourceFile {
    pub fn new(display: String, project: Option<String>, repo_path: Option<String>, text: Arc<str>) -> Self {
        let char_bytes = if text.is_ascii() {
            None
        } else {
            let mut v: Vec<u32> = text.char_indices().map(|(i, _)| i as u32).collect();
            v.push(text.len() as u32);
            Some(v)
        };
        let mut line_starts = vec![0u32];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        SourceFile { display, project, repo_path, text, char_bytes, line_starts, masked: std::sync::OnceLock::new() }
    }

    /// The text as snippets show it, made once by `make` when first needed (the first caller's `make`
    /// decides; it must keep byte offsets, so that spans stay valid).
    pub fn shown(&self, make: impl FnOnce(&str) -> String) -> &str {
        self.masked.get_or_init(|| Arc::from(make(&self.text)))
    }

    /// 0-based index of the line holding a byte offset.
    pub fn line_index(&self, byte: u32) -> usize {
        match self.line_starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte offset where the 0-based line `i` starts, or the end of the text past the last line.
    pub fn line_start(&self, i: usize) -> u32 {
        self.line_starts.get(i).copied().unwrap_or(self.text.len() as u32)
    }

    pub fn line_total(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset of a character index (the YAML parser counts characters).
    pub fn byte_of_char(&self, char_index: usize) -> u32 {
        match &self.char_bytes {
            None => char_index.min(self.text.len()) as u32,
            Some(v) => *v.get(char_index).unwrap_or(v.last().unwrap_or(&0)),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, byte: u32) -> (u32, u32) {
        let line_idx = self.line_index(byte);
        let start = self.line_starts[line_idx] as usize;
        let end = (byte as usize).min(self.text.len());
        let col = self.text.get(start..end).map_or(end - start, |s| s.chars().count());
        (line_idx as u32 + 1, col as u32 + 1)
    }

    /// Each line, without its line break, with the byte offset where it starts.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.line_starts.iter().enumerate().map(|(i, &start)| (start, self.line_text(i as u32 + 1)))
    }

    /// Text of the 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self.line_starts.get(i + 1).map_or(self.text.len(), |&e| e as usize);
        self.text[start as usize..end].trim_end_matches(['\n', '\r'])
    }
}

/// All files read during one run. Append-only; ids stay valid for the whole run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: RwLock<Vec<Arc<SourceFile>>>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&self, file: SourceFile) -> FileId {
        let mut files = self.files.write().expect("source map lock");
        files.push(Arc::new(file));
        (files.len() - 1) as FileId
    }

    /// Every file read so far, with its id.
    pub fn all(&self) -> Vec<(FileId, Arc<SourceFile>)> {
        let files = self.files.read().expect("source map lock");
        files.iter().enumerate().map(|(i, f)| (i as FileId, f.clone())).collect()
    }

    pub fn get(&self, id: FileId) -> Arc<SourceFile> {
        self.files.read().expect("source map lock")[id as usize].clone()
    }

    /// A span covering `[start, end)` bytes of a file, with line and column filled in.
    pub fn span(&self, id: FileId, start: u32, end: u32) -> Span {
        let f = self.get(id);
        let (line, col) = f.line_col(start);
        Span { file: id, start, end: end.max(start), line, col }
    }

    /// Narrow `span` to the first place inside it where `needle` occurs in the source text, so a finding
    /// points at the exact line of a multi-line script rather than at the start of the block.
    pub fn locate(&self, span: Span, needle: &str) -> Span {
        if needle.is_empty() {
            return span;
        }
        let f = self.get(span.file);
        let (s, e) = (span.start as usize, (span.end as usize).min(f.text.len()));
        if let Some(slice) = f.text.get(s..e)
            && let Some(off) = slice.find(needle)
        {
            let start = (s + off) as u32;
            return self.span(span.file, start, start + needle.len() as u32);
        }
        span
    }

    /// Compare two spans by file path, then position. File ids depend on the order in which threads read
    /// files, so output is always ordered with this, never by `Span`'s own order.
    pub fn cmp_spans(&self, a: Span, b: Span) -> std::cmp::Ordering {
        let (fa, fb) = (self.get(a.file), self.get(b.file));
        (fa.display.as_str(), a.start, a.end).cmp(&(fb.display.as_str(), b.start, b.end))
    }
}
