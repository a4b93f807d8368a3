//! The engine: every detected job-token access joined into the caller -> callee graph, each edge diffed
//! against the callee's allowlist with GitLab's coverage rules.
//!
//! [`Audit::build`] takes the accesses of each resolved pipeline, builds the graph once (`graph`), computes
//! each edge's status, the entry that decides it and the permissions it lacks (`coverage`), and indexes the
//! result so that the rules query instead of scanning. It knows nothing of rules or policy.

pub(crate) mod coverage;
pub(crate) mod graph;

use crate::ci::Pipeline;
use crate::detect::follow::Unseen;
use crate::detect::{self, Access, Confidence, Detection, Kind, Permission, Target};
use crate::snapshot::{AllowEntry, Snapshot};
use crate::source::Span;
use graph::{OrgGraph, Relation};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub(crate) enum EdgeStatus {
    /// Covered by an allowlist entry (or by an unenforced allowlist, see `Unenforced`).
    Allowed,
    /// The callee enforces its allowlist and no entry covers the caller: the job fails with 403.
    Missing,
    /// Not covered, but the callee does not enforce its allowlist: works today, breaks on enforcement.
    Unenforced,
    /// The project's own resources.
    #[serde(rename = "self")]
    #[strum(serialize = "self")]
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
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An edge of the graph with what the audit concluded about it.
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub(crate) caller: String,
    pub(crate) callee: String,
    pub(crate) relation: Relation,
    /// The kinds of the accesses, sorted by name, each once (empty for a relation edge).
    pub(crate) kinds: Vec<Kind>,
    pub(crate) permissions: BTreeSet<Permission>,
    pub(crate) status: EdgeStatus,
    pub(crate) confidence: Confidence,
    /// Indexes into `Audit::accesses`, one per distinct evidence span.
    pub(crate) accesses: Vec<usize>,
    /// Spans of non-token relations.
    pub(crate) spans: Vec<Span>,
    /// The allowlist entry (index into the callee's allowlist) that covers the caller.
    pub(crate) entry: Option<usize>,
    /// Permissions the accesses need that the deciding entry's fine-grained permissions do not grant.
    pub(crate) lacking: Vec<Permission>,
}

impl Edge {
    /// The kinds of access by name, sorted (`git`, `packages:npm`); a relation edge's relation (`trigger`).
    pub(crate) fn kind_names(&self) -> Vec<String> {
        match self.relation {
            Relation::Token => self.kinds.iter().map(Kind::name).collect(),
            r => vec![r.as_str().to_string()],
        }
    }

    /// The kinds of access, as shown in tables and messages: `git, packages:npm`.
    pub(crate) fn kind_list(&self) -> String {
        self.kind_names().join(", ")
    }

    /// The permissions the accesses need, as shown in tables and messages.
    pub(crate) fn permission_list(&self) -> String {
        Permission::list(&self.permissions)
    }
}

pub(crate) struct Audit<'a> {
    pub(crate) snap: &'a Snapshot,
    pub(crate) pipelines: &'a [Pipeline],
    pub(crate) accesses: Vec<Access>,
    /// Accesses written in jobs that never run (their `rules:` exclude every pipeline): not in the graph.
    pub(crate) never_run: Vec<Access>,
    pub(crate) graph: OrgGraph,
    pub(crate) edges: Vec<Edge>,
    /// Indexes built once, so rules query instead of scanning.
    pipeline_index: HashMap<String, usize>,
    edges_by_callee: HashMap<String, Vec<usize>>,
    /// Projects whose accesses cannot all be seen: they failed to load, or have an unresolved access.
    blind: HashSet<String>,
    /// Projects whose jobs run something tokenscope could not look into, with the job and what.
    partial: HashMap<String, Vec<(String, Unseen)>>,
    /// The manifest's project paths, sorted, and the blind ones among them: a group entry's projects are a
    /// range of them, found by binary search (rules ask for every entry; a scan would be entries × projects).
    paths: Vec<&'a str>,
    blind_paths: Vec<&'a str>,
    /// The partially seen projects, sorted likewise.
    partial_paths: Vec<String>,
}

/// The range of sorted `paths` an entry covers: the project itself, or every path under the group.
pub(crate) fn covered_range<'p, T: AsRef<str>>(paths: &'p [T], entry: &AllowEntry) -> &'p [T] {
    let before = |bound: &str| paths.partition_point(|p| p.as_ref() < bound);
    match entry.kind {
        crate::snapshot::EntryKind::Project => {
            let at = before(&entry.path);
            let end = if paths.get(at).is_some_and(|p| p.as_ref() == entry.path) { at + 1 } else { at };
            &paths[at..end]
        }
        crate::snapshot::EntryKind::Group => {
            // Every path under `g/` sorts between `g/` and `g0` ('0' follows '/').
            let (start, end) = (before(&format!("{}/", entry.path)), before(&format!("{}0", entry.path)));
            &paths[start..end.max(start)]
        }
    }
}

impl<'a> Audit<'a> {
    pub(crate) fn pipeline(&self, project: &str) -> Option<&'a Pipeline> {
        self.pipeline_index.get(project).map(|&i| &self.pipelines[i])
    }

    /// Token edges into a callee.
    pub(crate) fn edges_into<'s>(&'s self, callee: &str) -> impl Iterator<Item = &'s Edge> + 's {
        self.edges_by_callee
            .get(callee)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
            .filter(|e| e.relation == Relation::Token)
    }

    /// The allowlist entry that covers an edge's caller, when one does.
    pub(crate) fn entry(&self, e: &Edge) -> Option<&'a AllowEntry> {
        let i = e.entry?;
        self.snap.manifest.projects.get(&e.callee).map(|p| &p.job_token.allowlist[i])
    }

    /// The path of the allowlist entry that covers an edge's caller, when one does.
    pub(crate) fn entry_path(&self, e: &Edge) -> Option<&'a str> {
        self.entry(e).map(|entry| entry.path.as_str())
    }

    /// Whether some input could not be read: a pipeline failed to resolve, or the snapshot failed to read
    /// some data (an error, not an expected gap). The rest is audited, and the run exits with 3.
    pub(crate) fn incomplete(&self) -> bool {
        self.pipelines.iter().any(|p| p.status == crate::ci::Status::Failed) || self.snap.manifest.fetch_failed()
    }

    /// Whether some access of the project may be unseen: it failed to load, is not in the run, or has an
    /// access whose target is unresolved. Rules that conclude "not used" or "not needed" stay silent then.
    pub(crate) fn blind(&self, project: &str) -> bool {
        self.blind.contains(project) || self.pipeline(project).is_none()
    }

    /// The snapshot's projects an allowlist entry lets in (the project, or every project under the group), as
    /// a sorted slice: no allocation, and its length is the count.
    pub(crate) fn covered(&self, entry: &AllowEntry) -> &[&'a str] {
        covered_range(&self.paths, entry)
    }

    /// The partially seen projects an entry lets in (see [`Audit::unseen`]), sorted.
    pub(crate) fn partially_seen(&self, entry: &AllowEntry) -> &[String] {
        covered_range(&self.partial_paths, entry)
    }

    /// The blind projects an entry lets in (see [`Audit::blind`]), sorted.
    pub(crate) fn blind_covered(&self, entry: &AllowEntry) -> &[&'a str] {
        covered_range(&self.blind_paths, entry)
    }

    /// Whether some project the entry lets in (other than `except`) is blind (see [`Audit::blind`]).
    pub(crate) fn covers_blind(&self, entry: &AllowEntry, except: &str) -> bool {
        covered_range(&self.blind_paths, entry).iter().any(|p| *p != except)
    }

    /// Why removing or narrowing `entry` could cut off a project it admits that was not fully seen: one
    /// sentence per such project (blind ones first), leaving out `except` (the allowlist's owner) and the
    /// projects in `kept` (those the change leaves their access).
    pub(crate) fn unseen_admitted<'s>(
        &'s self,
        entry: &'s AllowEntry,
        except: &'s str,
        kept: &'s [&'s str],
    ) -> impl Iterator<Item = String> + 's {
        let at_risk = move |c: &str| c != except && !kept.contains(&c);
        let blind = self.blind_covered(entry).iter().filter(move |c| at_risk(c)).map(|c| {
            format!("`{c}` could not be fully read (its configuration failed to load, or one of its job-token accesses has a target that cannot be resolved)")
        });
        let partial = self
            .partially_seen(entry)
            .iter()
            .filter(move |c| at_risk(c))
            .filter_map(|c| self.unseen(c).first().map(|(job, u)| format!("`{c}` (job `{job}`) {}", u.why)));
        blind.chain(partial)
    }

    /// How many sentences [`Audit::unseen_admitted`] gives, without writing them: a group entry can admit
    /// thousands of unseen projects, and a finding names the first and counts the rest. Binary searches in
    /// the entry's sorted ranges: O(log N) plus the size of `kept`.
    pub(crate) fn unseen_admitted_count(&self, entry: &AllowEntry, except: &str, kept: &[&str]) -> usize {
        let blind = self.blind_covered(entry);
        let partial = self.partially_seen(entry);
        let mut excluded: Vec<&str> = kept.iter().copied().chain(std::iter::once(except)).collect();
        excluded.sort_unstable();
        excluded.dedup();
        let in_blind = excluded.iter().filter(|x| blind.binary_search_by(|p| (*p).cmp(**x)).is_ok()).count();
        let in_partial = excluded.iter().filter(|x| partial.binary_search_by(|p| p.as_str().cmp(**x)).is_ok()).count();
        blind.len() - in_blind + partial.len() - in_partial
    }

    /// Every project of the snapshot not fully seen (blind, or partially seen), sorted: any of them may be
    /// a caller of anything.
    pub(crate) fn not_fully_seen(&self) -> Vec<&str> {
        let mut all: Vec<&str> =
            self.blind_paths.iter().copied().chain(self.partial_paths.iter().map(String::as_str)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// What the project's jobs run that tokenscope could not look into (a script the snapshot does not
    /// hold, …), with the job: empty when everything it runs was read. Such a project is *partially seen*.
    pub(crate) fn unseen(&self, project: &str) -> &[(String, Unseen)] {
        self.partial.get(project).map_or(&[], Vec::as_slice)
    }
}

impl<'a> Audit<'a> {
    /// Detect every access of `pipelines` (in parallel), then [`Audit::build`].
    pub(crate) fn detect_and_build(snap: &'a Snapshot, pipelines: &'a [Pipeline]) -> Audit<'a> {
        let per_project: Vec<Detection> = pipelines.par_iter().map(|p| detect::detect(snap, p)).collect();
        Audit::build(snap, pipelines, per_project)
    }

    /// The audit of pipelines whose accesses are already detected: `per_project[i]` are those of
    /// `pipelines[i]`.
    pub(crate) fn build(snap: &'a Snapshot, pipelines: &'a [Pipeline], per_project: Vec<Detection>) -> Audit<'a> {
        let mut partial: HashMap<String, Vec<(String, Unseen)>> = HashMap::new();
        let mut accesses: Vec<Access> = Vec::new();
        for (p, d) in pipelines.iter().zip(per_project) {
            accesses.extend(d.accesses);
            if !d.unseen.is_empty() {
                partial.entry(p.project.clone()).or_default().extend(d.unseen);
            }
        }
        detect::terraform::resolve_modules(&mut accesses);
        let (accesses, never_run): (Vec<Access>, Vec<Access>) = accesses.into_iter().partition(|a| !a.runs.never());
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
                let mut kinds: Vec<Kind> = Vec::new();
                if data.relation == Relation::Token {
                    kinds = data.accesses.iter().map(|&i| accesses[i].kind.clone()).collect();
                    kinds.sort_by_cached_key(Kind::name);
                    kinds.dedup();
                }
                let permissions: BTreeSet<Permission> =
                    data.accesses.iter().filter_map(|&i| accesses[i].permission).collect();
                let confidence =
                    data.accesses.iter().map(|&i| accesses[i].confidence).max().unwrap_or(Confidence::High);
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
                    kinds,
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
        let paths: Vec<&'a str> = snap.manifest.projects.keys().map(String::as_str).collect();
        let mut audit = Audit {
            snap,
            pipelines,
            accesses,
            never_run,
            graph,
            edges,
            pipeline_index,
            edges_by_callee,
            blind,
            partial,
            paths,
            blind_paths: Vec::new(),
            partial_paths: Vec::new(),
        };
        audit.partial_paths = audit.partial.keys().cloned().collect();
        audit.partial_paths.sort_unstable();
        audit.blind_paths = audit.paths.iter().copied().filter(|p| audit.blind(p)).collect();
        audit
    }
}

#[cfg(test)]
mod tests {
    use super::EdgeStatus;

    #[test]
    fn status_names_are_the_json_names() {
        for s in [
            EdgeStatus::Allowed,
            EdgeStatus::Missing,
            EdgeStatus::Unenforced,
            EdgeStatus::SelfAccess,
            EdgeStatus::External,
            EdgeStatus::Unresolved,
            EdgeStatus::Unknown,
            EdgeStatus::Relation,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(EdgeStatus::SelfAccess.as_str(), "self");
    }
}
