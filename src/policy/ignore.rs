//! Suppressions: ignores in the audit policy, and `# tokenscope: ignore[rule-id] reason` comments in files.
//!
//! A suppressed finding is not reported but is counted, with its reason. A policy ignore with an `until`
//! date stops applying after that day, and the run says so.

use super::Applied;
use crate::finding::Finding;
use crate::source::SourceMap;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// A policy ignore: findings of `rule` about the given target are not reported.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ignore {
    pub(crate) rule: String,
    pub(crate) project: Option<String>,
    pub(crate) caller: Option<String>,
    pub(crate) callee: Option<String>,
    pub(crate) entry: Option<String>,
    pub(crate) reason: String,
    /// `YYYY-MM-DD`: the ignore applies up to and including this day.
    pub(crate) until: Option<String>,
}

/// Where the ignore that suppressed a finding was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SuppressedBy {
    /// The policy's `ignores:`.
    Policy,
    /// A `# tokenscope: ignore[...]` comment at the finding's line.
    Inline,
}

/// A finding that was not reported, and why.
#[derive(Clone, Debug)]
pub(crate) struct Suppressed {
    pub(crate) finding: Finding,
    pub(crate) reason: String,
    pub(crate) by: SuppressedBy,
}

static INLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"#\s*tokenscope:\s*ignore\[([a-z0-9, -]+)\]\s*(\S.*)?$").expect("static regex"));

/// The inline suppression that covers a finding: a comment on its line or on the line above.
fn inline(sources: &SourceMap, f: &Finding) -> Option<String> {
    let span = f.span?;
    let file = sources.get(span.file);
    [span.line, span.line.saturating_sub(1)].into_iter().filter(|l| *l > 0).find_map(|l| {
        let c = INLINE.captures(file.line_text(l))?;
        let rules: Vec<&str> = c[1].split(',').map(str::trim).collect();
        let reason = c.get(2).map(|m| m.as_str().trim().to_string())?;
        rules.contains(&f.rule).then_some(reason)
    })
}

fn matches(i: &Ignore, f: &Finding) -> bool {
    let eq = |want: &Option<String>, got: Option<&str>| want.as_deref().is_none_or(|w| got == Some(w));
    i.rule == f.rule
        && i.project.as_ref().is_none_or(|p| *p == f.project)
        && eq(&i.caller, f.caller())
        && eq(&i.callee, f.callee())
        && eq(&i.entry, f.entry())
}

/// Split findings into kept and suppressed. `today` is `YYYY-MM-DD`.
pub(crate) fn apply(findings: Vec<Finding>, ignores: &[Ignore], sources: &SourceMap, today: &str) -> Applied {
    let mut out = Applied::default();
    let (active, expired): (Vec<&Ignore>, Vec<&Ignore>) =
        ignores.iter().partition(|i| i.until.as_deref().is_none_or(|u| u >= today));
    out.expired = expired
        .iter()
        .map(|i| {
            let sentence = format!(
                "the ignore of `{}` ({}) expired on {}; its findings are reported again",
                i.rule,
                i.reason,
                i.until.as_deref().unwrap_or("")
            );
            crate::text::clean(&sentence).into_owned()
        })
        .collect();
    for f in findings {
        if let Some(i) = active.iter().find(|i| matches(i, &f)) {
            let reason = crate::text::clean(&i.reason).into_owned();
            out.suppressed.push(Suppressed { reason, finding: f, by: SuppressedBy::Policy });
        } else if let Some(reason) = inline(sources, &f) {
            let reason = crate::text::clean(&reason).into_owned();
            out.suppressed.push(Suppressed { reason, finding: f, by: SuppressedBy::Inline });
        } else {
            out.findings.push(f);
        }
    }
    out
}

/// Today's date (UTC) as `YYYY-MM-DD`; `TOKENSCOPE_TODAY` overrides it (for reproducible runs and tests).
pub(crate) fn today() -> String {
    crate::date::today_string()
}
