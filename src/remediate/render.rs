//! A plan as people read it: human (like a Terraform plan), Markdown (for a merge request or an issue),
//! and JSON (the contract `apply` reads back; docs/remediation.md).

use super::{Action, Change, Plan};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The plan's JSON document.
pub(crate) fn json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).expect("a plan serializes");
    s.push('\n');
    crate::text::json_safe(&s).into_owned()
}

/// Kept entries shown per callee in the human form (the rest are counted).
const KEPT_SHOWN: usize = 5;

fn perms(c: &Change) -> String {
    match (&c.action, &c.permissions) {
        (Action::Enable | Action::Disable, _) => String::new(),
        (_, None) => " (default permissions)".to_string(),
        (_, Some(l)) if l.is_empty() => " (no permissions)".to_string(),
        (_, Some(l)) => format!(" [{}]", crate::snapshot::manifest::Permission::list(l)),
    }
}

fn what(c: &Change) -> String {
    match &c.target {
        Some(t) => t.describe(),
        None if c.action == Action::Disable => "stop enforcing the allowlist".to_string(),
        None => "enforce the allowlist".to_string(),
    }
}

/// Counts per action, for the summary line.
fn summary(plan: &Plan) -> String {
    let n = |a: Action| plan.changes.iter().filter(|c| c.action == a).count();
    let callees = plan.changes.iter().map(|c| c.project.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    format!(
        "Plan: {} to add, {} to change, {} to remove, {} to enforce, on {callees} project(s); {} kept, {} unresolved.",
        n(Action::Add),
        n(Action::Update),
        n(Action::Remove),
        n(Action::Enable),
        plan.kept.len(),
        plan.unresolved.len()
    )
}

fn by_project(plan: &Plan) -> BTreeMap<&str, Vec<&Change>> {
    let mut m: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        m.entry(c.project.as_str()).or_default().push(c);
    }
    m
}

fn evidence(c: &Change) -> String {
    let list: Vec<String> = c.evidence.iter().map(|e| format!("{}:{}", e.file, e.line)).collect();
    list.join(", ")
}

/// The plan for a terminal: per callee, `+` add, `-` remove, `~` change permissions, `!` enforce.
pub(crate) fn human(plan: &Plan) -> String {
    let mut o = String::new();
    if plan.changes.is_empty() {
        o.push_str("No changes: every allowlist already matches what its callers need.\n");
    }
    for (project, changes) in by_project(plan) {
        let _ = writeln!(o, "{project}");
        for c in changes {
            let _ = writeln!(o, "  {} {}{}", c.action.sign(), what(c), perms(c));
            let _ = writeln!(o, "      why: {}", c.reason);
            if !c.evidence.is_empty() {
                let _ = writeln!(o, "      evidence: {}", evidence(c));
            }
        }
        o.push('\n');
    }
    if !plan.kept.is_empty() {
        o.push_str("Kept (not removed or narrowed):\n");
        let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &plan.kept {
            let n = shown.entry(k.project.as_str()).or_default();
            *n += 1;
            if *n <= KEPT_SHOWN {
                let _ = writeln!(o, "  = {}: {}\n      why: {}", k.project, k.target.describe(), k.reason);
            }
        }
        for (project, n) in shown.into_iter().filter(|(_, n)| *n > KEPT_SHOWN) {
            let _ =
                writeln!(o, "  = {project}: {} more kept entries (every one is in `--format json`)", n - KEPT_SHOWN);
        }
        o.push('\n');
    }
    if !plan.compaction.is_empty() {
        o.push_str("Compaction (GitLab allows 200 project entries per allowlist):\n");
        for c in &plan.compaction {
            let _ = writeln!(
                o,
                "  {}: {} callers, groups {}: admits {} project(s) that do not need access (GitLab's greedy compaction: {})",
                c.project,
                c.callers,
                c.groups.join(", "),
                c.over_grant,
                c.greedy_over_grant
            );
        }
        o.push('\n');
    }
    if !plan.unresolved.is_empty() {
        o.push_str("Unresolved (a human decides):\n");
        for u in &plan.unresolved {
            let _ = writeln!(
                o,
                "  ? {} job `{}` at {}:{}: {}\n      {}",
                u.project, u.job, u.file, u.line, u.access, u.reason
            );
        }
        o.push('\n');
    }
    if !plan.advice.is_empty() {
        o.push_str("Advice:\n");
        for a in &plan.advice {
            let _ = writeln!(o, "  * {}: {}", a.project, a.text);
        }
        o.push('\n');
    }
    let _ = writeln!(o, "{}", summary(plan));
    o
}

/// Markdown escaping of text from the snapshot: no table, link or HTML can be injected.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The plan for a merge request or an issue: one section per callee, a line per change.
pub(crate) fn markdown(plan: &Plan) -> String {
    let mut o = String::from("# tokenscope plan\n\n");
    let _ = writeln!(o, "{}\n", summary(plan));
    for (project, changes) in by_project(plan) {
        let _ = writeln!(o, "## {}\n", md(project));
        o.push_str("```diff\n");
        for c in &changes {
            let _ = writeln!(o, "{} {}{}", c.action.sign(), what(c), perms(c));
        }
        o.push_str("```\n\n");
        for c in &changes {
            let _ = write!(o, "- **{} {}**: {}", c.action.sign(), md(&what(c)), md(&c.reason));
            if !c.evidence.is_empty() {
                let _ = write!(o, " (evidence: {})", md(&evidence(c)));
            }
            o.push('\n');
        }
        o.push('\n');
    }
    if !plan.kept.is_empty() {
        o.push_str("## Kept\n\n");
        for k in &plan.kept {
            let _ = writeln!(o, "- {} on {}: {}", md(&k.target.describe()), md(&k.project), md(&k.reason));
        }
        o.push('\n');
    }
    if !plan.compaction.is_empty() {
        o.push_str(
            "## Compaction\n\n| callee | callers | groups | over-grant | GitLab's greedy |\n|---|---|---|---|---|\n",
        );
        for c in &plan.compaction {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(&c.project),
                c.callers,
                md(&c.groups.join(", ")),
                c.over_grant,
                c.greedy_over_grant
            );
        }
        o.push('\n');
    }
    if !plan.unresolved.is_empty() {
        o.push_str("## Unresolved\n\n");
        for u in &plan.unresolved {
            let _ = writeln!(
                o,
                "- [ ] {} job {} at {}:{} ({}): {}",
                md(&u.project),
                md(&u.job),
                md(&u.file),
                u.line,
                md(&u.access),
                md(&u.reason)
            );
        }
        o.push('\n');
    }
    if !plan.advice.is_empty() {
        o.push_str("## Advice\n\n");
        for a in &plan.advice {
            let _ = writeln!(o, "- {}: {}", md(&a.project), md(&a.text));
        }
        o.push('\n');
    }
    o
}
