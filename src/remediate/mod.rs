//! Remediation: from the audit to the allowlists the org needs, and back to GitLab.
//!
//! [`plan`] computes, for every callee, its least-privilege target allowlist and the changes that reach
//! it, each with its reason and evidence, under the safety rules of docs/remediation.md (never remove or
//! narrow what a project that was not fully seen might use; enforcement only when every known caller is
//! covered). `compact` fits the entries under GitLab's limits, `render` shows a plan, `emit` writes it as
//! what people apply with (a manifest, GraphQL, Terraform, gitlabform), and `apply` sends it, journalled,
//! and rolls it back.

pub(crate) mod apply;
pub(crate) mod compact;
pub(crate) mod emit;
pub(crate) mod render;
pub(crate) mod rollout;

use crate::detect::{Kind, Target};
use crate::engine::coverage::{covers, nearest_entry};
use crate::engine::{Audit, EdgeStatus, covered_range};
use crate::snapshot::manifest::{Data, Permission, Tier};
use crate::snapshot::{AllowEntry, EntryKind, Project};
use crate::source::Span;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The plan document's version (`version` in its JSON).
pub(crate) const VERSION: u32 = 1;
/// Evidence items kept per change: enough to check it, not a copy of every include line.
const MAX_EVIDENCE: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Add,
    Update,
    Remove,
    Enable,
    /// Enforcement switched off: only a rollback does this, restoring what a project had.
    Disable,
}

impl Action {
    /// The mark a Terraform-like plan shows.
    pub(crate) fn sign(self) -> &'static str {
        match self {
            Action::Add => "+",
            Action::Update => "~",
            Action::Remove => "-",
            Action::Enable | Action::Disable => "!",
        }
    }
}

/// An allowlist entry's target: `{"project": PATH}` or `{"group": PATH}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TargetRef {
    Project(String),
    Group(String),
}

impl TargetRef {
    pub(crate) fn of(e: &AllowEntry) -> TargetRef {
        match e.kind {
            EntryKind::Project => TargetRef::Project(e.path.clone()),
            EntryKind::Group => TargetRef::Group(e.path.clone()),
        }
    }

    pub(crate) fn path(&self) -> &str {
        match self {
            TargetRef::Project(p) | TargetRef::Group(p) => p,
        }
    }

    pub(crate) fn kind(&self) -> EntryKind {
        match self {
            TargetRef::Project(_) => EntryKind::Project,
            TargetRef::Group(_) => EntryKind::Group,
        }
    }

    /// `project acme/api`, `group acme/tools`.
    pub(crate) fn describe(&self) -> String {
        match self {
            TargetRef::Project(p) => format!("project {p}"),
            TargetRef::Group(p) => format!("group {p}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Evidence {
    pub(crate) file: String,
    pub(crate) line: u32,
}

/// One change to one callee's job-token settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Change {
    /// The callee, whose allowlist changes.
    pub(crate) project: String,
    pub(crate) action: Action,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) target: Option<TargetRef>,
    /// The entry's fine-grained permissions after the change; `null`: default permissions (for `remove`:
    /// the permissions the entry had).
    pub(crate) permissions: Option<Vec<Permission>>,
    pub(crate) reason: String,
    pub(crate) evidence: Vec<Evidence>,
}

/// An entry the plan leaves as it is although the audit questions it, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Kept {
    pub(crate) project: String,
    pub(crate) target: TargetRef,
    pub(crate) reason: String,
}

/// An access the plan cannot settle with an entry: a human decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Unresolved {
    /// The project whose job makes the access.
    pub(crate) project: String,
    pub(crate) job: String,
    pub(crate) access: String,
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) reason: String,
}

/// A callee whose allowlist had to be compacted under GitLab's limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Compaction {
    pub(crate) project: String,
    /// Callers that needed a new entry.
    pub(crate) callers: usize,
    pub(crate) groups: Vec<String>,
    /// Projects of the snapshot the chosen group entries admit that do not need access.
    pub(crate) over_grant: usize,
    /// What GitLab's greedy most-common-ancestor compaction would have admitted on the same input.
    pub(crate) greedy_over_grant: usize,
}

/// A safer credential than the job token for an access, or a setting the plan does not change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Advice {
    pub(crate) project: String,
    pub(crate) text: String,
}

/// One entry as the plan found it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct EntryState {
    pub(crate) target: TargetRef,
    pub(crate) permissions: Option<Vec<Permission>>,
}

/// A changed project's settings as the plan found them: `apply` refuses a project whose settings differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Basis {
    pub(crate) project: String,
    pub(crate) inbound_enabled: bool,
    pub(crate) allowlist: Vec<EntryState>,
}

impl Basis {
    pub(crate) fn of(project: &Project) -> Basis {
        let mut allowlist: Vec<EntryState> = project
            .job_token
            .allowlist
            .iter()
            .map(|e| EntryState { target: TargetRef::of(e), permissions: e.permissions.clone() })
            .collect();
        allowlist.sort();
        Basis { project: project.path.clone(), inbound_enabled: project.job_token.inbound_enabled, allowlist }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub(crate) version: u32,
    /// The instance the plan is for.
    pub(crate) instance: String,
    pub(crate) changes: Vec<Change>,
    pub(crate) kept: Vec<Kept>,
    pub(crate) unresolved: Vec<Unresolved>,
    pub(crate) compaction: Vec<Compaction>,
    #[serde(default)]
    pub(crate) advice: Vec<Advice>,
    /// Settings of each project the plan changes, as they were.
    #[serde(default)]
    pub(crate) basis: Vec<Basis>,
}

/// What the plan is computed with.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Authentication-log records at most this many days old count as needed accesses.
    pub(crate) observed_within: i64,
    /// Today, in days since 1970-01-01.
    pub(crate) today: i64,
    /// Groups never to add wholesale (the policy's `never_group`).
    pub(crate) never_group: Vec<String>,
    /// The `overbroad-group-entry` thresholds: a group entry is replaced where that rule fires.
    pub(crate) min_projects: usize,
    pub(crate) max_used_percent: usize,
}

/// What one caller needs from one callee.
#[derive(Default)]
struct Need {
    permissions: BTreeSet<Permission>,
    /// Accesses no fine-grained policy governs (each said once): they need default permissions.
    ungoverned: BTreeSet<String>,
    /// Kinds that a job-token entry cannot narrow (registry, token exchange): a safer credential exists.
    unnarrowable: BTreeSet<&'static str>,
    evidence: BTreeSet<Evidence>,
    /// Seen only in the authentication log: what it accessed is unknown.
    log_only: bool,
}

impl Need {
    /// The permissions the entry should have: `None` for default permissions.
    fn wanted(&self) -> Option<Vec<Permission>> {
        if !self.ungoverned.is_empty() || self.log_only {
            None
        } else {
            Some(self.permissions.iter().copied().collect())
        }
    }
}

/// The union of needs: default permissions when any needs them.
fn wanted<'n>(needs: impl IntoIterator<Item = &'n Need>) -> (Option<Vec<Permission>>, bool) {
    let mut all = BTreeSet::new();
    let mut default = false;
    let mut log_only = false;
    for n in needs {
        log_only |= n.log_only;
        match n.wanted() {
            None => default = true,
            Some(p) => all.extend(p),
        }
    }
    (if default { None } else { Some(all.into_iter().collect()) }, log_only)
}

fn evidence_of<'n>(needs: impl IntoIterator<Item = &'n Need>) -> Vec<Evidence> {
    let all: BTreeSet<&Evidence> = needs.into_iter().flat_map(|n| n.evidence.iter()).collect();
    all.into_iter().take(MAX_EVIDENCE).cloned().collect()
}

fn perm_list(p: &Option<Vec<Permission>>) -> String {
    match p {
        None => "default permissions".to_string(),
        Some(l) if l.is_empty() => "no permissions".to_string(),
        Some(l) => format!("[{}]", Permission::list(l)),
    }
}

/// Whether `granted` grants everything `wanted` does.
fn grants(granted: &Option<Vec<Permission>>, wanted: &Option<Vec<Permission>>) -> bool {
    match (granted, wanted) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(g), Some(w)) => w.iter().all(|p| g.contains(p)),
    }
}

fn union(a: &Option<Vec<Permission>>, b: &Option<Vec<Permission>>) -> Option<Vec<Permission>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.iter().chain(b).copied().collect::<BTreeSet<_>>().into_iter().collect()),
        _ => None,
    }
}

/// Whether two permission lists are the same set (`None`: default permissions).
pub(crate) fn same(a: &Option<Vec<Permission>>, b: &Option<Vec<Permission>>) -> bool {
    let set = |p: &Option<Vec<Permission>>| p.as_ref().map(|l| l.iter().copied().collect::<BTreeSet<_>>());
    set(a) == set(b)
}

struct Planner<'a, 'b> {
    audit: &'b Audit<'a>,
    opts: &'b Options,
    /// (project, job) pairs whose `CI_JOB_TOKEN` is redefined.
    overridden: HashSet<(&'a str, &'a str)>,
    /// The authentication log by accessed project.
    log: HashMap<&'a str, Vec<&'a crate::snapshot::manifest::AuthLogEntry>>,
    /// Projects that could be a caller of anything: blind or partially seen, sorted.
    uncertain: Vec<&'b str>,
    /// The snapshot's project paths, sorted.
    paths: Vec<&'a str>,
    plan: Plan,
}

impl<'a> Planner<'a, '_> {
    fn evidence(&self, span: Span) -> Evidence {
        Evidence {
            file: crate::text::clean(&self.audit.snap.sources.get(span.file).display).into_owned(),
            line: span.line,
        }
    }

    fn unresolved(&mut self, a: &crate::detect::Access, reason: String) {
        let ev = self.evidence(a.span);
        self.plan.unresolved.push(Unresolved {
            project: a.caller.clone(),
            job: a.job.clone(),
            access: a.detail.clone(),
            file: ev.file,
            line: ev.line,
            reason,
        });
    }

    /// Why removing or narrowing `entry` of `path` is not safe, if it is not. Projects in `kept` keep their
    /// access (a group entry's callers, which get entries of their own) and do not count.
    fn unsafe_to_cut(&self, path: &str, p: &Project, entry: &AllowEntry, kept: &[&str]) -> Option<String> {
        let audit = self.audit;
        if !p.knows(Data::AuthLog) {
            return Some(format!(
                "the authentication log of `{path}` could not be read, so a use it would show is unknown"
            ));
        }
        let in_range = audit.covered(entry);
        if in_range.iter().all(|c| *c == path) {
            return Some(format!("`{}` names nothing in the snapshot, so its use cannot be seen", entry.path));
        }
        audit.unseen_admitted(entry, path, kept).next()
    }

    /// What each caller needs from `path`: its accesses (those an entry helps) and recent log records.
    /// Also the callers whose accesses an entry would not help (listed as unresolved), sorted.
    fn needs(&mut self, path: &str) -> (BTreeMap<String, Need>, Vec<String>) {
        let audit = self.audit;
        let snap = audit.snap;
        let free = snap.manifest.instance.tier == Tier::Free;
        let mut needs: BTreeMap<String, Need> = BTreeMap::new();
        let mut not_helped: Vec<(usize, String)> = Vec::new();
        for e in audit.edges_into(path) {
            if !matches!(e.status, EdgeStatus::Allowed | EdgeStatus::Missing | EdgeStatus::Unenforced) {
                continue;
            }
            if snap.manifest.projects.get(&e.caller).is_some_and(|c| c.archived) {
                continue; // runs no pipelines
            }
            for &i in &e.accesses {
                let a = &audit.accesses[i];
                if self.overridden.contains(&(a.caller.as_str(), a.job.as_str())) {
                    not_helped.push((i, format!(
                        "job `{}` redefines `CI_JOB_TOKEN`, so this access does not use the job token: an allowlist entry would not help; give the other token its own variable name",
                        a.job
                    )));
                    continue;
                }
                if free && matches!(a.kind, Kind::JobArtifacts | Kind::NeedsProject) {
                    not_helped.push((i, "GitLab Free has no job-token authentication for artifacts: an allowlist entry would not help; pass a token the consumer provides (a project access token with read_api in a masked variable), or upgrade".to_string()));
                    continue;
                }
                let need = needs.entry(e.caller.clone()).or_default();
                need.evidence.insert(self.evidence(a.span));
                match a.permission {
                    Some(p) => {
                        need.permissions.insert(p);
                    }
                    None => {
                        need.ungoverned.insert(format!("{} ({})", a.kind.name(), crate::text::clip(&a.detail, 80)));
                    }
                }
                match a.kind {
                    Kind::Registry => {
                        need.unnarrowable.insert("container registry pulls");
                    }
                    Kind::TokenExchange => {
                        need.unnarrowable.insert("the token-exchange endpoint");
                    }
                    _ => {}
                }
            }
        }
        let mut attempted: Vec<String> = Vec::new();
        for (i, reason) in not_helped {
            let a = &audit.accesses[i];
            attempted.push(a.caller.clone());
            self.unresolved(a, reason);
        }
        attempted.sort();
        attempted.dedup();
        let window_start = self.opts.today - self.opts.observed_within;
        for r in self.log.get(path).into_iter().flatten() {
            if r.origin == path || snap.manifest.projects.get(&r.origin).is_some_and(|c| c.archived) {
                continue;
            }
            let recent = r.last_authorized_at.as_deref().and_then(crate::date::days).is_none_or(|d| d >= window_start);
            if !recent {
                continue;
            }
            let ev = self.evidence(r.span);
            let need = needs.entry(r.origin.clone()).or_insert_with(|| Need { log_only: true, ..Need::default() });
            if r.span != Span::default() {
                need.evidence.insert(ev);
            }
        }
        (needs, attempted)
    }

    fn change(
        &mut self,
        project: &str,
        action: Action,
        target: Option<TargetRef>,
        permissions: Option<Vec<Permission>>,
        reason: String,
        evidence: Vec<Evidence>,
    ) {
        self.plan.changes.push(Change { project: project.to_string(), action, target, permissions, reason, evidence });
    }

    fn kept(&mut self, project: &str, entry: &AllowEntry, reason: String) {
        self.plan.kept.push(Kept { project: project.to_string(), target: TargetRef::of(entry), reason });
    }

    /// Plan one callee.
    fn callee(&mut self, path: &'a str, p: &'a Project) {
        let (needs, attempted) = self.needs(path);
        let list = &p.job_token.allowlist;
        // Each needed caller's deciding entry today.
        let mut by_entry: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        let mut uncovered: Vec<&str> = Vec::new();
        for c in needs.keys() {
            match nearest_entry(p, c) {
                Some(i) => by_entry.entry(i).or_default().push(c),
                None => uncovered.push(c),
            }
        }
        let callers_sorted: Vec<&str> = needs.keys().map(String::as_str).collect();
        let mut remaining: Vec<&AllowEntry> = Vec::new();
        let knows_permissions = p.knows(Data::Permissions);
        for (i, entry) in list.iter().enumerate() {
            let mine: Vec<&str> = by_entry.get(&i).cloned().unwrap_or_default();
            let cut = self.unsafe_to_cut(path, p, entry, &[]);
            let target = TargetRef::of(entry);
            if mine.is_empty() {
                let covered_callers = covered_range(&callers_sorted, entry);
                if !covered_callers.is_empty() {
                    // Its callers are decided by a nearer entry; this one still admits the rest of the group.
                    if let Some(why) = cut {
                        self.kept(path, entry, format!("every caller it covers has a nearer entry, but {why}"));
                        remaining.push(entry);
                        continue;
                    }
                }
                if let Some(c) = covered_range(&attempted, entry).first() {
                    self.kept(path, entry, format!(
                        "a job of `{c}` uses the job token against `{path}` in a way no entry helps (see unresolved): left to a human"
                    ));
                    remaining.push(entry);
                    continue;
                }
                let archived = entry.kind == EntryKind::Project
                    && self.audit.snap.manifest.projects.get(&entry.path).is_some_and(|t| t.archived);
                let old_log = self
                    .log
                    .get(path)
                    .into_iter()
                    .flatten()
                    .filter(|r| covers(entry, &r.origin))
                    .filter_map(|r| r.last_authorized_at.as_deref())
                    .max();
                let reason = if archived {
                    format!("`{}` is archived and runs no pipelines", entry.path)
                } else if !covered_callers.is_empty() {
                    format!("every caller it lets in has its own nearer entry: {}", covered_callers.join(", "))
                } else if let Some(last) = old_log {
                    format!(
                        "no job in the snapshot uses it, and the authentication log last saw it on {last}, more than {} days ago",
                        self.opts.observed_within
                    )
                } else {
                    "no job in the snapshot uses it and the authentication log has no record of it".to_string()
                };
                if !archived && let Some(why) = cut {
                    self.kept(path, entry, format!("{reason}; but {why}"));
                    remaining.push(entry);
                    continue;
                }
                self.change(
                    path,
                    Action::Remove,
                    Some(target),
                    entry.permissions.clone(),
                    format!("unused: {reason}"),
                    vec![],
                );
                continue;
            }
            let mine_needs: Vec<&Need> = mine.iter().map(|c| &needs[*c]).collect();
            if entry.kind == EntryKind::Group {
                let in_range = self.audit.covered(entry);
                let covered = in_range.len() - usize::from(in_range.binary_search(&path).is_ok());
                let callers_in = covered_range(&callers_sorted, entry);
                let overbroad =
                    covered >= self.opts.min_projects && callers_in.len() * 100 < covered * self.opts.max_used_percent;
                let cut_group = if overbroad { self.unsafe_to_cut(path, p, entry, callers_in) } else { None };
                if let Some(why) = cut_group {
                    self.kept(path, entry, format!(
                        "over-broad ({covered} projects of the snapshot, {} of them callers), but not replaced: {why}",
                        callers_in.len()
                    ));
                } else if overbroad {
                    let callers_in = callers_in.len();
                    // Over-broad: its callers get entries of their own (or the smallest group holding only them).
                    let reason = format!(
                        "over-broad: it lets {covered} projects of the snapshot in, of which {callers_in} use the job token against `{path}`; replaced by entries for those callers"
                    );
                    self.change(path, Action::Remove, Some(target), entry.permissions.clone(), reason, vec![]);
                    match self.smallest_group(path, &entry.path, &mine, &callers_sorted) {
                        Some(sub) => {
                            let (want, _) = wanted(mine_needs.iter().copied());
                            let default_why = if want.is_none() {
                                self.default_reason(mine_needs.iter().copied())
                            } else {
                                String::new()
                            };
                            let reason = format!(
                                "the {} callers `{}` let in all lie in `{sub}`, which holds no other project: it replaces `{}`{default_why}",
                                mine.len(),
                                entry.path,
                                entry.path
                            );
                            let evidence = evidence_of(mine_needs.iter().copied());
                            self.change(path, Action::Add, Some(TargetRef::Group(sub)), want, reason, evidence);
                        }
                        None => uncovered.extend(mine),
                    }
                    continue;
                }
            }
            remaining.push(entry);
            let (want, log_only) = wanted(mine_needs.iter().copied());
            let cur = &entry.permissions;
            if same(cur, &want) {
                continue;
            }
            let evidence = evidence_of(mine_needs.iter().copied());
            let names = mine.join(", ");
            if grants(cur, &want) {
                // Narrowing: only on full knowledge, and never on log evidence alone.
                let why_not = if !knows_permissions {
                    Some(format!("the permissions of the allowlist of `{path}` could not be read"))
                } else if log_only {
                    Some(
                        "a caller is known only from the authentication log, which does not say what it accessed"
                            .to_string(),
                    )
                } else {
                    cut.clone()
                };
                match why_not {
                    Some(why) => self.kept(
                        path,
                        entry,
                        format!(
                            "its callers need only {} but it grants {}; not narrowed: {why}",
                            perm_list(&want),
                            perm_list(cur)
                        ),
                    ),
                    None => self.change(
                        path,
                        Action::Update,
                        Some(target),
                        want.clone(),
                        format!(
                            "narrow from {} to what its callers ({names}) need: {}",
                            perm_list(cur),
                            perm_list(&want)
                        ),
                        evidence,
                    ),
                }
            } else {
                // Missing permissions: widening is always safe; narrowing the rest only when it is.
                let narrow_ok = knows_permissions && !log_only && cut.is_none();
                let new = if narrow_ok { want.clone() } else { union(cur, &want) };
                let lacking = match (&want, cur) {
                    (Some(w), Some(c)) => format!("[{}]", Permission::list(w.iter().filter(|x| !c.contains(x)))),
                    _ => "default permissions".to_string(),
                };
                let default_why =
                    if new.is_none() { self.default_reason(mine_needs.iter().copied()) } else { String::new() };
                self.change(
                    path,
                    Action::Update,
                    Some(target),
                    new.clone(),
                    format!(
                        "its callers ({names}) need {lacking}, which it does not grant: set to {}{default_why}",
                        perm_list(&new)
                    ),
                    evidence,
                );
            }
        }
        // Entries to add: callers no remaining entry covers.
        uncovered.sort_unstable();
        uncovered.dedup();
        uncovered.retain(|c| !remaining.iter().any(|e| covers(e, c)));
        let projects_left = compact::MAX_PROJECT_ENTRIES
            .saturating_sub(remaining.iter().filter(|e| e.kind == EntryKind::Project).count());
        let groups_left =
            compact::MAX_GROUP_ENTRIES.saturating_sub(remaining.iter().filter(|e| e.kind == EntryKind::Group).count());
        let to_cover: Vec<String> = uncovered.iter().map(|c| c.to_string()).collect();
        let callers_all: Vec<String> = needs.keys().cloned().collect();
        let (groups, singles, compaction, overflow) = {
            let forbidden = |g: &str| self.forbidden(g);
            let input = compact::Input {
                to_cover: &to_cover,
                callers: &callers_all,
                projects: &self.paths,
                callee: path,
                forbidden: &forbidden,
                max_projects: projects_left,
                max_groups: groups_left,
            };
            if to_cover.len() <= projects_left {
                (Vec::new(), to_cover.clone(), None, false)
            } else {
                match compact::compact(&input) {
                    Some(choice) => {
                        let greedy = compact::greedy(&input);
                        let groups: Vec<(String, usize)> =
                            choice.groups.iter().map(|g| (g.clone(), compact::over_grant(&input, g))).collect();
                        let record = Compaction {
                            project: path.to_string(),
                            callers: to_cover.len(),
                            groups: choice.groups.clone(),
                            over_grant: choice.over_grant,
                            greedy_over_grant: greedy.over_grant,
                        };
                        (groups, choice.projects, Some(record), false)
                    }
                    None => (Vec::new(), to_cover.iter().take(projects_left).cloned().collect(), None, true),
                }
            }
        };
        self.plan.compaction.extend(compaction);
        if overflow {
            self.plan.advice.push(Advice {
                project: path.to_string(),
                text: format!(
                    "{} callers need a new entry but only {projects_left} project entries are left and no allowed group covers the rest: the plan adds the first {projects_left}; split the callee's consumers or allow a group (`never_group`)",
                    to_cover.len()
                ),
            });
        }
        for (g, admitted) in groups {
            let entry = AllowEntry::group(&g);
            let inside: Vec<&Need> = needs.iter().filter(|(c, _)| covers(&entry, c)).map(|(_, n)| n).collect();
            let (want, _) = wanted(inside.iter().copied());
            let default_why = if want.is_none() { self.default_reason(inside.iter().copied()) } else { String::new() };
            let reason = format!(
                "{} callers under `{g}` need access and the allowlist would exceed GitLab's limit of {} project entries; this group admits {admitted} other project(s) (see compaction){default_why}",
                inside.len(),
                compact::MAX_PROJECT_ENTRIES,
            );
            let evidence = evidence_of(inside.iter().copied());
            self.change(path, Action::Add, Some(TargetRef::Group(g)), want, reason, evidence);
        }
        for c in singles {
            let need = &needs[&c];
            let want = need.wanted();
            let what = if need.log_only {
                format!(
                    "`{c}` used the job token against `{path}` within the last {} days (authentication log)",
                    self.opts.observed_within
                )
            } else {
                let status = match self.audit.edges_into(path).find(|e| e.caller == c).map(|e| e.status) {
                    Some(EdgeStatus::Unenforced) => "works today only because the allowlist is not enforced",
                    _ => "is denied today (403)",
                };
                format!("a job of `{c}` uses the job token against `{path}` and {status}")
            };
            let default_why = if want.is_none() { self.default_reason([need]) } else { String::new() };
            let evidence = evidence_of([need]);
            self.change(
                path,
                Action::Add,
                Some(TargetRef::Project(c.clone())),
                want,
                format!("{what}{default_why}"),
                evidence,
            );
        }
        for (c, need) in &needs {
            if !need.unnarrowable.is_empty() {
                let what: Vec<&str> = need.unnarrowable.iter().copied().collect();
                let credential = if need.unnarrowable.contains("container registry pulls") {
                    format!("a deploy token of `{path}` with only `read_registry`, in a masked variable of `{c}`")
                } else {
                    format!(
                        "a project access token of `{path}` with the narrowest scope that works, in a masked variable of `{c}`"
                    )
                };
                self.plan.advice.push(Advice {
                    project: path.to_string(),
                    text: format!(
                        "`{c}` needs {}, which fine-grained job-token policies do not govern: its entry admits every job-token endpoint the role allows. Safer than `CI_JOB_TOKEN` here: {credential}, which reaches only what it needs",
                        what.join(" and ")
                    ),
                });
            }
        }
        if overflow {
            self.plan.advice.push(Advice {
                project: path.to_string(),
                text: "enforcement not enabled: some callers could not get an entry (see above)".to_string(),
            });
        } else {
            self.enable(path, p, &needs);
        }
    }

    fn default_reason<'n>(&self, needs: impl IntoIterator<Item = &'n Need>) -> String {
        let mut why: BTreeSet<&str> = BTreeSet::new();
        let mut log = false;
        for n in needs {
            why.extend(n.ungoverned.iter().map(String::as_str));
            log |= n.log_only && n.ungoverned.is_empty();
        }
        let mut parts = Vec::new();
        if !why.is_empty() {
            let list: Vec<&str> = why.into_iter().take(3).collect();
            parts.push(format!("default permissions because no job-token policy covers {}", list.join(", ")));
        }
        if log {
            parts.push("default permissions because the authentication log does not say what was accessed".to_string());
        }
        if parts.is_empty() { String::new() } else { format!("; {}", parts.join("; ")) }
    }

    /// The deepest group strictly under `group` that holds every one of `callers` (two at least) and no
    /// other project of the snapshot but the callee: one entry for them instead of one each.
    fn smallest_group(&self, callee: &str, group: &str, callers: &[&str], all_callers: &[&str]) -> Option<String> {
        if callers.len() < 2 {
            return None;
        }
        let mut common: &str = callers[0].rsplit_once('/')?.0;
        for c in &callers[1..] {
            while !(c.len() > common.len() && c.starts_with(common) && c.as_bytes()[common.len()] == b'/') {
                common = common.rsplit_once('/')?.0;
            }
        }
        if common.len() <= group.len() || self.forbidden(common) {
            return None;
        }
        let entry = AllowEntry::group(common);
        let inside = self.audit.covered(&entry);
        let callers_there = covered_range(all_callers, &entry);
        let in_snapshot = callers_there.iter().filter(|c| inside.binary_search(c).is_ok()).count();
        let strangers = inside.len() - in_snapshot - usize::from(inside.binary_search(&callee).is_ok());
        (strangers == 0 && callers_there.len() == callers.len()).then(|| common.to_string())
    }

    /// A group never used wholesale: listed in `never_group` (or holding one that is), or holding a
    /// critical project.
    fn forbidden(&self, g: &str) -> bool {
        let entry = AllowEntry::group(g);
        self.opts.never_group.iter().any(|n| n == g || n.starts_with(&format!("{g}/")))
            || self
                .audit
                .covered(&entry)
                .iter()
                .any(|p| self.audit.snap.manifest.projects.get(*p).is_some_and(|p| p.critical))
    }

    /// Switch enforcement on when every caller that could exist is known and covered.
    fn enable(&mut self, path: &str, p: &Project, needs: &BTreeMap<String, Need>) {
        let snap = self.audit.snap;
        if p.job_token.inbound_enabled || snap.manifest.instance.enforce_allowlist {
            return;
        }
        let blocker = if !p.knows(Data::AuthLog) {
            Some(format!(
                "the authentication log of `{path}` could not be read: callers outside the snapshot are unknown"
            ))
        } else {
            self.uncertain.iter().find(|c| **c != path).map(|c| {
                format!("`{c}` could not be fully read and may use the job token against `{path}`: confirm it, then enable enforcement")
            })
        };
        match blocker {
            Some(why) => self
                .plan
                .advice
                .push(Advice { project: path.to_string(), text: format!("enforcement not enabled: {why}") }),
            None => {
                let n = needs.len();
                self.change(
                    path,
                    Action::Enable,
                    None,
                    None,
                    format!("every known caller ({n}) is covered after the changes above: enforce the allowlist"),
                    vec![],
                );
            }
        }
    }
}

/// The plan for every callee of the audit.
pub(crate) fn plan(audit: &Audit, opts: &Options) -> Plan {
    let snap = audit.snap;
    // A job's variables hold the global ones beneath its own.
    let overridden = audit
        .pipelines
        .iter()
        .flat_map(|p| p.jobs.iter().map(move |j| (p, j)))
        .filter(|(_, j)| crate::ci::job_token_redefined(&j.vars).is_some())
        .map(|(p, j)| (p.project.as_str(), j.name.as_str()))
        .collect();
    let mut log: HashMap<&str, Vec<&crate::snapshot::manifest::AuthLogEntry>> = HashMap::new();
    for r in &snap.manifest.auth_log {
        log.entry(r.accessed.as_str()).or_default().push(r);
    }
    let uncertain = audit.not_fully_seen();
    let mut planner = Planner {
        audit,
        opts,
        overridden,
        log,
        uncertain,
        paths: snap.manifest.projects.keys().map(String::as_str).collect(),
        plan: Plan { version: VERSION, instance: snap.manifest.instance.url.clone(), ..Plan::default() },
    };
    for (path, p) in &snap.manifest.projects {
        if p.archived {
            continue;
        }
        if !p.knows(Data::JobToken) {
            if audit.edges_into(path).next().is_some() {
                planner.plan.advice.push(Advice {
                    project: path.clone(),
                    text: format!("the job-token settings of `{path}` could not be read: nothing is planned for it"),
                });
            }
            continue;
        }
        planner.callee(path, p);
    }
    // Accesses whose target is not known, or not on this instance: for a human.
    let mut seen = BTreeSet::new();
    for a in &audit.accesses {
        let reason = match &a.target {
            Target::Unresolved(u) => {
                format!("the target cannot be determined ({}): decide which project it reaches", u.name())
            }
            Target::Foreign(host) => format!(
                "the job token is sent to `{host}`, another host: an allowlist entry cannot help and the token must not leave the instance; use a credential of that host"
            ),
            Target::Project(_) => continue,
        };
        if seen.insert(a.span) {
            planner.unresolved(a, reason);
        }
    }
    let mut plan = planner.plan;
    let order = |c: &Change| (c.project.clone(), c.action, c.target.clone());
    plan.changes.sort_by_key(order);
    plan.kept.sort_by(|a, b| (&a.project, &a.target).cmp(&(&b.project, &b.target)));
    plan.unresolved
        .sort_by(|a, b| (&a.project, &a.file, a.line, &a.reason).cmp(&(&b.project, &b.file, b.line, &b.reason)));
    plan.unresolved.dedup();
    plan.advice.sort_by(|a, b| (&a.project, &a.text).cmp(&(&b.project, &b.text)));
    plan.advice.dedup();
    let changed: BTreeSet<&str> = plan.changes.iter().map(|c| c.project.as_str()).collect();
    plan.basis = changed.iter().filter_map(|p| snap.manifest.projects.get(*p)).map(Basis::of).collect();
    plan
}
