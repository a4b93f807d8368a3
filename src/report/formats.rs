//! The formats for people and tools besides human and JSON: Markdown (the allowlist edge-table report),
//! CSV, SARIF 2.1.0, GitLab Code Quality, JUnit, and the graph alone as DOT or Mermaid. Every one is
//! rendered from the same audit result.

use super::summary;
use crate::audit::{Audit, Edge, EdgeStatus, registry};
use crate::diag::Severity;
use crate::finding::Finding;
use crate::graph::Relation;
use crate::redact::redact;
use crate::source::Span;
use serde_json::{Value, json};
use std::fmt::Write;

/// `file:line` of an edge's evidence, with the number of further places.
fn evidence(audit: &Audit, e: &Edge) -> Vec<(String, u32, Span)> {
    let src = &audit.snap.sources;
    let spans: Vec<Span> = if e.relation == Relation::Token {
        e.accesses.iter().map(|&i| audit.accesses[i].span).collect()
    } else {
        e.spans.clone()
    };
    spans.into_iter().map(|s| (src.get(s.file).display.clone(), s.line, s)).collect()
}

/// A link to a line on the instance, for files in a project's repository.
fn link(audit: &Audit, span: Span) -> Option<String> {
    let f = audit.snap.sources.get(span.file);
    let (project, path) = (f.project.as_ref()?, f.repo_path.as_ref()?);
    let branch = audit
        .snap
        .manifest
        .projects
        .get(project)
        .map_or(crate::snapshot::manifest::DEFAULT_BRANCH, |p| p.default_branch.as_str());
    Some(format!("{}/{project}/-/blob/{branch}/{path}#L{}", audit.snap.manifest.instance.url, span.line))
}

/// A Markdown table cell: `|` escaped, line breaks made spaces.
pub fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn token_edges<'a>(audit: &'a Audit) -> impl Iterator<Item = &'a Edge> {
    audit.edges.iter().filter(|e| e.status != EdgeStatus::Relation)
}

/// Mermaid `graph LR`: token edges solid (missing ones red), `trigger`/`include` relations dashed.
pub fn mermaid(audit: &Audit) -> String {
    let mut o = String::from("graph LR\n");
    let mut ids: Vec<String> = Vec::new();
    let mut id = |name: &str, o: &mut String| -> String {
        match ids.iter().position(|n| n == name) {
            Some(i) => format!("n{i}"),
            None => {
                ids.push(name.to_string());
                let _ = writeln!(o, "  n{}[\"{}\"]", ids.len() - 1, redact(name).replace('"', "'"));
                format!("n{}", ids.len() - 1)
            }
        }
    };
    let mut missing = Vec::new();
    for (k, e) in audit.edges.iter().enumerate() {
        let (a, b) = (id(&e.caller, &mut o), id(&e.callee, &mut o));
        let label = e.kind_list().replace('"', "'");
        let arrow = if e.status == EdgeStatus::Relation { "-.->" } else { "-->" };
        let _ = writeln!(o, "  {a} {arrow}|\"{label}\"| {b}");
        if matches!(e.status, EdgeStatus::Missing | EdgeStatus::Unenforced) {
            missing.push(k);
        }
    }
    for k in missing {
        let _ = writeln!(o, "  linkStyle {k} stroke:#d00,stroke-width:2px");
    }
    o
}

/// DOT: the same graph for Graphviz.
pub fn dot(audit: &Audit) -> String {
    let q = |s: &str| format!("\"{}\"", redact(s).replace('\\', "\\\\").replace('"', "\\\""));
    let mut o = String::from("digraph tokenscope {\n  rankdir=LR;\n  node [shape=box];\n");
    for e in &audit.edges {
        let label = e.kind_list();
        let style = match e.status {
            EdgeStatus::Relation => "style=dashed, color=gray40",
            EdgeStatus::Missing => "color=red, penwidth=2",
            EdgeStatus::Unenforced => "color=orange, penwidth=2",
            _ => "style=solid",
        };
        let _ = writeln!(
            o,
            "  {} -> {} [label={}, {style}];",
            q(&e.caller),
            q(&e.callee),
            q(&format!("{label} ({})", e.status.as_str()))
        );
    }
    o.push_str("}\n");
    o
}

/// The allowlist edge-table report: a summary, per callee a table of its callers, the findings, and the graph.
pub fn markdown(audit: &Audit, findings: &[Finding]) -> String {
    let s = summary(audit, findings);
    let mut o = String::from("# Job-token allowlist report\n\n");
    let _ = writeln!(
        o,
        "{} projects ({} failed to load), {} job-token edges ({}). Findings: {} error(s), {} warning(s), {} note(s); {} suppressed.\n",
        s.projects,
        s.failed,
        s.edges,
        s.statuses(),
        s.errors,
        s.warnings,
        s.notes,
        s.suppressed
    );
    let mut gaps = super::skipped(audit).peekable();
    if gaps.peek().is_some() {
        o.push_str("## Not read\n\nData the snapshot could not read; nothing is concluded from it.\n\n| project | data | reason |\n|---|---|---|\n");
        for (project, s) in gaps {
            let what = if s.failed { " (failed)" } else { "" };
            let _ =
                writeln!(o, "| `{}` | {}{what} | {} |", md_cell(project), s.data.as_str(), md_cell(&redact(&s.reason)));
        }
        o.push('\n');
    }
    let mut callees: Vec<&str> = token_edges(audit).map(|e| e.callee.as_str()).collect();
    callees.sort_unstable();
    callees.dedup();
    o.push_str("## Edges by callee\n");
    for callee in callees {
        let _ = writeln!(o, "\n### `{}`\n", md_cell(&redact(callee)));
        o.push_str("| caller | callee | kinds | permissions | status | evidence |\n|---|---|---|---|---|---|\n");
        for e in token_edges(audit).filter(|e| e.callee == callee) {
            let ev: Vec<String> = evidence(audit, e)
                .into_iter()
                .map(|(f, l, span)| match link(audit, span) {
                    Some(url) => format!("[{}:{l}]({url})", md_cell(&f)),
                    None => format!("{}:{l}", md_cell(&f)),
                })
                .collect();
            let _ = writeln!(
                o,
                "| `{}` | `{}` | {} | {} | {} | {} |",
                md_cell(&e.caller),
                md_cell(&redact(&e.callee)),
                md_cell(&e.kind_list()),
                md_cell(&e.permission_list()),
                e.status.as_str(),
                ev.join("<br>")
            );
        }
    }
    o.push_str("\n## Findings\n\n");
    if findings.is_empty() {
        o.push_str("None.\n");
    } else {
        o.push_str("| severity | rule | project | message | location |\n|---|---|---|---|---|\n");
        for f in findings {
            let loc = f.location(&audit.snap.sources).map(|l| l.to_string()).unwrap_or_default();
            let _ = writeln!(
                o,
                "| {} | [`{}`](docs/rules.md#{}) | `{}` | {} | {} |",
                f.severity.as_str(),
                f.rule,
                f.rule,
                md_cell(&f.project),
                md_cell(&redact(&f.message)),
                md_cell(&loc)
            );
        }
    }
    let _ = write!(o, "\n## Graph\n\n```mermaid\n{}```\n", mermaid(audit));
    o
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One row per edge, for spreadsheets.
pub fn csv(audit: &Audit) -> String {
    let mut o = String::from("caller,callee,relation,kinds,permissions,status,confidence,entry,evidence\n");
    for e in &audit.edges {
        let ev: Vec<String> = evidence(audit, e).into_iter().map(|(f, l, _)| format!("{f}:{l}")).collect();
        let row = [
            e.caller.clone(),
            redact(&e.callee).into_owned(),
            e.relation.as_str().to_string(),
            e.kinds.iter().cloned().collect::<Vec<_>>().join(" "),
            e.permissions.iter().copied().collect::<Vec<_>>().join(" "),
            e.status.as_str().to_string(),
            if e.relation == Relation::Token { format!("{:?}", e.confidence).to_lowercase() } else { String::new() },
            audit.entry_path(e).unwrap_or_default().to_string(),
            ev.join(" "),
        ];
        let _ = writeln!(o, "{}", row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
    }
    o
}

/// SARIF 2.1.0: the rules, and results with physical locations and line-independent fingerprints. SARIF's
/// levels `error`, `warning` and `note` are tokenscope's severity names.
pub fn sarif(audit: &Audit, findings: &[Finding]) -> Value {
    let rules: Vec<Value> = registry()
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.summary},
                "helpUri": m.docs(),
                "help": {"text": format!("See {}", m.docs()), "markdown": format!("[{}]({})", m.id, m.docs())},
                "defaultConfiguration": {"level": m.severity.as_str()},
            })
        })
        .collect();
    let ids: Vec<&str> = registry().iter().map(|r| r.meta().id).collect();
    // Suppressed findings are results too, with SARIF's `suppressions` saying why.
    let all = findings.iter().map(|f| (f, None)).chain(audit.suppressed.iter().map(|x| (&x.finding, Some(x))));
    let results: Vec<Value> = all
        .map(|(f, sup)| {
            let mut r = json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|i| *i == f.rule),
                "level": f.severity.as_str(),
                "message": {"text": redact(&f.message)},
                "partialFingerprints": {"tokenscopeFingerprint/v1": f.fingerprint},
            });
            if let Some(x) = sup {
                let kind = if x.by == "inline" { "inSource" } else { "external" };
                r["suppressions"] = json!([{"kind": kind, "justification": redact(&x.reason)}]);
            }
            if let Some(span) = f.span {
                let file = audit.snap.sources.get(span.file);
                r["locations"] = json!([{"physicalLocation": {
                    "artifactLocation": {"uri": file.display},
                    "region": {"startLine": span.line, "startColumn": span.col},
                }}]);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tokenscope", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    })
}

/// GitLab Code Quality (`artifacts:reports:codequality`): findings in the merge request widget.
pub fn codequality(audit: &Audit, findings: &[Finding]) -> Value {
    let items: Vec<Value> = findings
        .iter()
        .map(|f| {
            let (path, line) = match f.span {
                Some(span) => {
                    let file = audit.snap.sources.get(span.file);
                    (file.repo_path.clone().unwrap_or_else(|| file.display.clone()), span.line)
                }
                None => ("tokenscope.yaml".to_string(), 1),
            };
            let severity = match f.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
                Severity::Note => "info",
            };
            json!({
                "description": redact(&f.message),
                "check_name": f.rule,
                "fingerprint": f.fingerprint,
                "severity": severity,
                "location": {"path": path, "lines": {"begin": line}},
            })
        })
        .collect();
    Value::Array(items)
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JUnit (`artifacts:reports:junit`): one test case per rule and project, failing with the rule's findings.
pub fn junit(audit: &Audit, findings: &[Finding]) -> String {
    let projects: Vec<&str> = audit.pipelines.iter().map(|p| p.project.as_str()).collect();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tokenscope\">\n");
    for r in registry() {
        let id = r.meta().id;
        let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule == id).collect();
        let failing: std::collections::BTreeSet<&str> = of_rule.iter().map(|f| f.project.as_str()).collect();
        let _ = writeln!(o, "  <testsuite name=\"{id}\" tests=\"{}\" failures=\"{}\">", projects.len(), failing.len());
        let suppressed = audit.suppressed.iter().filter(|x| x.finding.rule == id).count();
        let _ = writeln!(
            o,
            "    <properties>\n      <property name=\"suppressed\" value=\"{suppressed}\"/>\n    </properties>"
        );
        for p in &projects {
            let here: Vec<&&Finding> = of_rule.iter().filter(|f| f.project == *p).collect();
            if here.is_empty() {
                let _ = writeln!(o, "    <testcase classname=\"{id}\" name=\"{}\"/>", xml(p));
                continue;
            }
            let _ = writeln!(o, "    <testcase classname=\"{id}\" name=\"{}\">", xml(p));
            for f in here {
                let loc = f.location(&audit.snap.sources).map(|l| l.to_string()).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    f.severity.as_str(),
                    xml(&redact(&f.message)),
                    xml(&format!("{loc}\n{}", f.help.as_deref().map(redact).unwrap_or_default()))
                );
            }
            o.push_str("    </testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}
