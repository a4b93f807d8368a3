//! The real-world corpus beside the checkout (`../shared/corpus`): GitLab's schema test files and the CI
//! configurations of public projects. Skipped, and saying so, when the corpus is absent.
//!
//! The corpus is copied into a temporary snapshot (never into the project) and resolved by the real binary.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            fs::copy(&p, &t).unwrap();
        }
    }
}

fn audit_json(snapshot: &Path) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("tokenscope")
        .unwrap()
        .args(["audit", snapshot.to_str().unwrap(), "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 3)), "tokenscope crashed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Root CI files of each corpus project: the default one, and the extra roots the corpus README names.
fn roots(dir: &Path) -> Vec<String> {
    let mut r = Vec::new();
    for candidate in [".gitlab-ci.yml", ".gitlab/.gitlab-ci.yml", ".nvidia-ci.yml"] {
        if dir.join(candidate).is_file() {
            r.push(candidate.to_string());
        }
    }
    r
}

/// Errors that are known gaps, each documented in docs/ci-model.md ("Known gaps"). Empty today.
const KNOWN_GAPS: &[(&str, &str)] = &[];

#[test]
fn corpus_projects_resolve() {
    let Some(corpus) = common::corpus() else {
        common::say("corpus test skipped: ../shared/corpus is not present beside the checkout");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest = String::from("instance:\n  url: https://gitlab.example.com\nprojects:\n");
    let mut names = Vec::new();
    for e in fs::read_dir(corpus.join("projects")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        copy_dir(&e.path(), &tmp.path().join("repos/corpus").join(&name));
        for (i, root) in roots(&e.path()).iter().enumerate() {
            let path = if i == 0 { format!("corpus/{name}") } else { format!("corpus/{name}-root{i}") };
            manifest.push_str(&format!("  {path}: {{ci_config_path: '{root}@corpus/{name}'}}\n"));
            names.push(path);
        }
    }
    fs::write(tmp.path().join("tokenscope.yaml"), manifest).unwrap();
    let doc = audit_json(tmp.path());
    let projects = doc["projects"].as_array().unwrap();
    assert_eq!(projects.len(), names.len());

    let (mut files, mut jobs) = (0, 0);
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in projects {
        let path = p["path"].as_str().unwrap();
        let n_jobs = p["jobs"].as_u64().unwrap() as usize;
        let n_files = p["files"].as_u64().unwrap() as usize;
        files += n_files;
        jobs += n_jobs;
        println!(
            "{path}: {n_files} files, {n_jobs} jobs, {} unresolved includes",
            p["unresolved_includes"].as_array().unwrap().len()
        );
        for e in p["errors"].as_array().unwrap() {
            let msg = format!("{}: {}", e["location"]["file"].as_str().unwrap_or("?"), e["message"]);
            println!("  {}: {msg}", e["severity"]);
            if e["severity"] == "error" && !KNOWN_GAPS.iter().any(|(p, m)| path == *p && msg.contains(m)) {
                problems.entry(path.to_string()).or_default().push(msg);
            }
        }
        assert_ne!(p["status"], "no-ci", "{path}: root file not found");
    }
    common::say(&format!(
        "corpus: {} roots, {files} files, {jobs} jobs resolved, {} job-token edges",
        projects.len(),
        doc["edges"].as_array().unwrap().len()
    ));
    for e in doc["edges"].as_array().unwrap() {
        let ev = &e["evidence"][0];
        println!(
            "  access {} -> {} [{}] {} at {}:{}",
            e["caller"].as_str().unwrap(),
            e["callee"].as_str().unwrap(),
            e["kinds"].as_array().unwrap().iter().filter_map(|k| k.as_str()).collect::<Vec<_>>().join(","),
            e["status"].as_str().unwrap(),
            ev["file"].as_str().unwrap(),
            ev["line"]
        );
    }
    assert!(jobs > 2000, "expected the corpus's ~2,500 jobs, got {jobs}");
    assert!(problems.is_empty(), "errors on files GitLab accepts: {problems:#?}");
}

#[test]
fn schema_positive_files_load() {
    let Some(corpus) = common::corpus() else {
        common::say("corpus test skipped: ../shared/corpus is not present beside the checkout");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest = String::from("instance:\n  url: https://gitlab.example.com\nprojects:\n");
    let mut stack = vec![corpus.join("schema-tests/positive")];
    let mut count = 0;
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                count += 1;
                let name = format!("positive/t{count}");
                fs::create_dir_all(tmp.path().join("repos").join(&name)).unwrap();
                fs::copy(&p, tmp.path().join("repos").join(&name).join(".gitlab-ci.yml")).unwrap();
                manifest.push_str(&format!("  {name}: {{}}\n"));
            }
        }
    }
    fs::write(tmp.path().join("tokenscope.yaml"), manifest).unwrap();
    let doc = audit_json(tmp.path());
    let mut jobs = 0;
    for p in doc["projects"].as_array().unwrap() {
        jobs += p["jobs"].as_u64().unwrap() as usize;
        for e in p["errors"].as_array().unwrap() {
            let msg = e["message"].as_str().unwrap();
            // The schema tests name include files that are not part of the test set.
            assert!(msg.contains("does not exist in project"), "{}: {msg}", p["path"]);
            println!("  {}: {msg} (the schema tests do not ship their include targets)", p["path"]);
        }
    }
    common::say(&format!("schema-tests/positive: {count} files loaded, {jobs} jobs"));
    assert!(count >= 30);
}
