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
    accesses += edges.len();

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
        if rng.chance(40) {
            let _ = writeln!(ci, "  - project: {TEMPLATES}\n    file: templates/base.yml");
        }
        ci.push('\n');
        let target_lines = 100 + rng.below(150);
        let mut j = 0;
        let mine: Vec<&(usize, usize, usize)> = edges.iter().filter(|e| e.0 == i).collect();
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
        while ci.lines().count() < target_lines {
            let _ = writeln!(ci, "job-{j}:\n  stage: {}\n  script:", ["build", "test", "deploy"][j % 3]);
            script_lines(&mut ci, 6 + rng.below(10), &mut rng);
            if rng.chance(20) {
                let _ = writeln!(ci, "  artifacts:\n    paths: [build/]");
            }
            ci.push('\n');
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
        let callers: Vec<usize> = edges.iter().filter(|e| e.1 == t).map(|e| e.0).collect();
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
        entries.dedup();
        let own = format!("        - project: {path}");
        entries.retain(|e| *e != own);
        entries.sort();
        entries.dedup();
        if !entries.is_empty() {
            let _ = writeln!(m, "      allowlist:\n{}", entries.join("\n"));
        }
    }
    write("tokenscope.yaml".into(), &m)?;
    Ok(Summary { projects: n + 1, files, bytes, accesses })
}
