// GraphQL for the fake GitLab: each document is parsed and validated against GitLab's schema subset
// (tests/graphql/gitlab-job-token.graphql) by apollo-compiler, a GraphQL implementation, and executed by it
// with resolvers over the fake's org. Queries read projects; mutations change their allowlists and
// enforcement the way GitLab does (an unknown target, a duplicate entry and GitLab's 200-entry limits are
// errors in the payload; `ciJobTokenScopeRemoveProject` without `direction` removes the OUTBOUND entry,
// as older GitLab did, so an inbound entry stays).

use super::{Fake, FakeProject};
use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, serde_json_bytes};
use apollo_compiler::{ExecutableDocument, Schema, validation::Valid};
use serde_json::{Value, json};
use std::sync::{Mutex, OnceLock};
use wiremock::Request;

/// The schema, parsed and validated once.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/graphql/gitlab-job-token.graphql");
        let sdl = std::fs::read_to_string(path).expect("the schema subset");
        Schema::parse_and_validate(sdl, path).expect("the schema subset is valid SDL")
    })
}

/// Validate a document against the schema: the errors, if any, as text.
pub fn validate(document: &str) -> Result<Valid<ExecutableDocument>, String> {
    ExecutableDocument::parse_and_validate(schema(), document, "request.graphql").map_err(|e| e.errors.to_string())
}

/// A JSON object standing for a GraphQL object: its `__typename` and its fields. A field whose value is
/// `{"__error": MESSAGE}` is a field error. A `Repository` answers `blobs(paths:)` from the fake's files.
struct Obj<'f>(Value, &'f Fake);

fn value<'a>(v: &Value, fake: &'a Fake) -> ResolvedValue<'a> {
    match v {
        Value::Object(o) if o.contains_key("__typename") => ResolvedValue::object(Obj(v.clone(), fake)),
        Value::Array(items) => ResolvedValue::list(items.iter().map(|i| value(i, fake)).collect::<Vec<_>>()),
        other => ResolvedValue::leaf(serde_json_bytes::Value::from(other.clone())),
    }
}

impl ObjectValue for Obj<'_> {
    fn type_name(&self) -> &str {
        self.0["__typename"].as_str().unwrap_or("")
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        if self.type_name() == "Repository" && info.field_name() == "blobs" {
            let project = self.0["__project"].as_str().unwrap_or("");
            let projects = self.1.projects.lock().unwrap();
            let Some(p) = projects.iter().find(|p| p.path == project) else { return Ok(ResolvedValue::null()) };
            if p.broken_repository {
                return Err(FieldError { message: "Internal server error: Gitaly is unavailable".into() });
            }
            let paths = info.arguments().get("paths").and_then(|v| v.as_array()).cloned().unwrap_or_default();
            let nodes: Vec<Value> = paths
                .iter()
                .filter_map(|path| path.as_str())
                .filter_map(|path| {
                    p.files.get(path).map(|text| json!({"__typename": "RepositoryBlob", "path": path, "rawTextBlob": text, "oid": "0"}))
                })
                .collect();
            return Ok(value(&page("RepositoryBlobConnection", nodes), self.1));
        }
        match self.0.get(info.field_name()) {
            Some(Value::Object(o)) if o.contains_key("__error") => {
                Err(FieldError { message: o["__error"].as_str().unwrap_or("error").to_string() })
            }
            Some(v) => Ok(value(v, self.1)),
            None => Ok(ResolvedValue::null()),
        }
    }
}

fn page(typename: &str, nodes: Vec<Value>) -> Value {
    json!({"__typename": typename, "count": nodes.len(), "nodes": nodes,
           "pageInfo": {"__typename": "PageInfo", "hasNextPage": false, "hasPreviousPage": false, "endCursor": null, "startCursor": null}})
}

fn entry(p: &FakeProject, target: &str, group: bool) -> Value {
    let (default, policies) = match p.policies.get(target) {
        Some(list) => (false, list.iter().map(|x| x.to_ascii_uppercase()).collect::<Vec<_>>()),
        None => (true, vec![]),
    };
    let kind = if group { "CiJobTokenAccessibleGroup" } else { "CiJobTokenAccessibleProject" };
    let name = target.rsplit('/').next().unwrap_or(target);
    json!({"__typename": "CiJobTokenScopeAllowlistEntry",
           "target": {"__typename": kind, "id": format!("gid://gitlab/{target}"), "fullPath": target, "name": name, "path": name},
           "defaultPermissions": default, "jobTokenPolicies": policies, "autopopulated": false,
           "direction": "inbound", "createdAt": "2026-01-01T00:00:00Z"})
}

/// A project as GraphQL shows it.
fn project(fake: &Fake, req: &Request, p: &FakeProject) -> Value {
    let denied = || json!({"__error": fake.graphql_echo(req, "The resource that you are attempting to access does not exist or you don't have permission to perform this action")});
    let (settings, allowlist) = if p.deny_settings {
        (denied(), denied())
    } else {
        let projects = p.allow_projects.iter().map(|t| entry(p, t, false)).collect();
        let groups = p.allow_groups.iter().map(|t| entry(p, t, true)).collect();
        (
            json!({"__typename": "ProjectCiCdSetting", "inboundJobTokenScopeEnabled": p.inbound_enabled}),
            json!({"__typename": "CiJobTokenScopeAllowlist",
                   "projectsAllowlist": page("CiJobTokenScopeAllowlistEntryConnection", projects),
                   "groupsAllowlist": page("CiJobTokenScopeAllowlistEntryConnection", groups)}),
        )
    };
    let logs = if p.deny_auth_log {
        denied()
    } else {
        let nodes = p
            .auth_log
            .iter()
            .map(|o| json!({"__typename": "CiJobTokenAuthLog", "lastAuthorizedAt": "2026-11-01T10:00:00Z",
                            "originProject": {"__typename": "CiJobTokenAccessibleProject", "id": format!("gid://gitlab/{o}"), "fullPath": o, "name": o, "path": o}}))
            .collect();
        page("CiJobTokenAuthLogConnection", nodes)
    };
    json!({"__typename": "Project", "id": format!("gid://gitlab/Project/{}", p.id), "fullPath": p.path,
           "repository": {"__typename": "Repository", "__project": p.path, "rootRef": if p.files.is_empty() { Value::Null } else { json!("main") },
                          "empty": p.files.is_empty(), "exists": true},
           "archived": p.archived, "visibility": p.visibility, "lastActivityAt": p.last_activity(), "ciConfigPathOrDefault": p.ci_config_path.clone().unwrap_or(".gitlab-ci.yml".into()),
           "ciCdSettings": settings, "ciJobTokenScopeAllowlist": allowlist, "ciJobTokenAuthLogs": logs})
}

struct Query<'f> {
    fake: &'f Fake,
    req: &'f Request,
    /// The page size the operation asked for (for `queryComplexity`).
    first: std::sync::atomic::AtomicUsize,
}

impl ObjectValue for Query<'_> {
    fn type_name(&self) -> &str {
        "Query"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        match info.field_name() {
            "project" => {
                let path = info.arguments().get("fullPath").and_then(|v| v.as_str()).unwrap_or("").to_string();
                let projects = self.fake.projects.lock().unwrap();
                Ok(match projects.iter().find(|p| p.path == path) {
                    Some(p) => value(&project(self.fake, self.req, p), self.fake),
                    None => ResolvedValue::null(),
                })
            }
            "group" => {
                let path = info.arguments().get("fullPath").and_then(|v| v.as_str()).unwrap_or("").to_string();
                let exists = self.fake.projects.lock().unwrap().iter().any(|p| p.path.starts_with(&format!("{path}/")));
                Ok(if exists {
                    ResolvedValue::object(Group { fake: self.fake, req: self.req, path, first: &self.first })
                } else {
                    ResolvedValue::null()
                })
            }
            "projects" => {
                let wanted: Vec<String> = info
                    .arguments()
                    .get("fullPaths")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                if wanted.len() > 50 {
                    return Err(FieldError { message: "You cannot provide more than 50 full_paths".into() });
                }
                let projects = self.fake.projects.lock().unwrap();
                let nodes: Vec<Value> = projects
                    .iter()
                    .filter(|p| wanted.contains(&p.path))
                    .map(|p| project(self.fake, self.req, p))
                    .collect();
                Ok(value(&page("ProjectConnection", nodes), self.fake))
            }
            "queryComplexity" => {
                // The fake's cost: 2 per project a page may hold (GitLab's own formula weighs fields and
                // page sizes; this keeps its shape: more projects per page, higher score).
                let first = self.first.load(std::sync::atomic::Ordering::SeqCst);
                Ok(value(&json!({"__typename": "QueryComplexity", "score": 2 * first, "limit": 250}), self.fake))
            }
            _ => Ok(ResolvedValue::null()),
        }
    }
}

/// A group: its projects, a page at a time (`first`, `after`: the index of the next project).
struct Group<'f> {
    fake: &'f Fake,
    req: &'f Request,
    path: String,
    first: &'f std::sync::atomic::AtomicUsize,
}

impl ObjectValue for Group<'_> {
    fn type_name(&self) -> &str {
        "Group"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        match info.field_name() {
            "fullPath" => Ok(ResolvedValue::leaf(serde_json_bytes::Value::from(self.path.clone()))),
            "projects" => {
                let args = info.arguments();
                let first = args.get("first").and_then(|v| v.as_i64()).unwrap_or(100).clamp(1, 100) as usize;
                self.first.store(first, std::sync::atomic::Ordering::SeqCst);
                if self.fake.faults.max_page.is_some_and(|max| first > max) {
                    return Err(FieldError {
                        message: format!("Query has complexity of {}, which exceeds max complexity of 250", 250 + first),
                    });
                }
                let start: usize = args.get("after").and_then(|v| v.as_str()).and_then(|c| c.parse().ok()).unwrap_or(0);
                let projects = self.fake.projects.lock().unwrap();
                let mut under: Vec<&FakeProject> =
                    projects.iter().filter(|p| p.path.starts_with(&format!("{}/", self.path))).collect();
                under.sort_by_key(|p| p.id);
                let page: Vec<Value> =
                    under.iter().skip(start).take(first).map(|p| project(self.fake, self.req, p)).collect();
                let end = start + page.len();
                let conn = json!({"__typename": "ProjectConnection", "count": under.len(), "nodes": page,
                    "pageInfo": {"__typename": "PageInfo", "hasNextPage": end < under.len(), "hasPreviousPage": start > 0,
                                 "endCursor": end.to_string(), "startCursor": start.to_string()}});
                Ok(value(&conn, self.fake))
            }
            _ => Ok(ResolvedValue::null()),
        }
    }
}

struct Mutation<'f> {
    fake: &'f Fake,
    req: &'f Request,
    /// The fields of one operation run one after the other, as GitLab runs them.
    lock: Mutex<()>,
}

/// A payload: `errors` and the type GitLab names it.
fn payload(field: &str, errors: Vec<String>) -> Value {
    let name = format!("{}{}Payload", field[..1].to_ascii_uppercase(), &field[1..]);
    json!({"__typename": name, "errors": errors, "clientMutationId": null})
}

impl Mutation<'_> {
    fn run(&self, field: &str, input: &Value) -> Result<Vec<String>, String> {
        let _serial = self.lock.lock().unwrap();
        let n = self.fake.mutations.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let healed = self.fake.healed.load(std::sync::atomic::Ordering::SeqCst);
        if !healed && self.fake.faults.fail_mutations_from.is_some_and(|from| n >= from) {
            return Ok(vec!["Something went wrong (injected failure)".into()]);
        }
        let s = |k: &str| input.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut projects = self.fake.projects.lock().unwrap();
        let is_group = |path: &str, all: &[FakeProject]| all.iter().any(|p| p.path.starts_with(&format!("{path}/")));
        let is_project = |path: &str, all: &[FakeProject]| all.iter().any(|p| p.path == path);
        let owner = if field == "projectCiCdSettingsUpdate" { s("fullPath") } else { s("projectPath") };
        let snapshot: Vec<FakeProject> = projects.clone();
        let Some(p) = projects.iter_mut().find(|p| p.path == owner) else {
            return Err("The resource that you are attempting to access does not exist or you don't have permission to perform this action".into());
        };
        if p.deny_settings {
            return Err("The resource that you are attempting to access does not exist or you don't have permission to perform this action".into());
        }
        let policies = |input: &Value| -> Option<Vec<String>> {
            if input.get("defaultPermissions").and_then(Value::as_bool).unwrap_or(true) {
                None
            } else {
                Some(
                    input
                        .get("jobTokenPolicies")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_lowercase)
                        .collect(),
                )
            }
        };
        let mut errors = Vec::new();
        match field {
            "ciJobTokenScopeAddGroupOrProject" => {
                let t = s("targetPath");
                let (list, limit_name) = if is_project(&t, &snapshot) {
                    (&mut p.allow_projects, "projects")
                } else if is_group(&t, &snapshot) {
                    (&mut p.allow_groups, "groups")
                } else {
                    return Ok(vec!["The target does not exist".into()]);
                };
                if list.contains(&t) {
                    errors.push("This target is already in the job token scope".into());
                } else if list.len() >= 200 {
                    errors.push(format!("The allowlist can contain at most 200 {limit_name}"));
                } else {
                    list.push(t.clone());
                    match policies(input) {
                        Some(l) => p.policies.insert(t, l),
                        None => p.policies.remove(&t),
                    };
                }
            }
            "ciJobTokenScopeUpdatePolicies" => {
                let t = s("targetPath");
                if !p.allow_projects.contains(&t) && !p.allow_groups.contains(&t) {
                    errors.push("Unable to find a project or group link for the source and target".into());
                } else {
                    match policies(input) {
                        Some(l) => p.policies.insert(t, l),
                        None => p.policies.remove(&t),
                    };
                }
            }
            "ciJobTokenScopeRemoveProject" => {
                let t = s("targetProjectPath");
                // Older GitLab removed the OUTBOUND entry when no direction was given: the inbound one stays.
                if input.get("direction").and_then(Value::as_str) == Some("INBOUND") {
                    if let Some(i) = p.allow_projects.iter().position(|x| *x == t) {
                        p.allow_projects.remove(i);
                        p.policies.remove(&t);
                    } else {
                        errors.push("Target project is not in the job token scope".into());
                    }
                }
            }
            "ciJobTokenScopeRemoveGroup" => {
                let t = s("targetGroupPath");
                if let Some(i) = p.allow_groups.iter().position(|x| *x == t) {
                    p.allow_groups.remove(i);
                    p.policies.remove(&t);
                } else {
                    errors.push("Target group is not in the job token scope".into());
                }
            }
            "projectCiCdSettingsUpdate" => {
                if let Some(b) = input.get("inboundJobTokenScopeEnabled").and_then(Value::as_bool) {
                    p.inbound_enabled = b;
                }
            }
            _ => return Err(format!("the fake does not implement `{field}`")),
        }
        Ok(errors)
    }
}

impl ObjectValue for Mutation<'_> {
    fn type_name(&self) -> &str {
        "Mutation"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let field = info.field_name();
        let input = serde_json::to_value(info.arguments().get("input")).unwrap_or(Value::Null);
        match self.run(field, &input) {
            Ok(errors) => Ok(value(&payload(field, errors), self.fake)),
            Err(message) => Err(FieldError { message: self.fake.graphql_echo(self.req, &message) }),
        }
    }
}

/// Execute one GraphQL request: the whole answer (`data`, `errors`).
pub fn execute(fake: &Fake, req: &Request, query: &str, operation: Option<&str>, variables: &Value) -> Value {
    let document = match validate(query) {
        Ok(d) => d,
        Err(e) => return json!({"errors": [{"message": e}]}),
    };
    let vars: serde_json_bytes::Value = serde_json_bytes::Value::from(variables.clone());
    let empty = JsonMap::new();
    let vars = vars.as_object().unwrap_or(&empty);
    let execution = match Execution::new(schema(), &document).operation_name(operation) {
        Ok(e) => e.raw_variable_values(vars),
        Err(e) => return json!({"errors": [{"message": e.message().to_string()}]}),
    };
    let is_mutation = document
        .operations
        .get(operation)
        .is_ok_and(|op| op.operation_type == apollo_compiler::executable::OperationType::Mutation);
    let result = if is_mutation {
        execution.execute_sync(&Mutation { fake, req, lock: Mutex::new(()) })
    } else {
        execution.execute_sync(&Query { fake, req, first: Default::default() })
    };
    match result {
        Ok(response) => {
            let mut doc = serde_json::to_value(&response).expect("a response serializes");
            // apollo-compiler prefixes a resolver's message; GitLab sends the message as it is.
            for e in doc.get_mut("errors").and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(m) = e.get("message").and_then(Value::as_str).and_then(|m| m.strip_prefix("resolver error: ")) {
                    e["message"] = json!(m);
                }
            }
            doc
        }
        Err(e) => json!({"errors": [{"message": e.message().to_string()}]}),
    }
}
