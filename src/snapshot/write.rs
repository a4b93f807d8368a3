//! Writing a snapshot: the manifest (`tokenscope.yaml`), repository files and `trees/` listings, in the
//! documented format, so that a live fetch can be audited offline, reviewed and diffed.
//!
//! Nothing the user has is overwritten: the target directory must not exist or be empty, and every path
//! written is checked to stay inside it.

use super::manifest::{
    AuthLogEntry, DEFAULT_BRANCH, DEFAULT_CI_CONFIG_PATH, Data, EntryKind, Instance, Project, valid_full_path,
};
use super::{MANIFEST_NAME, TREES_DIR, normalize_repo_path};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A manifest being written: the reader's own types (`manifest`), without the indexes the reader builds.
/// Spans are those of nothing (`Span::default()`) until the manifest is written and read back.
#[derive(Clone, Debug)]
pub(crate) struct OrgData {
    pub(crate) instance: Instance,
    pub(crate) projects: BTreeMap<String, Project>,
    pub(crate) auth_log: Vec<AuthLogEntry>,
}

/// A YAML scalar that reads back as exactly this string: plain when that is safe, else double-quoted
/// (a JSON string is a valid YAML double-quoted scalar).
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf"
        );
    if plain { s.to_string() } else { serde_json::to_string(s).expect("a string serializes") }
}

/// The manifest text. Deterministic: projects by path, allowlist entries by kind and path.
pub(crate) fn render_manifest(org: &OrgData) -> String {
    let mut o = String::from("# Written by `tokenscope snapshot`; the format is in docs/snapshot-format.md.\n");
    let i = &org.instance;
    let _ = writeln!(o, "instance:\n  url: {}", scalar(&i.url));
    if let Some(r) = &i.registry {
        let _ = writeln!(o, "  registry: {}", scalar(r));
    }
    let _ = writeln!(o, "  tier: {}\n  enforce_allowlist: {}", i.tier.as_str(), i.enforce_allowlist);
    if let Some(v) = &i.version {
        let _ = writeln!(o, "  version: {}", scalar(v));
    }
    o.push_str("projects:\n");
    for (path, p) in &org.projects {
        let _ = writeln!(o, "  {}:", scalar(path));
        if let Some(id) = p.id {
            let _ = writeln!(o, "    id: {id}");
        }
        let _ = writeln!(o, "    visibility: {}", p.visibility.as_str());
        if p.archived {
            o.push_str("    archived: true\n");
        }
        if p.critical {
            o.push_str("    critical: true\n");
        }
        if p.ci_config_path != DEFAULT_CI_CONFIG_PATH {
            let _ = writeln!(o, "    ci_config_path: {}", scalar(&p.ci_config_path));
        }
        if p.default_branch != DEFAULT_BRANCH {
            let _ = writeln!(o, "    default_branch: {}", scalar(&p.default_branch));
        }
        if let Some(t) = &p.last_activity_at {
            let _ = writeln!(o, "    last_activity_at: {}", scalar(t));
        }
        // Settings that could not be read are not written as defaults: `skipped` says why they are absent.
        if p.knows(Data::JobToken) {
            let jt = &p.job_token;
            let _ = writeln!(o, "    job_token:\n      inbound_enabled: {}", jt.inbound_enabled);
            if let Some((out, _)) = jt.outbound_enabled {
                let _ = writeln!(o, "      outbound_enabled: {out}");
            }
            if !jt.allowlist.is_empty() {
                o.push_str("      allowlist:\n");
            }
            // Sorted, whatever order the server listed them in: an entry removed and added back (a
            // rollback) writes the same manifest.
            let mut entries: Vec<&crate::snapshot::AllowEntry> = jt.allowlist.iter().collect();
            entries.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
            for e in entries {
                let kind = match e.kind {
                    EntryKind::Project => "project",
                    EntryKind::Group => "group",
                };
                let _ = writeln!(o, "        - {kind}: {}", scalar(&e.path));
                if let Some(perms) = &e.permissions {
                    let list: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
                    let _ = writeln!(o, "          permissions: [{}]", list.join(", "));
                }
                for (key, value) in [("owner", &e.meta.owner), ("reason", &e.meta.reason)] {
                    if let Some(v) = value {
                        let _ = writeln!(o, "          {key}: {}", scalar(v));
                    }
                }
                if let Some((date, _)) = &e.meta.expires {
                    let _ = writeln!(o, "          expires: {}", scalar(date));
                }
            }
        }
        if !p.skipped.is_empty() {
            o.push_str("    skipped:\n");
        }
        for s in &p.skipped {
            let _ = writeln!(o, "      - data: {}\n        reason: {}", s.data.as_str(), scalar(&s.reason));
            if s.failed {
                o.push_str("        failed: true\n");
            }
        }
    }
    if !org.auth_log.is_empty() {
        o.push_str("auth_log:\n");
    }
    for r in &org.auth_log {
        let _ = writeln!(o, "  - accessed: {}\n    origin: {}", scalar(&r.accessed), scalar(&r.origin));
        if let Some(t) = &r.last_authorized_at {
            let _ = writeln!(o, "    last_authorized_at: {}", scalar(t));
        }
    }
    o
}

/// A snapshot directory being written.
pub(crate) struct Writer {
    root: PathBuf,
    /// Projects whose repository directory was made (the manifest is written once per collection round).
    made: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Writer {
    /// Start writing at `dir`, which must not exist or be an empty directory.
    pub(crate) fn create(dir: &Path) -> Result<Writer, String> {
        match std::fs::read_dir(dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(format!(
                        "{} exists and is not empty; choose a new directory (nothing in it is overwritten)",
                        dir.display()
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?
            }
            Err(e) => return Err(format!("cannot open {}: {e}", dir.display())),
        }
        let root = dir.canonicalize().map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        Ok(Writer { root, made: Default::default() })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Write the manifest, and a repository directory for each project whose repository is read (even
    /// empty: a project with no CI file has one, and a project without one is unknown to an audit).
    pub(crate) fn manifest(&self, org: &OrgData) -> Result<(), String> {
        self.write(&self.root.join(MANIFEST_NAME), render_manifest(org).as_bytes())?;
        let mut made = self.made.lock().expect("made directories");
        for (path, p) in &org.projects {
            let read = !p.skipped.iter().any(|s| s.data == crate::snapshot::manifest::Data::Repository);
            if read && valid_full_path(path) && made.insert(path.clone()) {
                // Best effort: a directory that cannot be made leaves the project unknown, which is safe.
                let _ = std::fs::create_dir_all(self.root.join("repos").join(path));
            }
        }
        Ok(())
    }

    /// Write a repository file at `repos/<project>/<path>`.
    pub(crate) fn repo_file(&self, project: &str, path: &str, bytes: &[u8]) -> Result<(), String> {
        let norm = self.checked(project, path)?;
        self.write(&self.root.join("repos").join(project).join(norm), bytes)
    }

    /// Write the listing of a repository at `trees/<project>.tree`.
    pub(crate) fn tree(&self, project: &str, paths: &[String]) -> Result<(), String> {
        if !valid_full_path(project) {
            return Err(format!("`{project}` is not a valid project path"));
        }
        let mut text = String::new();
        for p in paths.iter().filter_map(|p| normalize_repo_path(p).ok()) {
            if !p.contains(['\n', '\r']) {
                text.push_str(&p);
                text.push('\n');
            }
        }
        self.write(&self.root.join(TREES_DIR).join(format!("{project}.tree")), text.as_bytes())
    }

    fn checked(&self, project: &str, path: &str) -> Result<String, String> {
        if !valid_full_path(project) {
            return Err(format!("`{project}` is not a valid project path"));
        }
        let norm = normalize_repo_path(path)?;
        if norm.contains(['\n', '\r', '\\']) {
            return Err(format!("`{path}` is not a path tokenscope writes"));
        }
        Ok(norm)
    }

    fn write(&self, target: &Path, bytes: &[u8]) -> Result<(), String> {
        let parent = target.parent().expect("a file under the root");
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        // The directories were made here, under a root that was empty: a link cannot lead out, but check.
        let real = parent.canonicalize().map_err(|e| format!("cannot open {}: {e}", parent.display()))?;
        if !real.starts_with(&self.root) {
            return Err(format!("{} leads outside the snapshot; not written", target.display()));
        }
        std::fs::write(target, bytes).map_err(|e| format!("cannot write {}: {e}", target.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use std::sync::Arc;

    #[test]
    fn scalars_read_back() {
        for s in ["acme/api", "true", "123", "", "a: b", "#x", "it's \"q\"\n", "- x", "Yes", "main"] {
            let text = format!("k: {}\n", scalar(s));
            let sources = SourceMap::new();
            let id = sources.add(crate::source::SourceFile::new("t".into(), None, None, Arc::from(text.as_str())));
            let parsed = crate::yaml::parse(&sources, id).unwrap();
            let v = parsed.docs[0].get("k").unwrap();
            assert_eq!(v.as_str(), Some(s), "{text}");
        }
    }

    #[test]
    fn manifest_reads_back() {
        let mut projects = BTreeMap::new();
        use crate::snapshot::manifest::{AllowEntry, JobTokenSettings, Permission, Tier, Visibility};
        use crate::source::Span;
        let mut p = Project {
            id: Some(7),
            visibility: Visibility::Internal,
            archived: true,
            ci_config_path: "ci/main.yml@acme/templates".into(),
            default_branch: "trunk".into(),
            job_token: JobTokenSettings {
                inbound_enabled: false,
                outbound_enabled: Some((true, Span::default())),
                allowlist: vec![
                    AllowEntry {
                        kind: EntryKind::Project,
                        path: "acme/api".into(),
                        permissions: None,
                        span: Span::default(),
                        meta: Default::default(),
                    },
                    AllowEntry {
                        kind: EntryKind::Group,
                        path: "acme/tools".into(),
                        permissions: Some(vec![Permission::ReadJobs]),
                        span: Span::default(),
                        meta: Default::default(),
                    },
                ],
            },
            ..Project::new("acme/web", Span::default())
        };
        p.skip(Data::AuthLog, "GraphQL: field `ciJobTokenAuthLogs` doesn't exist", false);
        projects.insert("acme/web".to_string(), p);
        let org = OrgData {
            instance: Instance {
                url: "https://gitlab.example.com".into(),
                host: "gitlab.example.com".into(),
                registry: Some("registry.example.com".into()),
                tier: Tier::Premium,
                enforce_allowlist: false,
                version: Some("17.9.1-ee".into()),
            },
            projects,
            auth_log: vec![AuthLogEntry {
                accessed: "acme/web".into(),
                origin: "acme/api".into(),
                last_authorized_at: None,
                span: Span::default(),
            }],
        };
        let text = render_manifest(&org);
        let sources = SourceMap::new();
        let id = sources.add(crate::source::SourceFile::new("m".into(), None, None, Arc::from(text.as_str())));
        let parsed = crate::yaml::parse(&sources, id).unwrap();
        let mut errors = Vec::new();
        let m = crate::snapshot::manifest::read(&parsed.docs[0], &mut errors).expect("reads back");
        assert!(errors.is_empty());
        let p = &m.projects["acme/web"];
        assert_eq!((p.id, p.archived, p.default_branch.as_str()), (Some(7), true, "trunk"));
        assert_eq!(p.job_token.allowlist.len(), 2);
        assert_eq!(p.job_token.allowlist[1].permissions.as_deref(), Some(&[Permission::ReadJobs][..]));
        assert!(!p.knows(Data::AuthLog) && p.knows(Data::JobToken));
        assert_eq!(m.instance.version.as_deref(), Some("17.9.1-ee"));
        assert_eq!(m.auth_log.len(), 1);
    }
}
