//! `--format junit`: JUnit XML (`artifacts:reports:junit`), for the merge request's test widget.
//!
//! One test suite per rule. Each finding is a failing test case of its own, named by the rule and what it
//! is about, with the file GitLab links to; each project the rule found nothing in is a passing test case.
//! `tests` and `failures` count those test cases (so the widget's numbers match what it lists), `errors`
//! is always present.

use super::Report;
use crate::finding::{Finding, Subject};
use std::fmt::Write;

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What a finding is about, for its test case's name.
fn subject(f: &Finding) -> String {
    match &f.subject {
        Subject::Edge { caller, callee, .. } => format!("{caller} -> {callee}"),
        Subject::Entry { project, entry } => format!("{project}: entry {entry}"),
        Subject::Settings { project } | Subject::Project { project } => project.clone(),
        Subject::Job { project, caller } if project == caller => project.clone(),
        Subject::Job { project, caller } => format!("{caller} (in {project})"),
    }
}

pub(crate) fn render(report: &Report) -> String {
    let (audit, findings) = (report.audit, &report.findings);
    let projects: Vec<&str> = audit.pipelines.iter().map(|p| p.project.as_str()).collect();
    let mut suites = String::new();
    let (mut all_tests, mut all_failures) = (0, 0);
    for m in crate::rules::metas() {
        let id = m.id;
        let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule == id).collect();
        let touched: std::collections::HashSet<&str> =
            of_rule.iter().flat_map(|f| [f.project.as_str(), f.caller().unwrap_or("")]).collect();
        let passing: Vec<&&str> = projects.iter().filter(|p| !touched.contains(**p)).collect();
        let (tests, failures) = (passing.len() + of_rule.len(), of_rule.len());
        all_tests += tests;
        all_failures += failures;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{id}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\">"
        );
        let suppressed = report.suppressed.iter().filter(|x| x.finding.rule == id).count();
        let _ = writeln!(
            suites,
            "    <properties>\n      <property name=\"suppressed\" value=\"{suppressed}\"/>\n    </properties>"
        );
        for f in &of_rule {
            let loc = f.location(&audit.snap.sources);
            // GitLab links a test case's `file` into the repository: the path in the checkout in lint, the
            // project's path then the file's in an org audit (the JUnit XSD has no `file` on a test case;
            // GitLab's parser reads it, see docs/output-formats.md).
            let file = f.span.map_or(String::new(), |s| format!(" file=\"{}\"", xml(&report.report_path(s))));
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{id}\" name=\"{}\"{file} time=\"0\">",
                xml(&format!("{id}: {}", subject(f)))
            );
            let where_ = loc.map(|l| l.to_string()).unwrap_or_default();
            let _ = writeln!(
                suites,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                f.severity.as_str(),
                xml(&f.message),
                xml(&format!("{where_}\n{}", f.help.as_deref().unwrap_or_default()))
            );
        }
        for p in passing {
            let _ = writeln!(suites, "    <testcase classname=\"{id}\" name=\"{}\" time=\"0\"/>", xml(p));
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tokenscope\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"0\">\n{suites}</testsuites>\n"
    )
}
