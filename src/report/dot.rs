//! `--format dot`: the graph for Graphviz.

use super::Report;
use crate::engine::EdgeStatus;
use std::fmt::Write;

/// DOT: the same graph for Graphviz.
pub(crate) fn render(report: &Report) -> String {
    let q = |s: &str| format!("\"{}\"", (s).replace('\\', "\\\\").replace('"', "\\\""));
    let mut o = String::from("digraph tokenscope {\n  rankdir=LR;\n  node [shape=box];\n");
    for e in report.edges() {
        let label = e.kind_list();
        let style = match e.status {
            EdgeStatus::Relation => "style=dashed, color=gray40",
            EdgeStatus::Missing => "color=red, penwidth=2",
            EdgeStatus::Unenforced => "color=orange, penwidth=2",
            _ => "style=solid",
        };
        let _ = writeln!(
            o,
            "  {} -> {} [label={}, {style}];",
            q(&e.caller),
            q(&e.callee),
            q(&format!("{label} ({})", e.status.as_str()))
        );
    }
    o.push_str("}\n");
    o
}
