//! The audit: job-token accesses diffed against each callee's allowlist, one module per rule.
//!
//! `run` detects every access (in parallel across projects), builds the graph once, computes each edge's
//! status with GitLab's coverage rules (`coverage`), then runs every rule of the registry over the result.

pub mod allowlist_disabled;
pub mod allowlist_over_limit;
pub mod coverage;
pub mod hardcoded_gitlab_token;
pub mod job_token_in_url;
pub mod job_token_overridden;
pub mod job_token_to_foreign_host;
pub mod missing_allowlist_entry;
pub mod outbound_scope_deprecated;
pub mod overbroad_group_entry;
pub mod overbroad_permissions;
pub mod silenced_auth_failure;
pub mod stale_allowlist_entry;
pub mod tier_unsupported_job_token_auth;
pub mod unresolved_target;
pub mod unused_allowlist_entry;

use crate::ci::Pipeline;
use crate::config::Config;
use crate::detect::{self, Access, Confidence, Target};
use crate::diag::Severity;
use crate::finding::Finding;
use crate::graph::{OrgGraph, Relation};
use crate::snapshot::{AllowEntry, Project, Snapshot};
use crate::source::Span;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A rule's identity, declared once next to the rule; it drives `tokenscope rules`, the docs and output.
pub struct RuleMeta {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

impl RuleMeta {
    /// Anchor of the rule's section in docs/rules.md.
    pub fn docs(&self) -> String {
        format!("docs/rules.md#{}", self.id)
    }
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, audit: &Audit, out: &mut Vec<Finding>);
}

/// Every rule, in a stable order.
pub fn registry() -> Vec<&'static dyn Rule> {
    vec![
        &missing_allowlist_entry::Rule,
        &unused_allowlist_entry::Rule,
        &overbroad_group_entry::Rule,
        &allowlist_disabled::Rule,
        &stale_allowlist_entry::Rule,
        &allowlist_over_limit::Rule,
        &unresolved_target::Rule,
        &overbroad_permissions::Rule,
        &job_token_overridden::Rule,
        &job_token_in_url::Rule,
        &tier_unsupported_job_token_auth::Rule,
        &silenced_auth_failure::Rule,
        &hardcoded_gitlab_token::Rule,
        &job_token_to_foreign_host::Rule,
        &outbound_scope_deprecated::Rule,
    ]
}

/// What a rule says about one access (see [`per_access`]).
pub struct AccessFinding {
    pub message: String,
    pub help: &'static str,
    /// What the finding is about, for its fingerprint (never a line number).
    pub key: String,
}

/// For rules about how a job spends its token: one finding per place in the source (a template line that
/// many projects include is fixed once), in the project whose file it is.
pub fn per_access(
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
        let finding = Finding::new(
            meta.id,
            meta.severity,
            &project,
            Some(&a.caller),
            None,
            None,
            &f.key,
            f.message,
            Some(a.span),
        );
        out.push(finding.with_help(f.help));
    }
}

/// A finding about one allowlist entry of `project`, located at the entry in the manifest.
pub fn entry_finding(
    meta: &'static RuleMeta,
    project: &str,
    entry: &AllowEntry,
    message: String,
    help: String,
) -> Finding {
    Finding::new(meta.id, meta.severity, project, None, Some(project), Some(&entry.path), "", message, Some(entry.span))
        .with_help(help)
}

/// A finding about a project's job-token settings as a callee, located at its settings in the manifest.
pub fn settings_finding(meta: &'static RuleMeta, project: &Project, key: &str, message: String, help: &str) -> Finding {
    let path = project.path.as_str();
    Finding::new(meta.id, meta.severity, path, None, Some(path), None, key, message, Some(project.settings_span))
        .with_help(help)
}

/// The project where a CI finding is fixed: the one whose repository holds the file (a templates project
/// for a line in a shared template), else `fallback`.
pub fn file_project(audit: &Audit, span: Span, fallback: &str) -> String {
    audit.snap.sources.get(span.file).project.clone().unwrap_or_else(|| fallback.to_string())
}

#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// `overbroad-group-entry` fires for a group entry covering at least this many snapshot projects...
    pub overbroad_min_projects: usize,
    /// ...of which fewer than this percentage reach the callee.
    pub overbroad_max_used_percent: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig { overbroad_min_projects: 3, overbroad_max_used_percent: 50 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeStatus {
    /// Covered by an allowlist entry (or by an unenforced allowlist, see `Unenforced`).
    Allowed,
    /// The callee enforces its allowlist and no entry covers the caller: the job fails with 403.
    Missing,
    /// Not covered, but the callee does not enforce its allowlist: works today, breaks on enforcement.
    Unenforced,
    /// The project's own resources.
    #[serde(rename = "self")]
    SelfAccess,
    /// Outside the snapshot: another host, or a project the snapshot does not hold.
    External,
    /// The target could not be determined.
    Unresolved,
    /// The callee's job-token settings could not be read when the snapshot was taken.
    Unknown,
    /// Not a job-token relation (`trigger:`, `include:`).
    Relation,
}

impl EdgeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeStatus::Allowed => "allowed",
            EdgeStatus::Missing => "missing",
            EdgeStatus::Unenforced => "unenforced",
            EdgeStatus::SelfAccess => "self",
            EdgeStatus::External => "external",
            EdgeStatus::Unresolved => "unresolved",
            EdgeStatus::Unknown => "unknown",
            EdgeStatus::Relation => "relation",
        }
    }
}

/// An edge of the graph with what the audit concluded about it.
#[derive(Clone, Debug)]
pub struct Edge {
    pub caller: String,
    pub callee: String,
    pub relation: Relation,
    pub kinds: BTreeSet<String>,
    pub permissions: BTreeSet<&'static str>,
    pub status: EdgeStatus,
    pub confidence: Confidence,
    /// Indexes into `Audit::accesses`, one per distinct evidence span.
    pub accesses: Vec<usize>,
    /// Spans of non-token relations.
    pub spans: Vec<Span>,
    /// The allowlist entry (index into the callee's allowlist) that covers the caller.
    pub entry: Option<usize>,
    /// Permissions the accesses need that the deciding entry's fine-grained permissions do not grant.
    pub lacking: Vec<&'static str>,
}

impl Edge {
    /// The kinds of access, as shown in tables and messages: `git, packages:npm`.
    pub fn kind_list(&self) -> String {
        self.kinds.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
    }

    /// The permissions the accesses need, as shown in tables and messages.
    pub fn permission_list(&self) -> String {
        self.permissions.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

pub struct Audit<'a> {
    pub snap: &'a Snapshot,
    pub pipelines: &'a [Pipeline],
    pub accesses: Vec<Access>,
    pub graph: OrgGraph,
    pub edges: Vec<Edge>,
    pub config: AuditConfig,
    /// Indexes built once, so rules query instead of scanning.
    pipeline_index: HashMap<String, usize>,
    edges_by_callee: HashMap<String, Vec<usize>>,
    /// Projects whose accesses cannot all be seen: they failed to load, or have an unresolved access.
    blind: HashSet<String>,
    /// Findings not reported because of an ignore (set after the rules run, see `suppress`).
    pub suppressed: Vec<crate::suppress::Suppressed>,
    /// Policy ignores that have expired.
    pub expired_ignores: Vec<String>,
}

impl<'a> Audit<'a> {
    pub fn pipeline(&self, project: &str) -> Option<&'a Pipeline> {
        self.pipeline_index.get(project).map(|&i| &self.pipelines[i])
    }

    /// Token edges into a callee.
    pub fn edges_into<'s>(&'s self, callee: &str) -> impl Iterator<Item = &'s Edge> + 's {
        self.edges_by_callee
            .get(callee)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
            .filter(|e| e.relation == Relation::Token)
    }

    /// The path of the allowlist entry that covers an edge's caller, when one does.
    pub fn entry_path(&self, e: &Edge) -> Option<&str> {
        let i = e.entry?;
        self.snap.manifest.projects.get(&e.callee).map(|p| p.job_token.allowlist[i].path.as_str())
    }

    /// Whether some access of the project may be unseen: it failed to load, is not in the run, or has an
    /// access whose target is unresolved. Rules that conclude "not used" or "not needed" stay silent then.
    pub fn blind(&self, project: &str) -> bool {
        self.blind.contains(project) || self.pipeline(project).is_none()
    }
}

/// Detect, build the graph, compute edges, run the rules. Findings come sorted (most severe first).
pub fn run<'a>(snap: &'a Snapshot, pipelines: &'a [Pipeline], policy: &Config) -> (Audit<'a>, Vec<Finding>) {
    let per_project: Vec<Vec<Access>> = pipelines.par_iter().map(|p| detect::detect(snap, p)).collect();
    run_detected(snap, pipelines, per_project, policy)
}

/// [`run`] for pipelines whose accesses are already detected: `per_project[i]` are those of `pipelines[i]`.
pub fn run_detected<'a>(
    snap: &'a Snapshot,
    pipelines: &'a [Pipeline],
    per_project: Vec<Vec<Access>>,
    policy: &Config,
) -> (Audit<'a>, Vec<Finding>) {
    let config = policy.audit_config();
    let mut accesses: Vec<Access> = per_project.into_iter().flatten().collect();
    detect::terraform::resolve_modules(&mut accesses);
    let graph = OrgGraph::build(snap.manifest.projects.keys().map(String::as_str), pipelines, &accesses);
    let graph_edges: Vec<_> = graph.edges().collect();
    let mut edges: Vec<Edge> = graph_edges
        .par_iter()
        .map(|&(caller, callee, data)| {
            let mut seen = BTreeSet::new();
            let mut idx: Vec<usize> = data.accesses.clone();
            let src = &snap.sources;
            idx.sort_by(|&x, &y| {
                let (a, b) = (&accesses[x], &accesses[y]);
                b.confidence.cmp(&a.confidence).then_with(|| src.cmp_spans(a.span, b.span))
            });
            idx.retain(|&i| seen.insert(accesses[i].span));
            let kinds = data.accesses.iter().map(|&i| accesses[i].kind.name()).collect();
            let permissions: BTreeSet<&'static str> =
                data.accesses.iter().filter_map(|&i| accesses[i].permission).collect();
            let confidence = data.accesses.iter().map(|&i| accesses[i].confidence).max().unwrap_or(Confidence::High);
            let (status, entry, lacking) = match data.relation {
                Relation::Token => {
                    let target = data.accesses.first().map(|&i| &accesses[i].target);
                    coverage::status(snap, caller, callee, target, &permissions)
                }
                _ => (EdgeStatus::Relation, None, Vec::new()),
            };
            let mut spans = data.spans.clone();
            spans.sort_by(|a, b| snap.sources.cmp_spans(*a, *b));
            spans.dedup();
            Edge {
                caller: caller.to_string(),
                callee: callee.to_string(),
                relation: data.relation,
                kinds: if data.relation == Relation::Token {
                    kinds
                } else {
                    [data.relation.as_str().to_string()].into()
                },
                permissions,
                status,
                confidence,
                accesses: idx,
                spans,
                entry,
                lacking,
            }
        })
        .collect();
    edges.sort_by(|a, b| (&a.callee, &a.caller, a.relation).cmp(&(&b.callee, &b.caller, b.relation)));
    let pipeline_index = pipelines.iter().enumerate().map(|(i, p)| (p.project.clone(), i)).collect();
    let mut edges_by_callee: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in edges.iter().enumerate() {
        edges_by_callee.entry(e.callee.clone()).or_default().push(i);
    }
    let mut blind: HashSet<String> =
        pipelines.iter().filter(|p| p.status == crate::ci::Status::Failed).map(|p| p.project.clone()).collect();
    blind.extend(accesses.iter().filter(|a| matches!(a.target, Target::Unresolved(_))).map(|a| a.caller.clone()));
    let audit = Audit {
        snap,
        pipelines,
        accesses,
        graph,
        edges,
        config,
        pipeline_index,
        edges_by_callee,
        blind,
        suppressed: Vec::new(),
        expired_ignores: Vec::new(),
    };
    let mut findings = Vec::new();
    // Rules are independent of each other: they run in parallel, and their findings are sorted below.
    let rules: Vec<&dyn Rule> = registry().into_iter().filter(|r| policy.enabled(r.meta().id)).collect();
    let per_rule: Vec<Vec<Finding>> = rules
        .par_iter()
        .map(|rule| {
            let mut out = Vec::new();
            rule.check(&audit, &mut out);
            if let Some(severity) = policy.severity(rule.meta().id) {
                out.iter_mut().for_each(|f| f.severity = severity);
            }
            out
        })
        .collect();
    findings.extend(per_rule.into_iter().flatten());
    let src = &snap.sources;
    findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.project, a.rule)
            .cmp(&(std::cmp::Reverse(b.severity), &b.project, b.rule))
            .then_with(|| match (a.span, b.span) {
                (Some(x), Some(y)) => src.cmp_spans(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            })
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    (audit, findings)
}
