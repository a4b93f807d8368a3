//! Baselines: `--write-baseline FILE` records the findings of a run by fingerprint; `--baseline FILE`
//! reports only findings not in it. A team adopting tokenscope on an org with hundreds of findings fixes
//! what is new first, and the baseline's findings stay counted (as suppressed), never forgotten.
//!
//! Fingerprints are built from what a finding is about, never from line numbers, so a baseline survives
//! edits that move lines.

use super::{Applied, Suppressed, SuppressedBy};
use crate::finding::Finding;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The file's format version; a baseline of another version is refused rather than misread.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    tool: String,
    findings: Vec<Entry>,
}

/// One finding of the baseline: the fingerprint decides; rule and project are there for a reader.
#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    rule: String,
    project: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    message: String,
}

/// The baseline of `findings`, as the JSON a file holds (sorted, one finding per fingerprint).
pub(crate) fn write(findings: &[Finding]) -> String {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.to_string(),
            project: f.project.clone(),
            message: f.message.clone(),
        })
        .collect();
    entries.sort_by(|a, b| (&a.rule, &a.project, &a.fingerprint).cmp(&(&b.rule, &b.project, &b.fingerprint)));
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint && a.rule == b.rule);
    let file = File { version: VERSION, tool: "tokenscope".into(), findings: entries };
    serde_json::to_string_pretty(&file).expect("a baseline serialises") + "\n"
}

/// The (rule, fingerprint) pairs of a baseline file's text, or why it cannot be used.
pub(crate) fn read(text: &str) -> Result<HashSet<(String, String)>, String> {
    let file: File = serde_json::from_str(text).map_err(|e| format!("not a tokenscope baseline: {e}"))?;
    if file.version != VERSION {
        return Err(format!(
            "baseline version {} is not supported (this tokenscope writes version {VERSION})",
            file.version
        ));
    }
    Ok(file.findings.into_iter().map(|e| (e.rule, e.fingerprint)).collect())
}

/// Move the findings the baseline holds from reported to suppressed.
pub(crate) fn apply(applied: &mut Applied, known: &HashSet<(String, String)>) {
    let findings = std::mem::take(&mut applied.findings);
    for f in findings {
        if known.contains(&(f.rule.to_string(), f.fingerprint.clone())) {
            applied.suppressed.push(Suppressed {
                reason: "in the baseline".into(),
                finding: f,
                by: SuppressedBy::Baseline,
            });
        } else {
            applied.findings.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Subject;
    use crate::rules::missing_allowlist_entry as missing;

    fn finding(callee: &str) -> Finding {
        let subject = Subject::Edge { caller: "g/a".into(), callee: callee.into(), entry: None };
        Finding::build(&missing::META, subject).message("m").finish()
    }

    #[test]
    fn a_baseline_suppresses_exactly_its_findings() {
        let text = write(&[finding("g/b")]);
        let known = read(&text).expect("own baseline reads");
        let mut applied = Applied { findings: vec![finding("g/b"), finding("g/c")], ..Applied::default() };
        apply(&mut applied, &known);
        assert_eq!(applied.findings.len(), 1);
        assert_eq!(applied.findings[0].callee(), Some("g/c"));
        assert_eq!(applied.suppressed.len(), 1);
        assert!(read("{\"version\": 9, \"tool\": \"tokenscope\", \"findings\": []}").is_err());
        assert!(read("[]").is_err());
    }
}
