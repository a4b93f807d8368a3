//! *P*'s effective enforcement is off: its setting is "All groups and projects" (`inbound_enabled: false`) and
//! the instance does not enforce allowlists. Every project's job token can reach *P*'s private resources. The
//! message lists the callers seen in the snapshot, which must be allowlisted before enforcement is switched
//! on. Located at *P*'s `job_token` settings in the manifest. Archived projects are not reported.
//!
//! Failing:
//!
//! ```yaml
//!   acme/tools/cli:
//!     job_token:
//!       inbound_enabled: false
//! ```
//!
//! Passing: `inbound_enabled: true` with the callers on the allowlist, or an instance that enforces
//! (`instance.enforce_allowlist: true`), which overrides the project's setting.

use super::{RuleMeta, settings_finding};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::engine::coverage::enforced;
use crate::finding::Finding;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "allowlist-disabled",
    severity: Severity::Warning,
    summary: "the project does not enforce its job-token allowlist: any project's job token can reach it",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        for (path, p) in &audit.snap.manifest.projects {
            if enforced(audit.snap, p) || p.archived {
                continue;
            }
            let callers: Vec<String> = audit
                .graph
                .token_callers(path)
                .into_iter()
                .filter(|c| c != path && audit.snap.manifest.projects.contains_key(*c))
                .map(|c| format!("`{c}`"))
                .collect();
            let users = if callers.is_empty() {
                "no project in the snapshot uses it".to_string()
            } else {
                format!("the snapshot shows {} caller(s) to allowlist first: {}", callers.len(), callers.join(", "))
            };
            let message =
                format!("`{path}` accepts job tokens from every project (\"All groups and projects\"); {users}");
            let help = "allowlist the callers, then set \"Authorized groups and projects\" to \"Only this project and any groups and projects in the allowlist\" (inbound_enabled: true)";
            out.push(settings_finding(&META, p, "", message, help));
        }
    }
}
