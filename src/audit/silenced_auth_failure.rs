//! `silenced-auth-failure`: a job-token HTTP call whose failure cannot be diagnosed from the job log.
//!
//! A real report: a reusable component fetched a plan with `curl --silent --fail` and the job token; every
//! cause (no job-token support on the tier, a missing allowlist entry, a wrong ref) collapsed into one
//! opaque message.

use super::{Audit, RuleMeta, file_project};
use crate::diag::Severity;
use crate::finding::Finding;
use std::collections::BTreeSet;

pub static META: RuleMeta = RuleMeta {
    id: "silenced-auth-failure",
    severity: Severity::Warning,
    summary: "a job-token HTTP call whose failure (401/403) cannot be diagnosed from the job log",
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, audit: &Audit, out: &mut Vec<Finding>) {
        let mut seen = BTreeSet::new();
        for a in &audit.accesses {
            let Some(why) = a.http.as_ref().and_then(|h| h.silenced.as_deref()) else { continue };
            if !seen.insert(a.span) {
                continue;
            }
            let project = file_project(audit, a.span, &a.caller);
            let message = format!(
                "job `{}` of `{}` calls GitLab with the job token, but {why}: when the token is refused the job log will not say why",
                a.job, a.caller
            );
            let help = "use `curl --fail-with-body` (or `--show-error`), and keep error output in the log";
            let key = format!("{}|{}", a.job, a.kind.name());
            out.push(
                Finding::new(
                    META.id,
                    META.severity,
                    &project,
                    Some(&a.caller),
                    None,
                    None,
                    &key,
                    message,
                    Some(a.span),
                )
                .with_help(help),
            );
        }
    }
}
