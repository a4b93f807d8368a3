//! A job-token access whose target cannot be determined statically, for example a project id held in a
//! variable set in the project's CI/CD settings. tokenscope never guesses: it reports the access with the
//! expression as written, and does not report allowlist entries that such a project might be using.
//!
//! Failing:
//!
//! ```yaml
//! docs:
//!   script:
//!     - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$DOCS_PROJECT_ID/jobs/artifacts/main/download?job=pages"'
//! ```
//!
//! Passing: a literal path or id, or a variable defined in the CI configuration:
//!
//! ```yaml
//! docs:
//!   variables:
//!     DOCS_PROJECT: acme%2Fdocs
//!   script:
//!     - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$DOCS_PROJECT/jobs/artifacts/main/download?job=pages"'
//! ```

use super::RuleMeta;
use crate::detect::Target;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::{Finding, Subject};
use std::collections::BTreeSet;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "unresolved-target",
    severity: Severity::Warning,
    summary: "a job-token access whose target project cannot be determined from the configuration",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let mut seen = BTreeSet::new();
        for a in &audit.accesses {
            let Target::Unresolved(unresolved) = &a.target else { continue };
            if !seen.insert((a.caller.as_str(), unresolved, a.span)) {
                continue;
            }
            let raw = unresolved.name();
            let message = format!(
                "job `{}` of `{}` uses the job token ({}, {}), but its target `{raw}` cannot be resolved from the configuration",
                a.job,
                a.caller,
                a.kind.name(),
                a.detail
            );
            let help = "tokenscope cannot tell which allowlist this needs; use a literal path or a variable defined in the CI configuration";
            let key = format!("{}|{raw}", a.kind.name());
            let subject = Subject::Job { project: a.caller.clone(), caller: a.caller.clone() };
            out.push(Finding::build(&META, subject).key(key).message(message).help(help).at(a.span).finish());
        }
    }
}
