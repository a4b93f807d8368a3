//! docs/rules.md is made from the rules themselves: its table lists every rule of the registry with its
//! summary, and each rule's section is the module comment of the rule's file (what, why, a failing and a
//! passing example). Run with `TOKENSCOPE_UPDATE_DOCS=1` to rewrite the sections after editing a rule's
//! comment.

mod common;

/// The module comment of a rule's file, without the `//! ` markers.
fn module_doc(id: &str) -> String {
    let path = common::root().join("src/rules").join(format!("{}.rs", id.replace('-', "_")));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.strip_prefix("//! ").unwrap_or(l.trim_start_matches("//!")))
        .collect();
    lines.join("\n")
}

#[test]
fn docs_rules_md_is_made_from_the_rules() {
    let path = common::root().join("docs/rules.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let split = doc.find("\n## ").expect("docs/rules.md has sections") + 1;
    let (preamble, sections) = doc.split_at(split);
    let metas = tokenscope::rules::metas();
    for m in &metas {
        let row = format!("| [`{0}`](#{0}) |", m.id);
        let line = preamble.lines().find(|l| l.starts_with(&row));
        let line = line.unwrap_or_else(|| panic!("docs/rules.md's table has no row for `{}`", m.id));
        assert!(
            line.ends_with(&format!("| {} |", m.summary)),
            "the table's summary of `{}` is not its own: {line}",
            m.id
        );
        let doc = module_doc(m.id);
        for part in ["Failing", "Passing"] {
            assert!(doc.contains(part), "src/rules/{}.rs documents no {part} example", m.id.replace('-', "_"));
        }
    }
    let expected: Vec<String> = metas.iter().map(|m| format!("## {}\n\n{}\n", m.id, module_doc(m.id))).collect();
    let expected = expected.join("\n");
    if std::env::var_os("TOKENSCOPE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{preamble}{expected}")).unwrap();
        return;
    }
    assert!(
        sections == expected,
        "docs/rules.md's sections differ from the rules' module comments; run `TOKENSCOPE_UPDATE_DOCS=1 cargo test --test rules_doc`"
    );
}
