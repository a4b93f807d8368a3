//! `tokenscope explain LOG`: each job-token failure in a failed job's log, with its verdict and fix
//! (`crate::explain`), judged against a snapshot when one is given.

use crate::ci::ParseCache;
use crate::cli::args::{ExplainArgs, ExplainFormat};
use crate::cli::error::Error;
use crate::cli::terminal::Terminal;
use crate::cli::{live, output};
use crate::engine::Audit;
use crate::explain::{self, Context, Diagnosis};
use crate::gitlab::client::Credential;
use crate::policy::Exit;
use std::fmt::Write;
use std::io::Read;

/// Job logs are at most this large (GitLab's default maximum is 100 MiB); a larger input is cut.
const MAX_LOG_BYTES: usize = 128 << 20;

fn read_log(args: &ExplainArgs, term: &Terminal, project: Option<&str>) -> Result<String, Error> {
    let mut bytes = Vec::new();
    match (&args.log, args.job_id) {
        (Some(p), _) if p.as_os_str() == "-" => {
            std::io::stdin()
                .take(MAX_LOG_BYTES as u64)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::Io { what: "read standard input".into(), source: e })?;
        }
        (Some(p), _) => {
            let f =
                std::fs::File::open(p).map_err(|e| Error::Io { what: format!("read {}", p.display()), source: e })?;
            f.take(MAX_LOG_BYTES as u64)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::Io { what: format!("read {}", p.display()), source: e })?;
        }
        (None, Some(id)) => {
            let url = args
                .url
                .clone()
                .or_else(|| live::env_value("CI_SERVER_URL"))
                .ok_or_else(|| Error::usage("which GitLab? pass --url"))?;
            let project = project.ok_or_else(|| Error::usage("--job-id needs --project"))?;
            let credential = live::credential(term, args.token_file.as_deref())?.unwrap_or(Credential::Anonymous);
            let client = live::client(&url, credential, &args.connection)?;
            let path = format!("/projects/{}/jobs/{id}/trace", crate::gitlab::fetch::enc(project));
            bytes = live::runtime()?
                .block_on(client.get_raw(&path, MAX_LOG_BYTES))
                .map_err(|e| Error::live(format!("cannot fetch the trace of job {id}: {e}")))?;
        }
        (None, None) => return Err(Error::usage("which log? pass a file, `-`, or --job-id")),
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn run(args: ExplainArgs, term: &Terminal) -> Result<Exit, Error> {
    let project = args.project.clone().or_else(|| live::env_value("CI_PROJECT_PATH"));
    let log = read_log(&args, term, project.as_deref())?;
    let snap = args.snapshot.as_deref().map(|d| output::load_snapshot(term, d)).transpose()?;
    let cache = ParseCache::default();
    let (pipelines, accesses) = match &snap {
        Some(s) => output::resolve_and_detect(term, s, &cache),
        None => (Vec::new(), Vec::new()),
    };
    let audit = snap.as_ref().map(|s| Audit::build(s, &pipelines, accesses));
    if let (Some(a), Some(p)) = (&audit, &project)
        && !a.snap.manifest.projects.contains_key(p)
    {
        return Err(Error::usage(format!("`{p}` is not a project of the snapshot")));
    }
    let ctx = Context { audit: audit.as_ref(), project, job: args.job.clone() };
    let diagnoses = explain::explain(&log, &ctx);
    let text = match args.format {
        ExplainFormat::Json => {
            let mut s = serde_json::to_string_pretty(&serde_json::json!({ "version": 1, "diagnoses": diagnoses }))
                .expect("diagnoses serialize");
            s.push('\n');
            crate::text::json_safe(&s).into_owned()
        }
        ExplainFormat::Human => crate::text::clean(&human(&diagnoses)).into_owned(),
    };
    term.stdout(&text)?;
    Ok(Exit::Ok)
}

fn human(diagnoses: &[Diagnosis]) -> String {
    let mut o = String::new();
    if diagnoses.is_empty() {
        o.push_str("no job-token failure found in the log\n");
    }
    for d in diagnoses {
        let kind: &str = d.kind.into();
        let verdict =
            serde_json::to_value(d.verdict).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = writeln!(o, "log line {}: {kind}: {verdict}", d.log_line);
        let _ = writeln!(
            o,
            "  {} -> {}",
            d.caller.as_deref().unwrap_or("(caller unknown)"),
            d.callee.as_deref().unwrap_or("(callee unknown)")
        );
        if let Some(l) = &d.ci_location {
            let _ = writeln!(o, "  made at {}:{}", l.file, l.line);
        }
        for line in d.fix.lines() {
            let _ = writeln!(o, "  {line}");
        }
        for l in &d.lines {
            let _ = writeln!(o, "  | {l}");
        }
        o.push('\n');
    }
    o
}
