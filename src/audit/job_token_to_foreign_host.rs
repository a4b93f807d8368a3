//! `job-token-to-foreign-host`: the job token sent to a host other than the instance, leaking it to a third
//! party that can use it while the job runs.

use super::{Audit, RuleMeta, file_project};
use crate::detect::Target;
use crate::diag::Severity;
use crate::finding::Finding;
use std::collections::BTreeSet;

pub static META: RuleMeta = RuleMeta {
    id: "job-token-to-foreign-host",
    severity: Severity::Error,
    summary: "the job token is sent to a host other than this GitLab instance",
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, audit: &Audit, out: &mut Vec<Finding>) {
        let mut seen = BTreeSet::new();
        for a in &audit.accesses {
            let Target::Foreign(dest) = &a.target else { continue };
            if !seen.insert(a.span) {
                continue;
            }
            let host = dest.split('/').next().unwrap_or(dest);
            let project = file_project(audit, a.span, &a.caller);
            let message = format!(
                "job `{}` of `{}` sends the job token to `{host}`, which is not this GitLab instance ({}): whoever runs `{host}` can use the token while the job runs",
                a.job, a.caller, audit.snap.manifest.instance.host
            );
            let help = "authenticate to other hosts with a credential made for them; if that host is this GitLab instance, fix `instance.url` in the snapshot";
            let key = format!("{}|{host}", a.job);
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
