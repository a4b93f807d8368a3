//! Rendering: every format is rendered from the same audit result (`Finding`s and edges).

pub mod diagnostics;
pub mod formats;
pub mod human;
pub mod jobs;
pub mod json;

use crate::audit::{Audit, EdgeStatus};
use crate::diag::Severity;
use crate::finding::Finding;
use std::collections::BTreeMap;

/// Counts shown in every format's summary.
pub struct Summary {
    pub projects: usize,
    pub failed: usize,
    pub edges: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub suppressed: usize,
}

impl Summary {
    /// Edge counts by status (`10 allowed, 2 missing`), or `none`.
    pub fn statuses(&self) -> String {
        if self.by_status.is_empty() {
            return "none".to_string();
        }
        self.by_status.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
    }
}

/// Data the snapshot could not read, per project (live snapshots record it): (project, skipped), by path.
pub fn skipped<'a>(audit: &'a Audit) -> impl Iterator<Item = (&'a str, &'a crate::snapshot::manifest::Skipped)> {
    audit.snap.manifest.projects.iter().flat_map(|(path, p)| p.skipped.iter().map(move |s| (path.as_str(), s)))
}

/// Whether the snapshot failed to read some data (an error, not an expected gap): the run exits 3.
pub fn fetch_failed(audit: &Audit) -> bool {
    skipped(audit).any(|(_, s)| s.failed)
}

pub fn summary(audit: &Audit, findings: &[Finding]) -> Summary {
    let token_edges: Vec<_> = audit.edges.iter().filter(|e| e.status != EdgeStatus::Relation).collect();
    let mut by_status = BTreeMap::new();
    for e in &token_edges {
        *by_status.entry(e.status.as_str()).or_insert(0) += 1;
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    Summary {
        projects: audit.pipelines.len(),
        failed: audit.pipelines.iter().filter(|p| p.status == crate::ci::Status::Failed).count(),
        edges: token_edges.len(),
        by_status,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        notes: count(Severity::Note),
        suppressed: audit.suppressed.len(),
    }
}
