//! An allowlist entry with default permissions (everything the user's role allows), or with fine-grained
//! permissions beyond what the accesses of the callers it decides for need (the project entry decides for
//! its project; a group entry for the projects under it that have no closer entry). The message gives the
//! minimal list. The entry is not judged when its needs cannot be known: an unclassified API call, a covered
//! project that failed to load or has an unresolved access, or use seen only in the authentication log.
//! Registry pulls need no policy (the container registry is not controlled by policies).
//!
//! Failing (the deployer only downloads artifacts with `needs: project:`):
//!
//! ```yaml
//!   acme/services/api:
//!     job_token:
//!       allowlist:
//!         - project: acme/infra/deployer          # default permissions
//! ```
//!
//! Passing:
//!
//! ```yaml
//!         - project: acme/infra/deployer
//!           permissions: [read_jobs]
//! ```
//!
//! When a project the entry lets in is partially seen (it runs a script the snapshot does not hold, or
//! hands the token to a program tokenscope cannot follow), the finding is only a note that says what
//! could not be read: confirm there before narrowing the entry.

use super::{Advice, RuleMeta, entry_advice};
use crate::detect::{Kind, Permission};
use crate::diag::Severity;
use crate::engine::{Audit, EdgeStatus};
use crate::finding::Finding;
use std::collections::BTreeSet;

pub(crate) static META: RuleMeta = RuleMeta {
    id: "overbroad-permissions",
    severity: Severity::Warning,
    summary: "an allowlist entry grants more job-token permissions than its callers' accesses need",
    settings: &[],
};

pub(crate) struct Rule;

impl super::Rule for Rule {
    fn check(&self, audit: &Audit, _settings: &super::Settings, out: &mut Vec<Finding>) {
        for (path, p) in &audit.snap.manifest.projects {
            if !p.knows(crate::snapshot::manifest::Data::Permissions) {
                continue; // an entry whose permissions could not be read is not one with default permissions
            }
            // Each allowed edge already knows the entry that decides it: grouped once, not per entry.
            let mut by_entry: std::collections::HashMap<usize, Vec<&crate::engine::Edge>> =
                std::collections::HashMap::new();
            for e in audit.edges_into(path).filter(|e| e.status == EdgeStatus::Allowed) {
                if let Some(i) = e.entry {
                    by_entry.entry(i).or_default().push(e);
                }
            }
            for (i, entry) in p.job_token.allowlist.iter().enumerate() {
                let Some(edges) = by_entry.get(&i) else { continue };
                let blind = audit.covers_blind(entry, "");
                let unknown = edges
                    .iter()
                    .flat_map(|e| e.accesses.iter())
                    .any(|&a| audit.accesses[a].permission.is_none() && audit.accesses[a].kind != Kind::Registry);
                if blind || unknown {
                    continue;
                }
                let needed: BTreeSet<Permission> = edges.iter().flat_map(|e| e.permissions.iter().copied()).collect();
                if needed.is_empty() {
                    continue; // only registry pulls, which policies do not control
                }
                let minimal = Permission::list(&needed);
                let callers: Vec<String> = edges.iter().map(|e| format!("`{}`", e.caller)).collect();
                let message = match &entry.permissions {
                    None => format!(
                        "allowlist entry `{}` of `{path}` has default permissions (everything the user's role allows), but {} only {} [{minimal}]",
                        entry.path,
                        callers.join(", "),
                        if callers.len() == 1 { "needs" } else { "need" }
                    ),
                    Some(granted) => {
                        let extra: Vec<&Permission> = granted.iter().filter(|g| !needed.contains(g)).collect();
                        if extra.is_empty() {
                            continue;
                        }
                        format!(
                            "allowlist entry `{}` of `{path}` grants [{}] that no access of {} needs; the minimal list is [{minimal}]",
                            entry.path,
                            Permission::list(extra),
                            callers.join(", ")
                        )
                    }
                };
                let help = format!("set the entry's job-token permissions to [{minimal}]");
                out.push(entry_advice(
                    audit,
                    &META,
                    path,
                    entry,
                    Advice { message, help, action: "narrowing", kept: &[] },
                ));
            }
        }
    }
}
