//! `CI_JOB_TOKEN` defined in `variables:` (at the top level, in a job, or in an included file). GitLab
//! discourages overriding predefined variables; endpoints that identify the running job by its token then
//! refuse the value. A real report: the SBOM scan API answered 403 after a project put a project access token
//! into `CI_JOB_TOKEN`. Located at the variable; the project is the one whose file defines it.
//!
//! Failing:
//!
//! ```yaml
//! release:
//!   variables:
//!     CI_JOB_TOKEN: $RELEASE_BOT_TOKEN
//! ```
//!
//! Passing: another name for the other token (`RELEASE_TOKEN: $RELEASE_BOT_TOKEN`), `CI_JOB_TOKEN` left to
//! GitLab.

use super::{RuleMeta, file_project};
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::{Finding, Subject};
use std::collections::BTreeSet;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "job-token-overridden",
    severity: Severity::Error,
    summary: "CI_JOB_TOKEN is redefined in `variables:`, which breaks endpoints that identify the job by its token",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let mut seen = BTreeSet::new();
        for p in audit.pipelines {
            let global = crate::ci::job_token_redefined(&p.global_vars).map(|v| ("global `variables:`".to_string(), v));
            let jobs = p
                .jobs
                .iter()
                .filter_map(|j| crate::ci::job_token_redefined(&j.vars).map(|v| (format!("job `{}`", j.key), v)));
            for (scope, v) in global.into_iter().chain(jobs) {
                let Some(span) = v.span else { continue };
                if !seen.insert(span) {
                    continue;
                }
                let project = file_project(audit, span, &p.project);
                let message = format!(
                    "`CI_JOB_TOKEN` is redefined in the {scope} of `{}`: GitLab's own job token is replaced, and endpoints that identify the running job by its token refuse the value with 403",
                    p.project
                );
                let help = "give the other token its own variable name (for example `DEPLOY_TOKEN`) and leave `CI_JOB_TOKEN` to GitLab";
                let key = format!("{}|{scope}", audit.snap.sources.get(span.file).display);
                out.push(
                    Finding::build(&META, Subject::Project { project })
                        .key(key)
                        .message(message)
                        .help(help)
                        .at(span)
                        .finish(),
                );
            }
        }
    }
}
