//! `--format junit`: JUnit XML (`artifacts:reports:junit`), for the merge request's test widget.

use super::Report;
use crate::finding::Finding;
use std::fmt::Write;

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JUnit (`artifacts:reports:junit`): one test case per rule and project, failing with the rule's findings.
pub(crate) fn render(report: &Report) -> String {
    let (audit, findings) = (report.audit, &report.findings);
    let projects: Vec<&str> = audit.pipelines.iter().map(|p| p.project.as_str()).collect();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tokenscope\">\n");
    for m in crate::rules::metas() {
        let id = m.id;
        let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule == id).collect();
        let failing: std::collections::BTreeSet<&str> = of_rule.iter().map(|f| f.project.as_str()).collect();
        let _ = writeln!(o, "  <testsuite name=\"{id}\" tests=\"{}\" failures=\"{}\">", projects.len(), failing.len());
        let suppressed = report.suppressed.iter().filter(|x| x.finding.rule == id).count();
        let _ = writeln!(
            o,
            "    <properties>\n      <property name=\"suppressed\" value=\"{suppressed}\"/>\n    </properties>"
        );
        for p in &projects {
            let here: Vec<&&Finding> = of_rule.iter().filter(|f| f.project == *p).collect();
            if here.is_empty() {
                let _ = writeln!(o, "    <testcase classname=\"{id}\" name=\"{}\"/>", xml(p));
                continue;
            }
            let _ = writeln!(o, "    <testcase classname=\"{id}\" name=\"{}\">", xml(p));
            for f in here {
                let loc = f.location(&audit.snap.sources).map(|l| l.to_string()).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    f.severity.as_str(),
                    xml(&f.message),
                    xml(&format!("{loc}\n{}", f.help.as_deref().unwrap_or_default()))
                );
            }
            o.push_str("    </testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}
