//! `tokenscope plan`: the audit of a snapshot (or a live GitLab), then each callee's least-privilege
//! allowlist and the changes that reach it (`remediate`), shown as a plan and optionally emitted as what
//! people apply it with.

use crate::ci::ParseCache;
use crate::cli::args::{LiveArgs, PlanArgs, PlanFormat, PlanInputs};
use crate::cli::error::Error;
use crate::cli::terminal::Terminal;
use crate::cli::{live, output};
use crate::engine::Audit;
use crate::policy::Exit;
use crate::remediate::{self, Plan, emit, render};
use crate::rules::overbroad_group_entry as overbroad;
use crate::snapshot::Snapshot;
use std::path::Path;

pub(crate) fn run(args: PlanArgs, term: &Terminal) -> Result<Exit, Error> {
    if let Some(d) = &args.expires {
        date("--expires", d)?;
    }
    with_snapshot(term, args.snapshot.as_deref(), &args.live, |dir| {
        with_plan(term, dir, &args.inputs, |snap, audit, plan| {
            let text = match args.format {
                PlanFormat::Human => crate::text::clean(&render::human(&plan)).into_owned(),
                PlanFormat::Json => render::json(&plan),
                PlanFormat::Markdown => crate::text::clean(&render::markdown(&plan)).into_owned(),
            };
            let emitted = args.emit.map(|kind| {
                let stamp = emit::Stamp { owner: args.owner.clone(), expires: args.expires.clone() };
                crate::text::redact(&emit::emit(kind, &plan, snap, &stamp)).into_owned()
            });
            match (&args.output, emitted) {
                (Some(file), Some(e)) => {
                    output::write_file(snap, file, e.as_bytes())?;
                    term.stdout(&text)?;
                }
                (Some(file), None) => output::write_file(snap, file, text.as_bytes())?,
                (None, _) => term.stdout(&text)?,
            }
            Ok(finish(term, audit))
        })
    })
}

/// The exit code after a plan: 3 when some input could not be read (every entry it concerns was kept).
pub(crate) fn finish(term: &Terminal, audit: &Audit) -> Exit {
    if audit.incomplete() {
        term.say("warning: some input could not be read; the plan keeps every entry it could concern");
        Exit::Partial
    } else {
        Exit::Ok
    }
}

/// Run `f` on the snapshot directory, or on a live GitLab fetched into a temporary one.
pub(crate) fn with_snapshot<R>(
    term: &Terminal,
    snapshot: Option<&Path>,
    live_args: &LiveArgs,
    f: impl FnOnce(&Path) -> Result<R, Error>,
) -> Result<R, Error> {
    match snapshot {
        Some(dir) => f(dir),
        None => {
            let fetched = tempfile::Builder::new()
                .prefix("tokenscope-live-")
                .tempdir()
                .map_err(|e| Error::Io { what: "create a temporary directory".into(), source: e })?;
            live::fetch(term, live_args, fetched.path(), None, None)?;
            f(fetched.path())
        }
    }
}

pub(crate) fn date(what: &str, s: &str) -> Result<i64, Error> {
    crate::date::days(s).ok_or_else(|| Error::usage(format!("{what} must be a date written YYYY-MM-DD, found `{s}`")))
}

/// Load, resolve and audit the snapshot at `dir`, compute its plan, and hand all three to `f`.
pub(crate) fn with_plan<R>(
    term: &Terminal,
    dir: &Path,
    inputs: &PlanInputs,
    f: impl FnOnce(&Snapshot, &Audit, Plan) -> Result<R, Error>,
) -> Result<R, Error> {
    let today = match &inputs.now {
        Some(d) => date("--now", d)?,
        None => crate::date::today(),
    };
    let snap = output::load_snapshot(term, dir)?;
    let cache = ParseCache::default();
    let (pipelines, accesses) = output::resolve_and_detect(term, &snap, &cache);
    let policy = output::load_policy(term, inputs.config.as_deref(), false, &snap)?;
    let audit = Audit::build(&snap, &pipelines, accesses);
    let mut never_group = policy.never_group.clone();
    never_group.extend(inputs.never_group.iter().cloned());
    let opts = remediate::Options {
        observed_within: i64::from(inputs.observed_within),
        today,
        never_group,
        min_projects: policy.settings.get(&overbroad::META, &overbroad::MIN_PROJECTS),
        max_used_percent: policy.settings.get(&overbroad::META, &overbroad::MAX_USED_PERCENT),
    };
    let plan = remediate::plan(&audit, &opts);
    f(&snap, &audit, plan)
}
