//! More than 200 project entries, or more than 200 group entries, in one allowlist: GitLab refuses to add
//! more (two separate limits). Usually the sign of an autopopulated allowlist that needs compacting into
//! group entries. Located at the project's `job_token` settings.
//!
//! Failing: 201 `- project:` entries. Passing: 200 project entries and 200 group entries.

use super::{RuleMeta, settings_finding};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;
use crate::snapshot::EntryKind;

/// GitLab's limits, one per entry kind.
pub(crate) const MAX_PROJECT_ENTRIES: usize = 200;
pub(crate) const MAX_GROUP_ENTRIES: usize = 200;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "allowlist-over-limit",
    severity: Severity::Error,
    summary: "more than 200 project entries or 200 group entries in one allowlist (GitLab's limits)",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        for (path, p) in &audit.snap.manifest.projects {
            for (kind, limit, name) in
                [(EntryKind::Project, MAX_PROJECT_ENTRIES, "project"), (EntryKind::Group, MAX_GROUP_ENTRIES, "group")]
            {
                let n = p.job_token.allowlist.iter().filter(|e| e.kind == kind).count();
                if n <= limit {
                    continue;
                }
                let message =
                    format!("the allowlist of `{path}` has {n} {name} entries; GitLab accepts at most {limit}");
                let help = if kind == EntryKind::Project {
                    "replace project entries by group entries where whole groups need access, and drop unused entries"
                } else {
                    "use a common parent group, and drop unused entries"
                };
                out.push(settings_finding(&META, p, name, message, help));
            }
        }
    }
}
