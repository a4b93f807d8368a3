//! From the merged configuration to resolved jobs: `default:` and `inherit:`, variables, `parallel:
//! matrix:` instances, scripts, images, `needs:` and `trigger:`, each value with the span it came from.

use super::pipelines::{self, Runs};
use super::vars::{Var, VarOrigin, Vars};
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::yaml::{Map, Node, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// Top-level keys that are keywords, not jobs.
pub const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "spec",
];

/// Keys a job takes from `default:` when it does not set them itself.
const DEFAULT_KEYS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

/// GitLab's limit on the jobs one `parallel: matrix:` may create.
pub const MAX_MATRIX_JOBS: usize = 200;

#[derive(Clone, Debug)]
pub struct Line {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Image {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Need {
    pub job: Option<String>,
    pub project: Option<String>,
    pub reference: Option<String>,
    pub pipeline: Option<String>,
    pub artifacts: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Trigger {
    /// Downstream project of a multi-project pipeline.
    pub project: Option<String>,
    pub branch: Option<String>,
    /// A child pipeline (`trigger: include:`).
    pub child: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Job {
    /// Name as GitLab shows it (with the matrix values for a matrix instance).
    pub name: String,
    /// Name of the job key.
    pub key: String,
    /// For a job of a child pipeline: the trigger job that starts it (`parent-job` or `a > b` when nested).
    pub child_of: Option<String>,
    /// Where the job key is written.
    pub span: Span,
    pub stage: String,
    pub image: Option<Image>,
    pub services: Vec<Image>,
    pub before_script: Vec<Line>,
    pub script: Vec<Line>,
    pub after_script: Vec<Line>,
    /// Predefined, global, job and matrix variables (later ones win).
    pub vars: Vars,
    pub needs: Vec<Need>,
    pub trigger: Option<Trigger>,
    /// The job's resolved configuration, for detectors that need other keys.
    pub node: Node,
    /// The kinds of pipeline the job can run in (its `rules:`/`only:`/`except:` and `workflow:`); none:
    /// it never runs.
    pub runs: Runs,
}

impl Job {
    /// Every script line: `before_script`, `script`, then `after_script`.
    pub fn all_lines(&self) -> impl Iterator<Item = &Line> {
        self.before_script.iter().chain(&self.script).chain(&self.after_script)
    }
}

/// Variables of a `variables:` block.
pub fn read_variables(node: &Node, origin: VarOrigin, diags: &mut Vec<Diagnostic>) -> Vec<Var> {
    let Some(m) = node.as_map() else {
        if !node.is_null() {
            diags.push(Diagnostic::error(format!("`variables` must be a map, found {}", node.kind())).at(node.span));
        }
        return vec![];
    };
    let mut out = Vec::new();
    for (k, v) in &m.entries {
        let (value, expand, span) = match &v.value {
            Value::Str(s, _) => (s.clone(), true, v.span),
            Value::Null => (String::new(), true, v.span),
            Value::Map(vm) => {
                let value = vm.get("value");
                let expand = vm.get("expand").and_then(Node::as_bool).unwrap_or(true);
                (value.and_then(Node::as_str).unwrap_or_default().to_string(), expand, value.map_or(v.span, |n| n.span))
            }
            Value::Seq(_) => {
                diags.push(
                    Diagnostic::error(format!("variable `{}` must be a string, found a list", k.name)).at(v.span),
                );
                continue;
            }
        };
        out.push(Var { name: k.name.clone(), value, expand, origin, span: Some(span) });
    }
    out
}

/// GitLab refuses script entries that are not strings; the usual cause is an unquoted line holding `: `.
fn check_script(job: &str, key: &str, node: Option<&Node>, seen: &mut HashSet<Span>, diags: &mut Vec<Diagnostic>) {
    let Some(node) = node else { return };
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Seq(items) => stack.extend(items.iter()),
            Value::Map(_) if seen.insert(n.span) => diags.push(
                Diagnostic::error(format!(
                    "`{job}`: a `{key}` entry is a map, not a command; GitLab rejects this script"
                ))
                .at(n.span)
                .help("a line containing `: ` must be quoted: - 'curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" ...'"),
            ),
            _ => {}
        }
    }
}

/// Script lines of a `script`-like value: a string or a list, nested lists (from `!reference`) flattened.
pub fn read_lines(node: Option<&Node>) -> Vec<Line> {
    let mut out = Vec::new();
    let Some(node) = node else { return out };
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Str(s, _) => out.push(Line { text: s.clone(), span: n.span }),
            Value::Seq(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

fn read_image(node: &Node) -> Option<Image> {
    match &node.value {
        Value::Str(s, _) => Some(Image { name: s.clone(), span: node.span }),
        Value::Map(m) => m.get("name").and_then(|n| n.as_str().map(|s| Image { name: s.to_string(), span: n.span })),
        _ => None,
    }
}

fn read_needs(node: Option<&Node>) -> Vec<Need> {
    let Some(items) = node.and_then(Node::as_seq) else {
        return vec![];
    };
    let mut out = Vec::new();
    for item in items {
        match &item.value {
            Value::Str(s, _) => out.push(Need {
                job: Some(s.clone()),
                project: None,
                reference: None,
                pipeline: None,
                artifacts: true,
                span: item.span,
            }),
            Value::Map(m) => {
                let s = |k: &str| m.get(k).and_then(Node::as_str).map(str::to_string);
                out.push(Need {
                    job: s("job"),
                    project: s("project"),
                    reference: s("ref"),
                    pipeline: s("pipeline"),
                    artifacts: m.get("artifacts").and_then(Node::as_bool).unwrap_or(true),
                    span: m.get("project").map_or(item.span, |p| p.span),
                })
            }
            _ => {}
        }
    }
    out
}

fn read_trigger(node: Option<&Node>) -> Option<Trigger> {
    let node = node?;
    match &node.value {
        Value::Str(s, _) => Some(Trigger { project: Some(s.clone()), branch: None, child: false, span: node.span }),
        Value::Map(m) => {
            let project = m.get("project");
            Some(Trigger {
                project: project.and_then(Node::as_str).map(str::to_string),
                branch: m.get("branch").and_then(Node::as_str).map(str::to_string),
                child: m.contains("include"),
                span: project.map_or(node.span, |p| p.span),
            })
        }
        _ => None,
    }
}

/// Whether a job inherits `key` from `default:` / a global variable `name`.
fn inherits(job: &Map, section: &str, name: &str) -> bool {
    match job.get("inherit").and_then(|i| i.get(section)) {
        None => true,
        Some(n) => match &n.value {
            Value::Seq(list) => list.iter().any(|x| x.as_str() == Some(name)),
            _ => n.as_bool().unwrap_or(true),
        },
    }
}

/// The matrix combinations of `parallel: matrix:`, each a list of (name, value, span).
fn matrix(job_name: &str, node: Option<&Node>, diags: &mut Vec<Diagnostic>) -> Vec<Vec<(String, String, Span)>> {
    let Some(entries) = node.and_then(|p| p.get("matrix")).and_then(Node::as_seq) else {
        return vec![];
    };
    let mut out: Vec<Vec<(String, String, Span)>> = Vec::new();
    for entry in entries {
        let Some(m) = entry.as_map() else { continue };
        let mut combos: Vec<Vec<(String, String, Span)>> = vec![vec![]];
        for (k, v) in &m.entries {
            let values: Vec<(String, Span)> = match &v.value {
                Value::Str(s, _) => vec![(s.clone(), v.span)],
                Value::Seq(items) => items.iter().filter_map(|i| i.as_str().map(|s| (s.to_string(), i.span))).collect(),
                _ => vec![],
            };
            let mut next = Vec::new();
            for c in &combos {
                for (val, span) in &values {
                    let mut c2 = c.clone();
                    c2.push((k.name.clone(), val.clone(), *span));
                    next.push(c2);
                }
                if next.len() > MAX_MATRIX_JOBS {
                    break;
                }
            }
            combos = next;
        }
        out.extend(combos.into_iter().filter(|c| !c.is_empty()));
        if out.len() > MAX_MATRIX_JOBS {
            diags.push(
                Diagnostic::error(format!(
                    "`{job_name}`: `parallel: matrix:` creates more than {MAX_MATRIX_JOBS} jobs (GitLab's limit); the rest are ignored"
                ))
                .at(entry.span),
            );
            out.truncate(MAX_MATRIX_JOBS);
            break;
        }
    }
    out
}

/// Build the jobs of a fully merged configuration (includes, `!reference` and `extends` resolved), and
/// return them with the configuration's predefined and global variables. Without `keep_config`, a job's
/// [`node`](Job::node) is kept only when it starts a child pipeline (its `trigger:` is read later).
/// `child`: the configuration is a child pipeline's.
pub fn build(
    top: Map,
    predefined: &Arc<Vars>,
    keep_config: bool,
    child: bool,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Job>, Vars) {
    let default_branch = predefined.get("CI_DEFAULT_BRANCH").map_or_else(|| "main".to_string(), |v| v.value.clone());
    let workflow = if child { Runs::ALL } else { pipelines::workflow(&top, predefined, &default_branch) };
    let mut defaults = top.get("default").and_then(Node::as_map).cloned().unwrap_or_default();
    for key in ["image", "services", "cache", "before_script", "after_script"] {
        if !defaults.contains(key)
            && let Some((k, v)) = top.get_entry(key)
        {
            defaults.insert(k.clone(), v.clone());
        }
    }
    let globals = top.get("variables").map(|v| read_variables(v, VarOrigin::Global, diags)).unwrap_or_default();
    // Jobs that inherit every global variable (the usual case) share one base set.
    let mut all_globals = Vars::over(predefined.clone());
    for g in &globals {
        all_globals.set(g.clone());
    }
    let globals_base = Arc::new(all_globals);

    let mut jobs = Vec::new();
    let mut seen_bad_scripts = HashSet::new();
    for (key, node) in top.entries {
        if RESERVED.contains(&key.name.as_str()) || key.name.starts_with('.') {
            continue;
        }
        let node_span = node.span;
        let mut m = match node.value {
            Value::Map(own) => own,
            Value::Null => continue,
            _ => {
                diags.push(
                    Diagnostic::error(format!("job `{}` must be a map of keywords, found {}", key.name, node.kind()))
                        .at(key.span),
                );
                continue;
            }
        };
        // `inherit` is never a default key, so the job's map answers for it before and after filling in defaults.
        for (dk, dv) in &defaults.entries {
            if DEFAULT_KEYS.contains(&dk.name.as_str())
                && !m.contains(&dk.name)
                && inherits(&m, "default", &dk.name)
                && crate::budget::charge(dv.weight(), "default", dv.span)
            {
                m.insert(dk.clone(), dv.clone());
            }
        }
        for section in ["before_script", "script", "after_script"] {
            check_script(&key.name, section, m.get(section), &mut seen_bad_scripts, diags);
        }
        let stage = m.get("stage").and_then(Node::as_str).unwrap_or("test").to_string();
        let mut vars = match m.get("inherit").and_then(|i| i.get("variables")) {
            None => Vars::over(globals_base.clone()),
            Some(_) => {
                let mut v = Vars::over(predefined.clone());
                for g in globals.iter().filter(|g| inherits(&m, "variables", &g.name)) {
                    v.set(g.clone());
                }
                v
            }
        };
        if let Some(v) = m.get("variables") {
            for var in read_variables(v, VarOrigin::Job, diags) {
                vars.set(var);
            }
        }
        let resolved = Node { span: node_span, tag: None, value: Value::Map(m) };
        let m = resolved.as_map().expect("built as a map");
        let mut base = Job {
            name: key.name.clone(),
            key: key.name.clone(),
            child_of: None,
            span: key.span,
            stage: stage.clone(),
            image: m.get("image").and_then(read_image),
            services: m
                .get("services")
                .and_then(Node::as_seq)
                .map(|s| s.iter().filter_map(read_image).collect())
                .unwrap_or_default(),
            before_script: read_lines(m.get("before_script")),
            script: read_lines(m.get("script")),
            after_script: read_lines(m.get("after_script")),
            vars,
            needs: read_needs(m.get("needs")),
            trigger: read_trigger(m.get("trigger")),
            node: Node::new(resolved.span, Value::Null),
            runs: Runs::NEVER,
        };
        base.runs = pipelines::job(m, &base.vars, &default_branch, child).and(workflow);
        let combos = matrix(&key.name, m.get("parallel"), diags);
        // The full configuration is kept only when asked for, or to read a child pipeline's `trigger:`.
        if keep_config || m.contains("trigger") {
            base.node = resolved;
        }
        // Each matrix instance is a copy of the job's scripts: charged.
        let job_weight: u64 = base
            .all_lines()
            .map(|l| crate::budget::NODE_UNITS + l.text.len() as u64)
            .sum::<u64>()
            .saturating_add(crate::budget::NODE_UNITS);
        let instances: Vec<Job> = if combos.is_empty() {
            vec![base]
        } else {
            combos
                .into_iter()
                .take_while(|_| crate::budget::charge(job_weight, "parallel: matrix", node_span))
                .map(|combo| {
                    let mut j = base.clone();
                    let values: Vec<&str> = combo.iter().map(|(_, v, _)| v.as_str()).collect();
                    j.name = format!("{}: [{}]", key.name, values.join(", "));
                    for (n, v, span) in &combo {
                        j.vars.set(Var {
                            name: n.clone(),
                            value: v.clone(),
                            expand: true,
                            origin: VarOrigin::Matrix,
                            span: Some(*span),
                        });
                    }
                    j
                })
                .collect()
        };
        for mut j in instances {
            for (n, v) in [("CI_JOB_NAME", j.name.clone()), ("CI_JOB_STAGE", stage.clone())] {
                j.vars.set(Var {
                    name: n.to_string(),
                    value: v,
                    expand: false,
                    origin: VarOrigin::Predefined,
                    span: None,
                });
            }
            jobs.push(j);
        }
    }
    (jobs, Vars::over(globals_base))
}
