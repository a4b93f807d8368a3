//! URLs in scripts and variables: finding them, splitting them, and telling whether they point at this
//! GitLab instance and which project they name.

use super::{Reason, Target};
use crate::snapshot::Manifest;
use regex::Regex;
use std::sync::LazyLock;

static URL_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"https?://[^\s"'<>`|;,)(]+"#).expect("static regex"));

/// URLs in a text, with their byte offsets.
pub(crate) fn find_urls(s: &str) -> Vec<(usize, &str)> {
    URL_RE.find_iter(s).map(|m| (m.start(), m.as_str().trim_end_matches(['.', ']', '}', '\\']))).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub(crate) userinfo: Option<String>,
    /// Host, lower-cased, with the port when it is not the default one.
    pub(crate) host: String,
    /// Path from the first `/` (may be empty), without query or fragment.
    pub(crate) path: String,
    pub(crate) query: Option<String>,
}

pub(crate) fn parse(url: &str) -> Option<Url> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, authority),
    };
    let hostport = hostport.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = hostport.strip_suffix(default_port).unwrap_or(&hostport).to_string();
    let rest = &rest[auth_end..];
    let (path_q, _) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = match path_q.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (path_q.to_string(), None),
    };
    Some(Url { userinfo, host, path, query })
}

/// The path of a URL relative to the instance (its relative URL root removed), when the URL is on the
/// instance; `None` for another host.
pub(crate) fn instance_path<'u>(manifest: &Manifest, url: &'u Url) -> Option<&'u str> {
    if url.host != manifest.instance.host {
        return None;
    }
    let base = manifest.instance.url.split_once("://").map_or("", |(_, r)| r);
    let base_path = base.find('/').map_or("", |i| &base[i..]).trim_end_matches('/');
    url.path.strip_prefix(base_path).filter(|p| p.is_empty() || p.starts_with('/'))
}

/// Percent-decode (`group%2Fproject`).
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The project an API path segment names: a numeric id (through the manifest), or a (URL-encoded) path.
pub(crate) fn project_ref(manifest: &Manifest, caller: &str, raw: &str) -> Target {
    // The project's own id or path, even when the snapshot does not record the id.
    if ["$CI_PROJECT_ID", "${CI_PROJECT_ID}", "$CI_PROJECT_PATH", "${CI_PROJECT_PATH}"].contains(&raw) {
        return Target::Project(caller.to_string());
    }
    if raw.contains('$') || raw.is_empty() {
        return Target::unresolved(raw, Reason::Variable);
    }
    if raw.chars().all(|c| c.is_ascii_digit()) {
        return match raw.parse::<u64>().ok().and_then(|id| manifest.ids.get(&id)) {
            Some(path) => Target::Project(path.clone()),
            None => Target::unresolved(raw, Reason::UnknownProjectId),
        };
    }
    Target::Project(decode(raw).trim_matches('/').to_string())
}

/// A repository path in a git URL: without `.git` and trailing slashes.
pub(crate) fn repo_path(path: &str) -> String {
    let p = path.trim_matches('/');
    let p = p.strip_suffix(".git").unwrap_or(p);
    p.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_userinfo_host_path_query() {
        let u = parse("https://gitlab-ci-token:${CI_JOB_TOKEN}@GitLab.example.com:443/a/b.git?x=1").unwrap();
        assert_eq!(u.userinfo.as_deref(), Some("gitlab-ci-token:${CI_JOB_TOKEN}"));
        assert_eq!(u.host, "gitlab.example.com");
        assert_eq!(u.path, "/a/b.git");
        assert_eq!(u.query.as_deref(), Some("x=1"));
        assert_eq!(repo_path(&u.path), "a/b");
    }

    #[test]
    fn finds_urls_in_text() {
        let found = find_urls(r#"git clone "https://h.example/a/b.git" dir && curl https://x.example/y;"#);
        let urls: Vec<&str> = found.iter().map(|(_, u)| *u).collect();
        assert_eq!(urls, ["https://h.example/a/b.git", "https://x.example/y"]);
    }

    #[test]
    fn decodes() {
        assert_eq!(decode("group%2Fsub%2Fproj"), "group/sub/proj");
        assert_eq!(decode("100%"), "100%");
    }
}
