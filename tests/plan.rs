//! `tokenscope plan` run by the real binary on fixtures: the plan a user sees (human, Markdown, JSON), what
//! it emits (a manifest that audits clean but for what the plan kept, Terraform that parses as HCL,
//! gitlabform YAML that loads, GraphQL that validates against GitLab's schema), and compaction under
//! GitLab's 200-entry limit on a generated org.

mod common;
#[path = "common/fake_gitlab.rs"]
mod fake_gitlab;

use common::{root, tokenscope};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const NOW: &str = "2026-11-20";

fn plan(dir: &str, extra: &[&str]) -> String {
    let mut args = vec!["plan", dir, "--now", NOW];
    args.extend_from_slice(extra);
    common::run(&args)
}

fn plan_json(dir: &Path, extra: &[&str]) -> Value {
    let out = tokenscope(&root())
        .args(["plan", dir.to_str().unwrap(), "--now", NOW, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn demo_org_plan_human() {
    insta::assert_snapshot!("plan-demo-org", plan("fixtures/demo-org", &[]));
}

#[test]
fn demo_org_plan_markdown() {
    insta::assert_snapshot!("plan-demo-org-markdown", plan("fixtures/demo-org", &["--format", "markdown"]));
}

#[test]
fn demo_org_plan_json() {
    insta::assert_json_snapshot!("plan-demo-org-json", plan_json(&root().join("fixtures/demo-org"), &[]));
}

#[test]
fn plan_cases() {
    insta::assert_snapshot!("plan-cases", plan("fixtures/plan/cases", &[]));
}

#[test]
fn plan_enforces_only_when_every_caller_is_known() {
    let out = plan("fixtures/plan/enforce", &[]);
    assert!(out.contains("! enforce the allowlist"), "{out}");
    insta::assert_snapshot!("plan-enforce", out);
    // One project that could not be fully read anywhere in the snapshot keeps enforcement off: it could be a caller.
    let cases = plan_json(&root().join("fixtures/plan/cases"), &[]);
    assert!(cases["changes"].as_array().unwrap().iter().all(|c| c["action"] != "enable"));
}

/// (rule, callee, entry, caller) of the audit findings a plan settles.
fn settled_findings(dir: &Path) -> Vec<(String, String, String, String)> {
    let out = tokenscope(&root()).args(["audit", dir.to_str().unwrap(), "--format", "json"]).output().unwrap();
    common::settled(&serde_json::from_slice(&out.stdout).unwrap())
}

/// A copy of the snapshot `src` with `manifest` as its manifest.
fn with_manifest(src: &Path, manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp").arg("-r").arg(src.join("repos")).arg(dir.path()).status().unwrap();
    assert!(status.success());
    std::fs::write(dir.path().join("tokenscope.yaml"), manifest).unwrap();
    dir
}

/// Emitting the manifest and auditing it is applying the plan: what the audit still says must be what the
/// plan kept, left unresolved, or could not plan (a callee whose settings are unknown).
fn emitted_manifest_audits_clean(fixture: &str) {
    let src = root().join(fixture);
    let plan = plan_json(&src, &[]);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("target.yaml");
    let run = tokenscope(&root())
        .args(["plan", src.to_str().unwrap(), "--now", NOW, "--emit", "manifest", "--output", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.code() == Some(0) || run.status.code() == Some(3), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest = std::fs::read_to_string(&file).unwrap();
    assert!(manifest.contains("owner:") && manifest.contains("reason:"), "{manifest}");
    let applied = with_manifest(&src, &manifest);
    let kept = common::kept(&plan);
    let kept_callees: BTreeSet<&str> = kept.iter().map(|(p, _)| p.as_str()).collect();
    let unresolved: BTreeSet<&str> =
        plan["unresolved"].as_array().unwrap().iter().map(|u| u["project"].as_str().unwrap()).collect();
    let advised: BTreeSet<&str> =
        plan["advice"].as_array().unwrap().iter().map(|a| a["project"].as_str().unwrap()).collect();
    let left = settled_findings(applied.path());
    for (rule, callee, entry, caller) in &left {
        let explained = kept.contains(&(callee.clone(), entry.clone()))
            || unresolved.contains(caller.as_str())
            || (rule == "allowlist-over-limit" && kept_callees.contains(callee.as_str()))
            || (rule == "allowlist-disabled" && advised.contains(callee.as_str()));
        assert!(explained, "{fixture}: {rule} on {callee} (entry {entry}, caller {caller}) is neither fixed nor kept");
    }
    // And there is less to say than before.
    assert!(left.len() < settled_findings(&src).len(), "{left:?}");
}

#[test]
fn the_emitted_manifest_of_the_demo_org_audits_clean_but_for_what_the_plan_kept() {
    emitted_manifest_audits_clean("fixtures/demo-org");
}

#[test]
fn the_emitted_manifest_of_the_cases_audits_clean_but_for_what_the_plan_kept() {
    emitted_manifest_audits_clean("fixtures/plan/cases");
    emitted_manifest_audits_clean("fixtures/plan/enforce");
}

fn emit(fixture: &str, kind: &str) -> String {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("out");
    let run = tokenscope(&root())
        .args(["plan", fixture, "--now", NOW, "--emit", kind, "--output", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.code() == Some(0) || run.status.code() == Some(3), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read_to_string(file).unwrap()
}

#[test]
fn emitted_terraform_is_hcl_with_imports_and_authoritative_lists() {
    let tf = emit("fixtures/demo-org", "terraform");
    let body: hcl::Body = hcl::from_str(&tf).unwrap_or_else(|e| panic!("not HCL: {e}\n{tf}"));
    let blocks: Vec<&hcl::Block> = body.blocks().collect();
    let resources: Vec<&&hcl::Block> = blocks
        .iter()
        .filter(|b| b.identifier() == "resource" && b.labels()[0].as_str() == "gitlab_project_job_token_scopes")
        .collect();
    let imports = blocks.iter().filter(|b| b.identifier() == "import").count();
    assert!(!resources.is_empty() && imports == resources.len(), "{tf}");
    for r in resources {
        let keys: BTreeSet<&str> = r.body().attributes().map(|a| a.key()).collect();
        assert_eq!(keys, BTreeSet::from(["project", "enabled", "target_project_ids", "target_group_ids"]), "{tf}");
    }
    assert!(tf.contains("cannot be expressed in the provider"), "{tf}");
    insta::assert_snapshot!("plan-demo-org-terraform", tf);
}

#[test]
fn emitted_gitlabform_loads_as_yaml() {
    let text = emit("fixtures/demo-org", "gitlabform");
    let sources = gitlab_ci::source::SourceMap::new();
    let id = sources.add(gitlab_ci::source::SourceFile::new("gitlabform.yml".into(), None, None, text.as_str().into()));
    let parsed = gitlab_ci::yaml::parse(&sources, id).unwrap_or_else(|e| panic!("{}: {text}", e.message));
    let top = &parsed.docs[0];
    let projects = top.get("projects_and_groups").and_then(|n| n.as_map()).expect("projects_and_groups");
    assert!(!projects.entries.is_empty());
    for (_, p) in &projects.entries {
        let scope = p.get("job_token_scope").expect("job_token_scope");
        assert!(scope.get("limit_access_to_this_project").and_then(|n| n.as_bool()).is_some(), "{text}");
        let allow = scope.get("allowlist").expect("allowlist");
        assert!(allow.get("projects").and_then(|n| n.as_seq()).is_some() && allow.get("groups").is_some(), "{text}");
    }
    insta::assert_snapshot!("plan-demo-org-gitlabform", text);
}

#[test]
fn emitted_graphql_validates_against_gitlabs_schema() {
    let text = emit("fixtures/demo-org", "graphql");
    fake_gitlab::graphql_valid(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(text.contains("direction: INBOUND"), "removals say INBOUND: {text}");
    insta::assert_snapshot!("plan-demo-org-graphql", text);
}

/// A snapshot of `c/callee` and `callers` that clone it, plus `others` that do not, under groups.
fn generated(dir: &Path, callers: &[String], others: &[String], critical: &[&str]) {
    let mut m =
        String::from("instance:\n  url: https://gitlab.example.com\n  tier: premium\nprojects:\n  c/callee: {}\n");
    std::fs::create_dir_all(dir.join("repos/c/callee")).unwrap();
    for p in callers.iter().chain(others) {
        if critical.contains(&p.as_str()) {
            m.push_str(&format!("  {p}:\n    critical: true\n"));
        } else {
            m.push_str(&format!("  {p}: {{}}\n"));
        }
        let repo = dir.join("repos").join(p);
        std::fs::create_dir_all(&repo).unwrap();
        if callers.contains(p) {
            std::fs::write(
                repo.join(".gitlab-ci.yml"),
                "build:\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/c/callee.git\n",
            )
            .unwrap();
        }
    }
    std::fs::write(dir.join("tokenscope.yaml"), m).unwrap();
}

#[test]
fn more_callers_than_the_limit_are_compacted_into_the_groups_that_admit_fewest_others() {
    // 250 callers in c/big/s0..s9 (one stranger in s0), 30 in c/wide beside 300 strangers, 10 in c/crit
    // beside a critical project.
    let mut callers: Vec<String> = (0..250).map(|i| format!("c/big/s{}/p{i}", i % 10)).collect();
    callers.extend((0..30).map(|i| format!("c/wide/p{i}")));
    callers.extend((0..10).map(|i| format!("c/crit/p{i}")));
    let mut others: Vec<String> = vec!["c/big/s0/stranger".into()];
    others.extend((0..300).map(|i| format!("c/wide/o{i}")));
    others.push("c/crit/vault".into());
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), &callers, &others, &["c/crit/vault"]);
    let plan = plan_json(dir.path(), &[]);
    let compaction = &plan["compaction"][0];
    assert_eq!(compaction["project"], "c/callee");
    assert_eq!(compaction["callers"], 290);
    let over = compaction["over_grant"].as_u64().unwrap();
    let greedy = compaction["greedy_over_grant"].as_u64().unwrap();
    assert!(over <= greedy, "{compaction}");
    let groups: Vec<&str> = compaction["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    // 90 callers must go into groups: four strangerless c/big subgroups absorb 100. Never c/wide (300
    // strangers), never a group holding the critical project.
    assert!(!groups.iter().any(|g| *g == "c" || *g == "c/crit" || *g == "c/wide"), "{groups:?}");
    assert_eq!(over, 0, "{compaction}");
    assert_eq!(groups.len(), 4, "the fewest groups at equal over-grant: {groups:?}");
    assert!(greedy >= 300, "GitLab's greedy compaction takes c/wide first: {compaction}");
    let adds = plan["changes"].as_array().unwrap().iter().filter(|c| c["action"] == "add");
    let projects = adds.clone().filter(|c| c["target"].get("project").is_some()).count();
    assert!(projects <= 200, "{projects} project entries");
    // never_group: c/big may not be used wholesale; its subgroups still may.
    let plan = plan_json(dir.path(), &["--never-group", "c/big"]);
    let groups: Vec<&str> =
        plan["compaction"][0]["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert!(!groups.contains(&"c/big") && !groups.is_empty(), "{groups:?}");
    // The emitted manifest fits GitLab's limits and covers every caller.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("m.yaml");
    tokenscope(&root())
        .args([
            "plan",
            dir.path().to_str().unwrap(),
            "--now",
            NOW,
            "--emit",
            "manifest",
            "--output",
            file.to_str().unwrap(),
        ])
        .assert()
        .success();
    let applied = with_manifest(dir.path(), &std::fs::read_to_string(&file).unwrap());
    let left = settled_findings(applied.path());
    assert!(
        !left.iter().any(|(rule, ..)| rule == "missing-allowlist-entry" || rule == "allowlist-over-limit"),
        "{left:?}"
    );
}

#[test]
fn plan_refuses_bad_dates_and_never_writes_into_the_snapshot() {
    let out = common::run(&["plan", "fixtures/plan/enforce", "--now", "yesterday"]);
    assert!(out.starts_with("exit: 2") && out.contains("--now must be a date"), "{out}");
    let out = common::run(&[
        "plan",
        "fixtures/plan/enforce",
        "--emit",
        "manifest",
        "--output",
        "fixtures/plan/enforce/tokenscope.yaml",
    ]);
    assert!(out.starts_with("exit: 2") && out.contains("part of the input"), "{out}");
}

#[test]
fn callers_that_cannot_all_get_an_entry_keep_enforcement_off() {
    // 250 callers directly in `f`, which may not be used wholesale: only 200 fit, and the callee, which
    // does not enforce today, must stay so.
    let callers: Vec<String> = (0..250).map(|i| format!("f/p{i}")).collect();
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), &callers, &[], &[]);
    let manifest = std::fs::read_to_string(dir.path().join("tokenscope.yaml")).unwrap();
    let manifest = manifest.replace("  c/callee: {}\n", "  c/callee:\n    job_token:\n      inbound_enabled: false\n");
    std::fs::write(dir.path().join("tokenscope.yaml"), manifest).unwrap();
    let plan = plan_json(dir.path(), &["--never-group", "f"]);
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.iter().filter(|c| c["action"] == "add").count(), 200);
    assert!(changes.iter().all(|c| c["action"] != "enable"), "{plan}");
    let advice: Vec<&str> = plan["advice"].as_array().unwrap().iter().map(|a| a["text"].as_str().unwrap()).collect();
    assert!(advice.iter().any(|a| a.contains("250 callers need a new entry")), "{advice:?}");
    assert!(advice.iter().any(|a| a.starts_with("enforcement not enabled")), "{advice:?}");
}
