//! A job-token HTTP call whose failure cannot be diagnosed from the job log: `curl --silent --fail` without
//! `--show-error` or `--fail-with-body`, `-o /dev/null`, error output sent to `/dev/null`, `wget --quiet`, or
//! `|| true`. When the token is refused (a missing allowlist entry, a missing permission, the tier), every
//! cause collapses into one opaque message. The same real report as above.
//!
//! Failing:
//!
//! ```yaml
//!     - 'curl --silent --fail --header "JOB-TOKEN: $CI_JOB_TOKEN" -o plan.zip "$CI_API_V4_URL/projects/42/jobs/artifacts/main/download?job=plan"'
//! ```
//!
//! Passing:
//!
//! ```yaml
//!     - 'curl --silent --show-error --fail-with-body --header "JOB-TOKEN: $CI_JOB_TOKEN" -o plan.zip "$CI_API_V4_URL/projects/42/jobs/artifacts/main/download?job=plan"'
//! ```

use super::{AccessFinding, RuleMeta, per_access};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "silenced-auth-failure",
    severity: Severity::Warning,
    summary: "a job-token HTTP call whose failure (401/403) cannot be diagnosed from the job log",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        per_access(audit, &META, out, |a| {
            let why = a.http.as_ref()?.silenced.as_deref()?;
            Some(AccessFinding {
                message: format!(
                    "job `{}` of `{}` calls GitLab with the job token, but {why}: when the token is refused the job log will not say why",
                    a.job, a.caller
                ),
                help: "use `curl --fail-with-body` (or `--show-error`), and keep error output in the log",
                key: format!("{}|{}", a.job, a.kind.name()),
            })
        });
    }
}
