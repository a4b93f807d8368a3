//! Variable expansion on arbitrary values: no panic, output within the budget.
#![no_main]
use gitlab_ci::vars::{MAX_EXPANSION, Var, VarOrigin, Vars};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Lines `NAME=value` define variables; the last line is expanded.
    let mut vars = Vars::default();
    let mut lines: Vec<&str> = text.lines().collect();
    let input = lines.pop().unwrap_or("");
    for l in lines {
        if let Some((n, v)) = l.split_once('=') {
            vars.set(Var { name: n.to_string(), value: v.to_string(), expand: true, origin: VarOrigin::Job, span: None });
        }
    }
    let out = vars.expand(input);
    assert!(out.len() <= 4 * MAX_EXPANSION + input.len() * 2 + 64, "{}", out.len());
});
