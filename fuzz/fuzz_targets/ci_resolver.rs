//! The CI resolver (includes, `extends`, `!reference`, `default:`, matrices, variables) on arbitrary
//! repositories: the input is split into files at lines `--- NAME`; `.gitlab-ci.yml` is the root. No panic,
//! and the work stays within the project's budget.
#![no_main]
use gitlab_ci::{Instance, ParseCache, Project};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut name = ".gitlab-ci.yml".to_string();
    let mut body = String::new();
    let mut parts = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(n) = line.strip_prefix("--- ") {
            parts.push((std::mem::replace(&mut name, n.trim().to_string()), std::mem::take(&mut body)));
        } else {
            body.push_str(line);
        }
    }
    parts.push((name, body));
    let instance =
        Instance { url: "https://g.example".into(), host: "g.example".into(), registry: Some("r.g.example".into()) };
    let repo = gitlab_ci::memory::Memory::new("g/p", instance, parts);
    let project = Project {
        path: "g/p".into(),
        id: Some(1),
        visibility: "private",
        default_branch: "main".into(),
        ci_config_path: ".gitlab-ci.yml".into(),
        span: Default::default(),
        unreadable: None,
    };
    let p = gitlab_ci::resolve(&repo, &ParseCache::default(), &project, false);
    assert!(p.spent.over.is_some() || p.spent.used <= p.spent.limit);
});
