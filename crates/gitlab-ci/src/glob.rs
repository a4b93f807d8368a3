//! Globs as GitLab reads them in `include: local`, `rules: exists` and `${VAR%pattern}`.

use regex::Regex;

/// A glob of `include: local` / `rules: exists` as a regex over repo paths: `**` any depth, `*` within a directory.
pub fn glob_regex(glob: &str) -> Regex {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).unwrap_or_else(|_| Regex::new("^$").expect("static regex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_regex("ci/*.yml").is_match("ci/a.yml"));
        assert!(!glob_regex("ci/*.yml").is_match("ci/sub/a.yml"));
        assert!(glob_regex("ci/**.yml").is_match("ci/sub/a.yml"));
        assert!(glob_regex("**/*.yml").is_match("a.yml"));
        assert!(glob_regex("**/*.yml").is_match("x/y/a.yml"));
        assert!(!glob_regex("ci/*.yml").is_match("ci/a.yaml"));
    }
}
