//! Which pipelines a job can run in: its `rules:` (or `only:`/`except:`) and the configuration's
//! `workflow: rules:`, evaluated for each kind of pipeline that matters.
//!
//! A pipeline's kind fixes some predefined variables (`CI_PIPELINE_SOURCE`, whether `CI_COMMIT_BRANCH`,
//! `CI_COMMIT_TAG` or `CI_MERGE_REQUEST_*` are set) and leaves others unknown; every variable that is not
//! predefined is unknown too (project settings can set or override it). Conditions are evaluated with the
//! three-valued logic of [`rules`](crate::rules): a job is left out of a kind of pipeline only when it
//! certainly does not run there, and a job that runs in none *never runs*.

use crate::rules::{self, Known, Truth};
use crate::vars::{VarOrigin, Vars};
use crate::yaml::{Node, Value};
use serde::Serialize;

/// A kind of pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Source {
    /// A push to the default branch.
    DefaultBranch,
    /// A push to another branch.
    Branch,
    /// A merge request pipeline.
    MergeRequest,
    /// A tag pipeline (releases).
    Tag,
    /// A scheduled pipeline.
    Schedule,
    /// Any other source: web, API, trigger token, multi-project pipeline, chat, external.
    Other,
}

/// `CI_PIPELINE_SOURCE` values of [`Source::Other`].
const OTHER_SOURCES: &[&str] = &[
    "web",
    "api",
    "trigger",
    "pipeline",
    "chat",
    "external",
    "external_pull_request_event",
    "webide",
    "ondemand_dast_scan",
    "ondemand_dast_validation",
    "security_orchestration_policy",
];

/// The kinds of pipeline a job can run in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Runs(u8);

impl Runs {
    pub const ALL: Runs = Runs(0b11_1111);
    pub const NEVER: Runs = Runs(0);
    /// A job without `rules:`, `only:` or `except:`: every pipeline but merge request pipelines.
    pub const BRANCHES_AND_TAGS: Runs = Runs(0b11_1011);

    pub fn with(self, s: Source) -> Runs {
        Runs(self.0 | 1 << s as u8)
    }
    pub fn has(self, s: Source) -> bool {
        self.0 & (1 << s as u8) != 0
    }
    pub fn and(self, other: Runs) -> Runs {
        Runs(self.0 & other.0)
    }
    pub fn never(self) -> bool {
        self.0 == 0
    }
    /// The kinds, in order.
    pub fn sources(self) -> impl Iterator<Item = Source> {
        <Source as strum::VariantArray>::VARIANTS.iter().copied().filter(move |s| self.has(*s))
    }
    /// Runs only in pipelines that run rarely (tags and schedules, and other sources): an access made only
    /// there is missing from any recent authentication log.
    pub fn only_rarely(self) -> bool {
        !self.never() && ![Source::DefaultBranch, Source::Branch, Source::MergeRequest].iter().any(|s| self.has(*s))
    }
    /// As output names them: `default-branch, schedule`, or `never`.
    pub fn names(self) -> Vec<&'static str> {
        self.sources().map(<&'static str>::from).collect()
    }
}

impl Serialize for Runs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// One concrete pipeline: its source and the predefined variables it fixes.
struct Context<'a> {
    source: &'a str,
    kind: Source,
    default_branch: &'a str,
}

impl Context<'_> {
    fn lookup(&self, vars: &Vars, name: &str) -> Known {
        let ref_known = |k: Source| match k {
            Source::DefaultBranch => Known::Set(self.default_branch.to_string()),
            _ => Known::Unknown,
        };
        match name {
            "CI_PIPELINE_SOURCE" => Known::Set(self.source.to_string()),
            "CI_DEFAULT_BRANCH" => Known::Set(self.default_branch.to_string()),
            "CI_COMMIT_BRANCH" => match self.kind {
                Source::DefaultBranch => Known::Set(self.default_branch.to_string()),
                Source::MergeRequest | Source::Tag => Known::Unset,
                _ => Known::Unknown,
            },
            "CI_COMMIT_REF_NAME" | "CI_COMMIT_REF_SLUG" => ref_known(self.kind),
            "CI_COMMIT_TAG" | "CI_COMMIT_TAG_MESSAGE" => match self.kind {
                Source::Tag | Source::Other => Known::Unknown,
                _ => Known::Unset,
            },
            n if n.starts_with("CI_MERGE_REQUEST_") => {
                if self.kind == Source::MergeRequest {
                    Known::Unknown
                } else {
                    Known::Unset
                }
            }
            n if n.starts_with("CI_EXTERNAL_PULL_REQUEST_") => {
                if self.source == "external_pull_request_event" {
                    Known::Unknown
                } else {
                    Known::Unset
                }
            }
            // Only predefined variables are known: anything else may be set in the project's settings.
            n => match vars.get(n) {
                Some(v) if v.origin == VarOrigin::Predefined && !v.value.contains('$') => Known::Set(v.value.clone()),
                _ => Known::Unknown,
            },
        }
    }

    fn eval(&self, vars: &Vars, expr: &str) -> Truth {
        let lookup = |n: &str| self.lookup(vars, n);
        match rules::eval(expr, &lookup) {
            Some(true) => Truth::True,
            Some(false) => Truth::False,
            None => Truth::Unknown,
        }
    }

    /// `rules:`: the first rule that matches decides; `when: never` there means the job does not run.
    fn rules(&self, vars: &Vars, list: &[Node]) -> Truth {
        let mut result = Truth::False; // no rule matches: the job is not added
        // Walk from the last rule back: rule i decides when it matches and no earlier one did.
        for rule in list.iter().rev() {
            let mut matched = match rule.get("if").and_then(Node::as_str) {
                Some(expr) => self.eval(vars, expr),
                None => Truth::True,
            };
            if rule.get("changes").is_some() || rule.get("exists").is_some() {
                matched = matched.and(Truth::Unknown);
            }
            let runs =
                if rule.get("when").and_then(Node::as_str) == Some("never") { Truth::False } else { Truth::True };
            // matched ? runs : result, in three values.
            result = match matched {
                Truth::True => runs,
                Truth::False => result,
                Truth::Unknown if runs == result => runs,
                Truth::Unknown => Truth::Unknown,
            };
        }
        result
    }

    /// One `only:`/`except:` reference (`branches`, `tags`, `schedules`, a branch name, a `/regex/`).
    fn reference(&self, r: &str) -> Truth {
        let source = |s: &str| if self.source == s { Truth::True } else { Truth::False };
        match r {
            "branches" => match self.kind {
                Source::DefaultBranch | Source::Branch | Source::Schedule => Truth::True,
                Source::MergeRequest | Source::Tag => Truth::False,
                Source::Other => Truth::Unknown,
            },
            "tags" => match self.kind {
                Source::Tag => Truth::True,
                Source::Other => Truth::Unknown,
                _ => Truth::False,
            },
            "merge_requests" => source("merge_request_event"),
            "schedules" => source("schedule"),
            "pushes" => source("push"),
            "triggers" => source("trigger"),
            "pipelines" => source("pipeline"),
            "external_pull_requests" => source("external_pull_request_event"),
            "web" | "api" | "chat" | "external" => source(r),
            name => match self.kind {
                Source::DefaultBranch => {
                    if let Some(re) = name.strip_prefix('/').and_then(|n| n.rsplit_once('/')).map(|(p, _)| p) {
                        match regex::RegexBuilder::new(re).size_limit(1 << 20).build() {
                            Ok(re) if re.is_match(self.default_branch) => Truth::True,
                            Ok(_) => Truth::False,
                            Err(_) => Truth::Unknown,
                        }
                    } else if name == self.default_branch {
                        Truth::True
                    } else {
                        Truth::False
                    }
                }
                Source::MergeRequest => Truth::False,
                _ => Truth::Unknown,
            },
        }
    }

    /// An `only:` or `except:` value: whether it matches this pipeline.
    fn only(&self, vars: &Vars, node: &Node) -> Truth {
        let any = |items: &[Node], f: &dyn Fn(&str) -> Truth| {
            items.iter().filter_map(Node::as_str).fold(Truth::False, |acc, s| acc.or(f(s)))
        };
        match &node.value {
            Value::Str(s, _) => self.reference(s),
            Value::Seq(items) => any(items, &|r| self.reference(r)),
            Value::Map(m) => {
                let mut t = match m.get("refs").map(|r| &r.value) {
                    Some(Value::Seq(items)) => any(items, &|r| self.reference(r)),
                    Some(Value::Str(s, _)) => self.reference(s),
                    _ => Truth::True,
                };
                if let Some(Value::Seq(items)) = m.get("variables").map(|v| &v.value) {
                    t = t.and(any(items, &|e| self.eval(vars, e)));
                }
                if m.contains("changes") || m.contains("kubernetes") {
                    t = t.and(Truth::Unknown);
                }
                t
            }
            _ => Truth::Unknown,
        }
    }
}

/// Every concrete pipeline of each kind.
fn contexts(default_branch: &str) -> Vec<Context<'_>> {
    let mut out = vec![
        Context { source: "push", kind: Source::DefaultBranch, default_branch },
        Context { source: "push", kind: Source::Branch, default_branch },
        Context { source: "merge_request_event", kind: Source::MergeRequest, default_branch },
        Context { source: "push", kind: Source::Tag, default_branch },
        Context { source: "schedule", kind: Source::Schedule, default_branch },
    ];
    out.extend(OTHER_SOURCES.iter().map(|s| Context { source: s, kind: Source::Other, default_branch }));
    out
}

/// The kinds of pipeline a configuration's `workflow: rules:` lets run.
pub fn workflow(top: &crate::yaml::Map, vars: &Vars, default_branch: &str) -> Runs {
    let Some(list) = top.get("workflow").and_then(|w| w.get("rules")).and_then(Node::as_seq) else {
        return Runs::ALL;
    };
    contexts(default_branch)
        .iter()
        .filter(|c| c.rules(vars, list) != Truth::False)
        .fold(Runs::NEVER, |r, c| r.with(c.kind))
}

/// The kinds of pipeline a job (its resolved configuration `job`) can run in, before `workflow:`. A job
/// of a child pipeline (`child`) runs where its trigger job does, when its own rules allow it in a
/// pipeline started by its parent.
pub fn job(job: &crate::yaml::Map, vars: &Vars, default_branch: &str, child: bool) -> Runs {
    // Most jobs say nothing: they run in branch and tag pipelines (a child's, where its trigger runs).
    if !job.contains("rules") && !job.contains("only") && !job.contains("except") {
        return if child { Runs::ALL } else { Runs::BRANCHES_AND_TAGS };
    }
    let decide = |c: &Context| -> Truth {
        if let Some(list) = job.get("rules").and_then(Node::as_seq) {
            return c.rules(vars, list);
        }
        if job.get("rules").is_some() {
            return Truth::Unknown; // not a list: GitLab rejects it; nothing is concluded
        }
        let only = match job.get("only") {
            Some(o) => c.only(vars, o),
            None if child => Truth::True,
            // Without `rules`, `only` or `except`, a job runs in branch and tag pipelines, not in merge
            // request pipelines.
            None => c.reference("branches").or(c.reference("tags")),
        };
        let except = job.get("except").map_or(Truth::False, |e| c.only(vars, e));
        only.and(match except {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        })
    };
    if child {
        let c = Context { source: "parent_pipeline", kind: Source::Other, default_branch };
        return if decide(&c) == Truth::False { Runs::NEVER } else { Runs::ALL };
    }
    contexts(default_branch).iter().filter(|c| decide(c) != Truth::False).fold(Runs::NEVER, |r, c| r.with(c.kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceMap};
    use std::sync::Arc;

    fn runs(yaml: &str) -> Runs {
        let sm = SourceMap::new();
        let id = sm.add(SourceFile::new("t.yml".into(), None, None, Arc::from(yaml)));
        let doc = crate::yaml::parse(&sm, id).unwrap().docs.remove(0);
        let top = doc.as_map().unwrap();
        let j = top.get("j").unwrap().as_map().unwrap();
        job(j, &Vars::default(), "main", false).and(workflow(top, &Vars::default(), "main"))
    }

    #[test]
    fn kinds_of_pipeline_from_rules() {
        assert_eq!(runs("j: {script: x}").names(), ["default-branch", "branch", "tag", "schedule", "other"]);
        assert_eq!(runs("j: {script: x}"), Runs::BRANCHES_AND_TAGS);
        assert!(runs("j: {rules: [{when: never}]}").never());
        assert_eq!(runs("j: {rules: [{if: '$CI_PIPELINE_SOURCE == \"schedule\"'}]}").names(), ["schedule"]);
        assert_eq!(runs("j: {rules: [{if: $CI_MERGE_REQUEST_IID}]}").names(), ["merge-request"]);
        assert_eq!(runs("j: {rules: [{if: $CI_COMMIT_TAG}]}").names(), ["tag", "other"]);
        assert_eq!(
            runs("j: {rules: [{if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'}]}").names(),
            ["default-branch", "branch", "schedule", "other"]
        );
        assert!(runs("j: {rules: [{if: $CI_COMMIT_TAG, when: never}, {when: always}]}").has(Source::DefaultBranch));
        assert!(!runs("j: {rules: [{if: $CI_COMMIT_TAG, when: never}, {when: always}]}").only_rarely());
        assert!(runs("j: {rules: [{if: '$X == \"1\"', when: never}]}").never());
        assert!(runs("j: {only: [schedules], except: [schedules]}").never());
        assert_eq!(runs("j: {only: [main]}").names(), ["default-branch", "branch", "tag", "schedule", "other"]);
        assert!(runs("workflow: {rules: [{when: never}]}\nj: {script: x}").never());
        assert!(runs("workflow: {rules: [{if: $CI_MERGE_REQUEST_IID}]}\nj: {rules: [{if: $CI_COMMIT_TAG}]}").never());
    }
}
