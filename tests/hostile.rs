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

/// What a child run of tokenscope cost.
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    /// `None` where the system does not say (no /proc/self/status).
    peak_mib: Option<u64>,
    secs: f64,
}

/// Audit `dir` (JSON) in a child process; its peak memory is what it reports with `--timings` (the kernel's
/// high-water mark of the process since it started, read from /proc/self/status).
fn measured(dir: &Path) -> Measured {
    let started = std::time::Instant::now();
    let out = common::tokenscope(&common::root())
        .args(["audit", dir.to_str().unwrap(), "--format", "json", "--fail-on", "never", "--timings"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak_mib =
        stderr.lines().find_map(|l| l.strip_prefix("timing: peak memory ")?.strip_suffix(" MiB")?.parse().ok());
    Measured {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        peak_mib,
        secs: started.elapsed().as_secs_f64(),
    }
}

/// A copy of the amplification case with `repos/bad/app` holding `files`; the manifest can be replaced.
fn amplify(files: &[(&str, String)], manifest: Option<String>) -> tempfile::TempDir {
    let tmp = copy_case("amplify");
    for (name, text) in files {
        fs::write(bad_file(tmp.path(), name), text).unwrap();
    }
    if let Some(m) = manifest {
        fs::write(tmp.path().join("tokenscope.yaml"), m).unwrap();
    }
    tmp
}

/// The run stayed within `max_mib` and `max_secs`, said `expected` (if anything), and audited `ok/app`.
fn bounded(dir: &Path, max_mib: u64, max_secs: f64, expected: Option<&str>) {
    let m = measured(dir);
    assert!(m.code == 0 || m.code == 3, "exit {}: {}", m.code, m.stderr);
    assert!(!m.stderr.contains("panicked"), "{}", m.stderr);
    match m.peak_mib {
        Some(peak) => assert!(peak <= max_mib, "peak memory {peak} MiB over {max_mib} MiB"),
        None => common::say("  amplification: memory bound SKIPPED (this system reports no peak memory)"),
    }
    assert!(m.secs <= max_secs, "took {:.1} s, over {max_secs} s", m.secs);
    if let Some(e) = expected {
        assert!(m.stderr.contains(e), "expected `{e}` in:\n{}", m.stderr);
    }
    let doc: serde_json::Value = serde_json::from_str(&m.stdout).expect("a JSON report");
    let ok = doc["projects"].as_array().unwrap().iter().find(|p| p["path"] == "ok/app").expect("ok/app");
    assert_eq!(ok["status"], "ok", "the healthy project is audited");
    common::say(&format!("  amplification: {:.2} s, {:?} MiB peak", m.secs, m.peak_mib));
}

const BUDGET_ERROR: &str = "copies more than tokenscope allows";

fn lines(n: usize) -> String {
    (0..n).map(|i| format!("    - echo line {i} with some text to make it longer\n")).collect()
}

#[test]
fn amplify_alias_of_a_large_scalar() {
    let big = "x".repeat(100_000);
    let aliases = vec!["*a"; 3000].join(", ");
    let tmp = amplify(&[(".gitlab-ci.yml", format!(".a: &a \"{big}\"\nj:\n  script: [{aliases}]\n"))], None);
    bounded(tmp.path(), 400, 20.0, Some("nodes through aliases"));
}

#[test]
fn amplify_extends_and_default_fan_out() {
    let jobs: String = (0..10_000).map(|i| format!("j{i}:\n  extends: .base\n")).collect();
    let tmp = amplify(&[(".gitlab-ci.yml", format!(".base:\n  script:\n{}{jobs}", lines(2000)))], None);
    bounded(tmp.path(), 600, 20.0, Some(BUDGET_ERROR));
    let jobs: String = (0..10_000).map(|i| format!("j{i}:\n  script: [x]\n")).collect();
    let tmp = amplify(&[(".gitlab-ci.yml", format!("default:\n  before_script:\n{}{jobs}", lines(2000)))], None);
    bounded(tmp.path(), 600, 20.0, Some(BUDGET_ERROR));
}

#[test]
fn amplify_reference_fan_out_and_matrix() {
    let refs = |to: &str| -> String { (0..100).map(|_| format!("    - !reference [{to}, script]\n")).collect() };
    let text = format!(
        ".base:\n  script:\n{}.l1:\n  script:\n{}.l2:\n  script:\n{}j:\n  script:\n{}",
        lines(2000),
        refs(".base"),
        refs(".l1"),
        refs(".l2")
    );
    bounded(amplify(&[(".gitlab-ci.yml", text)], None).path(), 600, 20.0, Some(BUDGET_ERROR));
    let values: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    let text = format!("j:\n  parallel:\n    matrix:\n      - A: [{}]\n  script:\n{}", values.join(","), lines(10_000));
    bounded(amplify(&[(".gitlab-ci.yml", text)], None).path(), 600, 20.0, Some(BUDGET_ERROR));
}

#[test]
fn amplify_variables_that_fan_out_to_nothing() {
    let mut text = String::from("variables:\n");
    for i in 0..8 {
        text.push_str(&format!("  V{i}: \"{}\"\n", format!("$V{}", i + 1).repeat(50)));
    }
    text.push_str("  V8: \"\"\nj:\n  script:\n    - 'curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" https://gitlab.example.com/api/v4/projects/$V0/x ${V0%%a*b}'\n");
    bounded(amplify(&[(".gitlab-ci.yml", text)], None).path(), 200, 10.0, None);
}

#[test]
fn amplify_include_globs_that_include_themselves() {
    let mut files = vec![(".gitlab-ci.yml", "include:\n  - local: 'inc/*.yml'\n".to_string())];
    let names: Vec<String> = (0..200).map(|i| format!("inc/f{i}.yml")).collect();
    for (i, n) in names.iter().enumerate() {
        files.push((n.as_str(), format!("include:\n  - local: 'inc/*.yml'\n.x{i}: {{script: [x]}}\n")));
    }
    let tmp = amplify(&files, None);
    bounded(tmp.path(), 300, 20.0, Some("more than 150 includes"));
}

#[test]
fn amplify_large_maps_aliases_and_commands() {
    let keys: String = (0..200_000).map(|i| format!("  k{i}: v\n")).collect();
    bounded(
        amplify(&[(".gitlab-ci.yml", format!(".a: &a\n{keys}j:\n  <<: *a\n  script: [x]\n"))], None).path(),
        800,
        20.0,
        None,
    );
    let aliases: String = (0..100_000)
        .map(|i| format!("    - T{i}=$T{}\n", if i == 0 { "CI_JOB_TOKEN".into() } else { (i - 1).to_string() }))
        .collect();
    bounded(amplify(&[(".gitlab-ci.yml", format!("j:\n  script:\n{aliases}"))], None).path(), 800, 20.0, None);
    let cmds: String = (0..50_000)
        .map(|i| format!("      curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" $CI_API_V4_URL/projects/{i}/releases\n"))
        .collect();
    bounded(amplify(&[(".gitlab-ci.yml", format!("j:\n  script:\n    - |\n{cmds}"))], None).path(), 800, 20.0, None);
    let ors = vec!["false"; 100_000].join(" || ");
    bounded(amplify(&[(".gitlab-ci.yml", format!("j:\n  script:\n    - \"{ors}\"\n"))], None).path(), 300, 10.0, None);
}

#[test]
fn amplify_an_allowlist_of_250000_entries() {
    let entries: String = (0..250_000).map(|i| format!("        - project: g{}/p{i}\n", i % 500)).collect();
    let manifest = format!(
        "instance:\n  url: https://gitlab.example.com\nprojects:\n  ok/app: {{}}\n  bad/app:\n    job_token:\n      inbound_enabled: true\n      allowlist:\n{entries}"
    );
    let tmp = amplify(&[(".gitlab-ci.yml", "j:\n  script: [make]\n".into())], Some(manifest));
    bounded(tmp.path(), 1000, 20.0, None);
}

#[test]
fn a_column_past_65535_is_reported_without_a_snippet() {
    let tmp = copy_case("amplify");
    let line = format!("job: {{script: [{} {{bad: map}}]}}\n", "x,".repeat(40_000));
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), line).unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml:1:80017", "a `script` entry is a map"]);
}

#[test]
fn an_include_path_of_20000_segments_is_refused() {
    let tmp = copy_case("amplify");
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), format!("include:\n  - local: {}x.yml\n", "a/".repeat(20_000)))
        .unwrap();
    check_ci(tmp.path(), &["repos/bad/app/.gitlab-ci.yml:2:12", "longer than a repository path can be"]);
}

#[cfg(unix)]
#[test]
fn a_manifest_or_policy_linked_outside_is_not_read() {
    let tmp = copy_case("amplify");
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), "j: {script: [make]}\n").unwrap();
    let manifest = tmp.path().join("tokenscope.yaml");
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yaml");
    fs::write(&secret, "root:x:0:0:secret outside the snapshot\n").unwrap();
    fs::rename(&manifest, outside.path().join("real.yaml")).unwrap();
    std::os::unix::fs::symlink(&secret, &manifest).unwrap();
    let out = common::run_in(&common::root(), &["audit", tmp.path().to_str().unwrap()]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(out.contains("a symbolic link that leads outside the snapshot") && !out.contains("root:x"), "{out}");
    fs::remove_file(&manifest).unwrap();
    fs::rename(outside.path().join("real.yaml"), &manifest).unwrap();
    std::os::unix::fs::symlink(&secret, tmp.path().join(".tokenscope.yml")).unwrap();
    let out = common::run_in(&common::root(), &["audit", tmp.path().to_str().unwrap()]);
    assert!(out.contains(".tokenscope.yml: a symbolic link that leads outside") && !out.contains("root:x"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_repository_linked_outside_is_not_listed() {
    let tmp = copy_case("amplify");
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir_all(outside.path().join("ci")).unwrap();
    fs::write(outside.path().join("ci/leak.yml"), "leaked:\n  script: [echo outside]\n").unwrap();
    fs::write(outside.path().join(".gitlab-ci.yml"), "include:\n  - local: 'ci/*.yml'\n").unwrap();
    let bad = tmp.path().join("repos/bad/app");
    let _ = fs::remove_dir_all(&bad);
    fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(outside.path(), &bad).unwrap();
    let out = check(tmp.path(), "3", &["leads outside the snapshot"]);
    assert!(!out.contains("leaked"), "{out}");
}

#[cfg(unix)]
#[test]
fn output_linked_into_the_snapshot_is_refused() {
    let tmp = copy_case("amplify");
    fs::write(bad_file(tmp.path(), ".gitlab-ci.yml"), "j: {script: [make]}\n").unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let target = tmp.path().join("repos/ok/app/.gitlab-ci.yml");
    let before = fs::read_to_string(&target).unwrap();
    std::os::unix::fs::symlink(&target, out_dir.path().join("report.json")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("repos/new.json"), out_dir.path().join("dangling.json")).unwrap();
    for name in ["report.json", "dangling.json"] {
        let out = common::run_in(
            out_dir.path(),
            &["audit", tmp.path().to_str().unwrap(), "--format", "json", "--output", name],
        );
        assert!(out.starts_with("exit: 2\n") && out.contains("tokenscope does not write into it"), "{out}");
    }
    assert_eq!(fs::read_to_string(&target).unwrap(), before);
    assert!(!tmp.path().join("repos/new.json").exists());
}
