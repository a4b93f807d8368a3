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
    let out = common::tokenscope(&common::root())
        .args(["audit", snapshot.to_str().unwrap(), "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 3)), "tokenscope crashed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Files the corpus README names as pipelines of their own ("extra" files: generated or child pipelines
/// not reachable through `include:`), audited as roots.
const EXTRA_ROOTS: &[&str] = &[
    ".nvidia-ci.yml",
    ".gitlab/benchmarks/microbenchmarks.yml",
    "docs/user/generated-config.yml",
    "tests/unit/comparison_files/test_pipeline_test_full_pipeline_yaml_output.yml",
    "tests/unit/comparison_files/test_readme_assets_scripts_test.yml",
];

/// Root CI files of each corpus project: the default one, and the extra roots.
fn roots(dir: &Path) -> Vec<String> {
    let mut r = Vec::new();
    for candidate in [".gitlab-ci.yml", ".gitlab/.gitlab-ci.yml"].iter().chain(EXTRA_ROOTS) {
        if dir.join(candidate).is_file() {
            r.push(candidate.to_string());
        }
    }
    r
}

/// Corpus files that mention `CI_JOB_TOKEN` without using it to reach a project, and why.
/// (docs/detection.md, "The real-world corpus", gives the same list.)
const NO_ACCESS: &[(&str, &str)] = &[
    ("ACP3__cms/.gitlab/ci/build.gitlab-ci.yml", "registry login to build and push the project's own images"),
    ("GNOME__gnome-build-meta/.gitlab-ci.yml", "registry login to push the project's own images"),
    (
        "juliamrch__gitlab-docs/.gitlab/ci/docker-images.gitlab-ci.yml",
        "registry login to build and push the project's own images",
    ),
    (
        "tachyons__gitlab-pages__CNG-fb7b344/.gitlab/ci/common.gitlab-ci.yml",
        "registry login to build and push the project's own images",
    ),
    (
        "tachyons__gitlab-pages__CNG-fb7b344/.gitlab/ci/fips.gitlab-ci.yml",
        "registry login to build and push the project's own images",
    ),
    (
        "tachyons__gitlab-pages__CNG-fb7b344/.gitlab/ci/ubi.gitlab-ci.yml",
        "registry login to build and push the project's own images",
    ),
    ("gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml", "mentioned in a comment only"),
    (
        "gitlabhq__gitlab-runner/.gitlab/ci/test.gitlab-ci.yml",
        "passed on to a nested runner as OUTER_CI_JOB_TOKEN; no access in the configuration",
    ),
    ("gitlabhq__omnibus-gitlab/gitlab-ci-config/variables.yml", "mentioned in a comment only"),
    (
        "gitlabhq__omnibus-gitlab/gitlab-ci-config/gitlab-com.yml",
        "included only when `$CI_SERVER_HOST == \"gitlab.com\"`, which the snapshot's instance is not",
    ),
];

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
            // Each project has its own repository (scripts run in its checkout), here an empty one.
            fs::create_dir_all(tmp.path().join("repos").join(&path)).unwrap();
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
        common::say(&format!(
            "  access {} -> {} [{}] {} at {}:{}",
            e["caller"].as_str().unwrap(),
            e["callee"].as_str().unwrap(),
            e["kinds"].as_array().unwrap().iter().filter_map(|k| k.as_str()).collect::<Vec<_>>().join(","),
            e["status"].as_str().unwrap(),
            ev["file"].as_str().unwrap(),
            ev["line"]
        ));
    }
    // The work budget's headroom on real configurations (docs/robustness.md).
    let (mut worst, mut worst_path, mut per_byte) = (0.0f64, String::new(), 0.0f64);
    for p in projects {
        let w = &p["work"];
        let ratio = w["units"].as_f64().unwrap() / w["limit"].as_f64().unwrap().max(1.0);
        if ratio > worst {
            (worst, worst_path) = (ratio, p["path"].as_str().unwrap().to_string());
            per_byte = w["units"].as_f64().unwrap() / w["input_bytes"].as_f64().unwrap().max(1.0);
        }
    }
    common::say(&format!(
        "corpus: the costliest resolution spends {:.1}% of its work budget ({worst_path}: {per_byte:.1} units per byte of input)",
        worst * 100.0
    ));
    assert!(worst < 0.5, "a real configuration comes near the work budget: {worst_path} at {:.0}%", worst * 100.0);
    // What the corpus's jobs run that could not be followed (scripts outside the corpus's copy, …).
    let unseen: Vec<String> = projects
        .iter()
        .flat_map(|p| {
            p["unseen"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |u| format!("{}: {}", p["path"].as_str().unwrap(), u["why"]))
        })
        .collect();
    common::say(&format!("corpus: {} things run that could not be followed", unseen.len()));
    for u in &unseen {
        println!("  unseen {u}");
    }
    assert!(jobs > 8000, "expected the corpus's ~8,400 jobs (child pipelines included), got {jobs}");
    assert!(problems.is_empty(), "errors on files GitLab accepts: {problems:#?}");
    check_every_token_mention(&corpus, &doc);
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

/// Every corpus CI file that mentions `CI_JOB_TOKEN` yields an access, or is listed in `NO_ACCESS` with why.
fn check_every_token_mention(corpus: &Path, doc: &serde_json::Value) {
    let mut evidence: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in doc["edges"].as_array().unwrap() {
        for ev in e["evidence"].as_array().unwrap() {
            // repos/corpus/<folder>/<path>
            let file = ev["file"].as_str().unwrap().splitn(3, '/').nth(2).unwrap_or("").to_string();
            evidence.entry(file).or_default().push(format!(
                "{} -> {}",
                ev["kind"].as_str().unwrap(),
                e["callee"].as_str().unwrap()
            ));
        }
    }
    // Accesses of jobs that never run here (their `rules:` name the upstream project's own path, which the
    // corpus's `corpus/owner__name` paths are not) are found and shown, not in the graph.
    for a in doc["never_runs"].as_array().unwrap() {
        let file = a["file"].as_str().unwrap().splitn(3, '/').nth(2).unwrap_or("").to_string();
        evidence.entry(file).or_default().push(format!(
            "{} -> {} (never runs)",
            a["kind"].as_str().unwrap(),
            a["callee"].as_str().unwrap()
        ));
    }
    let mut mentions = Vec::new();
    let mut stack = vec![corpus.join("projects")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if fs::read_to_string(&p).is_ok_and(|t| t.contains("CI_JOB_TOKEN")) {
                mentions.push(p.strip_prefix(corpus.join("projects")).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    mentions.sort();
    let mut unexplained = Vec::new();
    for m in &mentions {
        let reason = NO_ACCESS.iter().find(|(f, _)| f == m).map(|(_, r)| *r);
        match (evidence.get(m), reason) {
            (Some(found), None) => common::say(&format!("  {m}: {}", found.join(", "))),
            (None, Some(why)) => common::say(&format!("  {m}: no access ({why})")),
            (Some(found), Some(_)) => {
                unexplained.push(format!("{m} yields {found:?} but is listed as having no access"))
            }
            (None, None) => {
                unexplained.push(format!("{m} mentions CI_JOB_TOKEN but yields no access and has no documented reason"))
            }
        }
    }
    common::say(&format!("corpus review: {} files mention CI_JOB_TOKEN", mentions.len()));
    assert!(unexplained.is_empty(), "{unexplained:#?}");
}
