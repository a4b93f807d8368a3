//! What `audit` and `lint` share: loading the snapshot and the policy, and delivering a report in the
//! requested formats to standard output and files.

use super::args::OutputArgs;
use super::error::Error;
use super::terminal::{Stream, Terminal};
use crate::policy::{self, Policy};
use crate::report::{Format, Report};
use crate::snapshot::Snapshot;
use crate::source::SourceMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Load a snapshot, printing the manifest's errors.
pub(crate) fn load_snapshot(term: &Terminal, dir: &Path) -> Result<Snapshot, Error> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{} is not a snapshot directory (no such directory); write one with `tokenscope snapshot`",
            dir.display()
        )));
    }
    let sources = Arc::new(SourceMap::new());
    Snapshot::load(dir, sources.clone()).map_err(|errors| {
        term.diagnostics(&errors, &sources);
        Error::Invalid { what: "the snapshot manifest", errors: errors.len() }
    })
}

/// Resolve every project's pipeline and detect its accesses (each pipeline's scripts, and the jobs no later
/// stage reads, are dropped as soon as its accesses are known), printing the resolution's diagnostics: what `Audit::build` takes.
pub(crate) fn resolve_and_detect(
    term: &Terminal,
    snap: &Snapshot,
    cache: &crate::ci::ParseCache,
) -> (Vec<crate::ci::Pipeline>, Vec<crate::detect::Detection>) {
    let (pipelines, accesses): (Vec<_>, Vec<_>) = crate::ci::resolve_all_with(snap, cache, false, |mut p| {
        let found = crate::detect::detect(snap, &p);
        // What later stages read of a job: a trigger (the graph's relations), a redefined CI_JOB_TOKEN.
        p.forget_after_detection(|j| j.trigger.is_some() || crate::ci::job_token_redefined(&j.vars).is_some());
        // Likewise the global variables: only a redefined CI_JOB_TOKEN among them is read later.
        if crate::ci::job_token_redefined(&p.global_vars).is_none() {
            p.global_vars = Default::default();
        }
        (p, found)
    })
    .into_iter()
    .unzip();
    term.diagnostics(pipelines.iter().flat_map(|p| &p.diagnostics), &snap.sources);
    (pipelines, accesses)
}

/// The audit policy: `--config FILE`; else `.tokenscope.yml` (or `.tokenscope.yaml`) in the snapshot
/// directory, or in a directory above it up to the root of the git repository holding it (a policy at the
/// top of a repository covers a lint run from a subdirectory); else the defaults. `--no-config`: the
/// defaults, whatever is there.
pub(crate) fn load_policy(
    term: &Terminal,
    config: Option<&Path>,
    no_config: bool,
    snap: &Snapshot,
) -> Result<Policy, Error> {
    if no_config {
        term.detail("policy: none (--no-config): every rule at its default severity");
        return Ok(Policy::default());
    }
    let (path, display, inside) = match config {
        Some(p) => (p.to_path_buf(), p.display().to_string(), false),
        None => {
            let Some((dir, name)) = discover(term, &snap.root) else {
                term.detail("policy: none found: every rule at its default severity");
                return Ok(Policy::default());
            };
            let inside = dir == snap.root;
            let display = if inside { name.to_string() } else { dir.join(name).display().to_string() };
            (dir.join(name), display, inside)
        }
    };
    term.detail(&format!("policy: {display}"));
    if inside && let Err(d) = crate::snapshot::confined(&snap.root, &path, &display) {
        // A policy in the snapshot is part of the input, read with the same confinement as the rest.
        term.diagnostics(&[d], &snap.sources);
        return Err(Error::Invalid { what: "the audit policy", errors: 1 });
    }
    snap.add_input(&path);
    policy::file::load(&path, &display, &snap.sources, &crate::rules::metas()).map_err(|errors| {
        term.diagnostics(&errors, &snap.sources);
        Error::Invalid { what: "the audit policy", errors: errors.len() }
    })
}

/// The nearest directory from `root` up to its git repository's root that holds a policy file, and the
/// file's name. Outside a git repository only `root` itself is looked at: a policy is never picked up from
/// an unrelated directory above.
fn discover(term: &Terminal, root: &Path) -> Option<(PathBuf, &'static str)> {
    let start = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let repo = start.ancestors().find(|d| d.join(".git").exists());
    let dirs: Vec<&Path> = match repo {
        Some(top) => start.ancestors().take_while(|d| d.starts_with(top)).collect(),
        None => vec![start.as_path()],
    };
    for dir in dirs {
        let found: Vec<&'static str> =
            [policy::CONFIG_NAME, policy::CONFIG_NAME_YAML].into_iter().filter(|n| dir.join(n).is_file()).collect();
        let Some(&name) = found.first() else { continue };
        if found.len() > 1 {
            term.say(&format!(
                "warning: both {} and {} are in {}: {name} is used",
                policy::CONFIG_NAME,
                policy::CONFIG_NAME_YAML,
                dir.display()
            ));
        }
        // The snapshot directory itself is reported as given, not canonicalised.
        let dir = if dir == start { root.to_path_buf() } else { dir.to_path_buf() };
        return Some((dir, name));
    }
    None
}

/// Apply the policy to `findings` (ignores unless `--no-ignores`, with today's date for `until`), then the
/// baseline: `--write-baseline` records what is reported, `--baseline` moves what it holds to suppressed.
/// `whole`: these are all the findings, so a policy ignore matching none of them is worth a warning.
pub(crate) fn apply(
    policy: &Policy,
    findings: Vec<crate::finding::Finding>,
    snap: &Snapshot,
    args: &OutputArgs,
    whole: bool,
) -> Result<policy::Applied, Error> {
    let today = policy::ignore::today();
    let ignoring = policy::Ignoring { enabled: !args.no_ignores, today: &today, unused: whole };
    let mut applied = policy.apply(findings, &snap.sources, &ignoring);
    // The baseline is read first and counts as input: writing a new one over it is refused, never a loss.
    let known = match &args.baseline {
        Some(file) => {
            snap.add_input(file);
            let text = std::fs::read_to_string(file)
                .map_err(|e| Error::Io { what: format!("read the baseline {}", file.display()), source: e })?;
            Some(policy::baseline::read(&text).map_err(|e| Error::usage(format!("{}: {e}", file.display())))?)
        }
        None => None,
    };
    if let Some(file) = &args.write_baseline {
        write_file(snap, file, policy::baseline::write(&applied.findings).as_bytes())?;
    }
    if let Some(known) = known {
        policy::baseline::apply(&mut applied, &known);
    }
    Ok(applied)
}

/// Write each `--report FORMAT=FILE`, then the `--format` output to `--output` or standard output. Expired
/// ignores are announced on standard error.
pub(crate) fn deliver(term: &Terminal, report: &Report, out: &OutputArgs) -> Result<(), Error> {
    for e in &report.expired_ignores {
        term.say(&format!("warning: {}", e.sentence()));
    }
    term.diagnostics(&report.ignore_warnings, &report.audit.snap.sources);
    let to_stdout = out.output.as_ref().is_none_or(|f| f.as_os_str() == "-");
    let files: Vec<(Format, &PathBuf)> = out
        .reports
        .iter()
        .map(|(f, file)| (*f, file))
        .chain(out.output.as_ref().filter(|f| f.as_os_str() != "-").map(|file| (out.format, file)))
        .collect();
    // Never write over the input: a file tokenscope read, or any path inside a snapshot directory. Each file
    // is resolved once (its directory, and a final link), checked, and written at that resolved path.
    let mut targets = Vec::with_capacity(files.len());
    for (f, file) in files {
        let real = target(report.audit.snap, file)?;
        if let Some((g, other, _)) = targets.iter().find(|(_, _, r): &&(Format, &PathBuf, PathBuf)| *r == real) {
            return Err(Error::usage(format!(
                "{} is named for both {} and {}: one would overwrite the other",
                other.display(),
                g.name(),
                f.name()
            )));
        }
        targets.push((f, file, real));
    }
    for (f, file, real) in targets {
        crate::snapshot::write_output(&real, f.render(report, false, None).as_bytes())
            .map_err(|e| Error::Io { what: format!("write {}", file.display()), source: e })?;
    }
    if to_stdout {
        term.stdout(&out.format.render(report, term.color(Stream::Stdout), term.width(Stream::Stdout)))?;
    }
    Ok(())
}

/// Where an output file is written: resolved once (its directory, and a final link), and never into the
/// snapshot (the input).
fn target(snap: &Snapshot, file: &Path) -> Result<PathBuf, Error> {
    let real = crate::snapshot::final_target(file).ok_or_else(|| Error::Io {
        what: format!("write {}", file.display()),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "its directory cannot be resolved"),
    })?;
    if snap.protects(&real) {
        return Err(Error::usage(format!(
            "{} is part of the input (inside the snapshot); tokenscope does not write into it",
            file.display()
        )));
    }
    Ok(real)
}

/// Write one output file at its checked [`target`], without following a link swapped in since (`-`:
/// standard output).
pub(crate) fn write_file(snap: &Snapshot, file: &Path, bytes: &[u8]) -> Result<(), Error> {
    if file.as_os_str() == "-" {
        return std::io::Write::write_all(&mut std::io::stdout().lock(), bytes)
            .map_err(|e| Error::Io { what: "write to standard output".into(), source: e });
    }
    let real = target(snap, file)?;
    crate::snapshot::write_output(&real, bytes)
        .map_err(|e| Error::Io { what: format!("write {}", file.display()), source: e })
}
