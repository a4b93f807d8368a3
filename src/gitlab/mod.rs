//! Live mode: read a GitLab instance over its API and write a snapshot (`tokenscope snapshot`, and
//! `tokenscope audit --url`). `client` speaks HTTP (retries, pacing, pagination, a redacted token); `fetch`
//! decides what to read and writes it with `snapshot::write`; `graphql` reads a group a page of projects
//! per request, with REST for what a page cannot say.

pub(crate) mod api;
pub(crate) mod client;
pub(crate) mod fetch;
pub(crate) mod graphql;
