//! `tokenscope explain`: a failed job's log read for job-token failures. GitLab keeps no record of a
//! denied job-token access (only an instance-wide counter): the job log is the only trace, and its texts
//! are ambiguous (projects named by their last path segment, package registries answering `404 Project
//! Not Found`, image pulls that never name the cause). Each failure is matched against the signatures of
//! docs/explain.md, its short names mapped to full paths with the snapshot (the URL beside the error, the
//! job's resolved accesses, the registry image path), and given a verdict against the audit: the entry to
//! add, the permission to add, not an allowlist problem (and why), or unknown with the lines that looked
//! relevant. It never advises an entry for an access the CI configuration does not make.

use crate::detect::{Access, Kind, Target};
use crate::engine::Audit;
use crate::engine::coverage::{enforced, nearest_entry};
use crate::snapshot::manifest::{Permission, Tier};
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// What the log line says failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub(crate) enum Signal {
    /// `… Authentication by CI/CD job token not allowed from C to P.` (git or API).
    ScopeDenied,
    /// `Insufficient permissions to access this resource in project P. The following token permission(s) …`.
    PolicyMissing,
    /// `This action is unauthorized for CI/CD job tokens.`
    EndpointNotForJobTokens,
    /// `remote: Insufficient permissions to pull from the repository of project P.`
    RoleTooLow,
    /// Older GitLab: not found / not allowed to download code.
    GitNotFound,
    /// `fatal: unable to access '<url>': The requested URL returned error: 403`.
    GitForbidden,
    /// `fatal: clone of '<url>' into submodule path '<path>' failed`.
    Submodule,
    /// Another project's container registry API.
    RegistryOtherProject,
    /// `pull access denied for <image>` after the runner authenticated with the job payload.
    ImagePull,
    /// `This job could not start because it could not retrieve the needed artifacts.` / `forbidden` on download.
    NeedsArtifacts,
    /// A package registry's `404 Project Not Found`, npm `E403`/`E404`, yarn, pip, maven forms.
    PackageDenied,
    /// Terraform's HTTP backend refused the state.
    TerraformState,
    /// release-cli's `API Error Response status_code: 403`.
    ReleaseApi,
    /// curl/wget: the URL answered 401/403/404.
    HttpStatus,
    /// JWT job tokens up to 18.8: `Submitting job to coordinator... job failed code=403`.
    RunnerJwtBug,
}

/// The conclusion about one failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Verdict {
    MissingEntry,
    InsufficientPermissions,
    NotAnAllowlistProblem,
    Unknown,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct CiLocation {
    pub(crate) file: String,
    pub(crate) line: u32,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Diagnosis {
    pub(crate) log_line: usize,
    /// The signature the failure matched (docs/explain.md).
    pub(crate) kind: Signal,
    /// The access in the CI configuration it is about (`git`, `submodule`, `registry`, `packages:npm`, …).
    pub(crate) access: Option<String>,
    pub(crate) caller: Option<String>,
    pub(crate) callee: Option<String>,
    pub(crate) verdict: Verdict,
    pub(crate) permissions: Vec<Permission>,
    pub(crate) ci_location: Option<CiLocation>,
    pub(crate) fix: String,
    /// The log lines that support it (cleaned, tokens redacted).
    pub(crate) lines: Vec<String>,
}

/// What the log is about.
pub(crate) struct Context<'a> {
    pub(crate) audit: Option<&'a Audit<'a>>,
    /// The project whose job failed.
    pub(crate) project: Option<String>,
    pub(crate) job: Option<String>,
}

macro_rules! re {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($re).expect("a valid pattern"));
    };
}

re!(ANSI, r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07");
re!(SECTION, r"section_(?:start|end):\d+:[A-Za-z0-9_.\-\[\]]+(?:\r)?");
re!(SCOPE, r"Authentication by CI/CD job token not allowed from (\S+) to (\S+?)\.?(?:\s|$|\x22)");
re!(
    POLICY,
    r"Insufficient permissions to access this resource in project (\S+?)\. The following token permissions? (?:is|are) required: ([a-z_, ]+(?: and [a-z_]+)?)"
);
re!(UNAUTHORIZED, r"This action is unauthorized for CI/CD job tokens");
re!(ROLE, r"Insufficient permissions to pull from the repository of project (\S+?)\.");
re!(
    NOT_FOUND,
    r"You are not allowed to download code from this project|The project you were looking for could not be found or you don't have permission to view it|fatal: repository '([^']+)' not found"
);
re!(GIT_403, r"fatal: unable to access '([^']+)': The requested URL returned error: (40[134])");
re!(SUBMODULE, r"fatal: clone of '([^']+)' into submodule path '([^']+)' failed");
re!(REGISTRY_OTHER, r"job token cannot be used to authenticate with the container registry of a different project");
re!(PULL, r#"pull access denied for ([^\s,]+)|failed to pull image "([^"]+)""#);
re!(
    NEEDS,
    r"could not retrieve the needed artifacts|Downloading artifacts from coordinator\.\.\. forbidden|FATAL: permission denied"
);
re!(
    PACKAGE,
    r#"404 Project Not Found|npm (?:ERR!|error) code E40[34]|npm (?:ERR!|error) 40[34] [^\n]*?(https?://\S+)|Request failed \\?"404 Not Found\\?"|HTTP error 40[34] while getting (\S+)|status code: 40[134], reason phrase: \w+ \((\S+)\)|ERROR 40[34]: (?:Not Found|Forbidden)"#
);
re!(TERRAFORM, r"HTTP remote state endpoint (?:invalid auth|requires auth)");
re!(RELEASE, r"API Error Response status_code: (40[134])");
re!(CURL, r"curl: \(22\) The requested URL returned error: (40[134])");
re!(JWT_BUG, r"Submitting job to coordinator\.\.\. job failed code=403");
re!(URL, r#"https?://[^\s'"<>)]+"#);

/// A log line as shown: colours, section markers and carriage returns removed; tokens redacted; control
/// characters escaped.
pub(crate) fn clean_line(raw: &str) -> String {
    let s = ANSI.replace_all(raw, "");
    let s = SECTION.replace_all(&s, "");
    let s = s.rsplit('\r').find(|p| !p.trim().is_empty()).unwrap_or("");
    crate::text::clean_line(s.trim_end()).into_owned()
}

/// The full paths whose last segment is `short`, or the path itself when it is full.
fn candidates(audit: Option<&Audit>, short: &str) -> Vec<String> {
    let Some(audit) = audit else { return Vec::new() };
    if audit.snap.manifest.projects.contains_key(short) {
        return vec![short.to_string()];
    }
    audit.snap.manifest.projects.keys().filter(|p| p.rsplit('/').next() == Some(short)).cloned().collect()
}

/// A project path in a URL of this instance (`https://host/group/proj.git`, `/api/v4/projects/g%2Fp/…`).
fn project_of_url(audit: Option<&Audit>, url: &str) -> Option<String> {
    let audit = audit?;
    let m = &audit.snap.manifest;
    let host = crate::snapshot::manifest::url_host(url)?;
    if host != m.instance.host && m.instance.registry.as_deref() != Some(host.as_str()) {
        return None;
    }
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let path = path.split(['?', '#']).next().unwrap_or("");
    if let Some(api) = path.strip_prefix("api/v4/projects/") {
        let id = api.split('/').next().unwrap_or("");
        let decoded = id.replace("%2F", "/").replace("%2f", "/");
        if let Ok(n) = decoded.parse::<u64>() {
            return m.ids.get(&n).cloned();
        }
        return m.projects.contains_key(&decoded).then_some(decoded);
    }
    // The longest prefix of the path that is a project (registry images add names after it).
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let segments: Vec<&str> = path.split('/').collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("/"))
        .find(|p| m.lower.contains_key(&p.to_ascii_lowercase()))
        .map(|p| m.lower[&p.to_ascii_lowercase()].clone())
}

/// Whether the URL goes to another host than the instance (and its registry).
fn foreign(audit: Option<&Audit>, url: &str) -> Option<String> {
    let audit = audit?;
    let host = crate::snapshot::manifest::url_host(url)?;
    let m = &audit.snap.manifest.instance;
    (host != m.host && m.registry.as_deref() != Some(host.as_str())).then_some(host)
}

/// One failure found in the log, before the verdict.
struct Found {
    line: usize,
    signal: Signal,
    caller_short: Option<String>,
    callee_short: Option<String>,
    url: Option<String>,
    permissions: Vec<Permission>,
    lines: Vec<String>,
    /// A line that followed the first and said what kind of access it was (a submodule clone, an image).
    via: Option<Signal>,
}

/// Read the log: every job-token failure in it, with its verdict.
pub(crate) fn explain(log: &str, ctx: &Context) -> Vec<Diagnosis> {
    let lines: Vec<String> = log.split('\n').map(clean_line).collect();
    let mut found: Vec<Found> = Vec::new();
    // The last command the log echoed (`$ curl …`): its URLs say what a bare status code was about.
    let mut last_command_urls: Vec<String> = Vec::new();
    let mut last_command: Option<(usize, String)> = None;
    for (i, l) in lines.iter().enumerate() {
        if let Some(cmd) = l.strip_prefix("$ ") {
            last_command_urls = URL.find_iter(cmd).map(|m| m.as_str().to_string()).collect();
            last_command = Some((i, l.clone()));
        }
        let near_url = || -> Option<String> {
            let window = lines[i.saturating_sub(3)..(i + 3).min(lines.len())].iter();
            window
                .flat_map(|w| URL.find_iter(w).map(|m| m.as_str().to_string()))
                .next()
                .or_else(|| last_command_urls.first().cloned())
        };
        let mut push = |signal: Signal,
                        caller: Option<String>,
                        callee: Option<String>,
                        url: Option<String>,
                        permissions: Vec<Permission>| {
            // A line that says more about a failure found a few lines up joins it: the "not allowed from …
            // to …" or missing-permission text becomes the failure, what came first says what access it was.
            let primary = matches!(signal, Signal::ScopeDenied | Signal::PolicyMissing);
            if let Some(prev) = found.last_mut()
                && i - prev.line <= 4
                && primary
                && !matches!(prev.signal, Signal::ScopeDenied | Signal::PolicyMissing)
            {
                prev.via = Some(prev.signal);
                prev.signal = signal;
                prev.caller_short = caller;
                prev.callee_short = callee;
                prev.permissions = permissions;
                prev.url = prev.url.take().or(url);
                prev.lines.push(l.clone());
                return;
            }
            if let Some(prev) = found.last_mut()
                && i - prev.line <= 4
                && (prev.signal == signal
                    || matches!(
                        signal,
                        Signal::GitForbidden
                            | Signal::Submodule
                            | Signal::ImagePull
                            | Signal::NeedsArtifacts
                            | Signal::HttpStatus
                    ))
            {
                if prev.url.is_none() || signal == Signal::Submodule {
                    prev.url = url.or(prev.url.take());
                }
                if signal != prev.signal && prev.via.is_none() {
                    prev.via = Some(signal);
                }
                prev.lines.push(l.clone());
                return;
            }
            // The command the log echoed before the failure is part of its evidence.
            let mut evidence = Vec::new();
            if let Some((at, c)) = &last_command
                && i - at <= 30
                && *at != i
            {
                evidence.push(c.clone());
            }
            evidence.push(l.clone());
            found.push(Found {
                line: i,
                signal,
                caller_short: caller,
                callee_short: callee,
                url,
                permissions,
                lines: evidence,
                via: None,
            });
        };
        if let Some(c) = SCOPE.captures(l) {
            push(
                Signal::ScopeDenied,
                Some(c[1].to_string()),
                Some(c[2].trim_end_matches('.').to_string()),
                near_url(),
                vec![],
            );
        } else if let Some(c) = POLICY.captures(l) {
            let perms = c[2].split([',', ' ']).filter_map(|w| w.trim().parse::<Permission>().ok()).collect();
            push(Signal::PolicyMissing, None, Some(c[1].to_string()), near_url(), perms);
        } else if UNAUTHORIZED.is_match(l) {
            push(Signal::EndpointNotForJobTokens, None, None, near_url(), vec![]);
        } else if let Some(c) = ROLE.captures(l) {
            push(Signal::RoleTooLow, None, Some(c[1].to_string()), near_url(), vec![]);
        } else if let Some(c) = SUBMODULE.captures(l) {
            push(Signal::Submodule, None, None, Some(c[1].to_string()), vec![]);
        } else if let Some(c) = GIT_403.captures(l) {
            push(Signal::GitForbidden, None, None, Some(c[1].to_string()), vec![]);
        } else if NOT_FOUND.is_match(l) {
            let url = NOT_FOUND.captures(l).and_then(|c| c.get(1)).map(|m| m.as_str().to_string());
            push(Signal::GitNotFound, None, None, url.or_else(near_url), vec![]);
        } else if REGISTRY_OTHER.is_match(l) {
            push(Signal::RegistryOtherProject, None, None, near_url(), vec![]);
        } else if let Some(c) = PULL.captures(l) {
            let image = c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
            let authenticated =
                lines[..i].iter().any(|p| p.contains("Authenticating with credentials from job payload"));
            if authenticated {
                push(Signal::ImagePull, None, None, image.map(|im| format!("https://{im}")), vec![]);
            }
        } else if NEEDS.is_match(l) {
            push(Signal::NeedsArtifacts, None, None, None, vec![]);
        } else if PACKAGE.is_match(l) {
            let url =
                PACKAGE.captures(l).and_then(|c| c.iter().skip(1).flatten().next()).map(|m| m.as_str().to_string());
            push(Signal::PackageDenied, None, None, url.or_else(near_url), vec![]);
        } else if TERRAFORM.is_match(l) {
            push(Signal::TerraformState, None, None, None, vec![]);
        } else if RELEASE.is_match(l) {
            push(Signal::ReleaseApi, None, None, near_url(), vec![]);
        } else if CURL.is_match(l) {
            push(Signal::HttpStatus, None, None, last_command_urls.first().cloned().or_else(near_url), vec![]);
        } else if JWT_BUG.is_match(l) {
            push(Signal::RunnerJwtBug, None, None, None, vec![]);
        }
    }
    found.into_iter().map(|f| judge(f, ctx)).collect()
}

/// The accesses of the failed job (or of the project) that the failure can be about.
fn matching_accesses<'a>(audit: &'a Audit, ctx: &Context, f: &Found, callee: Option<&str>) -> Vec<&'a Access> {
    // A callee the log names only by a short name the snapshot does not resolve: its last segment.
    let short = f.callee_short.as_deref().filter(|_| callee.is_none());
    let kinds: &[Kind] = match f.via.unwrap_or(f.signal) {
        Signal::ImagePull | Signal::RegistryOtherProject => &[Kind::Registry],
        Signal::Submodule => &[Kind::Submodule],
        Signal::GitForbidden | Signal::GitNotFound => &[Kind::Git, Kind::Submodule],
        Signal::NeedsArtifacts => &[Kind::NeedsProject, Kind::JobArtifacts],
        Signal::TerraformState => &[Kind::TerraformState],
        Signal::ReleaseApi => &[Kind::Releases],
        _ => &[],
    };
    let package = f.signal == Signal::PackageDenied || f.via == Some(Signal::PackageDenied);
    // A bare HTTP status is an API call: not a clone, an image or `needs:`.
    let http = f.signal == Signal::HttpStatus;
    audit
        .accesses
        .iter()
        .filter(|a| ctx.project.as_deref().is_none_or(|p| a.caller == p))
        .filter(|a| ctx.job.as_deref().is_none_or(|j| a.job == j))
        .filter(|a| kinds.is_empty() || kinds.contains(&a.kind))
        .filter(|a| !package || matches!(a.kind, Kind::Packages(_)))
        .filter(|a| !http || !matches!(a.kind, Kind::Git | Kind::Submodule | Kind::Registry | Kind::NeedsProject))
        .filter(|a| match (callee, short, &a.target) {
            (Some(c), _, Target::Project(t)) => t == c,
            (None, Some(s), Target::Project(t)) => t.rsplit('/').next() == Some(s),
            (None, None, _) => true,
            _ => false,
        })
        .collect()
}

fn judge(f: Found, ctx: &Context) -> Diagnosis {
    let audit = ctx.audit;
    let mut d = Diagnosis {
        log_line: f.line + 1,
        kind: f.signal,
        access: None,
        caller: ctx.project.clone(),
        callee: None,
        verdict: Verdict::Unknown,
        permissions: f.permissions.clone(),
        ci_location: None,
        fix: String::new(),
        lines: f.lines.clone(),
    };
    // Signals that are never the allowlist.
    let not_allowlist = match f.signal {
        Signal::RunnerJwtBug => Some("GitLab 17.10–18.8 with JWT job tokens fails long or `needs` jobs with this 403 (a GitLab bug fixed in 18.9): upgrade, or retry the job".to_string()),
        Signal::EndpointNotForJobTokens => Some("this endpoint does not accept job tokens at all, whatever the allowlist says: use a project access token in a masked variable".to_string()),
        Signal::RegistryOtherProject => Some("a job token can push to and administer only its own project's container registry: pulls work with an allowlist entry, this call does not".to_string()),
        Signal::RoleTooLow => Some("the allowlist admitted the job; the user who started the pipeline lacks the role to read the repository: give that user at least Reporter on the callee, or run the pipeline as someone who has it".to_string()),
        _ => None,
    };
    if let Some(why) = not_allowlist {
        d.verdict = Verdict::NotAnAllowlistProblem;
        d.callee = f.callee_short.clone();
        d.fix = why;
        return d;
    }
    // The callee: a full path from the URL, else the short name mapped with the snapshot.
    if let Some(host) = f.url.as_deref().and_then(|u| foreign(audit, u)) {
        d.verdict = Verdict::NotAnAllowlistProblem;
        d.fix = format!(
            "the job token was sent to `{host}`, which is not this GitLab: no allowlist entry applies there, and the token must not leave the instance; use a credential of `{host}`"
        );
        return d;
    }
    let from_url = f.url.as_deref().and_then(|u| project_of_url(audit, u));
    let from_short = f.callee_short.as_deref().map(|s| candidates(audit, s)).unwrap_or_default();
    let callee = from_url.or_else(|| (from_short.len() == 1).then(|| from_short[0].clone()));
    d.callee = callee.clone().or_else(|| f.callee_short.clone());
    if d.caller.is_none() {
        let from = f.caller_short.as_deref().map(|s| candidates(audit, s)).unwrap_or_default();
        d.caller = if from.len() == 1 { Some(from[0].clone()) } else { f.caller_short.clone() };
    }
    let Some(audit) = audit else {
        // Without a snapshot, only what the message says.
        match f.signal {
            Signal::ScopeDenied => {
                d.verdict = Verdict::MissingEntry;
                d.fix = format!(
                    "add `{}` to the allowlist of `{}` (Settings > CI/CD > Job token permissions); GitLab names projects by their last path segment here: pass --snapshot to get full paths and the CI line",
                    d.caller.as_deref().unwrap_or("the caller"),
                    d.callee.as_deref().unwrap_or("the callee")
                );
            }
            Signal::PolicyMissing => {
                d.verdict = Verdict::InsufficientPermissions;
                d.fix = format!(
                    "add {} to the entry that admits the caller on `{}`",
                    Permission::list(&d.permissions),
                    d.callee.as_deref().unwrap_or("the callee")
                );
            }
            _ => d.fix = "pass --snapshot (and --project) to tell an allowlist problem from another cause".to_string(),
        }
        return d;
    };
    let m = &audit.snap.manifest;
    let caller = d.caller.clone().filter(|c| m.projects.contains_key(c));
    let ctx_job = Context { audit: ctx.audit, project: caller.clone(), job: ctx.job.clone() };
    let accesses = matching_accesses(audit, &ctx_job, &f, callee.as_deref());
    let access = accesses.first().copied();
    if let Some(a) = access {
        let file = audit.snap.sources.get(a.span.file);
        d.ci_location = Some(CiLocation { file: crate::text::clean(&file.display).into_owned(), line: a.span.line });
        d.access = Some(a.kind.name());
        if d.caller.is_none() {
            d.caller = Some(a.caller.clone());
        }
        if d.callee.is_none()
            && let Target::Project(t) = &a.target
        {
            d.callee = Some(t.clone());
        }
    }
    // Causes that are not the allowlist, from the job's configuration and the instance.
    let job_overrides = d.caller.as_deref().and_then(|c| audit.pipeline(c)).is_some_and(|p| {
        p.jobs
            .iter()
            .filter(|j| ctx.job.as_deref().is_none_or(|n| j.name == n))
            .any(|j| crate::ci::job_token_redefined(&j.vars).is_some())
    });
    if job_overrides && ctx.job.is_some() {
        d.verdict = Verdict::NotAnAllowlistProblem;
        d.fix = "the job redefines `CI_JOB_TOKEN` in `variables:`: the request carried another token, and endpoints that identify the job by its token refuse it; give that token its own variable name".into();
        return d;
    }
    let (Some(caller), Some(callee)) = (d.caller.clone(), d.callee.clone()) else {
        d.fix = "the log does not say which projects are involved: pass --project (and --job) with the failed job's project".into();
        return d;
    };
    let artifacts = matches!(f.signal, Signal::NeedsArtifacts)
        || access.is_some_and(|a| matches!(a.kind, Kind::JobArtifacts | Kind::NeedsProject));
    if artifacts && m.instance.tier == Tier::Free {
        d.verdict = Verdict::NotAnAllowlistProblem;
        d.fix = "GitLab Free has no job-token authentication for job artifacts (it fails even for the project's own): pass a token the consumer provides, or upgrade".into();
        return d;
    }
    let Some(p) = m.projects.get(&callee) else {
        d.fix = format!("`{callee}` is not in the snapshot: take a snapshot that holds it to judge its allowlist");
        return d;
    };
    if access.is_none() {
        d.verdict = Verdict::Unknown;
        d.fix = format!(
            "the CI configuration in the snapshot makes no job-token access from `{caller}` to `{callee}` of this kind: check what the job ran (a script tokenscope could not read?) before adding any entry"
        );
        return d;
    }
    let needed: Vec<Permission> = accesses.iter().filter_map(|a| a.permission).collect();
    match nearest_entry(p, &caller) {
        // The log's own "not allowed from … to …" says enforcement is on now, whatever the snapshot saw.
        None if enforced(audit.snap, p) || f.signal == Signal::ScopeDenied => {
            d.verdict = Verdict::MissingEntry;
            let mut perms: Vec<Permission> = needed.clone();
            perms.sort();
            perms.dedup();
            let ungoverned = accesses.iter().any(|a| a.permission.is_none());
            let list = if ungoverned || perms.is_empty() {
                "(default permissions)".to_string()
            } else {
                format!("[{}]", Permission::list(&perms))
            };
            d.permissions = perms;
            d.fix = format!("tokenscope plan fragment for `{callee}`:\n  + project {caller} {list}");
        }
        None => {
            d.fix = format!(
                "`{callee}` does not enforce its allowlist in the snapshot: the settings changed since, or another cause (the user who started the pipeline lacks access to `{callee}`)"
            );
        }
        Some(i) => {
            let entry = &p.job_token.allowlist[i];
            let lacking: Vec<Permission> = match &entry.permissions {
                Some(granted) => {
                    let want: Vec<Permission> =
                        if d.permissions.is_empty() { needed.clone() } else { d.permissions.clone() };
                    want.into_iter().filter(|x| !granted.contains(x)).collect()
                }
                None => Vec::new(),
            };
            if !lacking.is_empty() {
                d.verdict = Verdict::InsufficientPermissions;
                d.fix = format!("add {} to the entry `{}` on `{callee}`", Permission::list(&lacking), entry.path);
                d.permissions = lacking;
            } else {
                d.verdict = Verdict::NotAnAllowlistProblem;
                let package = accesses.iter().any(|a| matches!(a.kind, Kind::Packages(_)));
                let what = if package && f.lines.iter().any(|l| l.contains("404")) {
                    "the package or version may not exist, or"
                } else {
                    "the settings may have changed since the snapshot, or"
                };
                d.fix = format!(
                    "the allowlist of `{callee}` admits `{caller}` (entry `{}`): {what} the user who started the pipeline lacks access to `{callee}`",
                    entry.path
                );
            }
        }
    }
    d
}
