//! `--format markdown`: the allowlist edge-table report: a summary, per callee a table of its callers,
//! the findings, and the graph.

use super::{Report, evidence_shown, link, md_cell, md_code, summary, token_edges};
use std::fmt::Write;

/// The allowlist edge-table report: a summary, per callee a table of its callers, the findings, and the graph.
pub(crate) fn render(report: &Report) -> String {
    let (audit, findings) = (report.audit, &report.findings);
    let s = summary(report);
    let mut o = String::from("# Job-token allowlist report\n\n");
    let _ = writeln!(
        o,
        "{} ({} failed to load), {} ({}). Findings: {} error(s), {} warning(s), {} note(s); {} suppressed.\n",
        crate::text::count(s.projects, "project", "projects"),
        s.failed,
        crate::text::count(s.edges, "job-token edge", "job-token edges"),
        s.statuses(),
        s.errors,
        s.warnings,
        s.notes,
        s.suppressed
    );
    let mut gaps = audit.snap.manifest.skipped().peekable();
    if gaps.peek().is_some() {
        o.push_str("## Not read\n\nData the snapshot could not read; nothing is concluded from it.\n\n| project | data | reason |\n|---|---|---|\n");
        for (project, s) in gaps {
            let what = if s.failed { " (failed)" } else { "" };
            let _ = writeln!(o, "| `{}` | {}{what} | {} |", md_cell(project), s.data.as_str(), md_cell(&s.reason));
        }
        o.push('\n');
    }
    let mut callees: Vec<&str> = token_edges(audit).map(|e| e.callee.as_str()).collect();
    callees.sort_unstable();
    callees.dedup();
    o.push_str("## Edges by callee\n");
    for callee in callees {
        let _ = writeln!(o, "\n### {}\n", md_code(callee));
        o.push_str("| caller | callee | kinds | permissions | status | evidence |\n|---|---|---|---|---|---|\n");
        for e in token_edges(audit).filter(|e| e.callee == callee) {
            let ev = evidence_shown(audit, e, |f, l, span| match link(report, span) {
                Some(url) => format!("[{}:{l}]({url})", md_cell(f)),
                None => format!("{}:{l}", md_cell(f)),
            });
            let _ = writeln!(
                o,
                "| `{}` | `{}` | {} | {} | {} | {} |",
                md_cell(&e.caller),
                md_cell(&e.callee),
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
                "| {} | [`{}`]({}) | `{}` | {} | {} |",
                f.severity.as_str(),
                f.rule,
                report.rule_docs(f.rule),
                md_cell(&f.project),
                md_cell(&f.message),
                md_cell(&loc)
            );
        }
    }
    let _ = write!(o, "\n## Graph\n\n```mermaid\n{}```\n", super::mermaid::graph(report.edges()));
    o
}
