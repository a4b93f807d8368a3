//! One file per command.

pub mod audit;
pub mod completions;
pub mod jobs;
pub mod lint;
pub mod rules;
pub mod snapshot;
