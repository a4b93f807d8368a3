//! The block-style fast path against saphyr-parser: hand-written cases (each construct of the subset,
//! and near misses that must be left to saphyr-parser), every YAML file of the fixtures and of the shared
//! corpus, and generated documents.

use gitlab_ci::yaml::{FastPath, fast_path};
use std::path::{Path, PathBuf};

/// Said straight to stderr, which the test harness does not capture, so that a skip shows in every run.
fn say(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

fn same(text: &str) {
    match fast_path(text) {
        FastPath::Same => {}
        other => panic!("expected the fast path to read {text:?} as saphyr-parser does, got {other:?}"),
    }
}

fn declined(text: &str) {
    assert_eq!(fast_path(text), FastPath::Declined, "expected {text:?} to be left to saphyr-parser");
}

#[test]
fn block_style_constructs_read_as_saphyr_does() {
    same("a: b\n");
    same("a: 1");
    same("a:\n  b: 1\n  c: two words\nd: e # comment\n");
    same("# head\n\na:\n\n  # inside\n  b: c\n\n# tail\n");
    same("a:\n- x\n- y\nb: z\n");
    same("a:\n  - x\n  -\n  - y: 1\n    z:\n  - w\n");
    same("- a\n-\n- b\n-  c: 1\n   d:\n   e: !reference [x, y]\n- &y\n  f: *y\n");
    same("a: 'it''s'\nb: \"q\\\"\\\\\\n\"\nc: ''\nd: \"\"\n");
    same("\"quoted key\": 1\n'single': 2\n");
    same("a: |\n  line 1\n    more\n\n  line 3\n\n\nb: |-\n  x\n");
    same("a:\n  - |\n    echo 1\n    echo 2\n  - >\n    folded\n    text\n\n    para\n  - >-\n    x\nb: c\n");
    same("a: [x, \"y\", 'z', w v]\nb: []\nc: &anc [1]\nd: *anc\n");
    same(".base: &base\n  image: alpine\njob:\n  <<: *base\n  script: [echo]\n");
    same("a: b:c\nurl: https://example.com:443/x\nk-1.x: -v\n");
    same("  a: b\n  c: d\n");
    same("- - a\n".replace("- - a", "- [a]").as_str());
    same("a: |\n  x\n# comment at 0\nb: 1\n");
    same("---\na: b\n");
    same("a: b\n  c\n\n   d  \nx:\n  - if x; then\n      y;\n    fi # c\n  - --a\n    --b\nz:\n  one\n  two\n");
    same("x: &x [1]\na: {}\nb: { }\nc: {d: e, 'f': \"g\", h: [i, *x]}\ny: [*x, !reference [.a, b], [c], {d: e}]\n");
    same("- {job: one, artifacts: false}\n- { key: { files: [a.json] }, paths: [b] } # c\n");
    same("é: \"ü ü\" # ö\nb: [ñ, \"😀\"]\nc: |\n  ß\n  x\nd:\n  - 日本: 語\n");
    same("a: &x\n  b: 1\nc: &y\n- d\ne: !t\n  - f\ng: &z !t\n  h: 1\n");
    same("- &x\n  a: 1\n- !t\n  - a\n- *x\n");
    same("a: # c\nb:   \nc:\n-   # c\n-\n- d\n");
    same("a: \"x\"  # c\nb: [ 'y' ]   # c\nc: [  ]\n");
    same("# c\n--- # c\n- a\n");
    same("spec:\n  inputs:\n    x:\n---\n\n# c\njob:\n  - y\n---\nz: 1\n");
}

#[test]
fn outside_the_subset_is_left_to_saphyr() {
    for text in [
        "%YAML 1.2\n---\na: b\n",
        "---\n",
        "a: b\n---\n",
        "a: b\n...\n",
        "--- a: b\n",
        "a: [b,\n  c]\n",
        "a: \"multi\n  line\"\n",
        "a: \"\\x41\"\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: b\u{0}c\n",
        "\u{feff}a: b\n",
        "a: \u{1}\n",
        "a: |+\n  x\n",
        "a: |2\n   x\n",
        "a: |\n\n  x\n",
        "a: |\n  x",
        "? a\n: b\n",
        "- - a\n",
        "a: b: c\n",
        "a: [b, ]\n",
        "a: b\n  c: d\n",
        "a: b\n  # c\n  d\n",
        "a: {b}\n",
        "a: {b: }\n",
        "a: {b:c}\n",
        "a: {b: c,}\n",
        "a: [b: c]\n",
        "a: *unknown\n",
        "&x a: b\n",
        "a: !!str b\n",
        "plain scalar\n",
        "",
        "# only a comment\n",
    ] {
        declined(text);
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            yaml_files(&p, out);
        } else if t.is_file() && p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

/// Every file the fast path reads must read as saphyr-parser reads it. Returns (read, declined).
fn check_all(root: &Path) -> (usize, usize) {
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    files.sort();
    let (mut read, mut declined) = (0, 0);
    let mut wrong = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        match fast_path(&text) {
            FastPath::Same => read += 1,
            FastPath::Declined => declined += 1,
            FastPath::Differs(why) => wrong.push(format!("{}: {why}", f.display())),
        }
    }
    assert!(wrong.is_empty(), "{} files read differently:\n{}", wrong.len(), wrong.join("\n"));
    (read, declined)
}

#[test]
fn fixtures_read_as_saphyr_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let (read, declined) = check_all(&root);
    assert!(read > 100, "the fast path read only {read} fixture files ({declined} declined)");
    say(&format!("fixtures: the YAML fast path read {read} files, left {declined} to saphyr-parser"));
}

#[test]
fn corpus_reads_as_saphyr_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.is_dir() {
        say("fast-path corpus test skipped: ../shared/corpus is not present beside the checkout");
        return;
    }
    let (read, declined) = check_all(&root);
    say(&format!("corpus: the YAML fast path read {read} files, left {declined} to saphyr-parser"));
}

mod generated {
    //! Documents built from the pieces CI files are made of, at random indentations, with random
    //! scalars (indicators, quotes, `:` and `#` in odd places), then sometimes cut or spliced: the fast
    //! path must read each as saphyr-parser does, or leave it to saphyr-parser.

    use super::*;
    use proptest::prelude::*;

    fn scalar(clean: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            20 * clean => "[a-z$é😀][a-z0-9_./$é日-]{0,8}( [a-z0-9:=/ü\u{a0}\u{2028}\u{85}-]{1,6}){0,3}",
            1 => "[a-zA-Z0-9 :#,\\[\\]{}&*!|>'\"%@`?$/=-]{1,14}",
            2 => "\"[a-z :#'\\\\\"ntx/]{0,10}\"",
            2 => "'[a-z :#\"]{0,6}('')?[a-z]{0,3}'",
            2 => "\\[[a-z\"' ,]{0,12}\\]",
            1 => Just(String::new()),
            1 => Just("*anc".to_string()),
            1 => Just("&anc v".to_string()),
            1 => Just("!reference [.a, b]".to_string()),
            1 => Just("&anc !reference [x]".to_string()),
            1 => Just("~".to_string()),
            2 => "\\{ ?([a-z\"']{1,3}: ?[a-z\"'\\[\\] ]{0,5}(, ?[a-z:]{1,3}: \\[[a-z, ]{0,6}\\])?)? ?\\}",
            1 => Just("[*anc, x, [y, {z: *anc}]]".to_string()),
            1 => Just("{ k: *anc, l: !reference [m] }".to_string()),
        ]
    }

    fn key(clean: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z.ä][a-z0-9_ä-]{0,6}",
            1 => "[a-z]{1,3}[ :#-][a-z]{0,3}",
            1 => "\"[a-z :]{1,5}\"",
            1 => "'[a-z ]{1,5}'",
            1 => Just("<<".to_string()),
            1 => Just("? k".to_string()),
            3 * clean => "[a-z]{2,6}",
        ]
    }

    fn comment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just(String::new()),
            2 => Just(" # note".to_string()),
            1 => Just("   ".to_string()),
            1 => Just(" #".to_string()),
            1 => Just(" # ö 😀".to_string()),
        ]
    }

    #[derive(Clone, Debug)]
    enum Tree {
        Scalar(String),
        Block(bool, bool, Vec<String>),
        /// A plain scalar over several lines: each line, and whether a blank line comes before it.
        Lines(Vec<(bool, String)>),
        Map(Vec<(String, Tree)>),
        Seq(Vec<Tree>),
    }

    /// `clean`: how much likelier than one that is probably not valid YAML a plain scalar or key is.
    fn tree(clean: u32) -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            4 => scalar(clean).prop_map(Tree::Scalar),
            1 => prop::collection::vec((any::<bool>(), "[a-z$-][a-z0-9 =$;\"'#:|-]{0,10}"), 2..5).prop_map(Tree::Lines),
            1 => (any::<bool>(), any::<bool>(), prop::collection::vec("([a-z#:\"'][a-z#:\"' ]{0,8}| {1,3}[a-z]{1,4}|)", 1..5))
                .prop_map(|(l, s, lines)| Tree::Block(l, s, lines)),
        ];
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec((key(clean), inner.clone()), 1..5).prop_map(Tree::Map),
                prop::collection::vec(inner, 1..5).prop_map(Tree::Seq),
            ]
        })
    }

    /// Writes `t` as the value after a key or `-` whose block indentation is `indent`.
    fn write(t: &Tree, indent: usize, step: usize, indentless: bool, out: &mut String, c: &str) {
        let pad = |n: usize| " ".repeat(n);
        match t {
            Tree::Scalar(s) => {
                out.push(' ');
                out.push_str(s);
                out.push_str(c);
                out.push('\n');
            }
            Tree::Lines(lines) => {
                for (i, (blank, l)) in lines.iter().enumerate() {
                    if i == 0 {
                        out.push(' ');
                    } else {
                        if *blank {
                            out.push('\n');
                        }
                        out.push_str(&pad(indent + step));
                    }
                    out.push_str(l);
                    out.push('\n');
                }
            }
            Tree::Block(literal, strip, lines) => {
                out.push_str(if *literal { " |" } else { " >" });
                if *strip {
                    out.push('-');
                }
                out.push_str(c);
                out.push('\n');
                for (i, l) in lines.iter().enumerate() {
                    // The first line sets the indentation: it is not blank and starts at it.
                    let l = if i == 0 && (l.is_empty() || l.starts_with(' ')) { "x" } else { l.as_str() };
                    if !l.is_empty() {
                        out.push_str(&pad(indent + step));
                    }
                    out.push_str(l);
                    out.push('\n');
                }
            }
            Tree::Map(entries) => {
                out.push_str(c);
                out.push('\n');
                for (k, v) in entries {
                    out.push_str(&pad(indent + step));
                    out.push_str(k);
                    out.push(':');
                    write(v, indent + step, step, true, out, c);
                }
            }
            Tree::Seq(items) => {
                out.push_str(c);
                out.push('\n');
                let at = if indentless { indent } else { indent + step };
                for v in items {
                    out.push_str(&pad(at));
                    out.push('-');
                    write(v, at, step, false, out, c);
                }
            }
        }
    }

    fn document() -> impl Strategy<Value = String> {
        let tree = prop_oneof![tree(50), tree(1)];
        (tree, 1usize..4, comment(), any::<bool>(), any::<bool>()).prop_map(|(t, step, c, marker, second)| {
            let mut out = String::new();
            if marker {
                out.push_str("---\n");
            }
            let root = match t {
                Tree::Map(_) | Tree::Seq(_) => t,
                other => Tree::Map(vec![("k".to_string(), other)]),
            };
            let mut body = String::new();
            write(&root, 0, step, false, &mut body, &c);
            // The root is written as a value: drop the first line (its key's remainder) and unindent.
            for line in body.lines().skip(1) {
                out.push_str(line.strip_prefix(&" ".repeat(step)).unwrap_or(line));
                out.push('\n');
            }
            if second {
                out.push_str("---\n# then\nlast: [x]\n");
            }
            out
        })
    }

    /// The generated documents must mostly be ones the fast path reads, or the property below would
    /// test little more than its refusals.
    #[test]
    fn most_generated_documents_take_the_fast_path() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut read, total) = (0, 2000);
        for _ in 0..total {
            let doc = document().new_tree(&mut runner).unwrap().current();
            match fast_path(&doc) {
                FastPath::Same => read += 1,
                FastPath::Declined => {}
                FastPath::Differs(why) => panic!("{why}\n{doc}"),
            }
        }
        assert!(read * 2 > total, "the fast path read only {read} of {total} generated documents");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn generated_documents(doc in document()) {
            let r = fast_path(&doc);
            prop_assert!(!matches!(r, FastPath::Differs(_)), "{r:?}\n{doc}");
        }

        #[test]
        fn cut_and_spliced_documents(doc in document(), at in any::<prop::sample::Index>(), len in 0usize..6, with in "[ \\n:#\\-'\"\\[\\],{}|>&*!?a]{0,4}") {
            let boundary = |mut i: usize| {
                while !doc.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let at = boundary(at.index(doc.len() + 1));
            let end = boundary((at + len).min(doc.len()));
            let text = format!("{}{}{}", &doc[..at], with, &doc[end..]);
            let r = fast_path(&text);
            prop_assert!(!matches!(r, FastPath::Differs(_)), "{r:?}\n{text}");
        }
    }
}
