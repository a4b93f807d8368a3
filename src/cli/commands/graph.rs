//! `tokenscope graph`: who reaches whom. The reverse lookup GitLab has no API for ("whose allowlists is
//! my project on, and which projects can reach this one"), with what each allowlist entry admits, group
//! entries included, and the evidence of each edge; drawn as a neighbourhood, not the whole org.

use crate::ci::ParseCache;
use crate::cli::args::{GraphArgs, GraphFormat};
use crate::cli::error::Error;
use crate::cli::output;
use crate::cli::terminal::Terminal;
use crate::engine::graph::Relation;
use crate::engine::{Audit, EdgeStatus};
use crate::policy::Exit;
use crate::remediate::TargetRef;
use crate::report::json::AdmittedOut;
use crate::report::{Report, dot, mermaid};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write;

pub(crate) fn run(args: GraphArgs, term: &Terminal) -> Result<Exit, Error> {
    let snap = output::load_snapshot(term, &args.snapshot)?;
    let known = |p: &str| -> Result<(), Error> {
        if snap.manifest.projects.contains_key(p) {
            Ok(())
        } else {
            Err(Error::usage(format!("`{p}` is not a project of the snapshot")))
        }
    };
    let cache = ParseCache::default();
    let (pipelines, accesses) = output::resolve_and_detect(term, &snap, &cache);
    let audit = Audit::build(&snap, &pipelines, accesses);
    let (view, admitted, title) = if let Some(p) = &args.callers_of {
        known(p)?;
        let view: Vec<usize> = (0..audit.edges.len()).filter(|&i| audit.edges[i].callee == *p).collect();
        (view, admitted_into(&audit, p), format!("callers of {p}"))
    } else if let Some(p) = &args.callees_of {
        known(p)?;
        let view: Vec<usize> = (0..audit.edges.len()).filter(|&i| audit.edges[i].caller == *p).collect();
        (view, admitting(&audit, p), format!("what {p} reaches"))
    } else {
        let pair = args.path.clone().unwrap_or_default();
        let (from, to) = (&pair[0], &pair[1]);
        known(from)?;
        known(to)?;
        (shortest_path(&audit, from, to), Vec::new(), format!("path from {from} to {to}"))
    };
    let mut report = Report::new(&audit, Default::default());
    report.view = Some(view);
    let text = match args.format {
        GraphFormat::Json => crate::report::json::render_graph(&report, &admitted),
        GraphFormat::Dot => dot::render(&report),
        GraphFormat::Mermaid => mermaid::render(&report),
        GraphFormat::Human => human(&report, &admitted, &title),
    };
    let text = if args.format == GraphFormat::Json {
        crate::text::json_safe(&text).into_owned()
    } else {
        crate::text::clean(&text).into_owned()
    };
    term.stdout(&text)?;
    Ok(if audit.incomplete() { Exit::Partial } else { Exit::Ok })
}

/// Every entry of `callee`'s allowlist with each snapshot project it admits (and whether that project
/// actually uses the token against `callee`).
fn admitted_into(audit: &Audit, callee: &str) -> Vec<AdmittedOut> {
    let Some(p) = audit.snap.manifest.projects.get(callee) else { return Vec::new() };
    let callers: std::collections::HashSet<&str> = audit.edges_into(callee).map(|e| e.caller.as_str()).collect();
    let log = log_pairs(audit);
    let mut out = Vec::new();
    for entry in &p.job_token.allowlist {
        for c in audit.covered(entry).iter().filter(|c| **c != callee) {
            // The entry that decides for the caller is the nearest one: list each caller under it only.
            if crate::engine::coverage::nearest_entry(p, c).map(|i| &p.job_token.allowlist[i].path) != Some(&entry.path)
            {
                continue;
            }
            out.push(AdmittedOut {
                caller: c.to_string(),
                callee: callee.to_string(),
                entry: TargetRef::of(entry),
                permissions: entry.permissions.clone(),
                used: callers.contains(c),
                in_auth_log: log.contains(&(callee, *c)),
            });
        }
    }
    out
}

/// The authentication log as (accessed, origin) pairs, for lookups.
fn log_pairs<'a>(audit: &Audit<'a>) -> std::collections::HashSet<(&'a str, &'a str)> {
    audit.snap.manifest.auth_log.iter().map(|r| (r.accessed.as_str(), r.origin.as_str())).collect()
}

/// Every allowlist in the snapshot that admits `caller`, with the entry that decides.
fn admitting(audit: &Audit, caller: &str) -> Vec<AdmittedOut> {
    let callees: std::collections::HashSet<&str> = audit
        .edges
        .iter()
        .filter(|e| e.caller == caller && e.relation == Relation::Token)
        .map(|e| e.callee.as_str())
        .collect();
    let log = log_pairs(audit);
    let mut out = Vec::new();
    for (path, p) in &audit.snap.manifest.projects {
        if path == caller {
            continue;
        }
        if let Some(i) = crate::engine::coverage::nearest_entry(p, caller) {
            let entry = &p.job_token.allowlist[i];
            out.push(AdmittedOut {
                caller: caller.to_string(),
                callee: path.clone(),
                entry: TargetRef::of(entry),
                permissions: entry.permissions.clone(),
                used: callees.contains(path.as_str()),
                in_auth_log: log.contains(&(path.as_str(), caller)),
            });
        }
    }
    out
}

/// A shortest chain of token edges from `from` to `to` (breadth first, neighbours in path order): the
/// indexes of its edges, empty when there is none.
fn shortest_path(audit: &Audit, from: &str, to: &str) -> Vec<usize> {
    let mut out_edges: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in audit.edges.iter().enumerate() {
        if e.relation == Relation::Token && !matches!(e.status, EdgeStatus::Unresolved | EdgeStatus::External) {
            out_edges.entry(e.caller.as_str()).or_default().push(i);
        }
    }
    let mut came: BTreeMap<&str, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            break;
        }
        for &i in out_edges.get(at).map_or(&[][..], Vec::as_slice) {
            let next = audit.edges[i].callee.as_str();
            if next != from && !came.contains_key(next) {
                came.insert(next, i);
                queue.push_back(next);
            }
        }
    }
    let mut chain = Vec::new();
    let mut at = to;
    while let Some(&i) = came.get(at) {
        chain.push(i);
        at = audit.edges[i].caller.as_str();
    }
    chain.reverse();
    chain
}

fn human(report: &Report, admitted: &[AdmittedOut], title: &str) -> String {
    let audit = report.audit;
    let mut o = format!("{title}\n\n");
    let edges: Vec<_> = report.edges().collect();
    if edges.is_empty() {
        o.push_str("no job-token edge\n");
    }
    for e in edges {
        let entry = audit.entry_path(e).map_or(String::new(), |p| format!(", admitted by `{p}`"));
        let _ = writeln!(o, "{} -> {}  [{}] {}{entry}", e.caller, e.callee, e.status.as_str(), e.kind_list());
        if let Some(&i) = e.accesses.first() {
            let a = &audit.accesses[i];
            let f = audit.snap.sources.get(a.span.file);
            let more =
                if e.accesses.len() > 1 { format!(" (and {} more)", e.accesses.len() - 1) } else { String::new() };
            let _ = writeln!(o, "    {}:{}  job `{}`: {}{more}", f.display, a.span.line, a.job, a.detail);
        }
    }
    if !admitted.is_empty() {
        o.push_str("\nadmitted by allowlist entries:\n");
        for a in admitted {
            let perms = a.permissions.as_ref().map_or("default permissions".to_string(), |p| {
                format!("[{}]", crate::snapshot::manifest::Permission::list(p))
            });
            let used = match (a.used, a.in_auth_log) {
                (true, _) => "a job uses it",
                (false, true) => "only the authentication log shows it used",
                (false, false) => "no job uses it",
            };
            let _ = writeln!(o, "  {} -> {}  by {} ({perms}); {used}", a.caller, a.callee, a.entry.describe());
        }
    }
    o
}
