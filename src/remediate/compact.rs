//! Compaction under GitLab's limits (200 project entries and 200 group entries per allowlist).
//!
//! When the callers a callee needs exceed the project-entry limit, some of them must be admitted by group
//! entries, and a group admits every project under it. [`compact`] chooses the groups that cover every
//! needed caller with the fewest projects admitted that are not callers (the *over-grant*), never using a
//! forbidden group (the policy's `never_group`, a group holding a `critical` project). It is exact: a
//! knapsack over the group tree, where a group either gets one entry (its over-grant, no project entry) or
//! passes its callers down (its direct callers as project entries, its subgroups solved the same way).
//! Arrays are capped at the project budget, so the work is O(groups × budget).
//!
//! [`greedy`] is what GitLab's removed auto-populate tool did on the same input: repeatedly replace the
//! entries under the most common parent namespace by that namespace. It is the baseline the plan reports
//! the over-grant against.

use crate::engine::covered_range;
use crate::snapshot::AllowEntry;
use std::collections::{BTreeMap, BTreeSet};

/// GitLab's limits per allowlist (two separate limits in its code).
pub(crate) const MAX_PROJECT_ENTRIES: usize = 200;
pub(crate) const MAX_GROUP_ENTRIES: usize = 200;

/// What to cover, and with how much room.
pub(crate) struct Input<'a> {
    /// The callers that need a new entry, sorted, each once.
    pub(crate) to_cover: &'a [String],
    /// Every project that needs access to the callee (admitting one is no over-grant), sorted.
    pub(crate) callers: &'a [String],
    /// Every project of the snapshot, sorted: what a group entry admits.
    pub(crate) projects: &'a [&'a str],
    /// The callee (its own group entry admits it, which is no over-grant).
    pub(crate) callee: &'a str,
    /// Groups never to use wholesale.
    pub(crate) forbidden: &'a dyn Fn(&str) -> bool,
    /// Room left on the allowlist.
    pub(crate) max_projects: usize,
    pub(crate) max_groups: usize,
}

/// The entries chosen and what they cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) groups: Vec<String>,
    pub(crate) projects: Vec<String>,
    /// Projects of the snapshot admitted that do not need access.
    pub(crate) over_grant: usize,
}

/// Projects of the snapshot a group entry for `group` admits that do not need access.
pub(crate) fn over_grant(input: &Input, group: &str) -> usize {
    let entry = AllowEntry::group(group);
    let all = covered_range(input.projects, &entry);
    let callers =
        covered_range(input.callers, &entry).iter().filter(|c| all.binary_search(&c.as_str()).is_ok()).count();
    let callee_admitted = all.binary_search(&input.callee).is_ok();
    let callee =
        usize::from(callee_admitted && input.callers.binary_search_by(|c| c.as_str().cmp(input.callee)).is_err());
    all.len() - callers - callee
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

/// A value of the knapsack: (over-grant, group entries), compared in that order.
type Val = (usize, usize);
const INF: Val = (usize::MAX, usize::MAX);

fn add(a: Val, b: Val) -> Val {
    if a == INF || b == INF { INF } else { (a.0 + b.0, a.1 + b.1) }
}

#[derive(Default)]
struct Node {
    /// Callers directly in this group.
    direct: Vec<String>,
    children: Vec<String>,
    /// `f[k]`: the best value covering the subtree's callers with exactly `k` project entries.
    f: Vec<Val>,
    /// Whether `f[0]` is this group's own entry.
    own_entry: bool,
    /// For each child merge, in order: the child's share of `k` in the merged array.
    splits: Vec<Vec<usize>>,
}

/// The exact least over-grant cover of `to_cover` within the room given; `None` when no cover fits.
pub(crate) fn compact(input: &Input) -> Option<Choice> {
    let budget = input.max_projects;
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let root = String::new();
    nodes.insert(root.clone(), Node::default());
    for c in input.to_cover {
        let Some(mut g) = parent(c) else {
            nodes.get_mut(&root).expect("root").direct.push(c.clone());
            continue;
        };
        // Walk up, linking each new group to its parent; a group seen before is already linked.
        let mut child: Option<String> = None;
        loop {
            let fresh = !nodes.contains_key(g);
            let node = nodes.entry(g.to_string()).or_default();
            match child.take() {
                None => node.direct.push(c.clone()),
                Some(ch) => node.children.push(ch),
            }
            if !fresh {
                break;
            }
            match parent(g) {
                Some(up) => {
                    child = Some(g.to_string());
                    g = up;
                }
                None => {
                    nodes.get_mut(&root).expect("root").children.push(g.to_string());
                    break;
                }
            }
        }
    }
    // Deepest groups first: every child is solved before its parent.
    let mut order: Vec<String> = nodes.keys().cloned().collect();
    order.sort_by_key(|g| std::cmp::Reverse(if g.is_empty() { 0 } else { g.matches('/').count() + 1 }));
    for g in &order {
        let (direct, children) = {
            let n = &nodes[g];
            (n.direct.len(), n.children.clone())
        };
        let mut arr: Vec<Val> = vec![INF; direct.min(budget + 1) + 1];
        if direct <= budget {
            arr[direct] = (0, 0);
        }
        let mut splits = Vec::new();
        for ch in &children {
            let f = &nodes[ch].f;
            let len = (arr.len() + f.len() - 1).min(budget + 1);
            let mut merged = vec![INF; len];
            let mut split = vec![0usize; len];
            for (i, a) in arr.iter().enumerate() {
                if *a == INF {
                    continue;
                }
                for (j, b) in f.iter().enumerate() {
                    if i + j >= len {
                        break;
                    }
                    let v = add(*a, *b);
                    if v < merged[i + j] {
                        merged[i + j] = v;
                        split[i + j] = j;
                    }
                }
            }
            arr = merged;
            splits.push(split);
        }
        let mut own_entry = false;
        if !g.is_empty() && !(input.forbidden)(g) {
            let own = (over_grant(input, g), 1);
            if own < arr[0] {
                arr[0] = own;
                own_entry = true;
            }
        }
        let n = nodes.get_mut(g).expect("node");
        n.f = arr;
        n.own_entry = own_entry;
        n.splits = splits;
    }
    let f = &nodes[&root].f;
    let best = (0..f.len()).filter(|&k| f[k] != INF && f[k].1 <= input.max_groups).min_by_key(|&k| (f[k], k))?;
    let mut choice = Choice { over_grant: f[best].0, ..Choice::default() };
    collect(&nodes, &root, best, &mut choice);
    choice.groups.sort();
    choice.projects.sort();
    Some(choice)
}

fn collect(nodes: &BTreeMap<String, Node>, g: &str, mut k: usize, out: &mut Choice) {
    let n = &nodes[g];
    if k == 0 && n.own_entry {
        out.groups.push(g.to_string());
        return;
    }
    for (ch, split) in n.children.iter().zip(&n.splits).rev() {
        let j = split[k];
        collect(nodes, ch, j, out);
        k -= j;
    }
    out.projects.extend(n.direct.iter().cloned());
}

/// GitLab's greedy compaction on the same input: while the entries do not fit, replace every entry under
/// the parent namespace holding the most of them by that namespace (ties: the first path). Forbidden
/// groups are not known to it.
pub(crate) fn greedy(input: &Input) -> Choice {
    let mut projects: BTreeSet<String> = input.to_cover.iter().cloned().collect();
    let mut groups: BTreeSet<String> = BTreeSet::new();
    while projects.len() > input.max_projects || groups.len() > input.max_groups {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for e in projects.iter().chain(groups.iter()) {
            if let Some(p) = parent(e) {
                *counts.entry(p).or_default() += 1;
            }
        }
        let Some((&top, _)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0))) else { break };
        let top = top.to_string();
        let under = |e: &String| e.len() > top.len() && e.starts_with(&top) && e.as_bytes()[top.len()] == b'/';
        projects.retain(|e| !under(e));
        groups.retain(|e| !under(e));
        groups.insert(top);
    }
    let over = groups.iter().map(|g| over_grant(input, g)).sum();
    Choice { groups: groups.into_iter().collect(), projects: projects.into_iter().collect(), over_grant: over }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn covers(groups: &[String], projects: &[String], c: &str) -> bool {
        projects.iter().any(|p| p == c)
            || groups.iter().any(|g| c.len() > g.len() && c.starts_with(g.as_str()) && c.as_bytes()[g.len()] == b'/')
    }

    fn run(all: &[String], callers: &[String], max: usize, forbid: &[String]) -> (Option<Choice>, Choice) {
        let projects: Vec<&str> = all.iter().map(String::as_str).collect();
        let forbidden = |g: &str| forbid.iter().any(|f| f == g);
        let input = Input {
            to_cover: callers,
            callers,
            projects: &projects,
            callee: "zz/callee",
            forbidden: &forbidden,
            max_projects: max,
            max_groups: MAX_GROUP_ENTRIES,
        };
        (compact(&input), greedy(&input))
    }

    #[test]
    fn prefers_the_group_with_the_fewest_strangers() {
        // a/x holds 3 callers and nothing else; a/y holds 3 callers and 10 others.
        let mut all: Vec<String> = (0..3).map(|i| format!("a/x/c{i}")).collect();
        all.extend((0..3).map(|i| format!("a/y/c{i}")));
        all.extend((0..10).map(|i| format!("a/y/o{i}")));
        all.sort();
        let callers: Vec<String> = all.iter().filter(|p| p.contains("/c")).cloned().collect();
        let (best, greedy) = run(&all, &callers, 4, &[]);
        let best = best.unwrap();
        assert_eq!(best.groups, vec!["a/x".to_string()]);
        assert_eq!(best.projects.len(), 3);
        assert_eq!(best.over_grant, 0);
        assert!(greedy.over_grant >= best.over_grant);
        // Forbidding a/x leaves a/y, with its ten strangers.
        let (forced, _) = run(&all, &callers, 4, &["a/x".to_string()]);
        assert_eq!(forced.unwrap().over_grant, 10);
        // No room at all and every group forbidden: no cover.
        let (none, _) = run(&all, &callers, 0, &["a".into(), "a/x".into(), "a/y".into()]);
        assert_eq!(none, None);
    }

    fn org() -> impl Strategy<Value = (Vec<String>, Vec<String>, usize)> {
        // Up to 3 levels of groups under two top-level groups, 1..60 projects.
        let path = (0..2u8, 0..3u8, 0..3u8, 0..6u8, any::<bool>()).prop_map(|(a, b, c, d, deep)| {
            if deep { format!("t{a}/g{b}/s{c}/p{d}") } else { format!("t{a}/g{b}/p{c}{d}") }
        });
        (proptest::collection::btree_set(path, 1..60), any::<u64>(), 1..30usize).prop_map(|(all, seed, max)| {
            let all: Vec<String> = all.into_iter().collect();
            let callers: Vec<String> =
                all.iter().enumerate().filter(|(i, _)| (seed >> (i % 64)) & 1 == 1).map(|(_, p)| p.clone()).collect();
            (all, callers, max)
        })
    }

    proptest! {
        #[test]
        fn covers_every_caller_within_limits_and_never_worse_than_greedy((all, callers, max) in org()) {
            let (best, greedy) = run(&all, &callers, max, &[]);
            let best = best.expect("top-level groups can always cover");
            for c in &callers {
                prop_assert!(covers(&best.groups, &best.projects, c), "{c} not covered");
            }
            prop_assert!(best.projects.len() <= max);
            prop_assert!(best.groups.len() <= MAX_GROUP_ENTRIES);
            prop_assert!(best.over_grant <= greedy.over_grant, "{} > greedy {}", best.over_grant, greedy.over_grant);
            // The over-grant is what the chosen groups admit besides callers.
            let admitted: BTreeSet<&String> = all.iter()
                .filter(|p| best.groups.iter().any(|g| p.starts_with(&format!("{g}/"))))
                .filter(|p| !callers.contains(p))
                .collect();
            prop_assert_eq!(admitted.len(), best.over_grant);
        }
    }
}
