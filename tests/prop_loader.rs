//! Property tests: arbitrary input never panics the YAML loader, the manifest reader or the CI resolver.

use proptest::prelude::*;
use std::sync::Arc;
use tokenscope::ci::{self, ParseCache};
use tokenscope::snapshot::Snapshot;
use tokenscope::source::{SourceFile, SourceMap};

/// YAML-ish text: fragments that exercise anchors, aliases, merge keys, tags, flow and block styles.
fn yamlish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("a: 1\n".to_string()),
        Just("- x\n".to_string()),
        Just("  ".to_string()),
        Just("&a ".to_string()),
        Just("*a ".to_string()),
        Just("<<: *a\n".to_string()),
        Just("!reference [.a, script]\n".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(": ".to_string()),
        Just("|\n  text\n".to_string()),
        Just(">-\n  folded\n".to_string()),
        Just("---\n".to_string()),
        Just("\"q\\\"\" ".to_string()),
        Just("'s' ".to_string()),
        Just("include: x.yml\n".to_string()),
        Just("extends: .a\n".to_string()),
        Just("job:\n  script: echo $[[ inputs.x ]]\n".to_string()),
        Just("\t".to_string()),
        Just("\u{feff}".to_string()),
        Just("# c\n".to_string()),
        "[a-z.:\\-\\[\\]{}&*!|> \n]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(frag, 0..24).prop_map(|v| v.concat())
}

fn parse(text: &str) {
    let sm = SourceMap::new();
    let id = sm.add(SourceFile::new("t.yml".into(), None, None, Arc::from(text)));
    let _ = tokenscope::yaml::parse(&sm, id);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn yaml_loader_never_panics(text in yamlish()) {
        parse(&text);
    }

    #[test]
    fn yaml_loader_never_panics_on_any_string(text in any::<String>()) {
        parse(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The whole resolver (includes, references, extends, jobs) on arbitrary CI files and manifests.
    #[test]
    fn resolver_never_panics(ci_text in yamlish(), included in yamlish(), manifest_tail in yamlish()) {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repos/g/p");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join(".gitlab-ci.yml"), &ci_text).unwrap();
        std::fs::write(repo.join("x.yml"), &included).unwrap();
        let manifest = format!("instance: {{url: https://g.example.com}}\nprojects:\n  g/p: {{}}\n{manifest_tail}");
        std::fs::write(tmp.path().join("tokenscope.yaml"), manifest).unwrap();
        if let Ok(snap) = Snapshot::load(tmp.path(), Arc::new(SourceMap::new())) {
            let cache = ParseCache::default();
            let _ = ci::resolve_all(&snap, &cache, true);
        }
    }
}
