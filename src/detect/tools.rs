//! GitLab's own tools with the job token:
//! - `release-cli` (authenticates with `$CI_JOB_TOKEN` unless given another token) against `--project-id`;
//! - `glab` once the job gives it the token (`GITLAB_TOKEN: $CI_JOB_TOKEN`, `glab auth login --job-token`,
//!   `GLAB_ENABLE_CI_AUTOLOGIN`), against `-R/--repo` or the project itself;
//! - `download-secure-files` for the project in `CI_PROJECT_ID` (which a job may point at another project).

use super::api::classify;
use super::script::Script;
use super::url::project_ref;
use super::{Access, Confidence, Ctx, Kind, Reason, Target};
use crate::ci::jobs::Job;
use crate::ci::vars::VarOrigin;

/// The value of `--name VALUE` or `--name=VALUE`.
fn option<'a>(words: &'a [String], names: &[&str]) -> Option<&'a str> {
    for (i, w) in words.iter().enumerate() {
        for n in names {
            if w == n {
                return words.get(i + 1).map(String::as_str);
            }
            if let Some(v) = w.strip_prefix(&format!("{n}=")) {
                return Some(v);
            }
        }
    }
    None
}

/// A project named by path or id (`group/proj`, `group%2Fproj`, `42`), after expansion.
fn project_target(ctx: &Ctx, script: &Script, raw: &str) -> Target {
    let expanded = script.expand(raw);
    let host_prefix = format!("{}/", ctx.snap.manifest.instance.url);
    let trimmed = expanded.strip_prefix(&host_prefix).unwrap_or(&expanded).trim_matches('/');
    match project_ref(&ctx.snap.manifest, &ctx.pipeline.project, trimmed) {
        Target::Unresolved(_) if trimmed.contains('$') => Target::unresolved(raw, Reason::Variable),
        t => t,
    }
}

/// tools: see the module's documentation.
pub(crate) struct Tools;

impl super::Detector for Tools {
    fn triggers(&self) -> super::Triggers {
        // GitLab's own tools use the token by themselves.
        super::Triggers { anywhere: &["release-cli", "download-secure-files", "glab"], whole_words: Vec::new() }
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        detect(ctx, job, script, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    if script.commands.is_empty() {
        return; // every access below is a command of the script
    }
    let own = || Target::Project(ctx.pipeline.project.clone());
    let glab_token = ["GITLAB_TOKEN", "GITLAB_ACCESS_TOKEN", "GL_TOKEN", "OAUTH_TOKEN"].iter().any(|v| {
        job.vars.get(v).is_some_and(|v| script.has_token(&v.value)) || script.token_vars.iter().any(|t| t == v)
    }) || job.vars.get("GLAB_ENABLE_CI_AUTOLOGIN").is_some_and(|v| v.value == "true")
        || script.commands.iter().any(|c| {
            c.words.first().is_some_and(|w| w == "glab")
                && c.words.iter().any(|w| w == "--job-token")
                && script.has_token(&c.text)
        });
    for c in &script.commands {
        let Some(tool) = c.words.first().map(String::as_str) else { continue };
        let span = c.span;
        match tool {
            "release-cli" => {
                if option(&c.words, &["--private-token"]).is_some() {
                    continue;
                }
                let sub = c
                    .words
                    .iter()
                    .map(String::as_str)
                    .find(|w| matches!(*w, "create" | "create-from-file" | "update" | "get"));
                let target = option(&c.words, &["--project-id"]).map_or_else(own, |r| project_target(ctx, script, r));
                let write = !matches!(sub, Some("get"));
                out.push(ctx.access(
                    job,
                    target,
                    Kind::Releases,
                    write,
                    Confidence::High,
                    span,
                    format!("release-cli {}", sub.unwrap_or("")),
                ));
            }
            "glab" if glab_token => {
                let sub = c.words.get(1).map(String::as_str).unwrap_or("");
                if sub == "auth" {
                    continue;
                }
                let action = c.words.get(2).map(String::as_str).unwrap_or("");
                let target = option(&c.words, &["-R", "--repo"]).map_or_else(own, |r| project_target(ctx, script, r));
                let writes =
                    ["create", "upload", "delete", "update", "merge", "approve", "run", "retry", "cancel", "set"];
                let write = writes.contains(&action);
                let (target, kind) = match sub {
                    "release" => (target, Kind::Releases),
                    "mr" => (target, Kind::MergeRequests),
                    "ci" | "pipeline" => (target, Kind::Pipelines),
                    "job" if action == "artifact" => (target, Kind::JobArtifacts),
                    "repo" if action == "clone" => {
                        let t = c.words.get(3).map_or(target, |r| project_target(ctx, script, r));
                        (t, Kind::Git)
                    }
                    "securefile" => (target, Kind::SecureFiles),
                    "api" => {
                        let path = c.words.iter().skip(2).find(|w| !w.starts_with('-')).cloned().unwrap_or_default();
                        let path = script.expand(&path).replace(":id", &ctx.pipeline.project.replace('/', "%2F"));
                        let path = if path.starts_with('/') { path } else { format!("/{path}") };
                        match classify(ctx, &path, &c.text) {
                            Some(tk) => tk,
                            None => continue,
                        }
                    }
                    _ => (target, Kind::Api),
                };
                let write =
                    write || (sub == "api" && c.words.iter().any(|w| matches!(w.as_str(), "POST" | "PUT" | "DELETE")));
                out.push(ctx.access(job, target, kind, write, Confidence::High, span, format!("glab {sub} {action}")));
            }
            _ => {}
        }
    }
    // download-secure-files reads the secure files of `CI_PROJECT_ID`.
    if let Some(c) = script.commands.iter().find(|c| c.text.contains("download-secure-files")) {
        let target = match job.vars.get("CI_PROJECT_ID") {
            Some(v) if v.origin != VarOrigin::Predefined => project_target(ctx, script, &v.value),
            _ => own(),
        };
        out.push(ctx.access(
            job,
            target,
            Kind::SecureFiles,
            false,
            Confidence::High,
            c.span,
            "download-secure-files".into(),
        ));
    }
}
