//! `tier-unsupported-job-token-auth`: job-token authentication to the jobs artifacts API and `needs: project:`
//! artifacts on GitLab Free, where they are not available: the call fails with 401/404 even on the same project.

use super::{Audit, RuleMeta, file_project};
use crate::detect::Kind;
use crate::diag::Severity;
use crate::finding::Finding;
use crate::snapshot::Tier;
use std::collections::BTreeSet;

pub static META: RuleMeta = RuleMeta {
    id: "tier-unsupported-job-token-auth",
    severity: Severity::Error,
    summary: "job-token access to job artifacts (API or needs:project) on GitLab Free, where it is a Premium feature",
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, audit: &Audit, out: &mut Vec<Finding>) {
        if audit.snap.manifest.instance.tier != Tier::Free {
            return;
        }
        let mut seen = BTreeSet::new();
        for a in &audit.accesses {
            let what = match a.kind {
                Kind::JobArtifacts => "job-token authentication to the jobs artifacts API",
                Kind::NeedsProject => "`needs: project:` artifacts",
                _ => continue,
            };
            if !seen.insert(a.span) {
                continue;
            }
            let project = file_project(audit, a.span, &a.caller);
            let message = format!(
                "job `{}` of `{}` uses {what}, which GitLab Free does not offer: the call fails with 401 or 404, even for the project's own artifacts",
                a.job, a.caller
            );
            let help = "on Free, pass artifacts within one pipeline (`needs:`/`dependencies:`), or authenticate with a token the consumer provides";
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
