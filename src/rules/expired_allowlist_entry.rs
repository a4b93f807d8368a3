//! An allowlist entry kept as code whose `expires:` date has passed: it was added for a limited time (a
//! migration, a one-off release) and nobody removed it. Standing access outlives its reason. Located at
//! the `expires:` date in the manifest. `tokenscope plan --emit manifest` writes `owner`, `reason` and
//! `expires` for the entries it adds; GitLab itself stores none of them.
//!
//! Failing (the date is in the past):
//!
//! ```yaml
//!   acme/platform/packages:
//!     job_token:
//!       allowlist:
//!         - project: acme/services/api
//!           owner: team-payments
//!           reason: migration to the new package registry
//!           expires: 2025-01-31
//! ```
//!
//! Passing: no `expires:`, or a date still to come (the entry is needed until then).
//!
//! ```yaml
//!         - project: acme/services/api
//!           owner: team-payments
//!           expires: 2099-12-31
//! ```

use super::RuleMeta;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::{Finding, Subject};

pub(crate) static META: RuleMeta = RuleMeta {
    id: "expired-allowlist-entry",
    severity: Severity::Warning,
    summary: "an allowlist entry whose `expires:` date has passed",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let today = crate::date::today();
        for (path, p) in &audit.snap.manifest.projects {
            for entry in &p.job_token.allowlist {
                let Some((date, span)) = &entry.meta.expires else { continue };
                if crate::date::days(date).is_none_or(|d| d >= today) {
                    continue;
                }
                let owner = entry.meta.owner.as_deref().map_or(String::new(), |o| format!(" (owner: {o})"));
                let message = format!(
                    "allowlist entry `{}` of `{path}`{owner} expired on {date}: the access it was added for should have ended",
                    entry.path
                );
                let help = format!(
                    "remove `{}` from the allowlist of `{path}`, or set a new `expires:` date if it is still needed",
                    entry.path
                );
                let subject = Subject::Entry { project: path.clone(), entry: entry.path.clone() };
                out.push(Finding::build(&META, subject).message(message).help(help).at(*span).finish());
            }
        }
    }
}
