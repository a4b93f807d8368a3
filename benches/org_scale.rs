//! Org-scale benchmark (not a timed test): `cargo bench --bench org_scale [-- N ...]`, default 1000 10000 50000.
//! `BENCH_RUNS` (default 3) sets how many times the floor and the audit are measured, alternately.
//!
//! For each size it generates a synthetic org (`synth_org`, crates/synth-org, seed 42, cached under
//! `target/bench-orgs/`), then measures in the same run, `BENCH_RUNS` times each, alternately, and reports
//! the fastest run of each (on a shared or virtual machine, other load only ever adds time; the fastest
//! run is the one least disturbed):
//! - the lower bound: reading and YAML-parsing every byte of the snapshot and nothing else, on every core;
//! - `tokenscope audit --format json`, as a subprocess: wall time, CPU time, peak memory (VmHWM);
//! - checkov's `gitlab_ci` framework over the same repositories, when `checkov` is installed
//!   (`pip install checkov`), and the ratio (up to 10,000 projects).
//!
//! `cargo bench --bench org_scale -- shapes [N]` (default 10,000) measures instead the pathological shapes
//! real orgs have and the plain generator never makes (`synth_org::Shape`: one callee with 200 entries and
//! 5,000 callers, 1,000 callees allowlisting the top-level group, one template of 1,000 hidden jobs included
//! by every project, an authentication log with a record per edge), each against the plain org of the same
//! size, alternately, `BENCH_RUNS` times: the target is every shape within 1.5 times the plain org's CPU.
//!
//! Linux only (it reads /proc). Results go in docs/performance.md.

use rayon::prelude::*;

/// The same allocator as the binary, so the floor is measured on equal terms.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// CPU seconds used by this process and by its waited-for children (utime, stime, cutime, cstime).
fn cpu_times() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = 100.0; // sysconf(_SC_CLK_TCK) on Linux
    let f = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    // After the ')' the fields start at "state" (field 3); utime is field 14, stime 15, cutime 16, cstime 17.
    (f(11) + f(12), f(13) + f(14))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                out.push(p);
            }
        }
    }
    out
}

/// Read and parse every YAML file of the snapshot with the same parser, in parallel: the floor.
fn lower_bound(dir: &Path) -> (Duration, f64, usize) {
    let list = files(dir);
    let (cpu0, _) = cpu_times();
    let t = Instant::now();
    let bytes: usize = list
        .par_iter()
        .with_max_len(8) // small pieces keep both cores busy to the end, as in the audit
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let sources = tokenscope::source::SourceMap::new();
            let id = sources.add(tokenscope::source::SourceFile::new(
                String::new(),
                None,
                None,
                std::sync::Arc::from(text.as_str()),
            ));
            let _ = tokenscope::yaml::parse(&sources, id);
            text.len()
        })
        .sum();
    let wall = t.elapsed();
    let (cpu1, _) = cpu_times();
    (wall, cpu1 - cpu0, bytes)
}

/// Run a command; wall time, CPU time of the child, peak resident memory in MB.
fn measure(cmd: &mut Command) -> Option<(Duration, f64, f64)> {
    let (_, c0) = cpu_times();
    let t = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0f64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(line) = s.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: f64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            peak_kb = peak_kb.max(kb);
        }
        if child.try_wait().ok()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = t.elapsed();
    let (_, c1) = cpu_times();
    Some((wall, c1 - c0, peak_kb / 1024.0))
}

/// The org of `n` projects with `shape` (`plain`, `big-allowlist`, ...), generated once under `root`.
fn org(root: &Path, n: usize, shape: &str) -> PathBuf {
    let dir = if shape == "plain" { root.join(format!("org-{n}")) } else { root.join(format!("org-{n}-{shape}")) };
    if !dir.join("tokenscope.yaml").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let s = synth_org::Shape::parse(shape).expect("a known shape");
        synth_org::generate_shaped(n, 42, s, &dir).expect("generate");
    }
    dir
}

fn audit(bin: &str, dir: &Path) -> (Duration, f64, f64) {
    measure(Command::new(bin).args(["audit", dir.to_str().unwrap(), "--format", "json", "--fail-on", "never"]))
        .expect("run tokenscope")
}

/// Each pathological shape against the plain org of the same size, alternately; fastest CPU of each.
fn shapes(bin: &str, root: &Path, n: usize, runs: usize) {
    let names = ["plain", "big-allowlist", "group-everywhere", "huge-template", "auth-log"];
    let dirs: Vec<PathBuf> = names.iter().map(|s| org(root, n, s)).collect();
    let mut best: Vec<Option<(Duration, f64, f64)>> = vec![None; names.len()];
    for _ in 0..runs {
        for (i, dir) in dirs.iter().enumerate() {
            let r = audit(bin, dir);
            if best[i].is_none_or(|b| r.1 < b.1) {
                best[i] = Some(r);
            }
        }
    }
    let plain_cpu = best[0].expect("measured").1;
    println!("{n} projects, fastest CPU of {runs} alternating runs of each shape");
    println!("| shape | audit wall | audit CPU | peak memory | CPU / plain |");
    println!("|---|---:|---:|---:|---:|");
    for (name, b) in names.iter().zip(best) {
        let (wall, cpu, mem) = b.expect("measured");
        println!("| {name} | {:.2} s | {cpu:.2} s | {mem:.0} MB | {:.2}x |", wall.as_secs_f64(), cpu / plain_cpu);
    }
}

fn main() {
    // The same page policy as the binary, so the floor is measured on equal terms.
    tokenscope::cli::no_transparent_huge_pages();
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let bin = env!("CARGO_BIN_EXE_tokenscope");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-orgs");
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    if args.first().is_some_and(|a| a == "shapes") {
        let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        shapes(bin, &root, n, runs);
        return;
    }
    // `N` or `N:SHAPE` (`100000:auth-log`).
    let sizes: Vec<(usize, String)> = args
        .iter()
        .filter_map(|a| {
            let (n, shape) = a.split_once(':').unwrap_or((a, "plain"));
            Some((n.parse().ok()?, shape.to_string()))
        })
        .collect();
    let sizes = if sizes.is_empty() {
        [1_000, 10_000, 50_000].into_iter().map(|n| (n, "plain".to_string())).collect()
    } else {
        sizes
    };
    // checkov takes 40 to 100 ms a project: `BENCH_CHECKOV_MAX` (default 10,000) caps the sizes it runs on.
    let checkov_max: usize = std::env::var("BENCH_CHECKOV_MAX").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let checkov = Command::new("checkov").arg("--version").output().is_ok_and(|o| o.status.success());
    println!("machine: {} cores, {}", std::thread::available_parallelism().map_or(0, |n| n.get()), cpu_model());
    println!("fastest of {runs} alternating runs of the floor and of the audit");
    println!(
        "| projects | shape | files | MB | audit wall | audit CPU | CPU ms / project | peak memory | parse-only floor (wall) | floor CPU | audit / floor | checkov wall | checkov / audit |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, shape) in sizes {
        let dir = org(&root, n, &shape);
        let mut floor_runs = Vec::new();
        let mut audit_runs = Vec::new();
        for _ in 0..runs {
            floor_runs.push(lower_bound(&dir));
            audit_runs.push(audit(bin, &dir));
        }
        let (floor, floor_cpu, bytes) = floor_runs.into_iter().min_by_key(|r| r.0).expect("at least one run");
        let audit = audit_runs.into_iter().min_by_key(|r| r.0).expect("at least one run");
        let nfiles = files(&dir).len();
        // checkov needs 40 to 100 ms a project: past 10,000 projects it would run for over half an hour.
        let ck = if checkov && n <= checkov_max {
            measure(Command::new("checkov").args([
                "-d",
                dir.join("repos").to_str().unwrap(),
                "--framework",
                "gitlab_ci",
                "--quiet",
                "--compact",
            ]))
        } else {
            None
        };
        let (ck_wall, ck_ratio) = match ck {
            Some((w, _, _)) => {
                (format!("{:.2} s", w.as_secs_f64()), format!("{:.1}x", w.as_secs_f64() / audit.0.as_secs_f64()))
            }
            None if checkov => ("skipped".into(), "-".into()),
            None => ("not installed".into(), "-".into()),
        };
        println!(
            "| {n} | {shape} | {nfiles} | {:.1} | {:.2} s | {:.2} s | {:.3} | {:.0} MB | {:.2} s | {:.2} s | {:.2}x | {ck_wall} | {ck_ratio} |",
            bytes as f64 / 1e6,
            audit.0.as_secs_f64(),
            audit.1,
            audit.1 * 1000.0 / n as f64,
            audit.2,
            floor.as_secs_f64(),
            floor_cpu,
            audit.0.as_secs_f64() / floor.as_secs_f64(),
        );
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default()
}
