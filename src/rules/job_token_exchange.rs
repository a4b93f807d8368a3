//! A job that trades its job token for a JWT of GitLab's artifact registry (`POST /api/v4/token_exchange`
//! with a `JOB-TOKEN` header or a `job_token=` field). The endpoint skips job-token policies: the
//! fine-grained permissions of an allowlist entry are no limit on what the minted JWT can do, and the JWT
//! outlives nothing the allowlist controls. Review what the job does with it, and keep such jobs out of
//! pipelines that run untrusted code (merge requests from forks).
//!
//! Failing:
//!
//! ```yaml
//! publish:
//!   script:
//!     - 'AR_TOKEN=$(curl --request POST --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/token_exchange" | jq -r .token)'
//! ```
//!
//! Passing: the job authenticates to the registry it needs with the job token directly (its allowlist
//! entries and their permissions then apply), or with a token scoped for the purpose.

use super::{AccessFinding, RuleMeta, per_access};
use crate::detect::Kind;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::Finding;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "job-token-exchange",
    severity: Severity::Warning,
    summary: "the job token exchanged for an artifact-registry JWT, which fine-grained job-token permissions do not restrict",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        per_access(audit, &META, out, |a| {
            (a.kind == Kind::TokenExchange).then(|| AccessFinding {
                message: format!(
                    "job `{}` of `{}` exchanges its job token for an artifact-registry JWT (POST /api/v4/token_exchange); the endpoint skips job-token policies, so no allowlist entry's fine-grained permissions limit what the JWT can do",
                    a.job, a.caller
                ),
                help: "check what the job does with the JWT, and keep the job out of pipelines that run untrusted code",
                key: a.job.clone(),
            })
        });
    }
}
