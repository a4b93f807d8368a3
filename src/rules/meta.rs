//! What a rule declares about itself, and the thresholds in force. A leaf: findings, the policy and the
//! rules all read it.

use crate::diag::Severity;
use std::collections::HashMap;

/// A rule's identity, declared once next to the rule; it drives `tokenscope rules`, the policy, the docs
/// and every output format.
pub struct RuleMeta {
    /// Stable id, used in policies, ignore comments and output.
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The thresholds a policy may set for this rule.
    pub(crate) settings: &'static [Setting],
}

/// Where the rules' documentation is published: `--docs-url` (or `$TOKENSCOPE_DOCS_URL`) overrides it, for
/// an instance that mirrors tokenscope. The page of this very version, so a link never describes another.
pub const DOCS_URL: &str =
    concat!("https://gitlab.com/tokenscope/tokenscope/-/blob/v", env!("CARGO_PKG_VERSION"), "/docs/rules.md");

/// The project's home page (SARIF's `informationUri`).
pub const HOME_URL: &str = "https://gitlab.com/tokenscope/tokenscope";

/// Rule `id`'s section of the rules page at `base`.
pub(crate) fn docs_at(base: &str, id: &str) -> String {
    format!("{}#{id}", base.trim_end_matches('#'))
}

/// docs/rules.md, built into the binary: each rule's section is its help in SARIF and HTML. The rules_doc
/// test keeps the file equal to the rules' own module docs.
const RULES_DOC: &str = include_str!("../../docs/rules.md");

impl RuleMeta {
    /// The rule's section in docs/rules.md, relative to the repository (`tokenscope rules`).
    pub(crate) fn docs(&self) -> String {
        format!("docs/rules.md#{}", self.id)
    }

    /// The rule's name in CamelCase (`MissingAllowlistEntry`): SARIF's `name`, distinct from its `id`.
    pub(crate) fn name(&self) -> String {
        self.id
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect()
    }

    /// The rule's documentation (Markdown): its section of docs/rules.md without the heading, with its failing
    /// and passing examples.
    pub(crate) fn help_markdown(&self) -> &'static str {
        let heading = format!("\n## {}\n", self.id);
        let Some(at) = RULES_DOC.find(&heading) else { return self.summary };
        let body = &RULES_DOC[at + heading.len()..];
        let end = body.find("\n## ").unwrap_or(body.len());
        body[..end].trim()
    }
}

/// A rule's threshold: a whole number a policy may set (`rules: {RULE: {NAME: N}}`).
pub(crate) struct Setting {
    pub(crate) name: &'static str,
    pub(crate) default: usize,
    pub(crate) min: usize,
    pub(crate) max: usize,
}

impl Setting {
    /// Why `value` is not allowed, if it is not.
    pub(crate) fn check(&self, value: Option<usize>) -> Result<usize, String> {
        match value {
            Some(n) if (self.min..=self.max).contains(&n) => Ok(n),
            _ if self.max == usize::MAX => {
                Err(format!("`{}` must be a whole number, at least {}", self.name, self.min))
            }
            _ => Err(format!("`{}` must be a whole number from {} to {}", self.name, self.min, self.max)),
        }
    }
}

/// The thresholds in force: a policy's values over each setting's default.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    values: HashMap<(&'static str, &'static str), usize>,
}

impl Settings {
    pub(crate) fn set(&mut self, rule: &'static RuleMeta, setting: &'static Setting, value: usize) {
        self.values.insert((rule.id, setting.name), value);
    }

    pub(crate) fn get(&self, rule: &'static RuleMeta, setting: &'static Setting) -> usize {
        self.values.get(&(rule.id, setting.name)).copied().unwrap_or(setting.default)
    }
}
