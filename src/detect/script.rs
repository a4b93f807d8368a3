//! A job's scripts as shell commands, for detectors.
//!
//! Script entries are joined into logical lines (backslash continuations), split into commands at
//! unquoted `&&`, `||`, `;` and `|`, and tokenized into words with quotes removed. Heredoc bodies are kept
//! apart as data (they are file contents, not commands). Shell assignments (`TOKEN=$CI_JOB_TOKEN`,
//! `export URL=...`) are tracked so a later command's `$TOKEN` is known to be the job token.

use super::follow::{Follower, Unseen};
use crate::ci::jobs::{Job, Line};
use crate::ci::vars::{VarOrigin, Vars, var_ref};
use crate::snapshot::RepoFile;
use crate::source::{SourceMap, Span};
use aho_corasick::AhoCorasick;
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// Variables that hold the job token without naming it.
pub(crate) const TOKEN_ALIASES: &[&str] = &["CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPENDENCY_PROXY_PASSWORD"];

#[derive(Clone, Debug)]
pub(crate) struct Command {
    /// Words with quotes removed, variables not yet expanded.
    pub(crate) words: Vec<String>,
    /// The command as written (one logical line segment).
    pub(crate) text: String,
    /// Where the command starts in the source.
    pub(crate) span: Span,
    /// The script entry it comes from.
    pub(crate) line: Span,
    /// The command's input is piped from the previous command.
    pub(crate) piped: bool,
    /// The command reads the job token from a pipe (`echo $CI_JOB_TOKEN | docker login --password-stdin`).
    pub(crate) token_on_stdin: bool,
    /// The command's failure is swallowed: `cmd || true`, `cmd || :`, `cmd || exit 0`.
    pub(crate) or_true: bool,
    /// Index of the command in the job, in execution order.
    pub(crate) index: usize,
}

impl Command {
    /// Where `word` is written: its own span when it can be found in the script entry, else the command's.
    pub(crate) fn locate(&self, sources: &SourceMap, word: &str) -> Span {
        let s = sources.locate(self.line, word);
        if s == self.line { self.span } else { s }
    }
}

/// Heredoc content or other data written by the script (e.g. `cat > .npmrc <<EOF`).
#[derive(Clone, Debug)]
pub(crate) struct Data {
    pub(crate) text: String,
    pub(crate) span: Span,
}

/// A job's scripts, parsed once, with the variables needed to read them.
pub struct Script {
    pub(crate) commands: Vec<Command>,
    pub(crate) data: Vec<Data>,
    /// Job variables plus shell assignments (the last assignment wins).
    pub(crate) vars: Vars,
    /// Names of variables whose value is the job token.
    pub(crate) token_vars: HashSet<String>,
    /// What the job runs that could not be looked into (see [`follow`](super::follow)).
    pub(crate) unseen: Vec<Unseen>,
}

/// Reads a file of the job's project repository, by its path from the repository root.
pub(crate) type ReadFile<'a> = &'a dyn Fn(&str) -> RepoFile;

impl Script {
    /// The job's scripts as commands, or, when nothing in the job could spend the token (no token variable
    /// or alias in its text or environment, no tool that uses it implicitly, no script or shell function
    /// it runs), an empty script: most jobs of an org never touch the token, and tokenizing them would be
    /// most of the audit's time.
    pub(crate) fn for_job(
        job: &Job,
        sources: &SourceMap,
        prefilter: &Prefilter,
        read: Option<ReadFile>,
        memo: &super::follow::ScriptMemo,
    ) -> Script {
        let aliases = job.vars.layers().any(|v| {
            v.origin != VarOrigin::Predefined
                && v.value.contains('$')
                && TOKEN_ALIASES.iter().any(|t| v.value.contains(t))
        });
        // One search over all the job's lines (a search has a fixed cost that short lines would pay each);
        // a line break between lines keeps them apart for the whole-word test.
        let mut unseen = Vec::new();
        let relevant = aliases || {
            let mut text = String::with_capacity(job.all_lines().map(|l| l.text.len() + 1).sum());
            for l in job.all_lines() {
                text.push_str(&l.text);
                text.push('\n');
            }
            prefilter.may_spend_token(&text)
                || read.is_some_and(|read| {
                    let project_dir = job.vars.get("CI_PROJECT_DIR").map_or("", |v| v.value.as_str());
                    let at = job.all_lines().next().map_or(job.span, |l| l.span);
                    let (relevant, missing) = if super::follow::may_call_script(&text) {
                        super::follow::scripts_may_spend_token(&text, sources, read, prefilter, project_dir, at, memo)
                    } else {
                        (false, Vec::new())
                    };
                    unseen = missing;
                    relevant
                })
        };
        if relevant {
            Script::parse_following(job, sources, prefilter, read)
        } else {
            Script {
                commands: Vec::new(),
                data: Vec::new(),
                vars: job.vars.clone(),
                token_vars: super::follow::token_vars(&job.vars),
                unseen,
            }
        }
    }

    /// The job's own commands, without following what they run.
    pub fn parse(job: &Job, sources: &SourceMap) -> Script {
        Script::parse_following(job, sources, crate::detect::prefilter(), None)
    }

    /// The job's commands, with the repository scripts and shell functions they run followed in place
    /// (when `read` can read the repository).
    pub(crate) fn parse_following(
        job: &Job,
        sources: &SourceMap,
        prefilter: &Prefilter,
        read: Option<ReadFile>,
    ) -> Script {
        let mut commands = Vec::new();
        let mut data = Vec::new();
        for line in job.all_lines() {
            split_entry(line, sources, false, &mut commands, &mut data);
        }
        let mut follower = Follower::new(sources, read, prefilter, job.vars.clone());
        follower.data = data;
        follower.run(commands, 0, None);
        let Follower { out: mut commands, data, vars, token_vars, unseen, .. } = follower;
        for (i, c) in commands.iter_mut().enumerate() {
            c.index = i;
        }
        for i in 1..commands.len() {
            let prev = &commands[i - 1];
            let echoes = matches!(prev.words.first().map(String::as_str), Some("echo" | "printf" | "cat"))
                && refs_any(&prev.text, &token_vars);
            commands[i].token_on_stdin = commands[i].piped && echoes;
        }
        Script { commands, data, vars, token_vars, unseen }
    }

    /// No commands and no data: the job's scripts cannot spend the token ([`Script::for_job`] found nothing
    /// that could), so detectors that only read scripts have nothing to look at.
    pub(crate) fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.data.is_empty()
    }

    /// Whether a text references the job token (directly or through an alias variable), as a shell
    /// variable or the way configuration files read the environment (`System.getenv("CI_JOB_TOKEN")`,
    /// `${env.CI_JOB_TOKEN}`, `%CI_JOB_TOKEN%`, `$env:CI_JOB_TOKEN`, `ENV['CI_JOB_TOKEN']`, ...).
    pub(crate) fn has_token(&self, s: &str) -> bool {
        refs_any(s, &self.token_vars) || env_reads(s).any(|n| self.token_vars.contains(n))
    }

    /// Expand job and shell variables.
    pub(crate) fn expand(&self, s: &str) -> String {
        self.vars.expand(s)
    }
}

/// The quick test of whether a job's scripts could spend the job token, built from the words that make a job
/// relevant: the token and its aliases and the tools that use the token implicitly, anywhere (as in
/// `${CI_JOB_TOKEN}`; `download-secure-files` is run from a URL), and, as a command's whole word only, tools
/// that may read the token from a repository file (`.npmrc`, `ci_settings.xml`, ...), so that `pip` in
/// `pipeline` or `go` in `cargo` need not send the job through the tokenizer. `detect` builds it once from
/// every detector's trigger words.
///
/// Every job of the org passes through this test, so it is a few plain searches (no regex engine and its
/// per-thread cache): one SIMD multi-string search (Teddy, where the processor has it) for whether any
/// word of three letters or more occurs, and one substring search per two-letter word (`go`, `uv`), which
/// are kept out of the multi-string search because they would halve its speed.
pub(crate) struct Prefilter {
    /// Whether any word of `search` occurs, when the processor allows the SIMD searcher.
    quick: Option<aho_corasick::packed::Searcher>,
    /// Every word but the two-letter ones; the first `anywhere` count anywhere, the others as whole words
    /// only.
    search: AhoCorasick,
    anywhere: usize,
    /// The two-letter whole words.
    short: Vec<memchr::memmem::Finder<'static>>,
}

impl Prefilter {
    /// A prefilter for words that count `anywhere` and words that count as `whole` words only (a word in
    /// both lists counts anywhere). Two-letter words must be whole words.
    pub(crate) fn new(anywhere: &[&str], whole: &[&'static str]) -> Prefilter {
        let mut any: Vec<&str> = Vec::new();
        for w in anywhere {
            if !any.contains(w) {
                any.push(w);
            }
        }
        let mut rest: Vec<&'static str> = Vec::new();
        for w in whole {
            if !any.contains(w) && !rest.contains(w) {
                rest.push(w);
            }
        }
        let (short, whole): (Vec<&'static str>, Vec<&str>) = rest.into_iter().partition(|t| t.len() <= 2);
        Prefilter {
            quick: aho_corasick::packed::Searcher::new(any.iter().chain(&whole)),
            search: AhoCorasick::new(any.iter().chain(&whole)).expect("static word list"),
            anywhere: any.len(),
            short: short.iter().map(|w| memchr::memmem::Finder::new(w.as_bytes())).collect(),
        }
    }

    /// Whether script text (a line, or a job's lines joined by line breaks) holds a word that could make
    /// it spend the job token.
    pub(crate) fn may_spend_token(&self, line: &str) -> bool {
        let b = line.as_bytes();
        let word_char = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        let alone = |start: usize, end: usize| (start == 0 || !word_char(start - 1)) && !word_char(end);
        // Most jobs hold none of the words: the quick test first, then every occurrence (overlapping ones
        // included) for the word-boundary test.
        let any = match &self.quick {
            Some(quick) => quick.find(line).is_some(),
            None => self.search.is_match(line),
        };
        let long = any
            && self
                .search
                .find_overlapping_iter(line)
                .any(|m| m.pattern().as_usize() < self.anywhere || alone(m.start(), m.end()));
        long || self.short.iter().any(|f| f.find_iter(b).any(|at| alone(at, at + f.needle().len())))
    }
}

pub(crate) fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The environment variables `s` reads in the forms configuration files use: `getenv("X")`, `${env.X}`,
/// `%X%`, `$env:X`, `ENV["X"]`, `environ["X"]`, `environ.get("X"…`, `process.env.X`. One pass over `s`,
/// whatever the number of names asked about.
pub(crate) fn env_reads(s: &str) -> impl Iterator<Item = &str> {
    static FORMS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"getenv\(["']([A-Za-z_]\w*)["']\)|env\.([A-Za-z_]\w*)\}|%([A-Za-z_]\w*)%|\$env:([A-Za-z_]\w*)"#,
            r#"|ENV\[["']([A-Za-z_]\w*)["']\]|environ\[["']([A-Za-z_]\w*)["']\]|environ\.get\(["']([A-Za-z_]\w*)["']"#,
            r#"|process\.env\.([A-Za-z_]\w*)"#
        ))
        .expect("static regex")
    });
    let candidate = s.contains("env") || s.contains("ENV") || s.contains('%');
    candidate
        .then(|| FORMS.captures_iter(s).filter_map(|c| c.iter().skip(1).flatten().next().map(|m| m.as_str())))
        .into_iter()
        .flatten()
}

/// Whether `s` references any of the variables (`$X` or `${X}`).
pub(crate) fn refs_any(s: &str, names: &HashSet<String>) -> bool {
    let mut i = 0;
    while let Some(off) = s[i..].find('$') {
        let at = i + off;
        if let Some((name, end)) = var_ref(s, at) {
            if names.contains(name) {
                return true;
            }
            i = end;
        } else {
            i = at + 1;
        }
    }
    false
}

/// Split one script entry into commands and heredoc data. `verbatim`: the entry's text is the source text
/// at its span byte for byte (a script file), so each command is located at its own line; otherwise
/// (a YAML scalar, whose text is unescaped and unindented) commands are found by searching the entry.
pub(crate) fn split_entry(
    line: &Line,
    sources: &SourceMap,
    verbatim: bool,
    commands: &mut Vec<Command>,
    data: &mut Vec<Data>,
) {
    let mut logical = String::new();
    let mut logical_start = 0usize; // byte offset in `line.text` where the logical line starts
    let mut heredoc: Option<(String, String, usize)> = None; // (terminator, body, offset of the body)
    // Where a piece of the entry is: its own bytes for a verbatim entry, else found by searching.
    // In an entry that is not verbatim, commands are searched from where the last one was found (they come
    // in order): a block of thousands of lines is then searched once, not once per command.
    let cursor = std::cell::Cell::new(line.span.start);
    // The source text of `start..end` of the entry is searched no further than a few times its length
    // (a YAML scalar's indentation and escapes lengthen it): a word not found costs its line, not the block.
    let window = |start: usize, end: usize| -> Span {
        if verbatim {
            sources.span(line.span.file, line.span.start + start as u32, line.span.start + end as u32)
        } else {
            let from = cursor.get();
            let reach = (4 * (end - start) + 256) as u32;
            sources.span(line.span.file, from, line.span.end.min(from.saturating_add(reach)))
        }
    };
    let advance = |commands: &[Command], from: usize, at: Span| {
        if let Some(last) = commands[from..].iter().rev().find(|c| c.span != at) {
            cursor.set(cursor.get().max(last.span.start));
        }
    };
    // A heredoc body, located at its first line.
    let push_data = |text: String, at: Span, data: &mut Vec<Data>| {
        let span = sources.locate(at, text.lines().next().unwrap_or("").trim());
        data.push(Data { span, text });
    };
    let mut pos = 0usize;
    for raw in line.text.split('\n') {
        let start = pos;
        pos += raw.len() + 1;
        let end = (pos - 1).min(line.text.len());
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some((term, body, body_at)) = heredoc.as_mut() {
            if raw.trim() == term {
                let at = window(*body_at, start);
                push_data(std::mem::take(body), at, data);
                heredoc = None;
            } else {
                body.push_str(raw);
                body.push('\n');
            }
            continue;
        }
        if logical.is_empty() {
            logical_start = start;
        }
        if let Some(cont) = raw.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let text = std::mem::take(&mut logical);
        if let Some(term) = heredoc_terminator(&text) {
            heredoc = Some((term, String::new(), pos.min(line.text.len())));
        }
        let at = window(logical_start, end);
        let before = commands.len();
        push_commands(&text, at, sources, commands, 0);
        if !verbatim {
            advance(commands, before, at);
        }
    }
    if !logical.trim().is_empty() {
        push_commands(&logical, window(logical_start, line.text.len()), sources, commands, 0);
    }
    if let Some((_, body, body_at)) = heredoc
        && !body.is_empty()
    {
        push_data(body, window(body_at, line.text.len()), data);
    }
}

/// `<<EOF`, `<<-EOF`, `<<'EOF'`, `<<"EOF"` (not `<<<`).
fn heredoc_terminator(text: &str) -> Option<String> {
    let mut i = 0;
    while let Some(off) = text[i..].find("<<") {
        let at = i + off;
        let rest = &text[at + 2..];
        if rest.starts_with('<') {
            i = at + 3;
            continue;
        }
        let rest = rest.strip_prefix('-').unwrap_or(rest).trim_start();
        let word: String = rest
            .trim_start_matches(['\'', '"'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !word.is_empty() {
            return Some(word);
        }
        i = at + 2;
    }
    None
}

/// Command substitutions nested deeper than this are not looked into.
const MAX_SUBSTITUTION_DEPTH: usize = 8;

/// Split a logical line at unquoted `&&`, `||`, `;`, `|` (not inside `$(...)` or backquotes) and push
/// each command, preceded by the commands of its command substitutions (they run first).
fn push_commands(text: &str, entry: Span, sources: &SourceMap, commands: &mut Vec<Command>, depth: usize) {
    let mut segments: Vec<(String, bool)> = Vec::new(); // (segment, follows a pipe)
    let mut before_or: Vec<bool> = Vec::new(); // per segment: followed by `||`
    let mut cur = String::new();
    let (mut sq, mut dq, mut bq) = (false, false, false);
    let mut paren = 0usize; // open `$(`
    let mut after_pipe = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quoted = sq || dq || bq || paren > 0;
        match c {
            '\\' if !sq => {
                cur.push(c);
                if let Some(&n) = chars.get(i + 1) {
                    cur.push(n);
                    i += 1;
                }
            }
            '\'' if !dq && paren == 0 && !bq => {
                sq = !sq;
                cur.push(c);
            }
            '"' if !sq && paren == 0 && !bq => {
                dq = !dq;
                cur.push(c);
            }
            '`' if !sq => {
                bq = !bq;
                cur.push(c);
            }
            '$' if !sq && chars.get(i + 1) == Some(&'(') => {
                paren += 1;
                cur.push_str("$(");
                i += 1;
            }
            '(' if paren > 0 => {
                paren += 1;
                cur.push(c);
            }
            ')' if paren > 0 => {
                paren -= 1;
                cur.push(c);
            }
            '#' if !quoted && (cur.is_empty() || cur.ends_with(char::is_whitespace)) => break,
            '&' | '|' | ';' if !quoted => {
                let double = chars.get(i + 1) == Some(&c);
                if c == '&' && !double {
                    cur.push(c); // `2>&1`, background `&`
                } else {
                    segments.push((std::mem::take(&mut cur), after_pipe));
                    before_or.push(c == '|' && double);
                    after_pipe = c == '|' && !double;
                    if double {
                        i += 1;
                    }
                }
            }
            _ => cur.push(c),
        }
        i += 1;
    }
    segments.push((cur, after_pipe));
    before_or.push(false);
    let swallowed: Vec<bool> = (0..segments.len())
        .map(|i| before_or[i] && segments.get(i + 1).is_some_and(|(n, _)| matches!(n.trim(), "true" | ":" | "exit 0")))
        .collect();
    for (n, (seg, piped)) in segments.into_iter().enumerate() {
        let seg = seg.trim().to_string();
        if seg.is_empty() {
            continue;
        }
        if depth < MAX_SUBSTITUTION_DEPTH {
            for inner in substitutions(&seg) {
                push_commands(inner, entry, sources, commands, depth + 1);
            }
        }
        let words = strip_prefix_words(shell_words(&seg));
        let first_fragment: String = seg.chars().take(60).collect();
        let first_fragment = first_fragment.lines().next().unwrap_or("").to_string();
        commands.push(Command {
            span: sources.locate(entry, &first_fragment),
            words,
            text: seg,
            line: entry,
            piped,
            token_on_stdin: false,
            or_true: swallowed[n],
            index: 0,
        });
    }
}

/// The commands of the command substitutions of one command, outermost first: `$(cmd)` (not `$((1+2))`
/// arithmetic) and `` `cmd` ``, outside single quotes.
fn substitutions(seg: &str) -> Vec<&str> {
    let b = seg.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut sq = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'\'' => sq = !sq,
            b'$' if !sq && b.get(i + 1) == Some(&b'(') && b.get(i + 2) != Some(&b'(') => {
                let start = i + 2;
                let mut depth = 1usize;
                let mut j = start;
                while j < b.len() {
                    match b[j] {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                out.push(&seg[start..j.min(b.len())]);
                i = j;
            }
            b'`' if !sq => {
                let start = i + 1;
                let end = seg[start..].find('`').map_or(seg.len(), |o| start + o);
                out.push(&seg[start..end]);
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Words that only prefix the real command (`if ! git clone ...`, `sudo -E docker pull`, `FOO=1 curl ...`).
const PREFIX_WORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "time", "sudo", "exec", "command", "nohup", "{", "(",
    "retry", "eval",
];

/// The command's own words: prefix keywords and leading environment assignments removed
/// (a command made only of assignments is kept as it is).
pub fn strip_prefix_words(mut words: Vec<String>) -> Vec<String> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let prefix = PREFIX_WORDS.contains(&w)
            || (w.starts_with('-') && i > 0 && words[i - 1] == "sudo")
            || (w == "env" && i + 1 < words.len())
            || (is_assignment(w) && words[i + 1..].iter().any(|x| !is_assignment(x)));
        if !prefix {
            break;
        }
        i += 1;
    }
    words.drain(..i);
    words
}

/// Shell words with quotes removed (variables are not expanded).
pub fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let (mut sq, mut dq) = (false, false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !dq => {
                sq = !sq;
                in_word = true;
            }
            '"' if !sq => {
                dq = !dq;
                in_word = true;
            }
            '\\' if !sq => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            c if c.is_whitespace() && !sq && !dq => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may_spend_token(line: &str) -> bool {
        crate::detect::prefilter().may_spend_token(line)
    }

    #[test]
    fn lines_that_may_spend_the_token() {
        for line in [
            "curl -H \"JOB-TOKEN: ${CI_JOB_TOKEN}\" https://x",
            "echo $CI_REGISTRY_PASSWORD | docker login -u x --password-stdin",
            "npm publish",
            "(cd web && npm ci)",
            "python -m pip install -r requirements.txt",
            "./gradlew publish",
            "pip3 install .",
            "gitlab-terraform plan",
            "curl -s https://gitlab.com/x/download-secure-files/-/raw/main/installer | bash",
            "glab release create v1",
            "uv publish",
            "cat .npmrc && \"npm\" install",
            "go mod download",
            "cd tools; go build ./...",
            "pip install x && uv sync",
        ] {
            assert!(may_spend_token(line), "{line}");
        }
        // Package tool names inside other words are not the tool.
        for line in [
            "echo pipeline",
            "cargo build --release",
            "uvicorn app:main",
            "golang-ci lint; mongo --eval x",
            "make gemfile-lock",
            "./scripts/run.sh --flag 12 --env $DEPLOY_ENV",
        ] {
            assert!(!may_spend_token(line), "{line}");
        }
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(shell_words(r#"curl -H "JOB-TOKEN: $T" 'a b' c\ d"#), ["curl", "-H", "JOB-TOKEN: $T", "a b", "c d"]);
    }

    #[test]
    fn prefix_words_are_dropped() {
        let w = |s: &str| strip_prefix_words(shell_words(s));
        assert_eq!(w("if ! git clone x; then")[0], "git");
        assert_eq!(w("sudo -E docker pull img")[0], "docker");
        assert_eq!(w("GIT_TRACE=1 git fetch")[0], "git");
        assert_eq!(w("TOKEN=$CI_JOB_TOKEN"), ["TOKEN=$CI_JOB_TOKEN"]);
    }

    #[test]
    fn heredoc_terminators() {
        assert_eq!(heredoc_terminator("cat > .npmrc <<EOF").as_deref(), Some("EOF"));
        assert_eq!(heredoc_terminator("cat <<-'END'").as_deref(), Some("END"));
        assert_eq!(heredoc_terminator("cat <<< \"$X\""), None);
    }

    #[test]
    fn token_references() {
        let names: HashSet<String> = ["CI_JOB_TOKEN".to_string()].into();
        assert!(refs_any("a ${CI_JOB_TOKEN} b", &names));
        assert!(refs_any("$CI_JOB_TOKEN", &names));
        assert!(!refs_any("$CI_JOB_TOKEN_X", &names));
        assert!(!refs_any("CI_JOB_TOKEN", &names));
    }
}
