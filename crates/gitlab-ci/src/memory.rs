//! A repository held in memory: one project's files, for tests, fuzz targets and tools that resolve a
//! configuration that is not on disk.

use crate::source::{FileId, SourceFile, SourceMap};
use crate::{Instance, RepoFile, Repositories};
use std::collections::HashMap;
use std::sync::Arc;

/// One project's repository, from (path, text) pairs; paths are normalised, ones that cannot be are left out.
pub struct Memory {
    project: String,
    sources: SourceMap,
    files: HashMap<String, FileId>,
    list: Arc<Vec<String>>,
    instance: Instance,
}

impl Memory {
    pub fn new(project: &str, instance: Instance, files: impl IntoIterator<Item = (String, String)>) -> Memory {
        let sources = SourceMap::new();
        let mut ids = HashMap::new();
        for (name, text) in files {
            let Ok(norm) = crate::paths::normalize_repo_path(&name) else { continue };
            let file = SourceFile::new(norm.clone(), Some(project.to_string()), Some(norm.clone()), Arc::from(text));
            ids.insert(norm, sources.add(file));
        }
        let mut list: Vec<String> = ids.keys().cloned().collect();
        list.sort();
        Memory { project: project.to_string(), sources, files: ids, list: Arc::new(list), instance }
    }
}

impl Repositories for Memory {
    fn sources(&self) -> &SourceMap {
        &self.sources
    }
    fn file(&self, project: &str, path: &str) -> RepoFile {
        let norm = crate::paths::normalize_repo_path(path).unwrap_or_default();
        match self.files.get(&norm).filter(|_| project == self.project) {
            Some(id) => RepoFile::Found(*id),
            None => RepoFile::Missing(format!("{project}/{norm}")),
        }
    }
    fn list(&self, project: &str) -> Arc<Vec<String>> {
        if project == self.project { self.list.clone() } else { Arc::new(Vec::new()) }
    }
    fn has_project(&self, project: &str) -> bool {
        project == self.project
    }
    fn display_path(&self, _project: &str, path: &str) -> String {
        path.to_string()
    }
    fn instance(&self) -> &Instance {
        &self.instance
    }
}
