//! The snapshot sets `outbound_enabled` ("Limit CI_JOB_TOKEN access"), deprecated in GitLab 16.0 and removed
//! in 18.0: it limits nothing on current GitLab. Located at the setting in the manifest.
//!
//! Failing:
//!
//! ```yaml
//!     job_token:
//!       outbound_enabled: true
//! ```
//!
//! Passing: the setting removed; access is controlled by each callee's inbound allowlist.

use super::RuleMeta;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::{Finding, Subject};

pub(crate) static META: RuleMeta = RuleMeta {
    id: "outbound-scope-deprecated",
    severity: Severity::Warning,
    summary: "the removed outbound job-token scope is set: it no longer limits anything",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        for (path, p) in &audit.snap.manifest.projects {
            let Some((enabled, span)) = p.job_token.outbound_enabled else { continue };
            let effect = if enabled {
                "it was meant to limit what this project's jobs can reach, and on GitLab 18.0 and later it limits nothing"
            } else {
                "it has no effect"
            };
            let message = format!(
                "`{path}` sets the outbound job-token scope (`outbound_enabled: {enabled}`), deprecated in GitLab 16.0 and removed in 18.0: {effect}"
            );
            let help = "remove `outbound_enabled`; access is controlled by each callee's inbound allowlist";
            let subject = Subject::Project { project: path.clone() };
            out.push(Finding::build(&META, subject).message(message).help(help).at(span).finish());
        }
    }
}
