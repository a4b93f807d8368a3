//! Rendering: every format a command can print.

pub mod diagnostics;
pub mod jobs;
