//! Diagnostics rendered with miette: the message, the file:line:column, and a snippet of the source.

use crate::diag::{Diagnostic, Severity};
use crate::redact::{mask, redact};
use crate::source::SourceMap;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report};
use std::io::IsTerminal;

/// Whether to colour output: a terminal, and no `NO_COLOR`.
pub fn use_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    GraphicalReportHandler::new_themed(theme).with_width(110).with_context_lines(1)
}

/// A diagnostic as miette draws it, with the source snippet when it has a span.
pub fn render(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let sev = match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    };
    let mut md = MietteDiagnostic::new(redact(&d.message).into_owned()).with_severity(sev);
    if let Some(h) = &d.help {
        md = md.with_help(redact(h).into_owned());
    }
    let report = match d.span {
        Some(span) => {
            let file = sources.get(span.file);
            let len = (span.end - span.start) as usize;
            md = md.with_label(LabeledSpan::new(None, span.start as usize, len));
            Report::new(md).with_source_code(NamedSource::new(file.display.clone(), mask(&file.text).into_owned()))
        }
        None => {
            if let Some(f) = &d.file {
                md.message = format!("{}: {}", f, md.message);
            }
            Report::new(md)
        }
    };
    let mut out = String::new();
    if handler(color).render_report(&mut out, report.as_ref()).is_err() {
        return d.one_line(sources);
    }
    out
}
