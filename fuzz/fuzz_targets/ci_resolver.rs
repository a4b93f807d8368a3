//! The CI resolver (includes, `extends`, `!reference`, `default:`, matrices, variables) on arbitrary
//! repositories: the input is split into files at lines `--- NAME`; `.gitlab-ci.yml` is the root. No panic,
//! and the work stays within the project's budget.
#![no_main]
use gitlab_ci::source::{FileId, SourceFile, SourceMap};
use gitlab_ci::{Instance, ParseCache, Project, RepoFile, Repositories};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::sync::Arc;

struct Repo {
    sources: SourceMap,
    files: HashMap<String, FileId>,
    list: Arc<Vec<String>>,
    instance: Instance,
}

impl Repositories for Repo {
    fn sources(&self) -> &SourceMap {
        &self.sources
    }
    fn file(&self, _project: &str, path: &str) -> RepoFile {
        let norm = gitlab_ci::paths::normalize_repo_path(path).unwrap_or_default();
        match self.files.get(&norm) {
            Some(id) => RepoFile::Found(*id),
            None => RepoFile::Missing(norm),
        }
    }
    fn list(&self, _project: &str) -> Arc<Vec<String>> {
        self.list.clone()
    }
    fn has_project(&self, project: &str) -> bool {
        project == "g/p"
    }
    fn display_path(&self, _project: &str, path: &str) -> String {
        path.to_string()
    }
    fn instance(&self) -> &Instance {
        &self.instance
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = SourceMap::new();
    let mut files = HashMap::new();
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
    for (n, b) in parts {
        let Ok(norm) = gitlab_ci::paths::normalize_repo_path(&n) else { continue };
        let id = sources.add(SourceFile::new(norm.clone(), Some("g/p".into()), Some(norm.clone()), Arc::from(b)));
        files.insert(norm, id);
    }
    let list = Arc::new(files.keys().cloned().collect());
    let instance =
        Instance { url: "https://g.example".into(), host: "g.example".into(), registry: Some("r.g.example".into()) };
    let repo = Repo { sources, files, list, instance };
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
