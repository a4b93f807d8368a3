//! `!reference [.job, key, ...]`: replaced by a copy of the value it points at, after includes are
//! merged and before `extends` (GitLab's order). References inside the copied value are resolved too,
//! up to GitLab's nesting limit of 10, which also stops reference cycles.

use crate::diag::Diagnostic;
use crate::yaml::{Map, Node, Value};

pub const MAX_REFERENCE_DEPTH: usize = 10;

fn has_reference(node: &Node) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.has_tag("!reference") {
            return true;
        }
        match &n.value {
            Value::Seq(s) => stack.extend(s.iter()),
            Value::Map(m) => stack.extend(m.entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    false
}

/// Resolve every `!reference` in the configuration.
pub fn resolve(top: &mut Map, partial: bool, diags: &mut Vec<Diagnostic>) {
    if !top.entries.iter().any(|(_, v)| has_reference(v)) {
        return;
    }
    let original = top.clone();
    for (_, v) in top.entries.iter_mut() {
        resolve_node(v, &original, 0, partial, diags);
    }
}

fn resolve_node(node: &mut Node, top: &Map, depth: usize, partial: bool, diags: &mut Vec<Diagnostic>) {
    if node.has_tag("!reference") {
        match lookup(node, top) {
            Err((msg, not_found)) => {
                let d = if not_found {
                    super::missing_definition(msg, node.span, partial)
                } else {
                    Diagnostic::error(msg).at(node.span)
                };
                diags.push(d);
                node.value = Value::Null;
                node.tag = None;
            }
            Ok(target) => {
                if depth >= MAX_REFERENCE_DEPTH {
                    diags.push(
                        Diagnostic::error(format!(
                            "`!reference` nested deeper than {MAX_REFERENCE_DEPTH} levels (a reference cycle?)"
                        ))
                        .at(node.span),
                    );
                    node.value = Value::Null;
                    node.tag = None;
                    return;
                }
                if !crate::budget::charge(target.weight(), "!reference", node.span) {
                    node.value = Value::Null;
                    node.tag = None;
                    return;
                }
                let mut copy = target.clone();
                resolve_node(&mut copy, top, depth + 1, partial, diags);
                *node = copy;
            }
        }
        return;
    }
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| resolve_node(i, top, depth, partial, diags)),
        Value::Map(m) => m.entries.iter_mut().for_each(|(_, v)| resolve_node(v, top, depth, partial, diags)),
        _ => {}
    }
}

fn lookup<'t>(node: &Node, top: &'t Map) -> Result<&'t Node, (String, bool)> {
    let Some(path) = node.as_seq() else {
        return Err(("`!reference` takes a list: [.job, key, ...]".to_string(), false));
    };
    let keys: Vec<&str> = path.iter().filter_map(Node::as_str).collect();
    if keys.len() != path.len() || keys.is_empty() {
        return Err(("`!reference` takes a list of keys: [.job, key, ...]".to_string(), false));
    }
    let shown = format!("!reference [{}]", keys.join(", "));
    let mut cur = top.get(keys[0]).ok_or_else(|| (format!("{shown} could not be found: no `{}`", keys[0]), true))?;
    for k in &keys[1..] {
        cur = cur.get(k).ok_or_else(|| (format!("{shown} could not be found: no `{k}`"), true))?;
    }
    Ok(cur)
}
