//! `include:` in all its forms, `spec: inputs:` headers and `$[[ inputs.x ]]` interpolation.
//!
//! A file's content is its includes merged in order, with the file's own content deep-merged on top,
//! as GitLab does. `local` and `project` includes (and components hosted in a readable project) are
//! read through `Repositories`; `remote`, `template` and unknown components are recorded as unresolved.

use super::glob::glob_regex;
use super::merge::deep_merge;
use super::rules;
use super::vars::Vars;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::yaml::{self, DuplicateKey, Key, Map, Node, Parsed, Value, YamlError};
use crate::{Instance, RepoFile, Repositories};
use regex::Regex;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

/// GitLab's default limit on the number of includes in one pipeline.
pub const MAX_INCLUDES: usize = 150;
/// GitLab's limit on include nesting depth.
pub const MAX_INCLUDE_DEPTH: usize = 100;

/// What every pipeline resolved together shares: parsed files (a template included by many projects is
/// parsed once) and the instance's predefined variables.
#[derive(Default)]
pub struct ParseCache {
    map: Mutex<HashMap<FileId, Arc<Result<Parsed, YamlError>>>>,
    instance_vars: OnceLock<Arc<Vars>>,
}

impl ParseCache {
    /// The predefined variables of the instance, made once.
    pub fn instance_vars(&self, instance: &Instance) -> Arc<Vars> {
        self.instance_vars.get_or_init(|| Arc::new(super::vars::instance_predefined(instance))).clone()
    }

    /// Parse a file; keep the result when the file is `shared` (included from another project, so likely
    /// included again by other pipelines). A project's own files are used once and not kept.
    pub fn parse(&self, snap: &dyn Repositories, id: FileId, shared: bool) -> Arc<Result<Parsed, YamlError>> {
        if !shared {
            return Arc::new(yaml::parse(snap.sources(), id));
        }
        if let Some(hit) = self.map.lock().expect("parse cache").get(&id) {
            return hit.clone();
        }
        let parsed = Arc::new(yaml::parse(snap.sources(), id));
        self.map.lock().expect("parse cache").entry(id).or_insert(parsed).clone()
    }
}

/// The form of an `include:` item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum IncludeKind {
    Local,
    Project,
    Remote,
    Template,
    Component,
    Artifact,
}

/// An include that was read through `Repositories`.
#[derive(Clone, Debug, Serialize)]
pub struct IncludeRecord {
    /// `local`, `project` or `component`.
    pub kind: IncludeKind,
    pub project: String,
    pub file: String,
    /// Where the include is written.
    #[serde(skip)]
    pub from: Span,
    /// The include has `rules:` whose outcome depends on the pipeline.
    pub conditional: bool,
}

/// An include that could not be read: recorded, not fatal.
#[derive(Clone, Debug, Serialize)]
pub struct Unresolved {
    pub kind: IncludeKind,
    pub target: String,
    pub reason: String,
    #[serde(skip)]
    pub from: Span,
}

pub struct Loader<'a> {
    pub snap: &'a dyn Repositories,
    /// The project whose pipeline is being resolved.
    owner: String,
    pub cache: &'a ParseCache,
    /// Variables usable in `include:` (the pipeline project's predefined variables).
    pub vars: &'a Vars,
    pub count: usize,
    chain: Vec<(String, String)>,
    pub diags: Vec<Diagnostic>,
    pub includes: Vec<IncludeRecord>,
    pub unresolved: Vec<Unresolved>,
    pub duplicates: Vec<DuplicateKey>,
    /// Files read so far, each counted once as the budget's input.
    read: std::collections::HashSet<crate::source::FileId>,
}

/// A file's content with its includes merged in, where the hidden keys (`.name`) of a shared file (a
/// template many projects include) are not copied but *pending*: left in the parsed file, which is shared,
/// and copied only if something uses them (`extends:`, `!reference`). A template of 1,000 hidden jobs
/// included by every project of an org would otherwise be copied, merged and charged in full 10,000 times.
///
/// Merging stays exact: a hidden key is pending only while every definition of it so far is pending. A
/// later definition that is copied (the including file's own, a project file's) brings the pending ones in
/// first, in their order; a later pending one for a key already copied is copied in at once.
#[derive(Debug, Default)]
pub struct Merged {
    pub map: Map,
    /// The shared files whose hidden keys are pending, in merge order.
    pending: Vec<PendingFile>,
}

/// A shared file's hidden keys, not copied yet (but those in `taken`).
#[derive(Debug, Clone)]
struct PendingFile {
    file: Arc<Result<Parsed, YamlError>>,
    /// Keys already copied from it (a set: a hostile project may use every key of a large template).
    taken: std::collections::HashSet<String>,
}

impl PendingFile {
    fn content(&self) -> &Map {
        static EMPTY: LazyLock<Map> = LazyLock::new(Map::default);
        match self.file.as_ref() {
            Ok(p) => p.docs.last().and_then(Node::as_map).unwrap_or(&EMPTY),
            Err(_) => &EMPTY,
        }
    }

    /// The file's definition of hidden key `name`, if it has one not copied yet.
    fn get(&self, name: &str) -> Option<(&Key, &Node)> {
        if self.taken.contains(name) {
            return None;
        }
        self.content().get_entry(name)
    }

    /// Its hidden keys not copied yet.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.content().keys().filter(|k| k.starts_with('.') && !self.taken.contains(*k))
    }
}

impl Merged {
    fn of(map: Map) -> Merged {
        Merged { map, pending: Vec::new() }
    }

    /// Copy every pending definition of `name` into the map, in order (charged to the budget).
    fn bring_in(&mut self, name: &str) {
        for i in 0..self.pending.len() {
            let Some((k, v)) = self.pending[i].get(name) else { continue };
            let (k, v) = (k.clone(), v.clone());
            self.pending[i].taken.insert(name.to_string());
            if !copy_in(&mut self.map, k, v) {
                return;
            }
        }
    }

    /// Merge `over` on top (GitLab's order: `over` is the later include, or the including file itself).
    fn merge(&mut self, over: Merged) {
        if !self.pending.is_empty() {
            for (k, _) in &over.map.entries {
                if k.name.starts_with('.') {
                    self.bring_in(&k.name);
                }
            }
        }
        deep_merge(&mut self.map, over.map);
        for mut f in over.pending {
            // A key this file leaves pending that is already copied here: its definition goes on top now.
            let here: Vec<String> = f.names().filter(|n| self.map.contains(n)).map(str::to_string).collect();
            for name in here {
                if let Some((k, v)) = f.get(&name) {
                    let (k, v) = (k.clone(), v.clone());
                    f.taken.insert(name);
                    copy_in(&mut self.map, k, v);
                }
            }
            self.pending.push(f);
        }
    }

    /// The configuration, with the pending keys it uses copied in: those named by an `extends:` or a
    /// `!reference` anywhere in it, and in what they bring, until nothing new is named. The others are
    /// dropped uncopied.
    pub fn finish(mut self) -> Map {
        if self.pending.is_empty() {
            return self.map;
        }
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut todo: Vec<String> = Vec::new();
        for (_, v) in &self.map.entries {
            named(v, &mut todo);
        }
        while let Some(name) = todo.pop() {
            if !name.starts_with('.') || !seen.insert(name.clone()) {
                continue;
            }
            self.bring_in(&name);
            if let Some(v) = self.map.get(&name) {
                named(v, &mut todo);
            }
        }
        self.map
    }
}

/// Merge one definition into the map, charged; false when the budget is spent.
fn copy_in(map: &mut Map, k: Key, v: Node) -> bool {
    if !crate::budget::charge(v.weight(), "include", k.span) {
        return false;
    }
    let mut one = Map::default();
    one.insert(k, v);
    deep_merge(map, one);
    true
}

/// The keys a node names in `extends:` or as the first item of a `!reference`, anywhere inside it.
fn named(node: &Node, out: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.has_tag("!reference")
            && let Some(first) = n.as_seq().and_then(|s| s.first()).and_then(Node::as_str)
        {
            out.push(first.to_string());
        }
        match &n.value {
            Value::Seq(items) => stack.extend(items.iter()),
            Value::Map(m) => {
                for (k, v) in &m.entries {
                    if k.name == "extends" {
                        match &v.value {
                            Value::Str(s, _) => out.push(s.clone()),
                            Value::Seq(items) => out.extend(items.iter().filter_map(Node::as_str).map(str::to_string)),
                            _ => {}
                        }
                    }
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

/// One file to include, after reading the include item.
struct Target {
    kind: IncludeKind,
    project: String,
    file: String,
    inputs: Option<Node>,
    from: Span,
    conditional: bool,
}

impl<'a> Loader<'a> {
    pub fn new(snap: &'a dyn Repositories, cache: &'a ParseCache, vars: &'a Vars, owner: &str) -> Self {
        Loader {
            snap,
            owner: owner.to_string(),
            cache,
            vars,
            count: 0,
            chain: Vec::new(),
            diags: Vec::new(),
            includes: Vec::new(),
            unresolved: Vec::new(),
            duplicates: Vec::new(),
            read: std::collections::HashSet::new(),
        }
    }

    /// Load a file of `project`, interpolate its inputs and expand its includes.
    /// `Err` means the file itself could not be used (for the root file: the project failed).
    pub fn load(
        &mut self,
        project: &str,
        path: &str,
        inputs: Option<&Node>,
        from: Option<Span>,
    ) -> Result<Merged, Diagnostic> {
        let id = match self.snap.file(project, path) {
            RepoFile::Found(id) => id,
            RepoFile::Missing(display) => {
                let mut d =
                    Diagnostic::error(format!("`{path}` does not exist in project `{project}`")).in_file(display);
                if path.starts_with('/') {
                    d = d.help(format!("a leading `/` means the root of `{project}`'s repository, not of the machine"));
                }
                return Err(match from {
                    Some(span) => Diagnostic { span: Some(span), ..d },
                    None => d,
                });
            }
            RepoFile::Failed(d) => {
                return Err(match (from, d.span) {
                    (Some(span), None) => Diagnostic {
                        span: Some(span),
                        message: match &d.file {
                            Some(f) => format!("{}: {}", f, d.message),
                            None => d.message.clone(),
                        },
                        ..d
                    },
                    _ => d,
                });
            }
        };
        let first_time = self.read.insert(id);
        if first_time {
            crate::budget::input(self.snap.sources().get(id).text.len() as u64);
        }
        // A project's own file is parsed for its first use alone: its documents are taken, not copied. A
        // shared file (a template included by many projects), or one of the project's own files included
        // again, is parsed once, cached, and copied (and charged), since includes are merged destructively.
        let shared = project != self.owner || !first_time;
        let parsed = self.cache.parse(self.snap, id, shared);
        if let Some(merged) = self.shared_as_pending(&parsed, inputs, id, from) {
            return merged;
        }
        let mut docs: Vec<Node> = match Arc::try_unwrap(parsed) {
            Ok(Ok(p)) => {
                self.duplicates.extend(p.duplicate_keys);
                p.docs
            }
            Ok(Err(e)) => return Err(Diagnostic::error(e.message).at(e.span)),
            Err(shared) => match shared.as_ref() {
                Ok(p) => {
                    // A copy of a shared file: charged, so that one large file included many times, or
                    // by many levels, stays within the project's budget.
                    let weight = p.weight();
                    let at = from.unwrap_or_else(|| self.snap.sources().span(id, 0, 0));
                    if !crate::budget::charge(weight, "include", at) {
                        return Ok(Merged::default());
                    }
                    self.duplicates.extend(p.duplicate_keys.iter().cloned());
                    p.docs.clone()
                }
                Err(e) => return Err(Diagnostic::error(e.message.clone()).at(e.span)),
            },
        };
        let file_span = self.snap.sources().span(id, 0, 0);
        let (header, content) = match docs.len() {
            0 => (None, None),
            1 => (None, docs.pop()),
            2 if docs[0].get("spec").is_some() => {
                let content = docs.pop();
                (docs.pop(), content)
            }
            _ => {
                return Err(Diagnostic::error(
                    "a CI file holds one YAML document, or a `spec:` header document and one content document",
                )
                .at(docs[1].span));
            }
        };
        let header = header.as_ref();
        let mut content = match content {
            None => Map::default(),
            Some(n) if n.is_null() => Map::default(),
            Some(Node { value: Value::Map(m), .. }) => m,
            Some(n) => {
                return Err(Diagnostic::error(format!(
                    "a CI file must be a map of jobs and keywords, found {}",
                    n.kind()
                ))
                .at(n.span));
            }
        };
        let given = inputs.and_then(Node::as_map);
        if header.is_some() || given.is_some_and(|m| !m.entries.is_empty()) {
            let values = self.input_values(header, given, from.unwrap_or(file_span))?;
            let mut errors = Vec::new();
            interpolate_map(&mut content, &values, &mut errors);
            if let Some(e) = errors.into_iter().next() {
                return Err(e);
            }
        }
        let norm = crate::paths::normalize_repo_path(path).unwrap_or_else(|_| path.to_string());
        self.chain.push((project.to_string(), norm));
        let out = self.expand(project, content);
        self.chain.pop();
        Ok(out)
    }

    /// A shared file that is one plain map (no `spec:` header, no inputs, no `include:` of its own): its
    /// visible keys copied (and charged), its hidden keys left pending (see [`Merged`]). `None`: the file
    /// is read the general way.
    fn shared_as_pending(
        &mut self,
        parsed: &Arc<Result<Parsed, YamlError>>,
        inputs: Option<&Node>,
        id: FileId,
        from: Option<Span>,
    ) -> Option<Result<Merged, Diagnostic>> {
        // Only a file the cache holds (shared with other pipelines) is worth leaving in place.
        if Arc::strong_count(parsed) < 2 || inputs.and_then(Node::as_map).is_some_and(|m| !m.entries.is_empty()) {
            return None;
        }
        let p = parsed.as_ref().as_ref().ok()?;
        let [doc] = p.docs.as_slice() else { return None };
        let content = doc.as_map()?;
        if content.contains("include") || content.contains("spec") {
            return None;
        }
        let mut map = Map::default();
        let mut weight = 0u64;
        for (k, v) in &content.entries {
            if !k.name.starts_with('.') {
                weight = weight.saturating_add(v.weight());
                map.insert(k.clone(), v.clone());
            }
        }
        let at = from.unwrap_or_else(|| self.snap.sources().span(id, 0, 0));
        if !crate::budget::charge(weight, "include", at) {
            return Some(Ok(Merged::default()));
        }
        self.duplicates.extend(p.duplicate_keys.iter().cloned());
        Some(Ok(Merged { map, pending: vec![PendingFile { file: parsed.clone(), taken: Default::default() }] }))
    }

    /// Merge a file's includes under its content (also used for a child pipeline's `trigger: include:`).
    pub fn expand(&mut self, project: &str, mut content: Map) -> Merged {
        let Some((_, include)) = content.remove("include") else {
            return Merged::of(content);
        };
        let mut acc = Merged::default();
        for t in self.targets(project, &include) {
            // Compared and recorded normalised (`/a/b.yml` is `a/b.yml`); read and reported as written.
            let norm = crate::paths::normalize_repo_path(&t.file).unwrap_or_else(|_| t.file.clone());
            // Every include counts towards GitLab's limit, a cyclic one too: a glob whose files include the
            // glob again would otherwise report a cycle per file per level.
            self.count += 1;
            if self.count <= MAX_INCLUDES && self.chain.iter().any(|(p, f)| *p == t.project && *f == norm) {
                let mut cycle: Vec<String> = self.chain.iter().map(|(p, f)| format!("{p}:{f}")).collect();
                cycle.push(format!("{}:{norm}", t.project));
                self.diags.push(Diagnostic::error(format!("include cycle: {}", cycle.join(" -> "))).at(t.from));
                continue;
            }
            if self.count > MAX_INCLUDES {
                if self.count == MAX_INCLUDES + 1 {
                    self.diags.push(
                        Diagnostic::error(format!(
                            "more than {MAX_INCLUDES} includes (GitLab's limit); the rest are ignored"
                        ))
                        .at(t.from),
                    );
                }
                continue;
            }
            if self.chain.len() >= MAX_INCLUDE_DEPTH {
                self.diags.push(
                    Diagnostic::error(format!(
                        "includes nested deeper than {MAX_INCLUDE_DEPTH} levels (GitLab's limit)"
                    ))
                    .at(t.from),
                );
                continue;
            }
            // Recorded before loading so that nested includes are listed after the file that includes them.
            let at = self.includes.len();
            self.includes.push(IncludeRecord {
                kind: t.kind,
                project: t.project.clone(),
                file: norm.clone(),
                from: t.from,
                conditional: t.conditional,
            });
            match self.load(&t.project, &t.file, t.inputs.as_ref(), Some(t.from)) {
                Ok(m) => acc.merge(m),
                Err(d) => {
                    self.includes.truncate(at);
                    self.diags.push(d);
                }
            }
        }
        acc.merge(Merged::of(content));
        acc
    }

    /// Whether the project can be read: the reader knows it, or holds repository files of it.
    fn in_snapshot(&self, project: &str) -> bool {
        self.snap.has_project(project) || !self.snap.list(project).is_empty()
    }

    fn unresolved(&mut self, kind: IncludeKind, target: String, reason: &str, from: Span) {
        self.unresolved.push(Unresolved { kind, target, reason: reason.to_string(), from });
    }

    /// The files an `include:` value names, in order.
    fn targets(&mut self, project: &str, include: &Node) -> Vec<Target> {
        let items: Vec<&Node> = match &include.value {
            Value::Seq(s) => s.iter().collect(),
            Value::Null => vec![],
            _ => vec![include],
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Value::Str(s, _) => {
                    let s = self.vars.expand(s);
                    if s.starts_with("https://") || s.starts_with("http://") {
                        self.unresolved(IncludeKind::Remote, s, "remote includes are not fetched", item.span);
                    } else {
                        self.local(project, &s, None, item.span, false, &mut out);
                    }
                }
                Value::Map(m) => self.target_map(project, item, m, &mut out),
                Value::Seq(_) | Value::Null => self.diags.push(
                    Diagnostic::error(format!("an include must be a string or a map, found {}", item.kind()))
                        .at(item.span),
                ),
            }
        }
        out
    }

    fn target_map(&mut self, project: &str, item: &Node, m: &Map, out: &mut Vec<Target>) {
        // Point at the include's main value rather than at the whole (multi-line) item.
        let span = ["local", "project", "remote", "template", "component", "artifact"]
            .iter()
            .find_map(|k| m.get(k))
            .map_or(item.span, |n| n.span);
        let inputs = m.get("inputs").cloned();
        let conditional = match m.get("rules") {
            None => false,
            Some(r) => match self.include_rules(project, r) {
                Some(false) => return,
                Some(true) => false,
                None => true,
            },
        };
        let s = |n: Option<&Node>| n.and_then(Node::as_str).map(|v| self.vars.expand(v));
        if let Some(local) = s(m.get("local")) {
            self.local(project, &local, inputs, span, conditional, out);
        } else if let Some(p) = m.get("project") {
            let Some(target_project) = s(Some(p)) else {
                self.diags.push(Diagnostic::error("`include: project:` must be a string").at(p.span));
                return;
            };
            if !crate::paths::valid_full_path(&target_project) && !target_project.contains('$') {
                self.diags.push(
                    Diagnostic::error(format!("`{target_project}` is not a valid project path; not read")).at(p.span),
                );
                return;
            }
            let files: Vec<&Node> = match m.get("file").map(|f| &f.value) {
                Some(Value::Seq(fs)) => fs.iter().collect(),
                Some(Value::Str(..)) => vec![m.get("file").expect("checked")],
                _ => {
                    self.diags.push(
                        Diagnostic::error("`include: project:` needs `file:` (a path or a list of paths)").at(span),
                    );
                    return;
                }
            };
            if !self.in_snapshot(&target_project) {
                for f in files {
                    let file = f.as_str().unwrap_or_default();
                    self.unresolved(
                        IncludeKind::Project,
                        format!("{target_project}:{file}"),
                        "the project is not in the snapshot",
                        f.span,
                    );
                }
                return;
            }
            for f in files {
                match f.as_str() {
                    Some(file) => out.push(Target {
                        kind: IncludeKind::Project,
                        project: target_project.clone(),
                        file: self.vars.expand(file),
                        inputs: inputs.clone(),
                        from: f.span,
                        conditional,
                    }),
                    None => self.diags.push(Diagnostic::error("an include `file:` must be a string").at(f.span)),
                }
            }
        } else if let Some(remote) = s(m.get("remote")) {
            self.unresolved(IncludeKind::Remote, remote, "remote includes are not fetched", span);
        } else if let Some(t) = s(m.get("template")) {
            self.unresolved(IncludeKind::Template, t, "GitLab's bundled templates are not part of the snapshot", span);
        } else if let Some(c) = s(m.get("component")) {
            self.component(&c, inputs, span, conditional, out);
        } else if m.contains("artifact") {
            self.unresolved(
                IncludeKind::Artifact,
                s(m.get("artifact")).unwrap_or_default(),
                "generated child-pipeline configuration only exists at run time",
                span,
            );
        } else {
            self.diags.push(
                Diagnostic::error("an include needs one of `local`, `project`, `remote`, `template`, `component`")
                    .at(span),
            );
        }
    }

    /// Evaluate `rules:` on an include. `Some(false)`: certainly excluded; `None`: depends on the pipeline.
    fn include_rules(&self, project: &str, rules: &Node) -> Option<bool> {
        let list = rules.as_seq()?;
        let lookup = |name: &str| -> rules::Known {
            // Only predefined variables are known; anything else may be set in the project's settings.
            self.vars.get(name).map_or(rules::Known::Unknown, |v| rules::Known::Set(v.value.clone()))
        };
        let mut unknown = false;
        for rule in list {
            let mut matched = Some(true);
            if let Some(expr) = rule.get("if").and_then(Node::as_str) {
                matched = rules::eval(expr, &lookup);
            }
            if let Some(exists) = rule.get("exists") {
                let found = self.exists(project, exists);
                matched = match (matched, found) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
            }
            if rule.get("changes").is_some() && matched != Some(false) {
                matched = None;
            }
            let never = rule.get("when").and_then(Node::as_str) == Some("never");
            match matched {
                Some(true) if !unknown => return Some(!never),
                Some(true) => return if never { None } else { Some(true) },
                Some(false) => {}
                None => unknown = true,
            }
        }
        if unknown { None } else { Some(false) }
    }

    fn exists(&self, project: &str, exists: &Node) -> Option<bool> {
        let pats: Vec<&str> = match &exists.value {
            Value::Seq(s) => s.iter().filter_map(Node::as_str).collect(),
            Value::Str(s, _) => vec![s.as_str()],
            Value::Map(m) => m
                .get("paths")
                .and_then(Node::as_seq)
                .map(|s| s.iter().filter_map(Node::as_str).collect())
                .unwrap_or_default(),
            Value::Null => return None,
        };
        let files = self.snap.list(project);
        let res = pats.iter().any(|p| {
            let re = glob_regex(p.trim_start_matches('/'));
            files.iter().any(|f| re.is_match(f))
        });
        Some(res)
    }

    fn local(
        &mut self,
        project: &str,
        path: &str,
        inputs: Option<Node>,
        from: Span,
        conditional: bool,
        out: &mut Vec<Target>,
    ) {
        if path.contains('*') {
            let re = glob_regex(path.trim_start_matches('/'));
            let files = self.snap.list(project);
            // No more targets than the includes GitLab allows: the rest would be refused anyway.
            let room = (MAX_INCLUDES + 1).saturating_sub(self.count + out.len());
            let matched: Vec<String> = files
                .iter()
                .filter(|f| (f.ends_with(".yml") || f.ends_with(".yaml")) && re.is_match(f))
                .take(room)
                .cloned()
                .collect();
            if matched.is_empty() {
                self.diags.push(Diagnostic::warning(format!("`include: local: {path}` matches no file")).at(from));
            }
            for file in matched {
                out.push(Target {
                    kind: IncludeKind::Local,
                    project: project.to_string(),
                    file,
                    inputs: inputs.clone(),
                    from,
                    conditional,
                });
            }
            return;
        }
        out.push(Target {
            kind: IncludeKind::Local,
            project: project.to_string(),
            file: path.to_string(),
            inputs,
            from,
            conditional,
        });
    }

    /// `component: <host>/<project path>/<name>@<version>`: read when the project is in the snapshot.
    fn component(&mut self, c: &str, inputs: Option<Node>, from: Span, conditional: bool, out: &mut Vec<Target>) {
        let addr = c.split('@').next().unwrap_or(c);
        let (host, path) = addr.split_once('/').unwrap_or((addr, ""));
        if !host.eq_ignore_ascii_case(&self.snap.instance().host) {
            self.unresolved(IncludeKind::Component, c.to_string(), "the component is hosted on another instance", from);
            return;
        }
        let Some((proj, name)) = path.rsplit_once('/') else {
            self.unresolved(IncludeKind::Component, c.to_string(), "not a component address", from);
            return;
        };
        if !self.in_snapshot(proj) {
            self.unresolved(
                IncludeKind::Component,
                c.to_string(),
                "the component's project is not in the snapshot",
                from,
            );
            return;
        }
        let files = self.snap.list(proj);
        let candidates = [format!("templates/{name}.yml"), format!("templates/{name}/template.yml")];
        match candidates.iter().find(|f| files.contains(f)) {
            Some(file) => out.push(Target {
                kind: IncludeKind::Component,
                project: proj.to_string(),
                file: file.clone(),
                inputs,
                from,
                conditional,
            }),
            None => self.unresolved(
                IncludeKind::Component,
                c.to_string(),
                "no templates/<name>.yml or templates/<name>/template.yml in the component's project",
                from,
            ),
        }
    }

    /// Input values for a file: given values over `spec: inputs:` defaults, checked against the spec.
    fn input_values(
        &self,
        header: Option<&Node>,
        given: Option<&Map>,
        at: Span,
    ) -> Result<HashMap<String, Node>, Diagnostic> {
        let mut values = HashMap::new();
        let spec = header.and_then(|h| h.get("spec")).and_then(|s| s.get("inputs")).and_then(Node::as_map);
        if let Some(spec) = spec {
            for (k, def) in &spec.entries {
                let default = def.get("default");
                match given.and_then(|g| g.get(&k.name)).or(default) {
                    Some(v) => {
                        if let Some(options) = def.get("options").and_then(Node::as_seq)
                            && let Some(val) = v.as_str()
                            && !options.iter().any(|o| o.as_str() == Some(val))
                        {
                            return Err(Diagnostic::error(format!(
                                "input `{}`: `{val}` is not one of its options",
                                k.name
                            ))
                            .at(v.span));
                        }
                        values.insert(k.name.clone(), v.clone());
                    }
                    None => {
                        return Err(Diagnostic::error(format!("input `{}` is required but was not given", k.name))
                            .at(at)
                            .help(format!("declared at line {}", k.span.line)));
                    }
                }
            }
        }
        if let Some(given) = given {
            for (k, _) in &given.entries {
                if spec.is_none_or(|s| !s.contains(&k.name)) {
                    return Err(Diagnostic::error(format!(
                        "unknown input `{}`: the included file does not declare it",
                        k.name
                    ))
                    .at(k.span));
                }
            }
        }
        Ok(values)
    }
}

static INPUT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*((?:\|\s*[a-z_]+(?:\([^)]*\))?\s*)*)\]\]").expect("static regex")
});

fn input_text(n: &Node) -> String {
    match &n.value {
        Value::Str(s, _) => s.clone(),
        Value::Null => String::new(),
        Value::Seq(items) => {
            let parts: Vec<String> = items.iter().map(|i| format!("{:?}", input_text(i))).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Map(_) => "{}".to_string(),
    }
}

fn apply_functions(mut v: String, funcs: &str) -> String {
    for f in funcs.split('|').map(str::trim).filter(|f| !f.is_empty()) {
        if let Some(args) = f.strip_prefix("truncate(").and_then(|a| a.strip_suffix(')')) {
            let nums: Vec<usize> = args.split(',').filter_map(|n| n.trim().parse().ok()).collect();
            if let [off, len] = nums[..] {
                v = v.chars().skip(off).take(len).collect();
            }
        } else if f == "posix_escape" {
            v = v
                .chars()
                .flat_map(|c| {
                    let esc = !c.is_ascii_alphanumeric() && !"_-./,:=@".contains(c);
                    esc.then_some('\\').into_iter().chain(std::iter::once(c))
                })
                .collect();
        }
        // `expand_vars` leaves `$VAR` for later expansion, which tokenscope does anyway.
    }
    v
}

/// Replace `$[[ inputs.x ]]` in one scalar. A scalar that is exactly one interpolation takes the
/// input's value as it is (a list stays a list); otherwise the value is spliced into the text.
fn interpolate_node(node: &mut Node, values: &HashMap<String, Node>, errors: &mut Vec<Diagnostic>) {
    let Value::Str(s, _) = &node.value else {
        return;
    };
    if !s.contains("$[[") {
        return;
    }
    if let Some(c) = INPUT_RE.captures(s)
        && c.get(0).map(|m| m.as_str().len()) == Some(s.trim().len())
        && c[2].trim().is_empty()
    {
        match values.get(&c[1]) {
            Some(v) => {
                let span = node.span;
                *node = v.clone();
                if matches!(node.value, Value::Str(..)) {
                    node.span = span;
                }
            }
            None => {
                errors.push(Diagnostic::error(format!("unknown interpolation key `inputs.{}`", &c[1])).at(node.span))
            }
        }
        return;
    }
    let mut missing = None;
    let out = INPUT_RE
        .replace_all(s, |c: &regex::Captures| match values.get(&c[1]) {
            Some(v) => apply_functions(input_text(v), &c[2]),
            None => {
                missing.get_or_insert_with(|| c[1].to_string());
                c[0].to_string()
            }
        })
        .into_owned();
    if let Some(m) = missing {
        errors.push(Diagnostic::error(format!("unknown interpolation key `inputs.{m}`")).at(node.span));
    }
    node.value = Value::Str(out, false);
}

fn interpolate_map(map: &mut Map, values: &HashMap<String, Node>, errors: &mut Vec<Diagnostic>) {
    for (k, v) in map.entries.iter_mut() {
        if k.name.contains("$[[") {
            let mut kn = Node::str(k.span, k.name.clone());
            interpolate_node(&mut kn, values, errors);
            if let Some(s) = kn.as_str() {
                *k = Key { name: s.to_string(), span: k.span };
            }
        }
        interpolate(v, values, errors);
    }
}

fn interpolate(node: &mut Node, values: &HashMap<String, Node>, errors: &mut Vec<Diagnostic>) {
    match &mut node.value {
        Value::Str(..) => interpolate_node(node, values, errors),
        Value::Seq(items) => items.iter_mut().for_each(|i| interpolate(i, values, errors)),
        Value::Map(m) => interpolate_map(m, values, errors),
        Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_functions() {
        assert_eq!(apply_functions("abcdef".into(), "| truncate(1,3)"), "bcd");
        assert_eq!(apply_functions("a b".into(), "| posix_escape"), "a\\ b");
    }
}
