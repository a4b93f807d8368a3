//! Following what a job runs, so that detectors see the commands a job really executes.
//!
//! A job's script is rarely all in the YAML: it runs repository scripts (`./ci/fetch.sh`, `bash x.sh`,
//! `sh -c '…'`, `source env.sh`, `. env.sh`) and defines shell functions. [`Follower`] walks the job's
//! commands in execution order and puts in place of each call the commands it runs:
//!
//! - a repository script is read through the snapshot (so live mode fetches it like any other file it
//!   lacks), split into commands located at the script's own file and line, with `$1`… `$@` bound to the
//!   call's words, and followed in turn, to [`MAX_DEPTH`] levels;
//! - a shell function counts only where it is called, with its arguments bound the same way;
//! - `sh -c STRING` runs STRING;
//! - shell assignments (`X=…`, `export X=…`) are applied in order, so a later call's path is expanded
//!   with them; `X=$(…)` makes `X` unknown (its value is computed at run time).
//!
//! What cannot be followed is recorded as [`Unseen`]: a script the snapshot does not hold, a script in a
//! language tokenscope does not read (Python, Node, Ruby, …) that names the job token, the budget running
//! out. The job's project is then *partially seen*, and rules that would conclude "not used" say so.
//!
//! Cost: each script file is split once per job and inlined at most once per distinct argument list;
//! [`MAX_FOLLOWED_COMMANDS`] bounds the commands one job can produce, whatever the nesting.

use super::script::{Command, Data, Prefilter, TOKEN_ALIASES, env_reads, is_assignment, refs_any, split_entry};
use crate::ci::jobs::Line;
use crate::ci::vars::{Var, VarOrigin, Vars};
use crate::snapshot::RepoFile;
use crate::source::{SourceMap, Span};
use std::collections::{HashMap, HashSet};

/// Nested script calls followed at most (a script that runs a script that runs a script…).
pub(crate) const MAX_DEPTH: usize = 5;
/// Commands one job may produce once scripts and functions are inlined; past it the rest is unseen.
pub(crate) const MAX_FOLLOWED_COMMANDS: usize = 50_000;
/// Commands one job may look at (copied into a call, defined, run), whatever the nesting: bounds the work
/// of bodies copied into many calls even when they run nothing.
pub(crate) const MAX_FOLLOW_WORK: usize = 4 * MAX_FOLLOWED_COMMANDS;

/// Something a job runs that tokenscope could not look into: any job-token access it makes is unseen.
#[derive(Clone, Debug)]
pub(crate) struct Unseen {
    /// Where the call is written.
    pub(crate) span: Span,
    /// Why it could not be followed, in words ("runs `ci/fetch.sh`, which the snapshot does not hold").
    pub(crate) why: String,
}

/// Variables naming where a token alias logs in, with the alias: pointed elsewhere, the alias is not the
/// job token.
const ELSEWHERE: &[(&str, &str)] =
    &[("CI_REGISTRY", "CI_REGISTRY_PASSWORD"), ("CI_DEPENDENCY_PROXY_SERVER", "CI_DEPENDENCY_PROXY_PASSWORD")];

/// Shells whose script argument is followed.
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"];
/// Interpreters of languages tokenscope does not read: their scripts are checked for the token only.
const INTERPRETERS: &[&str] = &[
    "python",
    "python3",
    "python2",
    "node",
    "nodejs",
    "ruby",
    "perl",
    "php",
    "pwsh",
    "powershell",
    "deno",
    "bun",
    "groovy",
    "lua",
    "Rscript",
];
/// Extensions of shell scripts.
const SHELL_EXTENSIONS: &[&str] = &[".sh", ".bash", ".ksh", ".zsh"];
/// Extensions of scripts in other languages.
const OTHER_EXTENSIONS: &[&str] =
    &[".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".php", ".ps1", ".groovy", ".lua"];

/// How a command runs a file.
enum Call {
    /// A shell script: followed. `sourced`: `source` / `.` (assignments stay in the job's shell).
    Shell { path: String, args: Vec<String>, explicit: bool },
    /// `sh -c STRING`: STRING is run.
    Inline { text: String },
    /// A script in another language: not followed.
    Other { path: String, language: String },
}

/// The variables whose value is the job token in a job's environment, before its scripts run: the token's
/// aliases, less those pointed elsewhere or redefined, plus CI/CD variables whose value is the token.
pub(crate) fn token_vars(vars: &Vars) -> HashSet<String> {
    let mut token_vars: HashSet<String> = TOKEN_ALIASES.iter().map(|s| s.to_string()).collect();
    // A job that points the registry (or the dependency proxy) elsewhere logs in there with other
    // credentials, set where tokenscope cannot see them: the password variable is not the job token.
    for (host, password) in ELSEWHERE {
        if vars.get(host).is_some_and(|v| v.origin != VarOrigin::Predefined) {
            token_vars.remove(*password);
        }
    }
    // CI/CD variables whose value is the job token (`API_TOKEN: $CI_JOB_TOKEN`); an alias redefined
    // to something else is not the token any more (`CI_JOB_TOKEN` itself stays: overriding it is a
    // lint of its own, and its accesses are still shown).
    for v in vars.defined() {
        if refs_any(&v.value, &token_vars) {
            token_vars.insert(v.name.clone());
        } else if v.name != "CI_JOB_TOKEN" {
            token_vars.remove(&v.name);
        }
    }
    token_vars
}

pub(crate) struct Follower<'a> {
    sources: &'a SourceMap,
    /// Reads a file of the job's project repository (a path relative to its root).
    read: Option<&'a dyn Fn(&str) -> RepoFile>,
    prefilter: &'a Prefilter,
    functions: HashMap<String, Vec<Command>>,
    /// Script files split into commands, by path (each file once per job).
    parsed: HashMap<String, (Vec<Command>, Vec<Data>)>,
    /// (path, arguments) already inlined: a script called again with the same words adds nothing new.
    inlined: HashSet<(String, Vec<String>)>,
    pub(crate) out: Vec<Command>,
    pub(crate) data: Vec<Data>,
    pub(crate) vars: Vars,
    pub(crate) token_vars: HashSet<String>,
    pub(crate) unseen: Vec<Unseen>,
    /// The directory the job's shell is in, relative to the repository root; `None` once unknown.
    cwd: Option<String>,
    /// The project's checkout directory (`$CI_PROJECT_DIR`), to read absolute paths under it.
    project_dir: String,
    /// Commands looked at or copied so far (see [`MAX_FOLLOW_WORK`]).
    work: usize,
    /// The budget ran out (reported once).
    exhausted: bool,
}

impl<'a> Follower<'a> {
    pub(crate) fn new(
        sources: &'a SourceMap,
        read: Option<&'a dyn Fn(&str) -> RepoFile>,
        prefilter: &'a Prefilter,
        vars: Vars,
    ) -> Self {
        let token_vars = token_vars(&vars);
        let project_dir = vars.get("CI_PROJECT_DIR").map(|v| v.value.clone()).unwrap_or_default();
        Follower {
            sources,
            read,
            prefilter,
            functions: HashMap::new(),
            parsed: HashMap::new(),
            inlined: HashSet::new(),
            out: Vec::new(),
            data: Vec::new(),
            vars,
            token_vars,
            unseen: Vec::new(),
            cwd: Some(String::new()),
            project_dir,
            work: 0,
            exhausted: false,
        }
    }

    /// Charge `n` commands of work; false (and the rest unseen) once the job's budget is spent.
    fn charge(&mut self, n: usize, at: Span) -> bool {
        self.work = self.work.saturating_add(n);
        if self.work <= MAX_FOLLOW_WORK && self.out.len() < MAX_FOLLOWED_COMMANDS {
            return true;
        }
        if !self.exhausted {
            self.exhausted = true;
            self.unseen.push(Unseen {
                span: at,
                why: format!(
                    "the job's scripts and functions add up to more than {MAX_FOLLOWED_COMMANDS} commands once followed; the rest was not read"
                ),
            });
        }
        false
    }

    /// Follow `commands` (a job's, a script's or a function's body), appending what runs to `out`. `args`:
    /// the positional parameters of the script or function the commands belong to (none for the job's
    /// own), bound as each command runs, so a function defined in a script binds its own.
    pub(crate) fn run(&mut self, commands: Vec<Command>, depth: usize, args: Option<&[String]>) {
        let mut it = commands.into_iter();
        while let Some(c) = it.next() {
            if !self.charge(1, c.span) {
                return;
            }
            if let Some((name, first)) = function_definition(&c) {
                let mut body: Vec<Command> = first.into_iter().collect();
                let mut open = 1usize;
                for b in it.by_ref() {
                    open += b.words.iter().filter(|w| *w == "{").count();
                    let closes = b.words.iter().filter(|w| *w == "}").count();
                    if closes >= open {
                        let mut rest = b.clone();
                        if let Some(end) = rest.words.iter().position(|w| w == "}") {
                            rest.words.truncate(end);
                        }
                        if !rest.words.is_empty() {
                            body.push(rest);
                        }
                        break;
                    }
                    open -= closes;
                    body.push(b);
                }
                self.functions.insert(name, body);
                continue;
            }
            let c = match args {
                Some(args) => bind(&c, args),
                None => c,
            };
            let first = c.words.first().map(String::as_str).unwrap_or("");
            if let Some(len) = self.functions.get(first).map(Vec::len) {
                self.out.push(c.clone()); // the call itself, for detectors that read the words
                if depth < MAX_DEPTH && self.charge(len, c.span) {
                    let body = self.functions.get(first).cloned().unwrap_or_default();
                    let args = c.words[1..].to_vec();
                    self.run(body, depth + 1, Some(&args));
                } else if depth >= MAX_DEPTH {
                    self.too_deep(&c, first);
                }
                continue;
            }
            self.track_cd(&c);
            let call = self.call(&c);
            self.emit(c.clone());
            match call {
                None => {}
                Some(Call::Inline { text }) => {
                    if depth < MAX_DEPTH {
                        let mut cmds = Vec::new();
                        let line = Line { text, span: c.span };
                        split_entry(&line, self.sources, false, &mut cmds, &mut self.data);
                        self.run(cmds, depth + 1, args);
                    } else {
                        self.too_deep(&c, "sh -c");
                    }
                }
                Some(Call::Shell { path, args, explicit }) => {
                    if depth < MAX_DEPTH {
                        self.follow_script(&c, path, args, explicit, depth);
                    } else {
                        self.too_deep(&c, &path);
                    }
                }
                Some(Call::Other { path, language }) => self.check_other(&c, &path, &language),
            }
        }
    }

    fn too_deep(&mut self, c: &Command, what: &str) {
        self.unseen.push(Unseen {
            span: c.span,
            why: format!("`{what}` is called {MAX_DEPTH} script levels deep; tokenscope follows no deeper"),
        });
    }

    /// Add a command to what runs, applying its shell assignments.
    fn emit(&mut self, c: Command) {
        let declared = usize::from(
            c.words.first().is_some_and(|w| matches!(w.as_str(), "export" | "local" | "declare" | "readonly")),
        );
        let assignments: Vec<&str> =
            c.words.iter().skip(declared).map(String::as_str).take_while(|w| is_assignment(w)).collect();
        if declared + assignments.len() == c.words.len() {
            for a in assignments {
                let (name, value) = a.split_once('=').expect("checked");
                if refs_any(value, &self.token_vars) {
                    self.token_vars.insert(name.to_string());
                } else if name != "CI_JOB_TOKEN" {
                    // Reassigned to something else: no longer the token.
                    self.token_vars.remove(name);
                }
                if let Some((_, password)) = ELSEWHERE.iter().find(|(host, _)| *host == name)
                    && self.vars.get(name).is_none_or(|v| self.vars.expand(value) != v.value)
                {
                    self.token_vars.remove(*password);
                }
                // A value computed at run time is unknown: later references stay unresolved.
                let unknown = value.contains("$(") || value.contains('`');
                let value = if unknown { format!("${{{name}}}") } else { self.vars.expand(value) };
                self.vars.set(Var {
                    name: name.to_string(),
                    value,
                    expand: !unknown,
                    origin: VarOrigin::Job,
                    span: Some(c.span),
                });
            }
        }
        self.out.push(c);
    }

    /// `cd DIR`: where later relative paths are read from, while it is known.
    fn track_cd(&mut self, c: &Command) {
        let w = &c.words;
        if !matches!(w.first().map(String::as_str), Some("cd" | "pushd" | "popd")) {
            return;
        }
        if w[0] == "popd" || w.len() < 2 {
            self.cwd = None;
            return;
        }
        let dir = self.vars.expand(&w[1]);
        self.cwd = self.repo_relative(&dir);
    }

    /// A path as written in a job, relative to the repository root, when it is inside the checkout.
    fn repo_relative(&self, path: &str) -> Option<String> {
        if path.contains('$') || path.contains('~') {
            return None;
        }
        let inside = if !self.project_dir.is_empty() && (path == self.project_dir) {
            String::new()
        } else if let Some(rest) =
            path.strip_prefix(&format!("{}/", self.project_dir)).filter(|_| !self.project_dir.is_empty())
        {
            rest.to_string()
        } else if path.starts_with('/') {
            return None; // elsewhere on the runner: the image's, not the repository's
        } else {
            let base = self.cwd.as_deref()?;
            if base.is_empty() { path.to_string() } else { format!("{base}/{path}") }
        };
        gitlab_ci::paths::resolve_lexically(&inside)
    }

    /// Whether (and how) a command runs a file.
    fn call(&self, c: &Command) -> Option<Call> {
        let w = &c.words;
        let first = w.first()?.as_str();
        let base = first.rsplit('/').next().unwrap_or(first);
        if matches!(first, "source" | ".") {
            let path = self.vars.expand(w.get(1)?);
            if path.ends_with("bin/activate") {
                return None; // a Python virtual environment made at run time, not a repository script
            }
            return Some(Call::Shell { path, args: w[2..].to_vec(), explicit: true });
        }
        if SHELLS.contains(&base) || INTERPRETERS.contains(&base) || base.starts_with("python3.") {
            let mut i = 1;
            while let Some(a) = w.get(i) {
                match a.as_str() {
                    "-c" if SHELLS.contains(&base) => return w.get(i + 1).map(|t| Call::Inline { text: t.clone() }),
                    "-c" | "-e" | "-m" => return None, // code on the command line, or a module: not a file
                    "-o" | "+o" | "-O" | "+O" => i += 2,
                    s if s.starts_with('-') || s.starts_with('+') || is_redirection(s) => i += 1,
                    _ => break,
                }
            }
            let path = self.vars.expand(w.get(i)?);
            if SHELLS.contains(&base) {
                return Some(Call::Shell { path, args: w[i + 1..].to_vec(), explicit: true });
            }
            return Some(Call::Other { path, language: base.trim_end_matches(char::is_numeric).to_string() });
        }
        // A file run by its path: `./ci/fetch.sh`, `$CI_PROJECT_DIR/scripts/x`, `ci/deploy.sh`.
        let path = self.vars.expand(first);
        let by_path = path.starts_with("./") || path.starts_with("../") || path.contains('/');
        if !by_path || path.contains("://") {
            return None;
        }
        if let Some(ext) = OTHER_EXTENSIONS.iter().find(|e| path.ends_with(*e)) {
            return Some(Call::Other { path, language: ext.trim_start_matches('.').to_string() });
        }
        let shell = SHELL_EXTENSIONS.iter().any(|e| path.ends_with(e));
        Some(Call::Shell { path, args: w[1..].to_vec(), explicit: shell })
    }

    /// Read a shell script and follow its commands in place of the call.
    fn follow_script(&mut self, c: &Command, path: String, args: Vec<String>, explicit: bool, depth: usize) {
        let Some(read) = self.read else { return };
        let Some(rel) = self.repo_relative(&path) else {
            let home = ["$HOME", "${HOME}", "~"].iter().any(|h| path.starts_with(h));
            if path.contains('$') && explicit && !home {
                self.unseen.push(Unseen {
                    span: c.span,
                    why: format!(
                        "runs the script `{path}`, whose path depends on a variable tokenscope cannot resolve"
                    ),
                });
            }
            return;
        };
        if rel.is_empty() {
            return;
        }
        let id = match read(&rel) {
            RepoFile::Found(id) => id,
            RepoFile::Missing(display) => {
                // A file run by its path without a shell extension may be a program built by the job or a
                // tool's wrapper (`./gradlew`): only a shell script that is not there is a gap.
                if explicit {
                    self.unseen.push(Unseen {
                        span: c.span,
                        why: format!("runs the script `{rel}`, which the snapshot does not hold ({display})"),
                    });
                }
                return;
            }
            RepoFile::Failed(d) => {
                self.unseen.push(Unseen {
                    span: c.span,
                    why: format!("runs the script `{rel}`, which could not be read: {}", d.message),
                });
                return;
            }
        };
        let file = self.sources.get(id);
        if !explicit && !looks_like_shell(&file.text) {
            return; // a program, not a shell script
        }
        let key = (rel.clone(), args.clone());
        if !self.inlined.insert(key) {
            return;
        }
        let (cmds, data) = self.parsed.entry(rel.clone()).or_insert_with(|| {
            let line = Line { text: file.text.to_string(), span: self.sources.span(id, 0, file.text.len() as u32) };
            let (mut cmds, mut data) = (Vec::new(), Vec::new());
            split_entry(&line, self.sources, true, &mut cmds, &mut data);
            (cmds, data)
        });
        let len = cmds.len() + data.len();
        if !self.charge(len, c.span) {
            return;
        }
        let (cmds, data) = match self.parsed.get(&rel) {
            Some((cmds, data)) => (cmds.clone(), data.clone()),
            None => return,
        };
        self.data.extend(data);
        let cwd = self.cwd.clone();
        self.run(cmds, depth + 1, Some(&args));
        self.cwd = cwd; // a script's `cd` does not move the job's shell (sourced ones do, rarely)
    }

    /// A script in a language tokenscope does not read: a gap when it names the job token.
    fn check_other(&mut self, c: &Command, path: &str, language: &str) {
        let Some(read) = self.read else { return };
        let Some(rel) = self.repo_relative(path).filter(|r| !r.is_empty()) else { return };
        let RepoFile::Found(id) = read(&rel) else { return };
        let text = self.sources.get(id).text.clone();
        let names_token = TOKEN_ALIASES.iter().any(|t| text.contains(t)) && self.prefilter.may_spend_token(&text);
        let env_read = env_reads(&text).any(|n| TOKEN_ALIASES.contains(&n));
        if names_token || env_read {
            self.unseen.push(Unseen {
                span: c.span,
                why: format!("runs `{rel}`, which reads the job token; tokenscope does not follow {language} scripts"),
            });
        }
    }
}

/// What the quick scan learnt of a repository script, kept for every job of the pipeline (many jobs run
/// the same script): whether it names the token, the text of the scripts it may call in turn, or that it is
/// missing (with its path as shown) or unreadable.
#[derive(Clone)]
enum Probe {
    Spends,
    Quiet(Option<std::sync::Arc<str>>),
    Missing(String),
    Unreadable,
}

/// The quick scan's findings per script path, for one pipeline.
#[derive(Default)]
pub(crate) struct ScriptMemo(std::cell::RefCell<HashMap<String, Probe>>);

/// Whether the repository scripts a job's text may run could spend the job token, found without
/// tokenizing the job: most jobs of an org run a script or two and never touch the token, and tokenizing
/// every one of them would double the audit's time. A word that may name a script (`./x`, `x.sh`, after
/// `source`, `.`, `sh`, `bash`) is read and tested with the prefilter, through nested calls to
/// [`MAX_DEPTH`]; a shell script that the snapshot does not hold is returned as unseen (the job is then
/// irrelevant but its project partially seen). What is learnt of each script is kept in `memo`.
#[allow(clippy::too_many_arguments)] // the scan's inputs; a struct would only rename them
pub(crate) fn scripts_may_spend_token(
    text: &str,
    sources: &SourceMap,
    read: &dyn Fn(&str) -> RepoFile,
    prefilter: &Prefilter,
    project_dir: &str,
    at: Span,
    memo: &ScriptMemo,
) -> (bool, Vec<Unseen>) {
    let mut unseen = Vec::new();
    let mut visited: HashSet<String> = HashSet::new();
    let mut queue: Vec<(std::sync::Arc<str>, usize)> = vec![(std::sync::Arc::from(text), 0)];
    while let Some((text, depth)) = queue.pop() {
        let mut words_seen: HashSet<&str> = HashSet::new();
        for (word, after_runner) in candidate_words(&text) {
            if !words_seen.insert(word) {
                continue; // a job runs the same script on many lines
            }
            let shell_ext = SHELL_EXTENSIONS.iter().any(|e| word.ends_with(e));
            let by_path = word.starts_with("./")
                || word.starts_with("../")
                || word.starts_with("$CI_PROJECT_DIR/")
                || word.starts_with("${CI_PROJECT_DIR}/");
            if !(shell_ext || by_path || after_runner)
                || word.is_empty()
                || word.starts_with('-')
                || is_redirection(word)
            {
                continue;
            }
            let path = word
                .strip_prefix("$CI_PROJECT_DIR/")
                .or_else(|| word.strip_prefix("${CI_PROJECT_DIR}/"))
                .or_else(|| word.strip_prefix(project_dir).and_then(|w| w.strip_prefix('/')))
                .unwrap_or(word);
            if path.contains('$') || path.starts_with('/') {
                continue;
            }
            let Ok(rel) = crate::snapshot::normalize_repo_path(path) else { continue };
            if !visited.insert(rel.clone()) {
                continue;
            }
            let known = memo.0.borrow().get(&rel).cloned();
            let probe = known.unwrap_or_else(|| {
                let probe = match read(&rel) {
                    RepoFile::Found(id) => {
                        let file = sources.get(id);
                        if prefilter.may_spend_token(&file.text) {
                            Probe::Spends
                        } else {
                            Probe::Quiet(may_call_script(&file.text).then(|| file.text.clone()))
                        }
                    }
                    RepoFile::Missing(display) => Probe::Missing(display),
                    RepoFile::Failed(_) => Probe::Unreadable,
                };
                memo.0.borrow_mut().insert(rel.clone(), probe.clone());
                probe
            });
            match probe {
                Probe::Spends | Probe::Unreadable => return (true, unseen),
                Probe::Quiet(Some(calls)) if depth + 1 < MAX_DEPTH => queue.push((calls, depth + 1)),
                Probe::Quiet(_) => {}
                // After a `cd`, a relative path may be elsewhere: the full follow tracks the directory.
                Probe::Missing(_) if text.contains("cd ") || text.contains("pushd ") => return (true, unseen),
                Probe::Missing(display) if shell_ext && depth == 0 => unseen.push(Unseen {
                    span: sources.locate(at, word),
                    why: format!("runs the script `{rel}`, which the snapshot does not hold ({display})"),
                }),
                // Nested: the full follow reports it precisely.
                Probe::Missing(_) => {}
            }
        }
    }
    (false, unseen)
}

/// A byte that ends a shell word, for the quick scan.
fn delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b';' | b'&' | b'|' | b'(' | b')' | b'`' | b'"' | b'\'')
}

/// The words of script text that may name a script, each with whether it follows a word that runs one
/// (`source`, `.`, `sh`, `bash`, …), found with one multi-string search rather than a walk over every
/// word: `./`, a shell extension, `$CI_PROJECT_DIR/`, or a runner word.
fn candidate_words(text: &str) -> Vec<(&str, bool)> {
    static MARKS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new([
            "./",
            ".sh",
            ".bash",
            ".zsh",
            ".ksh",
            "$CI_PROJECT_DIR/",
            "${CI_PROJECT_DIR}/",
            "source ",
            ". ",
            "sh ",
            "bash ",
            "dash ",
            "zsh ",
            "ksh ",
        ])
        .expect("static patterns")
    });
    const RUNNERS: usize = 7; // patterns from here on are runner words
    let b = text.as_bytes();
    let word_at = |at: usize| -> (usize, usize) {
        let start = b[..at].iter().rposition(|&c| delimiter(c)).map_or(0, |i| i + 1);
        let end = b[at..].iter().position(|&c| delimiter(c)).map_or(b.len(), |i| at + i);
        (start, end)
    };
    let mut out: Vec<(&str, bool)> = Vec::new();
    let mut last_end = 0;
    for m in MARKS.find_iter(text) {
        if m.pattern().as_usize() >= RUNNERS {
            // A runner word alone (`bash x`, not `mybash x`): the word after it.
            let alone = m.start() == 0 || delimiter(b[m.start() - 1]);
            let next = b[m.end()..].iter().position(|&c| !c.is_ascii_whitespace()).map(|i| m.end() + i);
            if let Some(at) = next.filter(|_| alone)
                && at < b.len()
                && !delimiter(b[at])
            {
                let (start, end) = word_at(at);
                out.push((&text[start..end], true));
            }
            continue;
        }
        if m.start() < last_end {
            continue; // within the word just taken
        }
        let (start, end) = word_at(m.start());
        last_end = end;
        out.push((&text[start..end], false));
    }
    out
}

/// Whether script text may run a repository script or define a shell function.
pub(crate) fn may_call_script(text: &str) -> bool {
    ["./", ".sh", "sh ", "source ", ". ", "()", "function "].iter().any(|w| text.contains(w))
}

/// `name() {`, `function name {`, `function name() {`: the function's name, and the first command of its
/// body when the definition holds one (`f() { curl …; }`).
fn function_definition(c: &Command) -> Option<(String, Option<Command>)> {
    let w = &c.words;
    let (name, mut i) = match w.first()?.as_str() {
        "function" => (w.get(1)?.trim_end_matches("()").to_string(), 2),
        first => {
            if let Some(n) = first.strip_suffix("()") {
                (n.to_string(), 1)
            } else if w.get(1).map(String::as_str) == Some("()") {
                (first.to_string(), 2)
            } else {
                return None;
            }
        }
    };
    if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | ':' | '.')) {
        return None;
    }
    if w.get(i).map(String::as_str) == Some("()") {
        i += 1;
    }
    if w.get(i).map(String::as_str) != Some("{") {
        return None;
    }
    i += 1;
    let rest: Vec<String> = w[i..].to_vec();
    let first = (!rest.is_empty()).then(|| {
        let text = c.text.split_once('{').map_or("", |(_, r)| r).trim().to_string();
        Command { words: rest, text, ..c.clone() }
    });
    Some((name, first))
}

/// A shell redirection written as a word (`>/dev/null`, `2>&1`, `<in`): not a file the shell runs.
fn is_redirection(word: &str) -> bool {
    let w = word.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
    w.starts_with('>') || w.starts_with('<')
}

/// Whether a file run by its path is a shell script: a shell shebang, or no shebang and text.
fn looks_like_shell(text: &str) -> bool {
    match text.lines().next() {
        Some(l) if l.starts_with("#!") => {
            SHELLS.iter().any(|s| l.contains(&format!("/{s}")) || l.contains(&format!(" {s}")))
        }
        _ => !text.contains('\0'),
    }
}

/// A command with the positional parameters of a script or function call bound to the call's words:
/// `$1`…`$9`, `${1}`…, and `$@`/`$*` (all of them).
fn bind(c: &Command, args: &[String]) -> Command {
    if !c.text.contains('$') {
        return c.clone();
    }
    let mut out = c.clone();
    out.text = substitute(&c.text, args);
    let mut words = Vec::with_capacity(c.words.len());
    for w in &c.words {
        if w == "$@" || w == "$*" || w == "${@}" {
            words.extend(args.iter().cloned());
        } else {
            words.push(substitute(w, args));
        }
    }
    out.words = words;
    out
}

fn substitute(s: &str, args: &[String]) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let (n, len) = match (b.get(i + 1), b.get(i + 2), b.get(i + 3)) {
                (Some(d), _, _) if d.is_ascii_digit() && *d != b'0' => (Some((d - b'0') as usize), 2),
                (Some(b'{'), Some(d), Some(b'}')) if d.is_ascii_digit() && *d != b'0' => (Some((d - b'0') as usize), 4),
                (Some(b'@' | b'*'), _, _) => (None, 2),
                (Some(b'{'), Some(b'@' | b'*'), Some(b'}')) => (None, 4),
                _ => {
                    out.push('$');
                    i += 1;
                    continue;
                }
            };
            match n {
                Some(n) => out.push_str(args.get(n - 1).map_or("", String::as_str)),
                None => out.push_str(&args.join(" ")),
            }
            i += len;
            continue;
        }
        let next = s[i..].find('$').map_or(s.len(), |o| i + o);
        out.push_str(&s[i..next]);
        i = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use std::sync::Arc;

    /// Follow `job` (script text) in a repository of `files`, returning the follower.
    fn follow(job: &str, files: &[(&str, String)]) -> (Vec<Command>, Vec<Unseen>) {
        let sources = SourceMap::new();
        let mut ids = HashMap::new();
        for (path, text) in files {
            let id = sources.add(SourceFile::new(path.to_string(), None, None, Arc::from(text.as_str())));
            ids.insert(path.to_string(), id);
        }
        let read = |p: &str| ids.get(p).map_or_else(|| RepoFile::Missing(p.to_string()), |id| RepoFile::Found(*id));
        let id = sources.add(SourceFile::new("ci.yml".into(), None, None, Arc::from(job)));
        let line = Line { text: job.to_string(), span: sources.span(id, 0, job.len() as u32) };
        let (mut cmds, mut data) = (Vec::new(), Vec::new());
        split_entry(&line, &sources, true, &mut cmds, &mut data);
        let mut f = Follower::new(&sources, Some(&read), crate::detect::prefilter(), Vars::default());
        f.run(cmds, 0, None);
        (f.out, f.unseen)
    }

    #[test]
    fn a_script_that_runs_itself_stops_at_the_depth_limit() {
        let started = std::time::Instant::now();
        let (out, unseen) = follow("./a.sh x", &[("a.sh", "#!/bin/sh\n./a.sh $1$1\n".into())]);
        assert!(out.len() <= MAX_DEPTH + 1, "{}", out.len());
        assert!(unseen.iter().any(|u| u.why.contains("levels deep")), "{unseen:?}");
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn fan_out_through_functions_and_scripts_is_bounded() {
        // 20,000 calls of a function that runs a 200-command script with new words each time, and a
        // function whose body defines 1,000 functions, called 20,000 times: both would copy millions of
        // commands without the budget.
        let calls: String = (0..20_000).map(|i| format!("f {i}\n")).collect();
        let script: String = (0..200).map(|i| format!("echo {i} $1\n")).collect();
        let job = format!("f() {{\n./b.sh $1\n}}\n{calls}");
        let started = std::time::Instant::now();
        let (out, unseen) = follow(&job, &[("b.sh", script)]);
        assert!(out.len() <= MAX_FOLLOWED_COMMANDS, "{}", out.len());
        assert!(unseen.iter().any(|u| u.why.contains("not read")), "{unseen:?}");
        let defs: String = (0..1000).map(|i| format!("g{i}() {{ :; }}\n")).collect();
        let job = format!("f() {{\n{defs}}}\n{calls}");
        let (_, unseen) = follow(&job, &[]);
        assert!(unseen.iter().any(|u| u.why.contains("not read")), "{unseen:?}");
        assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
    }

    #[test]
    fn functions_bind_their_own_arguments_inside_scripts() {
        let script = "#!/bin/sh\nget() {\n  curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" https://h/api/v4/projects/$1/releases\n}\nget 42\n";
        let (out, unseen) = follow("./s.sh ignored", &[("s.sh", script.into())]);
        assert!(unseen.is_empty(), "{unseen:?}");
        assert!(out.iter().any(|c| c.text.contains("/projects/42/releases")), "{out:?}");
        let (_, unseen) = follow("bash ci/missing.sh", &[]);
        assert!(unseen[0].why.contains("does not hold"), "{unseen:?}");
    }

    #[test]
    fn positional_parameters_bind_to_the_calls_words() {
        let args = vec!["g/lib".to_string(), "v1".to_string()];
        assert_eq!(substitute("clone https://h/$1.git -b ${2}", &args), "clone https://h/g/lib.git -b v1");
        assert_eq!(substitute("all: $@ $*; none: $3 $0x", &args), "all: g/lib v1 g/lib v1; none:  $0x");
        assert_eq!(substitute("$CI_JOB_TOKEN $$ $", &args), "$CI_JOB_TOKEN $$ $");
    }

    #[test]
    fn shebangs() {
        assert!(looks_like_shell("#!/bin/bash\necho"));
        assert!(looks_like_shell("#!/usr/bin/env sh\n"));
        assert!(looks_like_shell("set -e\ncurl x"));
        assert!(!looks_like_shell("#!/usr/bin/env python3\n"));
    }
}
