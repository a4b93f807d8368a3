//! A group entry that covers at least `--overbroad-min-projects` projects of the snapshot (default 3), of
//! which fewer than `--overbroad-max-used-percent` (default 50%) use their job token against *P*. The
//! message names the callers; the help lists the project entries that would replace the group.
//!
//! Failing (`acme` covers eleven projects; four of them download packages):
//!
//! ```yaml
//!   acme/platform/packages:
//!     job_token:
//!       allowlist:
//!         - group: acme
//! ```
//!
//! Passing: the callers by name (or a smaller group whose projects all need the access).
//!
//! ```yaml
//!       allowlist:
//!         - project: acme/services/api
//!         - project: acme/services/web
//! ```
//!
//! Group entries with no caller at all are `unused-allowlist-entry`'s.
//!
//! When a project the entry lets in is partially seen (it runs a script the snapshot does not hold, or
//! hands the token to a program tokenscope cannot follow), the finding is only a note that says what
//! could not be read: confirm there before replacing the entry. The same holds when such a project failed
//! to load or has a job-token access whose target cannot be resolved. Projects the replacement keeps (the
//! callers) lose nothing and do not count.

use super::{Advice, RuleMeta, Setting, entry_advice};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::engine::coverage::covers;
use crate::finding::Finding;
use crate::snapshot::EntryKind;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "overbroad-group-entry",
    severity: Severity::Warning,
    summary: "a group allowlist entry covering many projects of which only a few use the job token",
    settings: &[MIN_PROJECTS, MAX_USED_PERCENT],
};

/// Only group entries covering at least this many projects of the snapshot (the callee aside) fire...
pub(crate) const MIN_PROJECTS: Setting = Setting { name: "min_projects", default: 3, min: 1, max: usize::MAX };
/// ...and only when fewer than this percentage of them are callers.
pub(crate) const MAX_USED_PERCENT: Setting = Setting { name: "max_used_percent", default: 50, min: 1, max: 100 };

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, settings: &super::Settings, out: &mut Vec<Finding>) {
        let min_projects = settings.get(&META, &MIN_PROJECTS);
        let max_used_percent = settings.get(&META, &MAX_USED_PERCENT);
        for (path, p) in &audit.snap.manifest.projects {
            let token_callers = audit.graph.token_callers(path);
            for entry in p.job_token.allowlist.iter().filter(|e| e.kind == EntryKind::Group) {
                let in_range = audit.covered(entry);
                let covered = in_range.len() - usize::from(in_range.binary_search(&path.as_str()).is_ok());
                let callers: Vec<&str> =
                    token_callers.iter().copied().filter(|c| covers(entry, c) && c != path).collect();
                if callers.is_empty() || covered < min_projects {
                    continue; // unused entries are `unused-allowlist-entry`'s; small groups are fine
                }
                if callers.len() * 100 >= covered * max_used_percent {
                    continue;
                }
                let names: Vec<String> = callers.iter().map(|c| format!("`{c}`")).collect();
                let message = format!(
                    "group entry `{}` on `{path}` lets {} projects of the snapshot use their job token against `{path}`, but only {} do: {}",
                    entry.path,
                    covered,
                    callers.len(),
                    names.join(", ")
                );
                let replacement: Vec<String> = callers.iter().map(|c| format!("- project: {c}")).collect();
                let help = format!("replace the group entry with project entries: {}", replacement.join("; "));
                out.push(entry_advice(
                    audit,
                    &META,
                    path,
                    entry,
                    Advice { message, help, action: "replacing", kept: &callers },
                ));
            }
        }
    }
}
