//! `tokenscope audit` run by the real binary on fixtures: what a user sees, snapshotted.
//! Every rule has cases that must fire and close cases that must not (see the comments in the fixtures).

mod common;

use std::collections::BTreeSet;

fn audit_json(dir: &str) -> serde_json::Value {
    let out = common::tokenscope(&common::root()).args(["audit", dir, "--format", "json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn rules_fired(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

#[test]
fn demo_org_human() {
    insta::assert_snapshot!("demo-org", common::run(&["audit", "fixtures/demo-org"]));
}

#[test]
fn demo_org_json() {
    insta::assert_json_snapshot!("demo-org-json", audit_json("fixtures/demo-org"));
}

#[test]
fn demo_org_fires_every_rule() {
    let fired = rules_fired(&audit_json("fixtures/demo-org"));
    let all: BTreeSet<String> = tokenscope::rules::metas().iter().map(|m| m.id.to_string()).collect();
    assert_eq!(fired, all);
}

#[test]
fn coverage_cases() {
    insta::assert_snapshot!("coverage", common::run(&["audit", "fixtures/audit/coverage"]));
}

#[test]
fn instance_enforcement_overrides_project_setting() {
    let out = common::run(&["audit", "fixtures/audit/instance-enforced"]);
    assert!(!out.contains("allowlist-disabled"), "{out}");
    insta::assert_snapshot!("instance-enforced", out);
}

#[test]
fn allowlist_entry_cases() {
    insta::assert_snapshot!("entries", common::run(&["audit", "fixtures/audit/entries"]));
}

#[test]
fn target_resolution_cases() {
    insta::assert_snapshot!("targets", common::run(&["audit", "fixtures/audit/targets"]));
}

#[test]
fn near_misses_do_not_fire() {
    let doc = audit_json("fixtures/audit/entries");
    let about = |rule: &str| -> Vec<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| format!("{}|{}", f["project"].as_str().unwrap(), f["entry"].as_str().unwrap_or("")))
            .collect()
    };
    // Exactly the entries that must fire; the auth-log, broken, vague, group-used, outside and archived ones must not.
    assert_eq!(about("unused-allowlist-entry"), ["p/callee|p/idle"]);
    assert_eq!(about("stale-allowlist-entry"), ["p/callee|p/archived"]);
    assert_eq!(about("overbroad-group-entry"), ["q/callee|q"]);
    assert_eq!(about("allowlist-over-limit"), ["t/callee|"]);
    assert_eq!(about("expired-allowlist-entry"), ["p/callee|p/by-log"]);
}

#[test]
fn rules_list() {
    insta::assert_snapshot!("rules", common::run(&["rules"]));
}

#[test]
fn exit_codes() {
    let code = |args: &[&str]| common::run(args).lines().next().unwrap().to_string();
    assert_eq!(code(&["audit", "fixtures/demo-org"]), "exit: 1", "errors found");
    assert_eq!(code(&["audit", "fixtures/demo-org", "--fail-on", "never"]), "exit: 0");
    assert_eq!(code(&["audit", "fixtures/audit/targets"]), "exit: 0", "warnings only, fail-on error");
    assert_eq!(code(&["audit", "fixtures/audit/targets", "--fail-on", "warning"]), "exit: 1");
    assert_eq!(code(&["audit", "fixtures/ci/errors"]), "exit: 3", "a project failed to load");
    assert_eq!(code(&["audit", "fixtures/manifest/unknown-key"]), "exit: 2", "manifest error");
    assert_eq!(code(&["audit"]), "exit: 2", "usage error");
}

#[test]
fn fingerprints_do_not_depend_on_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        for e in walk(from) {
            let rel = e.strip_prefix(from).unwrap();
            std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
            std::fs::copy(&e, to.join(rel)).unwrap();
        }
    };
    let src = common::root().join("fixtures/demo-org");
    copy(&src, tmp.path());
    let before = audit_json(src.to_str().unwrap());
    // Move every line of every CI file and of the manifest down.
    for e in walk(tmp.path()) {
        if e.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            let text = std::fs::read_to_string(&e).unwrap();
            std::fs::write(&e, format!("# moved\n# down\n\n{text}")).unwrap();
        }
    }
    let after = audit_json(tmp.path().to_str().unwrap());
    // (rule, fingerprint, line in a file the test moved, or 0)
    let prints = |d: &serde_json::Value| -> Vec<(String, String, u64)> {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let file = f["location"]["file"].as_str().unwrap_or("");
                let moved = file.ends_with(".yml") || file.ends_with(".yaml");
                let line = if moved { f["location"]["line"].as_u64().unwrap_or(0) } else { 0 };
                (f["rule"].as_str().unwrap().to_string(), f["fingerprint"].as_str().unwrap().to_string(), line)
            })
            .collect()
    };
    let (b, a) = (prints(&before), prints(&after));
    assert_eq!(b.len(), a.len());
    for (x, y) in b.iter().zip(&a) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1), "same finding, same fingerprint");
        if x.2 > 0 {
            assert_eq!(x.2 + 3, y.2, "the line did move");
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}

#[test]
fn policy_presets_change_severities_and_failure() {
    let strict = audit_with(&["fixtures/demo-org", "--config", "policies/strict.yml"]);
    // strict.yml raises these rules to errors; every one of them fires on the demo org.
    for rule in ["unused-allowlist-entry", "stale-allowlist-entry", "allowlist-disabled", "overbroad-group-entry"] {
        let sev: Vec<&str> = strict["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| f["severity"].as_str().unwrap())
            .collect();
        assert!(!sev.is_empty() && sev.iter().all(|s| *s == "error"), "{rule}: {sev:?}");
    }
    let rollout = audit_with(&["fixtures/audit/coverage", "--config", "policies/enforcement-rollout.yml"]);
    let severities: Vec<(&str, &str)> = rollout["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    // The unenforced access becomes an error; allowlist-disabled becomes a note.
    assert!(severities.iter().all(|(r, s)| *r != "missing-allowlist-entry" || *s == "error"), "{severities:?}");
    assert!(severities.contains(&("allowlist-disabled", "note")), "{severities:?}");
    let code = |args: &[&str]| common::run(args).lines().next().unwrap().to_string();
    assert_eq!(code(&["audit", "fixtures/audit/targets", "--config", "policies/strict.yml"]), "exit: 1");
    assert_eq!(
        code(&["audit", "fixtures/audit/targets", "--config", "policies/strict.yml", "--fail-on", "error"]),
        "exit: 0"
    );
}

#[test]
fn snapshot_policy_is_found_at_the_root() {
    let doc = audit_json("fixtures/audit/policy");
    assert!(!rules_fired(&doc).contains("allowlist-disabled"));
    assert!(doc["findings"].as_array().unwrap().iter().all(|f| f["severity"] == "warning"));
    assert_eq!(common::run(&["audit", "fixtures/audit/policy"]).lines().next().unwrap(), "exit: 0");
}

#[test]
fn a_bad_policy_is_a_usage_error_at_its_lines() {
    insta::assert_snapshot!(
        "bad-policy",
        common::run(&["audit", "fixtures/demo-org", "--config", "fixtures/config/bad.yml"])
    );
}

fn audit_with(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = common::tokenscope(&common::root()).args(&all).output().unwrap();
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn a_token_in_the_snapshot_is_never_printed() {
    // fixtures/demo-org/repos/acme/legacy/old-app/.gitlab-ci.yml holds a (made-up) personal access token.
    let secret = "Xq7vR2mN9kL4pT8wZ3yB";
    let file =
        std::fs::read_to_string(common::root().join("fixtures/demo-org/repos/acme/legacy/old-app/.gitlab-ci.yml"))
            .unwrap();
    assert!(file.contains(secret), "the fixture must hold the token for this test to mean anything");
    for args in [
        &["audit", "fixtures/demo-org"][..],
        &["audit", "fixtures/demo-org", "--format", "json"],
        &["jobs", "fixtures/demo-org"],
        &["jobs", "fixtures/demo-org", "--format", "json"],
    ] {
        let out = common::run(args);
        assert!(!out.contains(secret), "{args:?} printed the token");
    }
}

/// The token-mistake rules on fixtures/audit/lints: where each fires (rule and line), and nothing on the
/// near-misses written beside them.
#[test]
fn lint_rules_fire_and_near_misses_do_not() {
    let doc = audit_json("fixtures/audit/lints");
    let lints = [
        "overbroad-permissions",
        "job-token-overridden",
        "job-token-in-url",
        "tier-unsupported-job-token-auth",
        "silenced-auth-failure",
        "hardcoded-gitlab-token",
        "job-token-to-foreign-host",
        "outbound-scope-deprecated",
    ];
    let mut rows: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| lints.contains(&f["rule"].as_str().unwrap()))
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["rule"].as_str().unwrap(),
                f["location"]["file"].as_str().unwrap_or("-"),
                f["location"]["line"],
                f["entry"].as_str().unwrap_or("")
            )
        })
        .collect();
    rows.sort();
    insta::assert_snapshot!("lints", rows.join("\n"));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = common::run(&["completions", shell]);
        assert!(out.starts_with("exit: 0\n") && out.contains("audit") && out.contains("fail-on"), "{shell}: {out}");
    }
    let man = common::run(&["man"]);
    assert!(man.starts_with("exit: 0\n") && man.contains(".TH tokenscope") && man.contains("audit"), "{man}");
}

fn audit_on(dir: &str, today: &str, format: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = common::tokenscope(&common::root())
        .env("TOKENSCOPE_TODAY", today)
        .args(["audit", dir, "--format", format])
        .args(extra)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), doc, String::from_utf8_lossy(&out.stderr).to_string())
}

/// fixtures/audit/suppress: two policy ignores (one with `until`), one expired ignore, one inline comment.
#[test]
fn suppressions_and_their_expiry() {
    let dir = "fixtures/audit/suppress";
    let (_, doc, stderr) = audit_on(dir, "2026-11-22", "json", &[]);
    let mut sup: Vec<String> = doc["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!("{} {} {}", s["rule"].as_str().unwrap(), s["project"].as_str().unwrap(), s["by"].as_str().unwrap())
        })
        .collect();
    sup.sort();
    assert_eq!(
        sup,
        [
            "allowlist-disabled a/open policy",
            "missing-allowlist-entry a/lib policy",
            "missing-allowlist-entry a/open inline"
        ]
    );
    assert_eq!(doc["summary"]["findings"]["suppressed"], 3);
    assert!(stderr.contains("expired on 2026-01-31"), "{stderr}");
    assert_eq!(doc["expired_ignores"].as_array().unwrap().len(), 1);
    assert!(rules_fired(&doc).contains("job-token-to-foreign-host"), "the expired ignore no longer applies");
    // After its `until` day, the a/user ignore stops applying too.
    let (_, later, _) = audit_on(dir, "2026-12-01", "json", &[]);
    assert_eq!(later["summary"]["findings"]["suppressed"], 2);
    // --no-ignores reports everything.
    let (_, all, _) = audit_on(dir, "2026-11-22", "json", &["--no-ignores"]);
    assert_eq!(all["summary"]["findings"]["suppressed"], 0);
    assert_eq!(all["findings"].as_array().unwrap().len(), doc["findings"].as_array().unwrap().len() + 3);
    // Every format counts them.
    let (_, sarif, _) = audit_on(dir, "2026-11-22", "sarif", &[]);
    let with_sup =
        sarif["runs"][0]["results"].as_array().unwrap().iter().filter(|r| r["suppressions"].is_array()).count();
    assert_eq!(with_sup, 3);
    let human = common::tokenscope(&common::root())
        .env("TOKENSCOPE_TODAY", "2026-11-22")
        .args(["audit", dir])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&human.stdout).contains("3 suppressed"));
}

#[test]
fn an_ignore_needs_a_reason_and_a_target() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("policy.yml");
    std::fs::write(&cfg, "ignores:\n  - rule: allowlist-disabled\n    project: a/open\n  - rule: allowlist-disabled\n    reason: everything\n  - rule: allowlist-disabled\n    project: a/open\n    reason: x\n    until: next week\n").unwrap();
    let out = common::run(&["audit", "fixtures/audit/coverage", "--config", cfg.to_str().unwrap()]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(out.contains("an ignore needs a `reason`"), "{out}");
    assert!(out.contains("an ignore needs a target"), "{out}");
    assert!(out.contains("`until` must be a date YYYY-MM-DD"), "{out}");
}

#[test]
fn the_readme_quotes_what_the_demo_prints() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let marker = "Part of what the audit prints:\n\n```\n";
    let start = readme.find(marker).expect("the README quotes the audit") + marker.len();
    let block = &readme[start..start + readme[start..].find("\n```").unwrap()];
    let out = common::run(&["audit", "fixtures/demo-org"]);
    assert!(out.contains(block), "README block is stale:\n{block}");
}

/// Colour is chosen from the stream written, by `--color`, `NO_COLOR` and `CLICOLOR_FORCE`/`FORCE_COLOR`:
/// redirected output gets no escape codes unless forced.
#[test]
fn colour_follows_the_stream_and_the_flags() {
    let colours = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = common::tokenscope(&common::root());
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("FORCE_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.args(["audit", "fixtures/demo-org"]).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stdout).contains("\u{1b}[")
    };
    assert!(!colours(&[], &[]), "stdout is a pipe here: no colour");
    assert!(colours(&[], &[("FORCE_COLOR", "1")]));
    assert!(colours(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!colours(&[], &[("FORCE_COLOR", "0")]));
    assert!(!colours(&[], &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]), "NO_COLOR wins over forcing");
    assert!(colours(&["--color", "always"], &[("NO_COLOR", "1")]), "the flag wins over the environment");
    assert!(!colours(&["--color", "never"], &[("FORCE_COLOR", "1")]));
    // A file written with --output never gets colour.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("report.txt");
    let out = common::tokenscope(&common::root())
        .args(["audit", "fixtures/demo-org", "--color", "always", "--output", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!std::fs::read_to_string(&file).unwrap().contains('\u{1b}'));
}

/// A failed write to standard output is an error (exit 2, said on stderr); a reader that goes away is not.
#[test]
fn write_errors_on_stdout_are_errors_and_a_closed_pipe_is_not() {
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("tokenscope"))
            .current_dir(common::root())
            .args(["audit", "fixtures/demo-org", "--format", "json", "--fail-on", "never"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error: cannot write to standard output"), "{err}");
    } else {
        common::say("write_errors_on_stdout: /dev/full is absent: that half is skipped");
    }
    // `| head -1`: the reader closes the pipe after one line; the run ends quietly with its own exit code.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tokenscope"))
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .args(["audit", "fixtures/demo-org", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before anything is written
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "the audit's own exit code: {err}");
    assert!(err.is_empty(), "nothing said about the closed pipe: {err}");
}

/// An unresolved callee is the expression as written, with a typed reason beside it.
#[test]
fn unresolved_callees_are_expressions_with_a_reason() {
    let doc = audit_json("fixtures/audit/targets");
    let edges = doc["edges"].as_array().unwrap();
    let unresolved: Vec<(&str, &str)> = edges
        .iter()
        .filter(|e| e["status"] == "unresolved")
        .map(|e| (e["callee"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert!(unresolved.contains(&("999", "unknown-project-id")), "{unresolved:?}");
    assert!(unresolved.iter().any(|(_, r)| *r == "variable"), "{unresolved:?}");
    assert!(edges.iter().filter(|e| e["status"] != "unresolved").all(|e| e["reason"].is_null()));
    let detection = audit_json("fixtures/detection");
    let module = detection["edges"].as_array().unwrap().iter().find(|e| e["reason"] == "terraform-module");
    assert_eq!(module.map(|m| m["callee"].as_str().unwrap()), Some("lib/postgres/aws"), "{module:?}");
}

/// What could not be read is never empty: a missing repository makes its project unknown (exit 3) and its
/// entry is not called unused; a missing script makes its project partially seen (the unused entry is a
/// note that says why); an archived caller's access is a note, not an error.
#[test]
fn unseen_is_never_empty() {
    let out = common::tokenscope(&common::root())
        .args(["audit", "fixtures/audit/seen", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "a missing repository is a load problem");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let who = f["entry"].as_str().or(f["caller"].as_str()).unwrap_or("").to_string();
            (f["rule"].as_str().unwrap().to_string(), who, f["severity"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(findings.contains(&("unused-allowlist-entry".into(), "s/seen".into(), "warning".into())), "{findings:?}");
    assert!(findings.contains(&("unused-allowlist-entry".into(), "s/partial".into(), "note".into())), "{findings:?}");
    assert!(findings.contains(&("missing-allowlist-entry".into(), "s/archived".into(), "note".into())), "{findings:?}");
    assert!(findings.contains(&("unused-allowlist-entry".into(), "s/handed".into(), "note".into())), "{findings:?}");
    assert!(!findings.iter().any(|f| f.1 == "s/no-repo"), "{findings:?}");
    // Narrowing a group entry: t/e, which the replacement would drop, is partially seen.
    assert!(findings.contains(&("overbroad-group-entry".into(), "t".into(), "note".into())), "{findings:?}");
    let partial = doc["projects"].as_array().unwrap().iter().find(|p| p["path"] == "s/partial").unwrap();
    assert!(partial["unseen"][0]["why"].as_str().unwrap().contains("ci/deploy.sh"), "{partial}");
    insta::assert_snapshot!("seen", common::run(&["audit", "fixtures/audit/seen"]));
}
