//! `silenced-auth-failure`: a job-token HTTP call whose failure cannot be diagnosed from the job log.
//!
//! A real report: a reusable component fetched a plan with `curl --silent --fail` and the job token; every
//! cause (no job-token support on the tier, a missing allowlist entry, a wrong ref) collapsed into one
//! opaque message.

use super::{AccessFinding, RuleMeta, per_access};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;

pub static META: RuleMeta = RuleMeta {
    id: "silenced-auth-failure",
    severity: Severity::Warning,
    summary: "a job-token HTTP call whose failure (401/403) cannot be diagnosed from the job log",
    settings: &[],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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
