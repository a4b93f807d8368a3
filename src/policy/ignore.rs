//! Suppressions: ignores in the audit policy, and `# tokenscope: ignore[rule-id] reason` comments in files.
//!
//! A suppressed finding is not reported but is counted, with its reason. A policy ignore with an `until`
//! date stops applying after that day, and the run says so.

use super::Applied;
use crate::diag::Diagnostic;
use crate::finding::Finding;
use crate::source::{SourceMap, Span};
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
    /// Where the policy file says it.
    pub(crate) span: Option<Span>,
}

/// A policy ignore whose `until` day has passed: its findings are reported again.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Expired {
    pub(crate) rule: String,
    pub(crate) reason: String,
    pub(crate) until: String,
    /// `file:line:column` of the ignore in the policy file.
    pub(crate) location: Option<String>,
}

impl Expired {
    pub(crate) fn sentence(&self) -> String {
        let at = self.location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default();
        format!(
            "{at}the ignore of `{}` ({}) expired on {}; its findings are reported again",
            self.rule, self.reason, self.until
        )
    }
}

/// Where the ignore that suppressed a finding was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SuppressedBy {
    /// The policy's `ignores:`.
    Policy,
    /// A `# tokenscope: ignore[...]` comment at the finding's line.
    Inline,
    /// The `--baseline` file: a finding that existed when the baseline was written.
    Baseline,
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

/// Split findings into kept and suppressed. `today` is `YYYY-MM-DD`. With `unused`, a policy ignore that
/// suppresses nothing is a warning (like ruff's unused `noqa`): it is a stale exception, or a typo that
/// leaves the finding it meant reported.
pub(crate) fn apply(
    findings: Vec<Finding>,
    ignores: &[Ignore],
    sources: &SourceMap,
    today: &str,
    unused: bool,
) -> Applied {
    let mut out = Applied::default();
    let (active, expired): (Vec<&Ignore>, Vec<&Ignore>) =
        ignores.iter().partition(|i| i.until.as_deref().is_none_or(|u| u >= today));
    let clean = |s: &str| crate::text::clean(s).into_owned();
    out.expired = expired
        .iter()
        .map(|i| Expired {
            rule: i.rule.clone(),
            reason: clean(&i.reason),
            until: i.until.clone().unwrap_or_default(),
            location: i.span.map(|s| crate::diag::Location::of(sources, s).to_string()),
        })
        .collect();
    let mut used = vec![false; active.len()];
    for f in findings {
        if let Some(k) = active.iter().position(|i| matches(i, &f)) {
            used[k] = true;
            let reason = clean(&active[k].reason);
            out.suppressed.push(Suppressed { reason, finding: f, by: SuppressedBy::Policy });
        } else if let Some(reason) = inline(sources, &f) {
            let reason = clean(&reason);
            out.suppressed.push(Suppressed { reason, finding: f, by: SuppressedBy::Inline });
        } else {
            out.findings.push(f);
        }
    }
    if unused {
        for (i, _) in active.iter().zip(&used).filter(|(_, u)| !**u) {
            let d = Diagnostic::warning(format!(
                "this ignore of `{}` matches no finding: remove it, or correct its target",
                i.rule
            ));
            out.warnings.push(match i.span {
                Some(s) => d.at(s),
                None => d,
            });
        }
    }
    out.warnings.extend(check_inline(sources));
    out
}

/// Inline ignore comments that do nothing: one without a reason, or naming a rule that does not exist.
/// One pass over every file read, looking for `tokenscope:` (linear in the text).
fn check_inline(sources: &SourceMap) -> Vec<Diagnostic> {
    let finder = memchr::memmem::Finder::new("tokenscope:");
    let known: Vec<&str> = crate::rules::metas().iter().map(|m| m.id).collect();
    let mut out = Vec::new();
    for (id, file) in sources.all() {
        if finder.find(file.text.as_bytes()).is_none() {
            continue;
        }
        for (start, line) in file.lines() {
            let Some(at) = finder.find(line.as_bytes()) else { continue };
            let Some(c) = INLINE.captures(line) else { continue };
            let span = sources.span(id, start + at as u32, start + line.len() as u32);
            for rule in c[1].split(',').map(str::trim).filter(|r| !known.contains(r)) {
                out.push(
                    Diagnostic::warning(format!(
                        "the inline ignore names `{rule}`, which is not a rule; it suppresses nothing"
                    ))
                    .at(span)
                    .help("`tokenscope rules` lists the rule ids"),
                );
            }
            if c.get(2).is_none() {
                out.push(
                    Diagnostic::warning("the inline ignore gives no reason, so it suppresses nothing")
                        .at(span)
                        .help("write the reason after the rule: `# tokenscope: ignore[RULE] why this is fine`"),
                );
            }
        }
    }
    out
}

/// Today's date (UTC) as `YYYY-MM-DD`; `TOKENSCOPE_TODAY` overrides it (for reproducible runs and tests).
pub(crate) fn today() -> String {
    crate::date::today_string()
}
