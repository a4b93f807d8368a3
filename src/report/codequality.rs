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
                Some(span) => (report.report_path(span), span.line),
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
            // The fix and where the rule is explained, as the Code Climate format carries more detail
            // (Markdown); and the project whose pipeline includes a shared template the finding is in.
            let mut body = String::new();
            if let Some(help) = &f.help {
                body.push_str(&format!("**Fix:** {help}\n\n"));
            }
            if let Some(span) = f.span {
                let file = audit.snap.sources.get(span.file);
                if let (Some(owner), Some(caller)) = (file.project.as_deref(), f.subject.caller())
                    && owner != caller
                {
                    body.push_str(&format!("In `{owner}`'s file, which `{caller}`'s pipeline includes.\n\n"));
                }
            }
            body.push_str(&format!("[{}]({})", f.rule, report.rule_docs(f.rule)));
            item["content"] = json!({"body": body});
            item
        })
        .collect();
    Value::Array(items)
}
