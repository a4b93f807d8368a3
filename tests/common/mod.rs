//! Helpers shared by the integration tests: run the real binary and capture what a user sees.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `tokenscope ARGS` in the project root; return "exit code + stdout + stderr" as one text.
pub fn run(args: &[&str]) -> String {
    run_in(&root(), args)
}

/// `tokenscope`, to be run in `dir` with an environment that does not depend on the machine running the
/// tests: no colour, and none of the variables tokenscope reads from a GitLab CI job or for the date.
pub fn tokenscope(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tokenscope").expect("binary");
    cmd.current_dir(dir).env("NO_COLOR", "1");
    for var in [
        "CI_PROJECT_PATH",
        "CI_SERVER_URL",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA",
        "CI_CONFIG_PATH",
        "TOKENSCOPE_TODAY",
        "GITLAB_TOKEN",
        "CI_JOB_TOKEN",
        "COLUMNS",
        "CI_COMMIT_SHA",
        "TOKENSCOPE_DOCS_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn run_in(dir: &Path, args: &[&str]) -> String {
    let out = tokenscope(dir).args(args).output().expect("run tokenscope");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The shared corpus beside the checkout, when present.
pub fn corpus() -> Option<PathBuf> {
    let p = root().join("../shared/corpus");
    p.is_dir().then_some(p)
}

/// Say something the test harness does not capture (it captures `println!`/`eprintln!`, not direct
/// writes to stderr), so that a skipped test is visible in every run.
pub fn say(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// The rules a remediation plan settles: what an audit still reports of them after the plan is applied
/// must be what the plan kept or could not settle.
pub const SETTLED: &[&str] = &[
    "missing-allowlist-entry",
    "unused-allowlist-entry",
    "overbroad-group-entry",
    "overbroad-permissions",
    "stale-allowlist-entry",
    "allowlist-over-limit",
    "allowlist-disabled",
];

/// (rule, callee, entry, caller) of the findings of [`SETTLED`] rules in an audit's JSON.
pub fn settled(doc: &serde_json::Value) -> Vec<(String, String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| SETTLED.contains(&f["rule"].as_str().unwrap()))
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("rule"), s("callee"), s("entry"), s("caller"))
        })
        .collect()
}

/// The (callee, entry path) pairs a plan's JSON keeps.
pub fn kept(plan: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    plan["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let t = &k["target"];
            let path = t.get("project").or_else(|| t.get("group")).and_then(|v| v.as_str()).unwrap();
            (k["project"].as_str().unwrap().to_string(), path.to_string())
        })
        .collect()
}

/// A copy of a fixture directory (a snapshot to change in a test without touching the fixture).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = vec![(root().join(name), tmp.path().to_path_buf())];
    while let Some((from, to)) = stack.pop() {
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap().flatten() {
            let (p, t) = (e.path(), to.join(e.file_name()));
            if p.is_dir() {
                stack.push((p, t));
            } else {
                std::fs::copy(&p, &t).unwrap();
            }
        }
    }
    tmp
}
