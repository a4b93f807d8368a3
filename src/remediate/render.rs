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

/// Any serializable document, pretty, cleaned like the plan.
pub(crate) fn json_value<T: serde::Serialize>(doc: &T) -> String {
    let mut s = serde_json::to_string_pretty(doc).expect("a document serializes");
    s.push('\n');
    crate::text::json_safe(&s).into_owned()
}

fn breakage(b: &super::rollout::Breakage) -> String {
    format!("{} edge(s) into {} project(s)", b.edges, b.projects)
}

/// How to switch one project's enforcement on by hand, and back.
fn by_hand(project: &str, on: bool) -> String {
    format!("projectCiCdSettingsUpdate(input: {{fullPath: \"{project}\", inboundJobTokenScopeEnabled: {on}}})")
}

/// The rollout as a checklist to paste into an issue.
pub(crate) fn rollout_markdown(r: &super::rollout::Rollout, instance: &str) -> String {
    let mut o = String::from("# Job-token allowlist enforcement rollout\n\n");
    let _ = writeln!(
        o,
        "Switching on \"Enable and enforce job token allowlist for all projects\" on {instance} today would break {}.",
        breakage(&r.instance_switch.now)
    );
    for (i, b) in r.instance_switch.after_waves.iter().enumerate() {
        let _ = writeln!(o, "- after wave {i}: {}", breakage(b));
    }
    o.push('\n');
    for w in &r.waves {
        let title = if w.wave == 0 {
            "enforce now: every known caller is covered"
        } else {
            "add the plan's entries, then enforce"
        };
        let _ = writeln!(o, "## Wave {}: {title} ({} project(s))\n", w.wave, w.projects.len());
        if w.projects.is_empty() {
            o.push_str("Nothing in this wave.\n\n");
            continue;
        }
        for p in &w.projects {
            let _ = writeln!(o, "- [ ] `{}`", md(p));
        }
        let _ = writeln!(
            o,
            "\n**Apply**: `tokenscope rollout SNAPSHOT --wave {n} --output wave-{n}.json && tokenscope apply wave-{n}.json --url {instance}` ({} change(s)), or by hand per project: Settings > CI/CD > Job token permissions > Authorized groups and projects > *Only this project and any groups and projects in the allowlist*, after adding the entries; API: `{}`.\n",
            w.changes.len(),
            by_hand("PROJECT", true),
            n = w.wave
        );
        o.push_str("**Monitor** for 7 days (job logs with `403` and `Authentication by CI/CD job token not allowed`; `tokenscope explain` reads them)");
        if w.watch.is_empty() {
            o.push_str(". No caller of these projects depends only on rarely run pipelines.\n\n");
        } else {
            o.push_str(", and until each of these rarely run jobs has run once:\n\n");
            for x in &w.watch {
                let _ = writeln!(
                    o,
                    "- [ ] `{}` job `{}` ({}) against `{}`: {}:{}",
                    md(&x.caller),
                    md(&x.job),
                    x.runs.join(", "),
                    md(&x.callee),
                    md(&x.file),
                    x.line
                );
            }
            o.push('\n');
        }
        let _ = writeln!(
            o,
            "**Roll back**: `tokenscope rollback JOURNAL` (the journal `apply` named), or per project `{}`.\n",
            by_hand("PROJECT", false)
        );
    }
    let _ = writeln!(o, "## Blocked ({} project(s)): a human confirms first\n", r.blocked.len());
    for b in &r.blocked {
        let _ = writeln!(o, "- [ ] `{}`", md(&b.project));
        for reason in &b.reasons {
            let _ = writeln!(o, "  - {}", md(reason));
        }
    }
    o
}

/// The rollout for a terminal.
pub(crate) fn rollout_human(r: &super::rollout::Rollout, instance: &str) -> String {
    let mut o = String::new();
    let _ =
        writeln!(o, "instance-wide enforcement on {instance} would break today: {}", breakage(&r.instance_switch.now));
    for (i, b) in r.instance_switch.after_waves.iter().enumerate() {
        let _ = writeln!(o, "  after wave {i}: {}", breakage(b));
    }
    for w in &r.waves {
        let _ = writeln!(o, "\nwave {} ({} project(s), {} change(s)):", w.wave, w.projects.len(), w.changes.len());
        for p in &w.projects {
            let _ = writeln!(o, "  {p}");
        }
        for x in &w.watch {
            let _ = writeln!(
                o,
                "  watch: {} job `{}` ({}) -> {} at {}:{}",
                x.caller,
                x.job,
                x.runs.join(", "),
                x.callee,
                x.file,
                x.line
            );
        }
    }
    let _ = writeln!(o, "\nblocked ({} project(s)):", r.blocked.len());
    for b in &r.blocked {
        let _ = writeln!(o, "  {}", b.project);
        for reason in b.reasons.iter().take(3) {
            let _ = writeln!(o, "      {reason}");
        }
        if b.reasons.len() > 3 {
            let _ = writeln!(o, "      … {} more (see --format markdown or json)", b.reasons.len() - 3);
        }
    }
    o
}

/// `rollout status` for a terminal.
pub(crate) fn status_human(s: &super::rollout::Status) -> String {
    let mut o = String::new();
    for w in &s.waves {
        let _ = writeln!(o, "wave {}: {}", w.wave, if w.done { "done" } else { "not done" });
        for p in &w.pending {
            let _ = writeln!(o, "  pending: {p}");
        }
    }
    if s.new_callers.is_empty() {
        o.push_str("no new caller in the authentication log\n");
    }
    for c in &s.new_callers {
        let _ = writeln!(
            o,
            "new caller: `{}` used the job token against `{}` ({}) and no entry covers it: add it before enforcing",
            c.caller,
            c.project,
            c.last_authorized_at.as_deref().unwrap_or("date unknown")
        );
    }
    for r in &s.regressions {
        let _ = writeln!(o, "regression: {r}");
    }
    o
}
