//! Diagnostics and findings rendered with miette: the message, the file:line:column, a snippet of the source.

use crate::diag::{Diagnostic, Severity};
use crate::redact::{mask, redact};
use crate::source::{SourceMap, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report};
use std::io::IsTerminal;

/// Whether to colour output: a terminal, and no `NO_COLOR`.
pub fn use_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// What miette draws for one problem.
pub struct Parts<'a> {
    pub severity: Severity,
    pub code: Option<&'a str>,
    pub message: &'a str,
    pub span: Option<Span>,
    /// Shown before the message when there is no span (a file that could not be read).
    pub file: Option<&'a str>,
    pub help: Option<&'a str>,
}

pub fn render_parts(p: &Parts, sources: &SourceMap, color: bool) -> String {
    let sev = match p.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    };
    let mut md = MietteDiagnostic::new(redact(p.message).into_owned()).with_severity(sev);
    if let Some(code) = p.code {
        md = md.with_code(code);
    }
    if let Some(h) = p.help {
        md = md.with_help(redact(h).into_owned());
    }
    let report = match p.span {
        Some(span) => {
            let file = sources.get(span.file);
            md = md.with_label(LabeledSpan::new(None, span.start as usize, (span.end - span.start) as usize));
            Report::new(md).with_source_code(NamedSource::new(file.display.clone(), mask(&file.text).into_owned()))
        }
        None => {
            if let Some(f) = p.file {
                md.message = format!("{f}: {}", md.message);
            }
            Report::new(md)
        }
    };
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(110).with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{}: {}\n", p.severity.as_str(), redact(p.message));
    }
    out
}

/// A load diagnostic as miette draws it.
pub fn render(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    render_parts(
        &Parts {
            severity: d.severity,
            code: None,
            message: &d.message,
            span: d.span,
            file: d.file.as_deref(),
            help: d.help.as_deref(),
        },
        sources,
        color,
    )
}
