//! The job token sent to a host other than the instance: a git URL or API call with the token to another
//! host, or a registry login with the token to another registry (`docker login` without a server sends it to
//! Docker Hub). Whoever runs that host can use the token while the job runs.
//!
//! Failing (the instance is `gitlab.acme.example`):
//!
//! ```yaml
//!     - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.com/acme-oss/design-tokens.git
//! ```
//!
//! Passing: an anonymous clone of a public project, or a credential made for that host.

use super::{AccessFinding, RuleMeta, per_access};
use crate::detect::Target;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "job-token-to-foreign-host",
    severity: Severity::Error,
    summary: "the job token is sent to a host other than this GitLab instance",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let instance = &audit.snap.manifest.instance.host;
        per_access(audit, &META, out, |a| {
            let Target::Foreign(dest) = &a.target else { return None };
            let host = dest.split('/').next().unwrap_or(dest);
            Some(AccessFinding {
                message: format!(
                    "job `{}` of `{}` sends the job token to `{host}`, which is not this GitLab instance ({instance}): whoever runs `{host}` can use the token while the job runs",
                    a.job, a.caller
                ),
                help: "authenticate to other hosts with a credential made for them; if that host is this GitLab instance, fix `instance.url` in the snapshot",
                key: format!("{}|{host}", a.job),
            })
        });
    }
}
