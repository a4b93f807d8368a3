//! Container images from another project's registry:
//! - `image:` and `services:` under the instance registry host: the runner pulls them with the job token;
//! - `docker|podman|buildah|skopeo|crane` pulls after a registry login with the job token
//!   (`docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY`, `... --password-stdin`).
//!
//! An image path maps to the project whose path is its longest prefix in the snapshot.

use super::script::Script;
use super::{Access, Confidence, Ctx, Kind, Reason, Target};
use crate::ci::jobs::Job;

const TOOLS: &[&str] = &["docker", "podman", "buildah", "skopeo", "crane", "nerdctl"];
const PULLS: &[&str] = &["pull", "run", "create", "from", "copy", "inspect", "export", "manifest"];

/// `host/path[:tag|@digest]` -> (host, path).
fn split_image(image: &str) -> Option<(String, String)> {
    let image = image.strip_prefix("docker://").unwrap_or(image);
    let (host, rest) = image.split_once('/')?;
    if !(host.contains('.') || host.contains(':') || host == "localhost") {
        return None; // a Docker Hub name such as `library/ruby`
    }
    let rest = rest.split('@').next().unwrap_or(rest);
    let path = match rest.rsplit_once(':') {
        Some((p, tag)) if !tag.contains('/') => p,
        _ => rest,
    };
    Some((host.to_ascii_lowercase(), path.to_ascii_lowercase()))
}

/// The server a `login` command names: its positional argument (options and their values skipped).
fn login_server(words: &[String]) -> Option<&String> {
    let with_value = ["-u", "--username", "-p", "--password", "--authfile", "--cert-dir", "--password-stdin-file"];
    let mut skip = false;
    for w in words.iter().skip(2) {
        if skip {
            skip = false;
            continue;
        }
        if with_value.contains(&w.as_str()) {
            skip = true;
            continue;
        }
        if w.starts_with('-') || w == "login" {
            continue;
        }
        return Some(w);
    }
    None
}

/// The registry target of an image name, `None` when the image is not on the instance registry.
pub(crate) fn image_target(ctx: &Ctx, raw: &str, expanded: &str) -> Option<Target> {
    let registry = ctx.snap.manifest.instance.registry.as_deref();
    // `$CI_REGISTRY_IMAGE` is the project's own registry, whatever the snapshot knows of the host.
    let raw_trim = raw.trim_start_matches("docker://");
    if ["$CI_REGISTRY_IMAGE", "${CI_REGISTRY_IMAGE}"]
        .iter()
        .any(|p| raw_trim.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '@'])))
    {
        return Some(Target::Project(ctx.pipeline.project.clone()));
    }
    // A tag or digest that depends on the pipeline does not matter: only the host and path do.
    let name = expanded.strip_prefix("docker://").unwrap_or(expanded);
    let name = name.split('@').next().unwrap_or(name);
    let name = match name.rsplit_once(':') {
        Some((p, tag)) if !tag.contains('/') => p,
        _ => name,
    };
    if name.contains('$') {
        // Only report what is certainly on this registry but unresolved.
        let ours = raw.contains("CI_REGISTRY") || registry.is_some_and(|r| expanded.starts_with(r));
        return ours.then(|| Target::unresolved(raw, Reason::Variable));
    }
    let (host, path) = split_image(name)?;
    if Some(host.as_str()) != registry {
        return None;
    }
    let lower = &ctx.snap.manifest.lower;
    let mut prefix = path.as_str();
    loop {
        if let Some(p) = lower.get(prefix) {
            return Some(Target::Project(p.clone()));
        }
        match prefix.rsplit_once('/') {
            Some((shorter, _)) => prefix = shorter,
            None => return Some(Target::Project(path)),
        }
    }
}

/// registry: see the module's documentation.
pub(crate) struct Registry;

impl super::Detector for Registry {
    fn triggers(&self) -> super::Triggers {
        super::Triggers::default() // only where the token is named
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        detect(ctx, job, script, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    for (img, what) in
        job.image.iter().map(|i| (i, "job image")).chain(job.services.iter().map(|s| (s, "service image")))
    {
        let expanded = job.vars.expand(&img.name);
        if let Some(target) = image_target(ctx, &img.name, &expanded) {
            let detail = format!("{what} pulled by the runner");
            out.push(ctx.access(job, target, Kind::Registry, false, Confidence::Medium, img.span, detail));
        }
    }
    let registry = ctx.snap.manifest.instance.registry.clone();
    let mut logged_in = false;
    for c in &script.commands {
        let Some(tool) = c.words.first().filter(|w| TOOLS.contains(&w.as_str())) else { continue };
        let sub = c.words.get(1).map(String::as_str).unwrap_or("");
        if sub == "login" || (tool == "crane" && sub == "auth") {
            let with_token = script.has_token(&c.text) || c.token_on_stdin;
            if !with_token {
                continue;
            }
            let server = login_server(&c.words);
            let expanded = server.map(|w| {
                let e = script.expand(w).to_ascii_lowercase();
                let e =
                    e.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_string();
                match e.split_once('/') {
                    Some((h, rest)) => format!("{}/{rest}", h.trim_end_matches(":443")),
                    None => e.trim_end_matches(":443").to_string(),
                }
            });
            let instance = &ctx.snap.manifest.instance.host;
            match expanded.as_deref() {
                Some(e) if registry.as_deref().is_some_and(|r| e == r || e.starts_with(&format!("{r}/"))) => {
                    logged_in = true
                }
                Some(e) if e.contains('$') || e == instance.as_str() || e.starts_with(&format!("{instance}/")) => {}
                // The job token given to another registry: a leak, reported as a foreign access.
                other => {
                    let host = other.unwrap_or("docker.io").split('/').next().unwrap_or("").to_string();
                    if tool == "docker" || other.is_some() {
                        let span = server
                            .map(|w| ctx.snap.sources.locate(c.line, w))
                            .filter(|s| *s != c.line)
                            .unwrap_or(c.span);
                        out.push(ctx.access(
                            job,
                            Target::Foreign(host),
                            Kind::Registry,
                            false,
                            Confidence::High,
                            span,
                            format!("{tool} login with the job token"),
                        ));
                    }
                }
            }
            continue;
        }
        if !logged_in || !PULLS.contains(&sub) {
            continue;
        }
        for w in c.words.iter().skip(2).filter(|w| !w.starts_with('-')) {
            let expanded = script.expand(w);
            if let Some(target) = image_target(ctx, w, &expanded) {
                let span = c.locate(&ctx.snap.sources, w);
                let detail = format!("{tool} {sub} after a job-token registry login");
                out.push(ctx.access(job, target, Kind::Registry, false, Confidence::High, span, detail));
                if tool != "skopeo" && tool != "crane" {
                    break; // the first image argument; the rest are the container's command
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_names() {
        assert_eq!(
            split_image("registry.example.com/a/b/img:1.0"),
            Some(("registry.example.com".into(), "a/b/img".into()))
        );
        assert_eq!(
            split_image("registry.example.com:5050/a/b@sha256:00"),
            Some(("registry.example.com:5050".into(), "a/b".into()))
        );
        assert_eq!(split_image("ruby:3.3"), None);
        assert_eq!(split_image("library/ruby"), None);
        assert_eq!(split_image("docker://reg.example.com/x/y:latest"), Some(("reg.example.com".into(), "x/y".into())));
    }
}
