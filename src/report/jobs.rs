//! `tokenscope jobs`: every project's resolved jobs, as text or JSON.

use crate::ci::jobs::{Image, Job, Line};
use crate::ci::pipelines::Runs;
use crate::ci::vars::{Var, VarOrigin};
use crate::ci::{Pipeline, Status};
use crate::diag::Location;
use crate::source::{SourceMap, Span};
use serde_json::{Value, json};
use std::fmt::Write;

fn loc(sources: &SourceMap, span: Span) -> Location {
    Location::of(sources, span)
}

fn lines_json(sources: &SourceMap, lines: &[Line]) -> Value {
    lines.iter().map(|l| json!({"text": l.text, "location": loc(sources, l.span)})).collect()
}

fn image_json(sources: &SourceMap, i: &Image) -> Value {
    json!({"name": i.name, "location": loc(sources, i.span)})
}

/// The variables a job adds to its project's global ones: job-level, matrix, forwarded to a child
/// pipeline, or a global the child pipeline defines differently. Globals are listed once per project.
fn own_vars<'j>(j: &'j Job, p: &Pipeline) -> Vec<&'j Var> {
    j.vars
        .defined()
        .filter(|v| {
            v.origin != VarOrigin::Global
                || p.global_vars.get(&v.name).is_none_or(|g| g.value != v.value || g.span != v.span)
        })
        .collect()
}

/// Which of the project's global variables the job inherits: "all", "none", or the names.
fn inherited_globals(j: &Job, p: &Pipeline) -> Value {
    let globals: Vec<&Var> = p.global_vars.defined().collect();
    let inherited: Vec<&str> = globals
        .iter()
        .filter(|g| j.vars.get(&g.name).is_some_and(|v| v.span == g.span || v.origin != VarOrigin::Global))
        .map(|g| g.name.as_str())
        .collect();
    if inherited.len() == globals.len() {
        json!("all")
    } else if inherited.is_empty() {
        json!("none")
    } else {
        json!(inherited)
    }
}

fn var_json(v: &Var, sources: &SourceMap) -> Value {
    json!({"name": v.name, "value": v.value, "origin": v.origin, "expand": v.expand,
           "location": v.span.map(|s| loc(sources, s))})
}

fn var_line(o: &mut String, indent: &str, v: &Var, sources: &SourceMap) {
    let at = v.span.map(|s| format!("  {}", loc(sources, s))).unwrap_or_default();
    let raw = if v.expand { "" } else { " (expand: false)" };
    let origin = serde_json::to_value(v.origin).ok().and_then(|x| x.as_str().map(str::to_string)).unwrap_or_default();
    let _ = writeln!(o, "{indent}var {}={}{raw}  [{origin}]{at}", v.name, v.value);
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::NoCi => "no-ci",
        Status::Failed => "failed",
    }
}

/// The JSON document of `jobs --format json` (documented in docs/json-output.md).
pub(crate) fn to_json(pipelines: &[&Pipeline], sources: &SourceMap) -> Value {
    let projects: Vec<Value> = pipelines
        .iter()
        .map(|p| {
            let jobs: Vec<Value> = p
                .jobs
                .iter()
                .map(|j| {
                    let vars: Vec<Value> = own_vars(j, p).into_iter().map(|v| var_json(v, sources)).collect();
                    let needs: Vec<Value> = j
                        .needs
                        .iter()
                        .map(|n| {
                            json!({"job": n.job, "project": n.project, "ref": n.reference, "pipeline": n.pipeline,
                                   "artifacts": n.artifacts, "location": loc(sources, n.span)})
                        })
                        .collect();
                    json!({
                        "name": j.name,
                        "child_pipeline_of": j.child_of,
                        "stage": j.stage,
                        "runs": j.runs,
                        "location": loc(sources, j.span),
                        "image": j.image.as_ref().map(|i| image_json(sources, i)),
                        "services": j.services.iter().map(|i| image_json(sources, i)).collect::<Vec<_>>(),
                        "variables": vars,
                        "global_variables": inherited_globals(j, p),
                        "before_script": lines_json(sources, &j.before_script),
                        "script": lines_json(sources, &j.script),
                        "after_script": lines_json(sources, &j.after_script),
                        "needs": needs,
                        "config": j.node.to_json(&str::to_string),
                        "trigger": j.trigger.as_ref().map(|t| json!({"project": t.project, "branch": t.branch,
                            "child": t.child, "location": loc(sources, t.span)})),
                    })
                })
                .collect();
            let globals: Vec<Value> = p.global_vars.defined().map(|v| var_json(v, sources)).collect();
            json!({
                "path": p.project,
                "variables": globals,
                "status": status_str(p.status),
                "config_file": p.config_file,
                "errors": p.diagnostics.iter().map(|d| json!({"severity": d.severity, "message": d.message,
                    "location": d.location(sources)})).collect::<Vec<_>>(),
                "includes": p.includes.iter().map(|i| json!({"kind": i.kind, "project": i.project, "file": i.file,
                    "conditional": i.conditional, "location": loc(sources, i.from)})).collect::<Vec<_>>(),
                "unresolved_includes": p.unresolved.iter().map(|u| json!({"kind": u.kind, "target": u.target,
                    "reason": u.reason, "location": loc(sources, u.from)})).collect::<Vec<_>>(),
                "jobs": jobs,
            })
        })
        .collect();
    json!({"version": 1, "projects": projects})
}

/// Plain-text listing.
pub(crate) fn to_text(pipelines: &[&Pipeline], sources: &SourceMap) -> String {
    let mut o = String::new();
    for p in pipelines {
        let file = p.config_file.as_deref().unwrap_or("-");
        let _ = writeln!(o, "{} ({file}): {}, {} jobs", p.project, status_str(p.status), p.job_count());
        for i in &p.includes {
            let cond = if i.conditional { " (conditional)" } else { "" };
            let _ = writeln!(o, "  include {} {}:{}{cond}  <- {}", i.kind, i.project, i.file, loc(sources, i.from));
        }
        for u in &p.unresolved {
            let _ =
                writeln!(o, "  unresolved include {} {}: {}  <- {}", u.kind, u.target, u.reason, loc(sources, u.from));
        }
        for d in &p.diagnostics {
            let _ = writeln!(o, "  {}", d.one_line(sources));
        }
        for v in p.global_vars.defined() {
            var_line(&mut o, "  ", v, sources);
        }
        for j in &p.jobs {
            let child = j.child_of.as_ref().map(|c| format!(" (child pipeline of `{c}`)")).unwrap_or_default();
            let runs = if j.runs.never() {
                "never runs".to_string()
            } else if matches!(j.runs, Runs::ALL | Runs::BRANCHES_AND_TAGS) {
                String::new()
            } else {
                format!("  runs in: {}", j.runs.names().join(", "))
            };
            let runs = if j.runs.never() { format!("  ({runs}: its rules exclude every pipeline)") } else { runs };
            let _ = writeln!(o, "  job {}{child}  [stage {}]{runs}  {}", j.name, j.stage, loc(sources, j.span));
            let images = j.image.iter().map(|i| ("image", i));
            for (what, i) in images.chain(j.services.iter().map(|s| ("service", s))) {
                let expanded = j.vars.expand(&i.name);
                let shown = if expanded == i.name { String::new() } else { format!(" (= {})", expanded) };
                let _ = writeln!(o, "    {what}: {}{shown}  {}", i.name, loc(sources, i.span));
            }
            match inherited_globals(j, p) {
                Value::String(s) if s == "all" => {}
                Value::String(s) => {
                    let _ = writeln!(o, "    inherits global variables: {s}");
                }
                v => {
                    let names: Vec<&str> = v.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    let _ = writeln!(o, "    inherits global variables: {}", names.join(", "));
                }
            }
            for v in own_vars(j, p) {
                var_line(&mut o, "    ", v, sources);
            }
            for (section, lines) in
                [("before_script", &j.before_script), ("script", &j.script), ("after_script", &j.after_script)]
            {
                for l in lines.iter() {
                    let first = l.text.lines().next().unwrap_or("");
                    let more = if l.text.trim_end().contains('\n') { " ..." } else { "" };
                    let _ = writeln!(o, "    {section}: {}{more}  {}", first, loc(sources, l.span));
                }
            }
            for n in &j.needs {
                if let Some(proj) = &n.project {
                    let _ = writeln!(
                        o,
                        "    needs: project {proj} job {} ref {}  {}",
                        n.job.as_deref().unwrap_or("?"),
                        n.reference.as_deref().unwrap_or("?"),
                        loc(sources, n.span)
                    );
                } else if let Some(job) = &n.job {
                    let _ = writeln!(o, "    needs: {job}  {}", loc(sources, n.span));
                }
            }
            if let Some(t) = &j.trigger {
                match (&t.project, t.child) {
                    (Some(proj), _) => {
                        let _ = writeln!(o, "    trigger: project {proj}  {}", loc(sources, t.span));
                    }
                    (None, true) => {
                        let _ = writeln!(o, "    trigger: child pipeline  {}", loc(sources, t.span));
                    }
                    _ => {}
                }
            }
        }
    }
    o
}
