//! Policy: the one place findings are kept, remapped, suppressed, and turned into an exit code.
//!
//! Every producer of findings (the rules, `lint`'s notes, anything added later) hands them to
//! [`Policy::apply`], which drops the findings of rules switched off, sets severities, applies the policy's
//! ignores and `# tokenscope: ignore[...]` comments (recording what it suppressed and which ignores have
//! expired), and sorts what is left. [`Policy::exit`] then decides the exit code. The policy is read from a
//! file (`file`); a rule's thresholds are declared beside the rule and kept here as `Settings`.

pub(crate) mod file;
pub(crate) mod ignore;

use crate::diag::Severity;
use crate::finding::Finding;
use crate::rules::Settings;
use crate::source::SourceMap;
use std::collections::BTreeMap;
use std::process::ExitCode;

pub(crate) mod baseline;
pub(crate) use file::{CONFIG_NAME, CONFIG_NAME_YAML};
pub(crate) use ignore::{Expired, Ignore, Suppressed, SuppressedBy};

/// The lowest severity that fails the run, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailOn {
    At(Severity),
    Never,
}

/// A rule's switch and severity in a policy.
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleSetting {
    pub(crate) enabled: Option<bool>,
    pub(crate) severity: Option<Severity>,
}

/// An audit policy: which rules run, at which severity, with which thresholds, what is ignored, and what
/// fails the run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    pub(crate) ignores: Vec<Ignore>,
    pub(crate) fail_on: Option<FailOn>,
    pub(crate) rules: BTreeMap<&'static str, RuleSetting>,
    pub(crate) settings: Settings,
    /// Groups `tokenscope plan` never adds as a whole (compaction chooses others).
    pub(crate) never_group: Vec<String>,
}

/// What applying the policy left: the findings to report, the suppressed ones, the expired ignores.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) findings: Vec<Finding>,
    pub(crate) suppressed: Vec<Suppressed>,
    /// Policy ignores whose `until` date has passed (they no longer apply).
    pub(crate) expired: Vec<ignore::Expired>,
    /// Ignores that do nothing: a policy ignore matching no finding, an inline one without a reason or
    /// naming no rule.
    pub(crate) warnings: Vec<crate::diag::Diagnostic>,
}

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// No finding at or above the fail-on severity.
    Ok = 0,
    /// A finding at or above it.
    Findings = 1,
    /// A usage, manifest or policy error: nothing was audited.
    Usage = 2,
    /// Some input could not be read (a project failed to load, a live fetch failed for some data); the
    /// rest was audited and reported.
    Partial = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// How ignores are applied in one run.
pub(crate) struct Ignoring<'a> {
    /// `false` with `--no-ignores`: every finding is reported.
    pub(crate) enabled: bool,
    /// `YYYY-MM-DD`: ignores with an earlier `until` have expired.
    pub(crate) today: &'a str,
    /// Warn about policy ignores that match no finding (not when only some findings were computed, as a
    /// lint against a base revision does).
    pub(crate) unused: bool,
}

impl Policy {
    /// Whether a rule runs.
    pub(crate) fn enabled(&self, rule: &str) -> bool {
        self.rules.get(rule).and_then(|r| r.enabled).unwrap_or(true)
    }

    /// The severity a policy gives a rule's findings, if it gives one.
    pub(crate) fn severity(&self, rule: &str) -> Option<Severity> {
        self.rules.get(rule).and_then(|r| r.severity)
    }

    /// Apply the policy to findings from any producer; the result is sorted, most severe first.
    pub(crate) fn apply(&self, findings: Vec<Finding>, sources: &SourceMap, ignoring: &Ignoring) -> Applied {
        let mut findings: Vec<Finding> = findings
            .into_iter()
            .filter(|f| self.enabled(f.rule))
            .map(|mut f| {
                if let Some(s) = self.severity(f.rule) {
                    f.severity = s;
                }
                f
            })
            .collect();
        // Sorted before the ignores split them, so the reported and the suppressed lists are both in order.
        sort(&mut findings, sources);
        if ignoring.enabled {
            ignore::apply(findings, &self.ignores, sources, ignoring.today, ignoring.unused)
        } else {
            Applied { findings, ..Applied::default() }
        }
    }

    /// The exit code: `partial` when some input could not be read, else by the fail-on severity (the
    /// command line's, else the policy's, else `error`).
    pub(crate) fn exit(&self, applied: &Applied, fail_on: Option<FailOn>, partial: bool) -> Exit {
        let threshold = match fail_on.or(self.fail_on).unwrap_or(FailOn::At(Severity::Error)) {
            FailOn::At(s) => Some(s),
            FailOn::Never => None,
        };
        // `--fail-on never` is a report-only run: it never fails, not even on input it could not read
        // (the report says what that was).
        if partial && threshold.is_some() {
            Exit::Partial
        } else if threshold.is_some_and(|t| applied.findings.iter().any(|f| f.severity >= t)) {
            Exit::Findings
        } else {
            Exit::Ok
        }
    }
}

/// Most severe first, then by project, rule, place and fingerprint: a stable order for every format.
fn sort(findings: &mut [Finding], sources: &SourceMap) {
    findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.project, a.rule)
            .cmp(&(std::cmp::Reverse(b.severity), &b.project, b.rule))
            .then_with(|| match (a.span, b.span) {
                (Some(x), Some(y)) => sources.cmp_spans(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            })
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Subject;
    use crate::rules::{missing_allowlist_entry as missing, unused_allowlist_entry as unused};

    fn finding(meta: &'static crate::rules::RuleMeta, callee: &str) -> Finding {
        let subject = Subject::Edge { caller: "g/a".into(), callee: callee.into(), entry: None };
        Finding::build(meta, subject).message("m").finish()
    }

    #[test]
    fn one_path_switches_remaps_ignores_and_decides_the_exit() {
        let sources = SourceMap::new();
        let policy = file::from_str(
            "fail_on: warning\nrules:\n  missing-allowlist-entry: note\n  unused-allowlist-entry: off\nignores:\n  - {rule: missing-allowlist-entry, callee: g/c, reason: known}\n",
            &crate::rules::metas(),
        )
        .expect("valid policy");
        let findings =
            vec![finding(&missing::META, "g/b"), finding(&unused::META, "g/b"), finding(&missing::META, "g/c")];
        let on = Ignoring { enabled: true, today: "2026-01-01", unused: true };
        let applied = policy.apply(findings.clone(), &sources, &on);
        assert_eq!(applied.findings.len(), 1, "the switched-off rule and the ignored finding are gone");
        assert_eq!(applied.findings[0].severity, Severity::Note);
        assert_eq!(applied.suppressed.len(), 1);
        assert_eq!(policy.exit(&applied, None, false), Exit::Ok, "a note does not fail at warning");
        assert_eq!(policy.exit(&applied, Some(FailOn::At(Severity::Note)), false), Exit::Findings);
        assert_eq!(policy.exit(&applied, None, true), Exit::Partial);
        let off = Ignoring { enabled: false, today: "2026-01-01", unused: true };
        assert_eq!(policy.apply(findings, &sources, &off).findings.len(), 2, "--no-ignores keeps ignored ones");
    }
}
