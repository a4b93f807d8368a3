//! Command-line interface: parse arguments, run the stages, choose the exit code.

use crate::ci::{self, ParseCache, Pipeline, Status};
use crate::diag::Diagnostic;
use crate::report;
use crate::snapshot::Snapshot;
use crate::source::SourceMap;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit codes (documented in the README).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const PARTIAL: u8 = 3;
}

#[derive(Parser, Debug)]
#[command(name = "tokenscope", version, about = "Audit GitLab CI/CD job-token allowlists")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Audit a snapshot: find every job-token access, diff it against the allowlists, report what is
    /// missing, unused or too broad.
    Audit(AuditArgs),
    /// Read a group or projects from a live GitLab and write a snapshot directory, for offline audits.
    Snapshot(SnapshotArgs),
    /// Lint one project in its own merge-request pipeline: its job-token accesses and token mistakes.
    Lint(LintArgs),
    /// Print every project's resolved CI jobs (includes, extends, references, variables and matrices applied).
    Jobs(JobsArgs),
    /// List every rule with its id, default severity, summary and documentation anchor.
    Rules,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), made from these command-line definitions.
    Man,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Markdown,
    Csv,
    Sarif,
    Codequality,
    Junit,
    Dot,
    Mermaid,
}

impl std::str::FromStr for AuditFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        <AuditFormat as ValueEnum>::from_str(s, true)
    }
}

/// `--report FORMAT=FILE`.
fn parse_report(s: &str) -> Result<(AuditFormat, PathBuf), String> {
    let (f, file) = s.split_once('=').ok_or_else(|| format!("expected FORMAT=FILE, found `{s}`"))?;
    let format = f.parse::<AuditFormat>()?;
    if file.is_empty() {
        return Err(format!("`{s}` names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

/// Options shared by `audit` and `lint`: what to print and write, the policy, what fails the run.
#[derive(clap::Args, Debug)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    /// Write the `--format` output to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Also write FORMAT to FILE (repeatable), e.g. `--report codequality=gl-code-quality.json --report junit=junit.xml`.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub reports: Vec<(AuditFormat, PathBuf)>,
    /// Audit policy (rules, severities, thresholds, fail_on, ignores); default: `.tokenscope.yml` in the snapshot (or DIR).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Exit with 1 when a finding is at or above this severity [default: error, or the policy's `fail_on`].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Report every finding: ignore neither the policy's `ignores` nor `# tokenscope: ignore[...]` comments.
    #[arg(long)]
    pub no_ignores: bool,
}

/// Where and how to read a live GitLab (`snapshot`, and `audit` without a snapshot directory).
#[derive(clap::Args, Debug, Clone)]
pub struct LiveArgs {
    /// The GitLab instance [default: $CI_SERVER_URL].
    #[arg(long)]
    pub url: Option<String>,
    /// A group to read, with all its subgroups (repeatable).
    #[arg(long = "group", value_name = "PATH")]
    pub groups: Vec<String>,
    /// A single project to read (repeatable).
    #[arg(long = "project", value_name = "PATH")]
    pub projects: Vec<String>,
    /// Read the API token from this file [default: $GITLAB_TOKEN, else $CI_JOB_TOKEN]. There is no option that
    /// takes a token itself: command lines end up in shell histories and process lists.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Requests per second at most (default: no limit beyond the server's own).
    #[arg(long, value_name = "N")]
    pub max_rps: Option<f64>,
    /// Seconds before one request times out.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
    /// Retries of a request that failed with 429, 500, 502, 503, 504, a timeout or a dropped connection.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub retries: usize,
    /// Extra root certificates (PEM) for a self-managed instance; the system's roots are used as well.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// First retry delay in milliseconds (doubled on each retry, with jitter).
    #[arg(long, default_value_t = 500, hide = true)]
    pub retry_delay_ms: u64,
}

#[derive(clap::Args, Debug)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    /// The directory to write (it must not exist, or be empty).
    #[arg(short, long, value_name = "DIR", default_value = "tokenscope-snapshot")]
    pub output: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Snapshot directory (holding tokenscope.yaml); or read a live GitLab with --group/--project.
    #[arg(required_unless_present_any = ["groups", "projects"], conflicts_with_all = ["groups", "projects"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// `overbroad-group-entry`: only group entries covering at least this many snapshot projects [default: 3].
    #[arg(long)]
    pub overbroad_min_projects: Option<usize>,
    /// `overbroad-group-entry`: fires when fewer than this percentage of the covered projects are callers [default: 50].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub overbroad_max_used_percent: Option<u8>,
    /// Print how long each stage took (load, resolve, audit, render) to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// The project's checkout.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The project's full path [default: $CI_PROJECT_PATH].
    #[arg(long)]
    pub project: Option<String>,
    /// A snapshot manifest holding the allowlists (allowlists as code); without it, each access is a note.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// The instance, when there is no manifest [default: $CI_SERVER_URL].
    #[arg(long)]
    pub url: Option<String>,
    /// Report only what the change introduces against this git revision [default: $CI_MERGE_REQUEST_DIFF_BASE_SHA].
    #[arg(long)]
    pub base: Option<String>,
    /// Read the API token from this file [default: $GITLAB_TOKEN, else $CI_JOB_TOKEN]. With a token and no
    /// --manifest, `include: project:` files and the allowlists of the projects the jobs reach are read from
    /// the instance.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Do not read anything from the instance's API.
    #[arg(long)]
    pub offline: bool,
    /// Extra root certificates (PEM) for a self-managed instance.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum JobsFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    /// Snapshot directory (holding tokenscope.yaml).
    pub snapshot: PathBuf,
    /// Only this project (full path); may be repeated.
    #[arg(long = "project")]
    pub projects: Vec<String>,
    #[arg(long, value_enum, default_value_t = JobsFormat::Text)]
    pub format: JobsFormat,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    ExitCode::from(match cli.command {
        Command::Audit(a) => audit(a),
        Command::Snapshot(a) => snapshot(a),
        Command::Lint(a) => lint(a),
        Command::Jobs(a) => jobs(a),
        Command::Rules => rules(),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "tokenscope", &mut out);
            emit(&String::from_utf8_lossy(&out));
            exit::OK
        }
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out) {
                Ok(()) => {
                    emit(&String::from_utf8_lossy(&out));
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::USAGE
                }
            }
        }
    })
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Write a JSON document to stdout, pretty-printed (long arrays are written in parallel).
pub fn emit_json(doc: &serde_json::Value) {
    emit(&report::pretty_json(doc));
}

/// Print diagnostics to stderr, in one write (an org's run can have thousands, or none at all).
fn print_diagnostics<'d>(diags: impl IntoIterator<Item = &'d Diagnostic>, sources: &SourceMap) {
    use std::io::Write;
    let mut diags = diags.into_iter().peekable();
    if diags.peek().is_none() {
        return;
    }
    let color = report::diagnostics::use_color();
    let text: String = diags.map(|d| report::diagnostics::render(d, sources, color)).collect();
    // As for `eprint!`, but a closed stderr is not worth a panic.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Load a snapshot, printing manifest errors.
pub fn load_snapshot(dir: &std::path::Path) -> Result<Snapshot, u8> {
    let sources = Arc::new(SourceMap::new());
    Snapshot::load(dir, sources.clone()).map_err(|errors| {
        print_diagnostics(&errors, &sources);
        eprintln!("error: the snapshot manifest has {} error(s); nothing was audited", errors.len());
        exit::USAGE
    })
}

/// Pick the requested projects, or report the unknown ones.
fn select<'p>(pipelines: &'p [Pipeline], wanted: &[String]) -> Result<Vec<&'p Pipeline>, u8> {
    for w in wanted {
        if !pipelines.iter().any(|p| &p.project == w) {
            eprintln!("error: project `{w}` is not in the snapshot");
            return Err(exit::USAGE);
        }
    }
    Ok(pipelines.iter().filter(|p| wanted.is_empty() || wanted.contains(&p.project)).collect())
}

fn jobs(args: JobsArgs) -> u8 {
    let snap = match load_snapshot(&args.snapshot) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cache = ParseCache::default();
    let pipelines = ci::resolve_all(&snap, &cache, true);
    let selected = match select(&pipelines, &args.projects) {
        Ok(s) => s,
        Err(code) => return code,
    };
    print_diagnostics(selected.iter().flat_map(|p| &p.diagnostics), &snap.sources);
    match args.format {
        JobsFormat::Text => emit(&report::jobs::to_text(&selected, &snap.sources)),
        JobsFormat::Json => {
            emit_json(&report::jobs::to_json(&selected, &snap.sources));
        }
    }
    if selected.iter().any(|p| p.status == Status::Failed) { exit::PARTIAL } else { exit::OK }
}

/// `tokenscope snapshot`: fetch and write.
fn snapshot(args: SnapshotArgs) -> u8 {
    match fetch(&args.live, &args.output) {
        Ok(_) => {
            eprintln!(
                "snapshot written to {}; audit it with `tokenscope audit {}`",
                args.output.display(),
                args.output.display()
            );
            exit::OK
        }
        Err(code) => code,
    }
}

/// Fetch a live snapshot into `out`, printing progress and a summary to stderr.
fn fetch(live: &LiveArgs, out: &std::path::Path) -> Result<crate::gitlab::fetch::Outcome, u8> {
    use crate::gitlab::fetch;
    let Some(url) = live.url.clone().or_else(|| env_value("CI_SERVER_URL")) else {
        eprintln!("error: which GitLab? pass --url (in GitLab CI, CI_SERVER_URL is used)");
        return Err(exit::USAGE);
    };
    if live.groups.is_empty() && live.projects.is_empty() {
        eprintln!("error: what to read? pass --group PATH or --project PATH");
        return Err(exit::USAGE);
    }
    let credential = credential(live.token_file.as_deref())?.unwrap_or_else(|| {
        eprintln!("warning: no token (GITLAB_TOKEN, --token-file or CI_JOB_TOKEN): only public data can be read");
        crate::gitlab::client::Credential::Anonymous
    });
    let mut client = make_client(&url, credential, live)?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} requests to {msg} ({elapsed})")
                .expect("static template"),
        );
        bar.set_message(url.clone());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let ticker = bar.clone();
    client.on_request(move || ticker.inc(1));
    let scope = fetch::Scope { groups: live.groups.clone(), projects: live.projects.clone() };
    let result = runtime()?.block_on(fetch::snapshot(&client, &url, &scope, out));
    bar.finish_and_clear();
    match result {
        Ok(outcome) => {
            for w in &outcome.warnings {
                eprintln!("warning: {}", crate::redact::redact(w));
            }
            eprintln!("fetched {}", fetch::describe(&outcome));
            Ok(outcome)
        }
        Err(e) => {
            eprintln!("error: {}", crate::redact::redact(&e));
            Err(exit::USAGE)
        }
    }
}

/// An environment variable that is set to something other than blanks.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The API token: `--token-file`, else `$GITLAB_TOKEN`, else `$CI_JOB_TOKEN` (said, with what it cannot read);
/// `None` without any.
fn credential(token_file: Option<&std::path::Path>) -> Result<Option<crate::gitlab::client::Credential>, u8> {
    use crate::gitlab::client::{Credential, Secret};
    if let Some(f) = token_file {
        return match std::fs::read_to_string(f) {
            Ok(t) if !t.trim().is_empty() => Ok(Some(Credential::Private(Secret::new(t)))),
            Ok(_) => {
                eprintln!("error: {} is empty", f.display());
                Err(exit::USAGE)
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.display());
                Err(exit::USAGE)
            }
        };
    }
    Ok(match (env_value("GITLAB_TOKEN"), env_value("CI_JOB_TOKEN")) {
        (Some(t), _) => Some(Credential::Private(Secret::new(t))),
        (None, Some(t)) => {
            eprintln!("note: using CI_JOB_TOKEN: {}", crate::gitlab::fetch::JOB_TOKEN_LIMITS);
            Some(Credential::Job(Secret::new(t)))
        }
        (None, None) => None,
    })
}

fn make_client(
    url: &str,
    credential: crate::gitlab::client::Credential,
    live: &LiveArgs,
) -> Result<crate::gitlab::client::Client, u8> {
    let opts = crate::gitlab::client::Options {
        url: url.to_string(),
        credential,
        concurrency: live.concurrency as usize,
        max_rps: live.max_rps,
        timeout: std::time::Duration::from_secs(live.timeout.max(1)),
        retries: live.retries,
        backoff: std::time::Duration::from_millis(live.retry_delay_ms),
        ca_cert: live.ca_cert.clone(),
    };
    crate::gitlab::client::Client::new(&opts).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the HTTP runtime: {e}");
        exit::USAGE
    })
}

fn audit(args: AuditArgs) -> u8 {
    // Live: fetch into a temporary snapshot, then audit it exactly as an offline snapshot is audited.
    let fetched;
    let dir = match &args.snapshot {
        Some(dir) => dir.as_path(),
        None => {
            fetched = match tempfile::Builder::new().prefix("tokenscope-live-").tempdir() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot create a temporary directory: {e}");
                    return exit::USAGE;
                }
            };
            if let Err(code) = fetch(&args.live, fetched.path()) {
                return code;
            }
            fetched.path()
        }
    };
    audit_snapshot(&args, dir)
}

fn audit_snapshot(args: &AuditArgs, dir: &std::path::Path) -> u8 {
    let started = std::time::Instant::now();
    let mut lap = started;
    let mut timing = |stage: &str| {
        if args.timings {
            eprintln!("timing: {stage:<8} {:>8.3} s", lap.elapsed().as_secs_f64());
        }
        lap = std::time::Instant::now();
    };
    let snap = match load_snapshot(dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    timing("load");
    let cache = ParseCache::default();
    // Each pipeline's accesses are detected as soon as it is resolved, and its scripts dropped.
    let (pipelines, accesses): (Vec<_>, Vec<_>) = ci::resolve_all_with(&snap, &cache, false, |mut p| {
        let found = crate::detect::detect(&snap, &p);
        p.forget_scripts();
        (p, found)
    })
    .into_iter()
    .unzip();
    timing("resolve");
    print_diagnostics(pipelines.iter().flat_map(|p| &p.diagnostics), &snap.sources);
    let mut policy = match load_policy(&args.out, &snap) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Some(n) = args.overbroad_min_projects {
        policy.overbroad_min_projects = Some(n);
    }
    if let Some(n) = args.overbroad_max_used_percent {
        policy.overbroad_max_used_percent = Some(n as usize);
    }
    let (mut audit, findings) = crate::audit::run_detected(&snap, &pipelines, accesses, &policy);
    let findings = suppress(&mut audit, findings, &policy, &args.out);
    timing("audit");
    let failed = pipelines.iter().any(|p| p.status == Status::Failed);
    let code = deliver(&audit, &findings, &args.out, &policy, failed);
    timing("render");
    if args.timings {
        eprintln!("timing: total    {:>8.3} s", started.elapsed().as_secs_f64());
    }
    // The process exits next: freeing an org's parsed files and jobs piece by piece would only delay it
    // (a tenth of the run on 10,000 projects), so they are left for the exit to reclaim.
    std::mem::forget((audit, findings));
    std::mem::forget((pipelines, cache, snap));
    code
}

/// Apply the policy's ignores and inline ignore comments (unless `--no-ignores`): the suppressed findings and
/// expired ignores go on the audit for every format to count, expired ignores are announced, the rest is
/// returned.
fn suppress(
    audit: &mut crate::audit::Audit,
    findings: Vec<crate::finding::Finding>,
    policy: &crate::config::Config,
    out: &OutputArgs,
) -> Vec<crate::finding::Finding> {
    let outcome = crate::suppress::apply(
        findings,
        &policy.ignores,
        &audit.snap.sources,
        &crate::suppress::today(),
        !out.no_ignores,
    );
    for e in &outcome.expired {
        eprintln!("warning: {e}");
    }
    audit.suppressed = outcome.suppressed;
    audit.expired_ignores = outcome.expired;
    outcome.kept
}

/// Print and write the result in the requested formats, and choose the exit code.
fn deliver(
    audit: &crate::audit::Audit,
    findings: &[crate::finding::Finding],
    out: &OutputArgs,
    policy: &crate::config::Config,
    failed: bool,
) -> u8 {
    let render = |format: AuditFormat, color: bool| -> String {
        use report::formats;
        let pretty = |v: serde_json::Value| report::pretty_json(&v);
        match format {
            AuditFormat::Human => report::human::render(audit, findings, color),
            AuditFormat::Json => report::json::render(audit, findings),
            AuditFormat::Markdown => formats::markdown(audit, findings),
            AuditFormat::Csv => formats::csv(audit),
            AuditFormat::Sarif => pretty(formats::sarif(audit, findings)),
            AuditFormat::Codequality => pretty(formats::codequality(audit, findings)),
            AuditFormat::Junit => formats::junit(audit, findings),
            AuditFormat::Dot => formats::dot(audit),
            AuditFormat::Mermaid => formats::mermaid(audit),
        }
    };
    // The files to write: each `--report`, then `--output` in the `--format`.
    let files: Vec<(AuditFormat, &PathBuf)> = out
        .reports
        .iter()
        .map(|(f, file)| (*f, file))
        .chain(out.output.as_ref().map(|file| (out.format, file)))
        .collect();
    // Never write over the input: a file tokenscope read, or any path inside a snapshot directory.
    for (_, file) in &files {
        if audit.snap.protects(file) {
            eprintln!(
                "error: {} is part of the input (inside the snapshot); tokenscope does not write into it",
                file.display()
            );
            return exit::USAGE;
        }
    }
    for (format, file) in files {
        if let Err(e) = std::fs::write(file, render(format, false)) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return exit::USAGE;
        }
    }
    if out.output.is_none() {
        emit(&render(out.format, report::diagnostics::use_color()));
    }
    use crate::config::FailOn as Policy;
    let fail_on = match out.fail_on {
        Some(FailOn::Error) => Policy::At(crate::diag::Severity::Error),
        Some(FailOn::Warning) => Policy::At(crate::diag::Severity::Warning),
        Some(FailOn::Note) => Policy::At(crate::diag::Severity::Note),
        Some(FailOn::Never) => Policy::Never,
        None => policy.fail_on.unwrap_or(Policy::At(crate::diag::Severity::Error)),
    };
    let threshold = match fail_on {
        Policy::At(s) => Some(s),
        Policy::Never => None,
    };
    if failed || report::fetch_failed(audit) {
        exit::PARTIAL
    } else if threshold.is_some_and(|t| findings.iter().any(|f| f.severity >= t)) {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

fn lint(args: LintArgs) -> u8 {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let Some(project) = args.project.clone().or_else(|| env("CI_PROJECT_PATH")) else {
        eprintln!("error: which project is this? pass --project PATH (in GitLab CI, CI_PROJECT_PATH is used)");
        return exit::USAGE;
    };
    let url = args.url.clone().or_else(|| env("CI_SERVER_URL"));
    let base = args.base.clone().or_else(|| env("CI_MERGE_REQUEST_DIFF_BASE_SHA"));
    // Allowlists: --manifest, else the API when there is a token, else none (each access is then a note).
    let mut manifest = args.manifest.clone();
    let fetched = match (&manifest, &url, args.offline) {
        (None, Some(url), false) => match lint_from_api(&args, url, &project) {
            Ok(f) => f,
            Err(code) => return code,
        },
        _ => None,
    };
    if let Some((_, m)) = &fetched {
        manifest = Some(m.clone()); // the temporary snapshot lives as long as `fetched`
    }
    let sources = Arc::new(SourceMap::new());
    // One run of the lint on a checkout: the audit of that project alone, scoped to it.
    let run = |dir: &std::path::Path, sources: Arc<SourceMap>| -> Result<(Snapshot, Vec<Pipeline>), u8> {
        let snap = crate::lint::snapshot(dir, &project, manifest.as_deref(), url.as_deref(), sources.clone()).map_err(
            |errors| {
                print_diagnostics(&errors, &sources);
                exit::USAGE
            },
        )?;
        let cache = ParseCache::default();
        let p = snap.manifest.projects.get(&project).expect("the linted project is in the manifest");
        let pipeline = ci::resolve(&snap, &cache, p, false);
        Ok((snap, vec![pipeline]))
    };
    let (snap, pipelines) = match run(&args.dir, sources.clone()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    print_diagnostics(&pipelines[0].diagnostics, &snap.sources);
    let policy = match load_policy(&args.out, &snap) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let notes = manifest.is_none();
    let (mut audit, mut findings) = lint_audit(&snap, &pipelines, &policy, &project, notes);
    if let Some(rev) = &base {
        let dir = match crate::lint::export_revision(&args.dir, rev) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: cannot read the base revision: {e}");
                return exit::USAGE;
            }
        };
        let base_sources = Arc::new(SourceMap::new());
        let (base_snap, base_pipelines) = match run(dir.path(), base_sources) {
            Ok(r) => r,
            Err(code) => return code,
        };
        let (_, base_findings) = lint_audit(&base_snap, &base_pipelines, &policy, &project, notes);
        findings = crate::lint::introduced(findings, &base_findings);
    }
    let findings = suppress(&mut audit, findings, &policy, &args.out);
    let failed = pipelines[0].status == Status::Failed;
    deliver(&audit, &findings, &args.out, &policy, failed)
}

/// With a token: fetch what a lint needs from the instance into a temporary snapshot, and return it with its
/// manifest. Without a token, or when the instance cannot be read, `None` (a warning says why).
fn lint_from_api(args: &LintArgs, url: &str, project: &str) -> Result<Option<(tempfile::TempDir, PathBuf)>, u8> {
    let Some(credential) = credential(args.token_file.as_deref())? else {
        return Ok(None);
    };
    let live = LiveArgs {
        url: None,
        groups: vec![],
        projects: vec![],
        token_file: None,
        concurrency: 8,
        max_rps: None,
        timeout: 30,
        retries: 3,
        ca_cert: args.ca_cert.clone(),
        retry_delay_ms: 500,
    };
    let client = make_client(url, credential, &live)?;
    let tmp = tempfile::Builder::new().prefix("tokenscope-lint-").tempdir().map_err(|e| {
        eprintln!("error: cannot create a temporary directory: {e}");
        exit::USAGE
    })?;
    let dir = tmp.path().join("snap");
    match runtime()?.block_on(crate::gitlab::fetch::lint_context(&client, url, project, &args.dir, &dir)) {
        Ok((manifest, outcome)) => {
            eprintln!(
                "read the settings of {} project(s) the jobs reach from {url} ({} requests)",
                outcome.projects, outcome.requests
            );
            Ok(Some((tmp, manifest)))
        }
        Err(e) => {
            eprintln!(
                "warning: cannot read from {url}: {}; `include: project:` files and allowlists are unknown",
                crate::redact::redact(&e)
            );
            Ok(None)
        }
    }
}

/// The audit of the linted project alone, scoped to it; with `notes`, accesses to projects whose allowlist
/// is unknown are notes.
fn lint_audit<'a>(
    snap: &'a Snapshot,
    pipelines: &'a [Pipeline],
    policy: &crate::config::Config,
    project: &str,
    notes: bool,
) -> (crate::audit::Audit<'a>, Vec<crate::finding::Finding>) {
    let (audit, findings) = crate::audit::run(snap, pipelines, policy);
    let mut scoped = crate::lint::scope(findings, project);
    if notes {
        scoped.extend(crate::lint::notes_without_allowlists(&audit, project));
    }
    scoped.extend(crate::lint::notes_for_unknown(&audit, project));
    (audit, scoped)
}

fn rules() -> u8 {
    use tabled::{Table, Tabled, settings::Style};
    #[derive(Tabled)]
    struct Row {
        id: &'static str,
        severity: &'static str,
        summary: &'static str,
        docs: String,
    }
    let rows: Vec<Row> = crate::audit::registry()
        .into_iter()
        .map(|r| {
            let m = r.meta();
            Row { id: m.id, severity: m.severity.as_str(), summary: m.summary, docs: m.docs() }
        })
        .collect();
    emit(&format!("{}\n", Table::new(rows).with(Style::sharp())));
    exit::OK
}

/// The audit policy: `--config FILE`, else `.tokenscope.yml` in the snapshot, else the defaults.
fn load_policy(args: &OutputArgs, snap: &Snapshot) -> Result<crate::config::Config, u8> {
    let ids: Vec<&str> = crate::audit::registry().iter().map(|r| r.meta().id).collect();
    let (path, display) = match &args.config {
        Some(p) => (p.clone(), p.display().to_string()),
        None => {
            let p = snap.root.join(crate::config::CONFIG_NAME);
            if !p.is_file() {
                return Ok(crate::config::Config::default());
            }
            (p, crate::config::CONFIG_NAME.to_string())
        }
    };
    snap.add_input(&path);
    crate::config::load(&path, &display, &snap.sources, &ids).map_err(|errors| {
        print_diagnostics(&errors, &snap.sources);
        eprintln!("error: the audit policy has {} error(s); nothing was audited", errors.len());
        exit::USAGE
    })
}
