//! `tokenscope lint [DIR]`: one project, in its own merge-request pipeline.
//!
//! The project's checkout is read in place (its files confined to it); allowlists come from a manifest kept
//! elsewhere, or are unknown, and then each access becomes a note naming the allowlist that must contain the
//! project. With a base revision, only what the change introduces is reported: findings are compared by
//! their fingerprints, which do not depend on line numbers.

use crate::audit::{Audit, EdgeStatus};
use crate::diag::{Diagnostic, Severity};
use crate::finding::Finding;
use crate::graph::Relation;
use crate::snapshot::Snapshot;
use crate::source::{SourceFile, SourceMap};
use std::path::Path;
use std::sync::Arc;

/// The snapshot a lint runs on: `manifest` (a snapshot manifest kept as allowlists-as-code) or one made from
/// the instance URL, with `project`'s repository read from `dir`.
pub fn snapshot(
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
            let id =
                crate::snapshot::read_source(&sources, m, m.display().to_string(), None, None).map_err(|d| vec![d])?;
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
pub fn scope(findings: Vec<Finding>, project: &str) -> Vec<Finding> {
    findings.into_iter().filter(|f| f.caller.as_deref() == Some(project) || f.project == project).collect()
}

/// A note on `project`'s first access over a token edge: the callee's allowlist must contain `project`, and
/// `why` it is not known whether it does.
fn access_note(audit: &Audit, e: &crate::audit::Edge, project: &str, why: &str) -> Option<Finding> {
    let meta = &crate::audit::missing_allowlist_entry::META;
    let a = &audit.accesses[*e.accesses.first()?];
    let message = format!(
        "`{project}` uses the job token against `{}` ({}, job `{}`): `{}`'s allowlist must contain `{project}`{why}",
        e.callee,
        e.kind_list(),
        a.job,
        e.callee
    );
    Some(Finding::new(
        meta.id,
        Severity::Note,
        &e.callee,
        Some(project),
        Some(&e.callee),
        None,
        "",
        message,
        Some(a.span),
    ))
}

/// `project`'s token edges with this status.
fn own_edges<'a>(
    audit: &'a Audit,
    project: &'a str,
    status: EdgeStatus,
) -> impl Iterator<Item = &'a crate::audit::Edge> {
    audit.edges.iter().filter(move |e| e.relation == Relation::Token && e.caller == project && e.status == status)
}

/// Without allowlists, each access to another project is a note naming the allowlist that must contain it.
pub fn notes_without_allowlists(audit: &Audit, project: &str) -> Vec<Finding> {
    own_edges(audit, project, EdgeStatus::External)
        .filter(|e| {
            !e.accesses.is_empty() && matches!(audit.accesses[e.accesses[0]].target, crate::detect::Target::Project(_))
        })
        .filter_map(|e| access_note(audit, e, project, " (its allowlist was not given: pass --manifest to check it)"))
        .collect()
}

/// Accesses to projects whose job-token settings could not be read (a token without the Maintainer role on
/// them, a job token): a note each, with the reason, since neither "allowed" nor "missing" can be said.
pub fn notes_for_unknown(audit: &Audit, project: &str) -> Vec<Finding> {
    own_edges(audit, project, EdgeStatus::Unknown)
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
pub fn export_revision(dir: &Path, rev: &str) -> Result<tempfile::TempDir, String> {
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

/// The findings of `head` that `base` does not have (compared by fingerprint).
pub fn introduced(head: Vec<Finding>, base: &[Finding]) -> Vec<Finding> {
    let old: std::collections::HashSet<&str> = base.iter().map(|f| f.fingerprint.as_str()).collect();
    head.into_iter().filter(|f| !old.contains(f.fingerprint.as_str())).collect()
}
