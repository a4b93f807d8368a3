//! The labelled detection set (fixtures/detection): every case's CI file lists the accesses it must yield
//! (`# expect: kind callee`, `?` for an unresolved target, `none`). Precision and recall are computed over
//! all cases and must both be 100%.

mod common;

use std::collections::{BTreeMap, BTreeSet};

type Pairs = BTreeSet<(String, String)>;

fn expected() -> BTreeMap<String, Pairs> {
    let dir = common::root().join("fixtures/detection/repos/d");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let text = std::fs::read_to_string(e.path().join(".gitlab-ci.yml")).unwrap();
        let mut set = Pairs::new();
        let mut labelled = false;
        for line in text.lines().take_while(|l| l.starts_with('#')) {
            let Some(x) = line.strip_prefix("# expect: ") else { continue };
            labelled = true;
            if x.trim() != "none" {
                let (kind, callee) = x.trim().split_once(' ').expect("`kind callee`");
                set.insert((kind.to_string(), callee.to_string()));
            }
        }
        assert!(labelled, "case {name} has no `# expect:` line");
        out.insert(format!("d/{name}"), set);
    }
    out
}

fn actual() -> BTreeMap<String, Pairs> {
    let out = common::tokenscope(&common::root())
        .args(["audit", "fixtures/detection", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut map: BTreeMap<String, Pairs> = BTreeMap::new();
    for e in doc["edges"].as_array().unwrap() {
        let callee =
            if e["status"] == "unresolved" { "?".to_string() } else { e["callee"].as_str().unwrap().to_string() };
        for k in e["kinds"].as_array().unwrap() {
            map.entry(e["caller"].as_str().unwrap().to_string())
                .or_default()
                .insert((k.as_str().unwrap().to_string(), callee.clone()));
        }
    }
    map
}

#[test]
fn precision_and_recall_are_complete() {
    let expected = expected();
    let actual = actual();
    assert!(expected.len() >= 60, "the labelled set has {} cases; at least 60 are required", expected.len());
    let (mut tp, mut fp, mut fne) = (0usize, 0usize, 0usize);
    let mut report = Vec::new();
    for (case, want) in &expected {
        let got = actual.get(case).cloned().unwrap_or_default();
        let hits = want.intersection(&got).count();
        tp += hits;
        let extra: Vec<_> = got.difference(want).collect();
        let missed: Vec<_> = want.difference(&got).collect();
        fp += extra.len();
        fne += missed.len();
        if !extra.is_empty() || !missed.is_empty() {
            report.push(format!("{case}: unexpected {extra:?}, missed {missed:?}"));
        }
    }
    let precision = if tp + fp == 0 { 1.0 } else { tp as f64 / (tp + fp) as f64 };
    let recall = if tp + fne == 0 { 1.0 } else { tp as f64 / (tp + fne) as f64 };
    common::say(&format!(
        "detection: {} cases, {tp} expected accesses found, {fp} unexpected, {fne} missed: precision {:.1}%, recall {:.1}%",
        expected.len(),
        precision * 100.0,
        recall * 100.0
    ));
    assert!(report.is_empty(), "detection mismatches:\n{}", report.join("\n"));
    assert_eq!((precision, recall), (1.0, 1.0));
}

#[test]
fn every_case_is_in_the_manifest() {
    let manifest = std::fs::read_to_string(common::root().join("fixtures/detection/tokenscope.yaml")).unwrap();
    for case in expected().keys() {
        assert!(manifest.contains(&format!("  {case}:")), "{case} is not listed in fixtures/detection/tokenscope.yaml");
    }
}
