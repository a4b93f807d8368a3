//! Live-fetch benchmark (not a timed test): `cargo bench --bench live_fetch [-- N ...]`, default 1000.
//!
//! Starts the fake GitLab of the tests (tests/common/fake_gitlab.rs) on loopback with N projects and 20 ms
//! of latency added to every answer, runs `tokenscope snapshot --group acme` against it as a subprocess with
//! each API (`--api rest`, `--api graphql`) at concurrency 8 (the default) and 32, and reports wall time,
//! requests and requests per project. Results go in docs/performance.md.

#[path = "../tests/common/fake_gitlab.rs"]
mod fake_gitlab;

use std::time::{Duration, Instant};

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1000] } else { sizes };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!("| projects | api | concurrency | wall time | requests | requests per project | files written |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for n in sizes {
        for (api, concurrency) in [("rest", 8), ("rest", 32), ("graphql", 8), ("graphql", 32)] {
            let faults = fake_gitlab::Faults { latency: Duration::from_millis(20), ..Default::default() };
            let (server, fake) = runtime.block_on(fake_gitlab::start(
                |h| {
                    let mut org = fake_gitlab::org(n, h);
                    org.retain(|p| !p.broken_repository); // its retries would measure the backoff, not the fetch
                    org
                },
                faults,
            ));
            let tmp = tempfile::tempdir().expect("tempdir");
            let out = tmp.path().join("snap");
            let started = Instant::now();
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
                .env("GITLAB_TOKEN", fake_gitlab::TOKEN)
                .args(["snapshot", "--url", &fake.url, "--group", "acme", "--api", api])
                .args(["--concurrency", &concurrency.to_string()])
                .arg("-o")
                .arg(&out)
                .stderr(std::process::Stdio::null())
                .status()
                .expect("run tokenscope");
            let wall = started.elapsed();
            assert!(status.success(), "tokenscope snapshot failed");
            let requests = fake.log.lock().expect("log").len();
            let projects = fake.projects.lock().unwrap().len();
            let files = walk(&out.join("repos"));
            println!(
                "| {projects} | {api} | {concurrency} | {:.2} s | {requests} | {:.2} | {files} |",
                wall.as_secs_f64(),
                requests as f64 / projects as f64
            );
            if api == "graphql" && concurrency == 8 {
                // A nightly run: 1% of the projects changed since, read incrementally (`--since`).
                {
                    let mut all = fake.projects.lock().unwrap();
                    for p in all.iter_mut().step_by(100) {
                        p.files.insert("ci/test.yml".into(), "test:\n  script:\n    - make check\n".into());
                        p.last_activity = Some("2026-11-25T10:00:00Z".into());
                    }
                }
                let before = fake.log.lock().expect("log").len();
                let next = tmp.path().join("next");
                let started = Instant::now();
                let status = std::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
                    .env("GITLAB_TOKEN", fake_gitlab::TOKEN)
                    .args(["snapshot", "--url", &fake.url, "--group", "acme", "--api", api, "--since"])
                    .arg(&out)
                    .arg("-o")
                    .arg(&next)
                    .stderr(std::process::Stdio::null())
                    .status()
                    .expect("run tokenscope");
                assert!(status.success(), "incremental snapshot failed");
                let requests = fake.log.lock().expect("log").len() - before;
                println!(
                    "| {projects} | graphql, --since (1% changed) | {concurrency} | {:.2} s | {requests} | {:.3} | {} |",
                    started.elapsed().as_secs_f64(),
                    requests as f64 / projects as f64,
                    walk(&next.join("repos"))
                );
            }
            drop(server);
        }
    }
}

fn walk(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}
