//! Generate a synthetic org snapshot for benchmarks:
//!   cargo run --release -p synth-org -- --projects 10000 --out /tmp/org-10k [--seed 42] [--shape SHAPE]
//! SHAPE: plain (default), big-allowlist, group-everywhere, huge-template, auth-log, or several joined by `+`.

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(n) = value("--projects").and_then(|v| v.parse::<usize>().ok()) else {
        eprintln!("usage: gen-org --projects N --out DIR [--seed S]");
        std::process::exit(2);
    };
    let Some(out) = value("--out").map(PathBuf::from) else {
        eprintln!("usage: gen-org --projects N --out DIR [--seed S]");
        std::process::exit(2);
    };
    let seed = value("--seed").and_then(|v| v.parse().ok()).unwrap_or(42);
    let Some(shape) = synth_org::Shape::parse(value("--shape").as_deref().unwrap_or("plain")) else {
        eprintln!(
            "error: unknown --shape; the shapes are plain, big-allowlist, group-everywhere, huge-template, auth-log (joined by +)"
        );
        std::process::exit(2);
    };
    if out.exists() && std::fs::read_dir(&out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        eprintln!("error: {} exists and is not empty; nothing was written", out.display());
        std::process::exit(2);
    }
    match synth_org::generate_shaped(n, seed, shape, &out) {
        Ok(s) => println!(
            "{}: {} projects, {} files, {:.1} MB, {} cross-project accesses",
            out.display(),
            s.projects,
            s.files,
            s.bytes as f64 / 1e6,
            s.accesses
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
