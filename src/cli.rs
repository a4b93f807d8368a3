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
    /// Print every project's resolved CI jobs (includes, extends, references, variables and matrices applied).
    Jobs(JobsArgs),
    /// List every rule with its id, default severity, summary and documentation anchor.
    Rules,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Snapshot directory (holding tokenscope.yaml).
    pub snapshot: PathBuf,
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// `overbroad-group-entry`: only group entries covering at least this many snapshot projects.
    #[arg(long, default_value_t = 3)]
    pub overbroad_min_projects: usize,
    /// `overbroad-group-entry`: fires when fewer than this percentage of the covered projects are callers.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub overbroad_max_used_percent: u8,
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
        Command::Jobs(a) => jobs(a),
        Command::Rules => rules(),
    })
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn print_diagnostics(diags: &[Diagnostic], sources: &SourceMap) {
    let color = report::diagnostics::use_color();
    for d in diags {
        eprint!("{}", report::diagnostics::render(d, sources, color));
    }
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
    let pipelines = ci::resolve_all(&snap, &cache);
    let selected = match select(&pipelines, &args.projects) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for p in &selected {
        print_diagnostics(&p.diagnostics, &snap.sources);
    }
    match args.format {
        JobsFormat::Text => emit(&report::jobs::to_text(&selected, &snap.sources)),
        JobsFormat::Json => {
            let doc = report::jobs::to_json(&selected, &snap.sources);
            emit(&(serde_json::to_string_pretty(&doc).expect("JSON") + "\n"));
        }
    }
    if selected.iter().any(|p| p.status == Status::Failed) { exit::PARTIAL } else { exit::OK }
}

fn audit(args: AuditArgs) -> u8 {
    let snap = match load_snapshot(&args.snapshot) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cache = ParseCache::default();
    let pipelines = ci::resolve_all(&snap, &cache);
    for p in &pipelines {
        print_diagnostics(&p.diagnostics, &snap.sources);
    }
    let config = crate::audit::AuditConfig {
        overbroad_min_projects: args.overbroad_min_projects,
        overbroad_max_used_percent: args.overbroad_max_used_percent as usize,
    };
    let (audit, findings) = crate::audit::run(&snap, &pipelines, config);
    match args.format {
        AuditFormat::Human => emit(&report::human::render(&audit, &findings, report::diagnostics::use_color())),
        AuditFormat::Json => {
            let doc = report::json::render(&audit, &findings);
            emit(&(serde_json::to_string_pretty(&doc).expect("JSON") + "\n"));
        }
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(crate::diag::Severity::Error),
        FailOn::Warning => Some(crate::diag::Severity::Warning),
        FailOn::Note => Some(crate::diag::Severity::Note),
        FailOn::Never => None,
    };
    if pipelines.iter().any(|p| p.status == Status::Failed) {
        exit::PARTIAL
    } else if threshold.is_some_and(|t| findings.iter().any(|f| f.severity >= t)) {
        exit::FINDINGS
    } else {
        exit::OK
    }
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
