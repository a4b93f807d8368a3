//! Secrets never leave tokenscope: anything that looks like a GitLab token is redacted before it is
//! printed or written.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Prefixes of GitLab tokens (personal, deploy, trigger, CI build/job, runner, feed, OAuth, ...).
pub const TOKEN_PREFIXES: &[&str] = &[
    "glpat-",
    "gldt-",
    "glptt-",
    "glcbt-",
    "glrt-",
    "glrtr-",
    "gloas-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "GR1348941",
];

/// A GitLab token: a known prefix followed by at least 8 token characters.
pub static TOKEN_RE: LazyLock<Regex> = LazyLock::new(|| {
    let alts: Vec<String> = TOKEN_PREFIXES.iter().map(|p| regex::escape(p)).collect();
    Regex::new(&format!(r"({})[A-Za-z0-9_\-.]{{8,}}", alts.join("|"))).expect("static regex")
});

/// The text with every token replaced by its prefix and `[REDACTED]`.
pub fn redact(s: &str) -> Cow<'_, str> {
    TOKEN_RE.replace_all(s, "${1}[REDACTED]")
}

/// The text with each token's secret part replaced by `*` of the same length, so byte offsets into the
/// text stay valid (for source snippets).
pub fn mask(s: &str) -> Cow<'_, str> {
    TOKEN_RE.replace_all(s, |c: &regex::Captures| {
        let prefix = &c[1];
        format!("{prefix}{}", "*".repeat(c[0].len() - prefix.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_and_keeps_the_rest() {
        assert_eq!(redact("TOKEN=glpat-abcdefgh12345678 x"), "TOKEN=glpat-[REDACTED] x");
        assert_eq!(redact("GR1348941abcdefghijk"), "GR1348941[REDACTED]");
        assert_eq!(redact("glpat-short"), "glpat-short");
        assert_eq!(redact("$CI_JOB_TOKEN"), "$CI_JOB_TOKEN");
        assert_eq!(mask("a glpat-abcdefgh12 b").len(), "a glpat-abcdefgh12 b".len());
        assert_eq!(mask("a glpat-abcdefgh12 b"), "a glpat-********** b");
    }
}
