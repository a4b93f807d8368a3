//! `overbroad-group-entry`: a group entry that lets in many projects of the snapshot when only a few use it.

use super::coverage::covers;
use super::{Audit, RuleMeta, entry_finding};
use crate::diag::Severity;
use crate::finding::Finding;
use crate::snapshot::EntryKind;

pub static META: RuleMeta = RuleMeta {
    id: "overbroad-group-entry",
    severity: Severity::Warning,
    summary: "a group allowlist entry covering many projects of which only a few use the job token",
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, audit: &Audit, out: &mut Vec<Finding>) {
        let cfg = &audit.config;
        for (path, p) in &audit.snap.manifest.projects {
            let token_callers = audit.graph.token_callers(path);
            for entry in p.job_token.allowlist.iter().filter(|e| e.kind == EntryKind::Group) {
                let covered: Vec<&str> =
                    audit.snap.manifest.covered_by(entry).into_iter().filter(|c| c != path).collect();
                let callers: Vec<&str> =
                    token_callers.iter().copied().filter(|c| covers(entry, c) && c != path).collect();
                if callers.is_empty() || covered.len() < cfg.overbroad_min_projects {
                    continue; // unused entries are `unused-allowlist-entry`'s; small groups are fine
                }
                if callers.len() * 100 >= covered.len() * cfg.overbroad_max_used_percent {
                    continue;
                }
                let names: Vec<String> = callers.iter().map(|c| format!("`{c}`")).collect();
                let message = format!(
                    "group entry `{}` on `{path}` lets {} projects of the snapshot use their job token against `{path}`, but only {} do: {}",
                    entry.path,
                    covered.len(),
                    callers.len(),
                    names.join(", ")
                );
                let replacement: Vec<String> = callers.iter().map(|c| format!("- project: {c}")).collect();
                let help = format!("replace the group entry with project entries: {}", replacement.join("; "));
                out.push(entry_finding(&META, path, entry, message, help));
            }
        }
    }
}
