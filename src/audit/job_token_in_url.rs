//! `job-token-in-url`: the job token passed in a URL query string, where it lands in proxy and server logs.
//! (The `gitlab-ci-token:` userinfo form for git is the documented way, and is not flagged.)

use super::{Audit, RuleMeta, file_project};
use crate::diag::Severity;
use crate::finding::Finding;
use std::collections::BTreeSet;

pub static META: RuleMeta = RuleMeta {
    id: "job-token-in-url",
    severity: Severity::Warning,
    summary: "the job token is passed in a URL query string, where proxies and servers log it",
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, audit: &Audit, out: &mut Vec<Finding>) {
        let mut seen = BTreeSet::new();
        for a in &audit.accesses {
            let Some(param) = a.http.as_ref().and_then(|h| h.token_in_query.as_deref()) else { continue };
            if !seen.insert(a.span) {
                continue;
            }
            let project = file_project(audit, a.span, &a.caller);
            let message = format!(
                "job `{}` of `{}` puts the job token in the URL (`{param}=`): URLs are written to proxy and server access logs",
                a.job, a.caller
            );
            let help = "send it in a header instead: `--header \"JOB-TOKEN: $CI_JOB_TOKEN\"`";
            let key = format!("{}|{}|{param}", a.job, a.kind.name());
            out.push(
                Finding::new(
                    META.id,
                    META.severity,
                    &project,
                    Some(&a.caller),
                    None,
                    None,
                    &key,
                    message,
                    Some(a.span),
                )
                .with_help(help),
            );
        }
    }
}
