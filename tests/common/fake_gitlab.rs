//! A fake GitLab on loopback (wiremock with one routing responder) serving the documented API shapes for
//! an org, with faults to inject: rate limits, server errors, slow answers, truncated bodies, denied
//! endpoints. Used by tests/live.rs and by the live-fetch benchmark.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
/// Percent-decoding as a server does it, independently of the code under test.
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

/// GraphQL against GitLab's schema, executed by apollo-compiler (in its own file for length).
mod graphql {
    include!("fake_graphql.rs");
}

pub const TOKEN: &str = "glpat-FAKEfake0123456789xyz";

#[derive(Clone, Debug, Default)]
pub struct FakeProject {
    pub id: u64,
    pub path: String,
    pub visibility: &'static str,
    pub archived: bool,
    pub ci_config_path: Option<String>,
    pub files: BTreeMap<String, String>,
    pub inbound_enabled: bool,
    pub allow_projects: Vec<String>,
    pub allow_groups: Vec<String>,
    /// Fine-grained policies per allowlist target (absent: default permissions).
    pub policies: HashMap<String, Vec<String>>,
    pub auth_log: Vec<String>,
    /// 403 on the job-token endpoints (the token lacks Maintainer here).
    pub deny_settings: bool,
    /// GraphQL refuses this project's authentication log.
    pub deny_auth_log: bool,
    /// Every repository file request answers 500.
    pub broken_repository: bool,
    /// Job logs by job id (`GET /projects/:id/jobs/:job_id/trace`).
    pub traces: BTreeMap<u64, String>,
    /// `last_activity_at` / `lastActivityAt` (default: a fixed date).
    pub last_activity: Option<String>,
}

impl FakeProject {
    pub fn last_activity(&self) -> String {
        self.last_activity.clone().unwrap_or_else(|| "2026-11-01T00:00:00Z".to_string())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Rows per page the server returns (whatever `per_page` asks).
    pub page_size: usize,
    /// Leave out `x-total-pages` (as GitLab does past 10,000 rows): clients must follow `Link`.
    pub no_totals: bool,
    /// Paths (without query) answered 429 with `Retry-After: 1` the first time.
    pub rate_limit_once: HashSet<String>,
    /// Paths answered 500 the first time.
    pub error_once: HashSet<String>,
    /// Paths answered after 3 s the first time (a client with a 1 s timeout retries).
    pub slow_once: HashSet<String>,
    /// Paths whose JSON is cut short the first time.
    pub truncated_once: HashSet<String>,
    /// Paths whose JSON is always cut short.
    pub truncated_always: HashSet<String>,
    /// Added to every answer.
    pub latency: Duration,
    /// The token the server accepts (default [`TOKEN`]).
    pub token: Option<&'static str>,
    /// Error messages (REST and GraphQL) repeat the token the request carried, as a careless server might.
    pub echo_token: bool,
    /// Every page of a listing links to one more page, forever (and gives no total).
    pub endless_pages: bool,
    /// The Nth mutation (1-based) and every later one fail with an error in the payload: an outage
    /// in the middle of an apply.
    pub fail_mutations_from: Option<usize>,
    /// GraphQL refuses a page of more projects than this with GitLab's complexity error.
    pub max_page: Option<usize>,
    /// A rate limit of (requests, per window): answers carry `RateLimit-Remaining`/`RateLimit-Reset`, and
    /// a request over the limit gets 429 with `Retry-After`.
    pub rate_limit: Option<(usize, Duration)>,
}

pub struct Fake {
    pub url: String,
    /// The org, changed by the mutations `apply` sends.
    pub projects: Mutex<Vec<FakeProject>>,
    pub faults: Faults,
    /// (method, path with query, when, whether the right token came).
    pub log: Mutex<Vec<(String, String, Instant, bool)>>,
    seen: Mutex<HashMap<String, usize>>,
    /// Mutations received so far.
    pub mutations: std::sync::atomic::AtomicUsize,
    /// The injected mutation failures are over.
    pub healed: std::sync::atomic::AtomicBool,
    /// The rate limit's window: when it started, requests in it, and how many were refused (429).
    pub window: Mutex<(Instant, usize, usize)>,
}

impl Fake {
    /// An error message, with the request's token in it when the fault asks for that.
    fn echo(&self, req: &Request, message: &str) -> String {
        match req.headers.get("private-token").and_then(|v| v.to_str().ok()) {
            Some(token) if self.faults.echo_token => format!("{message} (token {token} refused)"),
            _ => message.to_string(),
        }
    }

    /// End the injected mutation failures (`Faults::fail_mutations_from`).
    pub fn heal(&self) {
        self.healed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The org's projects as they are now.
    pub fn state(&self) -> Vec<FakeProject> {
        self.projects.lock().unwrap().clone()
    }

    fn project_json(&self, p: &FakeProject) -> Value {
        let (ns, name) = p.path.rsplit_once('/').unwrap_or(("", &p.path));
        let host = self.url.trim_start_matches("http://");
        json!({
            "id": p.id, "description": null, "name": name, "name_with_namespace": p.path.replace('/', " / "),
            "path": name, "path_with_namespace": p.path, "created_at": "2024-01-01T00:00:00Z",
            "default_branch": "main", "tag_list": [], "topics": [],
            "ssh_url_to_repo": format!("git@{host}:{}.git", p.path),
            "http_url_to_repo": format!("{}/{}.git", self.url, p.path),
            "web_url": format!("{}/{}", self.url, p.path), "visibility": p.visibility, "archived": p.archived,
            "last_activity_at": p.last_activity(),
            "ci_config_path": p.ci_config_path.clone().unwrap_or_default(), "empty_repo": p.files.is_empty(),
            "container_registry_image_prefix": format!("registry.{host}/{}", p.path).replace(':', "-"),
            "namespace": {"id": 1, "name": ns, "path": ns.rsplit('/').next(), "kind": "group", "full_path": ns,
                          "parent_id": null, "avatar_url": null, "web_url": format!("{}/groups/{ns}", self.url)},
        })
    }

    /// One page of `rows`, with GitLab's pagination headers.
    fn paged(&self, req: &Request, rows: Vec<Value>) -> ResponseTemplate {
        let size = if self.faults.page_size == 0 { 100 } else { self.faults.page_size };
        let page: usize =
            req.url.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok()).unwrap_or(1);
        let total = if self.faults.endless_pages { page + 1 } else { rows.len().div_ceil(size).max(1) };
        let body: Vec<Value> = if self.faults.endless_pages {
            rows.into_iter().cycle().take(size).collect()
        } else {
            rows.into_iter().skip((page - 1) * size).take(size).collect()
        };
        let mut t = ResponseTemplate::new(200).set_body_json(body);
        if page < total {
            // Built on the server's own address (wiremock's request URL names `localhost`).
            let mut query: Vec<String> =
                req.url.query_pairs().filter(|(k, _)| k != "page").map(|(k, v)| format!("{k}={v}")).collect();
            query.push(format!("page={}", page + 1));
            let next = format!("{}{}?{}", self.url, req.url.path(), query.join("&"));
            t = t
                .insert_header("link", format!("<{next}>; rel=\"next\"").as_str())
                .insert_header("x-next-page", (page + 1).to_string().as_str());
        }
        if !self.faults.no_totals && !self.faults.endless_pages {
            t = t
                .insert_header("x-total-pages", total.to_string().as_str())
                .insert_header("x-total", (total * size).to_string().as_str());
        }
        t.insert_header("x-page", page.to_string().as_str())
    }

    fn route(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        if req.method.as_str() == "POST" && path == "/api/graphql" {
            return self.graphql(req);
        }
        let projects = self.projects.lock().unwrap();
        let project = |key: &str| {
            let key = decode(key);
            projects.iter().find(|p| p.path == key || p.id.to_string() == key)
        };
        let by_path = |path: &str| projects.iter().find(|p| p.path == path);
        let not_found = || ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"}));
        let Some(rest) = path.strip_prefix("/api/v4/") else { return not_found() };
        let seg: Vec<&str> = rest.split('/').collect();
        match seg.as_slice() {
            ["metadata"] => ResponseTemplate::new(200)
                .set_body_json(json!({"version": "17.9.1-ee", "revision": "abc", "enterprise": true})),
            ["namespaces", _] => ResponseTemplate::new(200).set_body_json(json!({"id": 1, "plan": "premium"})),
            ["groups", g, "projects"] => {
                let g = decode(g);
                let rows = projects
                    .iter()
                    .filter(|p| p.path.starts_with(&format!("{g}/")))
                    .map(|p| self.project_json(p))
                    .collect();
                self.paged(req, rows)
            }
            ["projects", key] => match project(key) {
                Some(p) => ResponseTemplate::new(200).set_body_json(self.project_json(p)),
                None => not_found(),
            },
            ["projects", key, "job_token_scope", tail @ ..] => {
                let Some(p) = project(key) else { return not_found() };
                if p.deny_settings {
                    return ResponseTemplate::new(403)
                        .set_body_json(json!({"message": self.echo(req, "403 Forbidden")}));
                }
                match tail {
                    [] => ResponseTemplate::new(200)
                        .set_body_json(json!({"inbound_enabled": p.inbound_enabled, "outbound_enabled": false})),
                    ["allowlist"] => {
                        // GitLab lists the project itself first.
                        let rows = std::iter::once(p.path.as_str())
                            .chain(p.allow_projects.iter().map(String::as_str))
                            .filter_map(by_path)
                            .map(|a| self.project_json(a))
                            .collect();
                        self.paged(req, rows)
                    }
                    ["groups_allowlist"] => {
                        let rows = p
                            .allow_groups
                            .iter()
                            .enumerate()
                            .map(|(i, g)| {
                                json!({"id": 100 + i, "web_url": format!("{}/groups/{g}", self.url),
                                       "name": g.rsplit('/').next()})
                            })
                            .collect();
                        self.paged(req, rows)
                    }
                    _ => not_found(),
                }
            }
            ["projects", key, "repository", "files", file, "raw"] => {
                let Some(p) = project(key) else { return not_found() };
                if p.broken_repository {
                    return ResponseTemplate::new(500)
                        .set_body_json(json!({"message": self.echo(req, "500 Internal Server Error")}));
                }
                match p.files.get(&decode(file)) {
                    Some(text) => ResponseTemplate::new(200).set_body_string(text.clone()),
                    None => ResponseTemplate::new(404).set_body_json(json!({"message": "404 File Not Found"})),
                }
            }
            ["projects", key, "jobs", id, "trace"] => {
                let Some(p) = project(key) else { return not_found() };
                match id.parse::<u64>().ok().and_then(|id| p.traces.get(&id)) {
                    Some(t) => ResponseTemplate::new(200).set_body_string(t.clone()),
                    None => ResponseTemplate::new(404).set_body_json(json!({"message": "404 Job Not Found"})),
                }
            }
            ["projects", key, "repository", "tree"] => {
                let Some(p) = project(key) else { return not_found() };
                let rows = p
                    .files
                    .keys()
                    .map(|f| json!({"id": "0", "name": f.rsplit('/').next(), "type": "blob", "path": f, "mode": "100644"}))
                    .collect();
                self.paged(req, rows)
            }
            _ => not_found(),
        }
    }

    /// GraphQL: every document is parsed and validated against GitLab's schema (tests/graphql) and executed
    /// by apollo-compiler against the org; mutations change it.
    fn graphql(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let query = body.get("query").and_then(Value::as_str).unwrap_or("");
        let variables = body.get("variables").cloned().unwrap_or(json!({}));
        let answer = graphql::execute(self, req, query, body.get("operationName").and_then(Value::as_str), &variables);
        ResponseTemplate::new(200).set_body_json(answer)
    }

    /// An error message for GraphQL, with the token when the fault asks for that.
    pub fn graphql_echo(&self, req: &Request, message: &str) -> String {
        self.echo(req, message)
    }
}

impl Respond for Fake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        let token_ok =
            req.headers.get("private-token").and_then(|v| v.to_str().ok()) == Some(self.faults.token.unwrap_or(TOKEN));
        self.log.lock().unwrap().push((req.method.to_string(), req.url.to_string(), Instant::now(), token_ok));
        let n = {
            let mut seen = self.seen.lock().unwrap();
            let n = seen.entry(path.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let f = &self.faults;
        if !token_ok {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"}));
        }
        let first = n == 1;
        // The rate limit, GitLab's way: headers on every answer, 429 past the limit.
        let mut limited: Option<(usize, u64, bool)> = None;
        if let Some((limit, window)) = f.rate_limit {
            let mut w = self.window.lock().unwrap();
            if w.0.elapsed() >= window {
                *w = (Instant::now(), 0, w.2);
            }
            w.1 += 1;
            let reset = std::time::SystemTime::now() + window.saturating_sub(w.0.elapsed());
            let reset = reset.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
            let over = w.1 > limit;
            if over {
                w.2 += 1;
            }
            limited = Some((limit.saturating_sub(w.1), reset, over));
        }
        let t = if let Some((_, _, true)) = limited {
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "Retry later"}))
        } else if first && f.rate_limit_once.contains(&path) {
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "Retry later"}))
        } else if first && f.error_once.contains(&path) {
            ResponseTemplate::new(500).set_body_json(json!({"message": "500 Internal Server Error"}))
        } else if (first && f.truncated_once.contains(&path)) || f.truncated_always.contains(&path) {
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string("{\"inbound_enabled\": tr")
        } else if first && f.slow_once.contains(&path) {
            self.route(req).set_delay(Duration::from_secs(3))
        } else {
            self.route(req)
        };
        let t = match limited {
            Some((remaining, reset, _)) => t
                .insert_header("ratelimit-remaining", remaining.to_string().as_str())
                .insert_header("ratelimit-reset", reset.to_string().as_str()),
            None => t,
        };
        if f.latency > Duration::ZERO { t.set_delay(f.latency) } else { t }
    }
}

/// A shared handle: wiremock takes the responder by value, the test keeps reading its log.
pub struct Shared(pub std::sync::Arc<Fake>);

impl Respond for Shared {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}

/// Whether a GraphQL document is valid against GitLab's schema subset (the errors if not).
pub fn graphql_valid(document: &str) -> Result<(), String> {
    graphql::validate(document).map(|_| ())
}

/// Start a fake GitLab serving the projects `make` returns for its host (`127.0.0.1:port`).
pub async fn start(make: impl FnOnce(&str) -> Vec<FakeProject>, faults: Faults) -> (MockServer, std::sync::Arc<Fake>) {
    let server = MockServer::start().await;
    let host = server.uri().trim_start_matches("http://").to_string();
    let projects = make(&host);
    let fake = std::sync::Arc::new(Fake {
        url: server.uri(),
        projects: Mutex::new(projects),
        faults,
        log: Mutex::new(Vec::new()),
        seen: Mutex::new(HashMap::new()),
        mutations: Default::default(),
        healed: Default::default(),
        window: Mutex::new((Instant::now(), 0, 0)),
    });
    Mock::given(any()).respond_with(Shared(fake.clone())).mount(&server).await;
    (server, fake)
}

fn ci(lines: &[String]) -> String {
    lines.join("\n") + "\n"
}

/// An org of `n` projects under `acme` (n >= 6): templates, charts and a library that others reach, services
/// that include the templates and clone, download and pull from each other, and the awkward cases.
pub fn org(n: usize, host: &str) -> Vec<FakeProject> {
    let mut out = Vec::new();
    let project = |id: u64, path: &str| FakeProject {
        id,
        path: path.to_string(),
        visibility: "private",
        inbound_enabled: true,
        ..FakeProject::default()
    };
    let mut templates = project(1, "acme/platform/templates");
    templates.files.insert(
        "templates/deploy.yml".into(),
        ci(&[
            ".deploy:".into(),
            "  script:".into(),
            format!("    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{host}/acme/platform/charts.git"),
        ]),
    );
    out.push(templates);
    let mut charts = project(2, "acme/platform/charts");
    charts.allow_groups = vec!["acme/apps".into()];
    charts.files.insert(".gitlab-ci.yml".into(), ci(&["lint:".into(), "  script: [helm lint .]".into()]));
    out.push(charts);
    let mut lib = project(3, "acme/platform/lib");
    lib.allow_projects = vec!["acme/apps/svc-01".into(), "acme/apps/svc-02".into()];
    lib.policies.insert("acme/apps/svc-02".into(), vec!["read_packages".into()]);
    lib.auth_log = vec!["acme/apps/svc-02".into()];
    lib.files.insert(".gitlab-ci.yml".into(), ci(&["build:".into(), "  script: [make]".into()]));
    out.push(lib);
    // The token may not read this project's settings.
    let mut vault = project(4, "acme/legacy/vault");
    vault.deny_settings = true;
    vault.files.insert(".gitlab-ci.yml".into(), ci(&["build:".into(), "  script: [make]".into()]));
    out.push(vault);
    // No CI file at all.
    let mut docs = project(5, "acme/legacy/docs");
    docs.files.insert("README.md".into(), "docs\n".into());
    docs.deny_auth_log = true;
    docs.allow_projects = vec!["acme/platform/lib".into()];
    out.push(docs);
    // The repository cannot be read (500 on every try).
    let mut broken = project(6, "acme/legacy/broken");
    broken.broken_repository = true;
    broken.files.insert(".gitlab-ci.yml".into(), "x".into());
    out.push(broken);
    for i in 1..=n.saturating_sub(6) {
        let path = format!("acme/apps/svc-{i:02}");
        let mut p = project(100 + i as u64, &path);
        let mut lines = vec!["include:".to_string(), "  - local: ci/test.yml".to_string()];
        if i % 3 == 0 {
            lines.push("  - project: acme/platform/templates".into());
            lines.push("    file: templates/deploy.yml".into());
            lines.push("deploy:".into());
            lines.push("  extends: .deploy".into());
        }
        lines.push("build:".into());
        lines.push("  script:".into());
        if i == 1 {
            lines.push(format!(
                "    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{host}/acme/legacy/vault.git"
            ));
        }
        if i <= 2 {
            lines.push(format!(
                "    - 'curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \"{}/api/v4/projects/3/packages/generic/lib/1.0/lib.tgz\" -o lib.tgz'",
                format_args!("https://{host}")
            ));
        }
        if i == 2 {
            // A repository script: live mode fetches it because the audit asks for it.
            lines.push("    - ./ci/sync.sh acme/platform/lib".into());
            p.files.insert(
                "ci/sync.sh".into(),
                format!("#!/bin/sh\ngit clone \"https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{host}/$1.git\"\n"),
            );
        }
        if i % 4 == 0 {
            lines.push(format!(
                "    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{host}/acme/platform/lib.git"
            ));
        }
        lines.push("    - make".into());
        if i % 5 == 0 {
            p.ci_config_path = Some("ci/pipeline.yml".into());
            p.files.insert("ci/pipeline.yml".into(), ci(&lines));
        } else {
            p.files.insert(".gitlab-ci.yml".into(), ci(&lines));
        }
        p.files.insert("ci/test.yml".into(), ci(&["test:".into(), "  script:".into(), "    - make test".into()]));
        p.files.insert("src/main.c".into(), "int main(){}\n".into());
        if i % 7 == 0 {
            p.inbound_enabled = false;
        }
        out.push(p);
    }
    out
}
