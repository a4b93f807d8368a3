//! Project and repository paths as GitLab accepts them.

/// Checks that a project or group path is a plain GitLab path: no `..`, no empty or dot segments.
pub fn valid_full_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}

/// Normalise a path inside a repository: strip a leading `/` or `./`, resolve `.` and `..` lexically.
/// A path that climbs above the repository root is refused.
pub fn normalize_repo_path(path: &str) -> Result<String, String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err(format!("`{path}` climbs out of the repository"));
                }
            }
            s => out.push(s),
        }
    }
    if out.is_empty() {
        return Err(format!("`{path}` does not name a file"));
    }
    if path.contains('\0') {
        return Err("a path cannot contain a NUL byte".to_string());
    }
    Ok(out.join("/"))
}
