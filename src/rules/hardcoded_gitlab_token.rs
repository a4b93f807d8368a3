//! A literal GitLab token in a CI file: personal, project and group access tokens (`glpat-`), deploy tokens
//! (`gldt-`), pipeline trigger tokens (`glptt-`), CI job tokens (`glcbt-`), runner tokens (`glrt-`,
//! `GR1348941`), feed, OAuth, incoming-mail, agent and SCIM tokens. Everyone who can read the repository can
//! use it. The finding shows only the prefix (`glpat-[REDACTED]`), and the source snippet masks the secret;
//! its fingerprint uses a hash, never the token.
//!
//! Failing:
//!
//! ```yaml
//! variables:
//!   GITLAB_TOKEN: glpat-Xq7vR2mN9kL4pT8wZ3yB
//! ```
//!
//! Passing: the token revoked, and a new one stored as a masked, protected CI/CD variable.

use super::RuleMeta;
use crate::diag::Severity;
use crate::engine::Audit;
use crate::finding::{Finding, Subject};
use crate::snapshot::RepoFile;
use crate::text::TOKEN_RE;
use rayon::prelude::*;
use std::collections::BTreeSet;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "hardcoded-gitlab-token",
    severity: Severity::Error,
    summary: "a literal GitLab token is written in a CI file",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        let snap = audit.snap;
        let mut files = BTreeSet::new();
        for p in audit.pipelines {
            let Some(root) = snap.manifest.projects.get(&p.project).map(|m| crate::ci::project(snap, m)) else {
                continue;
            };
            let (cfg_project, cfg_path) = crate::ci::config_location(&root).unwrap_or((p.project.clone(), ""));
            let mut ids = vec![snap.repo_file(&cfg_project, cfg_path)];
            ids.extend(p.includes.iter().map(|i| snap.repo_file(&i.project, &i.file)));
            files.extend(ids.into_iter().filter_map(|r| if let RepoFile::Found(id) = r { Some(id) } else { None }));
        }
        // Every CI file of the org is searched: in parallel.
        let mut spans: Vec<_> = files
            .par_iter()
            .flat_map_iter(|&id| {
                let file = snap.sources.get(id);
                TOKEN_RE
                    .find_iter(&file.text)
                    .map(|m| {
                        let span = snap.sources.span(id, m.start() as u32, m.end() as u32);
                        (span, file.project.clone(), m.as_str().to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        spans.sort_by(|a, b| snap.sources.cmp_spans(a.0, b.0));
        for (span, project, token) in spans {
            let project = project.unwrap_or_default();
            let shown = crate::text::redact(&token);
            let message = format!(
                "a GitLab token ({shown}) is written in this CI file: everyone who can read the repository can use it"
            );
            let help = "revoke the token now, then pass a new one as a masked, protected CI/CD variable";
            // The fingerprint uses a hash of the secret, never the secret itself.
            let key = format!("{}|{}", snap.sources.get(span.file).display, crate::finding::fnv64(&[&token]));
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
