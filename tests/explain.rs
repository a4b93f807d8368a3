//! `tokenscope explain` on realistic job logs (runner preamble, ANSI colours, section markers, as GitLab
//! stores them) against the demo org: every signature of docs/explain.md, its verdict, and near misses
//! that must not be called an allowlist problem.

mod common;
#[path = "common/fake_gitlab.rs"]
mod fake_gitlab;

use common::{root, tokenscope};
use serde_json::Value;

/// (log, project, job, expected kind, expected verdict, expected callee)
type Case = (&'static str, &'static str, Option<&'static str>, &'static str, &'static str, Option<&'static str>);

const CASES: &[Case] = &[
    ("git-scope", "acme/services/web", Some("build"), "scope-denied", "missing-entry", Some("acme/services/api")),
    (
        "git-old-not-found",
        "acme/services/web",
        Some("build"),
        "git-not-found",
        "missing-entry",
        Some("acme/services/api"),
    ),
    (
        "git-role",
        "acme/services/web",
        Some("build"),
        "role-too-low",
        "not-an-allowlist-problem",
        Some("acme/services/api"),
    ),
    ("submodule", "acme/services/billing", None, "scope-denied", "missing-entry", Some("acme/tools/cli")),
    (
        "fine-grained",
        "acme/infra/deployer",
        Some("deploy"),
        "policy-missing",
        "insufficient-permissions",
        Some("acme/infra/terraform-state"),
    ),
    (
        "terraform-invalid-auth",
        "acme/infra/deployer",
        Some("deploy"),
        "terraform-state",
        "not-an-allowlist-problem",
        Some("acme/infra/terraform-state"),
    ),
    ("image-pull", "acme/infra/deployer", Some("deploy"), "image-pull", "missing-entry", Some("acme/platform/images")),
    (
        "needs-artifacts-free",
        "acme/infra/deployer",
        Some("deploy"),
        "needs-artifacts",
        "not-an-allowlist-problem",
        Some("acme/services/api"),
    ),
    (
        "package-404-exists",
        "acme/services/worker",
        Some("fixtures"),
        "http-status",
        "not-an-allowlist-problem",
        Some("acme/platform/packages"),
    ),
    ("release-overridden", "acme/services/worker", Some("release"), "release-api", "not-an-allowlist-problem", None),
    ("foreign-host", "acme/services/web", Some("build"), "git-forbidden", "not-an-allowlist-problem", None),
    ("jwt-runner-bug", "acme/services/api", None, "runner-jwt-bug", "not-an-allowlist-problem", None),
    ("npm-e403", "acme/services/web", Some("build"), "scope-denied", "unknown", Some("ui")),
    ("token-in-log", "acme/services/web", Some("build"), "scope-denied", "missing-entry", Some("acme/services/api")),
];

fn explain_json(log: &str, project: &str, job: Option<&str>) -> Value {
    let path = format!("fixtures/explain/{log}.log");
    let mut args =
        vec!["explain", path.as_str(), "--snapshot", "fixtures/demo-org", "--project", project, "--format", "json"];
    if let Some(j) = job {
        args.extend(["--job", j]);
    }
    let out = tokenscope(&root()).args(&args).output().unwrap();
    assert!(out.status.success(), "{log}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{log}: {e}"))
}

#[test]
fn every_signature_gets_its_verdict() {
    let mut human = String::new();
    for (log, project, job, kind, verdict, callee) in CASES {
        let doc = explain_json(log, project, *job);
        let d = doc["diagnoses"].as_array().unwrap();
        assert_eq!(d.len(), 1, "{log}: one failure, one diagnosis: {doc}");
        assert_eq!(d[0]["kind"], *kind, "{log}: {doc}");
        assert_eq!(d[0]["verdict"], *verdict, "{log}: {doc}");
        assert_eq!(d[0]["callee"].as_str(), *callee, "{log}: {doc}");
        let path = format!("fixtures/explain/{log}.log");
        let mut args = vec!["explain", path.as_str(), "--snapshot", "fixtures/demo-org", "--project", project];
        if let Some(j) = job {
            args.extend(["--job", j]);
        }
        human.push_str(&format!("### {log}\n{}\n", common::run(&args)));
    }
    insta::assert_snapshot!("explain-demo-org", human);
}

#[test]
fn a_missing_entry_comes_with_the_plan_fragment_and_the_ci_line() {
    let doc = explain_json("git-scope", "acme/services/web", Some("build"));
    let d = &doc["diagnoses"][0];
    assert_eq!(d["caller"], "acme/services/web");
    assert_eq!(d["ci_location"], serde_json::json!({"file": "repos/acme/services/web/.gitlab-ci.yml", "line": 8}));
    assert_eq!(d["permissions"], serde_json::json!(["read_repositories"]));
    assert!(d["fix"].as_str().unwrap().contains("+ project acme/services/web [read_repositories]"), "{d}");
}

#[test]
fn near_misses_yield_nothing_or_no_reflexive_entry() {
    // A successful job that mentions 403 in its own output.
    let doc = explain_json("clean-success", "acme/services/web", Some("build"));
    assert_eq!(doc["diagnoses"], serde_json::json!([]));
    // A 404 for a package that does not exist, in a project the caller's entry admits.
    let doc = explain_json("package-404-exists", "acme/services/worker", Some("fixtures"));
    let fix = doc["diagnoses"][0]["fix"].as_str().unwrap();
    assert!(fix.contains("admits `acme/services/worker`") && fix.contains("may not exist"), "{fix}");
    // A denial the CI configuration does not explain: no entry is advised.
    let doc = explain_json("git-scope", "acme/services/billing", None);
    let d = &doc["diagnoses"][0];
    assert_eq!(d["verdict"], "unknown", "{d}");
    assert!(d["fix"].as_str().unwrap().contains("makes no job-token access"), "{d}");
}

#[test]
fn tokens_in_the_log_are_redacted_and_stdin_works() {
    let log = std::fs::read(root().join("fixtures/explain/token-in-log.log")).unwrap();
    let out = tokenscope(&root())
        .args(["explain", "-", "--snapshot", "fixtures/demo-org", "--project", "acme/services/web"])
        .write_stdin(log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("missing-entry") && text.contains("glpat-[REDACTED]"), "{text}");
    assert!(!text.contains("AbCdEfGhIjKlMnOpQrSt"), "{text}");
    assert!(!text.contains('\x1b'), "colours stripped: {text}");
}

#[test]
fn without_a_snapshot_the_message_alone_is_read() {
    let out = common::run(&["explain", "fixtures/explain/git-scope.log"]);
    assert!(
        out.contains("missing-entry")
            && out.contains("add `web` to the allowlist of `api`")
            && out.contains("--snapshot"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_is_fetched_with_job_id() {
    let log = std::fs::read_to_string(root().join("fixtures/explain/git-scope.log")).unwrap();
    let (_server, fake) = fake_gitlab::start(
        |_| {
            let mut p = fake_gitlab::FakeProject {
                id: 31,
                path: "acme/services/web".into(),
                visibility: "private",
                ..Default::default()
            };
            p.traces.insert(8123, log);
            vec![p]
        },
        fake_gitlab::Faults::default(),
    )
    .await;
    let url = fake.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        tokenscope(&root())
            .env("GITLAB_TOKEN", fake_gitlab::TOKEN)
            .args([
                "explain",
                "--url",
                &url,
                "--project",
                "acme/services/web",
                "--job-id",
                "8123",
                "--snapshot",
                "fixtures/demo-org",
                "--format",
                "json",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let doc: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(doc["diagnoses"][0]["verdict"], "missing-entry");
}
