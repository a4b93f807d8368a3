//! The one model every producer of findings builds and every output format renders.
//!
//! A finding is built with [`Finding::build`]: the rule (its metadata gives the id and default severity),
//! a typed [`Subject`] saying what the finding is about, the primary location, related locations (the
//! manifest entry beside the CI line), the message and the fix. Its fingerprint derives from the rule and
//! the subject, never from a position, so it survives lines moving and a merge request's base can be
//! compared with its head. Text is cleaned (tokens redacted, control characters escaped) when the finding
//! is built, once.

use crate::diag::{Location, Severity};
use crate::rules::meta::RuleMeta;
use crate::source::{SourceMap, Span};
use crate::text::clean;

/// What a finding is about. Each variant names the projects involved; `Finding::project` is where the fix
/// is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// `caller` uses the job token against `callee`; with `entry`, the callee's allowlist entry that decides
    /// it. The fix is in the callee's allowlist.
    Edge { caller: String, callee: String, entry: Option<String> },
    /// An entry of `project`'s allowlist.
    Entry { project: String, entry: String },
    /// `project`'s job-token settings.
    Settings { project: String },
    /// How a job of `caller` spends its token, at a line of a file of `project` (a shared template's
    /// project for a line in that template, else the caller).
    Job { project: String, caller: String },
    /// Something of `project` alone: a line of its files, a setting of its own.
    Project { project: String },
}

impl Subject {
    /// The project whose pipeline ran the line: the caller of an edge or a job, else the project itself.
    pub(crate) fn caller(&self) -> Option<&str> {
        self.parts().1
    }

    /// (project, caller, callee, entry): the fields output and policy ignores match on.
    fn parts(&self) -> (&str, Option<&str>, Option<&str>, Option<&str>) {
        match self {
            Subject::Edge { caller, callee, entry } => (callee, Some(caller), Some(callee), entry.as_deref()),
            Subject::Entry { project, entry } => (project, None, Some(project), Some(entry)),
            Subject::Settings { project } => (project, None, Some(project), None),
            Subject::Job { project, caller } => (project, Some(caller), None, None),
            Subject::Project { project } => (project, None, None, None),
        }
    }
}

/// A place related to the finding besides its primary location, with what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Related {
    pub(crate) span: Span,
    pub(crate) label: &'static str,
}

#[derive(Clone, Debug)]
pub(crate) struct Finding {
    /// Rule id (`missing-allowlist-entry`, ...).
    pub(crate) rule: &'static str,
    pub(crate) severity: Severity,
    pub(crate) subject: Subject,
    /// Where the fix is made (from the subject): the allowlist owner for settings and edge findings, the
    /// CI file's project for CI lints.
    pub(crate) project: String,
    pub(crate) message: String,
    /// The fix, in words.
    pub(crate) help: Option<String>,
    /// The primary location.
    pub(crate) span: Option<Span>,
    pub(crate) related: Vec<Related>,
    /// Stable across line moves: built from the rule and what the finding is about, never from positions.
    pub(crate) fingerprint: String,
}

/// FNV-1a, 64 bits: stable across runs, platforms and versions (unlike `std`'s hasher).
pub(crate) fn fnv64(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

/// A finding under construction; see [`Finding::build`].
#[must_use = "a finding is made by `finish`"]
pub(crate) struct FindingBuilder {
    meta: &'static RuleMeta,
    severity: Severity,
    subject: Subject,
    key: String,
    message: String,
    help: Option<String>,
    span: Option<Span>,
    related: Vec<Related>,
}

impl Finding {
    /// A finding of `meta`'s rule about `subject`, at the rule's default severity.
    pub(crate) fn build(meta: &'static RuleMeta, subject: Subject) -> FindingBuilder {
        FindingBuilder {
            meta,
            severity: meta.severity,
            subject,
            key: String::new(),
            message: String::new(),
            help: None,
            span: None,
            related: Vec::new(),
        }
    }

    /// The project whose job uses the token, when the finding is about one.
    pub(crate) fn caller(&self) -> Option<&str> {
        self.subject.parts().1
    }

    /// The project whose allowlist decides, when the finding is about one.
    pub(crate) fn callee(&self) -> Option<&str> {
        self.subject.parts().2
    }

    /// The allowlist entry's path, for entry findings.
    pub(crate) fn entry(&self) -> Option<&str> {
        self.subject.parts().3
    }

    pub(crate) fn location(&self, sources: &SourceMap) -> Option<Location> {
        self.span.map(|s| Location::of(sources, s))
    }
}

impl FindingBuilder {
    pub(crate) fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// What the finding is about beyond its subject (a job, a kind, a raw target), for the fingerprint.
    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    pub(crate) fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The primary location: the text that proves the finding.
    pub(crate) fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Another place the finding involves (SARIF's `relatedLocations`).
    pub(crate) fn related(mut self, span: Span, label: &'static str) -> Self {
        if self.span != Some(span) && !self.related.iter().any(|r| r.span == span) {
            self.related.push(Related { span, label });
        }
        self
    }

    pub(crate) fn finish(self) -> Finding {
        let (project, caller, callee, entry) = self.subject.parts();
        let fingerprint =
            fnv64(&[self.meta.id, project, caller.unwrap_or(""), callee.unwrap_or(""), entry.unwrap_or(""), &self.key]);
        let project = project.to_string();
        Finding {
            rule: self.meta.id,
            severity: self.severity,
            project,
            message: clean(&self.message).into_owned(),
            help: self.help.map(|h| clean(&h).into_owned()),
            span: self.span,
            related: self.related,
            fingerprint,
            subject: self.subject,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static META: RuleMeta = RuleMeta { id: "some-rule", severity: Severity::Warning, summary: "", settings: &[] };

    #[test]
    fn fingerprints_are_stable_and_separate_parts() {
        assert_eq!(fnv64(&["a", "b"]), fnv64(&["a", "b"]));
        assert_ne!(fnv64(&["ab", ""]), fnv64(&["a", "b"]));
        assert_eq!(fnv64(&[]), "cbf29ce484222325");
    }

    #[test]
    fn the_subject_gives_the_fields_and_the_fingerprint() {
        let edge =
            |caller: &str, callee: &str| Subject::Edge { caller: caller.into(), callee: callee.into(), entry: None };
        let f = Finding::build(&META, edge("g/a", "g/b")).message("m").finish();
        assert_eq!((f.project.as_str(), f.caller(), f.callee()), ("g/b", Some("g/a"), Some("g/b")));
        assert_eq!(f.severity, Severity::Warning);
        // Swapping caller and callee is another finding.
        let swapped = Finding::build(&META, edge("g/b", "g/a")).finish();
        assert_ne!(f.fingerprint, swapped.fingerprint);
        // The fingerprint is the one older versions wrote, so ignores and `lint --base` keep working.
        assert_eq!(f.fingerprint, fnv64(&["some-rule", "g/b", "g/a", "g/b", "", ""]));
        let e = Finding::build(&META, Subject::Entry { project: "g/b".into(), entry: "g".into() }).finish();
        assert_eq!(e.fingerprint, fnv64(&["some-rule", "g/b", "", "g/b", "g", ""]));
    }

    #[test]
    fn text_is_cleaned_when_built() {
        let f = Finding::build(&META, Subject::Settings { project: "g/p".into() })
            .message("job `a\u{1b}]0;PWNED\u{7}` token glpat-abcdefgh12345678")
            .finish();
        assert_eq!(f.message, "job `a\\u{1b}]0;PWNED\\u{7}` token glpat-[REDACTED]");
    }
}
