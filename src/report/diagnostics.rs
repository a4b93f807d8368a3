//! Diagnostics and findings rendered with miette: the message, the file:line:column, a snippet of the source.

use crate::diag::{Diagnostic, Severity};
use crate::source::{SourceFile, SourceMap, Span};
use crate::text::clean;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError, MietteSpanContents, Report,
    SourceCode, SourceSpan, SpanContents,
};
use std::sync::Arc;

/// A file as miette reads it: the context window around a span is found with the file's line index
/// instead of a scan from the start, so rendering many findings in a large file stays linear; tokens are
/// masked.
struct FileSource(Arc<SourceFile>);

impl SourceCode for FileSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let f: &'a SourceFile = &self.0;
        let text: &'a str = f.shown(|t| crate::text::mask(t).into_owned());
        let (offset, len) = (span.offset(), span.len());
        if offset + len > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = f.line_index(offset as u32);
        let last = f.line_index((offset + len.saturating_sub(1)).max(offset) as u32);
        let window_first = first.saturating_sub(before);
        let window_last = (last + after).min(f.line_total().saturating_sub(1));
        let start = if before == 0 { offset } else { f.line_start(window_first) as usize };
        let end = (f.line_start(window_last + 1) as usize).min(text.len()).max(offset + len);
        let column = if before == 0 { text[f.line_start(first) as usize..offset].chars().count() } else { 0 };
        Ok(Box::new(MietteSpanContents::new_named(
            crate::text::clean_line(&f.display).into_owned(),
            &text.as_bytes()[start..end],
            (start, end - start).into(),
            window_first,
            column,
            window_last + 1,
        )))
    }
}

/// What miette draws for one problem.
pub(crate) struct Parts<'a> {
    pub(crate) severity: Severity,
    pub(crate) code: Option<&'a str>,
    pub(crate) message: &'a str,
    pub(crate) span: Option<Span>,
    /// Shown before the message when there is no span (a file that could not be read).
    pub(crate) file: Option<&'a str>,
    pub(crate) help: Option<&'a str>,
}

/// Lines longer than this (a minified file, one enormous flow mapping) are not drawn: miette pads and
/// underlines by column, and past 65,535 columns it panics. The problem is then given as `file:line:column`
/// with no snippet.
const MAX_SNIPPET_LINE: usize = 2_000;

pub(crate) fn render_parts(p: &Parts, sources: &SourceMap, color: bool) -> String {
    let sev = match p.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    };
    let mut md = MietteDiagnostic::new(clean(p.message).into_owned()).with_severity(sev);
    if let Some(code) = p.code {
        md = md.with_code(code);
    }
    if let Some(h) = p.help {
        md = md.with_help(clean(h).into_owned());
    }
    let at_long_line = |span: Span| {
        let file = sources.get(span.file);
        let text = file.line_text(span.line);
        (text.len() > MAX_SNIPPET_LINE || span.col as usize > MAX_SNIPPET_LINE)
            .then(|| format!("{}:{}:{}", crate::text::clean_line(&file.display), span.line, span.col))
    };
    let long = p.span.and_then(at_long_line);
    // The lines around the finding are drawn too: one longer than the cap (a minified line next to it) would
    // print megabytes into a job log, so the snippet then shows the finding's line alone.
    let context = match p.span {
        Some(span) => {
            let file = sources.get(span.file);
            let wide = |l: u32| l > 0 && file.line_text(l).len() > MAX_SNIPPET_LINE;
            if wide(span.line.saturating_sub(1)) || wide(span.line + 1) { 0 } else { 1 }
        }
        None => 1,
    };
    let report = match p.span.filter(|_| long.is_none()) {
        Some(mut span) => {
            // A span over many lines (a whole block) is drawn at its first line: drawing it all would print
            // the block.
            let file = sources.get(span.file);
            let first_line_end = file.line_start(span.line as usize).saturating_sub(1).max(span.start + 1);
            span.end = span.end.min(first_line_end);
            let file = sources.get(span.file);
            md = md.with_label(LabeledSpan::new(None, span.start as usize, (span.end - span.start) as usize));
            Report::new(md).with_source_code(FileSource(file))
        }
        None => {
            if let Some(f) = long.as_deref().or(p.file) {
                md.message = format!("{}: {}", clean(f), md.message);
            }
            Report::new(md)
        }
    };
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(110).with_context_lines(context);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{}: {}\n", p.severity.as_str(), clean(p.message));
    }
    out
}

/// A load diagnostic as miette draws it.
pub(crate) fn render(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
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
