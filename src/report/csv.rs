//! `--format csv`: one row per edge, for spreadsheets.

use super::{Report, evidence_shown};
use crate::engine::graph::Relation;
use std::fmt::Write;

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One row per edge, for spreadsheets.
pub(crate) fn render(report: &Report) -> String {
    let audit = report.audit;
    let mut o = String::from("caller,callee,relation,kinds,permissions,status,confidence,entry,evidence\n");
    for e in &audit.edges {
        let ev = evidence_shown(audit, e, |f, l, _| format!("{f}:{l}"));
        let row = [
            e.caller.clone(),
            e.callee.to_string(),
            e.relation.as_str().to_string(),
            e.kind_names().join(" "),
            e.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" "),
            e.status.as_str().to_string(),
            if e.relation == Relation::Token { format!("{:?}", e.confidence).to_lowercase() } else { String::new() },
            audit.entry_path(e).unwrap_or_default().to_string(),
            ev.join(" "),
        ];
        let _ = writeln!(o, "{}", row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
    }
    o
}
