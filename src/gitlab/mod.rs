//! Live mode: read a GitLab instance over its API and write a snapshot (`tokenscope snapshot`, and
//! `tokenscope audit --url`). `client` speaks HTTP (retries, pacing, pagination, a redacted token); `fetch`
//! decides what to read and writes it with `snapshot::write`.

pub(crate) mod api;
pub(crate) mod client;
pub(crate) mod fetch;
