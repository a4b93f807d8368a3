//! A staged enforcement plan (`tokenscope rollout`): which projects can switch their allowlist on now
//! (wave 0), which after the plan's additions (wave 1), and which a human must look at first (blocked);
//! what to watch after each wave, and what an instance-wide switch would break today and after each wave.
//! `status` compares a newer snapshot with the one the rollout was made from.

use super::{Action, Change, Plan};
use crate::engine::{Audit, EdgeStatus};
use crate::snapshot::manifest::Data;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Watch {
    pub(crate) callee: String,
    pub(crate) caller: String,
    pub(crate) job: String,
    /// The kinds of pipeline the job runs in: none of them frequent.
    pub(crate) runs: Vec<&'static str>,
    pub(crate) file: String,
    pub(crate) line: u32,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Wave {
    pub(crate) wave: usize,
    pub(crate) projects: Vec<String>,
    /// The plan's changes for these projects: entries first, enforcement last.
    pub(crate) changes: Vec<Change>,
    /// Callers whose only evidence is in jobs that run rarely (schedules, tags, releases): where a
    /// breakage would show late.
    pub(crate) watch: Vec<Watch>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Blocked {
    pub(crate) project: String,
    pub(crate) reasons: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Breakage {
    pub(crate) projects: usize,
    pub(crate) edges: usize,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct InstanceSwitch {
    pub(crate) now: Breakage,
    pub(crate) after_waves: Vec<Breakage>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Rollout {
    pub(crate) version: u32,
    pub(crate) waves: Vec<Wave>,
    pub(crate) blocked: Vec<Blocked>,
    pub(crate) instance_switch: InstanceSwitch,
}

/// The rollout of `audit`'s org, from `plan` (made of the same audit).
pub(crate) fn rollout(audit: &Audit, plan: &Plan) -> Rollout {
    let snap = audit.snap;
    let instance_enforces = snap.manifest.instance.enforce_allowlist;
    let mut by_project: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        by_project.entry(c.project.as_str()).or_default().push(c);
    }
    let enables: BTreeSet<&str> =
        plan.changes.iter().filter(|c| c.action == Action::Enable).map(|c| c.project.as_str()).collect();
    let uncertain = audit.not_fully_seen();
    let mut waves: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
    let mut blocked = Vec::new();
    for (path, p) in &snap.manifest.projects {
        if p.archived || p.job_token.inbound_enabled || instance_enforces {
            continue; // enforces already (or runs nothing)
        }
        if enables.contains(path.as_str()) {
            let adds = by_project
                .get(path.as_str())
                .is_some_and(|cs| cs.iter().any(|c| matches!(c.action, Action::Add | Action::Update)));
            waves[usize::from(adds)].push(path);
            continue;
        }
        let mut reasons = Vec::new();
        if !p.knows(Data::JobToken) {
            reasons.push(format!("the job-token settings of `{path}` could not be read"));
        }
        if !p.knows(Data::AuthLog) {
            reasons.push(format!(
                "the authentication log of `{path}` could not be read: confirm that no project outside the snapshot uses the job token against it"
            ));
        }
        for c in uncertain.iter().filter(|c| **c != path.as_str()).take(5) {
            let unresolved = audit
                .accesses
                .iter()
                .find(|a| a.caller == *c && matches!(a.target, crate::detect::Target::Unresolved(_)));
            let why = match (audit.unseen(c).first(), unresolved) {
                (Some((job, u)), _) => format!("job `{job}` {}", u.why),
                (None, Some(a)) => format!(
                    "job `{}` makes a job-token access whose target cannot be resolved ({}:{}: {})",
                    a.job,
                    crate::text::clean(&snap.sources.get(a.span.file).display),
                    a.span.line,
                    crate::text::clip(&a.detail, 100)
                ),
                (None, None) => "its configuration failed to load".to_string(),
            };
            reasons.push(format!("confirm that `{c}` does not use the job token against `{path}`: {why}"));
        }
        if uncertain.len() > 5 {
            reasons.push(format!("and {} more project(s) that could not be fully read", uncertain.len() - 5));
        }
        if reasons.is_empty() {
            reasons.push(
                "a caller's access cannot be covered by an entry (see `tokenscope plan`'s unresolved list)".into(),
            );
        }
        blocked.push(Blocked { project: path.clone(), reasons });
    }
    // Pilots first: not critical, few callers, callers the authentication log confirms, then by path.
    let mut logged: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &snap.manifest.auth_log {
        logged.entry(r.accessed.as_str()).or_default().insert(r.origin.as_str());
    }
    let key = |p: &&str| {
        let callers: BTreeSet<&str> =
            audit.edges_into(p).filter(|e| e.status != EdgeStatus::SelfAccess).map(|e| e.caller.as_str()).collect();
        let confirmed = callers.iter().filter(|c| logged.get(*p).is_some_and(|l| l.contains(*c))).count();
        let critical = snap.manifest.projects.get(*p).is_some_and(|x| x.critical);
        (critical, callers.len(), callers.len() - confirmed, p.to_string())
    };
    let mut out_waves = Vec::new();
    for (n, projects) in waves.iter_mut().enumerate() {
        projects.sort_by_cached_key(key);
        let mut changes: Vec<Change> = Vec::new();
        for p in projects.iter() {
            let mut mine: Vec<Change> = by_project.get(p).into_iter().flatten().map(|c| (*c).clone()).collect();
            mine.sort_by_key(|c| c.action);
            changes.extend(mine);
        }
        let watch = projects.iter().flat_map(|p| watch(audit, p)).collect();
        out_waves.push(Wave { wave: n, projects: projects.iter().map(|p| p.to_string()).collect(), changes, watch });
    }
    // An instance-wide switch breaks every edge that works only because its callee does not enforce.
    let breaking = |done: &BTreeSet<&str>| {
        let edges: Vec<&crate::engine::Edge> = audit
            .edges
            .iter()
            .filter(|e| e.status == EdgeStatus::Unenforced && !done.contains(e.callee.as_str()))
            .collect();
        let projects: BTreeSet<&str> = edges.iter().map(|e| e.callee.as_str()).collect();
        Breakage { projects: projects.len(), edges: edges.len() }
    };
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let now = breaking(&done);
    let mut after_waves = Vec::new();
    for w in &waves {
        done.extend(w.iter().copied());
        after_waves.push(breaking(&done));
    }
    Rollout { version: super::VERSION, waves: out_waves, blocked, instance_switch: InstanceSwitch { now, after_waves } }
}

/// The callers of `callee` whose every access to it is in jobs that run only rarely.
fn watch(audit: &Audit, callee: &str) -> Vec<Watch> {
    let mut out = Vec::new();
    for e in audit.edges_into(callee).filter(|e| e.status != EdgeStatus::SelfAccess) {
        let accesses: Vec<&crate::detect::Access> = e.accesses.iter().map(|&i| &audit.accesses[i]).collect();
        if accesses.is_empty() || !accesses.iter().all(|a| a.runs.only_rarely()) {
            continue;
        }
        let a = accesses[0];
        out.push(Watch {
            callee: callee.to_string(),
            caller: e.caller.clone(),
            job: a.job.clone(),
            runs: a.runs.names(),
            file: crate::text::clean(&audit.snap.sources.get(a.span.file).display).into_owned(),
            line: a.span.line,
        });
    }
    out
}

/// How a newer snapshot stands against the rollout made from an older one.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Status {
    pub(crate) version: u32,
    /// Per wave: done (every project enforces and has the wave's entries), and what is left.
    pub(crate) waves: Vec<WaveStatus>,
    /// Authentication-log records of the newer snapshot whose origin no allowlist entry covers yet.
    pub(crate) new_callers: Vec<NewCaller>,
    /// What got worse: projects that stopped enforcing, job-token edges that are now denied.
    pub(crate) regressions: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct WaveStatus {
    pub(crate) wave: usize,
    pub(crate) done: bool,
    pub(crate) pending: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct NewCaller {
    pub(crate) project: String,
    pub(crate) caller: String,
    pub(crate) last_authorized_at: Option<String>,
}

/// The status of `old_rollout` (made from `old`) in the newer audit `new`.
pub(crate) fn status(old: &Audit, old_rollout: &Rollout, new: &Audit) -> Status {
    let projects = &new.snap.manifest.projects;
    let enforces = |p: &str| {
        new.snap.manifest.instance.enforce_allowlist || projects.get(p).is_some_and(|x| x.job_token.inbound_enabled)
    };
    let has_entry = |p: &str, t: &super::TargetRef| {
        projects.get(p).is_some_and(|x| x.job_token.allowlist.iter().any(|e| super::TargetRef::of(e) == *t))
    };
    let mut waves = Vec::new();
    for w in &old_rollout.waves {
        let mut pending = Vec::new();
        for c in &w.changes {
            let ok = match (&c.action, &c.target) {
                (Action::Enable, _) => enforces(&c.project),
                (Action::Add | Action::Update, Some(t)) => has_entry(&c.project, t),
                (Action::Remove, Some(t)) => !has_entry(&c.project, t),
                _ => true,
            };
            if !ok {
                let what = c.target.as_ref().map_or("enforcement".to_string(), |t| t.describe());
                pending.push(format!("{}: {} {what}", c.project, c.action.sign()));
            }
        }
        waves.push(WaveStatus { wave: w.wave, done: pending.is_empty(), pending });
    }
    let old_log: BTreeSet<(&str, &str)> =
        old.snap.manifest.auth_log.iter().map(|r| (r.accessed.as_str(), r.origin.as_str())).collect();
    let mut new_callers = Vec::new();
    for r in &new.snap.manifest.auth_log {
        let Some(p) = projects.get(&r.accessed) else { continue };
        if r.origin == r.accessed || old_log.contains(&(r.accessed.as_str(), r.origin.as_str())) {
            continue;
        }
        if crate::engine::coverage::nearest_entry(p, &r.origin).is_none() {
            new_callers.push(NewCaller {
                project: r.accessed.clone(),
                caller: r.origin.clone(),
                last_authorized_at: r.last_authorized_at.clone(),
            });
        }
    }
    let mut regressions = Vec::new();
    for (path, p) in &old.snap.manifest.projects {
        if p.job_token.inbound_enabled && projects.get(path).is_some_and(|n| !n.job_token.inbound_enabled) {
            regressions.push(format!("`{path}` no longer enforces its allowlist"));
        }
    }
    let was_missing: BTreeSet<(&str, &str)> = old
        .edges
        .iter()
        .filter(|e| e.status == EdgeStatus::Missing)
        .map(|e| (e.caller.as_str(), e.callee.as_str()))
        .collect();
    for e in new.edges.iter().filter(|e| e.status == EdgeStatus::Missing) {
        if !was_missing.contains(&(e.caller.as_str(), e.callee.as_str())) {
            regressions.push(format!("`{}` is now denied against `{}` ({})", e.caller, e.callee, e.kind_list()));
        }
    }
    Status { version: super::VERSION, waves, new_callers, regressions }
}
