//! `--format secret-detection` and `--format sast`: GitLab's security report format
//! (`artifacts:reports:secret_detection` and `artifacts:reports:sast`, schema 15.x), so that a token
//! written in a CI file and a job token sent to a foreign host reach the vulnerability report and the
//! merge-request security widget, beside GitLab's own scanners.
//!
//! Only the rules that are vulnerabilities go there: the allowlist findings are configuration advice and
//! stay in Code Quality. The secret itself is never written (the message carries it redacted, and no
//! `raw_source_code_extract` is given).

use super::Report;
use crate::diag::Severity;
use crate::finding::Finding;
use serde_json::{Value, json};

/// The schema version written: GitLab 15.0 and later read 15.x reports.
const SCHEMA_VERSION: &str = "15.2.1";

/// Which of GitLab's security report types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    SecretDetection,
    Sast,
}

impl Kind {
    /// The rules whose findings this report carries.
    fn rules(self) -> &'static [&'static str] {
        match self {
            Kind::SecretDetection => &["hardcoded-gitlab-token"],
            Kind::Sast => &["job-token-to-foreign-host", "job-token-in-url"],
        }
    }

    fn scan_type(self) -> &'static str {
        match self {
            Kind::SecretDetection => "secret_detection",
            Kind::Sast => "sast",
        }
    }
}

pub(crate) fn render(report: &Report, kind: Kind) -> Value {
    let now = crate::date::iso_now();
    let version = env!("CARGO_PKG_VERSION");
    let tool = json!({"id": "tokenscope", "name": "tokenscope", "version": version, "vendor": {"name": "tokenscope"}});
    let mut scanner = tool.clone();
    scanner["url"] = json!(crate::rules::meta::HOME_URL);
    let vulnerabilities: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| kind.rules().contains(&f.rule))
        .map(|f| vulnerability(report, kind, f))
        .collect();
    json!({
        "version": SCHEMA_VERSION,
        "scan": {
            "analyzer": tool,
            "scanner": scanner,
            "type": kind.scan_type(),
            "start_time": now,
            "end_time": now,
            "status": "success",
        },
        "vulnerabilities": vulnerabilities,
    })
}

fn vulnerability(report: &Report, kind: Kind, f: &Finding) -> Value {
    let meta = crate::rules::metas().into_iter().find(|m| m.id == f.rule).expect("a finding's rule is registered");
    let (file, line) = match f.span {
        Some(span) => (report.report_path(span), span.line),
        None => ("tokenscope.yaml".to_string(), 1),
    };
    let mut location = json!({"file": file, "start_line": line, "end_line": line});
    if kind == Kind::SecretDetection {
        // Secret detection locates a secret in a commit; the one audited when known.
        let sha = report.context.commit.clone().unwrap_or_else(|| "0000000".into());
        location["commit"] = json!({"sha": sha});
    }
    json!({
        // A UUID made from the fingerprint: stable across runs, so GitLab tracks one vulnerability, not a new
        // one per pipeline.
        "id": uuid(&f.fingerprint, f.rule),
        "category": kind.scan_type(),
        "name": meta.summary,
        "message": meta.summary,
        "description": f.message,
        "cve": "",
        "severity": match f.severity {
            Severity::Error => "High",
            Severity::Warning => "Medium",
            Severity::Note => "Info",
        },
        "confidence": "High",
        "solution": f.help.clone().unwrap_or_else(|| report.rule_docs(f.rule)),
        "scanner": {"id": "tokenscope", "name": "tokenscope"},
        "identifiers": [{
            "type": "tokenscope_rule_id",
            "name": format!("tokenscope {}", f.rule),
            "value": f.rule,
            "url": report.rule_docs(f.rule),
        }],
        "links": [{"name": f.rule, "url": report.rule_docs(f.rule)}],
        "location": location,
    })
}

/// A version-4-shaped UUID from the finding's fingerprint and rule.
fn uuid(fingerprint: &str, rule: &str) -> String {
    let a = crate::finding::fnv64(&[rule, fingerprint]);
    let b = crate::finding::fnv64(&[fingerprint, rule]);
    let hex = format!("{a}{b}");
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}
