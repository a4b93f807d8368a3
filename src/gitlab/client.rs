//! A small GitLab API client: bounded concurrency, an optional request rate, retries with backoff that
//! honour `Retry-After`/`RateLimit-Reset`, pagination, and a token that never leaves its header.
//!
//! The token is sent in one header (`PRIVATE-TOKEN` or `JOB-TOKEN`) marked sensitive, so reqwest's debug
//! output redacts it; it is never part of a URL, an error or a log line. Pagination links are followed only
//! when they point back at the same API, so a server cannot send the token elsewhere.

use backon::{ExponentialBuilder, Retryable};
use serde_json::Value;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Largest JSON response read (a page of 100 projects is far below it).
const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;
/// Longest wait a server's `Retry-After` may impose before a retry.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// Pages followed for one listing at most (100 rows each).
const MAX_PAGES: usize = 10_000;

/// A secret that prints as `[REDACTED]`.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Secret {
        Secret(s.into().trim().to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// How the client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Credential {
    /// A personal, group or project access token (`PRIVATE-TOKEN`).
    Private(Secret),
    /// A CI/CD job token (`JOB-TOKEN`): it reads far less (see docs/live-mode.md).
    Job(Secret),
    /// No token: public data only.
    Anonymous,
}

#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) url: String,
    pub(crate) credential: Credential,
    pub(crate) concurrency: usize,
    pub(crate) max_rps: Option<f64>,
    pub(crate) timeout: Duration,
    /// Retries after the first try.
    pub(crate) retries: usize,
    /// First backoff delay (doubled on each retry, with jitter).
    pub(crate) backoff: Duration,
    /// PEM file with extra root certificates (a self-managed instance's CA).
    pub(crate) ca_cert: Option<std::path::PathBuf>,
    /// Rows one paginated listing may hold at most (see [`Client::get_all`]).
    pub(crate) max_list_rows: usize,
    /// Requests the run may send at most (`--max-requests`): past it, each request fails at once.
    pub(crate) max_requests: Option<usize>,
}

/// Bytes of response one paginated listing may read at most, whatever its rows: a server claiming 10,000
/// pages of 2 MiB stops here.
pub(crate) const MAX_LIST_BYTES: usize = 512 << 20;
/// Pages of a listing with a known total fetched at once.
const PAGES_PER_BATCH: usize = 32;

/// Why a request failed, after its last try. Never holds the token: the URL carries none.
#[derive(Clone, Debug)]
pub(crate) enum ApiError {
    /// The server answered with an error status.
    Status { path: String, status: u16, message: String, retry_after: Option<Duration> },
    /// No usable answer: connection error, timeout, truncated or invalid body.
    Transport { path: String, message: String },
    /// The answer is larger than the limit, or not what was asked for.
    Refused { path: String, message: String },
}

impl ApiError {
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 401 or 403: the token may not read this.
    pub(crate) fn is_denied(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    pub(crate) fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    fn retryable(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            ApiError::Transport { .. } => true,
            ApiError::Refused { .. } => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { path, status, message, .. } => {
                let reason = reqwest::StatusCode::from_u16(*status).ok().and_then(|s| s.canonical_reason());
                let head = format!("{status} {}", reason.unwrap_or(""));
                write!(f, "GET {path}: {head}")?;
                // GitLab's own message often repeats the status line ("403 Forbidden").
                let message = message.strip_prefix(head.trim()).unwrap_or(message).trim_start_matches("; ");
                if !message.is_empty() {
                    write!(f, " ({message})")?;
                }
                Ok(())
            }
            ApiError::Transport { path, message } | ApiError::Refused { path, message } => {
                write!(f, "GET {path}: {message}")
            }
        }
    }
}

/// A response body with the headers pagination needs.
struct Page {
    body: Vec<u8>,
    total_pages: Option<usize>,
    next_page: Option<usize>,
    next_link: Option<String>,
}

/// The progress callback of the listing: (listed so far, total the server announced).
type ProjectsListed = Box<dyn Fn(usize, Option<usize>) + Send + Sync>;

pub(crate) struct Client {
    http: reqwest::Client,
    /// `https://host/api/v4`.
    api: String,
    graphql: String,
    auth: Option<(&'static str, reqwest::header::HeaderValue)>,
    limit: tokio::sync::Semaphore,
    pace: Option<(Duration, Mutex<Instant>)>,
    retries: usize,
    backoff: Duration,
    requests: AtomicUsize,
    job_token: bool,
    /// Called after each request (the progress bar).
    on_request: Option<Box<dyn Fn() + Send + Sync>>,
    /// Called as projects are listed: (listed so far, total the server announced).
    on_projects: Option<ProjectsListed>,
    /// The token's bytes, masked in every response body before anything reads it: a server that repeats
    /// the token (in an error message, a GraphQL error) cannot make it reach a file or the terminal.
    secret: Option<Vec<u8>>,
    max_list_rows: usize,
    max_requests: Option<usize>,
    /// Whether a request was refused because the budget was spent.
    spent: std::sync::atomic::AtomicBool,
    /// No request before this instant: a server that said `RateLimit-Remaining: 0` asked for a pause until
    /// its `RateLimit-Reset`.
    hold: Mutex<Instant>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("api", &self.api).field("auth", &"[REDACTED]").finish()
    }
}

impl Client {
    pub(crate) fn new(opts: &Options) -> Result<Client, String> {
        let base = opts.url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!("`{base}` is not an http(s) URL"));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tokenscope/", env!("CARGO_PKG_VERSION")))
            // A redirect to another host would carry the token along: follow none.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &opts.ca_cert {
            let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{} holds no PEM certificate: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("{} holds no PEM certificate", path.display()));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| format!("cannot set up HTTPS: {e}"))?;
        let auth = match &opts.credential {
            Credential::Private(s) => Some(("PRIVATE-TOKEN", &s.0)),
            Credential::Job(s) => Some(("JOB-TOKEN", &s.0)),
            Credential::Anonymous => None,
        };
        let auth = match auth {
            None => None,
            Some((name, token)) => {
                let mut v = reqwest::header::HeaderValue::from_str(token)
                    .map_err(|_| "the token holds characters a header cannot carry".to_string())?;
                v.set_sensitive(true);
                Some((name, v))
            }
        };
        let pace = opts
            .max_rps
            .filter(|r| *r > 0.0)
            .map(|rps| (Duration::from_secs_f64(1.0 / rps), Mutex::new(Instant::now())));
        Ok(Client {
            http,
            api: format!("{base}/api/v4"),
            graphql: format!("{base}/api/graphql"),
            auth,
            limit: tokio::sync::Semaphore::new(opts.concurrency.max(1)),
            pace,
            retries: opts.retries,
            backoff: opts.backoff,
            requests: AtomicUsize::new(0),
            job_token: matches!(opts.credential, Credential::Job(_)),
            on_request: None,
            on_projects: None,
            max_list_rows: opts.max_list_rows.max(1),
            max_requests: opts.max_requests,
            spent: Default::default(),
            hold: Mutex::new(Instant::now()),
            secret: match &opts.credential {
                Credential::Private(s) | Credential::Job(s) if !s.0.is_empty() => Some(s.0.as_bytes().to_vec()),
                _ => None,
            },
        })
    }

    pub(crate) fn on_request(&mut self, f: impl Fn() + Send + Sync + 'static) {
        self.on_request = Some(Box::new(f));
    }

    pub(crate) fn on_projects(&mut self, f: impl Fn(usize, Option<usize>) + Send + Sync + 'static) {
        self.on_projects = Some(Box::new(f));
    }

    /// Say how many projects are listed so far, of how many (the progress bar).
    pub(crate) fn projects_listed(&self, listed: usize, total: Option<usize>) {
        if let Some(f) = &self.on_projects {
            f(listed, total);
        }
    }

    /// Whether the client authenticates with a CI/CD job token (which reads far less).
    pub(crate) fn is_job_token(&self) -> bool {
        self.job_token
    }

    /// The `--max-requests` budget, when some request was refused for it.
    pub(crate) fn budget_spent(&self) -> Option<usize> {
        self.max_requests.filter(|_| self.spent.load(Ordering::Relaxed))
    }

    /// Requests sent so far (each try counts).
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Wait for the next request slot under `--max-rps`.
    async fn pace(&self) {
        let hold = *self.hold.lock().expect("hold");
        if hold > Instant::now() {
            tokio::time::sleep_until(hold.into()).await;
        }
        let Some((gap, next)) = &self.pace else { return };
        let at = {
            let mut next = next.lock().expect("pace");
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + *gap;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }

    /// One try of one request. `path` is relative to the API (`/projects/1`); `url` is absolute.
    async fn once(&self, path: &str, url: &str, body: Option<&Value>, limit: usize) -> Result<Page, ApiError> {
        let _permit = self.limit.acquire().await.expect("semaphore is never closed");
        self.pace().await;
        let sent = self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(max) = self.max_requests
            && sent >= max
        {
            self.requests.fetch_sub(1, Ordering::Relaxed);
            self.spent.store(true, Ordering::Relaxed);
            return Err(ApiError::Refused {
                path: path.to_string(),
                message: format!("the request budget is spent (--max-requests {max}); raise it to read more"),
            });
        }
        if let Some(f) = &self.on_request {
            f();
        }
        let mut req = match body {
            Some(b) => self.http.post(url).json(b),
            None => self.http.get(url),
        };
        if let Some((name, value)) = &self.auth {
            req = req.header(*name, value.clone());
        }
        let transport = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "the connection failed".to_string()
            };
            // reqwest's message names the URL, which holds no token; the source chain says what went wrong.
            let mut chain = Vec::new();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                chain.push(s.to_string());
                source = s.source();
            }
            let detail = chain.first().map(|s| format!(": {s}")).unwrap_or_default();
            // A refused connection or a name that does not resolve will not recover by waiting: say so at
            // once, naming the host, instead of retrying for minutes.
            let all = chain.join(" ").to_ascii_lowercase();
            let hopeless = e.is_connect()
                && (all.contains("connection refused")
                    || all.contains("dns error")
                    || all.contains("failed to lookup"));
            if hopeless {
                let host = e.url().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
                let port = e.url().and_then(|u| u.port()).map_or(String::new(), |p| format!(":{p}"));
                let why = if all.contains("refused") { "refused the connection" } else { "does not resolve" };
                return ApiError::Refused {
                    path: path.to_string(),
                    message: format!("{host}{port} {why}{detail}; check --url"),
                };
            }
            ApiError::Transport { path: path.to_string(), message: format!("{what}{detail}") }
        };
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let total_pages = header("x-total-pages").and_then(|v| v.parse().ok());
        let next_page = header("x-next-page").and_then(|v| v.parse().ok());
        let next_link = header("link").and_then(|l| next_link(&l));
        // The server's budget is spent: no request until it resets (GitLab's `RateLimit-*` headers).
        if header("ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok()) == Some(0)
            && let Some(wait) = retry_after(None, header("ratelimit-reset").as_deref())
        {
            let until = Instant::now() + wait.min(MAX_RETRY_AFTER);
            let mut hold = self.hold.lock().expect("hold");
            *hold = (*hold).max(until);
        }
        let retry_after = retry_after(header("retry-after").as_deref(), header("ratelimit-reset").as_deref());

        let mut bytes = Vec::new();
        let cap = if status.is_success() { limit } else { 4096 };
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > cap {
                if !status.is_success() {
                    break;
                }
                return Err(ApiError::Refused {
                    path: path.to_string(),
                    message: format!("the response is larger than {} MiB; not read", cap / 1024 / 1024),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if let Some(secret) = &self.secret {
            mask(&mut bytes, secret);
        }
        if !status.is_success() {
            return Err(ApiError::Status {
                path: path.to_string(),
                status: status.as_u16(),
                message: error_message(&bytes),
                retry_after,
            });
        }
        Ok(Page { body: bytes, total_pages, next_page, next_link })
    }

    /// A request with retries: exponential backoff with jitter, or the server's `Retry-After`.
    async fn send(
        &self,
        path: &str,
        url: &str,
        body: Option<&Value>,
        limit: usize,
        json: bool,
    ) -> Result<Page, ApiError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.backoff)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.retries)
            .with_jitter();
        let attempt = || async {
            let page = self.once(path, url, body, limit).await?;
            if json && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&page.body) {
                // A body cut short (a dropped connection, a proxy) is worth another try.
                return Err(ApiError::Transport {
                    path: path.to_string(),
                    message: format!("the response is not valid JSON (truncated?): {e}"),
                });
            }
            Ok(page)
        };
        attempt
            .retry(backoff)
            .when(ApiError::retryable)
            .adjust(|e, planned| {
                let server = match e {
                    ApiError::Status { retry_after, .. } => retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
                    _ => None,
                };
                planned.map(|p| server.unwrap_or(p))
            })
            .await
            .map_err(|e| match e {
                e if self.retries > 0 && e.retryable() => {
                    let tries = self.retries + 1;
                    match e {
                        ApiError::Status { path, status, message, retry_after } => ApiError::Status {
                            path,
                            status,
                            message: format!(
                                "{message}{}after {tries} tries",
                                if message.is_empty() { "" } else { "; " }
                            ),
                            retry_after,
                        },
                        ApiError::Transport { path, message } => {
                            ApiError::Transport { path, message: format!("{message} (after {tries} tries)") }
                        }
                        other => other,
                    }
                }
                e => e,
            })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// `GET` one JSON page; `shown` is the path errors name, `url` the address.
    async fn json_page(&self, shown: &str, url: &str) -> Result<Page, ApiError> {
        self.send(shown, url, None, MAX_JSON_BYTES, true).await
    }

    /// `GET` a JSON document.
    pub(crate) async fn get_json(&self, path: &str) -> Result<Value, ApiError> {
        let page = self.json_page(path, &self.url(path)).await?;
        parse(path, &page.body)
    }

    /// `GET` a JSON answer of a known shape (see `api`).
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let v = self.get_json(path).await?;
        serde_json::from_value(v).map_err(|e| ApiError::Refused {
            path: path.to_string(),
            message: format!("the response is not the documented object: {e}"),
        })
    }

    /// Every row of a paginated list, each of a known shape (see `api`); a row that is not an object of
    /// that shape is left out.
    pub(crate) async fn get_rows<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ApiError> {
        Ok(self.get_all(path).await?.into_iter().filter_map(|row| serde_json::from_value(row).ok()).collect())
    }

    /// `GET` raw bytes of at most `limit` bytes.
    pub(crate) async fn get_raw(&self, path: &str, limit: usize) -> Result<Vec<u8>, ApiError> {
        Ok(self.send(path, &self.url(path), None, limit, false).await?.body)
    }

    /// A GraphQL query; returns the whole answer (`data` and `errors`).
    pub(crate) async fn graphql(&self, query: &str, variables: Value) -> Result<Value, ApiError> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let page = self.send("/api/graphql", &self.graphql, Some(&body), MAX_JSON_BYTES, true).await?;
        parse("/api/graphql", &page.body)
    }

    /// Every row of a paginated list. Uses `x-total-pages` when the server sends it (then fetches the other
    /// pages concurrently), and the `Link`/`x-next-page` headers otherwise (GitLab omits totals past 10,000
    /// rows).
    pub(crate) async fn get_all(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let first_path = format!("{path}{sep}per_page=100");
        let first = self.json_page(&first_path, &self.url(&first_path)).await?;
        let mut bytes = first.body.len();
        let mut out = rows(&first_path, &first.body)?;
        // Pages, rows and bytes are bounded: a server that never stops paginating ends here, with an error.
        let too_much = |rows: usize, bytes: usize| -> Option<ApiError> {
            (rows > self.max_list_rows || bytes > MAX_LIST_BYTES).then(|| ApiError::Refused {
                path: first_path.clone(),
                message: format!(
                    "the listing passes {} rows or {} MiB (the limits: --max-list-rows, and {} MiB); stopped",
                    self.max_list_rows,
                    MAX_LIST_BYTES >> 20,
                    MAX_LIST_BYTES >> 20
                ),
            })
        };
        if let Some(total) = first.total_pages.filter(|t| *t > 1) {
            let total = total.min(MAX_PAGES);
            let pages: Vec<String> = (2..=total).map(|n| format!("{path}{sep}per_page=100&page={n}")).collect();
            // In batches, checked between them: a server claiming 10,000 pages is stopped at the limits,
            // not after fetching them all.
            for batch in pages.chunks(PAGES_PER_BATCH) {
                let fetched = futures::future::join_all(
                    batch.iter().map(|p| async move { self.json_page(p, &self.url(p)).await }),
                )
                .await;
                for (p, page) in batch.iter().zip(fetched) {
                    let page = page?;
                    bytes += page.body.len();
                    out.extend(rows(p, &page.body)?);
                    if let Some(e) = too_much(out.len(), bytes) {
                        return Err(e);
                    }
                }
            }
            return Ok(out);
        }
        let mut page = first;
        let mut seen = std::collections::HashSet::new();
        for _ in 1..MAX_PAGES {
            let next_url = match (&page.next_link, page.next_page) {
                (Some(link), _) => {
                    if !link.starts_with(&format!("{}/", self.api)) {
                        return Err(ApiError::Refused {
                            path: first_path.clone(),
                            message: format!(
                                "the next-page link `{link}` points outside this GitLab API; not followed"
                            ),
                        });
                    }
                    link.clone()
                }
                (None, Some(n)) => self.url(&format!("{path}{sep}per_page=100&page={n}")),
                (None, None) => break,
            };
            if !seen.insert(next_url.clone()) {
                break; // a server that links a page to itself
            }
            let shown = next_url.strip_prefix(&self.api).unwrap_or(&next_url).to_string();
            page = self.json_page(&shown, &next_url).await?;
            bytes += page.body.len();
            out.extend(rows(&shown, &page.body)?);
            if let Some(e) = too_much(out.len(), bytes) {
                return Err(e);
            }
        }
        Ok(out)
    }
}

fn parse(path: &str, body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Transport {
        path: path.to_string(),
        message: format!("the response is not valid JSON: {e}"),
    })
}

fn rows(path: &str, body: &[u8]) -> Result<Vec<Value>, ApiError> {
    match parse(path, body)? {
        Value::Array(a) => Ok(a),
        other => Err(ApiError::Refused {
            path: path.to_string(),
            message: format!("expected a JSON list, found {}", json_kind(&other)),
        }),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\""))
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// The wait a server asks for: `Retry-After` (seconds or an HTTP date), else `RateLimit-Reset` (a Unix time).
fn retry_after(retry_after: Option<&str>, reset: Option<&str>) -> Option<Duration> {
    let now = std::time::SystemTime::now();
    if let Some(v) = retry_after {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Some(at) = http_date(v.trim()) {
            return Some(at.duration_since(now).unwrap_or_default());
        }
    }
    let reset = reset?.trim().parse::<u64>().ok()?;
    let at = std::time::UNIX_EPOCH + Duration::from_secs(reset);
    Some(at.duration_since(now).unwrap_or_default())
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(s: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months.iter().position(|m| m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else { return None };
    let days = crate::date::days(&format!("{year:04}-{month:02}-{day:02}"))?;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec;
    u64::try_from(secs).ok().map(|s| std::time::UNIX_EPOCH + Duration::from_secs(s))
}

/// The `message`/`error` of a GitLab error body, shortened; never the whole body.
/// Overwrite every occurrence of `secret` in `bytes` with `*` (same length: a JSON body stays valid).
fn mask(bytes: &mut [u8], secret: &[u8]) {
    let at: Vec<usize> = memchr::memmem::find_iter(bytes, secret).collect();
    for start in at {
        bytes[start..start + secret.len()].fill(b'*');
    }
}

fn error_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("message").or_else(|| v.get("error")) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Err(_) => String::new(),
    };
    let text: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    crate::text::redact(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_masked_in_bodies() {
        let mut body = br#"{"message":"403 token s3cret refused; s3cret again"}"#.to_vec();
        mask(&mut body, b"s3cret");
        assert_eq!(body, br#"{"message":"403 token ****** refused; ****** again"}"#.to_vec());
    }

    #[test]
    fn link_headers() {
        let l = r#"<https://g.example/api/v4/groups/1/projects?page=2&per_page=100>; rel="next", <https://g.example/api/v4/groups/1/projects?page=1>; rel="first""#;
        assert_eq!(next_link(l).as_deref(), Some("https://g.example/api/v4/groups/1/projects?page=2&per_page=100"));
        assert_eq!(next_link(r#"<https://x/a>; rel="first""#), None);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(Some("7"), None), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT"), None), Some(Duration::ZERO));
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(std::time::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 30;
        let d = retry_after(None, Some(&soon.to_string())).unwrap();
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(28));
        assert_eq!(retry_after(Some("soon"), None), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Credential::Private(Secret::new("glpat-abcdefghijklmnopqrst"));
        assert!(!format!("{c:?}").contains("glpat"));
        let client = Client::new(&Options {
            url: "https://g.example".into(),
            credential: c,
            concurrency: 1,
            max_rps: None,
            timeout: Duration::from_secs(1),
            retries: 0,
            backoff: Duration::from_millis(1),
            ca_cert: None,
            max_list_rows: 1000,
            max_requests: None,
        })
        .unwrap();
        assert!(!format!("{client:?}").contains("glpat"));
    }
}
