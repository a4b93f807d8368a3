//! `--format json`: the stable, documented contract of docs/json-output.md.

use super::{skipped, summary};
use crate::audit::{Audit, EdgeStatus};
use crate::ci::Status;
use crate::diag::Location;
use crate::finding::Finding;
use crate::redact::redact;
use rayon::prelude::*;
use serde_json::{Value, json};

pub const VERSION: u32 = 1;

pub fn render(audit: &Audit, findings: &[Finding]) -> Value {
    let sources = &audit.snap.sources;
    // Each list is built in parallel and moved (not copied) into the document: on a large org, building
    // the report is a stage of its own.
    let projects: Vec<Value> = audit
        .pipelines
        .par_iter()
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
            let head = json!({"path": p.project, "status": status, "jobs": p.jobs.len(), "files": files});
            append(head, [("errors", Value::Array(errors)), ("unresolved_includes", Value::Array(unresolved))])
        })
        .collect();
    let relations: Vec<Value> = audit
        .edges
        .par_iter()
        .filter(|e| e.status == EdgeStatus::Relation)
        .map(|e| {
            let evidence: Vec<Value> = e.spans.iter().map(|s| json!(Location::of(sources, *s))).collect();
            let head = json!({"caller": e.caller, "callee": e.callee, "kind": e.relation.as_str()});
            append(head, [("evidence", Value::Array(evidence))])
        })
        .collect();
    let edges: Vec<Value> = audit
        .edges
        .par_iter()
        .filter(|e| e.status != EdgeStatus::Relation)
        .map(|e| {
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
            let head = json!({
                "caller": e.caller,
                "callee": redact(&e.callee),
                "kinds": e.kinds,
                "permissions": e.permissions,
                "status": e.status,
                "confidence": e.confidence,
                "entry": audit.entry_path(e),
            });
            append(head, [("evidence", Value::Array(evidence))])
        })
        .collect();
    let findings_json: Vec<Value> = findings
        .par_iter()
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
    let summary = json!({
        "projects": s.projects,
        "failed_projects": s.failed,
        "edges": s.edges,
        "findings": {"error": s.errors, "warning": s.warnings, "note": s.notes, "suppressed": s.suppressed},
    });
    append(
        json!({"version": VERSION}),
        [
            ("projects", Value::Array(projects)),
            ("edges", Value::Array(edges)),
            ("relations", Value::Array(relations)),
            ("findings", Value::Array(findings_json)),
            ("suppressed", Value::Array(suppressed)),
            ("expired_ignores", json!(audit.expired_ignores)),
            ("skipped", Value::Array(skipped)),
            ("summary", summary),
        ],
    )
}

/// `object` with `fields` added at its end, moved in: `json!` would copy a value given to it, and these are
/// the large lists of the report.
fn append<'k>(mut object: Value, fields: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    if let Value::Object(map) = &mut object {
        map.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    object
}
