//! What the commands that read a live GitLab share: the instance and token from flags and the environment,
//! the HTTP client, the runtime, and a fetch into a snapshot directory with progress on standard error.

use super::args::{ConnectionArgs, LiveArgs};
use super::error::Error;
use super::terminal::Terminal;
use crate::gitlab::client::{Client, Credential, Options, Secret};
use std::path::Path;

/// An environment variable that is set to something other than blanks.
pub(crate) fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The API token: `--token-file`, else `$GITLAB_TOKEN`, else `$CI_JOB_TOKEN` (said, with what it cannot read);
/// `None` without any.
pub(crate) fn credential(term: &Terminal, token_file: Option<&Path>) -> Result<Option<Credential>, Error> {
    if let Some(f) = token_file {
        return match std::fs::read_to_string(f) {
            Ok(t) if !t.trim().is_empty() => Ok(Some(Credential::Private(Secret::new(t)))),
            Ok(_) => Err(Error::usage(format!("{} is empty", f.display()))),
            Err(e) => Err(Error::Io { what: format!("read {}", f.display()), source: e }),
        };
    }
    Ok(match (env_value("GITLAB_TOKEN"), env_value("CI_JOB_TOKEN")) {
        (Some(t), _) => Some(Credential::Private(Secret::new(t))),
        (None, Some(t)) => {
            term.info(&format!("note: using CI_JOB_TOKEN: {}", crate::gitlab::fetch::JOB_TOKEN_LIMITS));
            Some(Credential::Job(Secret::new(t)))
        }
        (None, None) => None,
    })
}

/// The client for `url` with the connection settings of `live`.
pub(crate) fn client(url: &str, credential: Credential, live: &ConnectionArgs) -> Result<Client, Error> {
    let opts = Options {
        url: url.to_string(),
        credential,
        concurrency: live.concurrency as usize,
        max_rps: live.max_rps.or(live.max_rpm.map(|m| m / 60.0)).or_else(|| {
            // GitLab.com allows 2,000 requests a minute per user: keep to half of it.
            (crate::snapshot::manifest::url_host(url).as_deref() == Some("gitlab.com")).then_some(1000.0 / 60.0)
        }),
        timeout: std::time::Duration::from_secs(live.timeout.max(1)),
        retries: live.retries,
        backoff: std::time::Duration::from_millis(live.retry_delay_ms),
        ca_cert: live.ca_cert.clone(),
        max_list_rows: live.max_list_rows,
        max_requests: live.max_requests,
    };
    Client::new(&opts).map_err(Error::live)
}

/// The runtime the client runs on: one thread, since the work is waiting on the network.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io { what: "start the HTTP runtime".into(), source: e })
}

/// Fetch a live snapshot into `out`, with progress and a summary on standard error.
pub(crate) fn fetch(
    term: &Terminal,
    live: &LiveArgs,
    out: &Path,
    since: Option<&Path>,
    shard: Option<(usize, usize)>,
) -> Result<crate::gitlab::fetch::Outcome, Error> {
    use crate::gitlab::fetch;
    let Some(url) = live.url.clone().or_else(|| env_value("CI_SERVER_URL")) else {
        return Err(Error::usage("which GitLab? pass --url (in GitLab CI, CI_SERVER_URL is used)"));
    };
    if live.groups.is_empty() && live.projects.is_empty() {
        return Err(Error::usage("what to read? pass --group PATH or --project PATH"));
    }
    let credential = credential(term, live.token_file.as_deref())?.unwrap_or_else(|| {
        term.say("warning: no token (GITLAB_TOKEN, --token-file or CI_JOB_TOKEN): only public data can be read");
        Credential::Anonymous
    });
    let mut client = client(&url, credential, &live.connection)?;
    let bar = term.progress(&url);
    let ticker = bar.clone();
    client.on_request(move || ticker.inc(1));
    // Projects listed, of how many, and when the listing should end at this pace.
    let lister = bar.clone();
    let started = std::time::Instant::now();
    let host = crate::text::clean(&url).into_owned();
    client.on_projects(move |listed, total| {
        let eta = match total {
            Some(t) if listed > 0 && t > listed => {
                let left = started.elapsed().as_secs_f64() * (t - listed) as f64 / listed as f64;
                format!(", listing done in about {left:.0} s")
            }
            _ => String::new(),
        };
        let of = total.map_or(String::new(), |t| format!("/{t}"));
        lister.set_message(format!("{host}: {listed}{of} projects listed{eta}"));
    });
    let scope = fetch::Scope { groups: live.groups.clone(), projects: live.projects.clone(), api: live.api, shard };
    let result = runtime()?.block_on(super::collect::snapshot(&client, &url, &scope, out, since));
    bar.finish_and_clear();
    let outcome = result.map_err(Error::live)?;
    for w in &outcome.warnings {
        term.say(&format!("warning: {}", crate::text::clean(w)));
    }
    term.info(&format!("fetched {}", fetch::describe(&outcome)));
    Ok(outcome)
}
