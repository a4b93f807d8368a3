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
            // The rule's section of docs/rules.md (with its failing and passing examples) is its help, so a
            // dashboard shows how to fix it without leaving the page.
            let help = m.help_markdown();
            json!({
                "id": m.id,
                "name": m.name(),
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": help.split("\n\n").next().unwrap_or(m.summary).replace('\n', " ")},
                "helpUri": report.rule_docs(m.id),
                "help": {"text": help, "markdown": help},
                "defaultConfiguration": {"level": m.severity.as_str()},
                "properties": {"tags": ["security", "ci-job-token"]},
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
                "message": match &f.help {
                    Some(help) => json!({"text": format!("{} (fix: {help})", f.message), "markdown": format!("{}\n\n**Fix:** {help}", f.message)}),
                    None => json!({"text": f.message}),
                },
                "partialFingerprints": {"tokenscopeFingerprint/v1": f.fingerprint},
            });
            if let Some(x) = sup {
                let kind = match x.by {
                    SuppressedBy::Inline => "inSource",
                    SuppressedBy::Policy | SuppressedBy::Baseline => "external",
                };
                r["suppressions"] = json!([{"kind": kind, "justification": x.reason}]);
            }
            if let Some(span) = f.span {
                let file = audit.snap.sources.get(span.file);
                r["locations"] = json!([{"physicalLocation": {
                    "artifactLocation": {"uri": uri(&report.report_path(span))},
                    "region": {"startLine": span.line, "startColumn": span.col},
                }}]);
                if let Some(help) = &f.help {
                    r["properties"] = json!({"fix": help, "project": f.project, "file": file.display});
                }
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
                                "artifactLocation": {"uri": uri(&file.display)},
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
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tokenscope",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": crate::rules::meta::HOME_URL,
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A relative path as a URI reference: each segment percent-encoded where URI syntax needs it (a space, `#`,
/// `%`, `?`), `/` kept.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'@' | b'+' | b'=' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
