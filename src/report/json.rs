//! `--format json`: the stable, documented contract of docs/json-output.md.

use super::{skipped, summary};
use crate::audit::{Audit, EdgeStatus};
use crate::ci::Status;
use crate::diag::Location;
use crate::finding::Finding;
use crate::redact::redact;
use serde_json::{Value, json};

pub const VERSION: u32 = 1;

pub fn render(audit: &Audit, findings: &[Finding]) -> Value {
    let sources = &audit.snap.sources;
    let projects: Vec<Value> = audit
        .pipelines
        .iter()
        .map(|p| {
            let status = match p.status {
                Status::Ok => "ok",
                Status::NoCi => "no-ci",
                Status::Failed => "failed",
            };
            let errors: Vec<Value> = p
                .diagnostics
                .iter()
                .map(|d| json!({"severity": d.severity, "message": redact(&d.message), "location": d.location(sources)}))
                .collect();
            let unresolved: Vec<Value> = p
                .unresolved
                .iter()
                .map(|u| json!({"kind": u.kind, "target": redact(&u.target), "reason": u.reason, "location": Location::of(sources, u.from)}))
                .collect();
            let files: std::collections::BTreeSet<(&str, &str)> =
                p.includes.iter().map(|i| (i.project.as_str(), i.file.as_str())).collect();
            let files = files.len() + usize::from(p.config_file.is_some());
            json!({"path": p.project, "status": status, "jobs": p.jobs.len(), "files": files,
                   "errors": errors, "unresolved_includes": unresolved})
        })
        .collect();
    let mut edges = Vec::new();
    let mut relations = Vec::new();
    for e in &audit.edges {
        if e.status == EdgeStatus::Relation {
            let evidence: Vec<Value> = e.spans.iter().map(|s| json!(Location::of(sources, *s))).collect();
            relations.push(
                json!({"caller": e.caller, "callee": e.callee, "kind": e.relation.as_str(), "evidence": evidence}),
            );
            continue;
        }
        let evidence: Vec<Value> = e
            .accesses
            .iter()
            .map(|&i| {
                let a = &audit.accesses[i];
                let l = Location::of(sources, a.span);
                json!({"file": l.file, "line": l.line, "column": l.column, "job": a.job, "kind": a.kind.name(),
                       "permission": a.permission, "detail": redact(&a.detail)})
            })
            .collect();
        edges.push(json!({
            "caller": e.caller,
            "callee": redact(&e.callee),
            "kinds": e.kinds,
            "permissions": e.permissions,
            "status": e.status,
            "confidence": e.confidence,
            "entry": audit.entry_path(e),
            "evidence": evidence,
        }));
    }
    let findings_json: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "severity": f.severity,
                "project": f.project,
                "caller": f.caller,
                "callee": f.callee,
                "entry": f.entry,
                "message": redact(&f.message),
                "help": f.help.as_deref().map(redact),
                "location": f.location(sources),
                "fingerprint": f.fingerprint,
            })
        })
        .collect();
    let s = summary(audit, findings);
    let suppressed: Vec<Value> = audit
        .suppressed
        .iter()
        .map(|x| {
            json!({"rule": x.finding.rule, "project": x.finding.project, "by": x.by, "reason": redact(&x.reason),
                   "location": x.finding.location(sources), "fingerprint": x.finding.fingerprint})
        })
        .collect();
    let skipped: Vec<Value> = skipped(audit)
        .map(
            |(project, s)| json!({"project": project, "data": s.data, "reason": redact(&s.reason), "failed": s.failed}),
        )
        .collect();
    json!({
        "version": VERSION,
        "projects": projects,
        "edges": edges,
        "relations": relations,
        "findings": findings_json,
        "suppressed": suppressed,
        "expired_ignores": audit.expired_ignores,
        "skipped": skipped,
        "summary": {
            "projects": s.projects,
            "failed_projects": s.failed,
            "edges": s.edges,
            "findings": {"error": s.errors, "warning": s.warnings, "note": s.notes, "suppressed": s.suppressed},
        },
    })
}
