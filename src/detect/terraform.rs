//! Terraform / OpenTofu HTTP backend state in another project: `TF_ADDRESS` / `TF_HTTP_ADDRESS` variables and
//! `-backend-config=address=...` pointing at `/api/v4/projects/<ref>/terraform/state/<name>`.

use super::script::Script;
use super::url::{self, find_urls, instance_path};
use super::{Access, Confidence, Ctx, Kind, Target};
use crate::ci::jobs::Job;
use crate::ci::vars::VarOrigin;

const ADDRESS_VARS: &[&str] = &["TF_ADDRESS", "TF_HTTP_ADDRESS", "TF_HTTP_LOCK_ADDRESS"];
const TOOLS: &[&str] = &["terraform", "tofu", "gitlab-terraform", "gitlab-tofu"];
/// Subcommands that lock or write the state (they need `admin_terraform_state`).
const WRITES: &[&str] = &["plan", "apply", "destroy", "import", "state", "force-unlock", "taint", "untaint", "refresh"];

/// The project whose state an address names, `None` when the address is not a GitLab state URL.
fn state_target(ctx: &Ctx, raw: &str, expanded: &str) -> Option<Target> {
    let (_, u) = find_urls(expanded).into_iter().next()?;
    let parsed = url::parse(u)?;
    if parsed.host.contains('$') {
        return Some(Target::Unresolved(raw.to_string()));
    }
    let path = instance_path(&ctx.snap.manifest, &parsed)?;
    let rest = path.strip_prefix("/api/v4/projects/")?;
    let (r, tail) = rest.split_once('/')?;
    if !tail.starts_with("terraform/state") {
        return None;
    }
    Some(match super::url::project_ref(&ctx.snap.manifest, &ctx.pipeline.project, r) {
        Target::Unresolved(_) if r.contains('$') => Target::Unresolved(raw.to_string()),
        t => t,
    })
}

pub fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    let tool_commands: Vec<_> =
        script.commands.iter().filter(|c| c.words.first().is_some_and(|w| TOOLS.contains(&w.as_str()))).collect();
    let write = tool_commands.iter().any(|c| c.words.iter().skip(1).any(|w| WRITES.contains(&w.as_str())));
    let uses_token = script.has_token(&tool_commands.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" "))
        || ["TF_PASSWORD", "TF_HTTP_PASSWORD"]
            .iter()
            .any(|v| job.vars.get(v).is_some_and(|v| script.has_token(&v.value)))
        || tool_commands.iter().any(|c| c.words[0].starts_with("gitlab-"));
    let confidence = if uses_token { Confidence::High } else { Confidence::Medium };
    for name in ADDRESS_VARS {
        let Some(v) = job.vars.get(name) else { continue };
        // A global address counts for the jobs that run terraform; a job-level one for its job.
        if tool_commands.is_empty() && v.origin != VarOrigin::Job {
            continue;
        }
        let expanded = script.expand(&v.value);
        if let Some(target) = state_target(ctx, &v.value, &expanded) {
            let span = v.span.unwrap_or(job.span);
            out.push(ctx.access(
                job,
                target,
                Kind::TerraformState,
                write,
                confidence,
                span,
                format!("terraform state via {name}"),
            ));
        }
    }
    for c in &tool_commands {
        for (i, w) in c.words.iter().enumerate() {
            let value = if let Some(v) = w.strip_prefix("-backend-config=") {
                v
            } else if w == "-backend-config" {
                c.words.get(i + 1).map(String::as_str).unwrap_or("")
            } else {
                continue;
            };
            let Some(addr) = value.strip_prefix("address=") else { continue };
            let expanded = script.expand(addr);
            if let Some(target) = state_target(ctx, addr, &expanded) {
                let span = c.locate(&ctx.snap.sources, addr);
                out.push(ctx.access(
                    job,
                    target,
                    Kind::TerraformState,
                    write,
                    confidence,
                    span,
                    "terraform -backend-config address".into(),
                ));
            }
        }
    }
}
