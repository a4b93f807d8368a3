//! A job-token access *C* → *P* that *P*'s allowlist does not cover. When *P* enforces its allowlist the job
//! fails today with `403 Forbidden - Authentication by CI/CD job token not allowed from C to P` (severity
//! error); when it does not, the access works only until enforcement is switched on (severity warning, edge
//! status `unenforced`). The finding points at the line of the CI file that makes the access, and its help
//! gives the entry to add, with the fine-grained permissions the access needs.
//!
//! An access is also missing when an entry covers the caller but its fine-grained permissions lack one the
//! access needs (for example `read_jobs` for `needs: project:`): GitLab answers `Insufficient permissions to
//! access this resource ... The following token permission is required: read_jobs`. The help names the
//! permission to add.
//!
//! Failing (`acme/services/api` enforces, and its allowlist does not name `acme/services/web`):
//!
//! ```yaml
//! # tokenscope.yaml
//! projects:
//!   acme/services/api:
//!     job_token: {inbound_enabled: true}
//!   acme/services/web: {}
//! # repos/acme/services/web/.gitlab-ci.yml
//! build:
//!   script:
//!     - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.acme.example/acme/services/api.git
//! ```
//!
//! Passing: the allowlist names the caller, or a group above it.
//!
//! ```yaml
//!   acme/services/api:
//!     job_token:
//!       inbound_enabled: true
//!       allowlist:
//!         - project: acme/services/web
//! ```
//!
//! An archived caller runs no pipelines: its accesses are reported as a note only (the entry would serve
//! nothing until the project is unarchived), never as an error.
//!
//! Not findings: a project's access to itself (`self`); `trigger: project:` and `include: project:`, which
//! run with the user's rights rather than the job token; the hidden jobs of a templates project, whose
//! accesses belong to the projects that use them.

use super::RuleMeta;
use crate::diag::Severity;
use crate::engine::{Audit, EdgeStatus};
use crate::finding::{Finding, Subject};

pub(crate) static META: RuleMeta = RuleMeta {
    id: "missing-allowlist-entry",
    severity: Severity::Error,
    summary: "a job uses its token against a project whose allowlist does not include the job's project",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        for e in &audit.edges {
            let (severity, consequence) = match e.status {
                EdgeStatus::Missing => (Severity::Error, "the job fails with 403".to_string()),
                EdgeStatus::Unenforced => (
                    Severity::Warning,
                    format!(
                        "it works only because `{}` does not enforce its allowlist, and breaks the day enforcement is switched on",
                        e.callee
                    ),
                ),
                _ => continue,
            };
            if !e.lacking.is_empty() {
                // Covered by an entry whose fine-grained permissions are too narrow.
                let entry = audit.entry_path(e).unwrap_or_default();
                let first = e
                    .accesses
                    .iter()
                    .map(|&i| &audit.accesses[i])
                    .find(|a| a.permission.is_some_and(|p| e.lacking.contains(&p)));
                let first = first.unwrap_or(&audit.accesses[e.accesses[0]]);
                let lacking = crate::detect::Permission::list(&e.lacking);
                let message = format!(
                    "`{}` uses the job token against `{}` (job `{}`), and `{}`'s allowlist entry `{entry}` does not grant [{lacking}]: the job fails with \"Insufficient permissions\"",
                    e.caller, e.callee, first.job, e.callee
                );
                let help =
                    format!("add [{lacking}] to the permissions of `{entry}` in the allowlist of `{}`", e.callee);
                let subject = Subject::Edge {
                    caller: e.caller.clone(),
                    callee: e.callee.clone(),
                    entry: Some(entry.to_string()),
                };
                let mut f =
                    Finding::build(&META, subject).severity(Severity::Error).key("permissions").message(message);
                f = f.help(help).at(first.span);
                if let Some(span) = audit.entry(e).map(|entry| entry.span) {
                    f = f.related(span, "the allowlist entry");
                }
                out.push(f.finish());
                continue;
            }
            let first = &audit.accesses[e.accesses[0]];
            if audit.snap.manifest.projects.get(&e.caller).is_some_and(|c| c.archived) {
                let message = format!(
                    "`{}` would use the job token against `{}` ({}, job `{}`), which does not allow it, but `{}` is archived and runs no pipelines",
                    e.caller,
                    e.callee,
                    e.kind_list(),
                    first.job,
                    e.caller
                );
                let subject = Subject::Edge { caller: e.caller.clone(), callee: e.callee.clone(), entry: None };
                let help =
                    format!("nothing to add while `{}` is archived; add the entry if it is unarchived", e.caller);
                out.push(
                    Finding::build(&META, subject)
                        .severity(Severity::Note)
                        .key("archived")
                        .message(message)
                        .help(help)
                        .at(first.span)
                        .finish(),
                );
                continue;
            }
            let message = format!(
                "`{}` uses the job token against `{}` ({}, job `{}`), but `{}`'s allowlist does not include `{}`: {consequence}",
                e.caller,
                e.callee,
                e.kind_list(),
                first.job,
                e.callee,
                e.caller
            );
            let with = if e.permissions.is_empty() {
                String::new()
            } else {
                format!(" with permissions [{}]", e.permission_list())
            };
            let help = format!("add `- project: {}`{with} to the job token allowlist of `{}`", e.caller, e.callee);
            let subject = Subject::Edge { caller: e.caller.clone(), callee: e.callee.clone(), entry: None };
            let mut f = Finding::build(&META, subject).severity(severity).message(message).help(help).at(first.span);
            if let Some(callee) = audit.snap.manifest.projects.get(&e.callee) {
                f = f.related(callee.settings_span, "the callee's job-token settings");
            }
            out.push(f.finish());
        }
    }
}
