//! What ships: the CI/CD component (`templates/lint.yml`), the project's own pipeline and the Dockerfile.
//! With GitLab's CI schema beside the checkout (`../shared/corpus/schema/ci.json`), both YAML files are
//! validated against it, the component after its inputs are interpolated with their defaults, as GitLab
//! does; without it, that part says "skipped".

mod common;

use gitlab_ci::source::{SourceFile, SourceMap};
use gitlab_ci::yaml::{Node, Value};
use serde_json::{Value as J, json};
use std::sync::Arc;

/// YAML documents as JSON with the core schema's types (a plain `true` is a boolean, a plain `3` a number),
/// as GitLab reads them.
fn documents(name: &str, text: &str) -> Vec<J> {
    let sources = SourceMap::new();
    let id = sources.add(SourceFile::new(name.into(), None, None, Arc::from(text)));
    let parsed = gitlab_ci::yaml::parse(&sources, id).unwrap_or_else(|e| panic!("{name} is not YAML: {e:?}"));
    parsed.docs.iter().map(typed).collect()
}

fn typed(node: &Node) -> J {
    match &node.value {
        Value::Null => J::Null,
        Value::Str(s, true) => match s.as_str() {
            "true" => J::Bool(true),
            "false" => J::Bool(false),
            _ => s.parse::<i64>().map(J::from).unwrap_or_else(|_| J::String(s.clone())),
        },
        Value::Str(s, false) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(typed).collect()),
        Value::Map(m) => J::Object(m.entries.iter().map(|(k, v)| (k.name.clone(), typed(v))).collect()),
    }
}

/// The component's body with `$[[ inputs.NAME ]]` replaced by each input's default, as GitLab interpolates.
fn interpolate(body: &str, inputs: &serde_json::Map<String, J>) -> String {
    let mut out = body.to_string();
    for (name, spec) in inputs {
        let value = match &spec["default"] {
            J::String(s) => s.clone(),
            other => other.to_string(),
        };
        out = out.replace(&format!("$[[ inputs.{name} ]]"), &value);
    }
    assert!(!out.contains("$[["), "an interpolation names no input:\n{out}");
    out
}

fn component() -> (J, String) {
    let text = std::fs::read_to_string(common::root().join("templates/lint.yml")).unwrap();
    let (header, body) = text.split_once("\n---\n").expect("a spec header, then `---`");
    let spec = documents("templates/lint.yml", header).remove(0);
    (spec, body.to_string())
}

#[test]
fn every_component_input_is_typed_and_described() {
    let (spec, body) = component();
    let inputs = spec["spec"]["inputs"].as_object().expect("spec:inputs");
    for (name, input) in inputs {
        let ty = input["type"].as_str().unwrap_or_else(|| panic!("input `{name}` has no type"));
        assert!(input["description"].is_string(), "input `{name}` has no description");
        let default = &input["default"];
        let fits = match ty {
            "string" => default.is_string(),
            "boolean" => default.is_boolean(),
            "number" => default.is_number(),
            _ => false,
        };
        assert!(fits, "input `{name}`: default {default} is not a {ty}");
        assert!(body.contains(&format!("$[[ inputs.{name} ]]")), "input `{name}` is never used");
    }
    let jobs = documents("lint.yml", &interpolate(&body, inputs)).remove(0);
    let job = &jobs["tokenscope-lint"];
    assert_eq!(job["needs"], json!([]), "the job waits for nothing");
    assert_eq!(job["allow_failure"], json!(false));
    assert!(job["artifacts"]["expire_in"].is_string());
    assert_eq!(job["artifacts"]["reports"]["codequality"], "gl-code-quality.json");
    let rules = job["rules"].to_string();
    assert!(rules.contains("merge_request_event") && rules.contains("CI_DEFAULT_BRANCH"), "MR and default branch");
}

/// Validate `doc` against GitLab's CI schema, naming every violation.
fn check_schema(schema: &J, what: &str, doc: &J) {
    let validator = jsonschema::draft7::new(schema).expect("GitLab's CI schema compiles");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} fails GitLab's CI schema:\n{}", errors.join("\n"));
}

#[test]
fn the_component_and_the_project_pipeline_pass_gitlabs_ci_schema() {
    let Some(corpus) = common::corpus() else {
        common::say("CI schema check skipped: ../shared/corpus/schema/ci.json is not present beside the checkout");
        return;
    };
    let schema: J = serde_json::from_str(&std::fs::read_to_string(corpus.join("schema/ci.json")).unwrap()).unwrap();
    let (spec, body) = component();
    check_schema(&schema, "the component's spec header", &spec);
    let inputs = spec["spec"]["inputs"].as_object().unwrap();
    check_schema(&schema, "the component's job", &documents("lint.yml", &interpolate(&body, inputs)).remove(0));
    // The schema rejects untyped inputs with a non-string default: a near miss that must fail.
    let untyped = json!({"spec": {"inputs": {"allow_failure": {"default": false, "type": "string"}}}});
    let validator = jsonschema::draft7::new(&schema).unwrap();
    assert!(!validator.is_valid(&untyped), "the schema check can fail");
    let own = std::fs::read_to_string(common::root().join(".gitlab-ci.yml")).unwrap();
    check_schema(&schema, ".gitlab-ci.yml", &documents(".gitlab-ci.yml", &own).remove(0));
}

#[test]
fn the_project_lints_its_own_pipeline_clean() {
    let out = common::tokenscope(&common::root())
        .args(["lint", ".", "--project", "tokenscope/tokenscope", "--url", "https://gitlab.com", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: J = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"], json!([]), "the project's own pipeline has findings");
    let edges = doc["edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["status"] == "self"), "the release uploads to its own package registry");
}

#[test]
fn the_dockerfile_builds_the_shipped_profile_with_git_and_tar() {
    let text = std::fs::read_to_string(common::root().join("Dockerfile")).unwrap();
    assert!(text.contains("--profile dist"), "the image ships the stripped build");
    assert!(text.lines().any(|l| l.starts_with("RUN apk add") && l.contains(" git ") && l.contains(" tar ")));
    let manifest = std::fs::read_to_string(common::root().join("Cargo.toml")).unwrap();
    let dist = manifest.split("[profile.dist]").nth(1).expect("a dist profile");
    assert!(dist.contains("debug = false") && dist.contains("strip = true"));
}
