//! GitLab CI configuration, resolved the way GitLab resolves it, with provenance.
//!
//! For each project: read the root CI file, merge its includes (`include`), resolve `!reference`
//! (`reference`), then `extends` (`extends`), then build jobs with defaults, variables and matrices
//! (`jobs`). Every value keeps the span of the file and bytes it came from (`source`, `yaml`), so a job
//! defined in a file included from another project still points there, while belonging to the including
//! project. Problems are values (`diag`): one broken file does not stop the rest.
//!
//! Files are read through [`Repositories`]: a snapshot directory, a checkout, anything. This crate knows
//! nothing of job tokens, allowlists or any manifest format.

pub mod budget;
pub mod diag;
pub mod extends;
pub mod glob;
pub mod include;
pub mod jobs;
pub mod memory;
pub mod merge;
pub mod paths;
pub mod pipelines;
pub mod reference;
pub mod rules;
pub mod source;
pub mod vars;
pub mod yaml;

use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span};
use crate::yaml::{DuplicateKey, Key, Map, Node, Value};
pub use include::{IncludeRecord, ParseCache, Unresolved};
pub use jobs::Job;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use vars::Vars;

/// Where the resolver reads repository files.
pub trait Repositories: Sync {
    /// Every file read so far, with its text and line index; spans point into it.
    fn sources(&self) -> &SourceMap;
    /// A file of a project's repository, at the revision the reader holds.
    fn file(&self, project: &str, path: &str) -> RepoFile;
    /// Every file path of a project's repository, when known (empty otherwise).
    fn list(&self, project: &str) -> Arc<Vec<String>>;
    /// Whether the reader knows `project` (it may hold no files of it).
    fn has_project(&self, project: &str) -> bool;
    /// A repository path as users see it in output.
    fn display_path(&self, project: &str, path: &str) -> String;
    /// The instance the projects live on.
    fn instance(&self) -> &Instance;
}

/// A repository file, as [`Repositories::file`] finds it.
#[derive(Clone, Debug)]
pub enum RepoFile {
    Found(FileId),
    /// The file does not exist; carries the path as shown to users.
    Missing(String),
    /// The file exists but cannot be used (too large, not text, outside the repository).
    Failed(Diagnostic),
}

/// The GitLab instance, as CI configuration sees it.
#[derive(Clone, Debug)]
pub struct Instance {
    pub url: String,
    /// Host (and port, when not the default) of `url`: what marks a same-instance URL.
    pub host: String,
    /// The container registry's host, when known.
    pub registry: Option<String>,
}

/// A project whose pipeline is resolved: what GitLab's predefined variables and the root file need.
#[derive(Clone, Debug)]
pub struct Project {
    pub path: String,
    pub id: Option<u64>,
    /// `public`, `internal` or `private`.
    pub visibility: &'static str,
    pub default_branch: String,
    /// `.gitlab-ci.yml`, or another path, possibly `path@group/project`.
    pub ci_config_path: String,
    /// Where the project is declared (errors about its configuration path point there).
    pub span: Span,
    /// The repository could not be read, why, and where that is recorded: the pipeline is unknown.
    pub unreadable: Option<(String, Span)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Resolved without errors.
    Ok,
    /// The project has no CI configuration file: nothing to audit, not a failure.
    NoCi,
    /// Errors while resolving; what could be resolved is still used.
    Failed,
}

/// One project's resolved pipeline configuration.
pub struct Pipeline {
    pub project: String,
    pub status: Status,
    /// The root CI file, as shown to users.
    pub config_file: Option<String>,
    pub jobs: Vec<Job>,
    pub includes: Vec<IncludeRecord>,
    pub unresolved: Vec<Unresolved>,
    pub diagnostics: Vec<Diagnostic>,
    pub duplicate_keys: Vec<DuplicateKey>,
    /// Global `variables:` (with predefined ones), for lints that look at them.
    pub global_vars: Vars,
    /// The work resolution spent, against its budget ([`budget`]).
    pub spent: budget::Spent,
    /// Jobs dropped by [`Pipeline::forget_after_detection`], still counted by [`Pipeline::job_count`].
    pub dropped_jobs: usize,
}

impl Pipeline {
    /// Once a project's accesses are detected: drop every job's script lines, and every job `keep` says
    /// nothing later reads (the rules and reports read a job's name, variables and trigger, never its
    /// scripts, and of most jobs nothing at all). On 100,000 projects the jobs kept whole were 1.6 GB.
    pub fn forget_after_detection(&mut self, keep: impl Fn(&Job) -> bool) {
        let before = self.jobs.len();
        self.jobs.retain(|j| keep(j));
        self.dropped_jobs += before - self.jobs.len();
        self.jobs.shrink_to_fit();
        for j in &mut self.jobs {
            j.before_script = Vec::new();
            j.script = Vec::new();
            j.after_script = Vec::new();
        }
    }

    /// How many jobs the pipeline has, those dropped after detection included.
    pub fn job_count(&self) -> usize {
        self.jobs.len() + self.dropped_jobs
    }

    /// Take what a loader recorded: the includes it read, those it could not, duplicate keys, diagnostics.
    fn absorb(&mut self, loader: include::Loader) {
        self.includes.extend(loader.includes);
        self.unresolved.extend(loader.unresolved);
        self.duplicate_keys.extend(loader.duplicates);
        self.diagnostics.extend(loader.diags);
    }
}

/// A name that `extends` or `!reference` points at and that is defined nowhere. When some include
/// could not be read, the definition is most likely there: a warning, not an error.
pub(crate) fn missing_definition(message: String, span: crate::source::Span, partial: bool) -> Diagnostic {
    if partial {
        Diagnostic::warning(message)
            .at(span)
            .help("it is probably defined in an include that could not be read (see the unresolved includes)")
    } else {
        Diagnostic::error(message).at(span)
    }
}

/// `ci_config_path` may name a file in another project: `path@group/project[:ref]`.
pub fn config_location(project: &Project) -> Result<(String, &str), String> {
    let p = project.ci_config_path.as_str();
    if p.starts_with("http://") || p.starts_with("https://") {
        return Err(format!("the CI configuration is a remote URL (`{p}`), which is not fetched"));
    }
    match p.split_once('@') {
        Some((file, other)) => {
            let other = other.split(':').next().unwrap_or(other);
            Ok((other.to_string(), file))
        }
        None => Ok((project.path.clone(), p)),
    }
}

/// Resolve one project's configuration. Without `keep_config`, each job keeps only what detection reads,
/// not its full resolved configuration ([`Job::node`](jobs::Job::node) is null except for trigger jobs).
pub fn resolve(snap: &dyn Repositories, cache: &ParseCache, project: &Project, keep_config: bool) -> Pipeline {
    // One set per project, under every job's variables (jobs add layers on it, not copies).
    let instance = snap.instance();
    let predefined = Arc::new(vars::predefined(cache.instance_vars(instance), instance, project));
    let mut pipeline = Pipeline {
        project: project.path.clone(),
        status: Status::Ok,
        config_file: None,
        jobs: Vec::new(),
        includes: Vec::new(),
        unresolved: Vec::new(),
        diagnostics: Vec::new(),
        duplicate_keys: Vec::new(),
        global_vars: Vars::over(predefined.clone()),
        spent: budget::Spent::default(),
        dropped_jobs: 0,
    };
    let (cfg_project, cfg_path) = match config_location(project) {
        Ok(loc) => loc,
        Err(e) => {
            pipeline.status = Status::Failed;
            pipeline.diagnostics.push(Diagnostic::error(e).at(project.span));
            return pipeline;
        }
    };
    if let Some((reason, span)) = &project.unreadable {
        // The repository could not be read: its pipeline is unknown, which is not "no CI".
        pipeline.status = Status::Failed;
        pipeline.diagnostics.push(
            Diagnostic::error(format!("the repository of `{}` could not be read: {reason}", project.path)).at(*span),
        );
        return pipeline;
    }
    if let RepoFile::Missing(display) = snap.file(&cfg_project, cfg_path) {
        pipeline.status = Status::NoCi;
        pipeline.config_file = Some(display);
        return pipeline;
    }
    pipeline.config_file = Some(snap.display_path(&cfg_project, cfg_path));
    budget::begin();
    let mut loader = include::Loader::new(snap, cache, &predefined, &project.path);
    let root = loader.load(&cfg_project, cfg_path, None, None);
    pipeline.absorb(loader);
    match root {
        Err(d) => pipeline.diagnostics.insert(0, d),
        Ok(top) => {
            let partial = !pipeline.unresolved.is_empty();
            let jobs = finish(top.finish(), partial, &predefined, &mut pipeline, true, keep_config);
            pipeline.jobs = jobs;
            child_pipelines(snap, cache, &predefined, &mut pipeline, keep_config);
        }
    }
    pipeline.spent = budget::end();
    if let Some(over) = &pipeline.spent.over {
        let s = &pipeline.spent;
        pipeline.diagnostics.push(
            Diagnostic::error(format!(
                "resolving this configuration copies more than tokenscope allows ({} units: {} per byte of the {} bytes of files it reads, plus {}); it stopped at this `{}`, and the project's jobs are incomplete",
                s.limit,
                budget::PER_INPUT_BYTE,
                s.input,
                budget::BASE,
                over.construct
            ))
            .at(over.span)
            .help("a configuration that expands this much is hostile or generated; see docs/robustness.md"),
        );
    }
    // GitLab keeps the last of duplicate keys, as tokenscope does; the first definition is silently lost.
    for d in &pipeline.duplicate_keys {
        pipeline.diagnostics.push(
            Diagnostic::warning(format!(
                "`{}` is defined twice in this mapping; the first definition is ignored, as GitLab does",
                d.key
            ))
            .at(d.second)
            .help(format!("first defined at line {}", d.first.line)),
        );
    }
    if pipeline.diagnostics.iter().any(|d| d.severity == Severity::Error) {
        pipeline.status = Status::Failed;
    }
    pipeline
}

/// `!reference`, `extends`, then jobs, for a merged configuration.
fn finish(
    mut top: Map,
    partial: bool,
    predefined: &Arc<Vars>,
    pipeline: &mut Pipeline,
    root: bool,
    keep_config: bool,
) -> Vec<Job> {
    reference::resolve(&mut top, partial, &mut pipeline.diagnostics);
    extends::resolve(&mut top, partial, &mut pipeline.diagnostics);
    let (jobs, global_vars) = jobs::build(top, predefined, keep_config, !root, &mut pipeline.diagnostics);
    if root {
        pipeline.global_vars = global_vars;
    }
    jobs
}

/// GitLab's limit on child-pipeline nesting (a child may start one more level).
pub const MAX_CHILD_DEPTH: usize = 2;

/// Child pipelines (`trigger: include:`) run in the same project with their own job tokens: their jobs
/// are resolved and added to the project's. The trigger job's variables are forwarded to the child, over
/// the child's own `variables:` (GitLab's `forward: yaml_variables`).
fn child_pipelines(
    snap: &dyn Repositories,
    cache: &ParseCache,
    predefined: &Arc<Vars>,
    pipeline: &mut Pipeline,
    keep_config: bool,
) {
    let mut queue: Vec<(Job, usize)> =
        pipeline.jobs.iter().filter(|j| j.trigger.as_ref().is_some_and(|t| t.child)).map(|j| (j.clone(), 1)).collect();
    while let Some((trigger_job, depth)) = queue.pop() {
        let Some(include) = trigger_job.node.get("trigger").and_then(|t| t.get("include")) else { continue };
        let mut content = Map::default();
        content.insert(Key { name: "include".into(), span: include.span }, include.clone());
        let mut forwarded = Map::default();
        for v in trigger_job.vars.defined() {
            let span = v.span.unwrap_or(trigger_job.span);
            forwarded.insert(Key { name: v.name.clone(), span }, Node::str(span, v.value.clone()));
        }
        if !forwarded.entries.is_empty() {
            content.insert(
                Key { name: "variables".into(), span: trigger_job.span },
                Node::new(trigger_job.span, Value::Map(forwarded)),
            );
        }
        let mut loader = include::Loader::new(snap, cache, predefined, &pipeline.project);
        let top = loader.expand(&pipeline.project, content);
        pipeline.absorb(loader);
        let partial = !pipeline.unresolved.is_empty();
        let parent = match &trigger_job.child_of {
            Some(p) => format!("{p} > {}", trigger_job.name),
            None => trigger_job.name.clone(),
        };
        let mut jobs = finish(top.finish(), partial, predefined, pipeline, false, keep_config);
        for j in jobs.iter_mut() {
            j.child_of = Some(parent.clone());
            // A child pipeline runs where its trigger job does.
            j.runs = j.runs.and(trigger_job.runs);
        }
        if depth < MAX_CHILD_DEPTH {
            queue.extend(
                jobs.iter().filter(|j| j.trigger.as_ref().is_some_and(|t| t.child)).map(|j| (j.clone(), depth + 1)),
            );
        }
        pipeline.jobs.extend(jobs);
    }
}

/// Projects resolved in one go by one thread, at most.
const PROJECTS_PER_TASK: usize = 8;

/// Resolve every project (in parallel), in the order given. Without `keep_config`, each
/// job's full resolved configuration is dropped once resolution is done (an audit does not need it, and on
/// a large org it is most of the memory): [`jobs::build`] drops it at once except for trigger jobs, whose
/// child pipelines are read from it during resolution; theirs goes here.
pub fn resolve_all(
    snap: &dyn Repositories,
    projects: &[Project],
    cache: &ParseCache,
    keep_config: bool,
) -> Vec<Pipeline> {
    resolve_all_with(snap, projects, cache, keep_config, |p| p)
}

/// [`resolve_all`], handing each pipeline to `then` in the task that resolved it, while what was just built
/// is still in the processor's caches: the audit detects a pipeline's accesses there, then lets go of its
/// scripts (see [`Pipeline::forget_after_detection`]) before the next project is read.
pub fn resolve_all_with<T: Send>(
    snap: &dyn Repositories,
    projects: &[Project],
    cache: &ParseCache,
    keep_config: bool,
    then: impl Fn(Pipeline) -> T + Sync,
) -> Vec<T> {
    projects
        .par_iter()
        // Small pieces: rayon splits the list a few times up front, then only when a thread steals work, and
        // never splits a piece under way; with large pieces one core sat idle for the last tenth of a run.
        .with_max_len(PROJECTS_PER_TASK)
        .map(|p| {
            let mut pipeline = resolve(snap, cache, p, keep_config);
            if !keep_config {
                for j in pipeline.jobs.iter_mut() {
                    j.node = Node::new(j.node.span, Value::Null);
                }
            }
            then(pipeline)
        })
        .collect()
}
