//! Every case under fixtures/ci/ resolved by the real binary; the jobs it prints are snapshotted.

mod common;

fn case(name: &str) -> String {
    format!("fixtures/ci/{name}")
}

macro_rules! ci_case {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!($name, common::run(&["jobs", &case($name)]));
        }
    };
}

ci_case!(include_forms, "include-forms");
ci_case!(include_merge, "include-merge");
ci_case!(extends_merge, "extends-merge");
ci_case!(anchors, "anchors");
ci_case!(reference, "reference");
ci_case!(default_inherit, "default-inherit");
ci_case!(global_keywords, "global-keywords");
ci_case!(variables, "variables");
ci_case!(matrix, "matrix");
ci_case!(inputs, "inputs");
ci_case!(trigger_needs, "trigger-needs");
ci_case!(config_path, "config-path");
ci_case!(errors, "errors");

/// GitLab's documented merge results, checked on the resolved configuration itself.
fn job_config(case_name: &str, job: &str) -> serde_json::Value {
    let out =
        common::tokenscope(&common::root()).args(["jobs", &case(case_name), "--format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["projects"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == job)
        .unwrap_or_else(|| panic!("no job {job}"))["config"]
        .clone()
}

#[test]
fn extends_merge_matches_gitlab_docs() {
    // doc/ci/yaml/yaml_optimization.md, "Merge details": the result GitLab documents for `rspec`.
    let expected = serde_json::json!({
        "variables": {"URL": "http://docker-url.internal", "IMPORTANT_VAR": "the details", "GITLAB": "is-awesome"},
        "rules": [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}, {"if": "$CI_COMMIT_BRANCH == \"stable\""}],
        "tags": ["docker"],
        "script": ["rake rspec"],
        "image": "alpine"
    });
    let got = job_config("extends-merge", "rspec");
    assert_eq!(got, expected);
}

#[test]
fn include_merge_matches_gitlab_docs() {
    // doc/ci/yaml/includes.md, "Override included configuration values": `production` keeps the
    // template's script and environment name, with the URL from .gitlab-ci.yml.
    let got = job_config("include-merge", "production");
    assert_eq!(got["environment"], serde_json::json!({"name": "production", "url": "https://domain.com"}));
    assert_eq!(got["script"], serde_json::json!(["install_dependencies", "deploy"]));
    assert_eq!(got["stage"], "production");
    assert_eq!(got["image"], "alpine:latest");
}

#[test]
fn include_limit_is_gitlabs_150() {
    let out = common::run(&["jobs", &case("include-limit"), "--format", "json"]);
    assert!(out.starts_with("exit: 3\n"), "{out}");
    assert!(out.contains("more than 150 includes (GitLab's limit); the rest are ignored"), "{out}");
    assert!(out.contains(".gitlab-ci.yml:152:5"), "the error points at the 151st include: {out}");
    assert_eq!(out.matches("\"kind\": \"local\"").count(), 150, "exactly 150 includes are read");
}

/// templates/lint.yml, tokenscope's CI/CD component, resolved by tokenscope itself as a project would
/// include it (the component file is copied into a temporary snapshot, so the test reads the real one).
#[test]
fn the_lint_component_resolves() {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::root();
    let copy = |rel: &str, from: std::path::PathBuf| {
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    copy("tokenscope.yaml", root.join("fixtures/component/tokenscope.yaml"));
    copy("repos/svc/app/.gitlab-ci.yml", root.join("fixtures/component/repos/svc/app/.gitlab-ci.yml"));
    copy("repos/tools/tokenscope/templates/lint.yml", root.join("templates/lint.yml"));
    let out = common::tokenscope(&common::root())
        .args(["jobs", tmp.path().to_str().unwrap(), "--project", "svc/app", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &doc["projects"][0]["jobs"][0];
    assert_eq!(job["name"], "tokenscope-lint");
    assert_eq!(job["image"]["name"], "registry.example.com/tools/tokenscope:1");
    let script = job["script"][0]["text"].as_str().unwrap();
    assert!(script.contains("--fail-on \"warning\"") && script.contains("tokenscope lint"), "{script}");
    assert_eq!(job["config"]["artifacts"]["reports"]["codequality"], "gl-code-quality.json");
    assert_eq!(doc["projects"][0]["includes"][0]["kind"], "component");
}

ci_case!(shared_hidden, "shared-hidden");

/// A shared template's hidden keys are left in the parsed file until used: the merge order stays GitLab's
/// whether a project's own definition comes before or after the template's.
#[test]
fn shared_hidden_keys_merge_in_include_order() {
    let out = common::tokenscope(&common::root())
        .args(["jobs", &case("shared-hidden"), "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = |project: &str| -> serde_json::Value {
        let p = doc["projects"].as_array().unwrap().iter().find(|p| p["path"] == project).unwrap();
        p["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "job").unwrap().clone()
    };
    let var = |j: &serde_json::Value, name: &str| -> String {
        j["variables"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap()["value"].as_str().unwrap().into()
    };
    let (a, b) = (job("g/a"), job("g/b"));
    assert_eq!((var(&a, "A"), var(&a, "B"), var(&a, "C")), ("tpl".into(), "late".into(), "y".into()));
    assert_eq!((var(&b, "A"), var(&b, "B"), var(&b, "C")), ("tpl".into(), "tpl".into(), "y".into()));
    let script: Vec<&str> = b["script"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(script, ["echo tpl", "echo b"]);
    // Only the template's visible job, not its hidden ones, is a job.
    let names: Vec<&str> =
        doc["projects"][0]["jobs"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"visible") && !names.iter().any(|n| n.starts_with('.')), "{names:?}");
}
