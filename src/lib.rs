//! tokenscope: audit GitLab CI/CD job-token allowlists.
//!
//! The flow, one module per stage:
//!
//! ```text
//! snapshot (manifest, confined repository files)          <- gitlab (live client writes snapshots)
//!   -> ci (GitLab CI resolved with provenance: includes, extends, !reference, variables, jobs)
//!   -> detect (each job's job-token accesses, one detector per way of spending the token)
//!   -> engine (the caller -> callee graph, each edge diffed against the callee's allowlist)
//!   -> rules (one module per rule, each producing findings with `finding`'s builder)
//!   -> policy (the one place findings are switched, remapped, ignored, and the exit code decided)
//!   -> report (one model, one renderer per format)
//! ```
//!
//! `ci` is the `gitlab-ci` crate (crates/gitlab-ci) applied to a snapshot; that crate also gives the
//! shared vocabulary re-exported here: `source` (files with spans), `yaml` (YAML with spans) and `diag`
//! (problems found while loading). `cli` is the command line: one file per command, wiring the stages.
//! `text` cleans what leaves tokenscope (tokens redacted, control characters escaped). See
//! docs/architecture.md.

pub mod ci;
pub mod cli;
pub(crate) mod date;
pub mod detect;
pub(crate) mod engine;
pub(crate) mod explain;
pub(crate) mod finding;
pub(crate) mod gitlab;
pub(crate) mod policy;
pub(crate) mod remediate;
pub mod report;
pub mod rules;
pub mod snapshot;
pub(crate) mod text;

pub use gitlab_ci::{diag, source, yaml};
