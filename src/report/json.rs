//! `--format json`: the stable, documented contract of docs/json-output.md.

use super::{PrettyDoc, Report, summary};
use crate::ci::Status;
use crate::detect::{Confidence, Reason, Target};
use crate::diag::{Location, Severity};
use crate::engine::EdgeStatus;
use crate::snapshot::manifest::Data;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeSet;

pub(crate) const VERSION: u32 = 1;

// The report's parts, in the order docs/json-output.md gives their fields.

#[derive(Serialize)]
struct ProjectOut<'a> {
    path: &'a str,
    status: &'static str,
    jobs: usize,
    files: usize,
    errors: Vec<ErrorOut<'a>>,
    unresolved_includes: Vec<UnresolvedOut<'a>>,
    /// What the project's jobs run that could not be looked into: the project is partially seen.
    unseen: Vec<UnseenOut<'a>>,
    /// The work its resolution spent, against its budget.
    work: WorkOut,
}

#[derive(Serialize)]
struct WorkOut {
    input_bytes: u64,
    units: u64,
    limit: u64,
}

#[derive(Serialize)]
struct UnseenOut<'a> {
    job: &'a str,
    why: &'a str,
    location: Location,
}

#[derive(Serialize)]
struct NeverRunsOut<'a> {
    caller: &'a str,
    callee: String,
    kind: String,
    job: &'a str,
    file: String,
    line: Option<u32>,
    column: Option<u32>,
    detail: &'a str,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    severity: Severity,
    message: &'a str,
    location: Option<Location>,
}

#[derive(Serialize)]
struct UnresolvedOut<'a> {
    kind: crate::ci::include::IncludeKind,
    target: &'a str,
    reason: &'a str,
    location: Location,
}

#[derive(Serialize)]
struct RelationOut<'a> {
    caller: &'a str,
    callee: &'a str,
    kind: &'static str,
    evidence: Vec<Location>,
    /// How many places there are in all ([`super::EVIDENCE_KEPT`] at most are listed).
    evidence_total: usize,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    caller: &'a str,
    /// For an unresolved edge, the expression as written, with `reason` saying why it is unresolved.
    callee: &'a str,
    reason: Option<Reason>,
    kinds: &'a [crate::detect::Kind],
    permissions: &'a BTreeSet<crate::detect::Permission>,
    status: EdgeStatus,
    confidence: Confidence,
    entry: Option<&'a str>,
    evidence: Vec<EvidenceOut<'a>>,
    /// How many places there are in all ([`super::EVIDENCE_KEPT`] at most are listed).
    evidence_total: usize,
}

#[derive(Serialize)]
struct EvidenceOut<'a> {
    file: String,
    line: Option<u32>,
    column: Option<u32>,
    job: &'a str,
    kind: String,
    permission: Option<crate::detect::Permission>,
    detail: &'a str,
    /// The kinds of pipeline the job runs in.
    runs: crate::ci::pipelines::Runs,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    rule: &'static str,
    severity: Severity,
    project: &'a str,
    caller: Option<&'a str>,
    callee: Option<&'a str>,
    entry: Option<&'a str>,
    message: &'a str,
    help: Option<&'a str>,
    location: Option<Location>,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct SuppressedOut<'a> {
    rule: &'static str,
    project: &'a str,
    by: crate::policy::SuppressedBy,
    reason: &'a str,
    location: Option<Location>,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct SkippedOut<'a> {
    project: &'a str,
    data: Data,
    reason: &'a str,
    failed: bool,
}

#[derive(Serialize)]
struct SummaryOut {
    projects: usize,
    failed_projects: usize,
    edges: usize,
    findings: FindingCounts,
}

#[derive(Serialize)]
struct FindingCounts {
    error: usize,
    warning: usize,
    note: usize,
    suppressed: usize,
}

/// The report, pretty-printed. Each list is made and written in parallel, an item at a time, without an
/// intermediate document: on a large org, the report is a stage of its own.
/// One token edge as the contract writes it.
fn edge_out<'a>(audit: &'a crate::engine::Audit, e: &'a crate::engine::Edge) -> EdgeOut<'a> {
    let sources = &audit.snap.sources;
    let unresolved = match e.accesses.first().map(|&i| &audit.accesses[i].target) {
        Some(Target::Unresolved(u)) => Some(u),
        _ => None,
    };
    EdgeOut {
        caller: &e.caller,
        callee: unresolved.map_or_else(|| &e.callee, |u| &u.expression),
        reason: unresolved.map(|u| u.reason),
        kinds: &e.kinds,
        permissions: &e.permissions,
        status: e.status,
        confidence: e.confidence,
        entry: audit.entry_path(e),
        evidence_total: e.accesses.len(),
        evidence: e
            .accesses
            .iter()
            .take(super::EVIDENCE_KEPT)
            .map(|&i| {
                let a = &audit.accesses[i];
                let l = Location::of(sources, a.span);
                EvidenceOut {
                    file: l.file,
                    line: l.line,
                    column: l.column,
                    job: &a.job,
                    kind: a.kind.name(),
                    permission: a.permission,
                    detail: &a.detail,
                    runs: a.runs,
                }
            })
            .collect(),
    }
}

/// An allowlist entry that admits a caller (`tokenscope graph`): the reverse lookup GitLab lacks.
#[derive(Serialize)]
pub(crate) struct AdmittedOut {
    pub(crate) caller: String,
    pub(crate) callee: String,
    pub(crate) entry: crate::remediate::TargetRef,
    pub(crate) permissions: Option<Vec<crate::snapshot::manifest::Permission>>,
    /// Whether a job of the caller uses the job token against the callee (an edge), or the entry only admits it.
    pub(crate) used: bool,
    /// Whether the callee's authentication log records the caller.
    pub(crate) in_auth_log: bool,
}

/// `tokenscope graph --format json`: the neighbourhood's token edges in the audit's edge format, its
/// relations, and the entries that admit each caller.
pub(crate) fn render_graph(report: &Report, admitted: &[AdmittedOut]) -> String {
    let audit = report.audit;
    let sources = &audit.snap.sources;
    let edges: Vec<&crate::engine::Edge> = report.edges().collect();
    let mut doc = PrettyDoc::object();
    doc.field("version", &VERSION);
    doc.list("edges", edges.par_iter().filter(|e| e.status != EdgeStatus::Relation).map(|e| edge_out(audit, e)));
    doc.list(
        "relations",
        edges.par_iter().filter(|e| e.status == EdgeStatus::Relation).map(|e| RelationOut {
            caller: &e.caller,
            callee: &e.callee,
            kind: e.relation.as_str(),
            evidence: e.spans.iter().take(super::EVIDENCE_KEPT).map(|s| Location::of(sources, *s)).collect(),
            evidence_total: e.spans.len(),
        }),
    );
    doc.field("admitted_by", admitted);
    doc.finish()
}

pub(crate) fn render(report: &Report) -> String {
    let (audit, findings) = (report.audit, &report.findings);
    let sources = &audit.snap.sources;
    let mut doc = PrettyDoc::object();
    doc.field("version", &VERSION);
    doc.list(
        "projects",
        audit.pipelines.par_iter().map(|p| {
            let files: BTreeSet<(&str, &str)> =
                p.includes.iter().map(|i| (i.project.as_str(), i.file.as_str())).collect();
            ProjectOut {
                path: &p.project,
                status: match p.status {
                    Status::Ok => "ok",
                    Status::NoCi => "no-ci",
                    Status::Failed => "failed",
                },
                jobs: p.job_count(),
                files: files.len() + usize::from(p.config_file.is_some()),
                errors: p
                    .diagnostics
                    .iter()
                    .map(|d| ErrorOut { severity: d.severity, message: &d.message, location: d.location(sources) })
                    .collect(),
                unresolved_includes: p
                    .unresolved
                    .iter()
                    .map(|u| UnresolvedOut {
                        kind: u.kind,
                        target: &u.target,
                        reason: &u.reason,
                        location: Location::of(sources, u.from),
                    })
                    .collect(),
                work: WorkOut { input_bytes: p.spent.input, units: p.spent.used, limit: p.spent.limit },
                unseen: audit
                    .unseen(&p.project)
                    .iter()
                    .map(|(job, u)| UnseenOut { job, why: &u.why, location: Location::of(sources, u.span) })
                    .collect(),
            }
        }),
    );
    doc.list("edges", audit.edges.par_iter().filter(|e| e.status != EdgeStatus::Relation).map(|e| edge_out(audit, e)));
    doc.list(
        "never_runs",
        audit.never_run.par_iter().map(|a| {
            let l = Location::of(sources, a.span);
            NeverRunsOut {
                caller: &a.caller,
                callee: crate::engine::graph::target_name(&a.target),
                kind: a.kind.name(),
                job: &a.job,
                file: l.file,
                line: l.line,
                column: l.column,
                detail: &a.detail,
            }
        }),
    );
    doc.list(
        "relations",
        audit.edges.par_iter().filter(|e| e.status == EdgeStatus::Relation).map(|e| RelationOut {
            caller: &e.caller,
            callee: &e.callee,
            kind: e.relation.as_str(),
            evidence: e.spans.iter().take(super::EVIDENCE_KEPT).map(|s| Location::of(sources, *s)).collect(),
            evidence_total: e.spans.len(),
        }),
    );
    doc.list(
        "findings",
        findings.par_iter().map(|f| FindingOut {
            rule: f.rule,
            severity: f.severity,
            project: &f.project,
            caller: f.caller(),
            callee: f.callee(),
            entry: f.entry(),
            message: &f.message,
            help: f.help.as_deref(),
            location: f.location(sources),
            fingerprint: &f.fingerprint,
        }),
    );
    doc.list(
        "suppressed",
        report.suppressed.par_iter().map(|x| SuppressedOut {
            rule: x.finding.rule,
            project: &x.finding.project,
            by: x.by,
            reason: &x.reason,
            location: x.finding.location(sources),
            fingerprint: &x.finding.fingerprint,
        }),
    );
    doc.field("expired_ignores", &report.expired_ignores);
    let skipped: Vec<SkippedOut> = audit
        .snap
        .manifest
        .skipped()
        .map(|(project, s)| SkippedOut { project, data: s.data, reason: &s.reason, failed: s.failed })
        .collect();
    doc.field("skipped", &skipped);
    let s = summary(report);
    doc.field(
        "summary",
        &SummaryOut {
            projects: s.projects,
            failed_projects: s.failed,
            edges: s.edges,
            findings: FindingCounts { error: s.errors, warning: s.warnings, note: s.notes, suppressed: s.suppressed },
        },
    );
    doc.finish()
}
