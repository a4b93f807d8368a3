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
    /// Print every project's resolved CI jobs (includes, extends, references, variables and matrices applied).
    Jobs(JobsArgs),
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
        Command::Jobs(a) => jobs(a),
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
