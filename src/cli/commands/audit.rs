//! `tokenscope audit`: a snapshot directory, or a live GitLab fetched into a temporary one and audited the
//! same way. Load -> resolve and detect -> engine -> rules -> policy -> report.

use crate::ci::ParseCache;
use crate::cli::args::AuditArgs;
use crate::cli::error::Error;
use crate::cli::output;
use crate::cli::terminal::Terminal;
use crate::cli::{live, output::load_snapshot};
use crate::engine::Audit;
use crate::policy::Exit;
use crate::report::Report;
use crate::rules::overbroad_group_entry as overbroad;
use std::path::Path;

pub(crate) fn run(args: AuditArgs, term: &Terminal) -> Result<Exit, Error> {
    match &args.snapshot {
        Some(dir) => audit_snapshot(&args, term, dir),
        None => {
            // Live: fetch into a temporary snapshot, then audit it exactly as an offline snapshot is audited.
            let fetched = tempfile::Builder::new()
                .prefix("tokenscope-live-")
                .tempdir()
                .map_err(|e| Error::Io { what: "create a temporary directory".into(), source: e })?;
            live::fetch(term, &args.live, fetched.path(), None, None)?;
            audit_snapshot(&args, term, fetched.path())
        }
    }
}

/// The process's peak resident memory, where the system says it (Linux: `VmHWM` in /proc/self/status).
fn peak_memory_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// A memory figure of /proc/self/status, in KiB (Linux).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `--timings`: how long each stage took, on standard error.
struct Timings {
    on: bool,
    started: std::time::Instant,
    lap: std::time::Instant,
}

impl Timings {
    fn new(on: bool) -> Self {
        let now = std::time::Instant::now();
        Timings { on, started: now, lap: now }
    }

    fn lap(&mut self, term: &Terminal, stage: &str) {
        if self.on {
            let resident = status_kib("VmRSS:").map_or(String::new(), |k| format!(" (resident {} MiB)", k / 1024));
            term.say(&format!("timing: {stage:<8} {:>8.3} s{resident}", self.lap.elapsed().as_secs_f64()));
        }
        self.lap = std::time::Instant::now();
    }

    fn total(&self, term: &Terminal) {
        if self.on {
            term.say(&format!("timing: total    {:>8.3} s", self.started.elapsed().as_secs_f64()));
            if let Some(kib) = peak_memory_kib() {
                term.say(&format!("timing: peak memory {} MiB", kib / 1024));
            }
        }
    }
}

fn audit_snapshot(args: &AuditArgs, term: &Terminal, dir: &Path) -> Result<Exit, Error> {
    let mut timings = Timings::new(args.timings || term.verbose());
    let snap = load_snapshot(term, dir)?;
    timings.lap(term, "load");
    let cache = ParseCache::default();
    // Each pipeline's accesses are detected as soon as it is resolved, and its scripts dropped.
    let (pipelines, accesses) = output::resolve_and_detect(term, &snap, &cache);
    timings.lap(term, "resolve");
    let mut policy = output::load_policy(term, args.out.config.as_deref(), args.out.no_config, &snap)?;
    if let Some(n) = args.overbroad_min_projects {
        policy.settings.set(&overbroad::META, &overbroad::MIN_PROJECTS, n);
    }
    if let Some(n) = args.overbroad_max_used_percent {
        policy.settings.set(&overbroad::META, &overbroad::MAX_USED_PERCENT, n as usize);
    }
    let audit = Audit::build(&snap, &pipelines, accesses);
    let findings = crate::rules::run(&audit, &policy.settings, |id| policy.enabled(id));
    let applied = output::apply(&policy, findings, &snap, &args.out, true)?;
    timings.lap(term, "audit");
    let exit = policy.exit(&applied, args.out.fail_on, audit.incomplete());
    let report = Report::new(&audit, applied).with_context(args.out.context(false, None));
    output::deliver(term, &report, &args.out)?;
    timings.lap(term, "render");
    timings.total(term);
    // The process exits next: freeing an org's parsed files and jobs piece by piece would only delay it
    // (a tenth of the run on 10,000 projects), so they are left for the exit to reclaim.
    std::mem::forget(report);
    std::mem::forget(audit);
    std::mem::forget((pipelines, cache, snap));
    Ok(exit)
}
