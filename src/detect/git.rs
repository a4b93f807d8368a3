//! Git over HTTPS with the job token:
//! - `git clone|fetch|pull|ls-remote|submodule add|remote add` of `https://gitlab-ci-token:${CI_JOB_TOKEN}@host/path(.git)`;
//! - `git config url."https://gitlab-ci-token:${CI_JOB_TOKEN}@host/".insteadOf "https://host/"` (or a credential
//!   helper that prints the job token): every later same-host git URL in the job carries the token;
//! - runner submodules: `GIT_SUBMODULE_STRATEGY: normal|recursive` with same-host or relative URLs in `.gitmodules`.

use super::script::Script;
use super::url::{self, instance_path, repo_path};
use super::{Access, Confidence, Ctx, Kind, Reason, Target};
use crate::ci::jobs::Job;
use crate::snapshot::RepoFile;

const URL_SUBCOMMANDS: &[&str] = &["clone", "fetch", "pull", "ls-remote", "submodule", "remote"];

/// The git subcommand and the index of the word after it (global options like `-c k=v`, `-C dir` skipped).
fn subcommand(words: &[String]) -> Option<(&str, usize)> {
    if words.first().map(String::as_str) != Some("git") {
        return None;
    }
    let mut i = 1;
    while i < words.len() && words[i].starts_with('-') {
        if matches!(words[i].as_str(), "-c" | "-C") {
            i += 1;
        }
        i += 1;
    }
    words.get(i).map(|s| (s.as_str(), i + 1))
}

/// `git@host:group/proj.git` as an https URL, for matching and resolution.
fn normalize_scp(word: &str) -> Option<String> {
    let rest = word.strip_prefix("git@")?;
    let (host, path) = rest.split_once(':')?;
    (!path.starts_with("//")).then(|| format!("https://{host}/{path}"))
}

/// Where a git URL leads.
fn target_of(ctx: &Ctx, raw: &str, expanded: &str) -> Target {
    let as_url = normalize_scp(expanded).unwrap_or_else(|| expanded.to_string());
    match url::parse(&as_url) {
        None => Target::unresolved(raw, Reason::NotAUrl),
        Some(u) if u.host.contains('$') => Target::unresolved(raw, Reason::Variable),
        Some(u) => match instance_path(&ctx.snap.manifest, &u) {
            Some(p) => {
                let path = repo_path(p);
                if path.contains('$') || path.is_empty() {
                    Target::unresolved(raw, Reason::Variable)
                } else {
                    Target::Project(path)
                }
            }
            None => Target::Foreign(format!("{}{}", u.host, u.path.trim_end_matches(".git"))),
        },
    }
}

/// A rewrite that gives the job token to git URLs: `url.<base>.insteadOf <prefix>` (URLs starting with
/// `prefix` are fetched from `base` instead, with the token in `base`), or a credential helper that prints
/// the token (URLs under the helper's scope, or the instance, keep their address and get the token).
struct Rewrite {
    prefix: String,
    base: String,
}

fn rewrite(ctx: &Ctx, script: &Script, text: &str, args: &[String]) -> Option<Rewrite> {
    for (i, w) in args.iter().enumerate() {
        let lower = w.to_ascii_lowercase();
        if let Some(base) = lower.strip_prefix("url.").and_then(|r| r.strip_suffix(".insteadof")) {
            let base_raw = &w[4..4 + base.len()];
            if !script.has_token(base_raw) {
                continue;
            }
            let prefix = script.expand(args.get(i + 1)?);
            return Some(Rewrite { prefix: normalize_scp(&prefix).unwrap_or(prefix), base: script.expand(base_raw) });
        }
        if lower == "credential.helper" || lower.starts_with("credential.") && lower.ends_with(".helper") {
            let helper = args.get(i + 1).map(String::as_str).unwrap_or("");
            if script.has_token(helper) || script.has_token(text) {
                let scope = w.get("credential.".len()..w.len() - ".helper".len()).filter(|s| !s.is_empty());
                let prefix =
                    scope.map_or_else(|| format!("https://{}/", ctx.snap.manifest.instance.host), |s| script.expand(s));
                return Some(Rewrite { base: prefix.clone(), prefix });
            }
        }
    }
    None
}

/// Most `GIT_CONFIG_KEY_<n>` entries read from `GIT_CONFIG_COUNT` (git itself has no limit; real jobs use a
/// handful).
const MAX_ENV_CONFIG: usize = 100;

/// Git configuration given in the environment, which every git command of the job (and the runner's
/// submodule checkout) reads: `GIT_CONFIG_COUNT` with `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`, and
/// `GIT_CONFIG_PARAMETERS` (`'key'='value' …`). Returns the rewrites that give URLs the job token.
fn env_rewrites(ctx: &Ctx, vars: &crate::ci::vars::Vars, script: &Script) -> Vec<Rewrite> {
    let value = |name: &str| vars.get(name).map(|v| v.value.clone());
    let mut pairs: Vec<(String, String)> = Vec::new();
    let count = value("GIT_CONFIG_COUNT").map(|c| vars.expand(&c)).and_then(|c| c.trim().parse::<usize>().ok());
    for i in 0..count.unwrap_or(0).min(MAX_ENV_CONFIG) {
        if let (Some(k), Some(v)) = (value(&format!("GIT_CONFIG_KEY_{i}")), value(&format!("GIT_CONFIG_VALUE_{i}"))) {
            pairs.push((k, v));
        }
    }
    if let Some(params) = value("GIT_CONFIG_PARAMETERS") {
        for w in super::script::shell_words(&params).into_iter().take(MAX_ENV_CONFIG) {
            let lower = w.to_ascii_lowercase();
            let at = [".insteadof=", ".pushinsteadof=", ".helper="]
                .iter()
                .find_map(|k| lower.find(k).map(|i| i + k.len() - 1))
                .or_else(|| w.find('='));
            if let Some(at) = at {
                pairs.push((w[..at].to_string(), w[at + 1..].to_string()));
            }
        }
    }
    pairs.into_iter().filter_map(|(k, v)| rewrite(ctx, script, &v, &[k, v.clone()])).collect()
}

/// The URLs of `.gitmodules` in the caller's repository, with where each is written.
fn gitmodules(ctx: &Ctx) -> Vec<(String, crate::source::Span)> {
    let RepoFile::Found(id) = ctx.snap.repo_file(&ctx.pipeline.project, ".gitmodules") else { return vec![] };
    let file = ctx.snap.sources.get(id);
    let mut out = Vec::new();
    for (start, line) in file.lines() {
        let t = line.trim();
        let Some(value) = t.strip_prefix("url").map(str::trim_start).and_then(|r| r.strip_prefix('=')).map(str::trim)
        else {
            continue;
        };
        let value_at = start + line.find(value).unwrap_or(0) as u32;
        out.push((value.to_string(), ctx.snap.sources.span(id, value_at, value_at + value.len() as u32)));
    }
    out
}

/// A relative submodule URL (`../other.git`) resolved against the superproject's path.
fn relative_submodule(caller: &str, value: &str) -> Option<Target> {
    if !(value.starts_with("../") || value.starts_with("./")) {
        return None;
    }
    let mut segs: Vec<&str> = caller.split('/').collect();
    let mut rest = value;
    loop {
        if let Some(r) = rest.strip_prefix("../") {
            segs.pop();
            rest = r;
        } else if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else {
            break;
        }
    }
    // Relative URLs resolve against the superproject's URL, whose last segment is the project itself.
    segs.push(rest);
    Some(Target::Project(repo_path(&segs.join("/"))))
}

/// The longest rewrite that applies to a URL, as git picks it, and the URL it leads to.
fn apply_rewrites(rewrites: &[Rewrite], url: &str) -> Option<String> {
    let as_url = normalize_scp(url).unwrap_or_else(|| url.to_string());
    let r = rewrites
        .iter()
        .filter(|r| as_url.starts_with(r.prefix.as_str()) || url.starts_with(r.prefix.as_str()))
        .max_by_key(|r| r.prefix.len())?;
    let rest = as_url.strip_prefix(r.prefix.as_str()).or_else(|| url.strip_prefix(r.prefix.as_str()))?;
    Some(format!("{}{rest}", r.base))
}

/// Git credentials with the job token written to a file: a `.netrc` (`machine host ... password $CI_JOB_TOKEN`),
/// `~/.git-credentials` (`https://gitlab-ci-token:${CI_JOB_TOKEN}@host`), or a gitconfig credential helper
/// (`[credential "https://host"]` with a `helper` that prints the token). Returns the URL prefixes they cover.
fn written_credentials(ctx: &Ctx, script: &Script) -> Vec<Rewrite> {
    let host = &ctx.snap.manifest.instance.host;
    let written = script.data.iter().map(|d| d.text.as_str()).chain(
        script
            .commands
            .iter()
            .filter(|c| matches!(c.words.first().map(String::as_str), Some("echo" | "printf")) && c.text.contains('>'))
            .map(|c| c.text.as_str()),
    );
    let mut out = Vec::new();
    for t in written.filter(|t| script.has_token(t)) {
        let e = script.expand(t);
        let lower = e.to_ascii_lowercase();
        // gitconfig: [credential "https://host/..."] followed by a helper
        let mut scoped = false;
        for line in e.lines() {
            let l = line.trim();
            if let Some(url) = l.strip_prefix("[credential \"").and_then(|r| r.strip_suffix("\"]")) {
                let prefix = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
                out.push(Rewrite { base: prefix.clone(), prefix });
                scoped = true;
            }
        }
        if !scoped
            && lower.contains(host.as_str())
            && (lower.contains("machine ") || lower.contains("gitlab-ci-token:") || lower.contains("password="))
        {
            let prefix = format!("https://{host}/");
            out.push(Rewrite { base: prefix.clone(), prefix });
        }
    }
    out
}

/// git: see the module's documentation.
pub(crate) struct Git;

impl super::Detector for Git {
    fn triggers(&self) -> super::Triggers {
        super::Triggers::default() // only where the token is named
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        detect(ctx, job, script, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    if script.is_empty() {
        submodules(ctx, job, script, out);
        return;
    }
    let mut rewrites: Vec<Rewrite> = written_credentials(ctx, script);
    rewrites.extend(env_rewrites(ctx, &script.vars, script));
    for c in &script.commands {
        let Some((sub, at)) = subcommand(&c.words) else { continue };
        let args = &c.words[at..];
        if sub == "config" {
            rewrites.extend(rewrite(ctx, script, &c.text, args));
            continue;
        }
        if sub == "submodule" && args.iter().any(|a| a == "update") {
            // The submodules of `.gitmodules`: relative ones are fetched with the checkout's credentials
            // (the job token), others with a rewrite's.
            for (value, span) in gitmodules(ctx) {
                let target = match relative_submodule(&ctx.pipeline.project, &value) {
                    Some(t) => t,
                    None => match apply_rewrites(&rewrites, &value) {
                        Some(effective) => target_of(ctx, &value, &effective),
                        None => continue,
                    },
                };
                let detail = format!("git submodule update ({value})");
                out.push(ctx.access(job, target, Kind::Git, false, Confidence::Medium, span, detail));
            }
            continue;
        }
        if !URL_SUBCOMMANDS.contains(&sub) {
            continue;
        }
        for w in args {
            if !w.contains("://") && !w.starts_with("git@") {
                continue;
            }
            let expanded = script.expand(w);
            let explicit = script.has_token(w);
            let as_url = normalize_scp(&expanded).unwrap_or_else(|| expanded.clone());
            // The longest matching prefix wins, as in git.
            let rewritten =
                rewrites.iter().filter(|r| as_url.starts_with(r.prefix.as_str())).max_by_key(|r| r.prefix.len());
            if !explicit && rewritten.is_none() {
                continue;
            }
            let effective = match (explicit, rewritten) {
                (false, Some(r)) => format!("{}{}", r.base, &as_url[r.prefix.len()..]),
                _ => expanded.clone(),
            };
            let target = target_of(ctx, w, &effective);
            let span = c.locate(&ctx.snap.sources, w);
            let (confidence, how) = if explicit {
                (Confidence::High, "")
            } else {
                (Confidence::Medium, " (token from a git url/credential rewrite)")
            };
            out.push(ctx.access(job, target, Kind::Git, false, confidence, span, format!("git {sub}{how}")));
        }
    }
    submodules(ctx, job, script, out);
}

/// Submodules the runner fetches with the job token (none without a checkout: `GIT_STRATEGY: none`).
fn submodules(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    let strategy = job.vars.get("GIT_SUBMODULE_STRATEGY").map(|v| job.vars.expand(&v.value));
    if !matches!(strategy.as_deref(), Some("normal" | "recursive")) {
        return;
    }
    if job.vars.get("GIT_STRATEGY").is_some_and(|v| job.vars.expand(&v.value) == "none") {
        return;
    }
    let force_https = job.vars.get("GIT_SUBMODULE_FORCE_HTTPS").is_some_and(|v| v.value == "true");
    // The runner's git reads the job's variables: git configuration given there rewrites URLs too.
    let rewrites = env_rewrites(ctx, &job.vars, script);
    for (value, span) in gitmodules(ctx) {
        let value = value.as_str();
        let target = if let Some(t) = relative_submodule(&ctx.pipeline.project, value) {
            t
        } else if let Some(effective) = apply_rewrites(&rewrites, value) {
            match target_of(ctx, value, &effective) {
                Target::Foreign(_) => continue,
                t => t,
            }
        } else if value.starts_with("git@") && !force_https {
            continue; // SSH submodules use the runner's SSH credentials, not the job token
        } else {
            match target_of(ctx, value, value) {
                Target::Foreign(_) => continue, // the runner sends the token only to its own instance
                t => t,
            }
        };
        out.push(ctx.access(
            job,
            target,
            Kind::Submodule,
            false,
            Confidence::Medium,
            span,
            "runner submodule checkout".into(),
        ));
    }
}
