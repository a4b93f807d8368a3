//! A snapshot: a directory with `tokenscope.yaml` and the repositories' files.
//!
//! All file access for an audit goes through [`Snapshot`], which guarantees that nothing outside the
//! snapshot directory is ever read (no `..`, no absolute paths, no symbolic links leading out), that
//! no file larger than [`MAX_FILE_BYTES`] is read, and that each file is read once.

pub mod manifest;
pub(crate) mod write;

use crate::diag::Diagnostic;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::yaml;
pub(crate) use manifest::{AllowEntry, EntryKind, Manifest, Project, Tier};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub(crate) const MANIFEST_NAME: &str = "tokenscope.yaml";
/// Directory of repository listings: `trees/<project>.tree` lists every file path of the repository, one
/// per line, so that globs and `exists:` see files the snapshot did not copy.
pub(crate) const TREES_DIR: &str = "trees";
/// Files larger than this are not read (GitLab's own CI size limits are far below it).
pub(crate) const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The manifest's own bound: it is not a CI file, and an org of 100,000 projects with its authentication
/// log writes tens of MiB of it.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 512 * 1024 * 1024;
/// At most this many entries are listed in one repository (for `include: local` globs).
const MAX_LISTED_FILES: usize = 100_000;

pub(crate) use gitlab_ci::RepoFile;

pub struct Snapshot {
    /// Canonical path of the snapshot directory.
    pub(crate) root: PathBuf,
    /// The path the user gave, used to show file paths.
    pub(crate) manifest: Manifest,
    pub(crate) manifest_file: FileId,
    pub(crate) sources: Arc<SourceMap>,
    files: Mutex<HashMap<(String, String), RepoFile>>,
    listings: Mutex<HashMap<String, Arc<Vec<String>>>>,
    /// Projects whose repository is a directory of its own (a checkout, for `lint`), canonical.
    repo_overrides: HashMap<String, PathBuf>,
    /// The instance as CI resolution sees it.
    ci_instance: gitlab_ci::Instance,
    /// Real paths of every file read: the input that output must never overwrite (looked up only when an
    /// output file is about to be written, so a list).
    read_paths: Mutex<Vec<PathBuf>>,
    /// Real paths of the directories already resolved, by their path inside the snapshot: opening a file
    /// safely then costs one `lstat` per directory not seen before, instead of a `readlink` per component
    /// of its path.
    real_dirs: Mutex<HashMap<std::ffi::OsString, PathBuf>>,
    /// The snapshot directory, opened once, for [`open_beneath`].
    root_dir: std::sync::OnceLock<Option<std::fs::File>>,
}

/// Read a file as text, with the checks every input gets: size, NUL bytes, UTF-8.
/// On a content error the file is still registered so the error can point at its line and column.
pub(crate) fn read_source(
    sources: &SourceMap,
    path: &Path,
    display: String,
    project: Option<&str>,
    repo_path: Option<&str>,
) -> Result<FileId, Diagnostic> {
    let cannot = |e: std::io::Error| Diagnostic::error(format!("cannot read: {e}")).in_file(&display);
    let file = open_for_reading(path).map_err(cannot)?;
    read_open(sources, file, display, project, repo_path, MAX_FILE_BYTES)
}

/// The manifest, which must be inside `root` (a canonical directory): a symbolic link leading out is refused,
/// and nothing of what it leads to is read or shown.
pub(crate) fn read_confined(
    sources: &SourceMap,
    root: &Path,
    path: &Path,
    display: String,
) -> Result<FileId, Diagnostic> {
    let real = confined(root, path, &display)?;
    read_manifest(sources, &real, display)
}

/// [`read_source`] with the manifest's own bound ([`MAX_MANIFEST_BYTES`]).
pub(crate) fn read_manifest(sources: &SourceMap, path: &Path, display: String) -> Result<FileId, Diagnostic> {
    let file = open_for_reading(path).map_err(|e| Diagnostic::error(format!("cannot read: {e}")).in_file(&display))?;
    read_open(sources, file, display, None, None, MAX_MANIFEST_BYTES)
}

/// The real path of `path`, when it is inside `root` (a canonical directory).
pub(crate) fn confined(root: &Path, path: &Path, display: &str) -> Result<PathBuf, Diagnostic> {
    let real = path.canonicalize().map_err(|e| Diagnostic::error(format!("cannot read: {e}")).in_file(display))?;
    if !real.starts_with(root) {
        return Err(Diagnostic::error("a symbolic link that leads outside the snapshot; not read").in_file(display));
    }
    Ok(real)
}

/// Where writing `target` would really write: its directory resolved, and a final symbolic link (even one
/// whose target does not exist yet) followed, a few levels deep. `None` when the directory cannot be
/// resolved (the write would fail anyway).
pub(crate) fn final_target(target: &Path) -> Option<PathBuf> {
    let mut path = target.to_path_buf();
    for _ in 0..40 {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let resolved = parent.canonicalize().ok()?.join(path.file_name()?);
        match std::fs::read_link(&resolved) {
            Ok(link) => path = if link.is_absolute() { link } else { resolved.parent()?.join(link) },
            Err(_) => return Some(resolved),
        }
    }
    None // a loop of links: nothing can be written there
}

/// Write `bytes` at `real`, a path [`final_target`] resolved and the input check was made on, without following
/// a symbolic link put there since: what is written is what was checked.
pub(crate) fn write_output(real: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(real)?.write_all(bytes)
}

/// Open a file for reading without blocking: a named pipe would otherwise wait for a writer (and is then
/// refused, as it is not a regular file).
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// [`open_for_reading`], except that a symbolic link is not followed: `None` when `path` is one.
fn open_unless_link(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let opened =
            std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW).open(path);
        match opened {
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Ok(None), // what `O_NOFOLLOW` answers for a link
            other => other.map(Some),
        }
    }
    #[cfg(not(unix))]
    {
        if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Ok(None);
        }
        open_for_reading(path).map(Some)
    }
}

/// [`read_source`] of an opened file.
fn read_open(
    sources: &SourceMap,
    file: std::fs::File,
    display: String,
    project: Option<&str>,
    repo_path: Option<&str>,
    limit: u64,
) -> Result<FileId, Diagnostic> {
    use std::io::Read;
    let cannot = |e: std::io::Error| Diagnostic::error(format!("cannot read: {e}")).in_file(&display);
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(Diagnostic::error("not a regular file").in_file(&display));
    }
    if meta.len() > limit {
        return Err(Diagnostic::error(format!(
            "file is {} bytes, larger than the {} MiB limit; not read",
            meta.len(),
            limit / 1024 / 1024
        ))
        .in_file(&display));
    }
    // At most one byte past the limit, however much the file grew since it was measured.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(Diagnostic::error("file grew past the size limit while being read").in_file(&display));
    }
    let (text, bad) = match String::from_utf8(bytes) {
        Ok(t) => {
            let nul = t.find('\0');
            (t, nul.map(|at| (at, "the file contains a NUL byte; it is not a text file")))
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let t = String::from_utf8_lossy(e.as_bytes()).into_owned();
            (t, Some((at, "the file is not valid UTF-8")))
        }
    };
    let id = sources.add(SourceFile::new(
        display,
        project.map(str::to_string),
        repo_path.map(str::to_string),
        Arc::from(text),
    ));
    match bad {
        None => Ok(id),
        Some((at, msg)) => Err(Diagnostic::error(msg).at(sources.span(id, at as u32, at as u32 + 1))),
    }
}

/// A directory opened to look files up in (not to read it), when it can be.
fn open_directory(path: &Path) -> Option<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH | libc::O_DIRECTORY).open(path).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// Open `rel` (plain components) below `dir` for reading, in one system call that refuses a symbolic link
/// anywhere on the way (Linux's `openat2` with `RESOLVE_NO_SYMLINKS`, and `RESOLVE_BENEATH` besides): what
/// it opens is `dir` joined with `rel`, nothing else. Without blocking, as [`open_for_reading`].
/// `None` where this cannot answer (another system, or a kernel or sandbox without `openat2`); an error
/// (`ELOOP` for a link) leaves the decision to the general path.
fn open_beneath(dir: &std::fs::File, rel: &Path) -> Option<std::io::Result<std::fs::File>> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::io::{AsRawFd, FromRawFd};
        /// The kernel's `struct open_how` (libc's is marked non-exhaustive, so it cannot be built).
        #[repr(C)]
        struct OpenHow {
            flags: u64,
            mode: u64,
            resolve: u64,
        }
        let name = std::ffi::CString::new(rel.as_os_str().as_bytes()).ok()?;
        let how = OpenHow {
            flags: (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64,
            mode: 0,
            resolve: libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_BENEATH,
        };
        // SAFETY: `name` is a NUL-terminated string and `how` an `open_how` of the size passed, both alive for
        // the call; a non-negative result is a new file descriptor that nothing else owns.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                name.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG) => None,
                _ => Some(Err(e)),
            };
        }
        // SAFETY: see above; the descriptor is handed to the `File`, which closes it.
        Some(Ok(unsafe { std::fs::File::from_raw_fd(fd as i32) }))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, rel);
        None
    }
}

/// `path`'s parent and name when `path` is `boundary` joined with one or more plain components.
fn plain_parts<'p>(boundary: &Path, path: &'p Path) -> Option<(&'p Path, &'p std::ffi::OsStr)> {
    let rest = path.strip_prefix(boundary).ok()?;
    let plain = rest.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    (plain && !rest.as_os_str().is_empty()).then_some((path.parent()?, path.file_name()?))
}

pub(crate) use gitlab_ci::paths::normalize_repo_path;

impl Snapshot {
    /// Load the manifest of the snapshot at `dir`. Errors are manifest errors: nothing can be audited.
    pub fn load(dir: &Path, sources: Arc<SourceMap>) -> Result<Snapshot, Vec<Diagnostic>> {
        let root = dir.canonicalize().map_err(|e| {
            vec![Diagnostic::error(format!("cannot open snapshot directory: {e}")).in_file(dir.display().to_string())]
        })?;
        let manifest_path = root.join(MANIFEST_NAME);
        if !manifest_path.exists() {
            return Err(vec![
                Diagnostic::error(format!("no {MANIFEST_NAME} in the snapshot directory"))
                    .in_file(dir.display().to_string())
                    .help("a snapshot is a directory with a tokenscope.yaml manifest; see docs/snapshot-format.md"),
            ]);
        }
        let manifest_file =
            read_confined(&sources, &root, &manifest_path, MANIFEST_NAME.to_string()).map_err(|d| vec![d])?;
        let snap = Snapshot::from_manifest(root, manifest_file, sources)?;
        snap.add_input(&manifest_path);
        Ok(snap)
    }

    /// A snapshot whose manifest is an already registered file (a manifest kept elsewhere, or one made
    /// from command-line options), with `root` as the directory its repositories are under.
    pub(crate) fn from_manifest(
        root: PathBuf,
        manifest_file: FileId,
        sources: Arc<SourceMap>,
    ) -> Result<Snapshot, Vec<Diagnostic>> {
        let parsed = yaml::parse(&sources, manifest_file).map_err(|e| vec![Diagnostic::error(e.message).at(e.span)])?;
        let mut errors = Vec::new();
        for d in &parsed.duplicate_keys {
            errors.push(
                Diagnostic::error(format!(
                    "`{}` is defined twice; the first definition would be silently ignored",
                    d.key
                ))
                .at(d.second)
                .help(format!("first defined at line {}", d.first.line)),
            );
        }
        let doc = match parsed.docs.as_slice() {
            [doc] => doc,
            [] => {
                let span = sources.span(manifest_file, 0, 0);
                return Err(vec![Diagnostic::error("the manifest is empty").at(span)]);
            }
            [_, second, ..] => {
                return Err(vec![Diagnostic::error("the manifest must be a single YAML document").at(second.span)]);
            }
        };
        let manifest = manifest::read(doc, &mut errors);
        match manifest {
            Some(manifest) if errors.is_empty() => Ok(Snapshot {
                ci_instance: gitlab_ci::Instance {
                    url: manifest.instance.url.clone(),
                    host: manifest.instance.host.clone(),
                    registry: manifest.instance.registry.clone(),
                },
                root,
                manifest,
                manifest_file,
                sources,
                files: Mutex::new(HashMap::new()),
                listings: Mutex::new(HashMap::new()),
                repo_overrides: HashMap::new(),
                read_paths: Mutex::new(Vec::new()),
                real_dirs: Mutex::new(HashMap::new()),
                root_dir: std::sync::OnceLock::new(),
            }),
            _ => Err(errors),
        }
    }

    /// A lint's snapshot (a checkout stands for a project's repository): it holds only the projects the lint
    /// read, so a project of this instance that it does not hold has unknown settings, not none.
    pub(crate) fn is_lint(&self) -> bool {
        !self.repo_overrides.is_empty()
    }

    fn repo_dir(&self, project: &str) -> PathBuf {
        match self.repo_overrides.get(project) {
            Some(dir) => dir.clone(),
            None => self.root.join(&self.manifest.repos_root).join(project),
        }
    }

    /// Record a file read outside the repositories (the manifest, a policy) as input.
    pub(crate) fn add_input(&self, path: &Path) {
        if let Ok(real) = path.canonicalize() {
            self.read_paths.lock().expect("read paths").push(real);
        }
    }

    /// Whether writing at `real` (a path [`final_target`] resolved) would overwrite input: a file tokenscope
    /// read, or a path inside the snapshot directory (a checkout being linted is not protected as a whole:
    /// reports are written into it).
    pub(crate) fn protects(&self, real: &Path) -> bool {
        if self.read_paths.lock().expect("read paths").iter().any(|p| p == real) {
            return true;
        }
        let root_is_checkout = self.repo_overrides.values().any(|d| *d == self.root);
        !root_is_checkout && real.starts_with(&self.root)
    }
    /// Read `project`'s repository from `dir` (a checkout) instead of the snapshot. Files are then confined
    /// to `dir`, as others are to the snapshot. The project is added to the manifest if it is not there.
    pub(crate) fn set_repository(&mut self, project: &str, dir: &Path) -> std::io::Result<()> {
        self.repo_overrides.insert(project.to_string(), dir.canonicalize()?);
        let span = self.sources.span(self.manifest_file, 0, 0);
        self.manifest.ensure_project(project, span);
        Ok(())
    }

    /// Whether the snapshot holds `project`'s repository: its directory under `repos_root` (even empty:
    /// a repository without a CI file), a listing under `trees/`, or a checkout read in place. A project
    /// whose repository is not there is unknown, never "no CI".
    pub(crate) fn has_repository(&self, project: &str) -> bool {
        if self.repo_overrides.contains_key(project) {
            return true;
        }
        if !manifest::valid_full_path(project) {
            return false;
        }
        std::fs::symlink_metadata(self.repo_dir(project)).is_ok_and(|m| m.is_dir() || m.file_type().is_symlink())
            || self.tree_path(project).is_file()
    }

    /// The path of a repository file as shown to users: relative to the snapshot root.
    pub(crate) fn display_path(&self, project: &str, path: &str) -> String {
        if self.repo_overrides.contains_key(project) {
            return path.to_string(); // a checkout: paths as the user sees them in it
        }
        format!("{}/{}/{}", self.manifest.repos_root, project, path)
    }

    /// Read a file from a project's repository (once; later calls return the same result).
    pub(crate) fn repo_file(&self, project: &str, path: &str) -> RepoFile {
        if !manifest::valid_full_path(project) {
            return RepoFile::Failed(Diagnostic::error(format!("`{project}` is not a valid project path; not read")));
        }
        let norm = match normalize_repo_path(path) {
            Ok(n) => n,
            Err(e) => return RepoFile::Failed(Diagnostic::error(format!("{e}; not read"))),
        };
        let key = (project.to_string(), norm.clone());
        if let Some(hit) = self.files.lock().expect("file cache").get(&key) {
            return hit.clone();
        }
        let result = self.read_uncached(project, &norm);
        self.files.lock().expect("file cache").insert(key, result.clone());
        result
    }

    fn read_uncached(&self, project: &str, norm: &str) -> RepoFile {
        let display = self.display_path(project, norm);
        let boundary = self.repo_overrides.get(project).unwrap_or(&self.root);
        let full = self.repo_dir(project).join(norm);
        let (real, file) = match self.open_inside(boundary, &full) {
            Ok(Some(opened)) => opened,
            Ok(None) => {
                return RepoFile::Failed(
                    Diagnostic::error("the path leads outside the snapshot (a symbolic link?); not read")
                        .in_file(display),
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return RepoFile::Missing(display);
            }
            Err(e) => {
                return RepoFile::Failed(Diagnostic::error(format!("cannot read: {e}")).in_file(display));
            }
        };
        let read = read_open(&self.sources, file, display, Some(project), Some(norm), MAX_FILE_BYTES);
        self.read_paths.lock().expect("read paths").push(real);
        match read {
            Ok(id) => RepoFile::Found(id),
            Err(d) => RepoFile::Failed(d),
        }
    }

    /// Open `path`, which is `boundary` (a canonical directory) joined with plain components, with its real
    /// path; `None` when that real path is outside `boundary`. Under the snapshot directory, a path without
    /// symbolic links is opened with one [`open_beneath`]. Otherwise a directory's real path is its parent's
    /// joined with its name unless it is a symbolic link, which alone is resolved by the system;
    /// directories are resolved once, so a file costs one `open` as it would anyway. Anything else is left
    /// to `canonicalize`.
    fn open_inside(&self, boundary: &Path, path: &Path) -> std::io::Result<Option<(PathBuf, std::fs::File)>> {
        let parts = plain_parts(boundary, path);
        if *boundary == self.root
            && parts.is_some()
            && let Ok(rel) = path.strip_prefix(boundary)
            && let Some(dir) = self.root_dir.get_or_init(|| open_directory(boundary)).as_ref()
        {
            match open_beneath(dir, rel) {
                Some(Ok(file)) => return Ok(Some((path.to_path_buf(), file))),
                Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Err(e),
                _ => {} // a link on the way, another error, or no `openat2`: the general path decides
            }
        }
        let real = match parts {
            Some((parent, name)) => {
                let candidate = self.real_dir(boundary, parent)?.join(name);
                if !candidate.starts_with(boundary) {
                    return Ok(None);
                }
                match open_unless_link(&candidate)? {
                    Some(file) => return Ok(Some((candidate, file))),
                    None => candidate.canonicalize()?, // a symbolic link
                }
            }
            None => path.canonicalize()?,
        };
        if !real.starts_with(boundary) {
            return Ok(None);
        }
        let file = open_for_reading(&real)?;
        Ok(Some((real, file)))
    }

    /// The real path of a directory `boundary` joined with plain components, remembered.
    fn real_dir(&self, boundary: &Path, dir: &Path) -> std::io::Result<PathBuf> {
        if dir == boundary {
            return Ok(boundary.to_path_buf());
        }
        if let Some(hit) = self.real_dirs.lock().expect("real dirs").get(dir.as_os_str()) {
            return Ok(hit.clone());
        }
        let real = match plain_parts(boundary, dir) {
            Some((parent, name)) => {
                let real_parent = self.real_dir(boundary, parent)?;
                let candidate = real_parent.join(name);
                // Below a link that leads out, nothing is looked at: the file will be refused.
                if !real_parent.starts_with(boundary) {
                    return Ok(candidate);
                }
                if std::fs::symlink_metadata(&candidate)?.file_type().is_symlink() {
                    candidate.canonicalize()?
                } else {
                    candidate
                }
            }
            None => dir.canonicalize()?,
        };
        self.real_dirs.lock().expect("real dirs").insert(dir.as_os_str().to_owned(), real.clone());
        Ok(real)
    }

    fn tree_path(&self, project: &str) -> PathBuf {
        self.root.join(TREES_DIR).join(format!("{project}.tree"))
    }

    /// The paths `trees/<project>.tree` lists, when the snapshot has one (a live snapshot writes it for the
    /// repositories whose listing the audit needs). Read with the checks every input gets.
    fn tree_listing(&self, project: &str) -> Vec<String> {
        if self.repo_overrides.contains_key(project) {
            return Vec::new();
        }
        let Ok(real) = self.tree_path(project).canonicalize() else { return Vec::new() };
        if !real.starts_with(&self.root) {
            return Vec::new();
        }
        let display = format!("{TREES_DIR}/{project}.tree");
        let Ok(id) = read_source(&self.sources, &real, display, None, None) else { return Vec::new() };
        self.read_paths.lock().expect("read paths").push(real);
        let file = self.sources.get(id);
        file.text
            .lines()
            .filter_map(|l| normalize_repo_path(l.trim_end_matches('\r')).ok())
            .take(MAX_LISTED_FILES)
            .collect()
    }

    /// What the run asked for and the snapshot does not have: repository files that were missing, and the
    /// projects whose repository was listed without a `trees/` listing. A live snapshot fetches them. A
    /// checkout read in place (`set_repository`) is complete: nothing of it is a miss.
    pub(crate) fn misses(&self) -> (Vec<(String, String)>, Vec<String>) {
        let mut files: Vec<(String, String)> = self
            .files
            .lock()
            .expect("file cache")
            .iter()
            .filter(|(_, r)| matches!(r, RepoFile::Missing(_)))
            .filter(|((project, _), _)| !self.repo_overrides.contains_key(project))
            .map(|(k, _)| k.clone())
            .collect();
        files.sort();
        let mut listed: Vec<String> = self
            .listings
            .lock()
            .expect("listing cache")
            .keys()
            .filter(|p| !self.repo_overrides.contains_key(*p))
            .filter(|p| !self.tree_path(p).is_file())
            .cloned()
            .collect();
        listed.sort();
        (files, listed)
    }

    /// Every file path in a project's repository (for `include: local` globs). Symbolic links are not followed.
    pub(crate) fn list_repo(&self, project: &str) -> Arc<Vec<String>> {
        if let Some(hit) = self.listings.lock().expect("listing cache").get(project) {
            return hit.clone();
        }
        let mut out = Vec::new();
        // A repository directory that is (or lies under) a symbolic link leading out of the snapshot is not
        // walked: nothing outside is even listed.
        let boundary = self.repo_overrides.get(project).unwrap_or(&self.root).clone();
        let valid = manifest::valid_full_path(project);
        let inside =
            valid && self.real_dir(&boundary, &self.repo_dir(project)).is_ok_and(|real| real.starts_with(&boundary));
        if inside {
            let base = self.repo_dir(project);
            let mut stack = vec![base.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in rd.flatten() {
                    if out.len() >= MAX_LISTED_FILES {
                        break;
                    }
                    let Ok(ft) = entry.file_type() else { continue };
                    let p = entry.path();
                    if ft.is_dir() {
                        stack.push(p);
                    } else if ft.is_file()
                        && let Ok(rel) = p.strip_prefix(&base)
                    {
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
        }
        if valid {
            out.extend(self.tree_listing(project));
        }
        out.sort();
        out.dedup();
        let out = Arc::new(out);
        self.listings.lock().expect("listing cache").insert(project.to_string(), out.clone());
        out
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{open_beneath, open_directory};
    use std::io::ErrorKind;
    use std::path::Path;

    #[test]
    fn opening_beneath_refuses_every_link() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("repos/g/p/ci")).unwrap();
        std::fs::write(root.join("repos/g/p/ci/a.yml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink("ci", root.join("repos/g/p/dir-link")).unwrap();
        std::os::unix::fs::symlink("a.yml", root.join("repos/g/p/ci/file-link.yml")).unwrap();
        let dir = open_directory(root).expect("a directory");
        let open = |rel: &str| open_beneath(&dir, Path::new(rel));
        let Some(plain) = open("repos/g/p/ci/a.yml") else {
            eprintln!("openat2 is not available here: the general path opens every file");
            return;
        };
        assert_eq!(std::io::read_to_string(plain.unwrap()).unwrap(), "a: 1\n");
        assert_eq!(open("repos/g/p/ci/missing.yml").unwrap().unwrap_err().kind(), ErrorKind::NotFound);
        // A link on the way or at the end is not followed: the general path decides about it.
        for linked in ["repos/g/p/dir-link/a.yml", "repos/g/p/ci/file-link.yml"] {
            let e = open(linked).unwrap().unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{linked}");
        }
    }
}

/// CI resolution reads the snapshot's repositories.
impl gitlab_ci::Repositories for Snapshot {
    fn sources(&self) -> &SourceMap {
        &self.sources
    }

    fn file(&self, project: &str, path: &str) -> RepoFile {
        self.repo_file(project, path)
    }

    fn list(&self, project: &str) -> Arc<Vec<String>> {
        self.list_repo(project)
    }

    fn has_project(&self, project: &str) -> bool {
        self.manifest.projects.contains_key(project)
    }

    fn display_path(&self, project: &str, path: &str) -> String {
        Snapshot::display_path(self, project, path)
    }

    fn instance(&self) -> &gitlab_ci::Instance {
        &self.ci_instance
    }
}
