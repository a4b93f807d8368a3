//! `plan`, `apply` and `rollback` end to end against the fake GitLab, whose GraphQL endpoint validates and
//! executes every query and mutation with apollo-compiler against GitLab's schema subset: audit -> plan ->
//! apply -> snapshot again -> audit shows only what the plan kept; applying again changes nothing; a
//! failure in the middle of an apply is rolled back to a byte-identical snapshot; drift is refused for
//! that project only; the token is nowhere.

mod common;
#[path = "common/fake_gitlab.rs"]
mod fake_gitlab;

use common::tokenscope;
use fake_gitlab::{Faults, TOKEN};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(dir: &Path, args: Vec<String>) -> Run {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = tokenscope(&dir).env("GITLAB_TOKEN", TOKEN).args(&args).output().expect("run tokenscope");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every file under `dir`, with its text.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out
}

/// `snapshot` of the fake's `acme` group into `dir/name`.
async fn snapshot(dir: &Path, url: &str, name: &str) -> PathBuf {
    let out = dir.join(name);
    let r = run(
        dir,
        args(&["snapshot", "--url", url, "--group", "acme", "--retry-delay-ms", "5", "-o", out.to_str().unwrap()]),
    )
    .await;
    assert!(r.code == 0 || r.code == 3, "snapshot: {} {}", r.code, r.stderr);
    out
}

/// `plan SNAPSHOT --format json` into `dir/plan.json`, and the plan.
async fn make_plan(dir: &Path, snap: &Path, file: &str) -> (PathBuf, Value) {
    let out = dir.join(file);
    let r = run(
        dir,
        args(&[
            "plan",
            snap.to_str().unwrap(),
            "--format",
            "json",
            "--now",
            "2026-11-20",
            "--output",
            out.to_str().unwrap(),
        ]),
    )
    .await;
    assert!(r.code == 0 || r.code == 3, "plan: {} {}", r.code, r.stderr);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (out, plan)
}

/// `apply PLAN --url URL --yes --journal JOURNAL`.
async fn apply(dir: &Path, plan: &Path, url: &str, journal: &Path) -> Run {
    run(dir, args(&["apply", plan.to_str().unwrap(), "--url", url, "--yes", "--journal", journal.to_str().unwrap()]))
        .await
}

/// (rule, callee, entry, caller) of the audit's findings of the rules the plan settles.
async fn open_findings(dir: &Path, snap: &Path) -> Vec<(String, String, String, String)> {
    let r = run(dir, args(&["audit", snap.to_str().unwrap(), "--format", "json"])).await;
    common::settled(&serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr)))
}

async fn plan_apply_snapshot_audit(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(n, h), Faults::default()).await;
    let before = snapshot(dir.path(), &fake.url, "before").await;
    let (plan_file, plan) = make_plan(dir.path(), &before, "plan.json").await;
    let changes = plan["changes"].as_array().unwrap();
    assert!(!changes.is_empty(), "the fake org has something to fix");
    let actions: BTreeSet<&str> = changes.iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert!(actions.contains("add") && actions.contains("remove"), "{actions:?}");
    let journal = dir.path().join("journal.jsonl");
    let r = apply(dir.path(), &plan_file, &fake.url, &journal).await;
    assert_eq!(r.code, 0, "apply: {}", r.stderr);
    let mutations = fake.mutations.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(mutations, changes.len(), "one mutation per change");

    // Snapshot again: what the audit still says is what the plan kept, or could not settle.
    let after = snapshot(dir.path(), &fake.url, "after").await;
    let kept = common::kept(&plan);
    let unresolved: BTreeSet<&str> =
        plan["unresolved"].as_array().unwrap().iter().map(|u| u["project"].as_str().unwrap()).collect();
    // An allowlist left off is explained by the plan's advice (what to confirm before enforcing).
    let advised: BTreeSet<&str> =
        plan["advice"].as_array().unwrap().iter().map(|a| a["project"].as_str().unwrap()).collect();
    for (rule, callee, entry, caller) in open_findings(dir.path(), &after).await {
        let explained = kept.contains(&(callee.clone(), entry.clone()))
            || unresolved.contains(caller.as_str())
            || (rule == "allowlist-disabled" && advised.contains(callee.as_str()));
        assert!(explained, "{rule} on {callee} ({entry}, caller {caller}) is neither fixed nor kept by the plan");
    }
    // A plan of the fixed org changes nothing, and applying the first plan again sends nothing.
    let (_, again) = make_plan(dir.path(), &after, "plan2.json").await;
    assert_eq!(again["changes"], Value::Array(vec![]), "{}", serde_json::to_string_pretty(&again["changes"]).unwrap());
    let r = apply(dir.path(), &plan_file, &fake.url, &dir.path().join("j2.jsonl")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("0 project(s) changed"), "{}", r.stderr);
    assert_eq!(fake.mutations.load(std::sync::atomic::Ordering::SeqCst), mutations, "no mutation the second time");
    assert!(!all_text(dir.path()).contains(TOKEN), "the token is written somewhere");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_then_apply_fixes_the_org_and_a_second_apply_changes_nothing() {
    plan_apply_snapshot_audit(30).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_generated_org_of_500_projects_is_fixed_the_same_way() {
    plan_apply_snapshot_audit(500).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_in_the_middle_is_rolled_back_to_a_byte_identical_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults { fail_mutations_from: Some(4), ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(30, h), faults).await;
    let before = snapshot(dir.path(), &fake.url, "before").await;
    let (plan_file, _) = make_plan(dir.path(), &before, "plan.json").await;
    let journal = dir.path().join("journal.jsonl");
    let r = apply(dir.path(), &plan_file, &fake.url, &journal).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("injected failure") && r.stderr.contains("tokenscope rollback"), "{}", r.stderr);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.lines().any(|l| l.contains("\"event\":\"prior\"")), "{text}");
    assert!(text.lines().any(|l| l.contains("\"ok\":false")), "{text}");
    // Three mutations went through: the org is half changed.
    let middle = snapshot(dir.path(), &fake.url, "middle").await;
    assert_ne!(
        std::fs::read(before.join("tokenscope.yaml")).unwrap(),
        std::fs::read(middle.join("tokenscope.yaml")).unwrap()
    );
    // The outage ends; rollback restores every project the journal touched.
    fake.mutations.store(0, std::sync::atomic::Ordering::SeqCst);
    fake.heal();
    let r = run(dir.path(), args(&["rollback", journal.to_str().unwrap(), "--url", &fake.url, "--yes"])).await;
    assert_eq!(r.code, 0, "rollback: {}", r.stderr);
    let restored = snapshot(dir.path(), &fake.url, "restored").await;
    assert_eq!(
        std::fs::read_to_string(before.join("tokenscope.yaml")).unwrap(),
        std::fs::read_to_string(restored.join("tokenscope.yaml")).unwrap()
    );
    assert!(!all_text(dir.path()).contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_refused_for_that_project_only_and_dry_run_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(30, h), Faults::default()).await;
    let before = snapshot(dir.path(), &fake.url, "before").await;
    let (plan_file, plan) = make_plan(dir.path(), &before, "plan.json").await;
    let projects: BTreeSet<&str> =
        plan["changes"].as_array().unwrap().iter().map(|c| c["project"].as_str().unwrap()).collect();
    assert!(projects.len() >= 2, "{projects:?}");

    // --dry-run prints the exact requests and sends none.
    let r = run(dir.path(), args(&["apply", plan_file.to_str().unwrap(), "--dry-run"])).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), plan["changes"].as_array().unwrap().len());
    for line in r.stdout.lines() {
        let req: Value = serde_json::from_str(line).unwrap();
        let doc = req["query"].as_str().unwrap();
        fake_gitlab::graphql_valid(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        if doc.contains("ciJobTokenScopeRemoveProject") {
            assert_eq!(req["variables"]["input"]["direction"], "INBOUND");
        }
    }
    assert_eq!(fake.mutations.load(std::sync::atomic::Ordering::SeqCst), 0);

    // Someone adds an entry to one project after the plan was made.
    let drifted = projects.iter().next().unwrap().to_string();
    fake.projects
        .lock()
        .unwrap()
        .iter_mut()
        .find(|p| p.path == drifted)
        .unwrap()
        .allow_projects
        .push("acme/legacy/docs".into());
    let r = apply(dir.path(), &plan_file, &fake.url, &dir.path().join("j.jsonl")).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "refused: {drifted}: its settings changed since the plan was made: project acme/legacy/docs was added"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{} project(s) changed", projects.len() - 1)), "{}", r.stderr);
    // Non-interactive use without --yes is refused before anything is sent.
    let sent = fake.mutations.load(std::sync::atomic::Ordering::SeqCst);
    let r = run(dir.path(), args(&["apply", plan_file.to_str().unwrap(), "--url", &fake.url])).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert_eq!(fake.mutations.load(std::sync::atomic::Ordering::SeqCst), sent);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_apply_resumes_from_its_journal_and_still_rolls_back_to_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults { fail_mutations_from: Some(3), ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(30, h), faults).await;
    let before = snapshot(dir.path(), &fake.url, "before").await;
    let (plan_file, plan) = make_plan(dir.path(), &before, "plan.json").await;
    let journal = dir.path().join("journal.jsonl");
    let apply = |extra: &[&str]| {
        let mut a = args(&["apply", plan_file.to_str().unwrap(), "--url", &fake.url, "--yes"]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let r = run(dir.path(), apply(&["--journal", journal.to_str().unwrap()])).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    fake.heal();
    // Resuming sees this plan's own changes half made: not drift. It finishes, appending to the journal.
    let r = run(dir.path(), apply(&["--resume", journal.to_str().unwrap()])).await;
    assert_eq!(r.code, 0, "resume: {}", r.stderr);
    let after = snapshot(dir.path(), &fake.url, "after").await;
    let (_, again) = make_plan(dir.path(), &after, "plan2.json").await;
    assert_eq!(again["changes"], Value::Array(vec![]), "the resumed apply finished the plan");
    assert!(plan["changes"].as_array().unwrap().len() > 2);
    // The journal's first prior states are the ones from before the first run: rollback goes back there.
    let r = run(dir.path(), args(&["rollback", journal.to_str().unwrap(), "--url", &fake.url, "--yes"])).await;
    assert_eq!(r.code, 0, "rollback: {}", r.stderr);
    let restored = snapshot(dir.path(), &fake.url, "restored").await;
    assert_eq!(
        std::fs::read_to_string(before.join("tokenscope.yaml")).unwrap(),
        std::fs::read_to_string(restored.join("tokenscope.yaml")).unwrap()
    );
    // A torn last line (a crash while writing it) does not stop a rollback from reading the journal.
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"event\":\"requ");
    std::fs::write(&journal, text).unwrap();
    let r = run(dir.path(), args(&["rollback", journal.to_str().unwrap(), "--url", &fake.url, "--yes"])).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("0 project(s) changed"), "already restored: {}", r.stderr);
}
