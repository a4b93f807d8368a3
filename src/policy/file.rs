//! The policy file: `--config FILE`, else `.tokenscope.yml` at the snapshot root (`policies/` holds
//! ready-made ones). Read strictly, like the manifest: every problem is an error at its line. A rule's
//! thresholds are the ones its `RuleMeta` declares.

use super::{FailOn, Ignore, Policy, RuleSetting};
use crate::diag::{Diagnostic, Severity};
use crate::rules::RuleMeta;
use crate::source::SourceMap;
use crate::yaml::{self, Node};
use std::path::Path;

pub(crate) const CONFIG_NAME: &str = ".tokenscope.yml";
/// The other spelling, accepted too (the manifest is `tokenscope.yaml`).
pub(crate) const CONFIG_NAME_YAML: &str = ".tokenscope.yaml";

fn severity(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "note" => Some(Severity::Note),
        _ => None,
    }
}

pub(crate) fn fail_on(s: &str) -> Option<FailOn> {
    if s == "never" { Some(FailOn::Never) } else { severity(s).map(FailOn::At) }
}

/// Load a policy file. `known_rules` is the registry: an unknown id is an error.
pub(crate) fn load(
    path: &Path,
    display: &str,
    sources: &SourceMap,
    known_rules: &[&'static RuleMeta],
) -> Result<Policy, Vec<Diagnostic>> {
    let id = crate::snapshot::read_source(sources, path, display.to_string(), None, None).map_err(|d| vec![d])?;
    parse(sources, id, known_rules)
}

/// Parse a registered policy file.
pub(crate) fn parse(
    sources: &SourceMap,
    id: crate::source::FileId,
    known_rules: &[&'static RuleMeta],
) -> Result<Policy, Vec<Diagnostic>> {
    let parsed = yaml::parse(sources, id).map_err(|e| vec![Diagnostic::error(e.message).at(e.span)])?;
    let mut errors = Vec::new();
    let mut cfg = Policy::default();
    let Some(doc) = parsed.docs.first() else { return Ok(cfg) };
    if doc.is_null() {
        return Ok(cfg);
    }
    let Some(top) = doc.as_map() else {
        return Err(vec![Diagnostic::error(format!("the config must be a map, found {}", doc.kind())).at(doc.span)]);
    };
    for (k, v) in &top.entries {
        match k.name.as_str() {
            "fail_on" => match v.as_str().and_then(fail_on) {
                Some(f) => cfg.fail_on = Some(f),
                None => errors.push(Diagnostic::error("`fail_on` must be error, warning, note or never").at(v.span)),
            },
            "rules" => read_rules(v, known_rules, &mut cfg, &mut errors),
            "ignores" => read_ignores(v, known_rules, &mut cfg, &mut errors),
            "never_group" => match v.as_seq() {
                Some(items) => {
                    for item in items {
                        match item.as_str().filter(|g| crate::snapshot::manifest::valid_full_path(g)) {
                            Some(g) => cfg.never_group.push(g.to_string()),
                            None => errors.push(Diagnostic::error("`never_group` lists group paths").at(item.span)),
                        }
                    }
                }
                None => errors.push(
                    Diagnostic::error(format!("`never_group` must be a list of group paths, found {}", v.kind()))
                        .at(v.span),
                ),
            },
            other => errors.push(
                Diagnostic::error(format!("unknown key `{other}` in the config"))
                    .at(k.span)
                    .help("allowed keys: fail_on, rules, ignores, never_group"),
            ),
        }
    }
    if errors.is_empty() { Ok(cfg) } else { Err(errors) }
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && crate::date::days(s).is_some()
}

fn read_ignores(node: &Node, known: &[&'static RuleMeta], cfg: &mut Policy, errors: &mut Vec<Diagnostic>) {
    let Some(items) = node.as_seq() else {
        errors.push(Diagnostic::error(format!("`ignores` must be a list, found {}", node.kind())).at(node.span));
        return;
    };
    for item in items {
        let Some(m) = item.as_map() else {
            errors.push(Diagnostic::error("an ignore must be a map").at(item.span));
            continue;
        };
        let mut ig = Ignore { span: Some(item.span), ..Ignore::default() };
        let mut ok = true;
        for (k, v) in &m.entries {
            let Some(text) = v.as_str().map(str::to_string) else {
                errors.push(Diagnostic::error(format!("`{}` must be a string", k.name)).at(v.span));
                ok = false;
                continue;
            };
            match k.name.as_str() {
                "rule" if known.iter().any(|m| m.id == text) => ig.rule = text,
                "rule" => {
                    errors.push(Diagnostic::error(format!("unknown rule `{text}`")).at(v.span));
                    ok = false;
                }
                "project" => ig.project = Some(text),
                "caller" => ig.caller = Some(text),
                "callee" => ig.callee = Some(text),
                "entry" => ig.entry = Some(text),
                "reason" => ig.reason = text,
                "until" if is_date(&text) => ig.until = Some(text),
                "until" => {
                    errors.push(
                        Diagnostic::error(format!("`until` must be a date YYYY-MM-DD, found `{text}`")).at(v.span),
                    );
                    ok = false;
                }
                other => {
                    errors.push(
                        Diagnostic::error(format!("unknown key `{other}` in an ignore"))
                            .at(k.span)
                            .help("allowed keys: rule, project, caller, callee, entry, reason, until"),
                    );
                    ok = false;
                }
            }
        }
        if ok && ig.rule.is_empty() {
            errors.push(Diagnostic::error("an ignore needs `rule`").at(item.span));
            ok = false;
        }
        if ok && ig.reason.trim().is_empty() {
            errors.push(Diagnostic::error("an ignore needs a `reason`").at(item.span));
            ok = false;
        }
        if ok && ig.project.is_none() && ig.caller.is_none() && ig.callee.is_none() && ig.entry.is_none() {
            errors.push(
                Diagnostic::error("an ignore needs a target: `project`, `caller`/`callee`, or `entry`").at(item.span),
            );
            ok = false;
        }
        if ok {
            cfg.ignores.push(ig);
        }
    }
}

fn read_rules(node: &Node, known: &[&'static RuleMeta], cfg: &mut Policy, errors: &mut Vec<Diagnostic>) {
    let Some(m) = node.as_map() else {
        errors
            .push(Diagnostic::error(format!("`rules` must be a map of rule ids, found {}", node.kind())).at(node.span));
        return;
    };
    for (k, v) in &m.entries {
        let Some(meta) = known.iter().copied().find(|m| m.id == k.name) else {
            errors.push(
                Diagnostic::error(format!("unknown rule `{}`", k.name))
                    .at(k.span)
                    .help("`tokenscope rules` lists the rule ids"),
            );
            continue;
        };
        let mut setting = RuleSetting::default();
        if let Some(b) = v.as_bool() {
            setting.enabled = Some(b);
        } else if v.as_str() == Some("off") {
            setting.enabled = Some(false);
        } else if let Some(s) = v.as_str().and_then(severity) {
            setting.severity = Some(s);
        } else if let Some(rm) = v.as_map() {
            for (rk, rv) in &rm.entries {
                match rk.name.as_str() {
                    "enabled" => match rv.as_bool() {
                        Some(b) => setting.enabled = Some(b),
                        None => errors.push(Diagnostic::error("`enabled` must be true or false").at(rv.span)),
                    },
                    "severity" => match rv.as_str().and_then(severity) {
                        Some(s) => setting.severity = Some(s),
                        None => errors.push(Diagnostic::error("`severity` must be error, warning or note").at(rv.span)),
                    },
                    name => match meta.settings.iter().find(|s| s.name == name) {
                        Some(declared) => {
                            let number = rv.as_str().and_then(|s| s.parse::<usize>().ok());
                            match declared.check(number) {
                                Ok(n) => cfg.settings.set(meta, declared, n),
                                Err(why) => errors.push(Diagnostic::error(why).at(rv.span)),
                            }
                        }
                        None => errors
                            .push(Diagnostic::error(format!("unknown setting `{name}` for `{}`", meta.id)).at(rk.span)),
                    },
                }
            }
        } else {
            errors.push(
                Diagnostic::error(format!("rule `{}`: expected true, false, off, a severity, or a map", k.name))
                    .at(v.span),
            );
            continue;
        }
        cfg.rules.insert(meta.id, setting);
    }
}

/// A policy from text (tests).
#[cfg(test)]
pub(crate) fn from_str(text: &str, known_rules: &[&'static RuleMeta]) -> Result<Policy, Vec<Diagnostic>> {
    use crate::source::SourceFile;
    let sources = SourceMap::new();
    let id = sources.add(SourceFile::new("config".into(), None, None, std::sync::Arc::from(text)));
    parse(&sources, id, known_rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rules::{allowlist_disabled, overbroad_group_entry as overbroad, unused_allowlist_entry};

    const RULES: &[&RuleMeta] = &[&unused_allowlist_entry::META, &overbroad::META, &allowlist_disabled::META];

    #[test]
    fn reads_every_form() {
        let c = from_str(
            "fail_on: warning\nrules:\n  allowlist-disabled: off\n  unused-allowlist-entry: error\n  overbroad-group-entry:\n    min_projects: 2\n    max_used_percent: 30\n",
            RULES,
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(FailOn::At(Severity::Warning)));
        assert!(!c.enabled("allowlist-disabled"));
        assert_eq!(c.severity("unused-allowlist-entry"), Some(Severity::Error));
        assert_eq!(c.settings.get(&overbroad::META, &overbroad::MIN_PROJECTS), 2);
        assert_eq!(c.settings.get(&overbroad::META, &overbroad::MAX_USED_PERCENT), 30);
    }

    #[test]
    fn rejects_unknown_rules_keys_and_values() {
        let errs = from_str(
            "rules:\n  no-such-rule: off\n  allowlist-disabled: loud\n  overbroad-group-entry:\n    min_projects: 0\n    max_used_percent: 101\n    bogus: 1\n  unused-allowlist-entry: {min_projects: 2}\nfailon: x\n",
            RULES,
        )
        .unwrap_err();
        let msgs: Vec<String> = errs.iter().map(|d| d.message.clone()).collect();
        assert_eq!(
            msgs,
            [
                "unknown rule `no-such-rule`",
                "rule `allowlist-disabled`: expected true, false, off, a severity, or a map",
                "`min_projects` must be a whole number, at least 1",
                "`max_used_percent` must be a whole number from 1 to 100",
                "unknown setting `bogus` for `overbroad-group-entry`",
                "unknown setting `min_projects` for `unused-allowlist-entry`",
                "unknown key `failon` in the config",
            ]
        );
    }
}
