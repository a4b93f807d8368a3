//! Every output format on the demo org, snapshotted; SARIF and Code Quality checked for their required
//! fields and for fingerprints that do not move with lines; `--report` and `--output` write files.

mod common;

fn audit(args: &[&str]) -> String {
    let out = common::tokenscope(&common::root())
        .args(["audit", "fixtures/demo-org", "--fail-on", "never"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

macro_rules! format_snapshot {
    ($test:ident, $format:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(concat!("format-", $format), audit(&["--format", $format]));
        }
    };
}

format_snapshot!(markdown, "markdown");
format_snapshot!(csv, "csv");
format_snapshot!(sarif, "sarif");
format_snapshot!(codequality, "codequality");
format_snapshot!(junit, "junit");
format_snapshot!(dot, "dot");
format_snapshot!(mermaid, "mermaid");

#[test]
fn sarif_has_the_required_fields() {
    let doc: serde_json::Value = serde_json::from_str(&audit(&["--format", "sarif"])).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), tokenscope::rules::metas().len());
    for r in rules {
        for field in ["id", "name", "shortDescription", "fullDescription", "helpUri", "help"] {
            assert!(!r[field].is_null(), "rule without {field}: {r}");
        }
        assert_ne!(r["name"], r["id"], "SARIF's name is not the id");
        let uri = r["helpUri"].as_str().unwrap();
        assert!(uri.starts_with("https://") && uri.ends_with(&format!("#{}", r["id"].as_str().unwrap())), "{uri}");
        assert!(r["help"]["markdown"].as_str().unwrap().contains("Failing"), "the help carries the rule's examples");
    }
    assert!(run["tool"]["driver"]["informationUri"].as_str().unwrap().starts_with("https://"));
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let rule = r["ruleId"].as_str().unwrap();
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], rule);
        assert!(r["message"]["text"].is_string());
        assert!(r["partialFingerprints"]["tokenscopeFingerprint/v1"].is_string());
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string() && loc["region"]["startLine"].as_u64().unwrap() > 0);
    }
}

/// Validate a document against the official SARIF 2.1.0 schema (tests/schemas/, a copy of
/// ../shared/reference/sarif-schema-2.1.0.json, compared with it when that is present).
fn sarif_errors(doc: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the SARIF schema compiles");
    validator.iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

#[test]
fn sarif_validates_against_the_official_schema() {
    for args in [vec!["--format", "sarif"], vec!["--format", "sarif", "--no-ignores"]] {
        let doc: serde_json::Value = serde_json::from_str(&audit(&args)).unwrap();
        let errors = sarif_errors(&doc);
        assert!(errors.is_empty(), "SARIF schema violations:\n{}", errors.join("\n"));
    }
    // A near miss the schema must reject: a result without its message.
    let mut doc: serde_json::Value = serde_json::from_str(&audit(&["--format", "sarif"])).unwrap();
    doc["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
    assert!(!sarif_errors(&doc).is_empty(), "the schema check can fail");
    // A docs URL of one's own, and a relative one refused.
    let own = audit(&["--format", "sarif", "--docs-url", "https://docs.example.com/tokenscope/rules.html"]);
    assert!(own.contains("\"helpUri\": \"https://docs.example.com/tokenscope/rules.html#missing-allowlist-entry\""));
    let out = common::tokenscope(&common::root())
        .args(["audit", "fixtures/demo-org", "--format", "sarif", "--docs-url", "docs/rules.md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an absolute http(s) URL"));
    let reference = common::root().join("../shared/reference/sarif-schema-2.1.0.json");
    match std::fs::read_to_string(&reference) {
        Ok(text) => assert_eq!(
            text,
            std::fs::read_to_string(common::root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
            "tests/schemas/sarif-schema-2.1.0.json differs from the reference: copy it again"
        ),
        Err(_) => common::say(
            "skipped: ../shared/reference/sarif-schema-2.1.0.json is absent; the vendored copy is not compared",
        ),
    }
}

#[test]
fn codequality_has_the_required_fields() {
    let doc: serde_json::Value = serde_json::from_str(&audit(&["--format", "codequality"])).unwrap();
    let items = doc.as_array().unwrap();
    assert!(!items.is_empty());
    for i in items {
        assert!(i["description"].is_string() && i["check_name"].is_string() && i["fingerprint"].is_string());
        assert!(["info", "minor", "major", "critical", "blocker"].contains(&i["severity"].as_str().unwrap()));
        assert!(i["location"]["path"].is_string() && i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        let path = i["location"]["path"].as_str().unwrap();
        // An org audit names the project: every project has a `.gitlab-ci.yml`.
        assert!(path == "tokenscope.yaml" || path.starts_with("acme/"), "{path} does not name its project");
        assert!(i["content"]["body"].as_str().unwrap().contains("https://"), "the body links the rule's docs");
    }
    let mut prints: Vec<&str> = items.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), items.len(), "fingerprints are unique");
}

#[test]
fn fingerprints_stay_when_lines_move() {
    let tmp = tempfile::tempdir().unwrap();
    let src = common::root().join("fixtures/demo-org");
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let to = tmp.path().join(p.strip_prefix(&src).unwrap());
            if p.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                stack.push(p);
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                let moved = if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                    format!("# moved\n\n{text}")
                } else {
                    text
                };
                std::fs::write(&to, moved).unwrap();
            }
        }
    }
    let run = |dir: &str, format: &str| -> serde_json::Value {
        let out = common::tokenscope(&common::root())
            .args(["audit", dir, "--format", format, "--fail-on", "never"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let src = src.to_str().unwrap();
    let moved = tmp.path().to_str().unwrap();
    let cq = |d: &serde_json::Value| -> Vec<String> {
        d.as_array().unwrap().iter().map(|i| i["fingerprint"].as_str().unwrap().to_string()).collect()
    };
    let (a, b) = (run(src, "codequality"), run(moved, "codequality"));
    assert_eq!(cq(&a), cq(&b));
    let lines = |d: &serde_json::Value| -> Vec<u64> {
        d.as_array().unwrap().iter().map(|i| i["location"]["lines"]["begin"].as_u64().unwrap()).collect()
    };
    assert_ne!(lines(&a), lines(&b), "the lines did move");
    let sarif = |d: &serde_json::Value| -> Vec<String> {
        d["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["tokenscopeFingerprint/v1"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(sarif(&run(src, "sarif")), sarif(&run(moved, "sarif")));
}

#[test]
fn reports_and_output_write_files() {
    let tmp = tempfile::tempdir().unwrap();
    let f = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let stdout = audit(&[
        "--format",
        "json",
        "--output",
        &f("audit.json"),
        "--report",
        &format!("codequality={}", f("gl-code-quality.json")),
        "--report",
        &format!("junit={}", f("junit.xml")),
        "--report",
        &format!("markdown={}", f("report.md")),
    ]);
    assert!(stdout.is_empty(), "with --output nothing goes to stdout");
    let read = |n: &str| std::fs::read_to_string(tmp.path().join(n)).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&read("audit.json")).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&read("gl-code-quality.json")).unwrap().is_array());
    assert!(read("junit.xml").starts_with("<?xml"));
    assert!(read("report.md").starts_with("# Job-token allowlist report"));
}

#[test]
fn a_bad_report_argument_is_a_usage_error() {
    let out = common::run(&["audit", "fixtures/demo-org", "--report", "pdf=x.pdf"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    let out = common::run(&["audit", "fixtures/demo-org", "--report", "junit"]);
    assert!(out.starts_with("exit: 2\n") && out.contains("FORMAT=FILE"), "{out}");
}

#[test]
fn markdown_cells_escape_pipes_and_newlines() {
    assert_eq!(tokenscope::report::md_cell("a|b\nc"), "a\\|b c");
}

#[test]
fn output_inside_the_snapshot_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    std::fs::create_dir_all(snap.join("repos/a/b")).unwrap();
    let manifest = "instance: {url: https://g.example.com}\nprojects:\n  a/b: {}\n";
    std::fs::write(snap.join("tokenscope.yaml"), manifest).unwrap();
    std::fs::write(snap.join("repos/a/b/.gitlab-ci.yml"), "job:\n  script: echo\n").unwrap();
    for args in [
        vec!["--output", "tokenscope.yaml"],
        vec!["--report", "junit=repos/a/b/.gitlab-ci.yml"],
        vec!["--report", "markdown=new-report.md"],
    ] {
        let out = common::tokenscope(&snap).arg("audit").arg(".").args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("inside the snapshot"));
    }
    assert_eq!(std::fs::read_to_string(snap.join("tokenscope.yaml")).unwrap(), manifest, "the manifest is untouched");
    assert!(!snap.join("new-report.md").exists());
}

/// JUnit's counts are what it lists: one failing test case per finding (so a finding about a callee that
/// has no pipeline of its own, a lint's main finding, is never lost), `failures` counting them, `errors`
/// present, and each failing test case naming the file GitLab links to.
#[test]
fn junit_counts_match_its_test_cases() {
    let out = common::run(&["audit", "fixtures/demo-org", "--format", "junit", "--fail-on", "never"]);
    let xml = out.split("--- stdout\n").nth(1).unwrap().split("--- stderr").next().unwrap();
    let attr = |tag: &str, name: &str| -> usize {
        let re = regex::Regex::new(&format!(r#"<{tag} [^>]*\b{name}="(\d+)""#)).unwrap();
        re.captures_iter(xml).map(|c| c[1].parse::<usize>().unwrap()).sum()
    };
    let failures = xml.matches("<failure ").count();
    assert!(failures > 10, "{xml}");
    assert_eq!(attr("testsuite", "failures"), failures);
    assert_eq!(attr("testsuites", "failures"), failures);
    assert_eq!(attr("testsuite", "tests"), xml.matches("<testcase ").count());
    assert_eq!(attr("testsuite", "errors"), 0);
    assert_eq!(xml.matches("<testsuite ").count(), xml.matches(" errors=\"0\"").count() - 1);
    // Every failing test case holds one failure and names its file.
    for case in xml.split("<testcase ").skip(1) {
        let head = case.split('>').next().unwrap();
        if !head.ends_with('/') {
            assert_eq!(case.split("</testcase>").next().unwrap().matches("<failure ").count(), 1, "{case}");
            assert!(head.contains(" file=\""), "{head}");
        }
    }
}

/// Command-line rough edges: `--output -` is standard output, one file named for two outputs is refused,
/// an unknown `--report` format lists the known ones, `--url` beside a snapshot is refused, a missing
/// snapshot directory is named, and `--fail-on never` never fails.
#[test]
fn output_and_exit_rough_edges() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_in(&common::root(), &["audit", "fixtures/demo-org", "--format", "json", "--output", "-"]);
    assert!(out.contains("\"findings\""), "{out}");
    assert!(!common::root().join("-").exists(), "no file named -");
    let same = dir.path().join("r.json");
    let out = common::run(&[
        "audit",
        "fixtures/demo-org",
        "--output",
        same.to_str().unwrap(),
        "--report",
        &format!("sarif={}", same.display()),
    ]);
    assert!(out.starts_with("exit: 2") && out.contains("one would overwrite the other"), "{out}");
    let out = common::run(&["audit", "fixtures/demo-org", "--report", "xml=f.xml"]);
    assert!(out.starts_with("exit: 2") && out.contains("the formats are human, json"), "{out}");
    let out = common::run(&["audit", "fixtures/demo-org", "--url", "https://gitlab.example.com"]);
    assert!(out.starts_with("exit: 2") && out.contains("--url"), "{out}");
    let out = common::run(&["audit", "fixtures/no-such-snapshot"]);
    assert!(out.starts_with("exit: 2") && out.contains("not a snapshot directory (no such directory)"), "{out}");
    assert!(common::run(&["audit", "fixtures/ci/errors"]).starts_with("exit: 3"));
    assert!(common::run(&["audit", "fixtures/ci/errors", "--fail-on", "never"]).starts_with("exit: 0"));
}

/// The policy file may be spelled `.tokenscope.yaml` like the manifest; `--no-config` ignores it.
#[test]
fn the_policy_file_in_either_spelling_and_no_config() {
    let src = common::root().join("fixtures/audit/policy");
    let dir = tempfile::tempdir().unwrap();
    assert!(
        std::process::Command::new("cp").arg("-r").arg(src.join("repos")).arg(dir.path()).status().unwrap().success()
    );
    std::fs::copy(src.join("tokenscope.yaml"), dir.path().join("tokenscope.yaml")).unwrap();
    let with = |name: Option<&str>, extra: &[&str]| {
        let _ = std::fs::remove_file(dir.path().join(".tokenscope.yml"));
        let _ = std::fs::remove_file(dir.path().join(".tokenscope.yaml"));
        if let Some(n) = name {
            std::fs::copy(src.join(".tokenscope.yml"), dir.path().join(n)).unwrap();
        }
        let mut args = vec!["audit", dir.path().to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let out = common::tokenscope(&common::root()).args(&args).output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        serde_json::to_string(&doc["findings"]).unwrap()
    };
    let yml = with(Some(".tokenscope.yml"), &[]);
    assert_eq!(with(Some(".tokenscope.yaml"), &[]), yml, "either spelling is the policy");
    let none = with(None, &[]);
    assert_ne!(yml, none, "the fixture's policy changes the findings");
    assert_eq!(with(Some(".tokenscope.yml"), &["--no-config"]), none, "--no-config ignores it");
}

/// GitLab's security report format, the fields its schema (security-report-schemas 15.x) requires, written
/// out from GitLab's documentation: the official schema files are not available beside the checkout.
fn security_report_schema(scan_type: &str) -> serde_json::Value {
    let mut location = serde_json::json!({
        "type": "object",
        "required": ["file", "start_line"],
        "properties": {"file": {"type": "string", "minLength": 1}, "start_line": {"type": "integer", "minimum": 1}},
    });
    if scan_type == "secret_detection" {
        location["required"] = serde_json::json!(["file", "start_line", "commit"]);
        location["properties"]["commit"] = serde_json::json!({"type": "object", "required": ["sha"], "properties": {"sha": {"type": "string", "minLength": 1}}});
    }
    let tool = serde_json::json!({
        "type": "object",
        "required": ["id", "name", "version", "vendor"],
        "properties": {"vendor": {"type": "object", "required": ["name"]}},
    });
    serde_json::json!({
        "type": "object",
        "required": ["version", "scan", "vulnerabilities"],
        "properties": {
            "version": {"type": "string", "pattern": "^15\\.[0-9]+\\.[0-9]+$"},
            "scan": {
                "type": "object",
                "required": ["analyzer", "scanner", "type", "start_time", "end_time", "status"],
                "properties": {
                    "analyzer": tool, "scanner": tool,
                    "type": {"const": scan_type},
                    "start_time": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$"},
                    "end_time": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$"},
                    "status": {"enum": ["success", "failure"]},
                },
            },
            "vulnerabilities": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "identifiers", "location", "name", "description", "severity"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
                    "severity": {"enum": ["Info", "Unknown", "Low", "Medium", "High", "Critical"]},
                    "identifiers": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["type", "name", "value"]}},
                    "location": location,
                },
            }},
        },
    })
}

#[test]
fn security_reports_carry_the_vulnerability_rules_in_gitlabs_format() {
    for (format, scan_type, rules) in [
        ("secret-detection", "secret_detection", vec!["hardcoded-gitlab-token"]),
        ("sast", "sast", vec!["job-token-to-foreign-host", "job-token-in-url"]),
    ] {
        let text = audit(&["--format", format]);
        assert!(!text.contains("glpat-") || text.contains("glpat-[REDACTED]"), "a token reached the report");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::draft7::new(&security_report_schema(scan_type)).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{format}: {}", errors.join("\n"));
        let found: Vec<&str> = doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["identifiers"][0]["value"].as_str().unwrap())
            .collect();
        for rule in &rules {
            assert!(found.contains(rule), "{format} lacks {rule}: {found:?}");
        }
        assert!(found.iter().all(|r| rules.contains(r)), "{format} carries only its rules: {found:?}");
        // Stable ids: the same vulnerability is the same one in the next pipeline.
        assert_eq!(
            doc["vulnerabilities"],
            serde_json::from_str::<serde_json::Value>(&audit(&["--format", format])).unwrap()["vulnerabilities"]
        );
    }
}

#[test]
fn ignores_that_do_nothing_are_warned_about() {
    let org = common::copy_fixture("fixtures/demo-org");
    std::fs::write(
        org.path().join(".tokenscope.yml"),
        "ignores:\n  - {rule: missing-allowlist-entry, callee: acme/nowhere, reason: typo in the callee}\n  - {rule: missing-allowlist-entry, callee: acme/services/api, reason: known}\n",
    )
    .unwrap();
    let ci = org.path().join("repos/acme/services/web/.gitlab-ci.yml");
    let text = std::fs::read_to_string(&ci).unwrap();
    let text = text.replacen(
        "vendor/api\n",
        "vendor/api # tokenscope: ignore[job-token-to-foreign-hots] the rule id is misspelt\n",
        1,
    );
    let text = text.replacen(
        "vendor/design-tokens\n",
        "vendor/design-tokens # tokenscope: ignore[job-token-to-foreign-host]\n",
        1,
    );
    std::fs::write(&ci, text).unwrap();
    let out =
        common::tokenscope(org.path()).args(["audit", ".", "--fail-on", "never", "--format", "json"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("this ignore of `missing-allowlist-entry` matches no finding"), "{err}");
    assert!(err.contains(".tokenscope.yml:2:"), "the unused ignore is located: {err}");
    assert!(err.contains("names `job-token-to-foreign-hots`, which is not a rule"), "{err}");
    assert!(err.contains("gives no reason"), "{err}");
    assert_eq!(err.matches("matches no finding").count(), 1, "the ignore that matched is not warned about: {err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["suppressed"].as_array().unwrap().len(), 1);
    // The foreign-host finding stays reported: neither broken comment suppressed it.
    assert!(doc["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "job-token-to-foreign-host"));
    // An expired ignore is a structured object in JSON.
    std::fs::write(
        org.path().join(".tokenscope.yml"),
        "ignores:\n  - {rule: missing-allowlist-entry, callee: acme/services/api, reason: known, until: 2020-01-01}\n",
    )
    .unwrap();
    let out =
        common::tokenscope(org.path()).args(["audit", ".", "--fail-on", "never", "--format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expired = &doc["expired_ignores"][0];
    assert_eq!(expired["rule"], "missing-allowlist-entry");
    assert_eq!(expired["until"], "2020-01-01");
    assert!(expired["location"].as_str().unwrap().starts_with(".tokenscope.yml:2:"), "{expired}");
}

#[test]
fn a_baseline_reports_only_new_findings() {
    let org = common::copy_fixture("fixtures/demo-org");
    let out_dir = tempfile::tempdir().unwrap();
    let baseline = out_dir.path().join("baseline.json");
    let b = baseline.to_str().unwrap();
    let first = common::tokenscope(org.path())
        .args(["audit", ".", "--format", "json", "--write-baseline", b])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1), "the demo org has errors");
    let all: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let n = all["findings"].as_array().unwrap().len();
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(written["findings"].as_array().unwrap().len(), n);
    // Nothing new: exit 0, every finding counted as suppressed.
    let again =
        common::tokenscope(org.path()).args(["audit", ".", "--format", "json", "--baseline", b]).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(doc["suppressed"].as_array().unwrap().len(), n);
    // A new missing entry is reported, and only it.
    let ci = org.path().join("repos/acme/services/worker/.gitlab-ci.yml");
    let mut text = std::fs::read_to_string(&ci).unwrap();
    text.push_str("\nnew-job:\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.acme.example/acme/services/billing.git\n");
    std::fs::write(&ci, text).unwrap();
    let new =
        common::tokenscope(org.path()).args(["audit", ".", "--format", "json", "--baseline", b]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&new.stdout).unwrap();
    let rules: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"missing-allowlist-entry"), "{rules:?}");
    assert!(rules.len() <= 2, "only what the new job brings: {rules:?}");
    // Writing the new baseline over the one read is refused, and a broken baseline is a usage error.
    let same =
        common::tokenscope(org.path()).args(["audit", ".", "--baseline", b, "--write-baseline", b]).output().unwrap();
    assert_eq!(same.status.code(), Some(2));
    std::fs::write(&baseline, "[]").unwrap();
    let bad = common::tokenscope(org.path()).args(["audit", ".", "--baseline", b]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a tokenscope baseline"));
}

#[test]
fn junit_validates_against_the_junit_xsd() {
    let Some(xmllint) =
        ["/usr/bin/xmllint", "/usr/local/bin/xmllint"].into_iter().find(|p| std::path::Path::new(p).is_file())
    else {
        common::say("JUnit XSD check skipped: xmllint is not installed (.ci/run installs libxml2-utils where it can)");
        return;
    };
    let xsd = common::root().join("tests/schemas/junit-10.xsd");
    let tmp = tempfile::tempdir().unwrap();
    let check = |xml: &str| {
        let file = tmp.path().join("junit.xml");
        std::fs::write(&file, xml).unwrap();
        let out =
            std::process::Command::new(xmllint).arg("--noout").arg("--schema").arg(&xsd).arg(&file).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let xml = audit(&["--format", "junit"]);
    // The one deliberate extension: GitLab reads a test case's `file` attribute to link its source, which the
    // XSD does not declare. Without it, the document must be valid.
    assert!(xml.contains("<testcase classname=\"missing-allowlist-entry\" name=") && xml.contains(" file=\"acme/"));
    let without_file = regex::Regex::new(r#"(<testcase [^>]*?) file="[^"]*""#).unwrap().replace_all(&xml, "$1");
    let (ok, err) = check(&without_file);
    assert!(ok, "JUnit output fails the XSD:\n{err}");
    // The near miss: the XSD does reject a test case without a name.
    let (ok, _) = check(&without_file.replacen(
        "<testcase classname=\"missing-allowlist-entry\" name=",
        "<testcase classname=\"missing-allowlist-entry\" title=",
        1,
    ));
    assert!(!ok, "the XSD check can fail");
    match std::fs::read_to_string(common::root().join("../shared/reference/junit-10.xsd")) {
        Ok(reference) => assert_eq!(
            reference,
            std::fs::read_to_string(&xsd).unwrap(),
            "tests/schemas/junit-10.xsd differs from the reference"
        ),
        Err(_) => common::say("skipped: ../shared/reference/junit-10.xsd is absent; the vendored copy is not compared"),
    }
}

#[test]
fn evidence_stays_proportional() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("repos/g/a")).unwrap();
    std::fs::create_dir_all(d.join("repos/g/b")).unwrap();
    std::fs::write(
        d.join("tokenscope.yaml"),
        "instance:\n  url: https://gitlab.example.com\nprojects:\n  g/a: {}\n  g/b: {}\n",
    )
    .unwrap();
    let ci: String = (0..60)
        .map(|i| format!("j{i}:\n  script:\n    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@gitlab.example.com/g/b.git b{i}\n"))
        .collect();
    std::fs::write(d.join("repos/g/a/.gitlab-ci.yml"), ci).unwrap();
    let json = common::tokenscope(d).args(["audit", ".", "--format", "json", "--fail-on", "never"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let edge = doc["edges"].as_array().unwrap().iter().find(|e| e["callee"] == "g/b").unwrap();
    assert_eq!(edge["evidence"].as_array().unwrap().len(), 50);
    assert_eq!(edge["evidence_total"], 60);
    let md = common::tokenscope(d).args(["audit", ".", "--format", "markdown", "--fail-on", "never"]).output().unwrap();
    assert!(String::from_utf8_lossy(&md.stdout).contains("(+50 more)"));
    let csv = common::tokenscope(d).args(["audit", ".", "--format", "csv", "--fail-on", "never"]).output().unwrap();
    assert!(String::from_utf8_lossy(&csv.stdout).contains("(+50 more)"));
}
