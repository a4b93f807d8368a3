//! REST calls with the job token: `curl`/`wget` (and httpie) commands that carry the token (a `JOB-TOKEN`
//! header, `--user gitlab-ci-token:...`, a `token=`/`job_token=` form or query field) to
//! `/api/v4/projects/<ref>/...` on the instance. `<ref>` is a full path, a URL-encoded path or a numeric id.

use super::script::{Command, Script};
use super::url::{self, find_urls, instance_path, project_ref};
use super::{Access, Confidence, Ctx, HttpFacts, Kind, Reason, Target};
use crate::ci::jobs::Job;
use regex::Regex;
use std::sync::LazyLock;

const CLIENTS: &[&str] = &["curl", "wget", "http", "https"];

/// curl options that take a value (the value is not a URL to call, except `--url`).
const CURL_VALUE_OPTS: &[&str] = &[
    "-H",
    "--header",
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "--data-ascii",
    "-F",
    "--form",
    "--form-string",
    "-u",
    "--user",
    "-o",
    "--output",
    "-X",
    "--request",
    "-T",
    "--upload-file",
    "-w",
    "--write-out",
    "--cacert",
    "--capath",
    "--cert",
    "--key",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "-b",
    "--cookie",
    "-c",
    "--cookie-jar",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "-m",
    "--max-time",
    "--connect-timeout",
    "-x",
    "--proxy",
    "-K",
    "--config",
    "-r",
    "--range",
    "--resolve",
    "--limit-rate",
    "--output-dir",
    "-E",
    "--oauth2-bearer",
];

/// An HTTP method, as a command gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    /// Any other word, upper-cased as written (`$METHOD` stays unknown).
    Other(String),
}

impl Method {
    fn parse(word: &str) -> Method {
        match word.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => Method::Other(other.to_string()),
        }
    }

    /// Whether the call may change something (an unknown method is assumed to).
    pub(crate) fn writes(&self) -> bool {
        !matches!(self, Method::Get | Method::Head)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Other(m) => m,
        })
    }
}

/// The HTTP method a command uses.
fn method(c: &Command) -> Method {
    let w = &c.words;
    let mut m = Method::Get;
    let mut get_flag = false;
    for (i, word) in w.iter().enumerate() {
        let next = || Method::parse(w.get(i + 1).map_or("", String::as_str));
        match word.as_str() {
            "-X" | "--request" => return next(),
            "-T" | "--upload-file" => m = Method::Put,
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-urlencode" | "-F" | "--form"
                if m == Method::Get =>
            {
                m = Method::Post
            }
            "-G" | "--get" => get_flag = true,
            "-I" | "--head" => m = Method::Head,
            s if s.starts_with("-X") && s.len() > 2 => return Method::parse(&s[2..]),
            s if s.starts_with("--method=") => return Method::parse(&s["--method=".len()..]),
            s if s.starts_with("--post-data") || s.starts_with("--post-file") => m = Method::Post,
            s if w[0] != "curl" && (s == "POST" || s == "PUT" || s == "DELETE" || s == "PATCH") && i == 1 => {
                return Method::parse(s);
            }
            _ => {}
        }
    }
    if get_flag { Method::Get } else { m }
}

/// Why a failure of this call cannot be diagnosed from the job log (GitLab's 401/403 message lost).
pub(crate) fn silenced(c: &Command) -> Option<String> {
    let tool = c.words.first().map(String::as_str).unwrap_or("");
    let mut short = String::new();
    for w in c.words.iter().skip(1) {
        if let Some(cluster) = w.strip_prefix('-').filter(|r| !r.starts_with('-')) {
            short.push_str(cluster);
        }
    }
    let has = |long: &str, s: char| c.words.iter().any(|w| w == long) || short.contains(s);
    let text = &c.text;
    if tool == "curl" {
        let (silent, fail) = (has("--silent", 's'), has("--fail", 'f'));
        let shows = has("--show-error", 'S') || c.words.iter().any(|w| w == "--fail-with-body");
        if silent && fail && !shows {
            return Some("`--silent --fail` without `--show-error` or `--fail-with-body` turns a refused token into a bare exit code 22".into());
        }
        let out = c.words.windows(2).any(|p| matches!(p[0].as_str(), "-o" | "--output") && p[1] == "/dev/null");
        if out {
            return Some("the response body, where GitLab says why it refused the token, goes to /dev/null".into());
        }
    }
    if matches!(tool, "wget") && has("--quiet", 'q') {
        return Some("`wget --quiet` hides the HTTP status and GitLab's error message".into());
    }
    static STDERR_TO_NULL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:2|&)>>?\s*/dev/null|>>?\s*/dev/null.*2>&1").expect("static regex"));
    if STDERR_TO_NULL.is_match(text) {
        return Some("its error output goes to /dev/null".into());
    }
    if c.or_true {
        return Some("`|| true` makes a refused token look like success".into());
    }
    None
}

/// The query parameter that carries the token, when the token is in the URL itself.
fn token_in_query(script: &Script, raw_url: &str) -> Option<String> {
    let (_, query) = raw_url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        script.has_token(v).then(|| k.to_string())
    })
}

/// Words of the command that are the URLs it calls.
fn url_words(c: &Command) -> Vec<&String> {
    let mut out = Vec::new();
    let mut skip = false;
    for (i, w) in c.words.iter().enumerate().skip(1) {
        if skip {
            skip = false;
            continue;
        }
        if c.words[0] == "curl" && CURL_VALUE_OPTS.contains(&w.as_str()) {
            skip = true;
            continue;
        }
        if w == "--url" {
            if let Some(u) = c.words.get(i + 1) {
                out.push(u);
            }
            skip = true;
            continue;
        }
        if w.starts_with('-') {
            continue;
        }
        if w.contains("://") || w.starts_with('$') {
            out.push(w);
        }
    }
    out
}

/// Resource of a path under `/api/v4/`: the target project and the kind of access.
pub(crate) fn classify(ctx: &Ctx, api_path: &str, raw: &str) -> Option<(Target, Kind)> {
    let segs: Vec<&str> = api_path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["projects", r, rest @ ..] => {
            let target = match project_ref(&ctx.snap.manifest, &ctx.pipeline.project, r) {
                Target::Unresolved(_) if r.contains('$') => Target::unresolved(raw, Reason::Variable),
                t => t,
            };
            let kind = match rest {
                ["packages", t, ..] => Kind::Packages(t.to_string()),
                ["packages"] => Kind::Packages(String::new()),
                ["jobs", "artifacts", ..] | ["jobs", _, "artifacts", ..] => Kind::JobArtifacts,
                ["trigger", "pipeline", ..] => Kind::TriggerPipeline,
                ["terraform", ..] => Kind::TerraformState,
                ["releases", ..] => Kind::Releases,
                ["repository", ..] => Kind::Repository,
                ["deployments", ..] => Kind::Deployments,
                ["environments", ..] => Kind::Environments,
                ["secure_files", ..] => Kind::SecureFiles,
                ["pipelines", ..] | ["pipeline", ..] => Kind::Pipelines,
                ["merge_requests", ..] => Kind::MergeRequests,
                _ => Kind::Api,
            };
            Some((target, kind))
        }
        // The instance's token exchange: no project is named, and the JWT it mints is the caller's own.
        ["token_exchange", ..] => Some((Target::Project(ctx.pipeline.project.clone()), Kind::TokenExchange)),
        ["jobs", id, "artifacts", ..] => {
            let target = if *id == "$CI_JOB_ID" || *id == "${CI_JOB_ID}" {
                Target::Project(ctx.pipeline.project.clone())
            } else {
                Target::unresolved(raw, Reason::JobId)
            };
            Some((target, Kind::JobArtifacts))
        }
        _ => None,
    }
}

/// api: see the module's documentation.
pub(crate) struct Api;

impl super::Detector for Api {
    fn triggers(&self) -> super::Triggers {
        super::Triggers::default() // only where the token is named
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        detect(ctx, job, script, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
    for c in &script.commands {
        if !c.words.first().is_some_and(|w| CLIENTS.contains(&w.as_str())) || !script.has_token(&c.text) {
            continue;
        }
        let method = method(c);
        let write = method.writes();
        let silenced = silenced(c);
        for w in url_words(c) {
            let expanded = script.expand(w);
            let span = c.locate(&ctx.snap.sources, w);
            let http = HttpFacts { silenced: silenced.clone(), token_in_query: token_in_query(script, w) };
            let mut push = |target: Target, kind: Kind, detail: String| {
                let mut access = ctx.access(job, target, kind, write, Confidence::High, span, detail);
                access.http = Some(http.clone());
                out.push(access);
            };
            let urls = find_urls(&expanded);
            if urls.is_empty() {
                if expanded.starts_with('$') {
                    push(Target::unresolved(w.as_str(), Reason::Variable), Kind::Api, format!("{method} {w}"));
                }
                continue;
            }
            for (_, u) in urls {
                let Some(parsed) = url::parse(u) else { continue };
                let (target, kind) = if parsed.host.contains('$') {
                    (Target::unresolved(w.as_str(), Reason::Variable), Kind::Api)
                } else if let Some(p) = instance_path(&ctx.snap.manifest, &parsed) {
                    let Some(api) = p.strip_prefix("/api/v4") else { continue };
                    match classify(ctx, api, w) {
                        Some(tk) => tk,
                        None => continue,
                    }
                } else {
                    let kind = match parsed.path.find("/api/v4/") {
                        Some(i) => classify(ctx, &parsed.path[i + "/api/v4".len()..], w).map_or(Kind::Api, |(_, k)| k),
                        None => Kind::Api,
                    };
                    (Target::Foreign(format!("{}{}", parsed.host, parsed.path)), kind)
                };
                push(target, kind, format!("{method} {}", crate::text::redact(u)));
            }
        }
    }
}
