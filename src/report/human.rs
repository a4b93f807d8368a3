//! The default output: findings as miette diagnostics with source snippets, then the edge table and a summary.

use super::diagnostics::{Parts, render_parts};
use super::{Report, summary};
use crate::engine::EdgeStatus;
use crate::text::{clean, clean_line};
use std::fmt::Write;
use tabled::settings::peaker::Priority;
use tabled::settings::{Style, Width};
use tabled::{Table, Tabled};

#[derive(Tabled)]
struct Row {
    caller: String,
    callee: String,
    kinds: String,
    permissions: String,
    status: String,
    evidence: String,
}

/// A cell longer than this is cut with an ellipsis in the human table (an unresolved URL expression can be
/// hundreds of characters); machine formats keep the whole text.
const MAX_CELL: usize = 60;

/// `s` in at most [`MAX_CELL`] characters: a longer one keeps its first `MAX_CELL - 1` and an ellipsis.
fn cell(s: &str) -> String {
    if s.chars().nth(MAX_CELL).is_none() { s.to_string() } else { crate::text::clip(s, MAX_CELL - 1).into_owned() }
}

pub(crate) fn render(report: &Report, color: bool, width: Option<usize>) -> String {
    let (audit, findings) = (report.audit, &report.findings);
    let sources = &audit.snap.sources;
    let mut o = String::new();
    for f in findings {
        let parts = Parts {
            severity: f.severity,
            code: Some(f.rule),
            message: &f.message,
            span: f.span,
            file: None,
            help: f.help.as_deref(),
        };
        o.push_str(&render_parts(&parts, sources, color));
        o.push('\n');
    }
    let rows: Vec<Row> = audit
        .edges
        .iter()
        .filter(|e| e.status != EdgeStatus::Relation)
        .map(|e| {
            let evidence = match e.accesses.first() {
                Some(&i) => {
                    let a = &audit.accesses[i];
                    let more =
                        if e.accesses.len() > 1 { format!(" (+{} more)", e.accesses.len() - 1) } else { String::new() };
                    format!("{}:{}{more}", clean_line(&sources.get(a.span.file).display), a.span.line)
                }
                None => String::new(),
            };
            Row {
                caller: cell(&clean_line(&e.caller)),
                callee: cell(&clean_line(&e.callee)),
                kinds: cell(&e.kind_list()),
                permissions: cell(&e.permission_list()),
                status: e.status.as_str().to_string(),
                evidence: cell(&evidence),
            }
        })
        .collect();
    if rows.is_empty() {
        o.push_str("No job-token accesses found.\n");
    } else {
        let _ = writeln!(o, "Job-token edges:");
        let mut table = Table::new(rows);
        table.with(Style::sharp());
        // In a terminal the table fits its width: the widest columns are wrapped first (a cell is already at most 60 characters).
        if let Some(w) = width {
            table.with(Width::wrap(w.max(40)).priority(Priority::max(true)));
        }
        let _ = writeln!(o, "{table}");
    }
    for p in audit.pipelines.iter().filter(|p| p.status == crate::ci::Status::Failed) {
        let _ = writeln!(
            o,
            "project `{}` could not be fully resolved ({} error(s), see above)",
            p.project,
            p.diagnostics.len()
        );
    }
    // Partially seen projects: what their jobs run that could not be read (the first few).
    let mut partial: Vec<(&str, &str, &str)> = audit
        .pipelines
        .iter()
        .flat_map(|p| {
            audit.unseen(&p.project).iter().map(move |(job, u)| (p.project.as_str(), job.as_str(), u.why.as_str()))
        })
        .collect();
    if !partial.is_empty() {
        const SHOWN: usize = 10;
        let total = partial.len();
        partial.truncate(SHOWN);
        let _ = writeln!(o, "Partially seen (a job-token access there would not be seen):");
        for (project, job, why) in partial {
            let _ = writeln!(o, "  {project} (job `{job}`): {}", clean(why));
        }
        if total > SHOWN {
            let _ = writeln!(o, "  … and {} more (all are in the JSON report's `unseen`)", total - SHOWN);
        }
    }
    if !audit.never_run.is_empty() {
        let _ = writeln!(
            o,
            "{} access(es) are in jobs that never run (their rules exclude every pipeline): not counted as edges",
            audit.never_run.len()
        );
    }
    let mut gaps = audit.snap.manifest.skipped().peekable();
    if gaps.peek().is_some() {
        let _ = writeln!(o, "Not read when the snapshot was taken (nothing is concluded from it):");
        for (project, s) in gaps {
            let what = if s.failed { "failed" } else { "skipped" };
            let _ = writeln!(o, "  {project}: {} {what}: {}", s.data.as_str(), clean(&s.reason));
        }
    }
    let s = summary(report);
    let failed = if s.failed > 0 { format!(" ({} failed)", s.failed) } else { String::new() };
    let _ = writeln!(
        o,
        "{}{failed}, {} ({}), findings: {} error(s), {} warning(s), {} note(s){}",
        crate::text::count(s.projects, "project", "projects"),
        crate::text::count(s.edges, "job-token edge", "job-token edges"),
        s.statuses(),
        s.errors,
        s.warnings,
        s.notes,
        if s.suppressed > 0 { format!(", {} suppressed", s.suppressed) } else { String::new() }
    );
    o
}
