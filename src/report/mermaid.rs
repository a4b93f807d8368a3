//! `--format mermaid`: the graph for Mermaid (`graph LR`); Markdown reports embed it.

use super::Report;
use crate::engine::{Edge, EdgeStatus};
use std::collections::HashMap;
use std::fmt::Write;

/// Mermaid `graph LR`: token edges solid and labelled with their status (missing ones red, unenforced
/// ones orange), `trigger`/`include` relations dashed.
pub(crate) fn render(report: &Report) -> String {
    graph(report.edges())
}

/// The graph of `edges` alone, as Markdown reports embed it.
pub(crate) fn graph<'e>(edges: impl Iterator<Item = &'e Edge>) -> String {
    let mut o = String::from("graph LR\n");
    // Node ids by name: a map, not a scan per edge (a large org has tens of thousands of nodes).
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut id = |name: &str, o: &mut String| -> String {
        if let Some(i) = ids.get(name) {
            return format!("n{i}");
        }
        let i = ids.len();
        ids.insert(name.to_string(), i);
        let _ = writeln!(o, "  n{i}[\"{}\"]", (name).replace('"', "'"));
        format!("n{i}")
    };
    // Styled links, by index: missing red, unenforced orange (as DOT draws them).
    let mut styled: Vec<(usize, &str)> = Vec::new();
    for (k, e) in edges.enumerate() {
        let (a, b) = (id(&e.caller, &mut o), id(&e.callee, &mut o));
        let label = match e.status {
            EdgeStatus::Relation => e.kind_list(),
            s => format!("{} ({})", e.kind_list(), s.as_str()),
        }
        .replace('"', "'");
        let arrow = if e.status == EdgeStatus::Relation { "-.->" } else { "-->" };
        let _ = writeln!(o, "  {a} {arrow}|\"{label}\"| {b}");
        match e.status {
            EdgeStatus::Missing => styled.push((k, "stroke:#d00,stroke-width:2px")),
            EdgeStatus::Unenforced => styled.push((k, "stroke:#e80,stroke-width:2px")),
            _ => {}
        }
    }
    for (k, style) in styled {
        let _ = writeln!(o, "  linkStyle {k} {style}");
    }
    o
}
