//! A synthetic org, for benchmarks: deterministic by seed, shaped like a real GitLab org.
//!
//! Groups two to three levels deep under `org`; each project's CI configuration is 100 to 250 lines with
//! one or two local includes; about 40% include a shared templates project; about 30% make one to five
//! cross-project job-token accesses of mixed kinds (git, packages, artifacts, registry images,
//! `needs: project:`, Terraform state); allowlists hold matching, missing, unused and group entries.
//! Used by `gen-org` (`cargo run --release -p synth-org -- --projects N --out DIR`) and `benches/org_scale.rs`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

pub const TEMPLATES: &str = "org/platform/ci-templates";
const HOST: &str = "gitlab.synth.example";
const REGISTRY: &str = "registry.synth.example";

/// A pathological shape laid over the plain org, for the benchmark's shapes that real orgs have and the
/// plain generator never makes. `Shape::default()` is the plain org, byte for byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// One callee (the first project) whose allowlist holds 199 project entries and `group: org`, reached by
    /// 5,000 callers (or every other project, in a smaller org).
    pub big_allowlist: bool,
    /// 1,000 callees (the first ones) that also allowlist the top-level group `org`.
    pub group_everywhere: bool,
    /// The shared template holds 1,000 hidden jobs, and every project includes it.
    pub huge_template: bool,
    /// An authentication log with one record per caller → callee edge.
    pub auth_log: bool,
}

impl Shape {
    /// The shape named on the command line: `plain`, `big-allowlist`, `group-everywhere`, `huge-template`,
    /// `auth-log`, or several joined with `+`.
    pub fn parse(s: &str) -> Option<Shape> {
        let mut shape = Shape::default();
        for part in s.split('+') {
            match part {
                "plain" => {}
                "big-allowlist" => shape.big_allowlist = true,
                "group-everywhere" => shape.group_everywhere = true,
                "huge-template" => shape.huge_template = true,
                "auth-log" => shape.auth_log = true,
                _ => return None,
            }
        }
        Some(shape)
    }
}

/// Callers of the big allowlist's callee.
const BIG_CALLERS: usize = 5_000;
/// Callees that allowlist `group: org`.
const GROUP_CALLEES: usize = 1_000;
/// Hidden jobs in the huge template.
const HUGE_TEMPLATE_JOBS: usize = 1_000;

/// What was generated.
pub struct Summary {
    pub projects: usize,
    pub files: usize,
    pub bytes: u64,
    pub accesses: usize,
}

fn project_paths(n: usize, rng: &mut Rng) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let teams = (n / 40).max(2);
    for i in 0..n {
        let team = rng.below(teams);
        let sub = rng.below(4);
        let path = if rng.chance(50) {
            format!("org/team-{team:03}/app-{i:05}")
        } else {
            format!("org/team-{team:03}/sub-{sub}/app-{i:05}")
        };
        out.push(path);
    }
    out
}

/// One cross-project access as a CI snippet, and the permission-relevant kind.
fn access_snippet(kind: usize, target: &str, target_id: usize, job: &mut String, rng: &mut Rng) {
    let enc = target.replace('/', "%2F");
    match kind {
        0 => {
            let _ = writeln!(
                job,
                "    - git clone --depth 1 https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{HOST}/{target}.git deps/{}",
                rng.below(1000)
            );
        }
        1 => {
            let _ = writeln!(
                job,
                "    - 'curl --fail-with-body --header \"JOB-TOKEN: $CI_JOB_TOKEN\" -o pkg.tgz \"$CI_API_V4_URL/projects/{enc}/packages/generic/lib/1.{}.0/lib.tgz\"'",
                rng.below(9)
            );
        }
        2 => {
            let _ = writeln!(
                job,
                "    - 'curl --fail-with-body --header \"JOB-TOKEN: $CI_JOB_TOKEN\" -o a.zip \"$CI_API_V4_URL/projects/{target_id}/jobs/artifacts/main/download?job=build\"'"
            );
        }
        3 => {
            let _ = writeln!(job, "    - docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY");
            let _ = writeln!(job, "    - docker pull {REGISTRY}/{target}/tool:{}", rng.below(5));
        }
        _ => {
            let _ = writeln!(
                job,
                "    - terraform init -backend-config=address=$CI_API_V4_URL/projects/{target_id}/terraform/state/env{} -backend-config=username=gitlab-ci-token -backend-config=password=$CI_JOB_TOKEN",
                rng.below(3)
            );
        }
    }
}

fn script_lines(job: &mut String, n: usize, rng: &mut Rng) {
    for _ in 0..n {
        let line = match rng.below(6) {
            0 => format!("    - make target-{}", rng.below(50)),
            1 => format!("    - echo \"step {} of $CI_PROJECT_NAME\"", rng.below(100)),
            2 => format!("    - ./scripts/run.sh --flag {} --env $DEPLOY_ENV", rng.below(20)),
            3 => "    - export PATH=\"$CI_PROJECT_DIR/bin:$PATH\"".to_string(),
            4 => format!("    - test -f build/output-{}.txt && cat build/output-{}.txt", rng.below(9), rng.below(9)),
            _ => format!("    - python3 -m pytest tests/unit -k case_{} -q", rng.below(40)),
        };
        job.push_str(&line);
        job.push('\n');
    }
}

/// Generate an org of `n` projects into `out` (which must not exist or be empty).
pub fn generate(n: usize, seed: u64, out: &Path) -> io::Result<Summary> {
    generate_shaped(n, seed, Shape::default(), out)
}

/// Generate an org of `n` projects with a pathological `shape` laid over it. Linear in the output: edges
/// are indexed by caller and by callee, never searched per project.
pub fn generate_shaped(n: usize, seed: u64, shape: Shape, out: &Path) -> io::Result<Summary> {
    let mut rng = Rng(seed);
    let paths = project_paths(n, &mut rng);
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut accesses = 0usize;
    let mut write = |rel: String, text: &str| -> io::Result<()> {
        let p = out.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&p, text)?;
        files += 1;
        bytes += text.len() as u64;
        Ok(())
    };

    // The shared templates project.
    let mut tpl = String::from("variables:\n  TEMPLATE_VERSION: \"3\"\n\n");
    for t in 0..12 {
        let _ = writeln!(
            tpl,
            ".template-{t}:\n  image: ruby:3.3\n  before_script:\n    - bundle install --jobs 4\n  script:"
        );
        script_lines(&mut tpl, 20, &mut rng);
        tpl.push('\n');
    }
    if shape.huge_template {
        // Its own generator, so the plain org's choices stay the same.
        let mut trng = Rng(seed ^ 0x5eed);
        for t in 0..HUGE_TEMPLATE_JOBS {
            let _ = writeln!(tpl, ".hidden-{t}:\n  image: alpine:3.20\n  variables:\n    LEVEL: \"{t}\"\n  script:");
            script_lines(&mut tpl, 4, &mut trng);
            tpl.push('\n');
        }
    }
    write(format!("repos/{TEMPLATES}/templates/base.yml"), &tpl)?;
    write(format!("repos/{TEMPLATES}/.gitlab-ci.yml"), "lint:\n  script: yamllint templates/\n")?;

    // Who reaches whom: (caller index, target index, kind).
    let mut edges: Vec<(usize, usize, usize)> = Vec::new();
    for i in 0..n {
        if rng.chance(30) {
            for _ in 0..1 + rng.below(5) {
                let t = rng.below(n);
                if t != i {
                    edges.push((i, t, rng.below(5)));
                }
            }
        }
    }
    // The big allowlist's callers reach the first project, on top of the plain edges.
    let big: Vec<usize> = if shape.big_allowlist { (1..n).take(BIG_CALLERS).collect() } else { Vec::new() };
    accesses += edges.len() + big.len();
    // Edges by caller and by callee, in generation order: the same choices as a search per project, linear.
    let mut by_caller: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut by_callee: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, e) in edges.iter().enumerate() {
        by_caller[e.0].push(k);
        by_callee[e.1].push(k);
    }

    for (i, path) in paths.iter().enumerate() {
        let mut ci = String::new();
        let _ = writeln!(ci, "stages: [build, test, deploy]\n\nvariables:");
        for v in 0..10 + rng.below(10) {
            let _ = writeln!(ci, "  VAR_{v}: \"value-{}\"", rng.below(1000));
        }
        let _ = writeln!(ci, "  DEPLOY_ENV: staging\n\ninclude:\n  - local: ci/build.yml");
        let two_locals = rng.chance(50);
        if two_locals {
            let _ = writeln!(ci, "  - local: ci/test.yml");
        }
        if rng.chance(40) || shape.huge_template {
            let _ = writeln!(ci, "  - project: {TEMPLATES}\n    file: templates/base.yml");
        }
        ci.push('\n');
        let target_lines = 100 + rng.below(150);
        let mut j = 0;
        let mine: Vec<&(usize, usize, usize)> = by_caller[i].iter().map(|&k| &edges[k]).collect();
        if shape.big_allowlist && i >= 1 && i <= big.len() {
            let _ = writeln!(
                ci,
                "reach-big:\n  stage: deploy\n  script:\n    - git clone https://gitlab-ci-token:${{CI_JOB_TOKEN}}@{HOST}/{}.git big\n",
                paths[0]
            );
        }
        for (k, (_, t, kind)) in mine.iter().enumerate() {
            let mut job = format!("access-{k}:\n  stage: deploy\n");
            if *kind == 4 {
                job.push_str("  image: hashicorp/terraform:1.9\n");
            }
            if *kind == 2 && rng.chance(50) {
                let _ = writeln!(
                    job,
                    "  needs:\n    - project: {}\n      job: build\n      ref: main\n  script:",
                    paths[*t]
                );
                script_lines(&mut job, 2, &mut rng);
            } else {
                job.push_str("  script:\n");
                access_snippet(*kind, &paths[*t], 10_000 + t, &mut job, &mut rng);
            }
            ci.push_str(&job);
            ci.push('\n');
        }
        let mut lines = ci.lines().count();
        while lines < target_lines {
            let before = ci.len();
            let _ = writeln!(ci, "job-{j}:\n  stage: {}\n  script:", ["build", "test", "deploy"][j % 3]);
            script_lines(&mut ci, 6 + rng.below(10), &mut rng);
            if rng.chance(20) {
                let _ = writeln!(ci, "  artifacts:\n    paths: [build/]");
            }
            ci.push('\n');
            lines += ci[before..].matches('\n').count();
            j += 1;
        }
        write(format!("repos/{path}/.gitlab-ci.yml"), &ci)?;
        let mut build = String::from(".build-base:\n  image: golang:1.23\n  script:\n");
        script_lines(&mut build, 10, &mut rng);
        build.push_str("\ncompile:\n  extends: .build-base\n  stage: build\n");
        write(format!("repos/{path}/ci/build.yml"), &build)?;
        if two_locals {
            let mut test = String::from("unit:\n  stage: test\n  script:\n");
            script_lines(&mut test, 12, &mut rng);
            write(format!("repos/{path}/ci/test.yml"), &test)?;
        }
    }

    // The manifest, with allowlists holding matching, missing, unused and group entries.
    let mut m = format!(
        "instance:\n  url: https://{HOST}\n  registry: {REGISTRY}\n  tier: premium\nprojects:\n  {TEMPLATES}:\n    id: 1\n"
    );
    for (t, path) in paths.iter().enumerate() {
        let _ = writeln!(
            m,
            "  {path}:\n    id: {}\n    job_token:\n      inbound_enabled: {}",
            10_000 + t,
            !rng.chance(10)
        );
        let callers: Vec<usize> = by_callee[t].iter().map(|&k| edges[k].0).collect();
        let mut entries: Vec<String> = Vec::new();
        for c in &callers {
            if rng.chance(80) {
                let e = format!("        - project: {}", paths[*c]);
                if !entries.contains(&e) {
                    entries.push(e);
                }
            }
        }
        if rng.chance(20) {
            entries.push(format!("        - project: {}", paths[rng.below(n)]));
        }
        if rng.chance(10) {
            let team = path.split('/').nth(1).unwrap_or("team-000");
            entries.push(format!("        - group: org/{team}"));
        }
        if shape.big_allowlist && t == 0 {
            entries.extend(big.iter().take(199).map(|&c| format!("        - project: {}", paths[c])));
            entries.push("        - group: org".to_string());
        }
        if shape.group_everywhere && t < GROUP_CALLEES {
            entries.push("        - group: org".to_string());
        }
        entries.dedup();
        let own = format!("        - project: {path}");
        entries.retain(|e| *e != own);
        entries.sort();
        entries.dedup();
        if !entries.is_empty() {
            let _ = writeln!(m, "      allowlist:\n{}", entries.join("\n"));
        }
    }
    if shape.auth_log {
        // One record per caller → callee edge, as GitLab's log keeps one per (origin, accessed) pair.
        let mut seen = std::collections::HashSet::new();
        m.push_str("auth_log:\n");
        let pairs = edges.iter().map(|e| (e.0, e.1)).chain(big.iter().map(|&c| (c, 0)));
        for (c, t) in pairs {
            if c != t && seen.insert((c, t)) {
                let _ = writeln!(
                    m,
                    "  - accessed: {}\n    origin: {}\n    last_authorized_at: \"2026-11-{:02}T10:00:00Z\"",
                    paths[t],
                    paths[c],
                    1 + (c + t) % 25
                );
            }
        }
    }
    write("tokenscope.yaml".into(), &m)?;
    Ok(Summary { projects: n + 1, files, bytes, accesses })
}
