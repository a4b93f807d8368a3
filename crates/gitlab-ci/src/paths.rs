//! Project and repository paths as GitLab accepts them.

/// Segments a project path may have: GitLab nests groups 20 deep, so a project path has at most 21.
pub const MAX_PROJECT_SEGMENTS: usize = 32;
/// Bytes and segments a repository path may have (the system's `PATH_MAX`; no real repository nests
/// deeper): a longer path is refused before anything walks it.
pub const MAX_REPO_PATH_BYTES: usize = 4096;
pub const MAX_REPO_PATH_SEGMENTS: usize = 256;

/// Checks that a project or group path is a plain GitLab path: no `..`, no empty or dot segments, at most
/// [`MAX_PROJECT_SEGMENTS`] segments.
pub fn valid_full_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= MAX_REPO_PATH_BYTES
        && path.split('/').count() <= MAX_PROJECT_SEGMENTS
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}

/// `path` with `.`, `..` and empty segments resolved lexically, relative to the repository root (`""` is the
/// root itself); `None` when it climbs above the root.
pub fn resolve_lexically(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// Normalise a path inside a repository: strip a leading `/` or `./`, resolve `.` and `..` lexically.
/// A path that climbs above the repository root is refused.
pub fn normalize_repo_path(path: &str) -> Result<String, String> {
    if path.len() > MAX_REPO_PATH_BYTES || path.split('/').count() > MAX_REPO_PATH_SEGMENTS {
        let shown: String = path.chars().take(60).collect();
        return Err(format!(
            "`{shown}…` is longer than a repository path can be ({MAX_REPO_PATH_BYTES} bytes, {MAX_REPO_PATH_SEGMENTS} segments)"
        ));
    }
    let out = resolve_lexically(path).ok_or_else(|| format!("`{path}` climbs out of the repository"))?;
    if out.is_empty() {
        return Err(format!("`{path}` does not name a file"));
    }
    if path.contains('\0') {
        return Err("a path cannot contain a NUL byte".to_string());
    }
    Ok(out)
}
