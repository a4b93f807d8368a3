//! The report: one model, built once from the audit and the policy's result, and one renderer per format.
//!
//! [`Report::new`] takes the findings the policy kept, the suppressed ones and the expired ignores. The
//! renderers write the report's text as it is; [`Format::render`] cleans what they wrote, once, in one
//! place (tokens redacted, control characters escaped). Only coloured human output, whose own escape codes
//! must survive, is made of pieces cleaned one by one (`human`, `diagnostics`).

pub(crate) mod codequality;
pub(crate) mod csv;
pub(crate) mod diagnostics;
pub(crate) mod dot;
pub(crate) mod html;
pub(crate) mod human;
pub(crate) mod jobs;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod mermaid;
pub(crate) mod sarif;
pub(crate) mod security;

use crate::diag::Severity;
use crate::engine::graph::Relation;
use crate::engine::{Audit, Edge, EdgeStatus};
use crate::finding::Finding;
use crate::policy::{Applied, Suppressed};
use crate::source::Span;
use std::collections::BTreeMap;

/// What every format renders.
pub(crate) struct Report<'a> {
    pub(crate) audit: &'a Audit<'a>,
    /// The findings to report, sorted, most severe first.
    pub(crate) findings: Vec<Finding>,
    /// Findings an ignore suppressed, with why.
    pub(crate) suppressed: Vec<Suppressed>,
    /// Policy ignores that have expired.
    pub(crate) expired_ignores: Vec<crate::policy::Expired>,
    /// Ignores that do nothing (warnings, also printed on standard error).
    pub(crate) ignore_warnings: Vec<crate::diag::Diagnostic>,
    /// The edges shown (indexes into `audit.edges`): all of them, or a neighbourhood (`tokenscope graph`).
    pub(crate) view: Option<Vec<usize>>,
    pub(crate) context: Context,
}

/// What a report needs beyond the audit: where the rules' docs are, and whether it lints one checkout.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    /// The rules page's absolute URL (`--docs-url`): SARIF's `helpUri`, Markdown and HTML links.
    pub(crate) docs_url: String,
    /// `lint`: paths stay relative to the checkout; an org audit prefixes each with its project's path.
    pub(crate) lint: bool,
    /// The commit audited (`$CI_COMMIT_SHA` in lint): evidence links point at it, not at the default branch.
    pub(crate) commit: Option<String>,
}

impl Default for Context {
    fn default() -> Self {
        Context { docs_url: crate::rules::meta::DOCS_URL.to_string(), lint: false, commit: None }
    }
}

impl<'a> Report<'a> {
    pub(crate) fn new(audit: &'a Audit<'a>, applied: Applied) -> Self {
        Report {
            audit,
            findings: applied.findings,
            suppressed: applied.suppressed,
            expired_ignores: applied.expired,
            ignore_warnings: applied.warnings,
            view: None,
            context: Context::default(),
        }
    }

    pub(crate) fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// The section of rule `id` in the rules' documentation (`--docs-url`).
    pub(crate) fn rule_docs(&self, id: &str) -> String {
        crate::rules::meta::docs_at(&self.context.docs_url, id)
    }

    /// Where a finding's file is, for a report read outside tokenscope (Code Quality, security reports):
    /// relative to the checkout in lint; in an org audit, prefixed with the project's path, since every
    /// project has a `.gitlab-ci.yml`.
    pub(crate) fn report_path(&self, span: Span) -> String {
        let file = self.audit.snap.sources.get(span.file);
        match (&file.repo_path, &file.project) {
            (Some(path), _) if self.context.lint => path.clone(),
            (Some(path), Some(project)) => format!("{project}/{path}"),
            _ => file.display.clone(),
        }
    }

    /// The edges the graph formats draw: every edge, or the neighbourhood asked for.
    pub(crate) fn edges(&self) -> Box<dyn Iterator<Item = &'a crate::engine::Edge> + '_> {
        let edges = &self.audit.edges;
        match &self.view {
            None => Box::new(edges.iter()),
            Some(v) => Box::new(v.iter().map(move |&i| &edges[i])),
        }
    }
}

/// The output formats of `audit` and `lint`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub(crate) enum Format {
    Human,
    Json,
    Markdown,
    Csv,
    Sarif,
    CodeQuality,
    Junit,
    Dot,
    Mermaid,
    /// One self-contained page: findings, a filterable edge table, allowlists, a project's neighbourhood.
    Html,
    /// GitLab's secret-detection report (`artifacts:reports:secret_detection`).
    #[strum(serialize = "secret-detection")]
    SecretDetection,
    /// GitLab's SAST report (`artifacts:reports:sast`).
    Sast,
}

impl Format {
    /// The name on the command line (`--format codequality`).
    pub(crate) fn name(self) -> &'static str {
        self.into()
    }

    /// The report in this format; `color` only matters to `Human`.
    ///
    /// Output is cleaned here, once, whole: every token is redacted, and no control character from a
    /// scanned file reaches the output as it is. An uncoloured text has its control characters escaped
    /// (tokenscope's own text has none but line breaks and tabs); JSON documents get JSON escapes;
    /// coloured human output is made of pieces that were each cleaned, then redacted whole.
    /// `width`: the terminal's columns, which the human edge table fits (None: a file, no limit).
    pub(crate) fn render(self, report: &Report, color: bool, width: Option<usize>) -> String {
        let (text, json) = (clean_text, clean_json);
        match self {
            Format::Human if color => changed(human::render(report, true, width), crate::text::redact),
            Format::Human => text(human::render(report, false, width)),
            Format::Json => json(json::render(report)),
            Format::Markdown => text(markdown::render(report)),
            Format::Csv => text(csv::render(report)),
            Format::Sarif => json(pretty_json(&sarif::render(report))),
            Format::CodeQuality => json(pretty_json(&codequality::render(report))),
            Format::Junit => text(junit::render(report)),
            Format::Dot => text(dot::render(report)),
            Format::Mermaid => text(mermaid::render(report)),
            Format::Html => json(html::render(report)),
            Format::SecretDetection => json(pretty_json(&security::render(report, security::Kind::SecretDetection))),
            Format::Sast => json(pretty_json(&security::render(report, security::Kind::Sast))),
        }
    }
}

/// `s` itself when `f` finds nothing to change (the usual case: no copy of a large report), else the change.
fn changed(s: String, f: impl FnOnce(&str) -> std::borrow::Cow<'_, str>) -> String {
    let owned = match f(&s) {
        std::borrow::Cow::Owned(o) => Some(o),
        std::borrow::Cow::Borrowed(_) => None,
    };
    owned.unwrap_or(s)
}

/// A text output, cleaned whole: tokens redacted, control characters escaped.
pub(crate) fn clean_text(s: String) -> String {
    changed(s, crate::text::clean)
}

/// A JSON output, cleaned whole: tokens redacted, unsafe characters as JSON escapes (the same document).
pub(crate) fn clean_json(s: String) -> String {
    changed(changed(s, crate::text::redact), crate::text::json_safe)
}

/// Counts shown in every format's summary.
pub(crate) struct Summary {
    pub(crate) projects: usize,
    pub(crate) failed: usize,
    pub(crate) edges: usize,
    pub(crate) by_status: BTreeMap<&'static str, usize>,
    pub(crate) errors: usize,
    pub(crate) warnings: usize,
    pub(crate) notes: usize,
    pub(crate) suppressed: usize,
}

impl Summary {
    /// Edge counts by status (`10 allowed, 2 missing`), or `none`.
    pub(crate) fn statuses(&self) -> String {
        if self.by_status.is_empty() {
            return "none".to_string();
        }
        self.by_status.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
    }
}

pub(crate) fn summary(report: &Report) -> Summary {
    let audit = report.audit;
    let mut by_status = BTreeMap::new();
    let mut edges = 0;
    for e in token_edges(audit) {
        *by_status.entry(e.status.as_str()).or_insert(0) += 1;
        edges += 1;
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    Summary {
        projects: audit.pipelines.len(),
        failed: audit.pipelines.iter().filter(|p| p.status == crate::ci::Status::Failed).count(),
        edges,
        by_status,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        notes: count(Severity::Note),
        suppressed: report.suppressed.len(),
    }
}

/// Places of evidence a machine-readable report lists per edge (JSON; the total is given beside them): an
/// access written in a template that thousands of jobs extend would otherwise repeat per job, per project,
/// and a report of a few thousand projects would run to hundreds of megabytes.
pub(crate) const EVIDENCE_KEPT: usize = 50;
/// Places of evidence the tables (Markdown, CSV) show per edge, then "(+N more)".
pub(crate) const EVIDENCE_SHOWN: usize = 10;

/// `file:line` of an edge's evidence, with the number of further places.
pub(crate) fn evidence(audit: &Audit, e: &Edge) -> Vec<(String, u32, Span)> {
    let src = &audit.snap.sources;
    let spans: Vec<Span> = if e.relation == Relation::Token {
        e.accesses.iter().map(|&i| audit.accesses[i].span).collect()
    } else {
        e.spans.clone()
    };
    spans.into_iter().map(|s| (src.get(s.file).display.clone(), s.line, s)).collect()
}

/// The first [`EVIDENCE_SHOWN`] places of an edge's evidence, each written by `place(file, line, span)`,
/// then `(+N more)` when there are more: the evidence cell of the Markdown and CSV tables.
pub(crate) fn evidence_shown(audit: &Audit, e: &Edge, place: impl Fn(&str, u32, Span) -> String) -> Vec<String> {
    let places = evidence(audit, e);
    let mut out: Vec<String> = places.iter().take(EVIDENCE_SHOWN).map(|(f, l, s)| place(f, *l, *s)).collect();
    if places.len() > EVIDENCE_SHOWN {
        out.push(format!("(+{} more)", places.len() - EVIDENCE_SHOWN));
    }
    out
}

/// A link to a line on the instance, for files in a project's repository: at the commit audited when the
/// report knows it (lint), else at the project's default branch.
pub(crate) fn link(report: &Report, span: Span) -> Option<String> {
    let audit = report.audit;
    let f = audit.snap.sources.get(span.file);
    let (project, path) = (f.project.as_ref()?, f.repo_path.as_ref()?);
    let branch = audit
        .snap
        .manifest
        .projects
        .get(project)
        .map_or(crate::snapshot::manifest::DEFAULT_BRANCH, |p| p.default_branch.as_str());
    let rev = report.context.commit.as_deref().filter(|_| report.context.lint).unwrap_or(branch);
    Some(format!("{}/{project}/-/blob/{rev}/{path}#L{}", audit.snap.manifest.instance.url, span.line))
}

/// A Markdown table cell: `|` escaped, line breaks made spaces.
pub fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A Markdown code span outside a table (a heading): backticks are fenced by a longer run, nothing else is
/// escaped (a `\\|` would show as it is).
pub fn md_code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut run = 0;
    let longest = s.chars().fold(0, |m, c| {
        run = if c == '`' { run + 1 } else { 0 };
        m.max(run)
    });
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

pub(crate) fn token_edges<'a>(audit: &'a Audit) -> impl Iterator<Item = &'a Edge> {
    audit.edges.iter().filter(|e| e.status != EdgeStatus::Relation)
}

/// serde_json's pretty printer (two-space indent), starting `depth` levels in: a part of a document written
/// on its own comes out exactly as it would inside the whole.
struct Indented {
    depth: usize,
    has_value: bool,
}

/// A line break and the indent of `depth` levels (two spaces each, as serde_json's pretty printer).
fn newline<W: ?Sized + std::io::Write>(w: &mut W, depth: usize) -> std::io::Result<()> {
    w.write_all(b"\n")?;
    (0..depth).try_for_each(|_| w.write_all(b"  "))
}

impl Indented {
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            newline(w, self.depth)?;
        }
        w.write_all(bracket)
    }
    fn item<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        newline(w, self.depth)
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Append `value`, pretty-printed as if `depth` levels deep in a document, to `out`.
fn pretty_at<T: serde::Serialize + ?Sized>(value: &T, depth: usize, out: &mut Vec<u8>) {
    let mut ser = serde_json::Serializer::with_formatter(out, Indented { depth, has_value: false });
    value.serialize(&mut ser).expect("serializing to memory cannot fail");
}

/// A pretty-printed JSON document written a part at a time, each part exactly as serde_json's pretty printer
/// would write it in place, so that a large report's long lists can be written in parallel.
pub(crate) struct PrettyDoc {
    out: Vec<u8>,
    fields: usize,
}

impl PrettyDoc {
    /// A document that is an object.
    pub(crate) fn object() -> Self {
        PrettyDoc { out: b"{".to_vec(), fields: 0 }
    }

    fn key(&mut self, key: &str) {
        entry(&mut self.out, self.fields == 0, 0, Some(key));
        self.fields += 1;
    }

    /// A field with a value of any size, written here.
    pub(crate) fn field<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.key(key);
        pretty_at(value, 1, &mut self.out);
    }

    /// A field whose value is a list, its items made and written in parallel, in order.
    pub(crate) fn list<T: serde::Serialize + Send>(
        &mut self,
        key: &str,
        items: impl rayon::iter::ParallelIterator<Item = T>,
    ) {
        self.key(key);
        write_list(items, 1, &mut self.out);
    }

    /// The document, ending in a line break.
    pub(crate) fn finish(mut self) -> String {
        if self.fields == 0 {
            self.out.push(b'}');
        } else {
            close(&mut self.out, 0, b'}');
        }
        self.out.push(b'\n');
        String::from_utf8(self.out).expect("serde_json writes UTF-8")
    }
}

/// A list `depth` levels deep, its items written in parallel into a few buffers, then joined in order.
fn write_list<T: serde::Serialize + Send>(
    items: impl rayon::iter::ParallelIterator<Item = T>,
    depth: usize,
    out: &mut Vec<u8>,
) {
    use rayon::iter::ParallelIterator;
    let chunks: Vec<Vec<u8>> = items
        .fold(Vec::new, |mut buf, item| {
            let first = buf.is_empty();
            entry(&mut buf, first, depth, None);
            pretty_at(&item, depth + 1, &mut buf);
            buf
        })
        .filter(|buf| !buf.is_empty())
        .collect();
    if chunks.is_empty() {
        out.extend_from_slice(b"[]");
        return;
    }
    out.push(b'[');
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(chunk);
    }
    close(out, depth, b']');
}

/// The start of an entry of an array or object `depth` levels deep: the comma after the previous entry, a
/// line break, the indent, and for an object the key.
fn entry(out: &mut Vec<u8>, first: bool, depth: usize, key: Option<&str>) {
    if !first {
        out.push(b',');
    }
    newline(out, depth + 1).expect("writing to memory cannot fail");
    if let Some(k) = key {
        serde_json::to_writer(&mut *out, k).expect("serializing to memory cannot fail");
        out.extend_from_slice(b": ");
    }
}

/// The end of a non-empty array or object `depth` levels deep.
fn close(out: &mut Vec<u8>, depth: usize, bracket: u8) {
    newline(out, depth).expect("writing to memory cannot fail");
    out.push(bracket);
}

/// `serde_json::to_string_pretty` of `doc`, byte for byte, with the elements of long arrays written in
/// parallel: a large org's report holds tens of thousands of edges and findings.
pub(crate) fn pretty_json(doc: &serde_json::Value) -> String {
    use rayon::prelude::*;
    use serde_json::Value;
    const PARALLEL_FROM: usize = 256;
    /// Whether `v` holds a long array, and is then written a part at a time.
    fn is_big(v: &Value) -> bool {
        match v {
            Value::Array(items) => items.len() >= PARALLEL_FROM || items.iter().any(is_big),
            Value::Object(m) => m.values().any(is_big),
            _ => false,
        }
    }
    fn write(v: &Value, depth: usize, out: &mut Vec<u8>) {
        match v {
            Value::Array(items) if items.len() >= PARALLEL_FROM => write_list(items.par_iter(), depth, out),
            Value::Array(items) if !items.is_empty() && is_big(v) => {
                block(out, *b"[]", depth, items.iter().map(|x| (None, x)));
            }
            Value::Object(m) if !m.is_empty() && is_big(v) => {
                block(out, *b"{}", depth, m.iter().map(|(k, x)| (Some(k.as_str()), x)));
            }
            _ => pretty_at(v, depth, out),
        }
    }
    /// A non-empty array or object holding a long array: each entry on its own line, one level deeper.
    fn block<'v>(
        out: &mut Vec<u8>,
        brackets: [u8; 2],
        depth: usize,
        entries: impl Iterator<Item = (Option<&'v str>, &'v Value)>,
    ) {
        out.push(brackets[0]);
        for (i, (key, x)) in entries.enumerate() {
            entry(out, i == 0, depth, key);
            write(x, depth + 1, out);
        }
        close(out, depth, brackets[1]);
    }
    let mut out = Vec::new();
    write(doc, 0, &mut out);
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;
    use serde_json::{Value, json};

    fn item(i: usize) -> Value {
        json!({"path": format!("g/p{i}"), "n": i, "ok": i.is_multiple_of(2), "none": null, "empty": [], "obj": {},
               "text": "a \"quoted\"\nline\ttab é \u{1F600} \\", "list": [1, [2, []], {"k": [3]}]})
    }

    #[test]
    fn pretty_json_is_serde_json_pretty() {
        let big: Vec<Value> = (0..600).map(item).collect();
        for doc in [
            json!({}),
            json!([]),
            json!("just a string"),
            json!({"version": 1, "small": [item(1)], "empty": []}),
            json!({"version": 1, "projects": big.clone(), "nested": {"edges": big.clone(), "x": 1}, "after": [] }),
            Value::Array(big.clone()),
            json!([[big.clone()], {}]),
        ] {
            assert_eq!(super::pretty_json(&doc), serde_json::to_string_pretty(&doc).unwrap() + "\n");
        }
    }

    #[test]
    fn a_document_written_in_parts_is_serde_json_pretty() {
        let big: Vec<Value> = (0..600).map(item).collect();
        let small = json!({"a": [], "b": {"c": [1, [2]]}});
        let mut doc = super::PrettyDoc::object();
        doc.field("version", &1);
        doc.list("big", big.par_iter());
        doc.list("none", Vec::<Value>::new().into_par_iter());
        doc.list("odd", big.par_iter().filter(|v| v["n"].as_u64().is_some_and(|n| n % 2 == 1)));
        doc.list("one", vec![item(7)].into_par_iter());
        doc.field("small", &small);
        let odd: Vec<Value> = big.iter().filter(|v| v["n"].as_u64().is_some_and(|n| n % 2 == 1)).cloned().collect();
        let whole = json!({"version": 1, "big": big, "none": [], "odd": odd, "one": [item(7)], "small": small});
        assert_eq!(doc.finish(), serde_json::to_string_pretty(&whole).unwrap() + "\n");
        assert_eq!(super::PrettyDoc::object().finish(), "{}\n");
    }
}
