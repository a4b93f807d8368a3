//! The job token in a URL query string (`?job_token=$CI_JOB_TOKEN`, `&private_token=...`, any parameter):
//! URLs are written to proxy and server access logs. The `https://gitlab-ci-token:${CI_JOB_TOKEN}@host/...`
//! form for git is the documented way and is not flagged.
//!
//! Failing:
//!
//! ```yaml
//!     - curl -o a.zip "$CI_API_V4_URL/projects/42/jobs/artifacts/main/download?job=build&job_token=$CI_JOB_TOKEN"
//! ```
//!
//! Passing:
//!
//! ```yaml
//!     - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" -o a.zip "$CI_API_V4_URL/projects/42/jobs/artifacts/main/download?job=build"'
//! ```

use super::{AccessFinding, RuleMeta, per_access};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "job-token-in-url",
    severity: Severity::Warning,
    summary: "the job token is passed in a URL query string, where proxies and servers log it",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        per_access(audit, &META, out, |a| {
            let param = a.http.as_ref()?.token_in_query.as_deref()?;
            Some(AccessFinding {
                message: format!(
                    "job `{}` of `{}` puts the job token in the URL (`{param}=`): URLs are written to proxy and server access logs",
                    a.job, a.caller
                ),
                help: "send it in a header instead: `--header \"JOB-TOKEN: $CI_JOB_TOKEN\"`",
                key: format!("{}|{}|{param}", a.job, a.kind.name()),
            })
        });
    }
}
