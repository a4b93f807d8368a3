//! `--format mermaid`: the graph for Mermaid (`graph LR`); Markdown reports embed it.

use super::Report;
use crate::engine::{Audit, EdgeStatus};
use std::fmt::Write;

/// Mermaid `graph LR`: token edges solid (missing ones red), `trigger`/`include` relations dashed.
pub(crate) fn render(report: &Report) -> String {
    graph(report.audit)
}

/// The graph alone, as Markdown reports embed it.
pub(crate) fn graph(audit: &Audit) -> String {
    let mut o = String::from("graph LR\n");
    let mut ids: Vec<String> = Vec::new();
    let mut id = |name: &str, o: &mut String| -> String {
        match ids.iter().position(|n| n == name) {
            Some(i) => format!("n{i}"),
            None => {
                ids.push(name.to_string());
                let _ = writeln!(o, "  n{}[\"{}\"]", ids.len() - 1, (name).replace('"', "'"));
                format!("n{}", ids.len() - 1)
            }
        }
    };
    let mut missing = Vec::new();
    for (k, e) in audit.edges.iter().enumerate() {
        let (a, b) = (id(&e.caller, &mut o), id(&e.callee, &mut o));
        let label = e.kind_list().replace('"', "'");
        let arrow = if e.status == EdgeStatus::Relation { "-.->" } else { "-->" };
        let _ = writeln!(o, "  {a} {arrow}|\"{label}\"| {b}");
        if matches!(e.status, EdgeStatus::Missing | EdgeStatus::Unenforced) {
            missing.push(k);
        }
    }
    for k in missing {
        let _ = writeln!(o, "  linkStyle {k} stroke:#d00,stroke-width:2px");
    }
    o
}
