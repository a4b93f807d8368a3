//! GitLab's coverage rules for the inbound allowlist.
//!
//! Caller C may use its job token against project P when C is P; or P's effective enforcement is off; or
//! P's allowlist has a project entry for C; or a group entry for any ancestor group of C, at any depth.
//! Effective enforcement is P's `inbound_enabled` or the instance's `enforce_allowlist`. For fine-grained
//! permissions the nearest entry decides: the project entry, else the closest ancestor group entry.

use super::EdgeStatus;
use crate::detect::Target;
use crate::snapshot::manifest::{Data, Permission};
use crate::snapshot::{AllowEntry, EntryKind, Project, Snapshot};
use std::collections::BTreeSet;

/// Whether P's allowlist is enforced.
pub(crate) fn enforced(snap: &Snapshot, p: &Project) -> bool {
    p.job_token.inbound_enabled || snap.manifest.instance.enforce_allowlist
}

/// Whether an entry lets `caller` in.
pub(crate) fn covers(entry: &AllowEntry, caller: &str) -> bool {
    match entry.kind {
        EntryKind::Project => entry.path == caller,
        EntryKind::Group => {
            caller.len() > entry.path.len()
                && caller.starts_with(&entry.path)
                && caller.as_bytes()[entry.path.len()] == b'/'
        }
    }
}

/// The entry that decides for `caller`: its project entry, else the closest ancestor group entry.
pub(crate) fn nearest_entry(p: &Project, caller: &str) -> Option<usize> {
    let list = &p.job_token.allowlist;
    if let Some(i) = list.iter().position(|e| e.kind == EntryKind::Project && e.path == caller) {
        return Some(i);
    }
    list.iter()
        .enumerate()
        .filter(|(_, e)| e.kind == EntryKind::Group && covers(e, caller))
        .max_by_key(|(_, e)| e.path.len())
        .map(|(i, _)| i)
}

/// Status of a token edge caller -> callee, the entry that decides, and the permissions `needed` that the
/// deciding entry's fine-grained permissions lack (the access then fails: "Insufficient permissions").
pub(crate) fn status(
    snap: &Snapshot,
    caller: &str,
    callee: &str,
    target: Option<&Target>,
    needed: &BTreeSet<Permission>,
) -> (EdgeStatus, Option<usize>, Vec<Permission>) {
    match target {
        Some(Target::Unresolved(_)) => return (EdgeStatus::Unresolved, None, vec![]),
        Some(Target::Foreign(_)) => return (EdgeStatus::External, None, vec![]),
        _ => {}
    }
    if caller == callee {
        return (EdgeStatus::SelfAccess, None, vec![]);
    }
    let Some(p) = snap.manifest.projects.get(callee) else {
        // A project of this instance outside the snapshot: outside the audited org; in a lint, one whose
        // settings were not read.
        let status = if snap.is_lint() { EdgeStatus::Unknown } else { EdgeStatus::External };
        return (status, None, vec![]);
    };
    if !p.knows(Data::JobToken) {
        // Could not read is not empty: nothing is concluded about this callee.
        return (EdgeStatus::Unknown, None, vec![]);
    }
    let enforced = enforced(snap, p);
    match nearest_entry(p, caller) {
        Some(i) => {
            let lacking: Vec<Permission> = match &p.job_token.allowlist[i].permissions {
                Some(granted) if enforced && p.knows(Data::Permissions) => {
                    needed.iter().copied().filter(|n| !granted.iter().any(|g| g == n)).collect()
                }
                _ => vec![],
            };
            let status = if lacking.is_empty() { EdgeStatus::Allowed } else { EdgeStatus::Missing };
            (status, Some(i), lacking)
        }
        None if !enforced => (EdgeStatus::Unenforced, None, vec![]),
        None => (EdgeStatus::Missing, None, vec![]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn entry(kind: EntryKind, path: &str) -> AllowEntry {
        AllowEntry { kind, path: path.into(), permissions: None, span: Span::default(), meta: Default::default() }
    }

    #[test]
    fn group_entries_cover_descendants_at_any_depth_only() {
        let g = entry(EntryKind::Group, "acme/tools");
        assert!(covers(&g, "acme/tools/cli"));
        assert!(covers(&g, "acme/tools/sub/deep/x"));
        assert!(!covers(&g, "acme/tools"));
        assert!(!covers(&g, "acme/toolsmith/x"));
        assert!(!covers(&g, "acme/other"));
        let p = entry(EntryKind::Project, "acme/api");
        assert!(covers(&p, "acme/api"));
        assert!(!covers(&p, "acme/api/sub"));
    }
}
