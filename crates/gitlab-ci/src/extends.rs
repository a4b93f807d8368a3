//! `extends:`: a job is its bases deep-merged in order, then its own keys on top. Multi-level, with
//! GitLab's limit of 11 levels; cycles and unknown bases are errors.

use super::merge::deep_merge;
use crate::diag::Diagnostic;
use crate::yaml::{Map, Node, Value};
use std::collections::HashMap;

pub const MAX_EXTENDS_DEPTH: usize = 11;

/// Resolve `extends` for every entry of the configuration.
pub fn resolve(top: &mut Map, partial: bool, diags: &mut Vec<Diagnostic>) {
    if !top.entries.iter().any(|(_, v)| v.get("extends").is_some()) {
        return;
    }
    // Resolve against the configuration as written (no copy of it), then put the results in place.
    let mut memo: HashMap<String, Option<(Node, u64)>> = HashMap::new();
    let mut resolved: Vec<(usize, Node)> = Vec::new();
    for (i, (k, v)) in top.entries.iter().enumerate() {
        if v.get("extends").is_some()
            && let Some(r) = resolve_one(&k.name, top, partial, &mut memo, &mut Vec::new(), diags)
        {
            resolved.push((i, r));
        }
    }
    for (i, r) in resolved {
        top.entries[i].1 = r;
    }
}

fn bases(node: &Node) -> Vec<&Node> {
    match node.get("extends").map(|e| &e.value) {
        Some(Value::Seq(s)) => s.iter().collect(),
        Some(Value::Str(..)) => vec![node.get("extends").expect("checked")],
        _ => vec![],
    }
}

fn resolve_one(
    name: &str,
    top: &Map,
    partial: bool,
    memo: &mut HashMap<String, Option<(Node, u64)>>,
    stack: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Node> {
    let node = top.get(name)?;
    if let Some(done) = memo.get(name) {
        // Every use of a resolved base is a copy of it: charged, so a large base extended by thousands
        // of jobs stays within the project's budget.
        let weight = done.as_ref().map_or(0, |(_, w)| *w);
        if !crate::budget::charge(weight, "extends", node.span) {
            return None;
        }
        return done.as_ref().map(|(n, _)| n.clone());
    }
    node.as_map()?;
    stack.push(name.to_string());
    let mut acc = Map::default();
    for base in bases(node) {
        let Some(base_name) = base.as_str() else {
            diags.push(Diagnostic::error(format!("`{name}`: `extends` entries must be job names")).at(base.span));
            continue;
        };
        if stack.iter().any(|s| s == base_name) {
            diags.push(
                Diagnostic::error(format!(
                    "`{name}`: circular dependency in `extends`: {} -> {base_name}",
                    stack.join(" -> ")
                ))
                .at(base.span),
            );
            continue;
        }
        if stack.len() >= MAX_EXTENDS_DEPTH {
            diags.push(
                Diagnostic::error(format!(
                    "`{name}`: `extends` nested deeper than {MAX_EXTENDS_DEPTH} levels (GitLab's limit)"
                ))
                .at(base.span),
            );
            continue;
        }
        match top.get(base_name) {
            None => {
                diags.push(super::missing_definition(
                    format!("`{name}`: unknown key in `extends`: `{base_name}`"),
                    base.span,
                    partial,
                ));
            }
            Some(b) if b.as_map().is_none() => {
                diags.push(
                    Diagnostic::error(format!("`{name}`: `{base_name}` in `extends` is not a job or template"))
                        .at(base.span),
                );
            }
            Some(_) => {
                if let Some(resolved) = resolve_one(base_name, top, partial, memo, stack, diags)
                    && let Value::Map(mut m) = resolved.value
                {
                    m.remove("extends");
                    deep_merge(&mut acc, m);
                }
            }
        }
    }
    stack.pop();
    let mut own = node.as_map().cloned().unwrap_or_default();
    own.remove("extends");
    deep_merge(&mut acc, own);
    let out = Node { span: node.span, tag: None, value: Value::Map(acc) };
    let weight = out.weight();
    if !crate::budget::charge(weight, "extends", node.span) {
        return None;
    }
    memo.insert(name.to_string(), Some((out.clone(), weight)));
    Some(out)
}
