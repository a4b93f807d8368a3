//! `tokenscope rollout`: the staged enforcement plan made from the audit and `tokenscope plan` (waves,
//! what to watch, the instance-wide switch), and `rollout status` against a newer snapshot.

use crate::cli::args::{PlanFormat, RolloutArgs, RolloutCommand, RolloutStatusArgs};
use crate::cli::commands::plan::{finish, with_plan, with_snapshot};
use crate::cli::error::Error;
use crate::cli::output;
use crate::cli::terminal::Terminal;
use crate::policy::Exit;
use crate::remediate::{Plan, render, rollout};

pub(crate) fn run(args: RolloutArgs, term: &Terminal) -> Result<Exit, Error> {
    if let Some(RolloutCommand::Status(s)) = &args.command {
        return status(s, term);
    }
    with_snapshot(term, args.snapshot.as_deref(), &args.live, |dir| {
        with_plan(term, dir, &args.inputs, |snap, audit, plan| {
            let r = rollout::rollout(audit, &plan);
            let text = match (args.wave, args.format) {
                (Some(n), _) => {
                    let wave =
                        r.waves.get(n).ok_or_else(|| Error::usage(format!("there is no wave {n} (waves 0 and 1)")))?;
                    render::json(&wave_plan(&plan, wave))
                }
                (None, PlanFormat::Json) => render::json_value(&r),
                (None, PlanFormat::Markdown) => {
                    crate::text::clean(&render::rollout_markdown(&r, &plan.instance)).into_owned()
                }
                (None, PlanFormat::Human) => {
                    crate::text::clean(&render::rollout_human(&r, &plan.instance)).into_owned()
                }
            };
            match &args.output {
                Some(file) => output::write_file(snap, file, text.as_bytes())?,
                None => term.stdout(&text)?,
            }
            Ok(finish(term, audit))
        })
    })
}

/// The plan of one wave: its changes, and the basis of its projects (what `apply` checks for drift).
fn wave_plan(plan: &Plan, wave: &rollout::Wave) -> Plan {
    Plan {
        changes: wave.changes.clone(),
        basis: plan.basis.iter().filter(|b| wave.projects.contains(&b.project)).cloned().collect(),
        kept: Vec::new(),
        unresolved: Vec::new(),
        compaction: Vec::new(),
        advice: Vec::new(),
        ..plan.clone()
    }
}

fn status(args: &RolloutStatusArgs, term: &Terminal) -> Result<Exit, Error> {
    with_plan(term, &args.since, &args.inputs, |_, old, old_plan| {
        let planned = rollout::rollout(old, &old_plan);
        with_plan(term, &args.snapshot, &args.inputs, |_, new, _| {
            let s = rollout::status(old, &planned, new);
            let text = match args.format {
                PlanFormat::Json => render::json_value(&s),
                _ => crate::text::clean(&render::status_human(&s)).into_owned(),
            };
            term.stdout(&text)?;
            let bad = !s.regressions.is_empty() || !s.new_callers.is_empty();
            Ok(if bad { Exit::Findings } else { finish(term, new) })
        })
    })
}
