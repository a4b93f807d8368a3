//! `tokenscope jobs`: every project's resolved jobs, as text or JSON.

use crate::ci::{self, ParseCache, Pipeline, Status};
use crate::cli::args::{JobsArgs, JobsFormat};
use crate::cli::error::Error;
use crate::cli::output::load_snapshot;
use crate::cli::terminal::Terminal;
use crate::policy::Exit;
use crate::report;

pub(crate) fn run(args: JobsArgs, term: &Terminal) -> Result<Exit, Error> {
    let snap = load_snapshot(term, &args.snapshot)?;
    let cache = ParseCache::default();
    let pipelines = ci::resolve_all(&snap, &cache, true);
    let selected = select(&pipelines, &args.projects)?;
    term.diagnostics(selected.iter().flat_map(|p| &p.diagnostics), &snap.sources);
    match args.format {
        // Cleaned whole, as every report is (see `report::Format::render`).
        JobsFormat::Text => term.stdout(&report::clean_text(report::jobs::to_text(&selected, &snap.sources)))?,
        JobsFormat::Json => {
            term.stdout(&report::clean_json(report::pretty_json(&report::jobs::to_json(&selected, &snap.sources))))?
        }
    }
    Ok(if selected.iter().any(|p| p.status == Status::Failed) { Exit::Partial } else { Exit::Ok })
}

/// The requested projects, or an error naming one that is not in the snapshot.
fn select<'p>(pipelines: &'p [Pipeline], wanted: &[String]) -> Result<Vec<&'p Pipeline>, Error> {
    if let Some(w) = wanted.iter().find(|w| !pipelines.iter().any(|p| &&p.project == w)) {
        return Err(Error::usage(format!("project `{w}` is not in the snapshot")));
    }
    Ok(pipelines.iter().filter(|p| wanted.is_empty() || wanted.contains(&p.project)).collect())
}
