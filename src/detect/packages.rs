//! Package registries and Go modules with the job token, wherever the job configures them:
//! - package-manager commands: `npm config set //host/...:_authToken ${CI_JOB_TOKEN}`, `pip install --index-url
//!   https://gitlab-ci-token:${CI_JOB_TOKEN}@host/.../pypi/simple`, `nuget source add ... -Password $CI_JOB_TOKEN`,
//!   `helm repo add --username gitlab-ci-token --password $CI_JOB_TOKEN`, `conan remote add`, `twine upload`, ...;
//! - files the script writes (`cat > .npmrc <<EOF`, `echo "..." > pip.conf`);
//! - the repository's own configuration files that the job's tools read (`.npmrc`, `pip.conf`, `settings.xml`,
//!   `pom.xml`, `build.gradle`, `nuget.config`, `.netrc`, `go.mod`, ...).
//!
//! A package URL counts when its text carries the token, or when the job has set up job-token credentials for
//! the instance elsewhere (`.netrc`, `npm config`, `TWINE_PASSWORD`, ...): then with medium confidence.
//! Go modules on the instance are fetched with git: a `require` of `host/group/project` with credentials is a
//! `git` access to that project.

use super::script::Script;
use super::url::project_ref;
use super::{Access, Confidence, Ctx, Kind, Reason, Target};
use crate::ci::jobs::Job;
use crate::snapshot::RepoFile;
use crate::source::{FileId, Span};
use regex::Regex;
use std::sync::LazyLock;

/// Package tools, the repository files each one reads by itself, and the subcommands that publish.
const TOOLS: &[(&str, &[&str], &[&str])] = &[
    ("npm", &[".npmrc"], &["publish"]),
    ("yarn", &[".npmrc", ".yarnrc.yml", ".yarnrc"], &["publish", "npm publish"]),
    ("pnpm", &[".npmrc"], &["publish"]),
    ("npx", &[".npmrc"], &[]),
    ("pip", &["pip.conf"], &[]),
    ("pip3", &["pip.conf"], &[]),
    ("uv", &["uv.toml", "pyproject.toml"], &["publish"]),
    ("poetry", &["pyproject.toml"], &["publish"]),
    ("twine", &[".pypirc"], &["upload"]),
    ("mvn", &["pom.xml"], &["deploy"]),
    ("./mvnw", &["pom.xml"], &["deploy"]),
    ("gradle", &["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"], &["publish"]),
    ("./gradlew", &["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"], &["publish"]),
    ("nuget", &["nuget.config", "NuGet.Config", "NuGet.config"], &["push"]),
    ("dotnet", &["nuget.config", "NuGet.Config", "NuGet.config"], &["push"]),
    ("composer", &["composer.json", "auth.json"], &[]),
    ("conan", &[], &["upload"]),
    ("helm", &[], &["cm-push", "push"]),
    ("go", &["go.mod", ".netrc"], &[]),
    ("terraform", &[], &[]),
    ("tofu", &[], &[]),
    ("gem", &[], &["push"]),
    ("bundle", &["Gemfile"], &[]),
];

/// The package tools this detector knows (a job running one may get the token from a repository file).
pub(crate) fn tool_names() -> impl Iterator<Item = &'static str> {
    TOOLS.iter().map(|(t, _, _)| t.trim_start_matches("./"))
}

/// Variables that hand the token to a package tool through its environment.
const PASSWORD_VARS: &[&str] = &[
    "TWINE_PASSWORD",
    "UV_PUBLISH_PASSWORD",
    "POETRY_PYPI_TOKEN_GITLAB",
    "CONAN_PASSWORD",
    "CONAN_LOGIN_PASSWORD",
    "NPM_TOKEN",
    "NODE_AUTH_TOKEN",
    "GEM_HOST_API_KEY",
];

/// Environment variables that give a package tool its registry URL (and whether the tool publishes there).
const URL_VARS: &[(&str, bool)] = &[
    ("TWINE_REPOSITORY_URL", true),
    ("UV_PUBLISH_URL", true),
    ("PIP_INDEX_URL", false),
    ("PIP_EXTRA_INDEX_URL", false),
    ("UV_INDEX_URL", false),
    ("UV_EXTRA_INDEX_URL", false),
    ("UV_DEFAULT_INDEX", false),
    ("UV_INDEX", false),
    ("NPM_CONFIG_REGISTRY", false),
    ("npm_config_registry", false),
    ("YARN_NPM_REGISTRY_SERVER", false),
    ("POETRY_REPOSITORIES_GITLAB_URL", true),
];

/// A package endpoint: `[https:]//host/api/v4/projects/<ref>/packages/<type>...`.
static PACKAGE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:https?:)?//(?:[^\s"'<>/@]+@)?([^\s"'<>/]+)(/[^\s"'<>]*?)?/api/v4/projects/([^/\s"'<>]+)/packages/([a-z_]+)"#)
        .expect("static regex")
});

/// A piece of text the job uses, where a package URL may appear.
struct Unit {
    text: String,
    span: Span,
    /// The text is a file: spans point into it directly.
    in_file: bool,
    write: bool,
    what: String,
}

fn tool_of(words: &[String]) -> Option<&'static (&'static str, &'static [&'static str], &'static [&'static str])> {
    let first = words.first()?;
    let first = if matches!(first.as_str(), "python" | "python3") && words.get(1).is_some_and(|w| w == "-m") {
        words.get(2)?
    } else {
        first
    };
    TOOLS.iter().find(|(t, _, _)| *t == first.as_str())
}

/// Whether a command writes a file from its own text (`echo ... > f`, `printf ... >> f`, `... | tee f`).
fn writes_file(words: &[String], text: &str) -> bool {
    matches!(words.first().map(String::as_str), Some("echo" | "printf" | "cat"))
        && (text.contains('>') || words.iter().any(|w| w == "tee"))
}

/// packages: see the module's documentation.
pub(crate) struct Packages;

impl super::Detector for Packages {
    fn triggers(&self) -> super::Triggers {
        // A package tool may read the token from a repository file (`.npmrc`, ...).
        super::Triggers { anywhere: &[], whole_words: tool_names().collect() }
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        detect(ctx, job, script, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    // Everything below starts from a script command or written data: the tools run, the files they read.
    if script.is_empty() {
        return;
    }
    let sources = &ctx.snap.sources;
    let host = ctx.snap.manifest.instance.host.clone();
    let caller = &ctx.pipeline.project;
    let mut units: Vec<Unit> = Vec::new();
    let mut tools_run: Vec<&str> = Vec::new();
    for c in &script.commands {
        if let Some((tool, _, publish)) = tool_of(&c.words) {
            tools_run.push(tool);
            let write = c.words.iter().any(|w| publish.contains(&w.as_str()));
            units.push(Unit {
                text: c.text.clone(),
                span: c.line,
                in_file: false,
                write,
                what: format!("{tool} command"),
            });
        } else if writes_file(&c.words, &c.text) {
            units.push(Unit {
                text: c.text.clone(),
                span: c.line,
                in_file: false,
                write: false,
                what: "file written by the script".into(),
            });
        }
    }
    if !tools_run.is_empty() {
        for (name, publish) in URL_VARS {
            if let Some(v) = job.vars.get(name).filter(|v| v.origin != crate::ci::vars::VarOrigin::Predefined) {
                let span = v.span.unwrap_or(job.span);
                units.push(Unit {
                    text: v.value.clone(),
                    span,
                    in_file: false,
                    write: *publish,
                    what: format!("`{name}`"),
                });
            }
        }
    }
    for d in &script.data {
        units.push(Unit {
            text: d.text.clone(),
            span: d.span,
            in_file: false,
            write: false,
            what: "file written by the script".into(),
        });
    }
    // Repository files: those the job's tools read by themselves, and those its script names.
    let mut files: Vec<&str> =
        TOOLS.iter().filter(|(t, _, _)| tools_run.contains(t)).flat_map(|(_, f, _)| f.iter().copied()).collect();
    let all_text: String = script.commands.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n");
    for name in [
        "settings.xml",
        "ci_settings.xml",
        ".m2/settings.xml",
        ".netrc",
        "pip.conf",
        ".pypirc",
        ".npmrc",
        "nuget.config",
    ] {
        if all_text.contains(name) && !files.contains(&name) {
            files.push(name);
        }
    }
    let mut go_mod: Option<FileId> = None;
    for f in files {
        let RepoFile::Found(id) = ctx.snap.repo_file(caller, f) else { continue };
        if f == "go.mod" {
            go_mod = Some(id);
            continue;
        }
        let file = sources.get(id);
        units.push(Unit {
            text: file.text.to_string(),
            span: sources.span(id, 0, file.text.len() as u32),
            in_file: true,
            write: false,
            what: format!("repository file {f}"),
        });
    }

    // Script text is matched with its variables expanded; repository files as written (offsets stay exact).
    let expanded: Vec<String> =
        units.iter().map(|u| if u.in_file { u.text.clone() } else { script.expand(&u.text) }).collect();
    // Job-token credentials handed to a package tool anywhere in the job: a tool command, a file the script
    // writes, or a repository file the tools read that carries the token.
    let creds_in_units = units.iter().any(|u| script.has_token(&u.text));
    let creds_in_vars = PASSWORD_VARS.iter().any(|v| {
        job.vars.get(v).is_some_and(|v| script.has_token(&v.value)) || script.token_vars.iter().any(|t| t == v)
    });
    let creds = creds_in_units || creds_in_vars;

    for (u, text) in units.iter().zip(&expanded) {
        let explicit = script.has_token(&u.text);
        if !explicit && !creds {
            continue;
        }
        for m in PACKAGE_RE.captures_iter(text) {
            let url_host = m[1].to_ascii_lowercase();
            let expanded_host = script.expand(&url_host);
            if expanded_host.contains('$') {
                continue; // a host that cannot be read: not known to be this instance
            }
            if expanded_host != host {
                continue;
            }
            let raw_ref = script.expand(&m[3]);
            let target = match project_ref(&ctx.snap.manifest, caller, &raw_ref) {
                Target::Unresolved(_) if raw_ref.contains('$') => Target::unresolved(&m[0], Reason::Variable),
                t => t,
            };
            let span = if u.in_file {
                let start = u.span.start + m.get(0).expect("match").start() as u32;
                sources.span(u.span.file, start, start + m[0].len() as u32)
            } else {
                let s = sources.locate(u.span, &m[0]);
                if s == u.span { sources.locate(u.span, u.text.lines().next().unwrap_or("")) } else { s }
            };
            let confidence = if explicit { Confidence::High } else { Confidence::Medium };
            let kind = Kind::Packages(m[4].to_string());
            out.push(ctx.access(
                job,
                target,
                kind,
                u.write,
                confidence,
                span,
                format!("{} registry ({})", &m[4], u.what),
            ));
        }
    }

    // Go modules on the instance, fetched with git using the job-token credentials.
    if let Some(id) = go_mod
        && creds
        && tools_run.contains(&"go")
    {
        for (start, line) in sources.get(id).lines() {
            let t = line.trim().trim_start_matches("require").trim().trim_start_matches('(').trim();
            let Some(module) = t.split_whitespace().next() else { continue };
            let Some(path) = module.strip_prefix(&format!("{host}/")) else { continue };
            let path = path.trim_end_matches(".git");
            let mut prefix = path;
            let target = loop {
                if ctx.snap.manifest.projects.contains_key(prefix) {
                    break Some(Target::Project(prefix.to_string()));
                }
                match prefix.rsplit_once('/') {
                    Some((shorter, _)) if shorter.contains('/') => prefix = shorter,
                    _ => break None,
                }
            };
            let target = target.unwrap_or_else(|| Target::Project(path.split("/v").next().unwrap_or(path).to_string()));
            let at = start + line.find(module).unwrap_or(0) as u32;
            let s = sources.span(id, at, at + module.len() as u32);
            out.push(ctx.access(
                job,
                target,
                Kind::Git,
                false,
                Confidence::Medium,
                s,
                "Go module fetched with job-token credentials".into(),
            ));
        }
    }
}
