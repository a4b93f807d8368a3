//! One file per command.

pub(crate) mod apply;
pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod explain;
pub(crate) mod graph;
pub(crate) mod jobs;
pub(crate) mod lint;
pub(crate) mod plan;
pub(crate) mod rollout;
pub(crate) mod rules;
pub(crate) mod snapshot;
