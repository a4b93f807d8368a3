//! GitLab CI resolution (the `gitlab-ci` crate) over a snapshot: the crate's modules, and `resolve`
//! functions that take the snapshot and its manifest's projects.

pub use gitlab_ci::{
    IncludeRecord, Job, MAX_CHILD_DEPTH, ParseCache, Pipeline, Status, Unresolved, config_location, extends, glob,
    include, jobs, merge, pipelines, reference, rules, vars,
};

use crate::snapshot::Snapshot;
use crate::snapshot::manifest::{Data, Project as ManifestProject};

/// `CI_JOB_TOKEN` as `vars` define it, when something other than GitLab does (a `variables:` entry): the
/// token a job then sends is not its job token.
pub(crate) fn job_token_redefined(vars: &vars::Vars) -> Option<&vars::Var> {
    vars.get("CI_JOB_TOKEN").filter(|v| v.origin != vars::VarOrigin::Predefined)
}

/// A manifest project as CI resolution sees it. A repository the snapshot does not hold is unreadable: the
/// project's pipeline is unknown (exit code 3), not empty.
pub fn project(snap: &Snapshot, p: &ManifestProject) -> gitlab_ci::Project {
    let skipped = p.skipped.iter().find(|s| s.data == Data::Repository).map(|s| (s.reason.clone(), s.span));
    let missing = || {
        (!snap.has_repository(&p.path)).then(|| {
            let dir = format!("{}/{}", snap.manifest.repos_root, p.path);
            (
                format!(
                    "its directory `{dir}` is not in the snapshot (a mistyped `repos_root`, or a repository not copied)"
                ),
                p.span,
            )
        })
    };
    gitlab_ci::Project {
        path: p.path.clone(),
        id: p.id,
        visibility: p.visibility.as_str(),
        default_branch: p.default_branch.clone(),
        ci_config_path: p.ci_config_path.clone(),
        span: p.span,
        unreadable: skipped.or_else(missing),
    }
}

/// Resolve one project of the snapshot.
pub fn resolve(snap: &Snapshot, cache: &ParseCache, p: &ManifestProject, keep_config: bool) -> Pipeline {
    gitlab_ci::resolve(snap, cache, &project(snap, p), keep_config)
}

/// Resolve every project of the snapshot, in manifest order (see [`gitlab_ci::resolve_all`]).
pub fn resolve_all(snap: &Snapshot, cache: &ParseCache, keep_config: bool) -> Vec<Pipeline> {
    resolve_all_with(snap, cache, keep_config, |p| p)
}

/// [`resolve_all`], handing each pipeline to `then` in the task that resolved it.
pub fn resolve_all_with<T: Send>(
    snap: &Snapshot,
    cache: &ParseCache,
    keep_config: bool,
    then: impl Fn(Pipeline) -> T + Sync,
) -> Vec<T> {
    let projects: Vec<gitlab_ci::Project> = snap.manifest.projects.values().map(|p| project(snap, p)).collect();
    gitlab_ci::resolve_all_with(snap, &projects, cache, keep_config, then)
}
