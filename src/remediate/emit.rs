//! A plan written as what people apply it with (`plan --emit KIND`): the snapshot manifest with the
//! target allowlists (allowlists as code), GraphQL mutations, Terraform, or gitlabform configuration.
//! Each is the target state of every project the plan changes; only the manifest and GraphQL carry
//! fine-grained permissions (neither Terraform's provider nor gitlabform can express them).

use super::{Action, EntryState, Plan, TargetRef};
use crate::snapshot::manifest::{EntryMeta, Permission};
use crate::snapshot::write::{OrgData, render_manifest};
use crate::snapshot::{AllowEntry, EntryKind, Snapshot};
use crate::source::Span;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Emit {
    Manifest,
    Graphql,
    Terraform,
    Gitlabform,
}

/// One project's settings after the plan: enforcement, and its entries with their bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct TargetState {
    pub(crate) inbound_enabled: bool,
    pub(crate) entries: Vec<(EntryState, EntryMeta)>,
}

/// Bookkeeping written with each entry a plan adds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stamp {
    pub(crate) owner: Option<String>,
    pub(crate) expires: Option<String>,
}

/// The settings of every project the plan changes, after it (the entries it keeps in their order, then
/// those it adds).
pub(crate) fn target_states(plan: &Plan, snap: &Snapshot, stamp: &Stamp) -> BTreeMap<String, TargetState> {
    let mut out: BTreeMap<String, TargetState> = BTreeMap::new();
    for b in &plan.basis {
        let metas: BTreeMap<TargetRef, EntryMeta> = snap
            .manifest
            .projects
            .get(&b.project)
            .map(|p| p.job_token.allowlist.iter().map(|e| (TargetRef::of(e), e.meta.clone())).collect())
            .unwrap_or_default();
        let entries =
            b.allowlist.iter().map(|e| (e.clone(), metas.get(&e.target).cloned().unwrap_or_default())).collect();
        out.insert(b.project.clone(), TargetState { inbound_enabled: b.inbound_enabled, entries });
    }
    for c in &plan.changes {
        let Some(state) = out.get_mut(&c.project) else { continue };
        match (&c.action, &c.target) {
            (Action::Enable, _) => state.inbound_enabled = true,
            (Action::Remove, Some(t)) => state.entries.retain(|(e, _)| &e.target != t),
            (Action::Update, Some(t)) => {
                for (e, _) in state.entries.iter_mut().filter(|(e, _)| &e.target == t) {
                    e.permissions = c.permissions.clone();
                }
            }
            (Action::Add, Some(t)) => {
                let meta = EntryMeta {
                    owner: Some(stamp.owner.clone().unwrap_or_else(|| t.path().to_string())),
                    reason: Some(crate::text::clip(&c.reason, 200).into_owned()),
                    expires: stamp.expires.clone().map(|d| (d, Span::default())),
                };
                state.entries.push((EntryState { target: t.clone(), permissions: c.permissions.clone() }, meta));
            }
            _ => {}
        }
    }
    out
}

pub(crate) fn emit(kind: Emit, plan: &Plan, snap: &Snapshot, stamp: &Stamp) -> String {
    let states = target_states(plan, snap, stamp);
    match kind {
        Emit::Manifest => manifest(snap, &states),
        Emit::Graphql => graphql(plan),
        Emit::Terraform => terraform(snap, &states),
        Emit::Gitlabform => gitlabform(&states),
    }
}

/// The snapshot's manifest with the target allowlists.
fn manifest(snap: &Snapshot, states: &BTreeMap<String, TargetState>) -> String {
    let m = &snap.manifest;
    let mut projects = m.projects.clone();
    for (path, state) in states {
        let Some(p) = projects.get_mut(path) else { continue };
        p.job_token.inbound_enabled = state.inbound_enabled;
        p.job_token.allowlist = state
            .entries
            .iter()
            .map(|(e, meta)| AllowEntry {
                kind: e.target.kind(),
                path: e.target.path().to_string(),
                permissions: e.permissions.clone(),
                span: Span::default(),
                meta: meta.clone(),
            })
            .collect();
    }
    let org = OrgData { instance: m.instance.clone(), projects, auth_log: m.auth_log.clone() };
    render_manifest(&org).replacen(
        "# Written by `tokenscope snapshot`",
        "# Written by `tokenscope plan --emit manifest`: the target allowlists",
        1,
    )
}

/// A GraphQL string literal.
fn gql_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn gql_policies(p: &Option<Vec<Permission>>) -> String {
    let list: Vec<String> = p.iter().flatten().map(|p| p.as_str().to_ascii_uppercase()).collect();
    format!("[{}]", list.join(", "))
}

/// One mutation field of a change: the field name and its `input`, ready to send.
pub(crate) fn mutation(c: &super::Change) -> Option<String> {
    let project = gql_str(&c.project);
    Some(match (&c.action, &c.target) {
        (Action::Add, Some(t)) => format!(
            "ciJobTokenScopeAddGroupOrProject(input: {{projectPath: {project}, targetPath: {}, defaultPermissions: {}, jobTokenPolicies: {}}}) {{ errors }}",
            gql_str(t.path()),
            c.permissions.is_none(),
            gql_policies(&c.permissions)
        ),
        (Action::Update, Some(t)) => format!(
            "ciJobTokenScopeUpdatePolicies(input: {{projectPath: {project}, targetPath: {}, defaultPermissions: {}, jobTokenPolicies: {}}}) {{ errors }}",
            gql_str(t.path()),
            c.permissions.is_none(),
            gql_policies(&c.permissions)
        ),
        (Action::Remove, Some(TargetRef::Project(t))) => format!(
            "ciJobTokenScopeRemoveProject(input: {{projectPath: {project}, targetProjectPath: {}, direction: INBOUND}}) {{ errors }}",
            gql_str(t)
        ),
        (Action::Remove, Some(TargetRef::Group(t))) => format!(
            "ciJobTokenScopeRemoveGroup(input: {{projectPath: {project}, targetGroupPath: {}}}) {{ errors }}",
            gql_str(t)
        ),
        (Action::Enable | Action::Disable, _) => format!(
            "projectCiCdSettingsUpdate(input: {{fullPath: {project}, inboundJobTokenScopeEnabled: {}}}) {{ errors }}",
            c.action == Action::Enable
        ),
        _ => return None,
    })
}

/// An operation name from a project path.
fn op_name(path: &str) -> String {
    let mut s = String::from("Tokenscope_");
    s.extend(path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }));
    s
}

/// One named mutation per callee; its fields run in order (GraphQL runs a mutation's fields serially):
/// additions and permission changes, then removals, then enforcement.
fn graphql(plan: &Plan) -> String {
    let mut o = String::from(
        "# Written by `tokenscope plan --emit graphql`. One operation per project; GitLab runs each operation's\n\
         # fields in order. Send one with its name, for example:\n\
         #   glab api graphql -f operationName=NAME -F query=@THIS_FILE\n\
         #   jq -n --rawfile q THIS_FILE '{query: $q, operationName: \"NAME\"}' | curl -sS -H \"Authorization: Bearer $GITLAB_TOKEN\" -H 'Content-Type: application/json' --data @- https://gitlab.example.com/api/graphql\n\
         # Every payload's `errors` must be empty. `tokenscope apply` sends the same mutations with a journal to roll back.\n",
    );
    let mut by: BTreeMap<&str, Vec<&super::Change>> = BTreeMap::new();
    for c in &plan.changes {
        by.entry(c.project.as_str()).or_default().push(c);
    }
    for (project, changes) in by {
        let _ = writeln!(o, "\nmutation {} {{", op_name(project));
        for (i, c) in changes.iter().enumerate() {
            if let Some(m) = mutation(c) {
                let _ = writeln!(o, "  c{i}: {m}");
            }
        }
        o.push_str("}\n");
    }
    o
}

/// An HCL identifier from a path.
fn hcl_name(path: &str) -> String {
    let mut s: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// `gitlab_project_job_token_scopes` per project (authoritative lists, `enabled`), `import` blocks for
/// what exists today, and data sources for targets whose id the snapshot does not hold.
fn terraform(snap: &Snapshot, states: &BTreeMap<String, TargetState>) -> String {
    let mut o = String::from(
        "# Written by `tokenscope plan --emit terraform` (gitlabhq/gitlab provider).\n\
         # Fine-grained job-token permissions cannot be expressed in the provider: apply them with the\n\
         # GraphQL file (`tokenscope plan --emit graphql`) or `tokenscope apply`, after this.\n",
    );
    let mut data_projects: BTreeMap<String, ()> = BTreeMap::new();
    let mut data_groups: BTreeMap<String, ()> = BTreeMap::new();
    let id_of = |path: &str, data: &mut BTreeMap<String, ()>| -> String {
        match snap.manifest.projects.get(path).and_then(|p| p.id) {
            Some(id) => id.to_string(),
            None => {
                data.insert(path.to_string(), ());
                format!("data.gitlab_project.{}.id", hcl_name(path))
            }
        }
    };
    let mut body = String::new();
    for (path, state) in states {
        let name = hcl_name(path);
        let projects: Vec<String> = state
            .entries
            .iter()
            .filter(|(e, _)| e.target.kind() == EntryKind::Project)
            .map(|(e, _)| id_of(e.target.path(), &mut data_projects))
            .collect();
        let groups: Vec<String> = state
            .entries
            .iter()
            .filter(|(e, _)| e.target.kind() == EntryKind::Group)
            .map(|(e, _)| {
                data_groups.insert(e.target.path().to_string(), ());
                format!("data.gitlab_group.{}.id", hcl_name(e.target.path()))
            })
            .collect();
        let import_id = snap.manifest.projects.get(path).and_then(|p| p.id).map_or(path.clone(), |i| i.to_string());
        let _ = write!(
            body,
            "\nimport {{\n  to = gitlab_project_job_token_scopes.{name}\n  id = {}\n}}\n\nresource \"gitlab_project_job_token_scopes\" \"{name}\" {{\n  project            = {}\n  enabled            = {}\n  target_project_ids = [{}]\n  target_group_ids   = [{}]\n}}\n",
            gql_str(&import_id),
            gql_str(path),
            state.inbound_enabled,
            projects.join(", "),
            groups.join(", ")
        );
    }
    for p in data_projects.keys() {
        let _ =
            write!(o, "\ndata \"gitlab_project\" \"{}\" {{\n  path_with_namespace = {}\n}}\n", hcl_name(p), gql_str(p));
    }
    for g in data_groups.keys() {
        let _ = write!(o, "\ndata \"gitlab_group\" \"{}\" {{\n  full_path = {}\n}}\n", hcl_name(g), gql_str(g));
    }
    o.push_str(&body);
    o
}

/// YAML flow scalars: JSON strings are valid YAML.
fn yaml_list(items: &[&str]) -> String {
    let list: Vec<String> = items.iter().map(|s| gql_str(s)).collect();
    format!("[{}]", list.join(", "))
}

/// gitlabform's `job_token_scope:` per project.
fn gitlabform(states: &BTreeMap<String, TargetState>) -> String {
    let mut o = String::from(
        "# Written by `tokenscope plan --emit gitlabform`. gitlabform cannot set fine-grained job-token\n\
         # permissions: apply them with `tokenscope plan --emit graphql` or `tokenscope apply`.\n\
         projects_and_groups:\n",
    );
    for (path, state) in states {
        let of = |k: EntryKind| -> Vec<&str> {
            state.entries.iter().filter(|(e, _)| e.target.kind() == k).map(|(e, _)| e.target.path()).collect()
        };
        let _ = write!(
            o,
            "  {}:\n    job_token_scope:\n      limit_access_to_this_project: {}\n      allowlist:\n        enforce: true\n        projects: {}\n        groups: {}\n",
            gql_str(path),
            state.inbound_enabled,
            yaml_list(&of(EntryKind::Project)),
            yaml_list(&of(EntryKind::Group))
        );
    }
    o
}
