//! Rendering: every format is rendered from the same audit result (`Finding`s and edges).

pub mod diagnostics;
pub mod formats;
pub mod human;
pub mod jobs;
pub mod json;

use crate::audit::{Audit, EdgeStatus};
use crate::diag::Severity;
use crate::finding::Finding;
use std::collections::BTreeMap;

/// Counts shown in every format's summary.
pub struct Summary {
    pub projects: usize,
    pub failed: usize,
    pub edges: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub suppressed: usize,
}

impl Summary {
    /// Edge counts by status (`10 allowed, 2 missing`), or `none`.
    pub fn statuses(&self) -> String {
        if self.by_status.is_empty() {
            return "none".to_string();
        }
        self.by_status.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
    }
}

/// Data the snapshot could not read, per project (live snapshots record it): (project, skipped), by path.
pub fn skipped<'a>(audit: &'a Audit) -> impl Iterator<Item = (&'a str, &'a crate::snapshot::manifest::Skipped)> {
    audit.snap.manifest.projects.iter().flat_map(|(path, p)| p.skipped.iter().map(move |s| (path.as_str(), s)))
}

/// Whether the snapshot failed to read some data (an error, not an expected gap): the run exits 3.
pub fn fetch_failed(audit: &Audit) -> bool {
    skipped(audit).any(|(_, s)| s.failed)
}

pub fn summary(audit: &Audit, findings: &[Finding]) -> Summary {
    let token_edges: Vec<_> = audit.edges.iter().filter(|e| e.status != EdgeStatus::Relation).collect();
    let mut by_status = BTreeMap::new();
    for e in &token_edges {
        *by_status.entry(e.status.as_str()).or_insert(0) += 1;
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    Summary {
        projects: audit.pipelines.len(),
        failed: audit.pipelines.iter().filter(|p| p.status == crate::ci::Status::Failed).count(),
        edges: token_edges.len(),
        by_status,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        notes: count(Severity::Note),
        suppressed: audit.suppressed.len(),
    }
}

/// `serde_json::to_string_pretty` of `doc`, byte for byte, with the elements of long arrays written in
/// parallel: a large org's report holds tens of thousands of edges and findings. (JSON strings hold no raw
/// line break, so a part written on its own is indented by prefixing each of its lines.)
pub fn pretty_json(doc: &serde_json::Value) -> String {
    use rayon::prelude::*;
    use serde_json::Value;
    const PARALLEL_FROM: usize = 256;
    fn is_big(v: &Value) -> bool {
        match v {
            Value::Array(items) => items.len() >= PARALLEL_FROM || items.iter().any(is_big),
            Value::Object(m) => m.values().any(is_big),
            _ => false,
        }
    }
    fn indent(text: &str, pad: &str) -> String {
        text.replace('\n', &format!("\n{pad}"))
    }
    fn write(v: &Value, depth: usize) -> String {
        let pad = "  ".repeat(depth + 1);
        let close = "  ".repeat(depth);
        match v {
            Value::Array(items) if !items.is_empty() && is_big(v) => {
                let parts: Vec<String> = items.par_iter().map(|x| format!("{pad}{}", write(x, depth + 1))).collect();
                format!("[\n{}\n{close}]", parts.join(",\n"))
            }
            Value::Object(m) if !m.is_empty() && is_big(v) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, x)| format!("{pad}{}: {}", Value::from(k.as_str()), write(x, depth + 1)))
                    .collect();
                format!("{{\n{}\n{close}}}", parts.join(",\n"))
            }
            _ => indent(&serde_json::to_string_pretty(v).expect("a JSON value"), &close),
        }
    }
    write(doc, 0) + "\n"
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    #[test]
    fn pretty_json_is_serde_json_pretty() {
        let item = |i: usize| {
            json!({"path": format!("g/p{i}"), "n": i, "ok": i.is_multiple_of(2), "none": null, "empty": [], "obj": {},
                   "text": "a \"quoted\"\nline\ttab é \u{1F600} \\", "list": [1, [2, []], {"k": [3]}]})
        };
        let big: Vec<Value> = (0..600).map(item).collect();
        for doc in [
            json!({}),
            json!([]),
            json!("just a string"),
            json!({"version": 1, "small": [item(1)], "empty": []}),
            json!({"version": 1, "projects": big.clone(), "nested": {"edges": big.clone(), "x": 1}, "after": [] }),
            Value::Array(big.clone()),
            json!([[big.clone()], {}]),
        ] {
            assert_eq!(super::pretty_json(&doc), serde_json::to_string_pretty(&doc).unwrap() + "\n");
        }
    }
}
