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

/// Shell-ish text for the script scanner: quotes, continuations, heredocs, operators, variables.
fn shellish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("curl ".to_string()),
        Just("git clone ".to_string()),
        Just("-H \"JOB-TOKEN: $CI_JOB_TOKEN\" ".to_string()),
        Just("https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/a/b.git ".to_string()),
        Just("$CI_API_V4_URL/projects/1/packages/npm/ ".to_string()),
        Just("${CI_API_V4_URL#https?}".to_string()),
        Just("${A:-${B}} ".to_string()),
        Just("&& ".to_string()),
        Just("|| true ".to_string()),
        Just("| ".to_string()),
        Just("; ".to_string()),
        Just("\\\n".to_string()),
        Just("\n".to_string()),
        Just("<<EOF\n".to_string()),
        Just("EOF\n".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("X=$CI_JOB_TOKEN ".to_string()),
        Just("export P=\"$P:x\" ".to_string()),
        Just("# comment ".to_string()),
        Just("docker login -p $CI_JOB_TOKEN registry.example.com ".to_string()),
        "[a-z$={}:/\\\\'\" |&;<>#.-]{0,10}",
        any::<String>(),
    ];
    prop::collection::vec(frag, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The script scanner on arbitrary script text: no panic, and shell words never come out longer than
    /// their input (the scanner only removes quotes and escapes).
    #[test]
    fn script_scanner_never_panics(script in shellish()) {
        let words = tokenscope::detect::script::shell_words(&script);
        prop_assert!(words.iter().map(String::len).sum::<usize>() <= script.len());
        let _ = tokenscope::detect::script::strip_prefix_words(words);
        let sm = SourceMap::new();
        let text = format!("job:\n  variables:\n    T: $CI_JOB_TOKEN\n  script:\n    - {:?}\n", script);
        let id = sm.add(SourceFile::new("t.yml".into(), None, None, Arc::from(text.as_str())));
        if let Ok(parsed) = tokenscope::yaml::parse(&sm, id)
            && let Some(tokenscope::yaml::Value::Map(m)) = parsed.docs.into_iter().next().map(|d| d.value)
        {
            let (jobs, _) = tokenscope::ci::jobs::build(m, &Default::default(), false, false, &mut Vec::new());
            for job in &jobs {
                let _ = tokenscope::detect::script::Script::parse(job, &sm);
            }
        }
    }

    /// Variable expansion on arbitrary values, including self-references and doubling: no panic, and
    /// the output stays within the expansion budget.
    #[test]
    fn variable_expansion_is_bounded(values in prop::collection::vec(shellish(), 1..8), input in shellish()) {
        let mut vars = tokenscope::ci::vars::Vars::default();
        for (i, v) in values.iter().enumerate() {
            vars.set(tokenscope::ci::vars::Var {
                name: format!("V{i}"),
                value: format!("{v}$V{}$V{}", (i + 1) % values.len(), i),
                expand: true,
                origin: tokenscope::ci::vars::VarOrigin::Job,
                span: None,
            });
        }
        let out = vars.expand(&format!("{input}$V0"));
        prop_assert!(out.len() <= 4 * tokenscope::ci::vars::MAX_EXPANSION + input.len() + 64);
    }

    /// The manifest reader on arbitrary YAML-ish documents: no panic.
    #[test]
    fn manifest_reader_never_panics(text in yamlish(), head in prop_oneof![
        Just(String::new()),
        Just("instance: {url: https://g.example.com}\nprojects:\n".to_string()),
        Just("instance:\n  url: https://g.example.com\nprojects:\n  a/b:\n    job_token:\n      allowlist:\n".to_string()),
    ]) {
        let sm = SourceMap::new();
        let id = sm.add(SourceFile::new("tokenscope.yaml".into(), None, None, Arc::from(format!("{head}{text}").as_str())));
        if let Ok(parsed) = tokenscope::yaml::parse(&sm, id) {
            for doc in &parsed.docs {
                let _ = tokenscope::snapshot::manifest::read(doc, &mut Vec::new());
            }
        }
    }
}

/// A configuration built from amplifying constructs: a base of `lines` script lines, `fan` jobs or
/// references or matrix values per level, `levels` levels of `extends`/`!reference`, a `default:` block,
/// includes of a file `includes` times, variables that fan out.
fn amplifying() -> impl Strategy<Value = Vec<(String, String)>> {
    (1usize..400, 1usize..300, 1usize..4, 0usize..6, 0usize..40, any::<bool>()).prop_map(
        |(lines, fan, levels, kind, includes, default)| {
            let script: String = (0..lines).map(|i| format!("    - echo line {i} of some length\n")).collect();
            let mut root = String::new();
            let mut tpl = format!(".base:\n  script:\n{script}");
            if default {
                root.push_str(&format!("default:\n  before_script:\n{script}"));
            }
            match kind {
                0 => (0..fan).for_each(|i| root.push_str(&format!("j{i}:\n  extends: .base\n"))),
                1 => {
                    let mut prev = ".base".to_string();
                    for l in 0..levels {
                        tpl.push_str(&format!(".l{l}:\n  script:\n"));
                        (0..fan.min(60)).for_each(|_| tpl.push_str(&format!("    - !reference [{prev}, script]\n")));
                        prev = format!(".l{l}");
                    }
                    root.push_str(&format!("j:\n  script:\n    - !reference [{prev}, script]\n"));
                }
                2 => {
                    let values: Vec<String> = (0..fan.min(200)).map(|i| i.to_string()).collect();
                    root.push_str(&format!(
                        "j:\n  parallel:\n    matrix:\n      - A: [{}]\n  extends: .base\n",
                        values.join(",")
                    ));
                }
                3 => {
                    root.push_str("variables:\n");
                    for l in 0..levels + 4 {
                        root.push_str(&format!("  V{l}: \"{}\"\n", format!("$V{}", l + 1).repeat(fan.min(60))));
                    }
                    root.push_str("j:\n  script: [\"echo $V0\"]\n");
                }
                4 => root.push_str(&format!(
                    ".a: &a\n{}j:\n  <<: *a\n  script: [x]\n",
                    (0..fan * 50).map(|i| format!("  k{i}: v\n")).collect::<String>()
                )),
                _ => (0..fan).for_each(|i| root.push_str(&format!("j{i}:\n  script: [x]\n"))),
            }
            let mut incl = String::from("include:\n");
            (0..includes).for_each(|_| incl.push_str("  - local: tpl.yml\n"));
            if includes == 0 {
                incl.push_str("  - local: tpl.yml\n");
            }
            vec![(".gitlab-ci.yml".into(), format!("{incl}{root}")), ("tpl.yml".into(), tpl)]
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the constructs and their counts, resolution stays within its work budget, and what it
    /// materialises (the jobs' script text) is bounded by that budget.
    #[test]
    fn amplifying_structures_stay_within_the_work_budget(files in amplifying()) {
        let instance = gitlab_ci::Instance { url: "https://g.example".into(), host: "g.example".into(), registry: None };
        let repo = gitlab_ci::memory::Memory::new("g/p", instance, files);
        let project = gitlab_ci::Project {
            path: "g/p".into(), id: Some(1), visibility: "private", default_branch: "main".into(),
            ci_config_path: ".gitlab-ci.yml".into(), span: Default::default(), unreadable: None,
        };
        let started = std::time::Instant::now();
        let p = gitlab_ci::resolve(&repo, &ParseCache::default(), &project, false);
        prop_assert!(p.spent.over.is_some() || p.spent.used <= p.spent.limit);
        let text: u64 = p.jobs.iter().flat_map(|j| j.all_lines()).map(|l| l.text.len() as u64).sum();
        prop_assert!(text <= p.spent.limit, "{} bytes of scripts for a budget of {}", text, p.spent.limit);
        prop_assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
    }
}
