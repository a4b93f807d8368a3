//! Text that leaves tokenscope: secrets never do, and text from scanned files cannot drive a terminal.
//!
//! Anything that looks like a GitLab token is redacted before it is printed or written ([`redact`]), and
//! control characters in text that came from files (a `.gitmodules` path holding `ESC ]0;...`, a job name
//! with a carriage return) are shown escaped ([`clean`] does both). Source snippets keep their byte
//! offsets: [`mask`] hides tokens with `*` and control characters with `?` of the same length.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Prefixes of GitLab tokens (personal, deploy, trigger, CI build/job, runner, feed, OAuth, ...).
pub(crate) const TOKEN_PREFIXES: &[&str] = &[
    "glpat-",
    "gldt-",
    "glptt-",
    "glcbt-",
    "glrt-",
    "glrtr-",
    "gloas-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "GR1348941",
];

/// A GitLab token: a known prefix followed by at least 8 token characters.
pub(crate) static TOKEN_RE: LazyLock<Regex> = LazyLock::new(|| {
    let alts: Vec<String> = TOKEN_PREFIXES.iter().map(|p| regex::escape(p)).collect();
    Regex::new(&format!(r"({})[A-Za-z0-9_\-.]{{8,}}", alts.join("|"))).expect("static regex")
});

/// The text with every token replaced by its prefix and `[REDACTED]`.
pub(crate) fn redact(s: &str) -> Cow<'_, str> {
    TOKEN_RE.replace_all(s, "${1}[REDACTED]")
}

/// The text with each token's secret part replaced by `*`, and each unsafe character (see [`clean`]) by
/// as many `?` as it has bytes, so that byte offsets into the text stay valid (for source snippets).
pub(crate) fn mask(s: &str) -> Cow<'_, str> {
    let masked = TOKEN_RE.replace_all(s, |c: &regex::Captures| {
        let prefix = &c[1];
        format!("{prefix}{}", "*".repeat(c[0].len() - prefix.len()))
    });
    // A carriage return ending a line (CRLF files) is left alone; one inside a line could hide its start.
    let bytes = masked.as_bytes();
    let unsafe_at = |i: usize, c: char| is_unsafe(c) && !(c == '\r' && bytes.get(i + 1) == Some(&b'\n'));
    if !masked.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return masked;
    }
    let mut o = String::with_capacity(masked.len());
    for (i, c) in masked.char_indices() {
        if unsafe_at(i, c) {
            (0..c.len_utf8()).for_each(|_| o.push('?'));
        } else {
            o.push(c);
        }
    }
    Cow::Owned(o)
}

/// Whether `c` must not reach a terminal as it is: C0 and C1 control characters (but for line breaks and
/// tabs, which text output uses itself), DEL, and the bidirectional overrides and isolates that can make a
/// line read differently from what it holds.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` holds an unsafe character (see [`is_unsafe`]), tested on bytes: C0 controls and DEL are one
/// byte, C1 controls are `C2 80..9F`, and the bidirectional controls are `E2 80 AA..AE` and `E2 81 A6..A9`.
/// Text output is mostly ASCII and box-drawing characters (`E2 94 ..`), which this passes over without
/// decoding characters.
fn may_be_unsafe(s: &str) -> bool {
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    b.iter().enumerate().any(|(i, &c)| match c {
        b'\n' | b'\t' => false,
        0..0x20 | 0x7f => true,
        0xc2 => (0x80..=0x9f).contains(&at(i + 1)),
        0xe2 => matches!((at(i + 1), at(i + 2)), (0x80, 0xaa..=0xae) | (0x81, 0xa6..=0xa9)),
        _ => false,
    })
}

/// The text with each unsafe character written as `escape` writes it; borrowed when there are none, which
/// is nearly always.
fn escape_unsafe(s: &str, escape: fn(u32) -> String) -> Cow<'_, str> {
    if !may_be_unsafe(s) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe(c) {
            o.push_str(&escape(c as u32));
        } else {
            o.push(c);
        }
    }
    Cow::Owned(o)
}

/// The text with unsafe characters shown escaped (`\u{1b}`).
pub(crate) fn escape_controls(s: &str) -> Cow<'_, str> {
    escape_unsafe(s, |c| format!("\\u{{{c:x}}}"))
}

/// A JSON document with every unsafe character that serde leaves as it is (DEL, C1 controls,
/// bidirectional controls) written as a JSON escape (`\u202e`): the same document, safe on a terminal.
/// serde already escapes C0 controls, and an unsafe character can only stand inside a string.
pub(crate) fn json_safe(doc: &str) -> Cow<'_, str> {
    escape_unsafe(doc, |c| format!("\\u{c:04x}"))
}

/// Text for output: tokens redacted and control characters escaped.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    match redact(s) {
        Cow::Borrowed(b) => escape_controls(b),
        Cow::Owned(o) => Cow::Owned(escape_controls(&o).into_owned()),
    }
}

/// [`clean`] for a single line of output: line breaks and tabs escaped too (a job name, a path).
pub(crate) fn clean_line(s: &str) -> Cow<'_, str> {
    if s.contains(['\n', '\t']) {
        return Cow::Owned(clean(s).replace('\n', "\\n").replace('\t', "\\t"));
    }
    clean(s)
}

/// At most `max` characters of `s`, with `…` when cut: for echoing a value from the input in a message.
pub(crate) fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(s),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}…", &s[..at])),
    }
}

/// `n` and the noun, in the singular for one: `1 project`, `2 projects`.
pub(crate) fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_and_keeps_the_rest() {
        assert_eq!(redact("TOKEN=glpat-abcdefgh12345678 x"), "TOKEN=glpat-[REDACTED] x");
        assert_eq!(redact("GR1348941abcdefghijk"), "GR1348941[REDACTED]");
        assert_eq!(redact("glpat-short"), "glpat-short");
        assert_eq!(redact("$CI_JOB_TOKEN"), "$CI_JOB_TOKEN");
        assert_eq!(mask("a glpat-abcdefgh12 b").len(), "a glpat-abcdefgh12 b".len());
        assert_eq!(mask("a glpat-abcdefgh12 b"), "a glpat-********** b");
    }

    #[test]
    fn control_characters_are_escaped_or_masked() {
        let hostile = "sub\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{202e}x\u{9b}";
        assert_eq!(clean(hostile), "sub\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\u{202e}x\\u{9b}");
        assert_eq!(clean("two\nlines\ttab"), "two\nlines\ttab");
        assert_eq!(clean_line("two\nlines"), "two\\nlines");
        assert!(matches!(clean("plain text"), Cow::Borrowed(_)));
        // The byte test agrees with the character test, box-drawing and other E2/C2 characters included.
        for s in [
            "─│╭╰·é",
            "\u{2028}\u{2066}",
            "\u{80}",
            "\u{a0}",
            "a\u{9f}b",
            "\u{202a}",
            "\u{2069}x",
            "\u{2070}",
            "\u{1b}",
        ] {
            assert_eq!(may_be_unsafe(s), s.chars().any(is_unsafe), "{s:?}");
        }
        // Same length, same line breaks: snippets keep their offsets.
        let m = mask(hostile);
        assert_eq!(m.len(), hostile.len());
        assert!(!m.chars().any(is_unsafe), "{m:?}");
        assert_eq!(mask("a\r\nb\rc"), "a\r\nb?c");
        // JSON: the same string once decoded, and nothing unsafe left in the text.
        let doc = serde_json::to_string(&serde_json::json!({"k": hostile})).unwrap();
        let safe = json_safe(&doc);
        assert!(!safe.chars().any(is_unsafe), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["k"], hostile);
    }
}
