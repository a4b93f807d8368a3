//! Collecting a live snapshot: what to read is decided by the audit's own code, not by a second reading of
//! the YAML. The snapshot written so far is resolved and scanned, the files it asked for and did not have
//! (`Snapshot::misses`) are fetched, and this repeats until nothing new is asked for. Includes,
//! `ci_config_path` in another project, components, `.gitmodules` and package-manager files are all found
//! this way. `gitlab::fetch` makes the requests; this module decides them.

use crate::gitlab::client::Client;
use crate::gitlab::fetch::{self, Outcome, Scope};
use crate::snapshot::manifest::Data;
use crate::snapshot::write::{OrgData, Writer};
use crate::snapshot::{MAX_FILE_BYTES, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Rounds of "resolve, fetch what was missing" at most (GitLab's include depth is far above what real
/// configurations use; each round follows one more level).
const MAX_ROUNDS: usize = 30;

/// Fetch everything the audit of `scope` needs and write it as a snapshot at `out`.
pub(crate) async fn snapshot(
    client: &Client,
    url: &str,
    scope: &Scope,
    out: &Path,
    since: Option<&Path>,
) -> Result<Outcome, String> {
    let existed = out.exists();
    let writer = Writer::create(out)?;
    let mut result = fetch_into(client, url, scope, &writer, since).await;
    if let (Ok(_), Some(max)) = (&result, client.budget_spent()) {
        // A snapshot with holes where the budget ran out would read as data that failed: stop instead.
        result = Err(format!(
            "the request budget (--max-requests {max}) was spent before the snapshot was complete; nothing was kept"
        ));
    }
    if result.is_err() {
        // Nothing half-written is left behind: the directory was new, or empty before.
        if existed {
            for e in std::fs::read_dir(writer.root()).into_iter().flatten().flatten() {
                let _ =
                    if e.path().is_dir() { std::fs::remove_dir_all(e.path()) } else { std::fs::remove_file(e.path()) };
            }
        } else {
            let _ = std::fs::remove_dir_all(writer.root());
        }
    }
    result
}

async fn fetch_into(
    client: &Client,
    url: &str,
    scope: &Scope,
    writer: &Writer,
    since: Option<&Path>,
) -> Result<Outcome, String> {
    let (mut org, empty_repos, warnings, prefetched) = fetch::org(client, url, scope).await?;
    let mut outcome = Outcome { projects: org.projects.len(), warnings, ..Outcome::default() };
    writer.manifest(&org)?;
    for (project, path, bytes) in prefetched {
        if org.projects.contains_key(&project) {
            store(writer, &mut org, &mut outcome, &project, &path, &bytes);
        }
    }
    if let Some(old) = since {
        outcome.reused = reuse(old, writer, &org)?;
    }
    let graphql = scope.api != fetch::Api::Rest && !client.is_job_token();
    files(client, writer, &mut org, &empty_repos, None, graphql, &mut outcome).await?;
    writer.manifest(&org)?;
    outcome.requests = client.requests();
    for p in org.projects.values() {
        outcome.skipped += p.skipped.iter().filter(|s| !s.failed).count();
        outcome.failed += p.skipped.iter().filter(|s| s.failed).count();
    }
    Ok(outcome)
}

/// `snapshot --since OLD`: copy the repository files and listings of every project whose
/// `last_activity_at` is the one the old snapshot recorded. Returns the projects reused.
fn reuse(old: &Path, writer: &Writer, org: &OrgData) -> Result<usize, String> {
    let sources = Arc::new(crate::source::SourceMap::new());
    let snap = Snapshot::load(old, sources).map_err(|d| {
        format!(
            "--since {}: the snapshot does not load: {}",
            old.display(),
            d.first().map_or("", |d| d.message.as_str())
        )
    })?;
    let unchanged = |path: &str| {
        let (Some(then), Some(now)) = (snap.manifest.projects.get(path), org.projects.get(path)) else { return false };
        then.knows(Data::Repository) && then.last_activity_at.is_some() && then.last_activity_at == now.last_activity_at
    };
    let reused = org.projects.keys().filter(|p| unchanged(p)).count();
    copy_repositories(&snap, writer, unchanged)?;
    Ok(reused)
}

/// Copy the repository files and listings of the projects `keep` accepts from `snap` into `writer`. Only
/// regular files inside the snapshot are read (no link is followed), each at most the size any snapshot
/// file may have. Returns the files copied.
pub(crate) fn copy_repositories(
    snap: &Snapshot,
    writer: &Writer,
    keep: impl Fn(&str) -> bool,
) -> Result<usize, String> {
    let mut copied = 0;
    let root = snap.root.join(&snap.manifest.repos_root);
    // Every project directory under repos/: those of the manifest, and included projects outside it.
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else { continue };
            if meta.is_dir() {
                stack.push(e.path());
                continue;
            }
            if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
                continue;
            }
            let Ok(rel) = e.path().strip_prefix(&root).map(|r| r.to_string_lossy().replace('\\', "/")) else {
                continue;
            };
            // The project is the longest prefix of the path that is a project of the manifest. A file of an
            // included project outside the manifest is kept at the same path (where a project ends cannot
            // be told from the directories, and need not be: the file lands at `repos/<rel>` either way).
            let segments: Vec<&str> = rel.split('/').collect();
            let project = (1..segments.len())
                .rev()
                .map(|n| segments[..n].join("/"))
                .find(|p| snap.manifest.projects.contains_key(p))
                .or_else(|| (segments.len() > 2).then(|| segments[..2].join("/")));
            let Some(project) = project else { continue };
            if !keep(&project) {
                continue;
            }
            let file = &rel[project.len() + 1..];
            if let Ok(bytes) = std::fs::read(e.path()) {
                writer.repo_file(&project, file, &bytes)?;
                copied += 1;
            }
        }
    }
    for path in snap.manifest.projects.keys().filter(|p| keep(p)) {
        let tree = snap.root.join(crate::snapshot::TREES_DIR).join(format!("{path}.tree"));
        if std::fs::symlink_metadata(&tree).is_ok_and(|m| m.is_file())
            && let Ok(text) = std::fs::read_to_string(&tree)
        {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            writer.tree(path, &lines)?;
        }
    }
    Ok(copied)
}

/// Write a fetched repository file. A path the file system refuses (too long, a file where a directory
/// must be) records its project as failed; the rest goes on.
fn store(writer: &Writer, org: &mut OrgData, outcome: &mut Outcome, project: &str, path: &str, bytes: &[u8]) {
    match writer.repo_file(project, path, bytes) {
        Ok(()) => outcome.files += 1,
        Err(e) => unwritable(org, outcome, project, format!("cannot store `{path}`: {e}")),
    }
}

/// A repository whose files could not be written: its project's repository is recorded as failed.
fn unwritable(org: &mut OrgData, outcome: &mut Outcome, project: &str, message: String) {
    match org.projects.get_mut(project) {
        Some(p) => p.skip(Data::Repository, message, true),
        None => outcome.warnings.push(format!("`{project}` (outside the snapshot): {message}")),
    }
}

/// A project read from a checkout rather than the API (`lint`): only its pipeline is resolved.
#[derive(Clone, Copy)]
struct Checkout<'a> {
    project: &'a str,
    dir: &'a Path,
}

/// What one round found: the files and listings the audit asked for and lacked, and the projects its
/// accesses reach.
struct Round {
    missing: Vec<(String, String)>,
    to_list: Vec<String>,
    callees: Vec<String>,
}

/// Load the snapshot written so far, resolve it (or the checkout's project alone) and scan it.
fn run_round(root: &Path, checkout: Option<Checkout>) -> Result<Round, String> {
    let sources = Arc::new(crate::source::SourceMap::new());
    let mut snap = Snapshot::load(root, sources)
        .map_err(|d| format!("the snapshot written does not load: {}", d.first().map_or("", |d| d.message.as_str())))?;
    let cache = crate::ci::ParseCache::default();
    let pipelines = match checkout {
        None => crate::ci::resolve_all(&snap, &cache, false),
        Some(c) => {
            snap.set_repository(c.project, c.dir).map_err(|e| format!("cannot open {}: {e}", c.dir.display()))?;
            let p = snap.manifest.projects.get(c.project).expect("set_repository adds the project");
            vec![crate::ci::resolve(&snap, &cache, p, false)]
        }
    };
    let mut callees = BTreeSet::new();
    for p in &pipelines {
        for a in crate::detect::detect(&snap, p).accesses {
            if let crate::detect::Target::Project(t) = &a.target
                && *t != p.project
            {
                callees.insert(t.clone());
            }
        }
    }
    let (missing, to_list) = snap.misses();
    Ok(Round { missing, to_list, callees: callees.into_iter().collect() })
}

/// Fetch the repository files the audit reads, round by round, until it asks for nothing new.
async fn files(
    client: &Client,
    writer: &Writer,
    org: &mut OrgData,
    empty_repos: &HashSet<String>,
    checkout: Option<Checkout<'_>>,
    graphql: bool,
    outcome: &mut Outcome,
) -> Result<Vec<String>, String> {
    let mut attempted: HashSet<(String, String)> = HashSet::new();
    let mut listed: HashSet<String> = HashSet::new();
    let mut trees: HashMap<String, HashSet<String>> = HashMap::new();
    for _ in 0..MAX_ROUNDS {
        writer.manifest(org)?;
        let Round { missing, to_list, callees } = run_round(writer.root(), checkout)?;
        let unreadable = |p: &str| {
            empty_repos.contains(p)
                || org.projects.get(p).is_some_and(|d| d.skipped.iter().any(|s| s.data == Data::Repository))
        };
        let to_list: Vec<String> = to_list.into_iter().filter(|p| !unreadable(p) && listed.insert(p.clone())).collect();
        let missing: Vec<(String, String)> = missing
            .into_iter()
            .filter(|(p, _)| !unreadable(p))
            .filter(|k| attempted.insert(k.clone()))
            // A path the repository's listing does not have is missing: no request needed.
            .filter(|(p, f)| trees.get(p).is_none_or(|t| t.contains(f)))
            .collect();
        if to_list.is_empty() && missing.is_empty() {
            return Ok(callees); // the snapshot has everything the audit reads: this round saw it all
        }
        let listings = futures::future::join_all(to_list.iter().map(|p| fetch::tree(client, org, p))).await;
        for (p, listing) in to_list.iter().zip(listings) {
            match listing {
                Ok(paths) => match writer.tree(p, &paths) {
                    Ok(()) => {
                        trees.insert(p.clone(), paths.into_iter().collect());
                    }
                    // One project whose listing cannot be written (a path too long for the file system)
                    // is recorded as failed; the snapshot goes on.
                    Err(e) => unwritable(org, outcome, p, e),
                },
                Err(e) => fetch::problem(org, outcome, p, format!("cannot list the repository: {e}"), &e),
            }
        }
        // With GraphQL, several projects' files in one request; REST for what it could not say.
        let mut rest: Vec<(String, String)> = Vec::new();
        if graphql {
            let answers = crate::gitlab::graphql::blobs(client, &missing, MAX_FILE_BYTES as usize).await;
            for ((p, f), blob) in missing.iter().zip(answers) {
                match blob {
                    crate::gitlab::graphql::Blob::Found(bytes) => store(writer, org, outcome, p, f, &bytes),
                    crate::gitlab::graphql::Blob::Absent => {}
                    crate::gitlab::graphql::Blob::AskRest => rest.push((p.clone(), f.clone())),
                }
            }
        } else {
            rest = missing;
        }
        let org_now: &OrgData = org;
        let fetched = futures::future::join_all(
            rest.iter().map(|(p, f)| fetch::file(client, org_now, p, f, MAX_FILE_BYTES as usize)),
        )
        .await;
        for ((p, f), result) in rest.iter().zip(fetched) {
            match result {
                Ok(bytes) => store(writer, org, outcome, p, f, &bytes),
                Err(e) if e.is_not_found() => {} // a missing file is normal
                Err(e) => fetch::problem(org, outcome, p, format!("cannot read `{f}`: {e}"), &e),
            }
        }
    }
    outcome.warnings.push(format!("stopped following includes after {MAX_ROUNDS} rounds"));
    Ok(run_round(writer.root(), checkout)?.callees)
}

/// For `tokenscope lint`: a snapshot at `out` for `project`, whose files are read from `checkout`. Files
/// of other projects its configuration includes are fetched; then the job-token settings (and permissions)
/// of every project its jobs reach, which are all a lint needs of the allowlists. Returns the manifest's path.
pub(crate) async fn lint_context(
    client: &Client,
    url: &str,
    project: &str,
    checkout: &Path,
    out: &Path,
) -> Result<(std::path::PathBuf, Outcome), String> {
    let writer = Writer::create(out)?;
    let scope = Scope { groups: vec![], projects: vec![project.to_string()], ..Scope::default() };
    let mut org =
        OrgData { instance: fetch::instance(client, url, &scope).await, projects: BTreeMap::new(), auth_log: vec![] };
    let mut outcome = Outcome::default();
    let at = Checkout { project, dir: checkout };
    let callees = files(client, &writer, &mut org, &HashSet::new(), Some(at), false, &mut outcome).await?;
    // The callees' details (for ids and visibility) and settings.
    fetch::callees(client, &mut org, &callees).await;
    writer.manifest(&org)?;
    outcome.projects = org.projects.len();
    outcome.requests = client.requests();
    // Settings that could not be read are counted apart: "read N projects" must not count failures.
    for p in org.projects.values() {
        outcome.skipped += p.skipped.iter().filter(|s| !s.failed).count();
        outcome.failed += p.skipped.iter().filter(|s| s.failed).count();
    }
    outcome.read = org.projects.values().filter(|p| p.knows(Data::JobToken)).count();
    Ok((writer.root().join(crate::snapshot::MANIFEST_NAME), outcome))
}
