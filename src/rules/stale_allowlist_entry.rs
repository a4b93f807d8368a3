//! A project entry naming a project that is archived: it runs no pipelines, so the entry only keeps a door
//! open. Located at the entry.
//!
//! Failing:
//!
//! ```yaml
//!   acme/infra/terraform-state:
//!     job_token:
//!       allowlist:
//!         - project: acme/legacy/old-app
//!   acme/legacy/old-app:
//!     archived: true
//! ```
//!
//! Passing: the entry removed (or the project unarchived, if it still needs the access).

use super::{RuleMeta, entry_finding};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;
use crate::snapshot::EntryKind;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "stale-allowlist-entry",
    severity: Severity::Warning,
    summary: "an allowlist entry naming an archived project",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let projects = &audit.snap.manifest.projects;
        for (path, p) in projects {
            for entry in p.job_token.allowlist.iter().filter(|e| e.kind == EntryKind::Project) {
                if !projects.get(&entry.path).is_some_and(|t| t.archived) {
                    continue;
                }
                let message = format!(
                    "the allowlist of `{path}` names `{}`, which is archived and runs no pipelines",
                    entry.path
                );
                out.push(entry_finding(
                    &META,
                    path,
                    entry,
                    message,
                    format!("remove `{}` from the allowlist of `{path}`", entry.path),
                ));
            }
        }
    }
}
