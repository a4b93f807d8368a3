//! The one model every output format renders: a finding of a rule, located in a CI file or the manifest.

use crate::diag::{Location, Severity};
use crate::source::{SourceMap, Span};

#[derive(Clone, Debug)]
pub struct Finding {
    /// Rule id (`missing-allowlist-entry`, ...).
    pub rule: &'static str,
    pub severity: Severity,
    /// Where the fix is made: the allowlist owner for settings findings, the CI file's project for CI lints.
    pub project: String,
    pub caller: Option<String>,
    pub callee: Option<String>,
    /// The allowlist entry's path, for entry findings.
    pub entry: Option<String>,
    pub message: String,
    pub help: Option<String>,
    pub span: Option<Span>,
    /// Stable across line moves: built from the rule and what the finding is about, never from positions.
    pub fingerprint: String,
}

/// FNV-1a, 64 bits: stable across runs, platforms and versions (unlike `std`'s hasher).
pub fn fnv64(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

impl Finding {
    /// A finding; `key` names what it is about beyond project/caller/callee/entry (a job, a kind, a raw target).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rule: &'static str,
        severity: Severity,
        project: &str,
        caller: Option<&str>,
        callee: Option<&str>,
        entry: Option<&str>,
        key: &str,
        message: String,
        span: Option<Span>,
    ) -> Finding {
        let fingerprint = fnv64(&[rule, project, caller.unwrap_or(""), callee.unwrap_or(""), entry.unwrap_or(""), key]);
        Finding {
            rule,
            severity,
            project: project.to_string(),
            caller: caller.map(str::to_string),
            callee: callee.map(str::to_string),
            entry: entry.map(str::to_string),
            message,
            help: None,
            span,
            fingerprint,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn location(&self, sources: &SourceMap) -> Option<Location> {
        self.span.map(|s| Location::of(sources, s))
    }
}

#[cfg(test)]
mod tests {
    use super::fnv64;

    #[test]
    fn fingerprints_are_stable_and_separate_parts() {
        assert_eq!(fnv64(&["a", "b"]), fnv64(&["a", "b"]));
        assert_ne!(fnv64(&["ab", ""]), fnv64(&["a", "b"]));
        assert_eq!(fnv64(&[]), "cbf29ce484222325");
    }
}
