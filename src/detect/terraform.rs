//! Terraform / OpenTofu HTTP backend state in another project: `TF_ADDRESS` / `TF_HTTP_ADDRESS` variables and
//! `-backend-config=address=...` pointing at `/api/v4/projects/<ref>/terraform/state/<name>`.

use super::script::Script;
use super::url::{self, find_urls, instance_path};
use super::{Access, Confidence, Ctx, Kind, Reason, Target, Unresolved};
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
        return Some(Target::unresolved(raw, Reason::Variable));
    }
    let path = instance_path(&ctx.snap.manifest, &parsed)?;
    let rest = path.strip_prefix("/api/v4/projects/")?;
    let (r, tail) = rest.split_once('/')?;
    if !tail.starts_with("terraform/state") {
        return None;
    }
    Some(match super::url::project_ref(&ctx.snap.manifest, &ctx.pipeline.project, r) {
        Target::Unresolved(_) if r.contains('$') => Target::unresolved(raw, Reason::Variable),
        t => t,
    })
}

/// `TF_TOKEN_<host>`: the host with `.` as `_` and `-` as `__`.
fn tf_token_var(host: &str) -> String {
    format!("TF_TOKEN_{}", host.split(':').next().unwrap_or(host).replace('-', "__").replace('.', "_"))
}

/// Registry modules of the instance used by a job that runs `init` with `TF_TOKEN_<host>` set to the token:
/// `source = "host/namespace/name/system"` in the repository's `.tf` files.
fn registry_modules(
    ctx: &Ctx,
    job: &Job,
    script: &Script,
    tool_commands: &[&super::script::Command],
    out: &mut Vec<Access>,
) {
    let host = &ctx.snap.manifest.instance.host;
    let var = tf_token_var(host);
    let token = job.vars.get(&var).is_some_and(|v| script.has_token(&v.value)) || script.token_vars.contains(&var);
    if !token || !tool_commands.iter().any(|c| c.words.iter().any(|w| w == "init")) {
        return;
    }
    let caller = &ctx.pipeline.project;
    let sources = &ctx.snap.sources;
    let needle = format!("\"{host}/");
    for path in ctx.snap.list_repo(caller).iter().filter(|p| p.ends_with(".tf")).take(500) {
        let crate::snapshot::RepoFile::Found(id) = ctx.snap.repo_file(caller, path) else { continue };
        let file = sources.get(id);
        for (start, line) in file.lines() {
            let t = line.trim();
            if !t.starts_with("source") {
                continue;
            }
            let Some(at) = t.find(&needle) else { continue };
            let addr = &t[at + 1..];
            let addr = addr.split('"').next().unwrap_or("");
            let module = addr[host.len() + 1..].split("//").next().unwrap_or("");
            if module.split('/').count() != 3 {
                continue;
            }
            let col = start + line.find(addr).unwrap_or(0) as u32;
            let span = sources.span(id, col, col + addr.len() as u32);
            // Unresolved until `resolve_modules` finds the project that publishes it.
            let target = Target::unresolved(module, Reason::TerraformModule);
            out.push(ctx.access(
                job,
                target,
                Kind::Packages("terraform".into()),
                false,
                Confidence::High,
                span,
                format!("terraform module {module} (`{var}`)"),
            ));
        }
    }
}

/// Give registry-module accesses the project that publishes the module, when the snapshot shows one
/// publishing it (an upload to `.../packages/terraform/modules/NAME/SYSTEM/...` under the module's namespace).
pub(crate) fn resolve_modules(accesses: &mut [Access]) {
    let mut publishers: Vec<(String, String, String)> = Vec::new(); // (name, system, project)
    for a in accesses.iter() {
        let (Kind::Packages(t), Target::Project(p), Some(super::Permission::AdminPackages)) =
            (&a.kind, &a.target, a.permission)
        else {
            continue;
        };
        if t != "terraform" {
            continue;
        }
        if let Some(rest) = a.detail.split("/packages/terraform/modules/").nth(1) {
            let mut parts = rest.split('/');
            if let (Some(name), Some(system)) = (parts.next(), parts.next()) {
                publishers.push((name.to_string(), system.to_string(), p.clone()));
            }
        }
    }
    for a in accesses.iter_mut() {
        let Target::Unresolved(Unresolved { expression: module, reason: Reason::TerraformModule }) = &a.target else {
            continue;
        };
        let parts: Vec<&str> = module.split('/').collect();
        let [ns, name, system] = parts[..] else { continue };
        let found: Vec<&String> = publishers
            .iter()
            .filter(|(n, s, p)| n == name && s == system && (p.starts_with(&format!("{ns}/")) || p == ns))
            .map(|(_, _, p)| p)
            .collect();
        if let [only] = found[..] {
            a.target = Target::Project(only.clone());
        }
    }
}

/// terraform: see the module's documentation.
pub(crate) struct Terraform;

impl super::Detector for Terraform {
    fn triggers(&self) -> super::Triggers {
        // The GitLab Terraform images read the token from the environment by themselves.
        super::Triggers { anywhere: &["terraform", "tofu"], whole_words: Vec::new() }
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        detect(ctx, job, script, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    let tool_commands: Vec<_> =
        script.commands.iter().filter(|c| c.words.first().is_some_and(|w| TOOLS.contains(&w.as_str()))).collect();
    // Without a terraform command, only a job-level state address makes an access (see below).
    if tool_commands.is_empty()
        && !ADDRESS_VARS.iter().any(|n| job.vars.get(n).is_some_and(|v| v.origin == VarOrigin::Job))
    {
        return;
    }
    let write = tool_commands.iter().any(|c| c.words.iter().skip(1).any(|w| WRITES.contains(&w.as_str())));
    let uses_token = script.has_token(&tool_commands.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" "))
        || ["TF_PASSWORD", "TF_HTTP_PASSWORD"]
            .iter()
            .any(|v| job.vars.get(v).is_some_and(|v| script.has_token(&v.value)))
        || tool_commands.iter().any(|c| c.words[0].starts_with("gitlab-"));
    let confidence = if uses_token { Confidence::High } else { Confidence::Medium };
    registry_modules(ctx, job, script, &tool_commands, out);
    let mut push = |target: Target, span, detail: String| {
        out.push(ctx.access(job, target, Kind::TerraformState, write, confidence, span, detail));
    };
    for name in ADDRESS_VARS {
        let Some(v) = job.vars.get(name) else { continue };
        // A global address counts for the jobs that run terraform; a job-level one for its job.
        if tool_commands.is_empty() && v.origin != VarOrigin::Job {
            continue;
        }
        let expanded = script.expand(&v.value);
        if let Some(target) = state_target(ctx, &v.value, &expanded) {
            push(target, v.span.unwrap_or(job.span), format!("terraform state via {name}"));
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
                push(target, c.locate(&ctx.snap.sources, addr), "terraform -backend-config address".into());
            }
        }
    }
}
