//! `tokenscope.yaml`: the instance, the projects and their job-token settings.
//!
//! The manifest is hand-written by users, so it is read strictly: an unknown key, a wrong type or a
//! duplicate project is an error at its own line, and every error is reported, not just the first.

use crate::diag::Diagnostic;
use crate::source::Span;
use crate::yaml::{Node, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Tier {
    Free,
    Premium,
    Ultimate,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Visibility {
    Private,
    Internal,
    Public,
}

impl Tier {
    /// Names as the manifest (and GitLab) spell them.
    pub(crate) const ALL: [(&'static str, Tier); 4] =
        [("free", Tier::Free), ("premium", Tier::Premium), ("ultimate", Tier::Ultimate), ("unknown", Tier::Unknown)];

    pub(crate) fn as_str(self) -> &'static str {
        Tier::ALL.iter().find(|(_, t)| *t == self).map_or("", |(n, _)| n)
    }
}

impl Visibility {
    /// Names as the manifest and GitLab's API spell them.
    pub(crate) const ALL: [(&'static str, Visibility); 3] =
        [("private", Visibility::Private), ("internal", Visibility::Internal), ("public", Visibility::Public)];

    pub(crate) fn as_str(self) -> &'static str {
        Visibility::ALL.iter().find(|(_, v)| *v == self).map_or("", |(n, _)| n)
    }

    /// A name GitLab's API gives; anything else is private, the most restrictive.
    pub(crate) fn from_api(name: Option<&str>) -> Visibility {
        Visibility::ALL.iter().find(|(n, _)| Some(*n) == name).map_or(Visibility::Private, |(_, v)| *v)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub(crate) url: String,
    /// Host (and port, when not the default) of `url`: what marks a same-instance URL.
    pub(crate) host: String,
    pub(crate) registry: Option<String>,
    pub(crate) tier: Tier,
    pub(crate) enforce_allowlist: bool,
    /// The GitLab version, when the snapshot recorded it.
    pub(crate) version: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EntryKind {
    Project,
    Group,
}

/// One entry of a project's inbound allowlist.
#[derive(Clone, Debug)]
pub(crate) struct AllowEntry {
    pub(crate) kind: EntryKind,
    pub(crate) path: String,
    /// Fine-grained job-token policies; `None` means default permissions.
    pub(crate) permissions: Option<Vec<Permission>>,
    pub(crate) span: Span,
    /// Who asked for the entry and why, and until when it is needed (allowlists as code).
    pub(crate) meta: EntryMeta,
}

impl AllowEntry {
    /// A group entry with default permissions, declared nowhere: what a plan considers adding.
    pub(crate) fn group(path: &str) -> AllowEntry {
        AllowEntry {
            kind: EntryKind::Group,
            path: path.to_string(),
            permissions: None,
            span: Span::default(),
            meta: EntryMeta::default(),
        }
    }
}

/// The optional bookkeeping of an allowlist entry kept as code: GitLab stores none of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntryMeta {
    pub(crate) owner: Option<String>,
    pub(crate) reason: Option<String>,
    /// A date (`YYYY-MM-DD`) after which the entry is no longer needed, with its span.
    pub(crate) expires: Option<(String, Span)>,
}

#[derive(Clone, Debug)]
pub(crate) struct JobTokenSettings {
    pub(crate) inbound_enabled: bool,
    pub(crate) allowlist: Vec<AllowEntry>,
    /// The removed outbound scope (`outbound_enabled`), when a snapshot still sets it.
    pub(crate) outbound_enabled: Option<(bool, Span)>,
}

impl Default for JobTokenSettings {
    /// A project that does not say: the allowlist is enforced and empty (GitLab's default for new projects).
    fn default() -> Self {
        JobTokenSettings { inbound_enabled: true, allowlist: Vec::new(), outbound_enabled: None }
    }
}

/// Data about a project that a snapshot may have been unable to read (a live snapshot records why).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Data {
    /// The job-token settings and allowlists: the project's edges as a callee are `unknown`.
    JobToken,
    /// The fine-grained permissions of the allowlist entries.
    Permissions,
    /// The job-token authentication log.
    AuthLog,
    /// The repository files (the CI configuration): the project cannot be resolved.
    Repository,
}

impl Data {
    pub(crate) const ALL: [(&'static str, Data); 4] = [
        ("job_token", Data::JobToken),
        ("permissions", Data::Permissions),
        ("auth_log", Data::AuthLog),
        ("repository", Data::Repository),
    ];

    pub(crate) fn as_str(self) -> &'static str {
        Data::ALL.iter().find(|(_, d)| *d == self).map_or("", |(n, _)| n)
    }
}

/// One piece of data a snapshot could not read, and why. `failed` marks an error (a server error, a
/// timeout) rather than an expected gap (a missing role, an older GitLab, a lower tier).
#[derive(Clone, Debug)]
pub(crate) struct Skipped {
    pub(crate) data: Data,
    pub(crate) reason: String,
    pub(crate) failed: bool,
    pub(crate) span: Span,
}

/// Defaults of a project that does not set them.
pub(crate) const DEFAULT_CI_CONFIG_PATH: &str = ".gitlab-ci.yml";
pub(crate) const DEFAULT_BRANCH: &str = "main";

#[derive(Clone, Debug)]
pub struct Project {
    pub(crate) path: String,
    pub(crate) id: Option<u64>,
    pub(crate) visibility: Visibility,
    pub(crate) archived: bool,
    pub(crate) ci_config_path: String,
    pub(crate) default_branch: String,
    pub(crate) job_token: JobTokenSettings,
    /// Span of the project's key in the manifest.
    pub(crate) span: Span,
    /// Span of `job_token:` (or of the project key when absent): where settings findings point.
    pub(crate) settings_span: Span,
    /// Data the snapshot could not read about this project.
    pub(crate) skipped: Vec<Skipped>,
    /// Production-critical (`critical: true`): never admitted by a group entry a plan adds, and last in
    /// a rollout.
    pub(crate) critical: bool,
    /// When GitLab last saw activity in the project (a live snapshot records it): `snapshot --since` reuses
    /// the repository files of a project whose activity has not moved.
    pub(crate) last_activity_at: Option<String>,
}

impl Project {
    /// A project with every default (enforced, empty allowlist), declared at `span`.
    pub(crate) fn new(path: &str, span: Span) -> Project {
        Project {
            path: path.to_string(),
            id: None,
            visibility: Visibility::Private,
            archived: false,
            ci_config_path: DEFAULT_CI_CONFIG_PATH.to_string(),
            default_branch: DEFAULT_BRANCH.to_string(),
            job_token: JobTokenSettings::default(),
            span,
            settings_span: span,
            skipped: Vec::new(),
            critical: false,
            last_activity_at: None,
        }
    }

    /// Record that `data` could not be read, and why (once per kind of data, the first reason kept).
    pub(crate) fn skip(&mut self, data: Data, reason: impl Into<String>, failed: bool) {
        if !self.skipped.iter().any(|s| s.data == data) {
            self.skipped.push(Skipped { data, reason: reason.into(), failed, span: self.span });
            self.skipped.sort_by_key(|s| s.data);
        }
    }

    /// Whether the snapshot holds this data about the project (it was not skipped).
    pub(crate) fn knows(&self, data: Data) -> bool {
        !self.skipped.iter().any(|s| s.data == data)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct AuthLogEntry {
    /// The project the job token was used against.
    pub(crate) accessed: String,
    /// The project whose job used it.
    pub(crate) origin: String,
    /// When GitLab last let it through, as GitLab wrote it.
    pub(crate) last_authorized_at: Option<String>,
    /// The record in the manifest (nothing for a record not read from one).
    pub(crate) span: Span,
}

#[derive(Clone, Debug)]
pub struct Manifest {
    pub(crate) instance: Instance,
    /// Project paths by their lower-case form (registry image paths are lower-case).
    pub(crate) lower: BTreeMap<String, String>,
    pub(crate) repos_root: String,
    pub(crate) projects: BTreeMap<String, Project>,
    pub(crate) auth_log: Vec<AuthLogEntry>,
    /// Every group: each path prefix of each project.
    pub(crate) groups: BTreeSet<String>,
    pub(crate) ids: BTreeMap<u64, String>,
}

impl Manifest {
    /// Add a project with every default (enforced, empty allowlist) when the manifest does not list it.
    pub(crate) fn ensure_project(&mut self, path: &str, span: Span) {
        if self.projects.contains_key(path) {
            return;
        }
        let project = Project::new(path, span);
        self.lower.insert(path.to_ascii_lowercase(), path.to_string());
        self.groups.extend(groups_of(path).map(str::to_string));
        self.projects.insert(path.to_string(), project);
    }

    /// Data the snapshot could not read, per project (live snapshots record it): (project, skipped), by path.
    pub(crate) fn skipped(&self) -> impl Iterator<Item = (&str, &Skipped)> {
        self.projects.iter().flat_map(|(path, p)| p.skipped.iter().map(move |s| (path.as_str(), s)))
    }

    /// Whether the snapshot failed to read some data (an error, not an expected gap): the run exits 3.
    pub(crate) fn fetch_failed(&self) -> bool {
        self.skipped().any(|(_, s)| s.failed)
    }
}

/// A fine-grained job-token policy GitLab defines (see docs/snapshot-format.md), named as GitLab and the
/// manifest spell it. Declared in the order of the names, so sets of permissions list them sorted.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub(crate) enum Permission {
    AdminContainers,
    AdminDeployments,
    AdminEnvironments,
    AdminJobs,
    AdminPackages,
    AdminPipelines,
    AdminReleases,
    AdminSecureFiles,
    AdminTerraformState,
    ReadContainers,
    ReadDeployments,
    ReadEnvironments,
    ReadJobs,
    ReadMergeRequests,
    ReadPackages,
    ReadPipelines,
    ReadReleases,
    ReadRepositories,
    ReadSecureFiles,
    ReadTerraformState,
    ReadWorkItems,
}

impl Permission {
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }

    /// Permissions as a list for messages: `read_jobs, read_packages`.
    pub(crate) fn list<'p>(permissions: impl IntoIterator<Item = &'p Permission>) -> String {
        permissions.into_iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The groups a project path lies in, outermost first: `a/b/c` is in `a` and `a/b`.
fn groups_of(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(|(i, _)| &path[..i])
}

pub(crate) use gitlab_ci::paths::valid_full_path;

/// Host of an `http(s)://host[:port]/...` URL, lower-cased.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    // Credentials end at the last `@` of the authority only: a path may hold `@` (an npm scope).
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.strip_suffix(":443").or_else(|| host.strip_suffix(":80")).unwrap_or(host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

struct Reader<'a> {
    errors: &'a mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(Diagnostic::error(msg).at(span));
    }

    /// The node as a map, checking that it has only `allowed` keys.
    fn map<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<&'n crate::yaml::Map> {
        let Some(m) = node.as_map() else {
            self.error(node.span, format!("{what} must be a map, found {}", node.kind()));
            return None;
        };
        for (k, _) in &m.entries {
            if !allowed.contains(&k.name.as_str()) {
                self.errors.push(
                    Diagnostic::error(format!("unknown key `{}` in {what}", k.name))
                        .at(k.span)
                        .help(format!("allowed keys: {}", allowed.join(", "))),
                );
            }
        }
        Some(m)
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s, _) => Some(s.clone()),
            _ => {
                self.error(node.span, format!("{what} must be a string, found {}", node.kind()));
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        let b = node.as_bool();
        if b.is_none() {
            self.error(node.span, format!("{what} must be true or false, found {}", describe(node)));
        }
        b
    }

    fn enum_value<T: Copy>(&mut self, node: &Node, what: &str, options: &[(&str, T)]) -> Option<T> {
        let s = self.string(node, what)?;
        match options.iter().find(|(n, _)| *n == s) {
            Some((_, v)) => Some(*v),
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.error(node.span, format!("{what} must be one of {}, found `{s}`", names.join(", ")));
                None
            }
        }
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s, _) => format!("`{s}`"),
        _ => node.kind().to_string(),
    }
}

/// Read the manifest document. Returns `None` when anything is wrong, with every problem in `errors`.
pub fn read(doc: &Node, errors: &mut Vec<Diagnostic>) -> Option<Manifest> {
    let before = errors.len();
    let mut r = Reader { errors };
    let top = r.map(doc, "the manifest", &["instance", "repos_root", "projects", "auth_log"])?;

    let instance = match top.get("instance") {
        None => {
            r.error(doc.span, "the manifest has no `instance:` (its `url` is required)");
            None
        }
        Some(n) => read_instance(&mut r, n),
    };

    let repos_root = match top.get("repos_root") {
        None => Some("repos".to_string()),
        Some(n) => r.string(n, "`repos_root`").and_then(|s| {
            let ok = !s.starts_with('/') && !s.contains('\\') && s.split('/').all(|seg| seg != ".." && !seg.is_empty());
            if ok {
                Some(s)
            } else {
                r.error(n.span, format!("`repos_root` must be a relative path inside the snapshot, found `{s}`"));
                None
            }
        }),
    };

    let mut projects = BTreeMap::new();
    match top.get("projects") {
        None => r.error(doc.span, "the manifest has no `projects:`"),
        Some(n) if n.is_null() || n.as_map().is_some() => {}
        Some(n) => r.error(n.span, format!("`projects` must be a map of project paths, found {}", n.kind())),
    }
    if let Some(m) = top.get("projects").and_then(Node::as_map) {
        for (key, node) in &m.entries {
            if !valid_full_path(&key.name) {
                r.error(
                    key.span,
                    format!(
                        "`{}` is not a valid project path (at most {} segments of letters, digits, `_`, `-`, `.`; no `..`)",
                        crate::text::clip(&key.name, 120),
                        gitlab_ci::paths::MAX_PROJECT_SEGMENTS
                    ),
                );
                continue;
            }
            if let Some(p) = read_project(&mut r, &key.name, key.span, node) {
                projects.insert(key.name.clone(), p);
            }
        }
    }

    let mut auth_log = Vec::new();
    if let Some(n) = top.get("auth_log").filter(|n| !n.is_null()) {
        match n.as_seq() {
            None => r.error(n.span, format!("`auth_log` must be a list, found {}", n.kind())),
            Some(items) => {
                for item in items {
                    let Some(m) = r.map(item, "an `auth_log` record", &["accessed", "origin", "last_authorized_at"])
                    else {
                        continue;
                    };
                    let accessed = m.get("accessed").and_then(|n| r.string(n, "`accessed`"));
                    let origin = m.get("origin").and_then(|n| r.string(n, "`origin`"));
                    let last_authorized_at =
                        m.get("last_authorized_at").and_then(|n| r.string(n, "`last_authorized_at`"));
                    match (accessed, origin) {
                        (Some(accessed), Some(origin)) => {
                            auth_log.push(AuthLogEntry { accessed, origin, last_authorized_at, span: item.span })
                        }
                        _ => r.error(item.span, "an `auth_log` record needs `accessed` and `origin`"),
                    }
                }
            }
        }
    }

    let mut ids = BTreeMap::new();
    for p in projects.values() {
        if let Some(id) = p.id
            && let Some(other) = ids.insert(id, p.path.clone())
        {
            r.error(p.span, format!("project id {id} is used by both `{other}` and `{}`", p.path));
        }
    }

    if r.errors.len() > before {
        return None;
    }
    let groups = projects.keys().flat_map(|p| groups_of(p)).map(str::to_string).collect();
    let lower = projects.keys().map(|k| (k.to_ascii_lowercase(), k.clone())).collect();
    Some(Manifest { instance: instance?, lower, repos_root: repos_root?, projects, auth_log, groups, ids })
}

fn read_instance(r: &mut Reader, n: &Node) -> Option<Instance> {
    let m = r.map(n, "`instance`", &["url", "registry", "tier", "enforce_allowlist", "version"])?;
    let url = match m.get("url") {
        None => {
            r.error(n.span, "`instance.url` is required");
            None
        }
        Some(u) => r.string(u, "`instance.url`").and_then(|s| {
            let host = url_host(&s);
            if host.is_none() {
                r.error(u.span, format!("`instance.url` must be an http(s) URL, found `{s}`"));
            }
            host.map(|h| (s.trim_end_matches('/').to_string(), h))
        }),
    };
    let registry = m.get("registry").filter(|n| !n.is_null()).and_then(|n| r.string(n, "`instance.registry`"));
    let tier = match m.get("tier").filter(|n| !n.is_null()) {
        None => Some(Tier::Unknown),
        Some(t) => r.enum_value(t, "`instance.tier`", &Tier::ALL),
    };
    let enforce = match m.get("enforce_allowlist") {
        None => Some(false),
        Some(b) => r.bool(b, "`instance.enforce_allowlist`"),
    };
    let version = m.get("version").filter(|n| !n.is_null()).and_then(|n| r.string(n, "`instance.version`"));
    let (url, host) = url?;
    Some(Instance {
        url,
        host,
        registry: registry.map(|r| r.trim_end_matches('/').to_ascii_lowercase()),
        tier: tier?,
        enforce_allowlist: enforce?,
        version,
    })
}

fn read_project(r: &mut Reader, path: &str, key_span: Span, n: &Node) -> Option<Project> {
    let empty = crate::yaml::Map::default();
    let m = if n.is_null() {
        &empty
    } else {
        r.map(
            n,
            &format!("project `{path}`"),
            &[
                "id",
                "visibility",
                "archived",
                "critical",
                "ci_config_path",
                "default_branch",
                "last_activity_at",
                "job_token",
                "skipped",
            ],
        )?
    };
    // Every field is read (and every problem reported) before the project is accepted or refused.
    let id = match m.get("id").filter(|n| !n.is_null()) {
        None => Some(None),
        Some(i) => match i.as_str().and_then(|s| s.parse::<u64>().ok()) {
            Some(v) => Some(Some(v)),
            None => {
                r.error(i.span, format!("`id` must be a positive whole number, found {}", describe(i)));
                None
            }
        },
    };
    let visibility = match m.get("visibility") {
        None => Some(Visibility::Private),
        Some(v) => r.enum_value(v, "`visibility`", &Visibility::ALL),
    };
    let archived = m.get("archived").map_or(Some(false), |b| r.bool(b, "`archived`"));
    let critical = m.get("critical").map_or(Some(false), |b| r.bool(b, "`critical`"));
    let last_activity_at = match m.get("last_activity_at").filter(|n| !n.is_null()) {
        None => Some(None),
        Some(n) => r.string(n, "`last_activity_at`").map(Some),
    };
    let ci_config_path = match m.get("ci_config_path").filter(|n| !n.is_null()) {
        None => Some(DEFAULT_CI_CONFIG_PATH.to_string()),
        Some(c) => {
            r.string(c, "`ci_config_path`").map(|s| if s.is_empty() { DEFAULT_CI_CONFIG_PATH.to_string() } else { s })
        }
    };
    let default_branch = match m.get("default_branch").filter(|n| !n.is_null()) {
        None => Some(DEFAULT_BRANCH.to_string()),
        Some(b) => r.string(b, "`default_branch`"),
    };
    let job_token = match m.get_entry("job_token") {
        None => Some((JobTokenSettings::default(), key_span)),
        Some((k, jt)) => read_job_token(r, path, jt).map(|j| (j, k.span)),
    };
    let skipped = match m.get("skipped").filter(|n| !n.is_null()) {
        None => Some(Vec::new()),
        Some(s) => read_skipped(r, path, s),
    };
    let (id, visibility, archived, critical, ci_config_path, default_branch, last_activity_at) =
        (id?, visibility?, archived?, critical?, ci_config_path?, default_branch?, last_activity_at?);
    let (job_token, settings_span) = job_token?;
    let skipped = skipped?;
    if let (Some((k, _)), Some(s)) = (m.get_entry("job_token"), skipped.iter().find(|s| s.data == Data::JobToken)) {
        r.errors.push(
            Diagnostic::error(format!("`{path}` has `job_token:` settings but also says they were skipped"))
                .at(k.span)
                .help(format!("skipped at line {}: keep one of the two", s.span.line)),
        );
        return None;
    }
    Some(Project {
        path: path.to_string(),
        id,
        visibility,
        archived,
        ci_config_path,
        default_branch,
        job_token,
        span: key_span,
        settings_span,
        skipped,
        critical,
        last_activity_at,
    })
}

/// `skipped:` — a list of `{data, reason, failed}`.
fn read_skipped(r: &mut Reader, path: &str, n: &Node) -> Option<Vec<Skipped>> {
    let Some(items) = n.as_seq() else {
        r.error(n.span, format!("`skipped` must be a list, found {}", n.kind()));
        return None;
    };
    let mut out: Vec<Skipped> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(m) = r.map(item, "a `skipped` record", &["data", "reason", "failed"]) else {
            ok = false;
            continue;
        };
        let data = match m.get("data") {
            Some(d) => r.enum_value(d, "`data`", &Data::ALL),
            None => {
                r.error(item.span, "a `skipped` record needs `data:` (job_token, permissions, auth_log or repository)");
                None
            }
        };
        let reason = m.get("reason").and_then(|n| r.string(n, "`reason`"));
        if m.get("reason").is_none() {
            r.error(item.span, "a `skipped` record needs `reason:`");
        }
        let failed = m.get("failed").map_or(Some(false), |b| r.bool(b, "`failed`"));
        match (data, reason, failed) {
            (Some(data), Some(reason), Some(failed)) => {
                if out.iter().any(|s| s.data == data) {
                    r.error(item.span, format!("`{}` is skipped twice for `{path}`", data.as_str()));
                    ok = false;
                }
                out.push(Skipped { data, reason, failed, span: item.span });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_job_token(r: &mut Reader, path: &str, n: &Node) -> Option<JobTokenSettings> {
    let m = r.map(n, &format!("`job_token` of `{path}`"), &["inbound_enabled", "allowlist", "outbound_enabled"])?;
    let mut ok = true;
    let inbound_enabled = match m.get("inbound_enabled") {
        None => true,
        Some(b) => r.bool(b, "`inbound_enabled`").unwrap_or_else(|| {
            ok = false;
            true
        }),
    };
    let outbound_enabled = match m.get("outbound_enabled") {
        None => None,
        Some(b) => match r.bool(b, "`outbound_enabled`") {
            Some(v) => Some((v, b.span)),
            None => {
                ok = false;
                None
            }
        },
    };
    let mut allowlist = Vec::new();
    if let Some(list) = m.get("allowlist").filter(|n| !n.is_null()) {
        let Some(items) = list.as_seq() else {
            r.error(list.span, format!("`allowlist` must be a list, found {}", list.kind()));
            return None;
        };
        let mut seen: std::collections::HashSet<(EntryKind, String)> = std::collections::HashSet::new();
        for item in items {
            match read_entry(r, item) {
                Some(e) => {
                    if !seen.insert((e.kind, e.path.clone())) {
                        r.error(e.span, format!("`{}` is listed twice in the allowlist of `{path}`", e.path));
                        ok = false;
                    }
                    allowlist.push(e);
                }
                None => ok = false,
            }
        }
    }
    ok.then_some(JobTokenSettings { inbound_enabled, allowlist, outbound_enabled })
}

fn read_entry(r: &mut Reader, item: &Node) -> Option<AllowEntry> {
    let m = r.map(item, "an allowlist entry", &["project", "group", "permissions", "owner", "reason", "expires"])?;
    let (kind, target) = match (m.get("project"), m.get("group")) {
        (Some(p), None) => (EntryKind::Project, p),
        (None, Some(g)) => (EntryKind::Group, g),
        _ => {
            r.error(item.span, "an allowlist entry needs exactly one of `project:` or `group:`");
            return None;
        }
    };
    let path = r.string(target, "an allowlist entry's path")?;
    if !valid_full_path(&path) {
        r.error(target.span, format!("`{}` is not a valid project or group path", crate::text::clip(&path, 120)));
        return None;
    }
    let permissions = match m.get("permissions").filter(|n| !n.is_null()) {
        None => None,
        Some(p) => {
            let Some(items) = p.as_seq() else {
                r.error(p.span, format!("`permissions` must be a list, found {}", p.kind()));
                return None;
            };
            let mut perms = Vec::new();
            for it in items {
                let s = r.string(it, "a permission")?;
                let Ok(permission) = s.parse::<Permission>() else {
                    r.error(it.span, format!("unknown job-token permission `{s}`"));
                    return None;
                };
                perms.push(permission);
            }
            Some(perms)
        }
    };
    let mut meta = EntryMeta::default();
    for (key, slot) in [("owner", &mut meta.owner), ("reason", &mut meta.reason)] {
        if let Some(n) = m.get(key).filter(|n| !n.is_null()) {
            *slot = Some(r.string(n, &format!("`{key}`"))?);
        }
    }
    if let Some(n) = m.get("expires").filter(|n| !n.is_null()) {
        let s = r.string(n, "`expires`")?;
        if crate::date::days(&s).is_none() {
            r.error(
                n.span,
                format!("`expires` must be a date written YYYY-MM-DD, found `{}`", crate::text::clip(&s, 40)),
            );
            return None;
        }
        meta.expires = Some((s, n.span));
    }
    Some(AllowEntry { kind, path, permissions, span: target.span, meta })
}
