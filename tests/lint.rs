//! `tokenscope lint` in a temporary git repository, as a merge-request pipeline runs it.

mod common;

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git").current_dir(dir).args(args).output().expect("git").status.success();
    assert!(ok, "git {args:?}");
}

/// A repository whose first commit has no job-token access and whose second commit adds one.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q"]);
    git(d, &["config", "user.email", "ci@example.com"]);
    git(d, &["config", "user.name", "ci"]);
    std::fs::write(d.join(".gitlab-ci.yml"), "build:\n  script: make\n").unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "base"]);
    std::fs::write(
        d.join(".gitlab-ci.yml"),
        "build:\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/platform/charts.git\n    - make\n",
    )
    .unwrap();
    git(d, &["commit", "-qam", "reach platform/charts"]);
    tmp
}

fn lint(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = common::tokenscope(dir).arg("lint").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn base_shows_what_the_change_introduces() {
    let r = repo();
    let args = |base: &'static str| {
        ["--project", "svc/b", "--url", "https://gitlab.example.com", "--format", "json", "--base", base]
    };
    let (code, out, err) = lint(r.path(), &args("HEAD~1"));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let notes = doc["findings"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{out}");
    let message = notes[0]["message"].as_str().unwrap();
    assert!(message.starts_with("`svc/b` uses the job token against `platform/charts`"), "{message}");
    assert!(message.contains("`platform/charts`'s allowlist must contain `svc/b`"), "{message}");
    assert_eq!(notes[0]["severity"], "note");
    // Against the commit itself nothing is new.
    let (_, same, _) = lint(r.path(), &args("HEAD"));
    let doc: serde_json::Value = serde_json::from_str(&same).unwrap();
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{same}");
    // A revision that cannot be read (not even fetched): everything is reported, with a warning.
    let (code, all, err) = lint(r.path(), &args("no-such-rev"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cannot read the base revision") && err.contains("every finding"), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{all}");
}

#[test]
fn a_shallow_clone_fetches_its_base() {
    let origin = repo();
    let base = String::from_utf8(
        Command::new("git").current_dir(origin.path()).args(["rev-parse", "HEAD~1"]).output().unwrap().stdout,
    )
    .unwrap();
    let base = base.trim().to_string();
    let parent = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(parent.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let clone = parent.path().join("shallow");
    let args =
        ["--project", "svc/b", "--url", "https://gitlab.example.com", "--format", "json", "--base", base.as_str()];
    let (code, out, err) = lint(&clone, &args);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "the base was fetched: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "only the new access: {out}");
}

#[test]
fn a_custom_ci_file_path_is_read_and_a_missing_one_is_said() {
    let r = repo();
    let d = r.path();
    std::fs::create_dir_all(d.join(".gitlab")).unwrap();
    std::fs::rename(d.join(".gitlab-ci.yml"), d.join(".gitlab/ci.yml")).unwrap();
    let args = ["--project", "svc/b", "--url", "https://gitlab.example.com", "--format", "json"];
    let out = common::tokenscope(d).arg("lint").args(args).env("CI_CONFIG_PATH", ".gitlab/ci.yml").output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let (_, out, _) = lint(d, &[&args[..], &["--ci-config", ".gitlab/ci.yml"]].concat());
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "--ci-config: {out}");
    // Without either, there is no CI file at the default path: said, not silent.
    let (code, _, err) = lint(d, &args);
    assert_eq!(code, 0);
    assert!(err.contains("no CI configuration at `.gitlab-ci.yml`") && err.contains("CI_CONFIG_PATH"), "{err}");
}

#[test]
fn a_manifest_checks_the_allowlist() {
    let r = repo();
    let central = tempfile::tempdir().unwrap();
    let manifest = central.path().join("allowlists.yaml");
    std::fs::write(
        &manifest,
        "instance:\n  url: https://gitlab.example.com\nprojects:\n  platform/charts:\n    job_token:\n      inbound_enabled: true\n",
    )
    .unwrap();
    let args = ["--project", "svc/b", "--manifest", manifest.to_str().unwrap(), "--format", "json"];
    let (code, out, _) = lint(r.path(), &args);
    assert_eq!(code, 1, "a missing entry fails the merge request: {out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &doc["findings"][0];
    assert_eq!((f["rule"].as_str(), f["severity"].as_str()), (Some("missing-allowlist-entry"), Some("error")));
    assert_eq!(f["location"]["file"], ".gitlab-ci.yml");
    std::fs::write(
        &manifest,
        "instance:\n  url: https://gitlab.example.com\nprojects:\n  platform/charts:\n    job_token:\n      allowlist:\n        - project: svc/b\n",
    )
    .unwrap();
    let (code, out, _) = lint(r.path(), &args);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn token_mistakes_in_the_projects_files_are_linted() {
    let r = repo();
    std::fs::write(
        r.path().join(".gitlab-ci.yml"),
        "release:\n  variables:\n    CI_JOB_TOKEN: $BOT_TOKEN\n  script: ./release.sh\n",
    )
    .unwrap();
    let (code, out, _) = lint(r.path(), &["--project", "svc/b", "--url", "https://gitlab.example.com"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("job-token-overridden"), "{out}");
}

#[test]
fn the_project_comes_from_ci_project_path() {
    let r = repo();
    let out = common::tokenscope(r.path())
        .env("CI_PROJECT_PATH", "svc/b")
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .args(["lint", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["edges"][0]["caller"], "svc/b");
    let (code, _, err) = lint(r.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--project"), "{err}");
}

#[test]
fn reports_can_be_written_into_the_checkout() {
    let r = repo();
    let (code, _, err) = lint(
        r.path(),
        &["--project", "svc/b", "--url", "https://gitlab.example.com", "--report", "codequality=gl-code-quality.json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(r.path().join("gl-code-quality.json").exists());
    let (code, _, err) =
        lint(r.path(), &["--project", "svc/b", "--url", "https://gitlab.example.com", "--output", ".gitlab-ci.yml"]);
    assert_eq!(code, 2, "the CI file it read is input: {err}");
    assert!(std::fs::read_to_string(r.path().join(".gitlab-ci.yml")).unwrap().contains("platform/charts"));
}

/// `lint` goes through the audit policy like `audit`: a rule switched off produces no note, a severity
/// override applies to the notes, and a policy ignore suppresses them.
#[test]
fn lint_notes_follow_the_policy() {
    let r = repo();
    let args = ["--project", "svc/b", "--url", "https://gitlab.example.com", "--format", "json"];
    let findings = |policy: &str| {
        std::fs::write(r.path().join(".tokenscope.yml"), policy).unwrap();
        let (code, out, err) = lint(r.path(), &args);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        (code, doc)
    };
    let (code, doc) = findings("rules:\n  missing-allowlist-entry: off\n");
    assert_eq!(code, 0);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc:#}");
    let (code, doc) = findings("rules:\n  missing-allowlist-entry: error\n");
    assert_eq!(code, 1, "the note is now an error: {doc:#}");
    assert_eq!(doc["findings"][0]["severity"], "error");
    let (code, doc) = findings(
        "rules:\n  missing-allowlist-entry: error\nignores:\n  - rule: missing-allowlist-entry\n    callee: platform/charts\n    reason: charts are public\n",
    );
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["findings"]["suppressed"], 1);
    // Near miss: a policy about another rule leaves the note as it is.
    let (code, doc) = findings("rules:\n  unused-allowlist-entry: off\n");
    assert_eq!((code, doc["findings"][0]["severity"].as_str()), (0, Some("note")));
}

#[test]
fn offline_callees_of_this_instance_are_unknown_not_external() {
    let tmp = repo();
    std::fs::write(
        tmp.path().join(".gitlab-ci.yml"),
        "build:\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/platform/charts.git\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.com/other/thing.git\n",
    )
    .unwrap();
    let (_, out, _) = lint(
        tmp.path(),
        &[
            "--project",
            "team/app",
            "--url",
            "https://gitlab.example.com",
            "--offline",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let status = |callee: &str| {
        doc["edges"].as_array().unwrap().iter().find(|e| e["callee"] == callee).map(|e| e["status"].clone())
    };
    assert_eq!(
        status("platform/charts"),
        Some("unknown".into()),
        "a project of this instance whose settings were not read"
    );
    assert_eq!(status("gitlab.com/other/thing"), Some("external".into()), "another host stays external");
    assert!(out.contains("its allowlist was not given"), "the note names the allowlist: {out}");
}

#[test]
fn the_policy_is_found_up_to_the_repository_root() {
    let tmp = repo();
    let svc = tmp.path().join("svc");
    std::fs::create_dir_all(&svc).unwrap();
    std::fs::copy(tmp.path().join(".gitlab-ci.yml"), svc.join(".gitlab-ci.yml")).unwrap();
    std::fs::write(tmp.path().join(".tokenscope.yaml"), "rules:\n  missing-allowlist-entry: off\n").unwrap();
    let run = |dir: &Path| {
        let out = common::tokenscope(dir)
            .env("CI_SERVER_URL", "https://gitlab.example.com")
            .env("CI_PROJECT_PATH", "team/app")
            .args(["-v", "lint", ".", "--offline", "--format", "json", "--fail-on", "never"])
            .output()
            .unwrap();
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (out, err) = run(&svc);
    assert!(err.contains("policy: ") && err.contains(".tokenscope.yaml"), "-v names the policy: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["findings"], serde_json::json!([]), "the repository's policy switched the rule off");
    // The near miss: outside a git repository a policy above the directory is not picked up.
    let plain = tempfile::tempdir().unwrap();
    let inner = plain.path().join("svc");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::copy(svc.join(".gitlab-ci.yml"), inner.join(".gitlab-ci.yml")).unwrap();
    std::fs::write(plain.path().join(".tokenscope.yaml"), "rules:\n  missing-allowlist-entry: off\n").unwrap();
    let (out, _) = run(&inner);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!doc["findings"].as_array().unwrap().is_empty(), "an unrelated directory's policy was used");
}

#[test]
fn markdown_links_point_at_the_commit_linted() {
    let tmp = repo();
    let markdown = |sha: Option<&str>| {
        let mut cmd = common::tokenscope(tmp.path());
        if let Some(sha) = sha {
            cmd.env("CI_COMMIT_SHA", sha);
        }
        let args = ["lint", "--project", "team/app", "--url", "https://gitlab.example.com", "--offline"];
        let out = cmd.args(args).args(["--format", "markdown"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let md = markdown(Some(sha));
    assert!(md.contains(&format!("https://gitlab.example.com/team/app/-/blob/{sha}/.gitlab-ci.yml#L3")), "{md}");
    // Without it, the default branch.
    assert!(markdown(None).contains("/-/blob/main/.gitlab-ci.yml#L3"));
}
