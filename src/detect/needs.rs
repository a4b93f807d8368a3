//! `needs: - project:`: the runner downloads another project's job artifacts with the job token.

use super::script::Script;
use super::{Access, Confidence, Ctx, Kind, Reason, Target};
use crate::ci::jobs::Job;

/// needs: see the module's documentation.
pub(crate) struct Needs;

impl super::Detector for Needs {
    fn triggers(&self) -> super::Triggers {
        // The runner fetches `needs: project:` artifacts whatever the scripts hold.
        super::Triggers::default()
    }

    fn detect(&self, ctx: &Ctx, job: &Job, script: &Script, out: &mut Vec<Access>) {
        let _ = script;
        detect(ctx, job, out)
    }
}

pub(crate) fn detect(ctx: &Ctx, job: &Job, out: &mut Vec<Access>) {
    for n in &job.needs {
        let Some(project) = &n.project else { continue };
        if !n.artifacts {
            continue; // without artifacts nothing is downloaded
        }
        let expanded = job.vars.expand(project);
        let target = if expanded.contains('$') || expanded.is_empty() {
            Target::unresolved(project.as_str(), Reason::Variable)
        } else {
            Target::Project(expanded.trim_matches('/').to_string())
        };
        let job_name = n.job.as_deref().unwrap_or("?");
        out.push(ctx.access(
            job,
            target,
            Kind::NeedsProject,
            false,
            Confidence::High,
            n.span,
            format!("needs artifacts of job `{job_name}`"),
        ));
    }
}
