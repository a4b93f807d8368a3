//! On an instance whose manifest says `tier: free`: job-token authentication to the jobs artifacts API
//! (`/projects/:id/jobs/artifacts/...`, `/jobs/:id/artifacts`) and `needs: project:` artifacts, which are
//! Premium and Ultimate features. The call fails with 401 or 404 even for the project's own artifacts (a
//! real component shipped exactly this bug). Not reported when the tier is `premium`, `ultimate` or
//! `unknown`.
//!
//! Failing (`tier: free`):
//!
//! ```yaml
//! deploy:
//!   needs:
//!     - project: acme/services/api
//!       job: build
//!       ref: main
//! ```
//!
//! Passing: artifacts passed within one pipeline (`needs:` without `project:`), or a token the consumer
//! provides.

use super::{AccessFinding, RuleMeta, per_access};
use crate::detect::Kind;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;
use crate::snapshot::Tier;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "tier-unsupported-job-token-auth",
    severity: Severity::Error,
    summary: "job-token access to job artifacts (API or needs:project) on GitLab Free, where it is a Premium feature",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        if audit.snap.manifest.instance.tier != Tier::Free {
            return;
        }
        per_access(audit, &META, out, |a| {
            let what = match a.kind {
                Kind::JobArtifacts => "job-token authentication to the jobs artifacts API",
                Kind::NeedsProject => "`needs: project:` artifacts",
                _ => return None,
            };
            Some(AccessFinding {
                message: format!(
                    "job `{}` of `{}` uses {what}, which GitLab Free does not offer: the call fails with 401 or 404, even for the project's own artifacts",
                    a.job, a.caller
                ),
                help: "on Free, pass artifacts within one pipeline (`needs:`/`dependencies:`), or authenticate with a token the consumer provides",
                key: format!("{}|{}", a.job, a.kind.name()),
            })
        });
    }
}
