//! `tokenscope lint [DIR]`: one project, in its own merge-request pipeline.
//!
//! The project's checkout is read in place (its files confined to it); allowlists come from a manifest kept
//! elsewhere, from the instance's API with a token, or are unknown, and then each access becomes a note
//! naming the allowlist that must contain the project. With a base revision, only what the change
//! introduces is reported: findings are compared by their fingerprints, which do not depend on line numbers.
//! The rules' findings and the notes go through the policy together, like an audit's.

use crate::ci::{self, ParseCache, Pipeline};
use crate::cli::args::LintArgs;
use crate::cli::error::Error;
use crate::cli::live::{self, env_value};
use crate::cli::output;
use crate::cli::terminal::Terminal;
use crate::diag::{Diagnostic, Severity};
use crate::engine::graph::Relation;
use crate::engine::{Audit, Edge, EdgeStatus};
use crate::finding::{Finding, Subject};
use crate::policy::{Exit, Policy};
use crate::report::Report;
use crate::rules::missing_allowlist_entry as missing;
use crate::snapshot::Snapshot;
use crate::source::{SourceFile, SourceMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) fn run(args: LintArgs, term: &Terminal) -> Result<Exit, Error> {
    let Some(project) = args.project.clone().or_else(|| env_value("CI_PROJECT_PATH")) else {
        return Err(Error::usage("which project is this? pass --project PATH (in GitLab CI, CI_PROJECT_PATH is used)"));
    };
    let url = args.url.clone().or_else(|| env_value("CI_SERVER_URL"));
    let base = args.base.clone().or_else(|| env_value("CI_MERGE_REQUEST_DIFF_BASE_SHA"));
    // Allowlists: --manifest, else the API when there is a token, else none (each access is then a note).
    let fetched = match (&args.manifest, &url, args.offline) {
        (None, Some(url), false) => from_api(term, &args, url, &project)?,
        _ => None,
    };
    // The temporary snapshot lives as long as `fetched`.
    let manifest = args.manifest.clone().or_else(|| fetched.as_ref().map(|(_, m)| m.clone()));
    let ci_config = args.ci_config.clone().or_else(|| env_value("CI_CONFIG_PATH"));
    let run = Run {
        term,
        project: &project,
        manifest: manifest.as_deref(),
        url: url.as_deref(),
        ci_config: ci_config.as_deref(),
    };
    let (snap, pipelines) = run.load(&args.dir)?;
    term.diagnostics(&pipelines[0].diagnostics, &snap.sources);
    if pipelines[0].status == crate::ci::Status::NoCi {
        let file = &snap.manifest.projects[&project].ci_config_path;
        term.say(&format!(
            "warning: `{}` has no CI configuration at `{}`: nothing to lint (pass --ci-config, or set CI_CONFIG_PATH)",
            crate::text::clean(&project),
            crate::text::clean(file)
        ));
    }
    let policy = output::load_policy(term, args.out.config.as_deref(), args.out.no_config, &snap)?;
    let audit = Audit::detect_and_build(&snap, &pipelines);
    let mut findings = run.findings(&audit, &policy);
    if let Some(rev) = &base {
        // A shallow clone (GitLab's default) may lack the base: fetch it, and if that cannot be done, lint
        // the whole configuration rather than fail the pipeline.
        let exported = export_revision(&args.dir, rev).or_else(|first| {
            fetch_revision(&args.dir, rev).and_then(|()| export_revision(&args.dir, rev)).map_err(|_| first)
        });
        match exported {
            Ok(dir) => {
                let (base_snap, base_pipelines) = run.load(dir.path())?;
                let base_audit = Audit::detect_and_build(&base_snap, &base_pipelines);
                findings = introduced(findings, &run.findings(&base_audit, &policy));
            }
            Err(e) => term.say(&format!(
                "warning: cannot read the base revision ({}); every finding of the configuration is reported, not only what the change introduces",
                crate::text::clean(&e)
            )),
        }
    }
    let applied = output::apply(&policy, findings, &snap, &args.out, base.is_none())?;
    let exit = policy.exit(&applied, args.out.fail_on, audit.incomplete());
    // Evidence links point at the commit linted, which is the one the merge request shows.
    let commit =
        std::env::var("CI_COMMIT_SHA").ok().filter(|c| c.len() >= 7 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    output::deliver(term, &Report::new(&audit, applied).with_context(args.out.context(true, commit)), &args.out)?;
    Ok(exit)
}

/// One lint of a checkout: the project's snapshot and pipeline, and its findings.
struct Run<'r> {
    term: &'r Terminal,
    project: &'r str,
    manifest: Option<&'r Path>,
    url: Option<&'r str>,
    /// The CI file's path, when not the manifest's (or the default).
    ci_config: Option<&'r str>,
}

impl Run<'_> {
    /// The snapshot of the checkout at `dir` and the project's resolved pipeline.
    fn load(&self, dir: &Path) -> Result<(Snapshot, Vec<Pipeline>), Error> {
        let sources = Arc::new(SourceMap::new());
        let mut snap = snapshot(dir, self.project, self.manifest, self.url, sources.clone()).map_err(|errors| {
            self.term.diagnostics(&errors, &sources);
            Error::Invalid { what: "the lint's input", errors: errors.len() }
        })?;
        if let Some(c) = self.ci_config.filter(|c| !c.trim().is_empty())
            && let Some(p) = snap.manifest.projects.get_mut(self.project)
        {
            p.ci_config_path = c.trim().to_string();
        }
        let cache = ParseCache::default();
        let p = snap.manifest.projects.get(self.project).expect("the linted project is in the manifest");
        let pipeline = ci::resolve(&snap, &cache, p, false);
        Ok((snap, vec![pipeline]))
    }

    /// The findings of the rules the policy runs, scoped to the project, and the notes: on accesses to
    /// projects whose allowlist is unknown, and, without any allowlists, on every access.
    fn findings(&self, audit: &Audit, policy: &Policy) -> Vec<Finding> {
        let all = crate::rules::run(audit, &policy.settings, |id| policy.enabled(id));
        let mut scoped = scope(all, self.project);
        let why = match self.manifest {
            None => " (its allowlist was not given: pass --manifest to check it)",
            Some(_) => " (the manifest does not list it, so its allowlist is not known)",
        };
        scoped.extend(notes_without_allowlists(audit, self.project, why));
        scoped.extend(notes_for_unknown(audit, self.project));
        scoped
    }
}

/// With a token: fetch what a lint needs from the instance into a temporary snapshot, and return it with its
/// manifest. Without a token, or when the instance cannot be read, `None` (a warning says why).
fn from_api(
    term: &Terminal,
    args: &LintArgs,
    url: &str,
    project: &str,
) -> Result<Option<(tempfile::TempDir, PathBuf)>, Error> {
    let Some(credential) = live::credential(term, args.token_file.as_deref())? else {
        return Ok(None);
    };
    let client = live::client(url, credential, &args.connection)?;
    let tmp = tempfile::Builder::new()
        .prefix("tokenscope-lint-")
        .tempdir()
        .map_err(|e| Error::Io { what: "create a temporary directory".into(), source: e })?;
    let dir = tmp.path().join("snap");
    match live::runtime()?.block_on(crate::cli::collect::lint_context(&client, url, project, &args.dir, &dir)) {
        Ok((manifest, outcome)) => {
            let unread = outcome.projects - outcome.read;
            let also = if unread > 0 {
                format!("; {unread} could not be read (their accesses are notes saying why)")
            } else {
                String::new()
            };
            term.info(&format!(
                "read the settings of {} of {} project(s) the jobs reach from {url} ({} requests){also}",
                outcome.read, outcome.projects, outcome.requests
            ));
            Ok(Some((tmp, manifest)))
        }
        Err(e) => {
            term.say(&format!(
                "warning: cannot read from {url}: {}; `include: project:` files and allowlists are unknown",
                crate::text::clean(&e)
            ));
            Ok(None)
        }
    }
}

/// The snapshot a lint runs on: `manifest` (a snapshot manifest kept as allowlists-as-code) or one made from
/// the instance URL, with `project`'s repository read from `dir`.
fn snapshot(
    dir: &Path,
    project: &str,
    manifest: Option<&Path>,
    url: Option<&str>,
    sources: Arc<SourceMap>,
) -> Result<Snapshot, Vec<Diagnostic>> {
    let mut snap = match manifest {
        Some(m) => {
            let root =
                m.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).canonicalize().map_err(
                    |e| {
                        vec![
                            Diagnostic::error(format!("cannot open the manifest's directory: {e}"))
                                .in_file(m.display().to_string()),
                        ]
                    },
                )?;
            let id = crate::snapshot::read_manifest(&sources, m, m.display().to_string()).map_err(|d| vec![d])?;
            let snap = Snapshot::from_manifest(root, id, sources)?;
            snap.add_input(m);
            snap
        }
        None => {
            let Some(url) = url else {
                return Err(vec![Diagnostic::error(
                    "the instance is not known: pass --url, --manifest, or set CI_SERVER_URL",
                )]);
            };
            let root = dir
                .canonicalize()
                .map_err(|e| vec![Diagnostic::error(format!("cannot open {}: {e}", dir.display()))])?;
            let text = format!("instance:\n  url: {url:?}\nprojects: {{}}\n");
            let id = sources.add(SourceFile::new("(command line)".into(), None, None, Arc::from(text.as_str())));
            Snapshot::from_manifest(root, id, sources)?
        }
    };
    if !crate::snapshot::manifest::valid_full_path(project) {
        return Err(vec![Diagnostic::error(format!("`{project}` is not a valid project path"))]);
    }
    snap.set_repository(project, dir)
        .map_err(|e| vec![Diagnostic::error(format!("cannot open {}: {e}", dir.display()))])?;
    Ok(snap)
}

/// The findings a project's merge request is about: its own accesses, and lints on its files.
fn scope(findings: Vec<Finding>, project: &str) -> Vec<Finding> {
    findings.into_iter().filter(|f| f.caller() == Some(project) || f.project == project).collect()
}

/// A note on `project`'s first access over a token edge: the callee's allowlist must contain `project`, and
/// `why` it is not known whether it does. It is a finding of `missing-allowlist-entry` at severity note, so
/// the policy switches, remaps and ignores it like that rule's other findings.
fn access_note(audit: &Audit, e: &Edge, project: &str, why: &str) -> Option<Finding> {
    let a = &audit.accesses[*e.accesses.first()?];
    let message = format!(
        "`{project}` uses the job token against `{}` ({}, job `{}`): `{}`'s allowlist must contain `{project}`{why}",
        e.callee,
        e.kind_list(),
        a.job,
        e.callee
    );
    let subject = Subject::Edge { caller: project.to_string(), callee: e.callee.clone(), entry: None };
    Some(Finding::build(&missing::META, subject).severity(Severity::Note).message(message).at(a.span).finish())
}

/// `project`'s token edges with this status.
fn own_edges<'a>(audit: &'a Audit, project: &'a str, status: EdgeStatus) -> impl Iterator<Item = &'a Edge> {
    audit.edges.iter().filter(move |e| e.relation == Relation::Token && e.caller == project && e.status == status)
}

/// Each access to a project the lint's snapshot does not hold (no manifest was given, or it does not list
/// the project) is a note naming the allowlist that must contain it.
fn notes_without_allowlists(audit: &Audit, project: &str, why: &str) -> Vec<Finding> {
    own_edges(audit, project, EdgeStatus::Unknown)
        .filter(|e| !audit.snap.manifest.projects.contains_key(&e.callee))
        .filter(|e| {
            !e.accesses.is_empty() && matches!(audit.accesses[e.accesses[0]].target, crate::detect::Target::Project(_))
        })
        .filter_map(|e| access_note(audit, e, project, why))
        .collect()
}

/// Accesses to projects whose job-token settings could not be read (a token without the Maintainer role on
/// them, a job token): a note each, with the reason, since neither "allowed" nor "missing" can be said.
fn notes_for_unknown(audit: &Audit, project: &str) -> Vec<Finding> {
    own_edges(audit, project, EdgeStatus::Unknown)
        .filter(|e| audit.snap.manifest.projects.contains_key(&e.callee))
        .filter_map(|e| {
            let why = audit
                .snap
                .manifest
                .projects
                .get(&e.callee)
                .and_then(|p| p.skipped.iter().find(|s| s.data == crate::snapshot::manifest::Data::JobToken))
                .map_or(String::new(), |s| format!(" ({})", s.reason));
            access_note(audit, e, project, &format!("; it could not be read{why}"))
        })
        .collect()
}

/// The files of `dir`'s git repository at `rev` (`git archive`), in a temporary directory.
fn export_revision(dir: &Path, rev: &str) -> Result<tempfile::TempDir, String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision"));
    }
    let tmp = tempfile::Builder::new()
        .prefix("tokenscope-base-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let archive = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["archive", "--format=tar", rev])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !archive.status.success() {
        return Err(format!("git archive {rev}: {}", String::from_utf8_lossy(&archive.stderr).trim()));
    }
    let mut tar = std::process::Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(tmp.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    {
        use std::io::Write;
        let mut stdin = tar.stdin.take().expect("piped");
        stdin.write_all(&archive.stdout).map_err(|e| format!("tar: {e}"))?;
    }
    let status = tar.wait().map_err(|e| format!("tar: {e}"))?;
    if !status.success() {
        return Err("tar could not unpack the revision".into());
    }
    Ok(tmp)
}

/// `git fetch --depth 1 origin REV`: the base revision of a merge request, which a shallow clone lacks.
fn fetch_revision(dir: &Path, rev: &str) -> Result<(), String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision"));
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fetch", "--quiet", "--depth", "1", "origin", rev])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("git fetch {rev}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The findings of `head` that `base` does not have (compared by fingerprint).
fn introduced(head: Vec<Finding>, base: &[Finding]) -> Vec<Finding> {
    let old: std::collections::HashSet<&str> = base.iter().map(|f| f.fingerprint.as_str()).collect();
    head.into_iter().filter(|f| !old.contains(f.fingerprint.as_str())).collect()
}
