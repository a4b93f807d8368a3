//! The reads a snapshot is made of: the instance, the projects, job-token settings, allowlists,
//! fine-grained permissions, the authentication log, repository listings and files.
//!
//! This is an API layer: it knows the endpoints and what their answers mean, and nothing of CI
//! resolution or detection. Which files to read is decided above it (`cli::collect`), by the audit's
//! own code.
//!
//! "Could not read" is never "empty": a 403 on the allowlist endpoints, a GitLab without GraphQL's
//! permissions or log, a repository that failed to download, are each recorded per project in the
//! manifest's `skipped:`, and the audit concludes nothing from them.

use super::api::{AllowlistedGroup, AllowlistedProject, JobTokenScope, Metadata, Namespace, ProjectRow, TreeEntry};
use super::client::{ApiError, Client};
use crate::snapshot::manifest::{AllowEntry, AuthLogEntry, Instance, JobTokenSettings, Project, url_host};
use crate::snapshot::manifest::{Data, EntryKind, Permission, Tier, Visibility, valid_full_path};
use crate::snapshot::write::OrgData;
use crate::source::Span;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Projects per GraphQL query.
const GRAPHQL_BATCH: usize = 25;

/// Which API reads projects and their settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Api {
    /// GraphQL where the token and instance allow it (not a job token; the group listed), REST otherwise.
    #[default]
    Auto,
    Graphql,
    Rest,
}

/// What to snapshot.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    /// Groups, with all their subgroups.
    pub(crate) groups: Vec<String>,
    /// Single projects.
    pub(crate) projects: Vec<String>,
    pub(crate) api: Api,
    /// Only the projects of this shard (`i` of `n`, 1-based), chosen by a stable hash of the path.
    pub(crate) shard: Option<(usize, usize)>,
}

/// Whether `path` falls in shard `i` of `n` (FNV-1a of the path: the same on every machine and run).
pub(crate) fn in_shard(path: &str, (i, n): (usize, usize)) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % n as u64) as usize == i - 1
}

/// What a fetch did.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) projects: usize,
    pub(crate) files: usize,
    pub(crate) requests: usize,
    /// Pieces of data skipped (expected gaps) and failed (errors), over all projects.
    pub(crate) skipped: usize,
    pub(crate) failed: usize,
    /// Problems that belong to no project of the snapshot (a file of an included project outside it).
    pub(crate) warnings: Vec<String>,
    /// Projects whose repository files were copied from an earlier snapshot (`--since`).
    pub(crate) reused: usize,
    /// Projects whose job-token settings were read (a lint's callees).
    pub(crate) read: usize,
}

/// `/`-encoding of a path for `/projects/:id` and `/repository/files/:path`.
pub(crate) fn enc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

pub(crate) fn str_of<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

/// What a token that is a job token can read, said once.
pub(crate) const JOB_TOKEN_LIMITS: &str = "a CI/CD job token cannot list a group's projects or read job-token settings, \
allowlists, permissions or the authentication log: only repository files and project details of projects whose \
allowlist admits the job's project. Use --project with it, or a personal, group or project access token with \
read_api and the Maintainer role for a full audit";

/// The org of `scope`: the instance, every project with its job-token settings, allowlists, permissions
/// and authentication log, and the projects whose repository is empty. No repository file is read yet.
pub(crate) async fn org(
    client: &Client,
    url: &str,
    scope: &Scope,
) -> Result<(OrgData, HashSet<String>, Vec<String>, Vec<(String, String, Vec<u8>)>), String> {
    if client.is_job_token() && !scope.groups.is_empty() {
        return Err(format!("--group needs another token: {JOB_TOKEN_LIMITS}"));
    }
    let mut org = OrgData { instance: instance(client, url, scope).await, projects: BTreeMap::new(), auth_log: vec![] };
    let mut warnings = Vec::new();
    if scope.api != Api::Rest && !client.is_job_token() {
        match super::graphql::read(client, scope, &mut org).await {
            Ok(super::graphql::Read { rest_settings: rest, empty: empty_repos, mut files }) => {
                if let Some(shard) = scope.shard {
                    org.projects.retain(|p, _| in_shard(p, shard));
                    org.auth_log.retain(|r| in_shard(&r.accessed, shard));
                    files.retain(|(p, _, _)| in_shard(p, shard));
                }
                drop_duplicate_ids(&mut org, &mut warnings);
                registry(client, &mut org).await;
                // What a page could not say about a project is read with REST, for that project only.
                let rest: Vec<String> = rest.into_iter().filter(|p| org.projects.contains_key(p)).collect();
                settings_of(client, &mut org, &rest).await;
                graphql_of(client, &mut org, &rest).await;
                org.auth_log.sort_by(|a, b| (&a.accessed, &a.origin).cmp(&(&b.accessed, &b.origin)));
                return Ok((org, empty_repos, warnings, files));
            }
            Err(e) if scope.api == Api::Graphql => return Err(e),
            Err(e) => {
                warnings.push(format!("{e}; read with REST instead"));
                org.projects.clear();
                org.auth_log.clear();
            }
        }
    }
    let listed = list_projects(client, scope).await?;
    let mut empty_repos = HashSet::new();
    let mut ids: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    for p in &listed {
        let Some(path) = p.path_with_namespace.as_deref() else { continue };
        if !valid_full_path(path) || scope.shard.is_some_and(|s| !in_shard(path, s)) {
            continue;
        }
        // Two projects with one id (a server that is wrong, or lying): the first is kept, the second is left
        // out with a warning, rather than a manifest that does not load.
        if let Some(id) = p.id {
            if let Some(first) = ids.get(&id) {
                warnings.push(format!("`{path}` has the id {id} of `{first}` too; it is left out of the snapshot"));
                continue;
            }
            ids.insert(id, path.to_string());
        }
        if p.empty_repo == Some(true) {
            empty_repos.insert(path.to_string());
        }
        if org.instance.registry.is_none()
            && let Some(prefix) = &p.container_registry_image_prefix
        {
            org.instance.registry = prefix.split('/').next().filter(|h| !h.is_empty()).map(str::to_ascii_lowercase);
        }
        org.projects.insert(path.to_string(), project_data(path, p));
    }
    settings(client, &mut org).await;
    graphql(client, &mut org).await;
    Ok((org, empty_repos, warnings, Vec::new()))
}

/// Two projects with one id: the first by path is kept, the other left out with a warning (as the REST
/// listing does), rather than a manifest that does not load.
fn drop_duplicate_ids(org: &mut OrgData, warnings: &mut Vec<String>) {
    let mut ids: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    let mut drop = Vec::new();
    for (path, p) in &org.projects {
        if let Some(id) = p.id {
            match ids.get(&id) {
                Some(first) => {
                    warnings.push(format!("`{path}` has the id {id} of `{first}` too; it is left out of the snapshot"));
                    drop.push(path.clone());
                }
                None => {
                    ids.insert(id, path.clone());
                }
            }
        }
    }
    for p in drop {
        org.projects.remove(&p);
        org.auth_log.retain(|r| r.accessed != p);
    }
}

/// The container registry's host, which GraphQL does not give: from one project's REST details.
async fn registry(client: &Client, org: &mut OrgData) {
    let Some(first) = org.projects.values().find_map(|p| p.id) else { return };
    if let Ok(row) = client.get::<ProjectRow>(&format!("/projects/{first}")).await
        && let Some(prefix) = row.container_registry_image_prefix
    {
        org.instance.registry = prefix.split('/').next().filter(|h| !h.is_empty()).map(str::to_ascii_lowercase);
    }
}

/// For a lint: the details and job-token settings of `callees`, added to `org`. A callee that cannot be read
/// is still listed, with its settings skipped, so its edges are `unknown` rather than `missing`.
pub(crate) async fn callees(client: &Client, org: &mut OrgData, callees: &[String]) {
    let details = futures::future::join_all(
        callees.iter().map(|c| async move { client.get::<ProjectRow>(&format!("/projects/{}", enc(c))).await }),
    )
    .await;
    for (c, d) in callees.iter().zip(details) {
        org.projects.insert(c.clone(), project_data(c, &d.unwrap_or_default()));
    }
    settings(client, org).await;
    graphql(client, org).await;
}

/// A repository file at the project's default branch, at most `limit` bytes.
pub(crate) async fn file(
    client: &Client,
    org: &OrgData,
    project: &str,
    file: &str,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut path = format!("/projects/{}/repository/files/{}/raw", enc(project), enc(file));
    if let Some(b) = org.projects.get(project).map(|d| &d.default_branch) {
        path.push_str(&format!("?ref={}", enc(b)));
    }
    client.get_raw(&path, limit).await
}

/// The instance: version and edition (`/metadata`, else `/version`), tier where the API tells it.
pub(crate) async fn instance(client: &Client, url: &str, scope: &Scope) -> Instance {
    let url = url.trim_end_matches('/').to_string();
    let host = url_host(&url).unwrap_or_default();
    let meta = match client.get::<Metadata>("/metadata").await {
        Ok(v) => v,
        Err(_) => client.get::<Metadata>("/version").await.unwrap_or_default(),
    };
    let (version, enterprise) = (meta.version, meta.enterprise);
    // A top-level group's plan is visible on GitLab.com (and to administrators).
    let top = scope.groups.iter().chain(&scope.projects).next().and_then(|p| p.split('/').next());
    let plan = match top {
        Some(t) => client.get::<Namespace>(&format!("/namespaces/{}", enc(t))).await.ok(),
        None => None,
    };
    let tier = match plan.and_then(|p| p.plan).as_deref() {
        Some("free") => Tier::Free,
        Some("premium" | "silver" | "bronze") => Tier::Premium,
        Some("ultimate" | "gold" | "ultimate_trial") => Tier::Ultimate,
        _ if enterprise == Some(false) || version.as_deref().is_some_and(|v| v.ends_with("-ce")) => Tier::Free,
        _ => Tier::Unknown,
    };
    Instance {
        url,
        registry: None,
        tier,
        // GitLab.com enforces every allowlist since April 2025; elsewhere the admin setting is not readable
        // without admin rights, and each project's `inbound_enabled` is already the effective value.
        enforce_allowlist: host == "gitlab.com",
        host,
        version,
    }
}

/// A project from GitLab's project JSON (an empty row: every default); the settings are read afterwards.
pub(crate) fn project_data(path: &str, p: &ProjectRow) -> Project {
    let default = Project::new(path, Span::default());
    Project {
        id: p.id,
        visibility: Visibility::from_api(p.visibility.as_deref()),
        archived: p.archived.unwrap_or(false),
        ci_config_path: p
            .ci_config_path
            .as_deref()
            .filter(|c| !c.is_empty())
            .map_or(default.ci_config_path.clone(), str::to_string),
        default_branch: p.default_branch.clone().unwrap_or_else(|| default.default_branch.clone()),
        last_activity_at: p.last_activity_at.clone(),
        ..default
    }
}

pub(crate) async fn list_projects(client: &Client, scope: &Scope) -> Result<Vec<ProjectRow>, String> {
    let mut out = Vec::new();
    for g in &scope.groups {
        let path = format!("/groups/{}/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc", enc(g));
        let rows = client.get_rows(&path).await.map_err(|e| format!("cannot list the projects of `{g}`: {e}"))?;
        out.extend(rows);
    }
    let singles = futures::future::join_all(scope.projects.iter().map(|p| async move {
        client
            .get::<ProjectRow>(&format!("/projects/{}", enc(p)))
            .await
            .map_err(|e| format!("cannot read project `{p}`: {e}"))
    }))
    .await;
    for s in singles {
        out.push(s?);
    }
    Ok(out)
}

/// Why an API answer means "skipped" rather than "failed".
fn reason(e: &ApiError, what: &str) -> (String, bool) {
    if e.is_denied() {
        (format!("{e}: reading {what} needs the Maintainer role on the project and a token with read_api"), false)
    } else if e.is_not_found() {
        (format!("{e}: this GitLab does not offer {what}"), false)
    } else {
        (e.to_string(), true)
    }
}

/// Job-token settings and allowlists from REST, for every project concurrently.
pub(crate) async fn settings(client: &Client, org: &mut OrgData) {
    let all: Vec<String> = org.projects.keys().cloned().collect();
    settings_of(client, org, &all).await;
}

/// [`settings`] for the projects `only`.
pub(crate) async fn settings_of(client: &Client, org: &mut OrgData, only: &[String]) {
    let url = org.instance.url.clone();
    let url = url.as_str();
    if client.is_job_token() {
        for p in org.projects.values_mut() {
            p.skip(Data::JobToken, format!("not readable with a job token: {JOB_TOKEN_LIMITS}"), false);
        }
        return;
    }
    let paths: Vec<(String, Option<u64>)> =
        only.iter().filter_map(|k| org.projects.get(k).map(|p| (k.clone(), p.id))).collect();
    let results = futures::future::join_all(paths.iter().map(|(path, id)| async move {
        let key = id.map_or_else(|| enc(path), |i| i.to_string());
        let scope = client.get::<JobTokenScope>(&format!("/projects/{key}/job_token_scope")).await?;
        let (projects, groups) = futures::future::join(
            client.get_rows::<AllowlistedProject>(&format!("/projects/{key}/job_token_scope/allowlist")),
            client.get_rows::<AllowlistedGroup>(&format!("/projects/{key}/job_token_scope/groups_allowlist")),
        )
        .await;
        let groups = match groups {
            Err(e) if e.is_not_found() => Vec::new(), // before GitLab 17.0: no group entries exist
            other => other?,
        };
        Ok::<_, ApiError>((scope, projects?, groups))
    }))
    .await;
    for ((path, _), result) in paths.iter().zip(results) {
        let p = org.projects.get_mut(path).expect("listed");
        match result {
            Ok((scope, projects, groups)) => {
                let mut allowlist = Vec::new();
                for e in &projects {
                    if let Some(target) = e.path_with_namespace.as_deref().filter(|t| t != path && valid_full_path(t)) {
                        allowlist.push(AllowEntry {
                            kind: EntryKind::Project,
                            path: target.to_string(),
                            permissions: None,
                            span: Span::default(),
                            meta: Default::default(),
                        });
                    }
                }
                for g in &groups {
                    if let Some(target) = group_path(g, url).filter(|t| valid_full_path(t)) {
                        allowlist.push(AllowEntry {
                            kind: EntryKind::Group,
                            path: target,
                            permissions: None,
                            span: Span::default(),
                            meta: Default::default(),
                        });
                    }
                }
                // The same entry twice (a server paging oddity) is one entry.
                let mut seen = HashSet::new();
                allowlist.retain(|e| seen.insert((e.kind, e.path.clone())));
                let outbound = scope.outbound_enabled.filter(|o| *o);
                p.job_token = JobTokenSettings {
                    inbound_enabled: scope.inbound_enabled.unwrap_or(true),
                    outbound_enabled: outbound.map(|o| (o, Span::default())),
                    allowlist,
                };
            }
            Err(e) => {
                let (why, failed) = reason(&e, "job-token settings");
                p.skip(Data::JobToken, why, failed);
            }
        }
    }
}

/// A group's full path in a `groups_allowlist` row: `full_path` when present, else from its `web_url`
/// (`https://host/groups/<full path>`), which is all GitLab's documented answer carries.
pub(crate) fn group_path(row: &AllowlistedGroup, instance_url: &str) -> Option<String> {
    if let Some(p) = &row.full_path {
        return Some(p.clone());
    }
    let web = row.web_url.as_deref()?;
    let rest = web.strip_prefix(instance_url.trim_end_matches('/')).unwrap_or(web);
    let rest = match rest.find("/groups/") {
        Some(i) => &rest[i + "/groups/".len()..],
        None => return None,
    };
    Some(rest.trim_end_matches('/').to_string())
}

/// The allowlist entries' targets are the union `CiJobTokenScopeTarget` (`CiJobTokenAccessibleProject` or
/// `CiJobTokenAccessibleGroup`): a fragment on `Project` or `Group` is refused by GitLab's validation. One
/// page of 200 each: GitLab's limit per list.
const PERMISSIONS_FIELDS: &str = "ciJobTokenScopeAllowlist { \
projectsAllowlist(first: 200) { nodes { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } defaultPermissions jobTokenPolicies } } \
groupsAllowlist(first: 200) { nodes { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } defaultPermissions jobTokenPolicies } } }";
const AUTH_LOG_FIELDS: &str =
    "ciJobTokenAuthLogs(first: 100) { nodes { originProject { fullPath } lastAuthorizedAt } pageInfo { hasNextPage } }";

/// Fine-grained permissions and the authentication log, which only GraphQL has: one query per batch of
/// projects (permissions only where the allowlist has entries).
pub(crate) async fn graphql(client: &Client, org: &mut OrgData) {
    let all: Vec<String> = org.projects.keys().cloned().collect();
    graphql_of(client, org, &all).await;
}

/// [`graphql`] for the projects `only`.
pub(crate) async fn graphql_of(client: &Client, org: &mut OrgData, only: &[String]) {
    // Permissions qualify entries: only projects with entries have any. The authentication log is read for
    // every project whose settings were read: a project with no entry can still have callers that a plan
    // must add before it enforces, and an unread log must never look empty.
    let of = |keep: &dyn Fn(&Project) -> bool| -> Vec<String> {
        only.iter().filter(|k| org.projects.get(*k).is_some_and(keep)).cloned().collect()
    };
    let with_entries = of(&|p| p.knows(Data::JobToken) && !p.job_token.allowlist.is_empty());
    let with_settings = of(&|p| p.knows(Data::JobToken));
    if client.is_job_token() {
        for p in org.projects.values_mut() {
            p.skip(Data::AuthLog, format!("not readable with a job token: {JOB_TOKEN_LIMITS}"), false);
        }
        return;
    }
    for (data, fields, projects) in
        [(Data::Permissions, PERMISSIONS_FIELDS, &with_entries), (Data::AuthLog, AUTH_LOG_FIELDS, &with_settings)]
    {
        let batches: Vec<&[String]> = projects.chunks(GRAPHQL_BATCH).collect();
        let answers = futures::future::join_all(batches.iter().map(|batch| {
            let mut q = String::from("query(");
            let vars: Vec<String> = (0..batch.len()).map(|i| format!("$p{i}: ID!")).collect();
            q.push_str(&vars.join(", "));
            q.push_str(") {");
            for i in 0..batch.len() {
                q.push_str(&format!(" p{i}: project(fullPath: $p{i}) {{ {fields} }}"));
            }
            q.push_str(" }");
            let variables: serde_json::Map<String, Value> =
                batch.iter().enumerate().map(|(i, p)| (format!("p{i}"), json!(p))).collect();
            async move { client.graphql(&q, Value::Object(variables)).await }
        }))
        .await;
        for (batch, answer) in batches.iter().zip(answers) {
            for (i, path) in batch.iter().enumerate() {
                let alias = format!("p{i}");
                let outcome = match &answer {
                    Err(e) => Err(reason(e, "GraphQL")),
                    Ok(doc) => graphql_field(doc, &alias),
                };
                match outcome {
                    Err((why, failed)) => org.projects.get_mut(path).expect("listed").skip(data, why, failed),
                    Ok(v) => match data {
                        Data::Permissions => apply_permissions(org, path, &v),
                        _ => apply_auth_log(org, path, &v),
                    },
                }
            }
        }
    }
    org.auth_log.sort_by(|a, b| (&a.accessed, &a.origin).cmp(&(&b.accessed, &b.origin)));
}

/// The value of one aliased project in a GraphQL answer, or why it is missing.
fn graphql_field(doc: &Value, alias: &str) -> Result<Value, (String, bool)> {
    let errors: Vec<&Value> = doc.get("errors").and_then(Value::as_array).into_iter().flatten().collect();
    let message = |e: &&Value| str_of(e, "message").unwrap_or("error").chars().take(200).collect::<String>();
    let mine = errors.iter().find(|e| {
        e.get("path").and_then(Value::as_array).and_then(|p| p.first()).and_then(Value::as_str) == Some(alias)
    });
    let value = doc.get("data").and_then(|d| d.get(alias)).and_then(|p| p.as_object()).and_then(|o| o.values().next());
    match value {
        Some(v) if !v.is_null() => Ok(v.clone()),
        _ => {
            let why = mine.or(errors.first()).map(message).unwrap_or_else(|| "the project was not returned".into());
            Err((format!("GraphQL: {why}"), false))
        }
    }
}

pub(crate) fn apply_permissions(org: &mut OrgData, path: &str, v: &Value) {
    let p = org.projects.get_mut(path).expect("listed");
    if !p.knows(Data::JobToken) {
        return; // no allowlist was read to give permissions to
    }
    let mut by_target: HashMap<(EntryKind, String), Option<Vec<Permission>>> = HashMap::new();
    let mut unknown = BTreeSet::new();
    for (kind, list) in [(EntryKind::Project, "projectsAllowlist"), (EntryKind::Group, "groupsAllowlist")] {
        let nodes = v.get(list).and_then(|l| l.get("nodes")).and_then(Value::as_array).into_iter().flatten();
        for n in nodes {
            let Some(target) = n.get("target").and_then(|t| str_of(t, "fullPath")) else { continue };
            let perms = if n.get("defaultPermissions").and_then(Value::as_bool) == Some(false) {
                let names = n.get("jobTokenPolicies").and_then(Value::as_array).into_iter().flatten();
                let mut known = Vec::new();
                for name in names.filter_map(Value::as_str).map(str::to_ascii_lowercase) {
                    match name.parse::<Permission>() {
                        Ok(p) => known.push(p),
                        Err(_) => {
                            unknown.insert(name);
                        }
                    }
                }
                Some(known)
            } else {
                None
            };
            by_target.insert((kind, target.to_string()), perms);
        }
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.into_iter().collect();
        p.skip(
            Data::Permissions,
            format!("GraphQL returned job-token policies tokenscope does not know: {}", list.join(", ")),
            false,
        );
        return;
    }
    let jt = &mut p.job_token;
    let mut missing = Vec::new();
    for e in &mut jt.allowlist {
        match by_target.remove(&(e.kind, e.path.clone())) {
            Some(perms) => e.permissions = perms,
            None => missing.push(e.path.clone()),
        }
    }
    if !missing.is_empty() {
        // GraphQL's first page only, or an entry added in between: those entries' permissions are unknown.
        for e in &mut jt.allowlist {
            e.permissions = None;
        }
        p.skip(Data::Permissions, format!("GraphQL did not return the permissions of {}", missing.join(", ")), false);
    }
}

pub(crate) fn apply_auth_log(org: &mut OrgData, path: &str, v: &Value) {
    let nodes = v.get("nodes").and_then(Value::as_array).into_iter().flatten();
    for n in nodes {
        let Some(origin) = n.get("originProject").and_then(|o| str_of(o, "fullPath")) else { continue };
        if !valid_full_path(origin) {
            continue;
        }
        org.auth_log.push(AuthLogEntry {
            accessed: path.to_string(),
            origin: origin.to_string(),
            last_authorized_at: str_of(n, "lastAuthorizedAt").map(str::to_string),
            span: Span::default(),
        });
    }
    if v.get("pageInfo").and_then(|p| p.get("hasNextPage")).and_then(Value::as_bool) == Some(true) {
        // Only the first 100 origins are read: an entry the log would keep alive may look unused.
        org.projects.get_mut(path).expect("listed").skip(
            Data::AuthLog,
            "the authentication log has more than 100 origins; only the first 100 were read",
            false,
        );
    }
}

/// A repository that could not be read: recorded on the project (the audit then says it could not be
/// resolved), or as a warning for a project outside the snapshot.
pub(crate) fn problem(org: &mut OrgData, outcome: &mut Outcome, project: &str, message: String, e: &ApiError) {
    match org.projects.get_mut(project) {
        Some(p) => p.skip(Data::Repository, message, !e.is_denied()),
        None => outcome.warnings.push(format!("`{project}` (outside the snapshot): {message}")),
    }
}

/// Every file path of a repository at its default branch (`/repository/tree`, recursive).
pub(crate) async fn tree(client: &Client, org: &OrgData, project: &str) -> Result<Vec<String>, ApiError> {
    let mut path = format!("/projects/{}/repository/tree?recursive=true", enc(project));
    if let Some(b) = org.projects.get(project).map(|p| &p.default_branch) {
        path.push_str(&format!("&ref={}", enc(b)));
    }
    let rows = match client.get_rows::<TreeEntry>(&path).await {
        Err(e) if e.is_not_found() => return Ok(Vec::new()), // an empty repository has no tree
        other => other?,
    };
    Ok(rows.into_iter().filter(|r| r.kind.as_deref() == Some("blob")).filter_map(|r| r.path).collect())
}

/// Data skipped and failed, for the summary line.
pub(crate) fn describe(outcome: &Outcome) -> String {
    let reused =
        if outcome.reused > 0 { format!(" ({} projects' files reused)", outcome.reused) } else { String::new() };
    format!(
        "{} projects, {} files{reused}, {} requests ({:.1} per project); {} data skipped, {} failed",
        outcome.projects,
        outcome.files,
        outcome.requests,
        outcome.requests as f64 / outcome.projects.max(1) as f64,
        outcome.skipped,
        outcome.failed
    )
}
