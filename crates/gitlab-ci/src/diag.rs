//! Problems found while loading input: one value type, rendered by `report`.
//!
//! Loading never stops at the first problem: each stage returns what it could build plus a list of
//! diagnostics, so one broken project does not hide the rest of the org.

use crate::source::{SourceMap, Span};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Where in a file, when the problem has a place.
    pub span: Option<Span>,
    /// The file, when the problem has no span (a file that could not be read at all).
    pub file: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, message: message.into(), span: None, file: None, help: None }
    }
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message) }
    }
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column` (or just the file) of the problem.
    pub fn location(&self, sources: &SourceMap) -> Option<Location> {
        if let Some(span) = self.span {
            return Some(Location::of(sources, span));
        }
        self.file.as_ref().map(|f| Location { file: f.clone(), line: None, column: None })
    }

    /// One line: `file:line:col: error: message`.
    pub fn one_line(&self, sources: &SourceMap) -> String {
        match self.location(sources) {
            Some(l) => format!("{l}: {}: {}", self.severity.as_str(), self.message),
            None => format!("{}: {}", self.severity.as_str(), self.message),
        }
    }
}

/// A concrete place in a file, as shown to users and written to JSON.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Location {
    pub fn of(sources: &SourceMap, span: Span) -> Self {
        Location { file: sources.get(span.file).display.clone(), line: Some(span.line), column: Some(span.col) }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        Ok(())
    }
}
