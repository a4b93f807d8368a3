//! `--format html`: one self-contained page (no request at view time) that a security or platform team
//! publishes with GitLab Pages: the summary, the findings with their source lines, a sortable and filterable
//! edge table, per callee its allowlist and who uses each entry, and the neighbourhood graph of any selected
//! project, drawn in the page (an org-wide graph is unreadable).
//!
//! The data is one JSON document inside `<script type="application/json">`, written compactly (project
//! paths once, in a table; edges as arrays of indexes) so a 10,000-project report stays small, and every
//! `<` escaped so no scanned text can close the script. The page's script builds the DOM with
//! `textContent` only: a file name or message from a scanned repository is never parsed as HTML. The view
//! (filters, sort, selected project) lives in the URL fragment, so a filtered view can be linked to.

use super::{Report, evidence, summary, token_edges};
use crate::snapshot::manifest::EntryKind;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Characters of a source line shown beside a finding; a longer line is cut with an ellipsis.
const SNIPPET_WIDTH: usize = 240;
/// Evidence places kept per edge; the count of the rest is given.
const EVIDENCE_SHOWN: usize = 3;

/// Paths, each stored once: the index a project is written as.
#[derive(Default)]
struct Paths {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Paths {
    fn id(&mut self, path: &str) -> usize {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        self.list.push(path.to_string());
        self.index.insert(path.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

/// A line of a source file, cut to [`SNIPPET_WIDTH`] characters.
fn cut(line: &str) -> String {
    crate::text::clip(line, SNIPPET_WIDTH).into_owned()
}

pub(crate) fn render(report: &Report) -> String {
    let audit = report.audit;
    let sources = &audit.snap.sources;
    let mut paths = Paths::default();
    let s = summary(report);
    let mut statuses: Vec<&str> = Vec::new();
    let mut edges = Vec::new();
    for e in report.edges().filter(|e| e.status != crate::engine::EdgeStatus::Relation) {
        let places = evidence(audit, e);
        let shown: Vec<String> =
            places.iter().take(EVIDENCE_SHOWN).map(|(f, l, _)| format!("{}:{l}", cut(f))).collect();
        let status = match statuses.iter().position(|x| *x == e.status.as_str()) {
            Some(i) => i,
            None => {
                statuses.push(e.status.as_str());
                statuses.len() - 1
            }
        };
        edges.push(json!([
            paths.id(&e.caller),
            paths.id(&e.callee),
            status,
            e.kind_list(),
            e.permission_list(),
            shown,
            places.len().saturating_sub(EVIDENCE_SHOWN),
        ]));
    }
    // Per callee with edges: its setting and allowlist, and the callers each entry admits.
    let mut callees: Vec<&str> = token_edges(audit).map(|e| e.callee.as_str()).collect();
    callees.sort_unstable();
    callees.dedup();
    let mut allowlists = Vec::new();
    for callee in callees {
        let Some(p) = audit.snap.manifest.projects.get(callee) else { continue };
        let mut users: HashMap<usize, Vec<usize>> = HashMap::new();
        for e in token_edges(audit).filter(|e| e.callee == callee) {
            if let Some(i) = e.entry {
                let caller = paths.id(&e.caller);
                users.entry(i).or_default().push(caller);
            }
        }
        let entries: Vec<Value> = p
            .job_token
            .allowlist
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                json!([
                    paths.id(&entry.path),
                    matches!(entry.kind, EntryKind::Group),
                    entry.permissions.as_ref().map(|ps| crate::snapshot::manifest::Permission::list(ps.iter())),
                    users.remove(&i).unwrap_or_default(),
                ])
            })
            .collect();
        allowlists.push(json!([paths.id(callee), p.job_token.inbound_enabled, entries]));
    }
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (location, snippet) = match f.span {
                Some(span) => {
                    let file = sources.get(span.file);
                    let lines: Vec<Value> = (span.line.saturating_sub(1).max(1)..=span.line + 1)
                        .filter(|&l| (l as usize) <= file.line_total())
                        .map(|l| json!([l, cut(file.line_text(l))]))
                        .collect();
                    (format!("{}:{}:{}", cut(&file.display), span.line, span.col), lines)
                }
                None => (String::new(), Vec::new()),
            };
            json!({
                "severity": f.severity.as_str(),
                "rule": f.rule,
                "docs": report.rule_docs(f.rule),
                "project": paths.id(&f.project),
                "message": f.message,
                "help": f.help,
                "location": location,
                "line": f.span.map(|s| s.line),
                "snippet": snippet,
            })
        })
        .collect();
    let data = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "summary": {
            "projects": s.projects, "failed": s.failed, "edges": s.edges, "statuses": s.statuses(),
            "errors": s.errors, "warnings": s.warnings, "notes": s.notes, "suppressed": s.suppressed,
        },
        "statuses": statuses,
        "paths": paths.list,
        "edges": edges,
        "allowlists": allowlists,
        "findings": findings,
    });
    // `<` as `\u003c`: nothing in the data can end the script element or open a comment.
    let data = serde_json::to_string(&data).expect("report data serialises").replace('<', "\\u003c");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>tokenscope: job-token allowlist report</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{BODY}\
         <script type=\"application/json\" id=\"data\">{data}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

const CSS: &str = include_str!("html/report.css");
const BODY: &str = include_str!("html/body.html");
const SCRIPT: &str = include_str!("html/report.js");
