//! `--format html`: one self-contained page. Checked without a browser (nothing loaded from the network,
//! nothing from a scanned file able to end the data script, the size of a 10,000-project report), and in a
//! real headless Chromium when one is installed (`.ci/run` installs it where it can): the demo org's
//! report and a 2,000-project report are loaded with a filter and a selected project in the URL fragment,
//! and the DOM the page's script built is checked; a screenshot is saved. Without a browser those checks
//! say "skipped".

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn html(dir: &Path, extra: &[&str]) -> String {
    let out = common::tokenscope(dir)
        .args(["audit", ".", "--format", "html", "--fail-on", "never"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The JSON document the page carries.
fn data(page: &str) -> serde_json::Value {
    let start = page.find("<script type=\"application/json\" id=\"data\">").expect("a data script");
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).expect("the data is JSON")
}

fn synthetic(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    synth_org::generate(n, 7, dir.path()).unwrap();
    dir
}

#[test]
fn the_page_is_self_contained_and_safe_with_hostile_text() {
    let org = common::copy_fixture("fixtures/demo-org");
    // A job name and a comment that try to end the script and inject markup.
    let ci = org.path().join("repos/acme/services/web/.gitlab-ci.yml");
    let mut text = std::fs::read_to_string(&ci).unwrap();
    text.push_str("\n\"</script><img src=x onerror=alert(1)>\":\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.acme.example/acme/tools/cli.git # </script><!--\n");
    std::fs::write(&ci, text).unwrap();
    let page = html(org.path(), &[]);
    assert_eq!(page.matches("</script>").count(), 2, "only the page's own two scripts end");
    assert!(!page.contains("<img src=x"), "scanned text reached the page as markup");
    for bad in ["<script src", "<link ", "@import", "url(http", "fetch(", "XMLHttpRequest"] {
        assert!(!page.contains(bad), "the page loads something: {bad}");
    }
    assert!(page.contains("Content-Security-Policy"), "the page forbids loading anything");
    let d = data(&page);
    let out =
        common::tokenscope(org.path()).args(["audit", ".", "--format", "json", "--fail-on", "never"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        d["edges"].as_array().unwrap().len(),
        json["edges"].as_array().unwrap().iter().filter(|e| e["status"] != "relation").count()
    );
    assert_eq!(d["findings"].as_array().unwrap().len(), json["findings"].as_array().unwrap().len());
    assert!(!page.contains("glpat-") || !page.contains("glpat-0"), "tokens are redacted");
}

#[test]
fn a_ten_thousand_project_report_stays_under_15_mb() {
    let org = synthetic(10_000);
    let page = html(org.path(), &[]);
    let mb = page.len() as f64 / 1e6;
    common::say(&format!("html: the 10,000-project report is {mb:.1} MB"));
    assert!(mb < 15.0, "{mb:.1} MB");
}

/// Chromium or Chrome, if installed: `$CHROME`, else the usual names.
fn browser() -> Option<PathBuf> {
    let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    std::env::var_os("CHROME")
        .map(PathBuf::from)
        .into_iter()
        .chain(names.iter().flat_map(|n| {
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).map(|d| d.join(n)).collect::<Vec<_>>())
                .unwrap_or_default()
        }))
        .find(|p| p.is_file())
}

/// Load `file#fragment` in headless Chromium, let its script run, and return the DOM it built (and save a
/// screenshot to `png`).
fn load(chrome: &Path, file: &Path, fragment: &str, png: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}#{fragment}", file.display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=20000",
    ];
    let user = format!("--user-data-dir={}", profile.path().display());
    let out = Command::new(chrome).args(flags).arg(&user).arg("--dump-dom").arg(&url).output().expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let shot = Command::new(chrome)
        .args(flags)
        .arg(&user)
        .arg("--window-size=1400,1800")
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(shot.status.success() && png.is_file(), "no screenshot: {}", String::from_utf8_lossy(&shot.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

#[test]
fn filtering_and_the_graph_work_in_a_real_browser() {
    let Some(chrome) = browser() else {
        common::say(
            "html browser test skipped: no Chromium (install `chromium`, or set $CHROME); .ci/run installs it where it can",
        );
        return;
    };
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    // The demo org: the missing edges, and the neighbourhood of acme/services/api.
    let demo = common::root().join("fixtures/demo-org");
    let page = html(&demo, &[]);
    let d = data(&page);
    let statuses: Vec<String> =
        d["statuses"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    let missing = statuses.iter().position(|s| s == "missing").unwrap();
    let edges = d["edges"].as_array().unwrap();
    let want_missing = edges.iter().filter(|e| e[2] == missing).count();
    assert!(want_missing > 0);
    let file = shots.join("demo-report.html");
    std::fs::write(&file, &page).unwrap();
    let dom = load(&chrome, &file, "status=missing&select=acme/services/api", &shots.join("demo-report.png"));
    assert!(dom.contains("data-ready=\"1\""), "the page's script did not finish:\n{}", &dom[..dom.len().min(2000)]);
    assert_eq!(count(&dom, "<tr data-status=\"missing\""), want_missing, "the status filter");
    assert_eq!(count(&dom, "<tr data-status="), want_missing, "only missing edges are listed");
    assert!(dom.contains(&format!("{want_missing} of {} edges", edges.len())));
    let paths = d["paths"].as_array().unwrap();
    let api = paths.iter().position(|p| p == "acme/services/api").unwrap();
    let callers = edges.iter().filter(|e| e[1] == api && e[0] != api).count();
    assert!(callers > 0);
    assert_eq!(count(&dom, "class=\"node caller\""), callers, "the graph draws every caller of the selected project");
    assert_eq!(count(&dom, "class=\"node selected\" data-path=\"acme/services/api\""), 1);
    // The near miss: with no filter every edge is listed.
    let all = load(&chrome, &file, "", &shots.join("demo-all.png"));
    assert_eq!(count(&all, "<tr data-status="), edges.len());
    common::say(&format!("html: screenshots in {}", shots.display()));

    // 2,000 projects: a caller filter, sorting by callee, and a project's neighbourhood.
    let org = synthetic(2_000);
    let page = html(org.path(), &[]);
    let d = data(&page);
    let paths: Vec<&str> = d["paths"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let edges = d["edges"].as_array().unwrap();
    let busiest = {
        let mut n = vec![0usize; paths.len()];
        for e in edges {
            n[e[1].as_u64().unwrap() as usize] += 1;
        }
        (0..paths.len()).max_by_key(|&i| n[i]).unwrap()
    };
    let caller = paths[edges[0][0].as_u64().unwrap() as usize];
    let want = edges.iter().filter(|e| paths[e[0].as_u64().unwrap() as usize].contains(caller)).count();
    let file = shots.join("org-2000-report.html");
    std::fs::write(&file, &page).unwrap();
    let fragment = format!("caller={caller}&sort=1&select={}", paths[busiest]);
    let dom = load(&chrome, &file, &fragment, &shots.join("org-2000-report.png"));
    assert!(dom.contains("data-ready=\"1\""));
    assert_eq!(count(&dom, "<tr data-status="), want.min(1000), "the caller filter");
    assert!(dom.contains("aria-sort=\"ascending\""), "sorted by callee");
    assert!(count(&dom, "class=\"node caller\"") > 0, "the busiest callee's callers are drawn");
}
