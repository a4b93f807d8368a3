//! CI/CD variables: predefined ones derived from the instance and project, `variables:` blocks, and `$VAR` expansion.

use crate::source::Span;
use crate::{Instance, Project};
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VarOrigin {
    Predefined,
    Global,
    Job,
    Matrix,
}

#[derive(Clone, Debug)]
pub struct Var {
    pub name: String,
    pub value: String,
    /// `expand: false` variables are used as written.
    pub expand: bool,
    pub origin: VarOrigin,
    pub span: Option<Span>,
}

/// An ordered set of variables; a later definition of a name replaces the earlier one.
///
/// Sets are layered: a job's variables sit on a shared base (predefined and global variables) instead of
/// copying it, so thousands of jobs do not each hold their own copy of the same variables.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    base: Option<Arc<Vars>>,
    list: Vec<Var>,
    /// One bit per name defined in this layer or below ([`name_bit`]): detectors look up many names
    /// no job defines, and such a lookup then costs no walk through the layers.
    names: u128,
    /// One bit per name defined in this layer: a lookup passes over the layers that cannot hold the name.
    own: u128,
    /// Where each name is in `list`, once the layer holds more than [`INDEXED_VARS`] (a script that assigns
    /// thousands of variables): lookups and redefinitions then cost no scan of the layer.
    index: Option<std::collections::HashMap<String, usize>>,
}

/// Layers with more variables than this are indexed.
const INDEXED_VARS: usize = 64;

/// A name's bit in [`Vars::names`] and [`Vars::own`].
fn name_bit(name: &str) -> u128 {
    // FNV-1a, then a multiplication that spreads its low bits (where names that differ only at the end
    // differ) into the top seven, which pick the bit.
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    1 << (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57)
}

impl Vars {
    /// An empty layer on top of `base`.
    pub fn over(base: Arc<Vars>) -> Vars {
        Vars { names: base.names, own: 0, base: Some(base), list: Vec::new(), index: None }
    }
    pub fn get(&self, name: &str) -> Option<&Var> {
        let bit = name_bit(name);
        if self.names & bit == 0 {
            return None;
        }
        let mut layer = self;
        loop {
            if layer.own & bit != 0 {
                let found = match &layer.index {
                    Some(index) => index.get(name).map(|&i| &layer.list[i]),
                    None => layer.list.iter().rev().find(|v| v.name == name),
                };
                if found.is_some() {
                    return found;
                }
            }
            layer = layer.base.as_deref()?;
        }
    }
    pub fn set(&mut self, var: Var) {
        let bit = name_bit(&var.name);
        if let Some(index) = &mut self.index {
            // A large layer: a redefinition takes the old one's place (no scan, no shift).
            match index.get(&var.name) {
                Some(&i) => self.list[i] = var,
                None => {
                    index.insert(var.name.clone(), self.list.len());
                    self.list.push(var);
                }
            }
        } else {
            if self.own & bit != 0 {
                self.list.retain(|v| v.name != var.name);
            }
            self.list.push(var);
            if self.list.len() > INDEXED_VARS {
                self.index = Some(self.list.iter().enumerate().map(|(i, v)| (v.name.clone(), i)).collect());
            }
        }
        self.own |= bit;
        self.names |= bit;
    }
    /// Each layer's own variables, this one first, then its base's, down to the bottom one.
    fn stack(&self) -> impl Iterator<Item = &[Var]> {
        std::iter::successors(Some(self), |v| v.base.as_deref()).map(|v| v.list.as_slice())
    }

    /// Every variable of every layer, overridden ones included: for quick scans that need no order.
    pub fn layers(&self) -> impl Iterator<Item = &Var> {
        self.stack().flatten()
    }

    /// Every variable in effect, in definition order (a redefinition moves the name to its new place).
    pub fn all(&self) -> Vec<&Var> {
        // Walk from the newest definition back, keeping the first seen of each name, then restore order.
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<&Var> =
            self.stack().flat_map(|l| l.iter().rev()).filter(|v| seen.insert(v.name.as_str())).collect();
        out.reverse();
        out
    }
    /// Variables in effect that are not predefined, in definition order: [`all`](Vars::all) without the
    /// predefined ones, which are passed over before any lookup (a job's layers hold dozens of them).
    pub fn defined(&self) -> impl Iterator<Item = &Var> {
        let mut out: Vec<&Var> = self
            .stack()
            .flat_map(|l| l.iter().rev())
            .filter(|v| v.origin != VarOrigin::Predefined && self.get(&v.name).is_some_and(|x| std::ptr::eq(x, *v)))
            .collect();
        out.reverse();
        out.into_iter()
    }

    /// Expand `$VAR` and `${VAR}` references, recursively through variable values (as the runner does).
    /// `$$` stands for a literal `$`. Unknown variables stay as written, so callers can see what is unresolved.
    pub fn expand(&self, s: &str) -> String {
        let mut budget = MAX_EXPANSION.max(s.len());
        self.expand_in(s, &mut Vec::new(), &mut budget)
    }

    /// Expand `s`. `stack` holds the variables being expanded: a variable is not expanded inside its own
    /// value (`PATH="$X:$PATH"` keeps `$PATH`, as a shell would at that point), which also stops cycles.
    /// `budget` bounds the output, so variables that double each other cannot blow up memory.
    fn expand_in<'a>(&'a self, s: &str, stack: &mut Vec<&'a str>, budget: &mut usize) -> String {
        if !s.contains('$') {
            return s.to_string();
        }
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < b.len() {
            if out.len() >= *budget || *budget == 0 {
                out.push_str(&s[i..]);
                break;
            }
            if b[i] != b'$' {
                let next = s[i..].find('$').map_or(s.len(), |o| i + o);
                out.push_str(&s[i..next]);
                i = next;
                continue;
            }
            if b.get(i + 1) == Some(&b'$') {
                out.push_str("$$");
                i += 2;
                continue;
            }
            if let Some((value, end)) = self.parameter_expansion(s, i, stack, budget) {
                out.push_str(&value);
                i = end;
                continue;
            }
            let Some((name, end)) = var_ref(s, i) else {
                out.push('$');
                i += 1;
                continue;
            };
            // Every reference costs, even one whose value is empty: output alone would not bound
            // references that fan out to nothing.
            *budget = budget.saturating_sub(REFERENCE_COST);
            match self.get(name) {
                Some(v) if !stack.contains(&v.name.as_str()) && stack.len() < 10 => {
                    if v.expand {
                        stack.push(&v.name);
                        let value = self.expand_in(&v.value, stack, budget);
                        stack.pop();
                        out.push_str(&value);
                    } else {
                        out.push_str(&v.value);
                    }
                }
                _ => out.push_str(&s[i..end]),
            }
            i = end;
        }
        *budget = budget.saturating_sub(out.len().saturating_sub(s.len()));
        out
    }
}

/// Expansion stops adding text past this many bytes (far above any real value).
pub const MAX_EXPANSION: usize = 64 * 1024;
/// What one variable reference costs of the expansion's budget, in bytes: one expansion follows at most
/// `MAX_EXPANSION / REFERENCE_COST` (4,096) references, even when they produce nothing.
pub const REFERENCE_COST: usize = 16;

impl Vars {
    /// Shell parameter expansion of a known variable: `${VAR#glob}`, `${VAR##glob}`, `${VAR%glob}`,
    /// `${VAR%%glob}`, `${VAR:-default}`, `${VAR-default}` (GitLab's own npm example writes
    /// `${CI_API_V4_URL#https?}`). `None` when `s[i..]` is not one, or the variable is unknown.
    fn parameter_expansion<'a>(
        &'a self,
        s: &str,
        i: usize,
        stack: &mut Vec<&'a str>,
        budget: &mut usize,
    ) -> Option<(String, usize)> {
        let inner_start = i + 2;
        if !s[i..].starts_with("${") {
            return None;
        }
        let close = s[inner_start..].find('}')? + inner_start;
        let inner = &s[inner_start..close];
        *budget = budget.saturating_sub(REFERENCE_COST);
        let name_len = inner.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
        let (name, op) = inner.split_at(name_len);
        if name.is_empty() || op.is_empty() {
            return None;
        }
        let value = self.get(name).map(|v| {
            if v.expand && !stack.contains(&v.name.as_str()) && stack.len() < 10 {
                stack.push(&v.name);
                let e = self.expand_in(&v.value, stack, budget);
                stack.pop();
                e
            } else {
                v.value.clone()
            }
        });
        let result = if let Some(default) = op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
            match value {
                Some(v) if !(op.starts_with(':') && v.is_empty()) => v,
                _ if !default.contains('$') => default.to_string(),
                _ => return None,
            }
        } else {
            let value = value?;
            if let Some(pat) = op.strip_prefix("##") {
                strip_glob(&value, pat, true, true)
            } else if let Some(pat) = op.strip_prefix('#') {
                strip_glob(&value, pat, true, false)
            } else if let Some(pat) = op.strip_prefix("%%") {
                strip_glob(&value, pat, false, true)
            } else if let Some(pat) = op.strip_prefix('%') {
                strip_glob(&value, pat, false, false)
            } else {
                return None;
            }
        };
        Some((result, close + 1))
    }
}

/// Values longer than this are not cut by a glob: trying every cut costs the square of the length.
const MAX_GLOB_VALUE: usize = 4096;

/// Remove the shortest (or longest) prefix (or suffix) of `value` that matches the shell glob `pat`.
fn strip_glob(value: &str, pat: &str, prefix: bool, longest: bool) -> String {
    if value.len() > MAX_GLOB_VALUE {
        return value.to_string();
    }
    let re = super::glob::glob_regex(pat).as_str().replace("[^/]", ".");
    let re = regex::Regex::new(&re).ok();
    let matches = |cand: &str| re.as_ref().is_some_and(|r| r.is_match(cand));
    let cuts: Vec<usize> = value.char_indices().map(|(i, _)| i).chain(std::iter::once(value.len())).collect();
    let ordered: Box<dyn Iterator<Item = &usize>> =
        if longest { Box::new(cuts.iter().rev()) } else { Box::new(cuts.iter()) };
    for &cut in ordered {
        if prefix {
            if matches(&value[..cut]) {
                return value[cut..].to_string();
            }
        } else {
            let from = value.len() - cut;
            if value.is_char_boundary(from) && matches(&value[from..]) {
                return value[..from].to_string();
            }
        }
    }
    value.to_string()
}

/// The variable referenced at `s[i] == '$'`: its name and the end of the reference.
pub fn var_ref(s: &str, i: usize) -> Option<(&str, usize)> {
    let rest = &s[i + 1..];
    if let Some(inner) = rest.strip_prefix('{') {
        let close = inner.find('}')?;
        let name = &inner[..close];
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        return valid.then_some((name, i + 2 + close + 1));
    }
    let len = rest.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
    (len > 0 && !rest.as_bytes()[0].is_ascii_digit()).then(|| (&rest[..len], i + 1 + len))
}

/// Lower-case, non-alphanumerics to `-`, at most 63 characters: GitLab's `_SLUG` form.
pub fn slug(s: &str) -> String {
    let mut out: String =
        s.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    out.truncate(63);
    out.trim_matches('-').to_string()
}

/// A predefined variable.
fn fixed(name: &str, value: String) -> Var {
    Var { name: name.to_string(), value, expand: false, origin: VarOrigin::Predefined, span: None }
}

/// The predefined variables that depend only on the instance: the same for every project,
/// so one set is shared under all of them.
pub fn instance_predefined(instance: &Instance) -> Vars {
    let mut vars = Vars::default();
    let mut set = |name: &str, value: String| vars.set(fixed(name, value));
    let url = instance.url.clone();
    let (protocol, _) = url.split_once("://").unwrap_or(("https", ""));
    let fqdn = instance.host.clone();
    let host = fqdn.split(':').next().unwrap_or(&fqdn).to_string();
    set("CI", "true".into());
    set("GITLAB_CI", "true".into());
    set("CI_SERVER", "yes".into());
    set("CI_SERVER_URL", url.clone());
    set("CI_SERVER_HOST", host);
    set("CI_SERVER_FQDN", fqdn.clone());
    set("CI_SERVER_PROTOCOL", protocol.to_string());
    set(
        "CI_SERVER_PORT",
        fqdn.split_once(':')
            .map(|(_, p)| p.to_string())
            .unwrap_or_else(|| if protocol == "http" { "80" } else { "443" }.into()),
    );
    set("CI_API_V4_URL", format!("{url}/api/v4"));
    set("CI_API_GRAPHQL_URL", format!("{url}/api/graphql"));
    set("CI_REGISTRY_USER", "gitlab-ci-token".into());
    set("CI_DEPENDENCY_PROXY_USER", "gitlab-ci-token".into());
    set("CI_DEPENDENCY_PROXY_SERVER", dependency_proxy(instance));
    set("CI_TEMPLATE_REGISTRY_HOST", "registry.gitlab.com".into());
    if let Some(reg) = &instance.registry {
        set("CI_REGISTRY", reg.clone());
    }
    vars
}

/// The dependency proxy's `host:port`.
fn dependency_proxy(instance: &Instance) -> String {
    let fqdn = &instance.host;
    if fqdn.contains(':') { fqdn.clone() } else { format!("{fqdn}:443") }
}

/// Predefined variables that are fixed for a project's pipelines, on `base`, the instance's
/// ([`instance_predefined`]). Variables that depend on the pipeline (branch, merge request, pipeline
/// source) are left out on purpose: they stay unresolved.
pub fn predefined(base: Arc<Vars>, instance: &Instance, project: &Project) -> Vars {
    let mut vars = Vars::over(base);
    let mut set = |name: &str, value: String| vars.set(fixed(name, value));
    let url = &instance.url;
    let path = &project.path;
    let (namespace, name) = path.rsplit_once('/').unwrap_or(("", path));
    let root_group = path.split('/').next().unwrap_or("");
    set("CI_PROJECT_PATH", path.clone());
    set("CI_PROJECT_PATH_SLUG", slug(path));
    set("CI_PROJECT_NAMESPACE", namespace.to_string());
    set("CI_PROJECT_NAMESPACE_SLUG", slug(namespace));
    set("CI_PROJECT_ROOT_NAMESPACE", root_group.to_string());
    set("CI_PROJECT_NAME", name.to_string());
    set("CI_PROJECT_URL", format!("{url}/{path}"));
    set("CI_PROJECT_VISIBILITY", project.visibility.into());
    set("CI_DEFAULT_BRANCH", project.default_branch.clone());
    set("CI_CONFIG_PATH", project.ci_config_path.clone());
    // The runner's default build directory: where scripts find the checkout (`$CI_PROJECT_DIR/ci/x.sh`).
    set("CI_BUILDS_DIR", "/builds".into());
    set("CI_PROJECT_DIR", format!("/builds/{path}"));
    if let Some(id) = project.id {
        set("CI_PROJECT_ID", id.to_string());
    }
    let proxy = dependency_proxy(instance);
    set("CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX", format!("{proxy}/{root_group}/dependency_proxy/containers"));
    set("CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX", format!("{proxy}/{namespace}/dependency_proxy/containers"));
    if let Some(reg) = &instance.registry {
        set("CI_REGISTRY_IMAGE", format!("{reg}/{}", path.to_ascii_lowercase()));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        let mut v = Vars::default();
        for (n, val) in pairs {
            v.set(Var {
                name: n.to_string(),
                value: val.to_string(),
                expand: true,
                origin: VarOrigin::Global,
                span: None,
            });
        }
        v
    }

    /// The name mask only skips: every defined name is found in the layer that defines it last, across
    /// layers, and names defined nowhere are not.
    #[test]
    fn lookups_across_layers_with_the_name_mask() {
        let names: Vec<String> = (0..300).map(|i| format!("VAR_{i}")).collect();
        let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "base")).collect();
        let base = Arc::new(vars(&pairs));
        let mut top = Vars::over(base.clone());
        for n in names.iter().step_by(100) {
            top.set(Var { name: n.clone(), value: "top".into(), expand: true, origin: VarOrigin::Job, span: None });
        }
        for (i, n) in names.iter().enumerate() {
            let want = if i % 100 == 0 { "top" } else { "base" };
            assert_eq!(top.get(n).map(|v| v.value.as_str()), Some(want), "{n}");
            assert_eq!(base.get(n).map(|v| v.value.as_str()), Some("base"), "{n}");
            assert!(top.get(&format!("{n}_X")).is_none() && top.get(&n.to_lowercase()).is_none());
        }
        assert_eq!(top.all().len(), 300);
        // A name set again in the same layer replaces its earlier value there.
        top.set(Var { name: "VAR_0".into(), value: "again".into(), expand: true, origin: VarOrigin::Job, span: None });
        assert_eq!(top.get("VAR_0").map(|v| v.value.as_str()), Some("again"));
        assert_eq!(top.layers().filter(|v| v.name == "VAR_0").count(), 2, "once in each layer");
    }

    /// `defined()` is the variables in effect without the predefined ones, in definition order: a user
    /// variable overridden by a predefined one is gone, a predefined one overridden by a user one is back.
    #[test]
    fn defined_variables_in_effect() {
        let var = |name: &str, value: &str, origin| Var {
            name: name.into(),
            value: value.into(),
            expand: true,
            origin,
            span: None,
        };
        let mut bottom = Vars::default();
        for (n, o) in
            [("CI_A", VarOrigin::Predefined), ("CI_B", VarOrigin::Predefined), ("CI_C", VarOrigin::Predefined)]
        {
            bottom.set(var(n, "pre", o));
        }
        let mut middle = Vars::over(Arc::new(bottom));
        for n in ["G1", "CI_B", "G2", "CI_JOB_NAME"] {
            middle.set(var(n, "global", VarOrigin::Global));
        }
        let mut top = Vars::over(Arc::new(middle));
        top.set(var("J1", "job", VarOrigin::Job));
        top.set(var("G1", "job", VarOrigin::Job));
        top.set(var("CI_JOB_NAME", "build", VarOrigin::Predefined));
        let got: Vec<(&str, &str)> = top.defined().map(|v| (v.name.as_str(), v.value.as_str())).collect();
        assert_eq!(got, [("CI_B", "global"), ("G2", "global"), ("J1", "job"), ("G1", "job")]);
        let reference: Vec<&str> =
            top.all().into_iter().filter(|v| v.origin != VarOrigin::Predefined).map(|v| v.name.as_str()).collect();
        assert_eq!(got.iter().map(|(n, _)| *n).collect::<Vec<_>>(), reference);
    }

    #[test]
    fn expands_both_forms_and_recursively() {
        let v = vars(&[("HOST", "gitlab.example.com"), ("URL", "https://$HOST/api")]);
        assert_eq!(v.expand("${URL}/x and $HOST"), "https://gitlab.example.com/api/x and gitlab.example.com");
    }

    #[test]
    fn unknown_and_escaped_stay() {
        let v = vars(&[("A", "1")]);
        assert_eq!(v.expand("$B ${C} $$A $A"), "$B ${C} $$A 1");
        assert_eq!(v.expand("cost $5"), "cost $5");
    }

    #[test]
    fn shell_parameter_expansion() {
        let v = vars(&[("API", "https://gitlab.example.com/api/v4"), ("EMPTY", "")]);
        assert_eq!(v.expand("${API#https?}/projects"), "//gitlab.example.com/api/v4/projects");
        assert_eq!(v.expand("${API##*/}"), "v4");
        assert_eq!(v.expand("${API%/*}"), "https://gitlab.example.com/api");
        assert_eq!(v.expand("${EMPTY:-fallback} ${UNSET:-dflt} ${UNSET-x}"), "fallback dflt x");
        assert_eq!(v.expand("${UNSET#x}"), "${UNSET#x}");
    }

    #[test]
    fn a_variable_does_not_expand_inside_itself() {
        let v = vars(&[("A", "x$A"), ("P", "/bin:$P"), ("Q", "$R"), ("R", "$Q")]);
        assert_eq!(v.expand("$A"), "x$A");
        assert_eq!(v.expand("$P"), "/bin:$P");
        assert_eq!(v.expand("$Q"), "$Q");
    }

    #[test]
    fn doubling_variables_are_bounded() {
        let mut pairs = vec![("V0".to_string(), "0123456789".to_string())];
        for i in 1..40 {
            pairs.push((format!("V{i}"), format!("$V{}$V{}", i - 1, i - 1)));
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let v = vars(&refs);
        let out = v.expand("$V39");
        assert!(out.len() < 4 * MAX_EXPANSION, "{}", out.len());
    }

    /// Expansions that produce nothing still cost work: 50 references per level, 8 levels, ending in an
    /// empty value, would take 50^8 steps if only output counted.
    #[test]
    fn empty_fan_out_is_bounded() {
        let mut pairs: Vec<(String, String)> =
            (0..8).map(|i| (format!("V{i}"), format!("$V{}", i + 1).repeat(50))).collect();
        pairs.push(("V8".into(), String::new()));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let v = vars(&refs);
        let started = std::time::Instant::now();
        let _ = v.expand("x $V0 y ${V0%%a*b} ${V0:-z}");
        assert!(started.elapsed().as_secs() < 2, "took {:?}", started.elapsed());
    }
}
