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

impl RuleMeta {
    /// Anchor of the rule's section in docs/rules.md.
    pub(crate) fn docs(&self) -> String {
        format!("docs/rules.md#{}", self.id)
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
