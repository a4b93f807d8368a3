//! Applying a plan to a live GitLab, journalled, and rolling it back.
//!
//! Per project, in the plan's order (additions and permission changes, then removals, then enforcement):
//! read the project's live settings; refuse the project when they are not the plan's basis (nor the
//! basis with some of this plan's own changes already made: an interrupted run); append the prior state
//! to the journal; then for each change not already in effect, append the request, send it, append the
//! outcome. Every journal line is flushed to disk before the request goes out. The journal holds paths,
//! permissions and messages, never the token.
//!
//! `rollback` reads the journal, and for each project it touched, in reverse order, reads the live
//! settings and makes the changes that restore the recorded prior state: enforcement back off first (so
//! nothing breaks in between), entries re-added, permissions restored, added entries removed.

use super::{Action, Basis, Change, EntryState, Plan, TargetRef};
use crate::gitlab::client::Client;
use crate::snapshot::manifest::Permission;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The live settings query: one project, both allowlists with permissions (one page each: GitLab allows
/// 200 entries per list).
pub(crate) const SETTINGS_QUERY: &str = "query TokenscopeSettings($path: ID!) { project(fullPath: $path) { \
ciCdSettings { inboundJobTokenScopeEnabled } ciJobTokenScopeAllowlist { \
projectsAllowlist(first: 200) { nodes { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } defaultPermissions jobTokenPolicies } pageInfo { hasNextPage } } \
groupsAllowlist(first: 200) { nodes { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } defaultPermissions jobTokenPolicies } pageInfo { hasNextPage } } } } }";

/// One line of the journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Record {
    Start {
        instance: String,
        version: u32,
    },
    /// A project's settings before anything of it was changed.
    Prior {
        project: String,
        state: Basis,
    },
    Request {
        seq: u64,
        project: String,
        change: Change,
        request: Value,
    },
    Outcome {
        seq: u64,
        ok: bool,
        error: Option<String>,
    },
    Refused {
        project: String,
        reason: String,
    },
}

/// The journal file: JSON lines, appended and flushed to disk one by one.
pub(crate) struct Journal {
    file: std::fs::File,
    pub(crate) path: PathBuf,
    seq: u64,
}

impl Journal {
    /// A new journal (the file must not exist: nothing is overwritten).
    pub(crate) fn create(path: &Path) -> std::io::Result<Journal> {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
        Ok(Journal { file, path: path.to_path_buf(), seq: 0 })
    }

    /// An existing journal, to append to (`--resume`).
    pub(crate) fn append(path: &Path, records: &[Record]) -> std::io::Result<Journal> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        let seq =
            records.iter().filter_map(|r| if let Record::Request { seq, .. } = r { Some(*seq) } else { None }).max();
        Ok(Journal { file, path: path.to_path_buf(), seq: seq.map_or(0, |s| s + 1) })
    }

    pub(crate) fn write(&mut self, r: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(r).expect("a record serializes");
        line = crate::text::redact(&line).into_owned();
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq - 1
    }
}

/// Read a journal back (a torn last line, from a crash mid-write, is ignored).
pub(crate) fn read_journal(path: &Path) -> Result<Vec<Record>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => return Err(format!("{}:{}: not a journal record: {e}", path.display(), i + 1)),
        }
    }
    Ok(out)
}

/// A GraphQL request: the document and its variables.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Request {
    pub(crate) query: String,
    pub(crate) variables: Value,
}

impl Request {
    pub(crate) fn json(&self) -> Value {
        json!({"query": self.query, "variables": self.variables})
    }
}

fn policies(p: &Option<Vec<Permission>>) -> Value {
    json!(p.iter().flatten().map(|p| p.as_str().to_ascii_uppercase()).collect::<Vec<_>>())
}

/// The mutation that makes one change.
pub(crate) fn request(c: &Change) -> Option<Request> {
    let (field, input_type, input) = match (&c.action, &c.target) {
        (Action::Add, Some(t)) => (
            "ciJobTokenScopeAddGroupOrProject",
            "CiJobTokenScopeAddGroupOrProjectInput",
            json!({"projectPath": c.project, "targetPath": t.path(), "defaultPermissions": c.permissions.is_none(), "jobTokenPolicies": policies(&c.permissions)}),
        ),
        (Action::Update, Some(t)) => (
            "ciJobTokenScopeUpdatePolicies",
            "CiJobTokenScopeUpdatePoliciesInput",
            json!({"projectPath": c.project, "targetPath": t.path(), "defaultPermissions": c.permissions.is_none(), "jobTokenPolicies": policies(&c.permissions)}),
        ),
        (Action::Remove, Some(TargetRef::Project(t))) => (
            "ciJobTokenScopeRemoveProject",
            "CiJobTokenScopeRemoveProjectInput",
            // Always INBOUND: older GitLab removed the OUTBOUND entry when the direction was omitted.
            json!({"projectPath": c.project, "targetProjectPath": t, "direction": "INBOUND"}),
        ),
        (Action::Remove, Some(TargetRef::Group(t))) => (
            "ciJobTokenScopeRemoveGroup",
            "CiJobTokenScopeRemoveGroupInput",
            json!({"projectPath": c.project, "targetGroupPath": t}),
        ),
        (Action::Enable | Action::Disable, _) => (
            "projectCiCdSettingsUpdate",
            "ProjectCiCdSettingsUpdateInput",
            json!({"fullPath": c.project, "inboundJobTokenScopeEnabled": c.action == Action::Enable}),
        ),
        _ => return None,
    };
    Some(Request {
        query: format!("mutation Tokenscope($input: {input_type}!) {{ {field}(input: $input) {{ errors }} }}"),
        variables: json!({ "input": input }),
    })
}

/// Parse a project's live settings from the settings query's answer.
pub(crate) fn parse_settings(project: &str, doc: &Value) -> Result<Basis, String> {
    if let Some(e) = doc.get("errors").and_then(Value::as_array).and_then(|e| e.first()) {
        let m = e.get("message").and_then(Value::as_str).unwrap_or("error");
        return Err(format!("GraphQL: {}", crate::text::clip(m, 200)));
    }
    let p = doc.pointer("/data/project").filter(|p| !p.is_null()).ok_or_else(|| {
        format!("`{project}` was not found, or the token cannot read its settings (Maintainer is needed)")
    })?;
    let enabled = p
        .pointer("/ciCdSettings/inboundJobTokenScopeEnabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("GraphQL did not return the job-token settings of `{project}`"))?;
    let mut allowlist = Vec::new();
    for (list, kind) in [("projectsAllowlist", true), ("groupsAllowlist", false)] {
        let conn = p
            .pointer(&format!("/ciJobTokenScopeAllowlist/{list}"))
            .filter(|c| !c.is_null())
            .ok_or_else(|| format!("GraphQL did not return the allowlist of `{project}`"))?;
        if conn.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool) == Some(true) {
            return Err(format!("the allowlist of `{project}` has more entries than one page"));
        }
        for n in conn.get("nodes").and_then(Value::as_array).into_iter().flatten() {
            let Some(path) = n.pointer("/target/fullPath").and_then(Value::as_str) else { continue };
            let permissions = if n.get("defaultPermissions").and_then(Value::as_bool) == Some(false) {
                let mut list = Vec::new();
                for name in n.get("jobTokenPolicies").and_then(Value::as_array).into_iter().flatten() {
                    let name = name.as_str().unwrap_or_default().to_ascii_lowercase();
                    list.push(name.parse::<Permission>().map_err(|_| {
                        format!("`{project}` has an entry with a policy tokenscope does not know (`{name}`)")
                    })?);
                }
                list.sort();
                Some(list)
            } else {
                None
            };
            let target = if kind { TargetRef::Project(path.to_string()) } else { TargetRef::Group(path.to_string()) };
            allowlist.push(EntryState { target, permissions });
        }
    }
    allowlist.sort();
    Ok(Basis { project: project.to_string(), inbound_enabled: enabled, allowlist })
}

/// The settings after `change`.
fn after(state: &Basis, c: &Change) -> Basis {
    let mut s = state.clone();
    match (&c.action, &c.target) {
        (Action::Enable, _) => s.inbound_enabled = true,
        (Action::Disable, _) => s.inbound_enabled = false,
        (Action::Remove, Some(t)) => s.allowlist.retain(|e| &e.target != t),
        (Action::Add | Action::Update, Some(t)) => {
            s.allowlist.retain(|e| &e.target != t);
            let mut permissions = c.permissions.clone();
            if let Some(p) = &mut permissions {
                p.sort();
            }
            s.allowlist.push(EntryState { target: t.clone(), permissions });
            s.allowlist.sort();
        }
        _ => {}
    }
    s
}

/// Whether the change is already in effect in `state`.
fn in_effect(state: &Basis, c: &Change) -> bool {
    after(state, c) == *state
}

/// Whether `live` is the plan's `basis` with some of `changes` made (in any subset): what an interrupted
/// apply of this plan leaves. Otherwise, what differs.
fn drift(basis: &Basis, live: &Basis, changes: &[&Change]) -> Option<String> {
    if basis == live {
        return None;
    }
    // Each change either made or not: 2^n states are too many to try; compare entry by entry instead.
    let touched: BTreeMap<&TargetRef, Vec<&Change>> =
        changes.iter().filter_map(|c| c.target.as_ref().map(|t| (t, *c))).fold(BTreeMap::new(), |mut m, (t, c)| {
            m.entry(t).or_insert_with(Vec::new).push(c);
            m
        });
    let mut problems = Vec::new();
    let enable = changes.iter().any(|c| c.action == Action::Enable);
    if live.inbound_enabled != basis.inbound_enabled && !(enable && live.inbound_enabled) {
        problems.push(format!(
            "enforcement is {} (the plan saw it {})",
            if live.inbound_enabled { "on" } else { "off" },
            if basis.inbound_enabled { "on" } else { "off" }
        ));
    }
    let before: BTreeMap<&TargetRef, &EntryState> = basis.allowlist.iter().map(|e| (&e.target, e)).collect();
    let now: BTreeMap<&TargetRef, &EntryState> = live.allowlist.iter().map(|e| (&e.target, e)).collect();
    let targets: BTreeSet<&TargetRef> = before.keys().chain(now.keys()).copied().collect();
    for t in targets {
        let (b, n) = (before.get(t), now.get(t));
        if b.map(|e| &e.permissions) == n.map(|e| &e.permissions) && b.is_some() == n.is_some() {
            continue;
        }
        let explained = touched.get(t).is_some_and(|cs| {
            cs.iter().any(|c| match (c.action, n) {
                (Action::Remove, None) => true,
                (Action::Add | Action::Update, Some(n)) => super::same(&n.permissions, &c.permissions),
                _ => false,
            })
        });
        if !explained {
            problems.push(match (b, n) {
                (Some(_), None) => format!("{} was removed", t.describe()),
                (None, Some(_)) => format!("{} was added", t.describe()),
                _ => format!("the permissions of {} changed", t.describe()),
            });
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// What happened to each project.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) applied: usize,
    pub(crate) unchanged: usize,
    pub(crate) refused: Vec<(String, String)>,
    pub(crate) failed: Vec<(String, String)>,
}

/// Read one project's live settings.
pub(crate) async fn read_settings(client: &Client, project: &str) -> Result<Basis, String> {
    let doc = client
        .graphql(SETTINGS_QUERY, json!({ "path": project }))
        .await
        .map_err(|e| crate::text::redact(&e.to_string()).into_owned())?;
    parse_settings(project, &doc)
}

/// Send one mutation; `Err` with GitLab's message when it did not take effect.
async fn send(client: &Client, r: &Request) -> Result<(), String> {
    let doc = client.graphql(&r.query, r.variables.clone()).await.map_err(|e| e.to_string())?;
    if let Some(e) = doc.get("errors").and_then(Value::as_array).and_then(|e| e.first()) {
        return Err(format!("GraphQL: {}", e.get("message").and_then(Value::as_str).unwrap_or("error")));
    }
    let payload = doc.get("data").and_then(|d| d.as_object()).and_then(|o| o.values().next());
    let errors: Vec<&str> = payload
        .and_then(|p| p.get("errors"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    if payload.is_none_or(Value::is_null) {
        return Err("GitLab returned no result for the mutation".to_string());
    }
    Ok(())
}

/// Apply `plan` with `client`, journalling to `journal`. `priors` are the prior states an earlier run
/// (`--resume`) recorded: they stay the ones a rollback restores.
pub(crate) async fn apply(
    client: &Client,
    plan: &Plan,
    journal: &mut Journal,
    priors: &BTreeMap<String, Basis>,
    refresh: bool,
    progress: &dyn Fn(&str),
) -> Result<Outcome, String> {
    let name = journal.path.display().to_string();
    let io = |e: std::io::Error| format!("cannot write the journal {name}: {e}");
    let mut outcome = Outcome::default();
    let mut by: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        by.entry(c.project.as_str()).or_default().push(c);
    }
    for (project, mut changes) in by {
        changes.sort_by_key(|c| c.action);
        let Some(basis) = plan.basis.iter().find(|b| b.project == project) else {
            outcome.refused.push((project.to_string(), "the plan has no record of its settings (`basis`)".into()));
            continue;
        };
        let mut live = match read_settings(client, project).await {
            Ok(l) => l,
            Err(e) => {
                journal.write(&Record::Refused { project: project.into(), reason: e.clone() }).map_err(io)?;
                outcome.failed.push((project.to_string(), e));
                continue;
            }
        };
        if let Some(what) = drift(basis, &live, &changes).filter(|_| !refresh) {
            let reason = format!(
                "its settings changed since the plan was made: {what} (run `tokenscope plan` again, or `apply --refresh`)"
            );
            journal.write(&Record::Refused { project: project.into(), reason: reason.clone() }).map_err(io)?;
            outcome.refused.push((project.to_string(), reason));
            continue;
        }
        // With --refresh, a permission change to an entry someone removed since is not made.
        let exists = |c: &Change| {
            c.action != Action::Update || live.allowlist.iter().any(|e| Some(&e.target) == c.target.as_ref())
        };
        let pending: Vec<&Change> = changes.iter().copied().filter(|c| !in_effect(&live, c) && exists(c)).collect();
        if pending.is_empty() {
            outcome.unchanged += 1;
            continue;
        }
        if !priors.contains_key(project) {
            journal.write(&Record::Prior { project: project.into(), state: live.clone() }).map_err(io)?;
        }
        progress(project);
        let mut failed = None;
        for c in pending {
            let Some(r) = request(c) else { continue };
            let seq = journal.next();
            journal
                .write(&Record::Request { seq, project: project.into(), change: c.clone(), request: r.json() })
                .map_err(io)?;
            let result = send(client, &r).await;
            let error = result.as_ref().err().map(|e| crate::text::redact(e).into_owned());
            journal.write(&Record::Outcome { seq, ok: result.is_ok(), error: error.clone() }).map_err(io)?;
            match error {
                None => live = after(&live, c),
                Some(e) => {
                    failed = Some(format!(
                        "{} {}: {e}",
                        c.action.sign(),
                        c.target.as_ref().map_or("enforcement".into(), TargetRef::describe)
                    ));
                    break; // later changes of this project may depend on this one
                }
            }
        }
        match failed {
            Some(e) => outcome.failed.push((project.to_string(), e)),
            None => outcome.applied += 1,
        }
    }
    Ok(outcome)
}

/// The changes that take `live` back to `prior`: enforcement off first, entries re-added or restored,
/// then added entries removed, enforcement on last.
pub(crate) fn restore(prior: &Basis, live: &Basis) -> Vec<Change> {
    let project = prior.project.clone();
    let mk = |action, target: Option<TargetRef>, permissions, reason: &str| Change {
        project: project.clone(),
        action,
        target,
        permissions,
        reason: reason.to_string(),
        evidence: vec![],
    };
    let mut out = Vec::new();
    if live.inbound_enabled && !prior.inbound_enabled {
        out.push(mk(Action::Disable, None, None, "rollback: enforcement back off"));
    }
    let now: BTreeMap<&TargetRef, &EntryState> = live.allowlist.iter().map(|e| (&e.target, e)).collect();
    let before: BTreeMap<&TargetRef, &EntryState> = prior.allowlist.iter().map(|e| (&e.target, e)).collect();
    for (t, e) in &before {
        match now.get(t) {
            None => out.push(mk(Action::Add, Some((*t).clone()), e.permissions.clone(), "rollback: entry restored")),
            Some(n) if !super::same(&n.permissions, &e.permissions) => out.push(mk(
                Action::Update,
                Some((*t).clone()),
                e.permissions.clone(),
                "rollback: permissions restored",
            )),
            _ => {}
        }
    }
    for t in now.keys().filter(|t| !before.contains_key(*t)) {
        out.push(mk(Action::Remove, Some((*t).clone()), None, "rollback: entry the plan added removed"));
    }
    if !live.inbound_enabled && prior.inbound_enabled {
        out.push(mk(Action::Enable, None, None, "rollback: enforcement back on"));
    }
    out
}

/// The prior state of every project a journal touched, in the order they were first changed.
pub(crate) fn priors(records: &[Record]) -> Vec<Basis> {
    let mut seen = BTreeSet::new();
    records
        .iter()
        .filter_map(|r| match r {
            Record::Prior { project, state } if seen.insert(project.clone()) => Some(state.clone()),
            _ => None,
        })
        .collect()
}

/// Roll back every project of the journal, last changed first.
pub(crate) async fn rollback(client: &Client, records: &[Record], journal: &mut Journal) -> Result<Outcome, String> {
    let io = |e: std::io::Error| format!("cannot write the rollback journal: {e}");
    let mut outcome = Outcome::default();
    for prior in priors(records).into_iter().rev() {
        let project = prior.project.clone();
        let live = match read_settings(client, &project).await {
            Ok(l) => l,
            Err(e) => {
                outcome.failed.push((project, e));
                continue;
            }
        };
        let changes = restore(&prior, &live);
        if changes.is_empty() {
            outcome.unchanged += 1;
            continue;
        }
        journal.write(&Record::Prior { project: project.clone(), state: live.clone() }).map_err(io)?;
        let mut failed = None;
        for c in &changes {
            let Some(r) = request(c) else { continue };
            let seq = journal.next();
            journal
                .write(&Record::Request { seq, project: project.clone(), change: c.clone(), request: r.json() })
                .map_err(io)?;
            let result = send(client, &r).await;
            let error = result.as_ref().err().map(|e| crate::text::redact(e).into_owned());
            journal.write(&Record::Outcome { seq, ok: result.is_ok(), error: error.clone() }).map_err(io)?;
            if let Some(e) = error {
                failed = Some(e);
                break;
            }
        }
        match failed {
            Some(e) => outcome.failed.push((project, e)),
            None => outcome.applied += 1,
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(enabled: bool, entries: &[(&str, Option<Vec<Permission>>)]) -> Basis {
        let mut allowlist: Vec<EntryState> = entries
            .iter()
            .map(|(p, perms)| EntryState { target: TargetRef::Project(p.to_string()), permissions: perms.clone() })
            .collect();
        allowlist.sort();
        Basis { project: "a/callee".into(), inbound_enabled: enabled, allowlist }
    }

    fn change(action: Action, target: Option<&str>, permissions: Option<Vec<Permission>>) -> Change {
        Change {
            project: "a/callee".into(),
            action,
            target: target.map(|t| TargetRef::Project(t.into())),
            permissions,
            reason: String::new(),
            evidence: vec![],
        }
    }

    #[test]
    fn drift_allows_this_plans_own_changes_only() {
        let b = basis(false, &[("a/x", None), ("a/y", Some(vec![Permission::ReadJobs]))]);
        let add = change(Action::Add, Some("a/z"), Some(vec![Permission::ReadPackages]));
        let rm = change(Action::Remove, Some("a/x"), None);
        let en = change(Action::Enable, None, None);
        let cs = [&add, &rm, &en];
        assert_eq!(drift(&b, &b, &cs), None);
        let half = after(&after(&b, &add), &rm);
        assert_eq!(drift(&b, &half, &cs), None);
        assert_eq!(drift(&b, &after(&half, &en), &cs), None);
        let other = after(&b, &change(Action::Add, Some("a/evil"), None));
        assert_eq!(drift(&b, &other, &cs).as_deref(), Some("project a/evil was added"));
        let perms = after(&b, &change(Action::Update, Some("a/y"), None));
        assert!(drift(&b, &perms, &cs).unwrap().contains("permissions of project a/y"));
    }

    #[test]
    fn restore_undoes_everything_in_a_safe_order() {
        let prior = basis(false, &[("a/x", None), ("a/y", Some(vec![Permission::ReadJobs]))]);
        let live = basis(true, &[("a/y", Some(vec![Permission::ReadPackages])), ("a/z", None)]);
        let changes = restore(&prior, &live);
        let actions: Vec<Action> = changes.iter().map(|c| c.action).collect();
        assert_eq!(actions, vec![Action::Disable, Action::Add, Action::Update, Action::Remove]);
        let mut state = live.clone();
        for c in &changes {
            state = after(&state, c);
        }
        assert_eq!(state, prior);
        assert!(restore(&prior, &prior).is_empty());
    }
}
