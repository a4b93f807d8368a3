//! `--format sarif`: SARIF 2.1.0, for code-scanning dashboards.

use super::Report;
use crate::policy::SuppressedBy;
use crate::rules::metas;
use serde_json::{Value, json};

/// SARIF 2.1.0: the rules, and results with physical locations and line-independent fingerprints. SARIF's
/// levels `error`, `warning` and `note` are tokenscope's severity names.
pub(crate) fn render(report: &Report) -> Value {
    let (audit, findings) = (report.audit, &report.findings);
    let rules: Vec<Value> = metas()
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.summary},
                "helpUri": m.docs(),
                "help": {"text": format!("See {}", m.docs()), "markdown": format!("[{}]({})", m.id, m.docs())},
                "defaultConfiguration": {"level": m.severity.as_str()},
            })
        })
        .collect();
    let ids: Vec<&str> = metas().iter().map(|m| m.id).collect();
    // Suppressed findings are results too, with SARIF's `suppressions` saying why.
    let all = findings.iter().map(|f| (f, None)).chain(report.suppressed.iter().map(|x| (&x.finding, Some(x))));
    let results: Vec<Value> = all
        .map(|(f, sup)| {
            let mut r = json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|i| *i == f.rule),
                "level": f.severity.as_str(),
                "message": {"text": f.message},
                "partialFingerprints": {"tokenscopeFingerprint/v1": f.fingerprint},
            });
            if let Some(x) = sup {
                let kind = match x.by {
                    SuppressedBy::Inline => "inSource",
                    SuppressedBy::Policy => "external",
                };
                r["suppressions"] = json!([{"kind": kind, "justification": x.reason}]);
            }
            if let Some(span) = f.span {
                let file = audit.snap.sources.get(span.file);
                r["locations"] = json!([{"physicalLocation": {
                    "artifactLocation": {"uri": file.display},
                    "region": {"startLine": span.line, "startColumn": span.col},
                }}]);
            }
            // The other places the finding involves: the manifest entry or settings beside the CI line.
            if !f.related.is_empty() {
                let related: Vec<Value> = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, rel)| {
                        let file = audit.snap.sources.get(rel.span.file);
                        json!({
                            "id": i,
                            "message": {"text": rel.label},
                            "physicalLocation": {
                                "artifactLocation": {"uri": file.display},
                                "region": {"startLine": rel.span.line, "startColumn": rel.span.col},
                            },
                        })
                    })
                    .collect();
                r["relatedLocations"] = Value::Array(related);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tokenscope", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    })
}
