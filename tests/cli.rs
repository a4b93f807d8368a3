//! Command-line rough edges a new user hits: the human table fits the terminal, a huge line next to a
//! finding is not printed, `-q` and `-v`, and a man page per command with its exit codes.

mod common;

fn audit(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = common::tokenscope(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn the_edge_table_fits_the_terminal_and_long_cells_are_cut() {
    let root = common::root();
    let (_, out, _) = audit(&root, &[("COLUMNS", "100")], &["audit", "fixtures/demo-org", "--fail-on", "never"]);
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Job-token edges"))
        .skip(1)
        .take_while(|l| !l.is_empty() && !l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(table.len() > 10, "{out}");
    for line in &table {
        assert!(line.chars().count() <= 100, "{} columns: {line}", line.chars().count());
    }
    // Without a width (a file, a pipe) the table is whole, and a long unresolved expression is still cut
    // with an ellipsis in the human table while JSON keeps it.
    let (_, wide, _) = audit(&root, &[], &["audit", "fixtures/demo-org", "--fail-on", "never"]);
    let widest = wide.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 100, "no width: nothing is wrapped ({widest})");
    assert!(wide.contains("$CI_API_V4_URL/projects/$DOCS_PROJECT_ID/jobs/artifacts/mai…"), "{wide}");
    let (_, json, _) =
        audit(&root, &[("COLUMNS", "100")], &["audit", "fixtures/demo-org", "--fail-on", "never", "--format", "json"]);
    assert!(json.contains("$CI_API_V4_URL/projects/$DOCS_PROJECT_ID/jobs/artifacts/main/download?job=pages"));
}

#[test]
fn a_huge_line_next_to_a_finding_is_not_printed() {
    let org = common::copy_fixture("fixtures/demo-org");
    let ci = org.path().join("repos/acme/services/web/.gitlab-ci.yml");
    let text = std::fs::read_to_string(&ci).unwrap();
    // A 3 MB comment line just above the line with the foreign-host finding.
    let huge = format!("    # {}\n", "x".repeat(3_000_000));
    let at = text.find("    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.com").unwrap();
    std::fs::write(&ci, format!("{}{huge}{}", &text[..at], &text[at..])).unwrap();
    let (_, out, err) = audit(org.path(), &[], &["audit", ".", "--fail-on", "never"]);
    assert!(out.contains("job-token-to-foreign-host"), "{err}");
    assert!(out.len() + err.len() < 200_000, "{} bytes printed", out.len() + err.len());
}

#[test]
fn quiet_and_verbose() {
    let root = common::root();
    let (_, _, err) =
        audit(&root, &[], &["-v", "audit", "fixtures/demo-org", "--fail-on", "never", "--format", "json"]);
    assert!(err.contains("timing: total") && err.contains("policy: none found"), "{err}");
    let org = common::copy_fixture("fixtures/demo-org");
    std::fs::write(
        org.path().join(".tokenscope.yml"),
        "ignores:\n  - {rule: missing-allowlist-entry, callee: acme/nowhere, reason: stale}\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("man");
    let (code, _, err) = audit(org.path(), &[], &["-q", "man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(err.is_empty(), "-q says nothing but warnings: {err}");
    let (_, _, err) = audit(org.path(), &[], &["-q", "audit", ".", "--fail-on", "never", "--format", "json"]);
    assert!(err.contains("matches no finding"), "-q still shows warnings: {err}");
    let (code, _, _) = audit(&root, &[], &["-q", "-v", "rules"]);
    assert_eq!(code, 2, "-q and -v conflict");
}

#[test]
fn every_command_has_a_man_page_with_its_exit_codes() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("man");
    let (code, _, err) = audit(&common::root(), &[], &["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for cmd in ["audit", "lint", "snapshot", "plan", "apply", "rollback", "rollout", "explain", "graph", "jobs"] {
        let page = std::fs::read_to_string(dir.join(format!("tokenscope-{cmd}.1"))).unwrap();
        assert!(page.contains(".TH tokenscope\\-") || page.contains(".TH tokenscope-"), "{cmd}: not a man page");
        assert!(page.contains("Exit codes"), "{cmd}: no exit codes");
        assert!(page.contains(".SH OPTIONS"), "{cmd}: no options");
    }
    let (_, page, _) = audit(&common::root(), &[], &["man", "audit"]);
    assert!(
        page.contains("\\-\\-fail\\-on") && page.contains("secret\\-detection"),
        "the audit page lists options and formats"
    );
    let (code, _, err) = audit(&common::root(), &[], &["man", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("the commands are audit"));
}
