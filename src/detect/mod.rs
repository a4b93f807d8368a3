//! Detection: from resolved jobs to job-token accesses, one module per way a job spends its token.
//!
//! Each detector looks at one job (its scripts, variables, images, `needs:`) and returns the accesses it
//! proves, each with the span of the text that proves it, the job, a confidence, and the fine-grained
//! job-token permission the access needs where GitLab defines one. A target that cannot be resolved
//! statically is reported as such, never guessed.

pub(crate) mod api;
pub(crate) mod follow;
pub(crate) mod git;
pub(crate) mod needs;
pub(crate) mod packages;
pub(crate) mod registry;
pub mod script;
pub(crate) mod terraform;
pub(crate) mod tools;
pub(crate) mod url;

use crate::ci::Pipeline;
use crate::ci::jobs::Job;
use crate::ci::pipelines::Runs;
use crate::snapshot::Snapshot;
pub(crate) use crate::snapshot::manifest::Permission;
use crate::source::Span;
use follow::Unseen;
use script::{Prefilter, Script};
use serde::Serialize;
use std::sync::LazyLock;

/// A way a job spends its token: one per module, listed in [`DETECTORS`].
pub(crate) trait Detector: Sync {
    /// The words that make a job relevant to this detector although its scripts never name the token (or an
    /// alias of it): a tool that uses the token by itself. A job whose scripts hold no trigger word of any
    /// detector and never name the token is not tokenized, and detectors see an empty script for it, so a
    /// detector that finds accesses without the token being named must declare its words here.
    fn triggers(&self) -> Triggers;
    /// Push the accesses this job makes.
    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>);
}

/// A detector's trigger words (see [`Detector::triggers`]).
#[derive(Default)]
pub(crate) struct Triggers {
    /// Words that count wherever they occur (`download-secure-files` run from a URL).
    pub(crate) anywhere: &'static [&'static str],
    /// Words that count only as a whole word (`go`, but not in `cargo`).
    pub(crate) whole_words: Vec<&'static str>,
}

/// Every detector, in the order they run.
pub(crate) static DETECTORS: &[&dyn Detector] = &[
    &git::Git,
    &api::Api,
    &needs::Needs,
    &packages::Packages,
    &registry::Registry,
    &terraform::Terraform,
    &tools::Tools,
];

/// The prefilter made from the token's aliases and every detector's trigger words, once per run.
pub(crate) fn prefilter() -> &'static Prefilter {
    static PREFILTER: LazyLock<Prefilter> = LazyLock::new(|| {
        let triggers: Vec<Triggers> = DETECTORS.iter().map(|d| d.triggers()).collect();
        let anywhere: Vec<&str> =
            script::TOKEN_ALIASES.iter().chain(triggers.iter().flat_map(|t| t.anywhere)).copied().collect();
        let whole: Vec<&'static str> = triggers.iter().flat_map(|t| t.whole_words.iter().copied()).collect();
        Prefilter::new(&anywhere, &whole)
    });
    &PREFILTER
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Confidence {
    Medium,
    High,
}

/// What an access reaches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Target {
    /// A project on this instance, by full path (it may or may not be in the snapshot).
    Project(String),
    /// Another host: the job token leaves the instance.
    Foreign(String),
    /// Not resolvable statically.
    Unresolved(Unresolved),
}

impl Target {
    /// A target that cannot be resolved: the expression as written, and why.
    pub(crate) fn unresolved(expression: impl Into<String>, reason: Reason) -> Target {
        Target::Unresolved(Unresolved { expression: expression.into(), reason })
    }
}

/// A target that cannot be determined statically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Unresolved {
    /// The expression as written (for a Terraform module, its address `NAMESPACE/NAME/SYSTEM`).
    pub(crate) expression: String,
    pub(crate) reason: Reason,
}

impl Unresolved {
    /// How the target is named in the graph and in messages.
    pub(crate) fn name(&self) -> String {
        match self.reason {
            Reason::UnknownProjectId => format!("project id {} (not in the snapshot)", self.expression),
            Reason::TerraformModule => format!("terraform module {}", self.expression),
            Reason::Variable | Reason::JobId | Reason::NotAUrl => self.expression.clone(),
        }
    }
}

/// Why a target cannot be determined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Reason {
    /// It depends on a variable whose value the configuration does not give (set in the UI, computed at run
    /// time).
    Variable,
    /// A numeric project id that the snapshot does not hold.
    UnknownProjectId,
    /// A job's artifacts by job id: the job's project cannot be told from the id.
    JobId,
    /// A Terraform registry module whose publishing project the snapshot does not show.
    TerraformModule,
    /// A git remote that is not a URL tokenscope can read.
    NotAUrl,
}

/// The kind of access, named as in output.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Git,
    Submodule,
    NeedsProject,
    Registry,
    TerraformState,
    Packages(String),
    JobArtifacts,
    TriggerPipeline,
    Releases,
    Repository,
    Deployments,
    Environments,
    SecureFiles,
    Pipelines,
    MergeRequests,
    /// `POST /api/v4/token_exchange`: the job token traded for a JWT of GitLab's artifact registry.
    TokenExchange,
    Api,
}

impl Kind {
    pub(crate) fn name(&self) -> String {
        match self {
            Kind::Git => "git".into(),
            Kind::Submodule => "submodule".into(),
            Kind::NeedsProject => "needs:project".into(),
            Kind::Registry => "registry".into(),
            Kind::TerraformState => "terraform-state".into(),
            Kind::Packages(t) if t.is_empty() => "packages".into(),
            Kind::Packages(t) => format!("packages:{t}"),
            Kind::JobArtifacts => "job-artifacts".into(),
            Kind::TriggerPipeline => "trigger-pipeline".into(),
            Kind::Releases => "releases".into(),
            Kind::Repository => "repository".into(),
            Kind::Deployments => "deployments".into(),
            Kind::Environments => "environments".into(),
            Kind::SecureFiles => "secure-files".into(),
            Kind::Pipelines => "pipelines".into(),
            Kind::MergeRequests => "merge-requests".into(),
            Kind::TokenExchange => "token-exchange".into(),
            Kind::Api => "api".into(),
        }
    }

    /// The fine-grained job-token permission this access needs (`write`: the call changes something).
    /// `None` where GitLab defines no policy (the container registry) or for unclassified API calls.
    pub(crate) fn permission(&self, write: bool) -> Option<Permission> {
        use Permission as P;
        let (read, admin) = match self {
            Kind::Git | Kind::Submodule | Kind::Repository => (P::ReadRepositories, P::ReadRepositories),
            Kind::NeedsProject | Kind::JobArtifacts => (P::ReadJobs, P::ReadJobs),
            Kind::Packages(_) => (P::ReadPackages, P::AdminPackages),
            Kind::TerraformState => (P::ReadTerraformState, P::AdminTerraformState),
            Kind::Releases => (P::ReadReleases, P::AdminReleases),
            Kind::Deployments => (P::ReadDeployments, P::AdminDeployments),
            Kind::Environments => (P::ReadEnvironments, P::AdminEnvironments),
            Kind::SecureFiles => (P::ReadSecureFiles, P::AdminSecureFiles),
            Kind::Pipelines | Kind::TriggerPipeline => (P::ReadPipelines, P::AdminPipelines),
            Kind::MergeRequests => (P::ReadMergeRequests, P::ReadMergeRequests),
            Kind::Registry | Kind::Api | Kind::TokenExchange => return None,
        };
        Some(if write { admin } else { read })
    }
}

/// Written as its name (`packages:npm`).
impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// One use of the job token, with its proof.
#[derive(Clone, Debug)]
pub(crate) struct Access {
    /// The project whose pipeline runs the job.
    pub(crate) caller: String,
    pub(crate) target: Target,
    pub(crate) kind: Kind,
    pub(crate) permission: Option<Permission>,
    pub(crate) confidence: Confidence,
    pub(crate) job: String,
    /// The text that proves the access.
    pub(crate) span: Span,
    /// A short description of the access, for messages ("git clone", "GET .../packages/npm/...").
    pub(crate) detail: String,
    /// For HTTP calls: what the lints need to know about how the call is made.
    pub(crate) http: Option<HttpFacts>,
    /// The kinds of pipeline the job runs in (none: it never runs, and the access is not in the graph).
    pub(crate) runs: Runs,
}

/// How an HTTP call with the job token is made.
#[derive(Clone, Debug, Default)]
pub(crate) struct HttpFacts {
    /// Why a failure of the call cannot be diagnosed from the job log, when it cannot.
    pub(crate) silenced: Option<String>,
    /// The query parameter that carries the token in the URL, when one does.
    pub(crate) token_in_query: Option<String>,
}

/// What detectors need besides the job.
pub(crate) struct Ctx<'a> {
    pub(crate) snap: &'a Snapshot,
    pub(crate) pipeline: &'a Pipeline,
}

impl Ctx<'_> {
    /// The access record for a job, filled with the common fields.
    #[allow(clippy::too_many_arguments)] // one call per detector finding; a builder would only add noise
    pub(crate) fn access(
        &self,
        job: &Job,
        target: Target,
        kind: Kind,
        write: bool,
        confidence: Confidence,
        span: Span,
        detail: String,
    ) -> Access {
        let permission = kind.permission(write);
        Access {
            caller: self.pipeline.project.clone(),
            target,
            kind,
            permission,
            confidence,
            job: job.name.clone(),
            span,
            detail,
            http: None,
            runs: job.runs,
        }
    }
}

/// What detection found in one pipeline.
#[derive(Debug, Default)]
pub(crate) struct Detection {
    pub(crate) accesses: Vec<Access>,
    /// What its jobs run that could not be looked into, with the job: the project is partially seen.
    pub(crate) unseen: Vec<(String, Unseen)>,
}

/// Every job-token access of a pipeline, with what could not be seen.
pub(crate) fn detect(snap: &Snapshot, pipeline: &Pipeline) -> Detection {
    let ctx = Ctx { snap, pipeline };
    let prefilter = prefilter();
    let read = |path: &str| snap.repo_file(&pipeline.project, path);
    let mut out = Detection::default();
    let mut seen = std::collections::HashSet::new();
    let memo = follow::ScriptMemo::default();
    for job in &pipeline.jobs {
        let script = Script::for_job(job, &snap.sources, prefilter, Some(&read), &memo);
        let before = out.accesses.len();
        for d in DETECTORS {
            d.detect(&ctx, job, &script, &mut out.accesses);
        }
        let unfollowed = token_handed_on(&script, &out.accesses[before..]);
        for u in script.unseen.into_iter().chain(unfollowed) {
            // One record per thing not followed (the same missing script run by many jobs is one gap).
            if seen.insert(u.why.clone()) {
                out.unseen.push((job.name.clone(), u));
            }
        }
    }
    out
}

/// Commands that only move or test text: the token in their words is not a use of it.
const TEXT_COMMANDS: &[&str] = &[
    "echo", "printf", "export", "set", "unset", "test", "[", "[[", "declare", "local", "readonly", "cat", "tee",
    "base64", "sed", "awk", "jq", "yq", "grep", "envsubst", "printenv", "mask", ":", "true", "false",
];

/// Tools whose use of credentials the detectors read (a login or a configuration step, whose accesses are
/// found where the tool later reaches a project): handing them the token is not a gap.
const KNOWN_TOOLS: &[&str] = &[
    "docker",
    "podman",
    "buildah",
    "nerdctl",
    "crane",
    "skopeo",
    "oras",
    "regctl",
    "kaniko",
    "executor",
    "helm",
    "composer",
    "conan",
    "glab",
    "npm",
    "yarn",
    "pnpm",
    "npx",
    "pip",
    "pip3",
    "twine",
    "poetry",
    "uv",
    "dotnet",
    "nuget",
    "mvn",
    "gradle",
    "./gradlew",
    "./mvnw",
    "terraform",
    "tofu",
    "gitlab-terraform",
    "release-cli",
    "go",
    "cargo",
    "gem",
    "bundle",
    "curl",
    "wget",
    "http",
    "https",
    "git",
];

/// Commands that hand the job token to a program tokenscope cannot follow (`./deploy --token
/// $CI_JOB_TOKEN`, `python3 -c … $CI_JOB_TOKEN`) on a line where no detector found an access: any access
/// the program makes is unseen.
fn token_handed_on(script: &Script, found: &[Access]) -> Vec<Unseen> {
    let mut out = Vec::new();
    // Where accesses (and written credentials) are, sorted, so each command's line is one binary search.
    let mut seen: Vec<(u32, u32)> = found
        .iter()
        .map(|a| (a.span.file, a.span.start))
        .chain(script.data.iter().map(|d| (d.span.file, d.span.start)))
        .collect();
    seen.sort_unstable();
    for c in &script.commands {
        let Some(first) = c.words.first() else { continue };
        if TEXT_COMMANDS.contains(&first.as_str())
            || KNOWN_TOOLS.contains(&first.as_str())
            || script::is_assignment(first)
            || (first == "git" && c.words.iter().any(|w| w == "config" || w == "credential"))
            || !c.words.iter().skip(1).any(|w| script.has_token(w))
        {
            continue;
        }
        let (file, start, end) = (c.line.file, c.line.start, c.line.end.max(c.line.start + 1));
        let at = seen.partition_point(|&p| p < (file, start));
        if seen.get(at).is_some_and(|&(f, s)| f == file && s < end) {
            continue;
        }
        // PowerShell's call operator runs the next word.
        let program = if first == "&" { c.words.get(1).unwrap_or(first) } else { first };
        out.push(Unseen {
            span: c.span,
            why: format!("passes the job token to `{program}`, which tokenscope cannot follow"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detectors_trigger_words_pass_the_prefilter() {
        for (i, d) in DETECTORS.iter().enumerate() {
            let t = d.triggers();
            for w in t.anywhere {
                assert!(prefilter().may_spend_token(&format!("x{w}x")), "detector {i}: `{w}` anywhere");
            }
            for w in &t.whole_words {
                assert!(prefilter().may_spend_token(&format!("run {w} now")), "detector {i}: `{w}`");
            }
        }
        for alias in script::TOKEN_ALIASES {
            assert!(prefilter().may_spend_token(&format!("echo ${{{alias}}}")));
        }
        assert!(!prefilter().may_spend_token("make test && cargo build --release"));
    }
}
