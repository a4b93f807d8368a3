//! `--format codequality`: GitLab Code Quality (`artifacts:reports:codequality`), for the merge request
//! widget.

use super::Report;
use crate::diag::Severity;
use serde_json::{Value, json};

/// GitLab Code Quality (`artifacts:reports:codequality`): findings in the merge request widget.
pub(crate) fn render(report: &Report) -> Value {
    let (audit, findings) = (report.audit, &report.findings);
    let items: Vec<Value> = findings
        .iter()
        .map(|f| {
            let (path, line) = match f.span {
                Some(span) => {
                    let file = audit.snap.sources.get(span.file);
                    (file.repo_path.clone().unwrap_or_else(|| file.display.clone()), span.line)
                }
                None => ("tokenscope.yaml".to_string(), 1),
            };
            let severity = match f.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
                Severity::Note => "info",
            };
            let mut item = json!({
                "description": f.message,
                "check_name": f.rule,
                "fingerprint": f.fingerprint,
                "severity": severity,
                "location": {"path": path, "lines": {"begin": line}},
            });
            // The fix, as the Code Climate format carries more detail (Markdown).
            if let Some(help) = &f.help {
                item["content"] = json!({"body": help});
            }
            item
        })
        .collect();
    Value::Array(items)
}
