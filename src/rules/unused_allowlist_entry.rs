//! An entry on *P*'s allowlist that no detected access uses (a group entry is used when any project under it
//! is a caller) and that has no record in the authentication log (`auth_log`). Such an entry is standing
//! access nobody needs: if a job of the named project is compromised, it can reach *P*. Located at the entry
//! in the manifest.
//!
//! tokenscope only reports an entry whose use it could have seen. It stays silent when the entry names
//! projects that are not in the snapshot, when a project the entry covers failed to load (its repository
//! is missing, its settings unreadable), or when such a project has a job-token access whose target could
//! not be resolved: deleting such an entry could break a pipeline. When a covered project is *partially
//! seen* (a job runs a script the snapshot does not hold, or a script in a language tokenscope does not
//! follow that reads the token), the finding is only a note that says what could not be read: confirm
//! there before removing the entry.
//!
//! Failing:
//!
//! ```yaml
//!   acme/services/api:
//!     job_token:
//!       allowlist:
//!         - project: acme/tools/cli   # no job of acme/tools/cli uses the token against acme/services/api
//! ```
//!
//! Passing: a job of `acme/tools/cli` reaches `acme/services/api`, or the authentication log records it:
//!
//! ```yaml
//! auth_log:
//!   - accessed: acme/services/api
//!     origin: acme/tools/cli
//!     last_authorized_at: "2026-11-03T08:12:44Z"
//! ```

use super::{Advice, RuleMeta, entry_advice};
use crate::diag::Severity;
use crate::engine::covered_range;
use crate::engine::{Audit, EdgeStatus};
use crate::finding::Finding;
use crate::snapshot::EntryKind;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "unused-allowlist-entry",
    severity: Severity::Warning,
    summary: "an allowlist entry that no job in the snapshot and no authentication-log record uses",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let m = &audit.snap.manifest;
        // The authentication log by accessed project, each list of origins sorted: an entry's use is then a
        // binary search, not a scan of the whole log per entry.
        let mut log: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
        for r in &m.auth_log {
            log.entry(r.accessed.as_str()).or_default().push(r.origin.as_str());
        }
        for origins in log.values_mut() {
            origins.sort_unstable();
        }
        for (path, p) in &m.projects {
            let mut callers: Vec<&str> = audit
                .edges_into(path)
                .filter(|e| !matches!(e.status, EdgeStatus::Unresolved | EdgeStatus::External))
                .map(|e| e.caller.as_str())
                .collect();
            callers.sort_unstable();
            let origins = log.get(path.as_str()).map_or(&[][..], Vec::as_slice);
            for entry in &p.job_token.allowlist {
                let used_by_job = !covered_range(&callers, entry).is_empty();
                let used_by_log = !covered_range(origins, entry).is_empty();
                let archived =
                    entry.kind == EntryKind::Project && m.projects.get(&entry.path).is_some_and(|t| t.archived);
                if used_by_job || used_by_log || archived {
                    continue; // an archived project's entry is `stale-allowlist-entry`'s
                }
                let in_range = audit.covered(entry);
                let covered = in_range.len() - usize::from(in_range.binary_search(&path.as_str()).is_ok());
                if covered == 0 {
                    continue; // nothing of it is in the snapshot: its use cannot be seen
                }
                if audit.covers_blind(entry, path) {
                    continue;
                }
                let what = match entry.kind {
                    EntryKind::Project => format!("project `{}`", entry.path),
                    EntryKind::Group => {
                        format!("group `{}` ({covered} project(s) in the snapshot)", entry.path)
                    }
                };
                let log = if p.knows(crate::snapshot::manifest::Data::AuthLog) {
                    "and the authentication log has no record of it"
                } else {
                    "and the authentication log could not be read (a use it would show is not known)"
                };
                let message = format!(
                    "the allowlist of `{path}` lets {what} in, but no job in the snapshot uses the job token against `{path}` from there, {log}: standing access nobody needs"
                );
                let help = format!("remove `{}` from the allowlist of `{path}`", entry.path);
                out.push(entry_advice(
                    audit,
                    &META,
                    path,
                    entry,
                    Advice { message, help, action: "removing", kept: &[] },
                ));
            }
        }
    }
}
