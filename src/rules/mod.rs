//! The rules: one module per rule, each declaring its metadata ([`RuleMeta`]: id, default severity,
//! summary, thresholds) beside its check, and documenting itself in its module comment (what, why, a
//! failing and a passing example), from which `docs/rules.md` is made (a test keeps the two equal).
//!
//! A rule reads the finished [`Audit`] and produces findings with [`Finding::build`]. It neither filters
//! nor remaps them: `policy` does that for every producer of findings, in one place.

pub(crate) mod allowlist_disabled;
pub(crate) mod allowlist_over_limit;
pub(crate) mod expired_allowlist_entry;
pub(crate) mod hardcoded_gitlab_token;
pub(crate) mod job_token_exchange;
pub(crate) mod job_token_in_url;
pub(crate) mod job_token_overridden;
pub(crate) mod job_token_to_foreign_host;
pub(crate) mod missing_allowlist_entry;
pub(crate) mod outbound_scope_deprecated;
pub(crate) mod overbroad_group_entry;
pub(crate) mod overbroad_permissions;
pub(crate) mod silenced_auth_failure;
pub(crate) mod stale_allowlist_entry;
pub(crate) mod tier_unsupported_job_token_auth;
pub(crate) mod unresolved_target;
pub(crate) mod unused_allowlist_entry;

pub(crate) mod meta;
pub use meta::RuleMeta;
pub(crate) use meta::{Setting, Settings};

use crate::detect::Access;
use crate::engine::Audit;
use crate::finding::{Finding, Subject};
use crate::snapshot::{AllowEntry, Project};
use crate::source::Span;
use rayon::prelude::*;
use std::collections::BTreeSet;

/// A rule: a check over the finished audit. Its metadata is the `META` beside it in its module.
pub(crate) trait Rule: Sync {
    fn check(&self, audit: &Audit, settings: &Settings, out: &mut Vec<Finding>);
}

/// Each rule module's `META` with its `Rule`, so the two cannot be paired wrongly.
macro_rules! registered {
    ($($module:ident),* $(,)?) => {
        [$((&$module::META, &$module::Rule as &dyn Rule)),*]
    };
}

/// Every rule, in a stable order, with its metadata.
pub(crate) fn registry() -> [(&'static RuleMeta, &'static dyn Rule); 17] {
    registered![
        missing_allowlist_entry,
        unused_allowlist_entry,
        overbroad_group_entry,
        allowlist_disabled,
        stale_allowlist_entry,
        expired_allowlist_entry,
        allowlist_over_limit,
        unresolved_target,
        overbroad_permissions,
        job_token_overridden,
        job_token_in_url,
        tier_unsupported_job_token_auth,
        silenced_auth_failure,
        hardcoded_gitlab_token,
        job_token_to_foreign_host,
        outbound_scope_deprecated,
        job_token_exchange,
    ]
}

/// Every rule's metadata, in the registry's order.
pub fn metas() -> Vec<&'static RuleMeta> {
    registry().iter().map(|(meta, _)| *meta).collect()
}

/// The findings of the rules `enabled` says run (a rule the policy switched off is not run at all).
/// Rules are independent of each other: they run in parallel.
pub(crate) fn run(audit: &Audit, settings: &Settings, enabled: impl Fn(&str) -> bool + Sync) -> Vec<Finding> {
    let rules: Vec<&dyn Rule> =
        registry().into_iter().filter(|(meta, _)| enabled(meta.id)).map(|(_, rule)| rule).collect();
    let per_rule: Vec<Vec<Finding>> = rules
        .par_iter()
        .map(|rule| {
            let mut out = Vec::new();
            rule.check(audit, settings, &mut out);
            out
        })
        .collect();
    per_rule.into_iter().flatten().collect()
}

/// What a rule says about one access (see [`per_access`]).
pub(crate) struct AccessFinding {
    pub(crate) message: String,
    pub(crate) help: &'static str,
    /// What the finding is about, for its fingerprint (never a line number).
    pub(crate) key: String,
}

/// For rules about how a job spends its token: one finding per place in the source (a template line that
/// many projects include is fixed once), in the project whose file it is.
pub(crate) fn per_access(
    audit: &Audit,
    meta: &'static RuleMeta,
    out: &mut Vec<Finding>,
    describe: impl Fn(&Access) -> Option<AccessFinding>,
) {
    let mut seen = BTreeSet::new();
    for a in &audit.accesses {
        let Some(f) = describe(a) else { continue };
        if !seen.insert(a.span) {
            continue;
        }
        let project = file_project(audit, a.span, &a.caller);
        let subject = Subject::Job { project, caller: a.caller.clone() };
        out.push(Finding::build(meta, subject).key(f.key).message(f.message).help(f.help).at(a.span).finish());
    }
}

/// What a rule advises about an entry: the message, the fix, what the fix does to the entry ("removing",
/// "narrowing", ...) and the projects that keep their access after it.
pub(crate) struct Advice<'k> {
    pub(crate) message: String,
    pub(crate) help: String,
    pub(crate) action: &'static str,
    pub(crate) kept: &'k [&'k str],
}

/// A finding that advises removing or narrowing an allowlist entry of `project`, located at the entry. When a
/// project the entry lets in is partially seen (it runs something tokenscope could not read) or blind (it
/// failed to load, or has an unresolved access), a use may hide there: the finding is then only a note that
/// says what could not be read, and its fix asks to confirm first (`action`: what the fix does to the entry;
/// `kept`: the projects that keep their access after it).
pub(crate) fn entry_advice(
    audit: &Audit,
    meta: &'static RuleMeta,
    project: &str,
    entry: &AllowEntry,
    advice: Advice,
) -> Finding {
    let Advice { mut message, mut help, action, kept } = advice;
    // Projects the fix leaves their access (the callers a group entry is replaced by) lose nothing.
    // The first such project is described, the others counted: a group entry may admit thousands.
    let first = audit.unseen_admitted(entry, project, kept).next();
    let mut severity = meta.severity;
    if let Some(first) = first {
        severity = crate::diag::Severity::Note;
        let total = audit.unseen_admitted_count(entry, project, kept);
        debug_assert_eq!(total, audit.unseen_admitted(entry, project, kept).count(), "the count is the sentences'");
        let more = if total > 1 { format!(" (and {} more)", total - 1) } else { String::new() };
        message.push_str(&format!("; but not everything its projects run could be read: {first}{more}"));
        help = format!(
            "confirm that what could not be read does not use the job token against `{project}` before {action} `{}` ({help})",
            entry.path
        );
    }
    let subject = Subject::Entry { project: project.to_string(), entry: entry.path.clone() };
    Finding::build(meta, subject).severity(severity).message(message).help(help).at(entry.span).finish()
}

/// A finding about one allowlist entry of `project`, located at the entry in the manifest.
pub(crate) fn entry_finding(
    meta: &'static RuleMeta,
    project: &str,
    entry: &AllowEntry,
    message: String,
    help: String,
) -> Finding {
    let subject = Subject::Entry { project: project.to_string(), entry: entry.path.clone() };
    Finding::build(meta, subject).message(message).help(help).at(entry.span).finish()
}

/// A finding about a project's job-token settings as a callee, located at its settings in the manifest.
pub(crate) fn settings_finding(
    meta: &'static RuleMeta,
    project: &Project,
    key: &str,
    message: String,
    help: &str,
) -> Finding {
    let subject = Subject::Settings { project: project.path.clone() };
    Finding::build(meta, subject).key(key).message(message).help(help).at(project.settings_span).finish()
}

/// The project where a CI finding is fixed: the one whose repository holds the file (a templates project
/// for a line in a shared template), else `fallback`.
pub(crate) fn file_project(audit: &Audit, span: Span, fallback: &str) -> String {
    audit.snap.sources.get(span.file).project.clone().unwrap_or_else(|| fallback.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rule_ids_are_unique_and_named_like_their_module() {
        let metas = super::metas();
        let mut ids: Vec<&str> = metas.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), metas.len(), "a rule id is used twice");
        for m in metas {
            assert!(m.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "`{}` is not kebab-case", m.id);
            let file = format!("{}/src/rules/{}.rs", env!("CARGO_MANIFEST_DIR"), m.id.replace('-', "_"));
            assert!(std::path::Path::new(&file).is_file(), "`{}` is not declared in {file}", m.id);
        }
    }
}
