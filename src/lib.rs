//! tokenscope: audit GitLab CI/CD job-token allowlists.
//!
//! The flow, one module per stage: `snapshot` (manifest and repository files) -> `ci` (configuration
//! resolved with provenance) -> `report` (what users see). `cli` wires the stages together.

pub mod audit;
pub mod ci;
pub mod cli;
pub mod config;
pub mod detect;
pub mod diag;
pub mod finding;
pub mod gitlab;
pub mod graph;
pub mod lint;
pub mod redact;
pub mod report;
pub mod snapshot;
pub mod source;
pub mod suppress;
pub mod synth;
pub mod yaml;
