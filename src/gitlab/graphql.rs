//! Reading an org with GraphQL: a page of a group's projects (settings, both allowlists with permissions,
//! the head of the authentication log) in one request, instead of about five REST requests per project.
//! Page size adapts to GitLab's complexity limit (halved on a complexity or timeout error, grown back
//! after a success). What a page cannot say about a project (a field that is null or an error for it) is
//! read with REST for that project only, and recorded as skipped when REST cannot read it either: never
//! taken for empty.

use super::client::Client;
use super::fetch::{self, Scope, str_of};
use crate::snapshot::manifest::{
    AllowEntry, DEFAULT_CI_CONFIG_PATH, Data, EntryKind, JobTokenSettings, Project, Visibility, valid_full_path,
};
use crate::snapshot::write::OrgData;
use crate::source::Span;
use serde_json::{Value, json};
use std::collections::HashSet;

/// The first page size tried, and the largest: GitLab's maximum page size.
const FIRST_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

const ENTRY_FIELDS: &str = "nodes { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } defaultPermissions jobTokenPolicies } pageInfo { hasNextPage }";

/// The fields read per project.
fn project_fields() -> String {
    format!(
        "id fullPath visibility archived ciConfigPathOrDefault lastActivityAt \
         repository {{ rootRef empty blobs(paths: [\"{DEFAULT_CI_CONFIG_PATH}\"]) {{ nodes {{ path rawTextBlob }} }} }} \
         ciCdSettings {{ inboundJobTokenScopeEnabled }} \
         ciJobTokenScopeAllowlist {{ projectsAllowlist(first: 200) {{ {ENTRY_FIELDS} }} groupsAllowlist(first: 200) {{ {ENTRY_FIELDS} }} }} \
         ciJobTokenAuthLogs(first: 100) {{ nodes {{ originProject {{ fullPath }} lastAuthorizedAt }} pageInfo {{ hasNextPage }} }}"
    )
}

/// The page query of a group's projects.
pub(crate) fn group_query() -> String {
    format!(
        "query TokenscopeGroup($group: ID!, $first: Int!, $after: String) {{ group(fullPath: $group) {{ \
         projects(includeSubgroups: true, first: $first, after: $after) {{ count pageInfo {{ hasNextPage endCursor }} nodes {{ {} }} }} }} \
         queryComplexity {{ score limit }} }}",
        project_fields()
    )
}

/// The query of one project.
pub(crate) fn project_query() -> String {
    format!("query TokenscopeProject($path: ID!) {{ project(fullPath: $path) {{ {} }} }}", project_fields())
}

/// Whether a GraphQL answer refused the query for its cost or time: the page was too large.
fn too_costly(doc: &Value) -> bool {
    doc.get("errors").and_then(Value::as_array).into_iter().flatten().any(|e| {
        let m = str_of(e, "message").unwrap_or("").to_ascii_lowercase();
        m.contains("complexity") || m.contains("timeout") || m.contains("timed out")
    })
}

/// The errors of an answer under `prefix` (a path into `data`), by the index of the project they are about.
fn errors_at(doc: &Value, prefix: &[&str]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for e in doc.get("errors").and_then(Value::as_array).into_iter().flatten() {
        let Some(path) = e.get("path").and_then(Value::as_array) else { continue };
        let names: Vec<String> =
            path.iter().map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string)).collect();
        if names.len() > prefix.len() + 1
            && names.iter().zip(prefix).all(|(a, b)| a == b)
            && let Ok(i) = names[prefix.len()].parse::<usize>()
        {
            let field = names[prefix.len() + 1].clone();
            let message: String = str_of(e, "message").unwrap_or("error").chars().take(200).collect();
            out.push((i, field, message));
        }
    }
    out
}

/// What a page read besides the projects: the projects whose settings REST must read, the empty
/// repositories, and the CI files that came with the page (project, path, text).
#[derive(Default)]
pub(crate) struct Read {
    pub(crate) rest_settings: Vec<String>,
    pub(crate) empty: HashSet<String>,
    pub(crate) files: Vec<(String, String, Vec<u8>)>,
}

/// Read the projects of `scope` into `org`. `Err` when GraphQL cannot list a group at all (the caller then
/// reads it with REST).
pub(crate) async fn read(client: &Client, scope: &Scope, org: &mut OrgData) -> Result<Read, String> {
    let mut out = Read::default();
    for g in &scope.groups {
        let mut after: Option<String> = None;
        let mut size = FIRST_PAGE;
        let query = group_query();
        loop {
            let doc = client
                .graphql(&query, json!({"group": g, "first": size, "after": after}))
                .await
                .map_err(|e| format!("GraphQL cannot list the projects of `{g}`: {e}"))?;
            if too_costly(&doc) && size > 1 {
                size /= 2;
                continue;
            }
            let Some(conn) = doc.pointer("/data/group/projects").filter(|c| !c.is_null()) else {
                let why =
                    doc.pointer("/errors/0/message").and_then(Value::as_str).unwrap_or("the group was not returned");
                return Err(format!("GraphQL cannot list the projects of `{g}`: {}", crate::text::clip(why, 200)));
            };
            let errors = errors_at(&doc, &["group", "projects", "nodes"]);
            for (i, node) in conn.get("nodes").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let mine: Vec<(String, String)> =
                    errors.iter().filter(|(j, ..)| *j == i).map(|(_, f, m)| (f.clone(), m.clone())).collect();
                add(org, node, &mine, &mut out);
            }
            let total = conn.get("count").and_then(Value::as_u64).map(|c| c as usize);
            client.projects_listed(org.projects.len(), total);
            let next = conn.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool) == Some(true);
            after = conn.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_string);
            if !next || after.is_none() {
                break;
            }
            // Grow back while the page costs less than half of what GitLab allows (`queryComplexity`);
            // a page that came close stays the size it is.
            let score = doc.pointer("/data/queryComplexity/score").and_then(Value::as_u64);
            let limit = doc.pointer("/data/queryComplexity/limit").and_then(Value::as_u64);
            let room = match (score, limit) {
                (Some(s), Some(l)) if l > 0 => s * 2 <= l,
                _ => true,
            };
            if room {
                size = (size * 2).min(MAX_PAGE);
            }
        }
    }
    let query = project_query();
    for p in &scope.projects {
        let doc =
            client.graphql(&query, json!({"path": p})).await.map_err(|e| format!("cannot read project `{p}`: {e}"))?;
        let Some(node) = doc.pointer("/data/project").filter(|n| !n.is_null()) else {
            return Err(format!("cannot read project `{p}`: GraphQL did not return it"));
        };
        let errors: Vec<(String, String)> = doc
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let field = e.get("path").and_then(Value::as_array).and_then(|p| p.get(1)).and_then(Value::as_str)?;
                Some((field.to_string(), str_of(e, "message").unwrap_or("error").chars().take(200).collect()))
            })
            .collect();
        add(org, node, &errors, &mut out);
    }
    Ok(out)
}

/// One project of a page into `org`; its path. Settings GraphQL did not give are left for REST.
fn add(org: &mut OrgData, node: &Value, errors: &[(String, String)], out: &mut Read) -> Option<String> {
    let (rest_settings, empty) = (&mut out.rest_settings, &mut out.empty);
    let path = str_of(node, "fullPath").filter(|p| valid_full_path(p))?.to_string();
    let mut p = Project::new(&path, Span::default());
    p.id = str_of(node, "id").and_then(|id| id.rsplit('/').next()).and_then(|n| n.parse().ok());
    p.visibility = Visibility::from_api(str_of(node, "visibility"));
    p.archived = node.get("archived").and_then(Value::as_bool).unwrap_or(false);
    p.last_activity_at = str_of(node, "lastActivityAt").map(str::to_string);
    if let Some(c) = str_of(node, "ciConfigPathOrDefault").filter(|c| !c.is_empty()) {
        p.ci_config_path = c.to_string();
    }
    if let Some(b) = node.pointer("/repository/rootRef").and_then(Value::as_str) {
        p.default_branch = b.to_string();
    }
    if node.pointer("/repository/empty").and_then(Value::as_bool) == Some(true) {
        empty.insert(path.clone());
    }
    // The default CI file came with the page: kept when it is the project's CI file.
    if p.ci_config_path == DEFAULT_CI_CONFIG_PATH {
        for b in node.pointer("/repository/blobs/nodes").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(DEFAULT_CI_CONFIG_PATH), Some(text)) = (str_of(b, "path"), str_of(b, "rawTextBlob"))
                && text.len() <= crate::snapshot::MAX_FILE_BYTES as usize
            {
                out.files.push((path.clone(), DEFAULT_CI_CONFIG_PATH.to_string(), text.as_bytes().to_vec()));
            }
        }
    }
    let enabled = node.pointer("/ciCdSettings/inboundJobTokenScopeEnabled").and_then(Value::as_bool);
    let allowlist = node.get("ciJobTokenScopeAllowlist").filter(|a| !a.is_null());
    match (enabled, allowlist) {
        (Some(inbound_enabled), Some(list)) => {
            let mut entries = Vec::new();
            let mut more = false;
            for (kind, key) in [(EntryKind::Project, "projectsAllowlist"), (EntryKind::Group, "groupsAllowlist")] {
                let conn = &list[key];
                more |= conn.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool) == Some(true);
                for n in conn.get("nodes").and_then(Value::as_array).into_iter().flatten() {
                    let Some(t) = n.pointer("/target/fullPath").and_then(Value::as_str) else { continue };
                    if t != path
                        && valid_full_path(t)
                        && !entries.iter().any(|e: &AllowEntry| e.kind == kind && e.path == t)
                    {
                        entries.push(AllowEntry {
                            kind,
                            path: t.to_string(),
                            permissions: None,
                            span: Span::default(),
                            meta: Default::default(),
                        });
                    }
                }
            }
            if more {
                // More than one page of entries (GitLab allows 200): the whole list comes from REST.
                rest_settings.push(path.clone());
            } else {
                p.job_token = JobTokenSettings { inbound_enabled, allowlist: entries, outbound_enabled: None };
            }
        }
        _ => rest_settings.push(path.clone()),
    }
    org.projects.insert(path.clone(), p);
    if !rest_settings.contains(&path) {
        // Permissions and the log from the same answer, read as the REST path reads them from GraphQL.
        if let Some(list) = allowlist
            && !org.projects[&path].job_token.allowlist.is_empty()
        {
            fetch::apply_permissions(org, &path, list);
        }
        match (
            node.get("ciJobTokenAuthLogs").filter(|l| !l.is_null()),
            errors.iter().find(|(f, _)| f == "ciJobTokenAuthLogs"),
        ) {
            (Some(log), _) => fetch::apply_auth_log(org, &path, log),
            (None, Some((_, why))) => {
                org.projects.get_mut(&path).expect("added").skip(Data::AuthLog, format!("GraphQL: {why}"), false)
            }
            (None, None) => org.projects.get_mut(&path).expect("added").skip(
                Data::AuthLog,
                "GraphQL: the authentication log was not returned",
                false,
            ),
        }
    }
    Some(path)
}

/// Projects per blobs query (GitLab refuses more than 50 `fullPaths`), and paths per query (a page of
/// blobs holds at most 100).
const BLOB_PROJECTS: usize = 50;
const BLOB_PATHS: usize = 100;

const BLOBS_QUERY: &str = "query TokenscopeBlobs($projects: [String!], $paths: [String!]!) { \
projects(fullPaths: $projects, first: 50) { nodes { fullPath repository { blobs(paths: $paths, first: 100) { nodes { path rawTextBlob } } } } } }";

/// What GraphQL said of one wanted file.
#[derive(Debug)]
pub(crate) enum Blob {
    Found(Vec<u8>),
    /// The repository was read and has no such file.
    Absent,
    /// GraphQL could not say (an error, a binary or oversized file, a project it did not return): read it
    /// with REST.
    AskRest,
}

/// Repository files at the default branch, several projects per request: `wanted[i]`'s answer is `[i]`.
pub(crate) async fn blobs(client: &Client, wanted: &[(String, String)], limit: usize) -> Vec<Blob> {
    // Batches of projects whose wanted paths, together, fit one page of blobs.
    let mut by_project: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for (p, f) in wanted {
        by_project.entry(p.as_str()).or_default().push(f.as_str());
    }
    let mut batches: Vec<(Vec<&str>, std::collections::BTreeSet<&str>)> = Vec::new();
    for (p, files) in &by_project {
        let fits = batches.last().is_some_and(|(ps, paths)| {
            ps.len() < BLOB_PROJECTS && paths.iter().chain(files.iter()).collect::<HashSet<_>>().len() <= BLOB_PATHS
        });
        if !fits {
            batches.push((Vec::new(), Default::default()));
        }
        let (ps, paths) = batches.last_mut().expect("a batch");
        ps.push(p);
        paths.extend(files.iter().copied());
    }
    let answers = futures::future::join_all(batches.iter().map(|(projects, paths)| async move {
        if paths.len() > BLOB_PATHS {
            return None; // one project alone wants more than a page: REST reads them
        }
        client.graphql(BLOBS_QUERY, json!({"projects": projects, "paths": paths})).await.ok()
    }))
    .await;
    let mut found: std::collections::HashMap<(String, String), Blob> = std::collections::HashMap::new();
    for answer in answers.into_iter().flatten() {
        for node in answer.pointer("/data/projects/nodes").and_then(Value::as_array).into_iter().flatten() {
            let Some(project) = str_of(node, "fullPath") else { continue };
            let Some(blobs) = node.pointer("/repository/blobs").filter(|b| !b.is_null()) else { continue };
            for b in blobs.get("nodes").and_then(Value::as_array).into_iter().flatten() {
                let Some(path) = str_of(b, "path") else { continue };
                let blob = match b.get("rawTextBlob").and_then(Value::as_str) {
                    Some(text) if text.len() <= limit => Blob::Found(text.as_bytes().to_vec()),
                    _ => Blob::AskRest,
                };
                found.insert((project.to_string(), path.to_string()), blob);
            }
            // Paths the repository does not have: absent, as a REST 404 says.
            for f in by_project.get(project).into_iter().flatten() {
                found.entry((project.to_string(), f.to_string())).or_insert(Blob::Absent);
            }
        }
    }
    wanted.iter().map(|k| found.remove(k).unwrap_or(Blob::AskRest)).collect()
}
