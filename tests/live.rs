//! Live mode against a fake GitLab on loopback: `snapshot` then offline `audit` equals the live `audit`;
//! pagination; retries on 429, 500, timeouts and truncated bodies; denied endpoints recorded as skipped; and
//! the token never written anywhere.

mod common;
#[path = "common/fake_gitlab.rs"]
mod fake_gitlab;

use common::tokenscope;
use fake_gitlab::{Faults, TOKEN};
use std::path::Path;
use std::time::Duration;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run tokenscope with the fake's token in `GITLAB_TOKEN`, off the async runtime.
async fn run(dir: &Path, args: Vec<String>) -> Run {
    run_with(dir, args, TOKEN).await
}

/// [`run`] with another token.
async fn run_with(dir: &Path, args: Vec<String>, token: &'static str) -> Run {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        // Short retry delays: the fake's broken repository fails on every try.
        let out = tokenscope(&dir)
            .env("GITLAB_TOKEN", token)
            .args(&args)
            .args(fast_retries(&args))
            .output()
            .expect("run tokenscope");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

/// Short retry delays for live commands (the fake's broken repository fails on every try), unless given.
fn fast_retries(args: &[String]) -> Vec<&'static str> {
    let live = args.iter().any(|a| a == "--url") && args[0] != "lint";
    let given = args.iter().any(|a| a == "--retry-delay-ms");
    if live && !given { vec!["--retry-delay-ms", "20"] } else { vec![] }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every file under `dir`, with its text.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()));
            }
        }
    }
    out.sort();
    out
}

fn port_free(text: &str, url: &str) -> String {
    let host = url.trim_start_matches("http://");
    text.replace(url, "http://FAKE").replace(host, "FAKE").replace(&host.replace(':', "-"), "FAKE")
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_then_offline_audit_equals_live_audit() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(30, h), Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    let s = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "snap"])).await;
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert!(s.stderr.contains("fetched 30 projects"), "{}", s.stderr);

    let manifest = std::fs::read_to_string(snap.join("tokenscope.yaml")).unwrap();
    insta::assert_snapshot!("live_manifest", port_free(&manifest, &fake.url));
    let written: Vec<String> = files(&snap).into_iter().map(|(p, _)| p).collect();
    insta::assert_snapshot!("live_files", written.join("\n"));

    let offline = run(tmp.path(), args(&["audit", "snap", "--format", "json"])).await;
    let live = run(tmp.path(), args(&["audit", "--url", &fake.url, "--group", "acme", "--format", "json"])).await;
    assert_eq!(offline.stdout, live.stdout);
    assert_eq!(offline.code, live.code);
    // The repository of acme/legacy/broken could not be read: the audit of the rest goes on, exit 3.
    assert_eq!(live.code, 3, "{}", live.stderr);
    let doc: serde_json::Value = serde_json::from_str(&live.stdout).unwrap();
    insta::assert_json_snapshot!("live_skipped", doc["skipped"]);
    // A repository script the CI file runs was fetched and followed: its clone is evidence at its own line.
    let lib = doc["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["caller"] == "acme/apps/svc-02" && e["callee"] == "acme/platform/lib")
        .unwrap();
    assert!(
        lib["evidence"].as_array().unwrap().iter().any(|ev| ev["file"] == "repos/acme/apps/svc-02/ci/sync.sh"),
        "{lib}"
    );
    let vault = doc["edges"].as_array().unwrap().iter().find(|e| e["callee"] == "acme/legacy/vault").unwrap();
    assert_eq!(vault["status"], "unknown", "could not read is not empty");
    let human = run(tmp.path(), args(&["audit", "snap"])).await;
    insta::assert_snapshot!("live_human", port_free(&human.stdout, &fake.url));
    // Every request carried the token, in its header only.
    let log = fake.log.lock().unwrap();
    assert!(log.iter().all(|(_, url, _, ok)| *ok && !url.contains(TOKEN)));
}

/// A server that repeats the token in its error messages (REST and GraphQL), with a token of no known
/// shape: the token is in no output and no file, the snapshot's `skipped:` reasons included.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_the_server_echoes_is_never_stored_or_printed() {
    const PLAIN: &str = "s3cretValueWithoutAnyKnownPrefix42";
    let faults = Faults { token: Some(PLAIN), echo_token: true, ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(12, h), faults).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for a in [
        args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "snap"]),
        args(&["audit", "snap", "--format", "json"]),
        args(&["audit", "--url", &fake.url, "--group", "acme", "--report", "json=r.json"]),
    ] {
        let r = run_with(tmp.path(), a, PLAIN).await;
        seen.push(r.stdout);
        seen.push(r.stderr);
    }
    let manifest = std::fs::read_to_string(tmp.path().join("snap/tokenscope.yaml")).unwrap();
    assert!(manifest.contains("skipped"), "the refusals are recorded:\n{manifest}");
    for text in &seen {
        assert!(!text.contains(PLAIN), "the token leaked: {text}");
    }
    for (path, text) in files(tmp.path()) {
        assert!(!text.contains(PLAIN), "the token is in {path}");
    }
}

/// A server whose listing never ends stops at --max-list-rows with an error naming the endpoint, and
/// nothing is left behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_that_never_ends_is_stopped() {
    let faults = Faults { endless_pages: true, page_size: 20, ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(12, h), faults).await;
    let tmp = tempfile::tempdir().unwrap();
    let r = run(
        tmp.path(),
        args(&[
            "snapshot",
            "--url",
            &fake.url,
            "--group",
            "acme",
            "-o",
            "snap",
            "--max-list-rows",
            "300",
            "--api",
            "rest",
        ]),
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("/groups/acme/projects") && r.stderr.contains("--max-list-rows"), "{}", r.stderr);
    assert!(!tmp.path().join("snap").exists(), "nothing half-written is left");
    assert!(fake.log.lock().unwrap().len() < 40, "stopped early");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_is_never_printed_or_written() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(12, h), Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for a in [
        args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "snap"]),
        args(&["audit", "snap", "--format", "json"]),
        args(&[
            "audit",
            "--url",
            &fake.url,
            "--group",
            "acme",
            "--report",
            "markdown=r.md",
            "--report",
            "sarif=r.sarif",
        ]),
        args(&["audit", "--url", &fake.url, "--project", "acme/missing"]),
        args(&["snapshot", "--url", "http://127.0.0.1:9", "--group", "acme", "-o", "nowhere", "--retries", "0"]),
    ] {
        let r = run(tmp.path(), a).await;
        seen.push(r.stdout);
        seen.push(r.stderr);
    }
    assert!(!tmp.path().join("nowhere").exists(), "a failed fetch leaves nothing behind");
    // A token file, and a wrong token: the 401 is reported without the token.
    std::fs::write(tmp.path().join("token"), "glpat-WRONGwrong0123456789\n").unwrap();
    let r = run(
        tmp.path(),
        args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "s2", "--token-file", "token"]),
    )
    .await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    assert!(!r.stderr.contains("WRONGwrong"));
    seen.push(r.stderr);
    for text in &seen {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
    for (path, text) in files(tmp.path()) {
        assert!(!text.contains(TOKEN), "the token is in {path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_with_totals_and_with_links() {
    for no_totals in [false, true] {
        let faults = Faults { page_size: 7, no_totals, ..Faults::default() };
        let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(30, h), faults).await;
        let tmp = tempfile::tempdir().unwrap();
        let s =
            run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "snap", "--api", "rest"]))
                .await;
        assert_eq!(s.code, 0, "{}", s.stderr);
        let m = std::fs::read_to_string(tmp.path().join("snap/tokenscope.yaml")).unwrap();
        let projects = m.lines().filter(|l| l.starts_with("  acme/")).count();
        assert_eq!(projects, 30, "no_totals={no_totals}\n{m}");
        let log = fake.log.lock().unwrap();
        let pages: Vec<&String> =
            log.iter().map(|(_, u, _, _)| u).filter(|u| u.contains("/groups/acme/projects")).collect();
        assert_eq!(pages.len(), 5, "30 rows in pages of 7: {pages:?}");
        assert!(pages.iter().any(|u| u.contains("page=5")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_faults_are_retried_and_change_nothing() {
    let (_s1, clean) = fake_gitlab::start(|h| fake_gitlab::org(12, h), Faults::default()).await;
    let faults = Faults {
        rate_limit_once: ["/api/v4/projects/3/job_token_scope".to_string()].into(),
        error_once: ["/api/v4/projects/2/job_token_scope/allowlist".to_string(), "/api/graphql".to_string()].into(),
        slow_once: ["/api/v4/projects/101/job_token_scope".to_string()].into(),
        truncated_once: ["/api/v4/projects/102/job_token_scope".to_string()].into(),
        ..Faults::default()
    };
    let (_s2, faulty) = fake_gitlab::start(|h| fake_gitlab::org(12, h), faults).await;
    let tmp = tempfile::tempdir().unwrap();
    let a =
        run(tmp.path(), args(&["snapshot", "--url", &clean.url, "--group", "acme", "-o", "a", "--api", "rest"])).await;
    let b = run(
        tmp.path(),
        args(&[
            "snapshot",
            "--url",
            &faulty.url,
            "--group",
            "acme",
            "--api",
            "rest",
            "-o",
            "b",
            "--timeout",
            "1",
            "--retry-delay-ms",
            "50",
        ]),
    )
    .await;
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.stderr, b.stderr);
    let read = |d: &str, url: &str| {
        port_free(&std::fs::read_to_string(tmp.path().join(d).join("tokenscope.yaml")).unwrap(), url)
    };
    assert_eq!(read("a", &clean.url), read("b", &faulty.url));
    // The 429 asked for one second: the retry waited for it.
    let log = faulty.log.lock().unwrap();
    let times: Vec<_> =
        log.iter().filter(|(_, u, _, _)| u.ends_with("/projects/3/job_token_scope")).map(|(_, _, t, _)| *t).collect();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_millis(950), "{:?}", times[1] - times[0]);
    for p in ["/projects/101/job_token_scope", "/projects/102/job_token_scope", "/projects/2/job_token_scope/allowlist"]
    {
        assert_eq!(log.iter().filter(|(_, u, _, _)| u.contains(p) && !u.contains(&format!("{p}/"))).count(), 2, "{p}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_persistent_failure_is_reported_and_the_rest_is_audited() {
    let faults =
        Faults { truncated_always: ["/api/v4/projects/3/job_token_scope".to_string()].into(), ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(12, h), faults).await;
    let tmp = tempfile::tempdir().unwrap();
    let r = run(
        tmp.path(),
        args(&[
            "audit",
            "--url",
            &fake.url,
            "--group",
            "acme",
            "--api",
            "rest",
            "--retries",
            "2",
            "--retry-delay-ms",
            "10",
            "--format",
            "json",
        ]),
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let lib = doc["skipped"].as_array().unwrap().iter().find(|s| s["project"] == "acme/platform/lib").unwrap();
    assert_eq!(lib["data"], "job_token");
    assert_eq!(lib["failed"], true);
    assert!(lib["reason"].as_str().unwrap().contains("not valid JSON (truncated?)"), "{lib}");
    assert!(lib["reason"].as_str().unwrap().contains("after 3 tries"), "{lib}");
    assert_eq!(doc["summary"]["projects"], 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_overwritten_and_bad_invocations_say_why() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(8, h), Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("full")).unwrap();
    std::fs::write(tmp.path().join("full/keep.txt"), "mine").unwrap();
    let r = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "full"])).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("exists and is not empty"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(tmp.path().join("full/keep.txt")).unwrap(), "mine");
    let r = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "-o", "x"])).await;
    assert!(r.stderr.contains("pass --group PATH or --project PATH"), "{}", r.stderr);
    let r = tokio::task::spawn_blocking({
        let (dir, url) = (tmp.path().to_path_buf(), fake.url.clone());
        move || {
            tokenscope(&dir)
                .env("CI_JOB_TOKEN", "glcbt-64_jobjobjobjobjob")
                .args(["snapshot", "--url", &url, "--group", "acme", "-o", "y"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("a CI/CD job token cannot list a group's projects"), "{err}");
    assert!(!err.contains("jobjobjob"));
}

#[tokio::test(flavor = "multi_thread")]
async fn max_rps_spaces_the_requests() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(8, h), Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let r =
        run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "s", "--max-rps", "20"])).await;
    let log = fake.log.lock().unwrap();
    let mut times: Vec<_> = log.iter().map(|(_, _, t, _)| *t).collect();
    times.sort();
    let span = *times.last().unwrap() - times[0];
    // 20 per second: n requests take at least (n - 1) × 50 ms (a little less for scheduling noise).
    let floor = Duration::from_millis(45) * (times.len() as u32 - 1);
    assert!(span >= floor, "{} requests in {span:?}\n{}", times.len(), r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_ca_certificate_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ca.pem"), "not a certificate").unwrap();
    for (file, says) in [("missing.pem", "cannot read missing.pem"), ("ca.pem", "holds no PEM certificate")] {
        let r = run(
            tmp.path(),
            args(&["snapshot", "--url", "https://gitlab.example.com", "--group", "a", "-o", "s", "--ca-cert", file]),
        )
        .await;
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains(says), "{}", r.stderr);
    }
}

/// The response bodies of GitLab's own API documentation (in the corpus), served as they are.
#[tokio::test(flavor = "multi_thread")]
async fn documented_response_shapes_from_the_corpus() {
    let Some(corpus) = common::corpus() else {
        eprintln!("corpus test skipped: ../shared/corpus is not present beside the checkout");
        return;
    };
    let samples = corpus.join("api-samples/gitlab-docs");
    let read = |name: &str| std::fs::read_to_string(samples.join(name)).unwrap();
    let scope = read("GET_projects_id_job_token_scope.response.json");
    let allowlist = read("GET_projects_id_job_token_scope_allowlist.response.json");
    let groups = read("GET_projects_id_job_token_scope_groups_allowlist.response.json");
    let server = wiremock::MockServer::start().await;
    let project = serde_json::json!({"id": 1, "path_with_namespace": "diaspora/diaspora-project-site",
                                     "default_branch": "main", "visibility": "private", "archived": false});
    let respond = move |req: &wiremock::Request| {
        let p = req.url.path();
        let body = if p.ends_with("/job_token_scope") {
            scope.clone()
        } else if p.ends_with("/job_token_scope/allowlist") {
            allowlist.clone()
        } else if p.ends_with("/job_token_scope/groups_allowlist") {
            groups.clone()
        } else if p == "/api/v4/projects/diaspora%2Fdiaspora-project-site" {
            project.to_string()
        } else {
            return wiremock::ResponseTemplate::new(404).set_body_string("{\"message\":\"404 Not Found\"}");
        };
        wiremock::ResponseTemplate::new(200).set_body_raw(body, "application/json")
    };
    wiremock::Mock::given(wiremock::matchers::any()).respond_with(respond).mount(&server).await;
    let tmp = tempfile::tempdir().unwrap();
    let r = run(
        tmp.path(),
        args(&["snapshot", "--url", &server.uri(), "--project", "diaspora/diaspora-project-site", "-o", "s"]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = std::fs::read_to_string(tmp.path().join("s/tokenscope.yaml")).unwrap();
    assert!(m.contains("inbound_enabled: true"), "{m}");
    assert!(m.contains("- project: diaspora/diaspora-client"), "{m}");
    assert!(m.contains("- group: diaspora/diaspora-group"), "{m}");
    // GraphQL is not served here: the permissions and the log are skipped, not taken as empty.
    assert!(m.contains("data: permissions") && m.contains("data: auth_log"), "{m}");
}

/// `lint` with a token and no manifest reads `include: project:` files and the allowlists of the projects
/// the jobs reach from the instance; `--offline` reads nothing.
#[tokio::test(flavor = "multi_thread")]
async fn lint_reads_included_files_and_allowlists_from_the_api() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(12, h), Faults::default()).await;
    let host = fake.url.trim_start_matches("http://").to_string();
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir(&checkout).unwrap();
    std::fs::write(
        checkout.join(".gitlab-ci.yml"),
        [
            "include:".to_string(),
            "  - project: acme/platform/templates".into(),
            "    file: templates/deploy.yml".into(),
            "deploy:".into(),
            "  extends: .deploy".into(),
            "fetch:".into(),
            "  script:".into(),
            format!("    - 'curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \"https://{host}/api/v4/projects/acme%2Fplatform%2Flib/packages/generic/lib/1.0/lib.tgz\" -o lib.tgz'"),
            format!("    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{host}/acme/legacy/vault.git"),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let lint = |extra: &[&str]| {
        let mut a = args(&["lint", "checkout", "--project", "acme/apps/svc-99", "--url", &fake.url]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let r = run(tmp.path(), lint(&["--format", "json"])).await;
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.stderr));
    let status = |callee: &str| {
        doc["edges"].as_array().unwrap().iter().find(|e| e["callee"] == callee).map(|e| e["status"].clone())
    };
    // charts: reached through the included template; its group entry acme/apps covers the project.
    assert_eq!(status("acme/platform/charts"), Some("allowed".into()), "{}", r.stderr);
    assert_eq!(status("acme/platform/lib"), Some("missing".into()));
    assert_eq!(status("acme/legacy/vault"), Some("unknown".into()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let human = run(tmp.path(), lint(&[])).await;
    insta::assert_snapshot!(
        "live_lint",
        port_free(&format!("{}\n--- stderr\n{}", human.stdout, human.stderr), &fake.url)
    );

    let offline = run(tmp.path(), lint(&["--offline", "--format", "json"])).await;
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    let doc: serde_json::Value = serde_json::from_str(&offline.stdout).unwrap();
    assert!(doc["findings"].as_array().unwrap().iter().all(|f| f["severity"] == "note"));
    assert!(doc["projects"][0]["unresolved_includes"].as_array().unwrap().len() == 1, "{}", offline.stdout);
}

/// GraphQL reads a page of projects per request: the snapshot is byte-identical to REST's, in a fraction of
/// the requests; a page GitLab finds too complex is halved; a project whose settings GraphQL refuses is read
/// with REST (and recorded as skipped when REST refuses too).
#[tokio::test(flavor = "multi_thread")]
async fn graphql_snapshots_equal_rest_snapshots_in_fewer_requests() {
    let faults =
        Faults { max_page: Some(20), rate_limit_once: ["/api/graphql".to_string()].into(), ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(60, h), faults).await;
    let tmp = tempfile::tempdir().unwrap();
    let count = |fake: &fake_gitlab::Fake| fake.log.lock().unwrap().len();
    let g = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "g", "--api", "graphql"]))
        .await;
    assert_eq!(g.code, 0, "{}", g.stderr);
    let graphql_requests = count(&fake);
    let r =
        run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "r", "--api", "rest"])).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rest_requests = count(&fake) - graphql_requests;
    assert_eq!(files(&tmp.path().join("g")), files(&tmp.path().join("r")), "byte-identical snapshots");
    assert!(graphql_requests * 2 < rest_requests, "GraphQL {graphql_requests} requests, REST {rest_requests}");
    // The 50-project first page was refused for its complexity and halved; the vault's settings came from REST.
    let log = fake.log.lock().unwrap();
    assert!(log.iter().any(|(_, u, _, _)| u.contains("/projects/4/job_token_scope")), "REST fallback for the vault");
    let m = std::fs::read_to_string(tmp.path().join("g/tokenscope.yaml")).unwrap();
    assert!(m.contains("acme/legacy/vault:") && m.contains("data: job_token"), "{m}");
}

/// A server's rate limit is honoured: `RateLimit-Remaining: 0` pauses until `RateLimit-Reset`, so no request
/// is refused; `--max-requests` stops a run that would spend more, leaving nothing behind.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_and_request_budgets_are_kept() {
    let faults = Faults { rate_limit: Some((10, Duration::from_secs(1))), ..Faults::default() };
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(30, h), faults).await;
    let tmp = tempfile::tempdir().unwrap();
    let s = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "snap"])).await;
    assert_eq!(s.code, 0, "{}", s.stderr);
    let refused = fake.window.lock().unwrap().2;
    assert!(refused <= 1, "{refused} requests refused with 429: the client did not wait for the reset");
    let r = run(
        tmp.path(),
        args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "budget", "--max-requests", "3"]),
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--max-requests 3"), "{}", r.stderr);
    assert!(!tmp.path().join("budget").exists(), "nothing half-written is left");
}

/// `snapshot --since OLD`: the files of projects whose activity has not moved are copied from the old
/// snapshot; a changed project is read again. The result equals a fresh snapshot, in fewer requests.
#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_snapshot_equals_a_fresh_one() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(60, h), Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let count = || fake.log.lock().unwrap().len();
    let a = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "a"])).await;
    assert_eq!(a.code, 0, "{}", a.stderr);
    {
        let mut projects = fake.projects.lock().unwrap();
        let p = projects.iter_mut().find(|p| p.path == "acme/apps/svc-03").unwrap();
        p.files.insert("ci/test.yml".into(), "test:\n  script:\n    - make check\n".into());
        p.last_activity = Some("2026-11-25T10:00:00Z".into());
    }
    let before = count();
    let b =
        run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "b", "--since", "a"])).await;
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert!(b.stderr.contains("files reused"), "{}", b.stderr);
    let incremental = count() - before;
    let c = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "c"])).await;
    assert_eq!(c.code, 0, "{}", c.stderr);
    let fresh = count() - before - incremental;
    assert_eq!(files(&tmp.path().join("b")), files(&tmp.path().join("c")), "incremental equals fresh");
    assert!(incremental < fresh, "incremental {incremental} requests, fresh {fresh}");
    let changed = std::fs::read_to_string(tmp.path().join("b/repos/acme/apps/svc-03/ci/test.yml")).unwrap();
    assert!(changed.contains("make check"));
}

/// A large instance split across parallel jobs: `--shard 1/2` and `--shard 2/2`, merged, equal the snapshot
/// of the whole group; snapshots of two instances do not merge.
#[tokio::test(flavor = "multi_thread")]
async fn shards_merge_into_the_whole_snapshot() {
    let (_server, fake) = fake_gitlab::start(|h| fake_gitlab::org(40, h), Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    for (shard, out) in [("1/2", "s1"), ("2/2", "s2")] {
        let r =
            run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "--shard", shard, "-o", out]))
                .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let whole = run(tmp.path(), args(&["snapshot", "--url", &fake.url, "--group", "acme", "-o", "whole"])).await;
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    let count = |d: &str| {
        std::fs::read_to_string(tmp.path().join(d).join("tokenscope.yaml"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("  acme/"))
            .count()
    };
    assert!(count("s1") > 0 && count("s2") > 0 && count("s1") + count("s2") == 40, "{} + {}", count("s1"), count("s2"));
    let m = run(tmp.path(), args(&["snapshot", "merge", "s1", "s2", "-o", "merged"])).await;
    assert_eq!(m.code, 0, "{}", m.stderr);
    let manifest = |d: &str| std::fs::read_to_string(tmp.path().join(d).join("tokenscope.yaml")).unwrap();
    assert_eq!(manifest("merged"), manifest("whole"));
    let audit = |d: &str| {
        let out = tokenscope(tmp.path()).args(["audit", d, "--format", "json"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(audit("merged"), audit("whole"), "the merged snapshot audits as the whole one");
    let (_s2, other) = fake_gitlab::start(|h| fake_gitlab::org(8, h), Faults::default()).await;
    let o = run(tmp.path(), args(&["snapshot", "--url", &other.url, "--group", "acme", "-o", "other"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let bad = run(tmp.path(), args(&["snapshot", "merge", "s1", "other", "-o", "bad"])).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("only snapshots of one instance merge"), "{}", bad.stderr);
}

/// A refused connection or a host that does not resolve is said at once, naming the host, not retried for
/// minutes.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_instance_fails_fast_and_is_named() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let r = run(tmp.path(), args(&["snapshot", "--url", &url, "--group", "acme", "-o", "snap"])).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("127.0.0.1:{port} refused the connection")), "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}
