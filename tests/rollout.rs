//! `tokenscope rollout`, `rollout status` and `tokenscope graph` run by the real binary on fixtures.

mod common;

use common::{root, tokenscope};
use serde_json::Value;

const NOW: &str = "2026-11-20";

fn json(args: &[&str]) -> Value {
    let out = tokenscope(&root()).args(args).args(["--format", "json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn rollout_waves_watch_and_instance_switch() {
    let r = json(&["rollout", "fixtures/plan/enforce", "--now", NOW]);
    assert_eq!(r["waves"][0]["projects"], serde_json::json!(["e/ready"]), "{r}");
    assert_eq!(r["waves"][1]["projects"], serde_json::json!(["e/open", "e/callee"]), "pilots first: fewest callers");
    // e/b reaches e/callee only from a scheduled job: watched.
    assert_eq!(r["waves"][1]["watch"][0]["caller"], "e/b");
    assert_eq!(r["waves"][1]["watch"][0]["runs"], serde_json::json!(["schedule"]));
    assert_eq!(r["instance_switch"]["now"], serde_json::json!({"projects": 1, "edges": 2}));
    assert_eq!(r["instance_switch"]["after_waves"][1], serde_json::json!({"projects": 0, "edges": 0}));
    assert_eq!(r["blocked"], serde_json::json!([]));
    insta::assert_snapshot!(
        "rollout-enforce-markdown",
        common::run(&["rollout", "fixtures/plan/enforce", "--now", NOW, "--format", "markdown"])
    );
}

#[test]
fn a_project_that_could_not_be_fully_read_blocks_enforcement_with_what_to_confirm() {
    let r = json(&["rollout", "fixtures/demo-org", "--now", NOW]);
    let blocked = r["blocked"].as_array().unwrap();
    assert_eq!(blocked.len(), 1, "{r}");
    assert_eq!(blocked[0]["project"], "acme/tools/cli");
    let reason = blocked[0]["reasons"][0].as_str().unwrap();
    assert!(reason.contains("acme/services/billing") && reason.contains("$DOCS_PROJECT_ID"), "{reason}");
    insta::assert_snapshot!("rollout-demo-org", common::run(&["rollout", "fixtures/demo-org", "--now", NOW]));
}

#[test]
fn a_wave_is_a_plan_apply_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wave-1.json");
    tokenscope(&root())
        .args(["rollout", "fixtures/plan/enforce", "--now", NOW, "--wave", "1", "--output", file.to_str().unwrap()])
        .assert()
        .success();
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let projects: Vec<&str> =
        plan["changes"].as_array().unwrap().iter().map(|c| c["project"].as_str().unwrap()).collect();
    assert!(projects.iter().all(|p| *p == "e/open" || *p == "e/callee"), "{projects:?}");
    assert_eq!(plan["changes"].as_array().unwrap().last().unwrap()["action"], "enable");
    let out = tokenscope(&root()).args(["apply", file.to_str().unwrap(), "--dry-run"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), plan["changes"].as_array().unwrap().len());
}

#[test]
fn status_says_which_waves_are_done_new_callers_and_regressions() {
    // The newer snapshot: the plan applied (its manifest) but e/callee's enforcement switched back off (wave
    // 1 not done), a new caller in the authentication log of e/ready, and e/a's clone of e/ready denied
    // once e/ready's entry is gone.
    let src = root().join("fixtures/plan/enforce");
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.yaml");
    tokenscope(&root())
        .args([
            "rollout",
            src.to_str().unwrap(),
            "--now",
            NOW,
            "--wave",
            "1",
            "--output",
            dir.path().join("w.json").to_str().unwrap(),
        ])
        .assert()
        .success();
    tokenscope(&root())
        .args([
            "plan",
            src.to_str().unwrap(),
            "--now",
            NOW,
            "--emit",
            "manifest",
            "--output",
            manifest.to_str().unwrap(),
        ])
        .assert()
        .success();
    let newer = dir.path().join("newer");
    std::fs::create_dir(&newer).unwrap();
    assert!(std::process::Command::new("cp").arg("-r").arg(src.join("repos")).arg(&newer).status().unwrap().success());
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    let at = text.find("  e/callee:").unwrap();
    let (head, tail) = text.split_at(at);
    let tail = tail.replacen("inbound_enabled: true", "inbound_enabled: false", 1);
    text = format!("{head}{tail}");
    let at = text.find("  e/ready:").unwrap();
    let (head, tail) = text.split_at(at);
    let tail = tail.replacen("        - project: e/a\n          permissions: [read_repositories]\n", "", 1);
    text = format!("{head}{tail}");
    text.push_str("  - accessed: e/ready\n    origin: e/critical\n    last_authorized_at: \"2026-11-19T10:00:00Z\"\n");
    std::fs::write(newer.join("tokenscope.yaml"), text).unwrap();
    let s = json(&["rollout", "status", newer.to_str().unwrap(), "--since", src.to_str().unwrap(), "--now", NOW]);
    assert_eq!(s["waves"][0]["done"], true, "{s}");
    assert_eq!(s["waves"][1]["done"], false, "{s}");
    assert_eq!(s["waves"][1]["pending"], serde_json::json!(["e/callee: ! enforcement"]), "{s}");
    assert_eq!(s["new_callers"][0]["caller"], "e/critical", "{s}");
    let regressions = s["regressions"].as_array().unwrap();
    assert!(regressions.iter().any(|r| r.as_str().unwrap().contains("`e/a` is now denied against `e/ready`")), "{s}");
    let out =
        common::run(&["rollout", "status", newer.to_str().unwrap(), "--since", src.to_str().unwrap(), "--now", NOW]);
    assert!(out.starts_with("exit: 1"), "{out}");
}

#[test]
fn graph_callers_callees_and_paths() {
    let g = json(&["graph", "fixtures/demo-org", "--callers-of", "acme/services/api"]);
    let callers: Vec<&str> = g["edges"].as_array().unwrap().iter().map(|e| e["caller"].as_str().unwrap()).collect();
    assert_eq!(callers, ["acme/infra/deployer", "acme/services/web"]);
    let admitted: Vec<(&str, bool)> = g["admitted_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["caller"].as_str().unwrap(), a["used"].as_bool().unwrap()))
        .collect();
    assert!(
        admitted.contains(&("acme/infra/deployer", true)) && admitted.contains(&("acme/tools/cli", false)),
        "{admitted:?}"
    );
    // Whose allowlists name a project, group entries included.
    let g = json(&["graph", "fixtures/demo-org", "--callees-of", "acme/services/web"]);
    let by: Vec<(&str, &Value)> =
        g["admitted_by"].as_array().unwrap().iter().map(|a| (a["callee"].as_str().unwrap(), &a["entry"])).collect();
    assert!(by.contains(&("acme/platform/packages", &serde_json::json!({"group": "acme"}))), "{by:?}");
    assert!(by.contains(&("acme/platform/images", &serde_json::json!({"group": "acme/services"}))), "{by:?}");
    insta::assert_snapshot!(
        "graph-callers-of",
        common::run(&["graph", "fixtures/demo-org", "--callers-of", "acme/services/api"])
    );
    insta::assert_snapshot!(
        "graph-path-mermaid",
        common::run(&[
            "graph",
            "fixtures/demo-org",
            "--path",
            "acme/services/web",
            "acme/platform/packages",
            "--format",
            "mermaid"
        ])
    );
    let out = common::run(&["graph", "fixtures/demo-org", "--callers-of", "acme/nope"]);
    assert!(out.starts_with("exit: 2") && out.contains("not a project of the snapshot"), "{out}");
}
