//! Hostile and broken input (tests/hostile/): each case yields a clear error naming the file (and line
//! where there is one), the rest of the audit goes on, and nothing panics, hangs or reads outside the
//! snapshot.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

fn case_dir(name: &str) -> PathBuf {
    common::root().join("tests/hostile").join(name)
}

/// A copy of a case in a temporary directory, for cases whose input is written by the test.
fn copy_case(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = vec![case_dir(name)];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(case_dir(name)).unwrap();
            if p.is_dir() {
                fs::create_dir_all(tmp.path().join(rel)).unwrap();
                stack.push(p);
            } else {
                fs::create_dir_all(tmp.path().join(rel).parent().unwrap()).unwrap();
                fs::copy(&p, tmp.path().join(rel)).unwrap();
            }
        }
    }
    tmp
}

fn bad_file(dir: &Path, rel: &str) -> PathBuf {
    let p = dir.join("repos/bad/app").join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    p
}

/// Run `audit` on a snapshot; the output must hold every expected text, and the healthy project must
/// still be audited.
fn check(dir: &Path, exit: &str, expected: &[&str]) -> String {
    let started = std::time::Instant::now();
    let out = common::run_in(&common::root(), &["jobs", dir.to_str().unwrap()]);
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
    assert!(out.starts_with(&format!("exit: {exit}\n")), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    for e in expected {
        assert!(out.contains(e), "expected `{e}` in:\n{out}");
    }
    assert!(!out.contains("root:x:0"), "read /etc/passwd:\n{out}");
    out
}

fn check_ci(dir: &Path, expected: &[&str]) {
    let out = check(dir, "3", expected);
    assert!(out.contains("job ok  [stage test]"), "the healthy project must still be resolved:\n{out}");
}

#[test]
fn alias_bomb() {
    check_ci(&case_dir("alias-bomb"), &["repos/bad/app/.gitlab-ci.yml:6:", "alias-expansion bomb"]);
}

#[test]
fn nesting_ten_thousand_deep() {
    let tmp = copy_case("deep-nesting");
    let deep = format!("job:\n  script: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), deep).unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml:2:", "nesting is deeper than 100 levels"]);
}

#[test]
fn a_200_mb_file_is_not_read() {
    let tmp = copy_case("huge-file");
    let f = fs::File::create(bad_file(tmp.path(), ".gitlab-ci.yml")).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml", "larger than the 8 MiB limit; not read"]);
}

#[test]
fn invalid_utf8() {
    let tmp = copy_case("invalid-utf8");
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), b"job:\n  script:\n    - echo \xff\xfe\n").unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml:3:12", "not valid UTF-8"]);
}

#[test]
fn nul_byte() {
    let tmp = copy_case("nul-byte");
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), b"job:\n  script: echo \x00\n").unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml:2:", "NUL byte"]);
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let tmp = copy_case("bom");
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), "\u{feff}job:\n  script: echo bom\n").unwrap();
    let out = check(
        tmp.path(),
        "0",
        &[
            "job job  [stage test]  repos/bad/app/.gitlab-ci.yml:1:",
            "script: echo bom  repos/bad/app/.gitlab-ci.yml:2:",
        ],
    );
    assert!(out.contains("job ok"));
}

#[test]
fn crlf_line_ends_are_accepted() {
    let tmp = copy_case("crlf");
    fs::write(
        bad_file(tmp.path(), ".gitlab-ci.yml"),
        "first:\r\n  script: echo one\r\nsecond:\r\n  script: echo two\r\n",
    )
    .unwrap();
    check(
        tmp.path(),
        "0",
        &[
            "job second  [stage test]  repos/bad/app/.gitlab-ci.yml:3:1",
            "script: echo two  repos/bad/app/.gitlab-ci.yml:4:",
        ],
    );
}

#[test]
fn tab_indentation() {
    check_ci(&case_dir("tabs"), &["repos/bad/app/.gitlab-ci.yml:2:", "tabs disallowed"]);
}

#[test]
fn duplicate_keys_warn_and_keep_the_last() {
    let out =
        check(&case_dir("duplicate-keys"), "0", &["repos/bad/app/.gitlab-ci.yml:3:1", "defined twice", "echo second"]);
    assert!(!out.contains("echo first  "), "{out}");
}

#[test]
fn extends_cycle() {
    check_ci(&case_dir("extends-cycle"), &["repos/bad/app/.gitlab-ci.yml:4:12", "circular dependency in `extends`"]);
}

#[test]
fn reference_cycle() {
    check_ci(&case_dir("reference-cycle"), &["repos/bad/app/.gitlab-ci.yml:2:11", "nested deeper than 10 levels"]);
}

#[test]
fn include_cycle() {
    check_ci(&case_dir("include-cycle"), &["repos/bad/app/two.yml:1:10", "include cycle"]);
}

#[test]
fn include_chain_past_gitlabs_depth() {
    check_ci(&case_dir("include-depth"), &["includes nested deeper than 100 levels (GitLab's limit)"]);
}

#[test]
fn include_count_past_gitlabs_limit() {
    check_ci(&case_dir("include-count"), &["repos/bad/app/.gitlab-ci.yml:152:5", "more than 150 includes"]);
}

#[test]
fn include_local_climbing_out() {
    check_ci(
        &case_dir("include-local-escape"),
        &["repos/bad/app/.gitlab-ci.yml:2:12", "climbs out of the repository; not read"],
    );
}

#[test]
fn include_local_absolute_path_stays_in_the_repository() {
    check_ci(
        &case_dir("include-local-absolute"),
        &[
            "repos/bad/app/.gitlab-ci.yml:2:12",
            "`/etc/passwd` does not exist in project `bad/app`",
            "a leading `/` means the root",
        ],
    );
}

#[test]
fn include_project_with_dotdot() {
    check_ci(&case_dir("include-project-dotdot"), &["`../../etc` is not a valid project path; not read"]);
}

#[cfg(unix)]
#[test]
fn symlinked_file_leading_out() {
    let tmp = copy_case("symlink-file");
    std::os::unix::fs::symlink("/etc/passwd", bad_file(tmp.path(), ".gitlab-ci.yml")).unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml", "leads outside the snapshot"]);
}

#[cfg(unix)]
#[test]
fn symlinked_directory_leading_out() {
    let tmp = copy_case("symlink-dir");
    std::os::unix::fs::symlink("/etc", tmp.path().join("repos/bad/app/ci")).unwrap();
    check_ci(tmp.path(), &["repos/bad/app/ci/passwd", "leads outside the snapshot"]);
}

/// A named pipe would block a reader until something writes to it: it is refused, not waited on.
#[cfg(unix)]
#[test]
fn named_pipe_is_not_read() {
    let tmp = copy_case("symlink-file");
    let pipe = std::ffi::CString::new(bad_file(tmp.path(), ".gitlab-ci.yml").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(pipe.as_ptr(), 0o644) }, 0, "mkfifo");
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml", "not a regular file"]);
}

/// A directory link that stays inside the snapshot is followed; one whose target is itself a link leading
/// out is refused, however the chain runs.
#[cfg(unix)]
#[test]
fn symlinked_directories_inside_the_snapshot() {
    let tmp = copy_case("symlink-dir");
    let shared = tmp.path().join("repos/ok/app/shared");
    fs::create_dir_all(&shared).unwrap();
    fs::write(shared.join("passwd"), "linked-job:\n  script: echo linked\n").unwrap();
    std::os::unix::fs::symlink("../../ok/app/shared", tmp.path().join("repos/bad/app/ci")).unwrap();
    let out = check(tmp.path(), "0", &["job linked-job"]);
    assert!(!out.contains("leads outside"), "{out}");

    let tmp = copy_case("symlink-dir");
    std::os::unix::fs::symlink("/etc", tmp.path().join("repos/ok/app/hop")).unwrap();
    std::os::unix::fs::symlink("../../ok/app/hop", tmp.path().join("repos/bad/app/ci")).unwrap();
    check_ci(tmp.path(), &["repos/bad/app/ci/passwd", "leads outside the snapshot"]);
}

#[test]
fn manifest_cases() {
    for (case, message) in [
        ("manifest-not-a-map", "tokenscope.yaml:1:1"),
        ("manifest-wrong-types", "`instance.enforce_allowlist` must be true or false"),
        ("manifest-duplicate-projects", "`a/b` is defined twice"),
        ("manifest-dotdot-path", "`../../etc` is not a valid project path"),
    ] {
        check(&case_dir(case), "2", &[message, "tokenscope.yaml"]);
    }
}

#[test]
fn every_case_is_tested() {
    let source = fs::read_to_string(common::root().join("tests/hostile.rs")).unwrap();
    for e in fs::read_dir(common::root().join("tests/hostile")).unwrap().flatten() {
        if e.path().is_dir() {
            let name = e.file_name().to_string_lossy().to_string();
            assert!(source.contains(&format!("\"{name}\"")), "tests/hostile/{name} has no test");
        }
    }
}

/// Text from scanned files never reaches the terminal raw: a `.gitmodules` URL, a job name, an include path
/// and a variable holding escape sequences (set the title, clear the screen, a carriage return, a
/// bidirectional override) come out escaped in every text format and in the diagnostics, and as JSON escapes
/// in JSON.
#[test]
fn control_characters_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let hostile = "\u{1b}]0;PWNED\u{7}\u{1b}[2J\rspoof\u{202e}";
    // The same, as a YAML double-quoted scalar writes it (a raw carriage return would end the line).
    let yaml = "\\e]0;PWNED\\a\\e[2J\\rspoof\\u202e";
    fs::write(
        d.join("tokenscope.yaml"),
        "instance:\n  url: https://gitlab.example.com\nprojects:\n  svc/app:\n    job_token: {inbound_enabled: true}\n  svc/lib:\n    job_token: {inbound_enabled: true}\n  svc/other: {}\n",
    )
    .unwrap();
    let other = d.join("repos/svc/other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join(".gitlab-ci.yml"), format!("include:\n  - local: \"/missing{yaml}.yml\"\n")).unwrap();
    let repo = d.join("repos/svc/app");
    fs::create_dir_all(&repo).unwrap();
    fs::write(repo.join(".gitmodules"), format!("[submodule \"x\"]\n  path = x\n  url = ../lib{hostile}\n")).unwrap();
    fs::write(
        repo.join(".gitlab-ci.yml"),
        format!(
            "variables:\n  GIT_SUBMODULE_STRATEGY: recursive\n\"build{yaml}\":\n  script:\n    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@gitlab.example.com/svc/lib.git\n    - 'curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"https://gitlab.example.com/api/v4/projects/$TARGET/releases\"'\n  variables:\n    TARGET: \"svc{yaml}\"\n"
        ),
    )
    .unwrap();
    let snap = d.to_str().unwrap();
    let mut runs: Vec<Vec<&str>> =
        ["human", "markdown", "csv", "junit", "dot", "mermaid", "json", "sarif", "codequality"]
            .iter()
            .map(|f| vec!["audit", snap, "--format", f])
            .collect();
    runs.push(vec!["jobs", snap]);
    runs.push(vec!["audit", snap, "--color", "always"]);
    // With --color always, tokenscope's own colour codes are the only escapes (ESC [ ... m).
    let own_colour = regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap();
    for args in runs {
        let out = common::tokenscope(&common::root()).args(&args).output().unwrap();
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            let rest = own_colour.replace_all(&text, "");
            let bad: Vec<char> =
                rest.chars().filter(|c| (c.is_control() && *c != '\n' && *c != '\t') || *c == '\u{202e}').collect();
            assert!(bad.is_empty(), "{args:?} {stream} holds {bad:?}:\n{text}");
            assert!(!rest.contains("PWNED\u{7}"), "{args:?} {stream}");
        }
        assert!(out.status.code().is_some_and(|c| c <= 3), "{args:?}: {:?}", out.status);
        if args.contains(&"human") {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.contains("\\u{1b}]0;PWNED\\u{7}"), "shown escaped:\n{stdout}");
        }
    }
}
