//! `tokenscope snapshot`: read a live GitLab and write a snapshot directory; `snapshot merge`: several
//! snapshots of one instance (shards read by parallel jobs, groups read apart) as one.

use crate::cli::args::{MergeArgs, SnapshotArgs, SnapshotCommand};
use crate::cli::error::Error;
use crate::cli::terminal::Terminal;
use crate::cli::{live, output};
use crate::policy::Exit;
use crate::snapshot::write::{OrgData, Writer};

pub(crate) fn run(args: SnapshotArgs, term: &Terminal) -> Result<Exit, Error> {
    if let Some(SnapshotCommand::Merge(m)) = &args.command {
        return merge(m, term);
    }
    live::fetch(term, &args.live, &args.output, args.since.as_deref(), args.shard)?;
    let dir = args.output.display();
    term.info(&format!("snapshot written to {dir}; audit it with `tokenscope audit {dir}`"));
    Ok(Exit::Ok)
}

/// Merge snapshots: one instance, each project from the snapshot that holds it (a project in two must be
/// the same in both), the authentication logs together, every repository file and listing copied.
fn merge(args: &MergeArgs, term: &Terminal) -> Result<Exit, Error> {
    let snaps: Vec<crate::snapshot::Snapshot> =
        args.snapshots.iter().map(|d| output::load_snapshot(term, d)).collect::<Result<_, _>>()?;
    let first = &snaps[0].manifest.instance;
    let mut org = OrgData { instance: first.clone(), projects: Default::default(), auth_log: Vec::new() };
    for (dir, snap) in args.snapshots.iter().zip(&snaps) {
        if snap.manifest.instance.url != first.url {
            return Err(Error::usage(format!(
                "{} is a snapshot of {}, not of {}: only snapshots of one instance merge",
                dir.display(),
                snap.manifest.instance.url,
                first.url
            )));
        }
        if org.instance.registry.is_none() {
            org.instance.registry = snap.manifest.instance.registry.clone();
        }
        for (path, p) in &snap.manifest.projects {
            if let Some(other) = org.projects.get(path)
                && (other.job_token.inbound_enabled != p.job_token.inbound_enabled
                    || other.job_token.allowlist.len() != p.job_token.allowlist.len())
            {
                return Err(Error::usage(format!(
                    "`{path}` differs between the snapshots (its job-token settings): merge snapshots taken together"
                )));
            }
            org.projects.entry(path.clone()).or_insert_with(|| p.clone());
        }
        org.auth_log.extend(snap.manifest.auth_log.iter().cloned());
    }
    org.auth_log.sort_by(|a, b| (&a.accessed, &a.origin).cmp(&(&b.accessed, &b.origin)));
    org.auth_log.dedup_by(|a, b| a.accessed == b.accessed && a.origin == b.origin);
    let writer = Writer::create(&args.output).map_err(Error::usage)?;
    writer.manifest(&org).map_err(Error::usage)?;
    let mut files = 0;
    for snap in &snaps {
        files += crate::cli::collect::copy_repositories(snap, &writer, |_| true).map_err(Error::usage)?;
    }
    term.info(&format!(
        "merged {} snapshots: {} projects, {files} files, written to {}",
        snaps.len(),
        org.projects.len(),
        args.output.display()
    ));
    Ok(Exit::Ok)
}
