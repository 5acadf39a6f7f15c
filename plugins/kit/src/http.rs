//! The HTTP client every plugin uses: timeouts, a connection pool, retries with backoff,
//! Retry-After on 429/418, a concurrency limit and an optional used-weight gate.
//!
//! Retry semantics of [`HttpClient::get`]:
//! - network errors, timeouts (including a body that stops arriving) and 5xx are retried up
//!   to `config.retries` times (at most `retries + 1` such attempts), waiting
//!   `backoff_base_ms * 2^n` capped at `backoff_max_ms`, with jitter (see [`Backoff`]);
//! - 429 and 418 wait out Retry-After when it is at most `max_retry_after_ms`; these waits
//!   do not use the retry budget above but have their own bound of `retries + 1` waits;
//!   a longer Retry-After, or one wait too many, is `RATE_LIMITED` with `retry_after_ms`;
//! - every other status (2xx, other 4xx, a 3xx without Location) is returned to the
//!   caller, body read in full, for the exchange-specific mapping;
//! - bodies: at most [`MAX_BODY_BYTES`] (or [`Policy::max_body`]) after decompression; a
//!   larger one is `INTEGRITY`, not retried;
//! - redirects: see [`crate::redirect`] (at most [`crate::redirect::MAX_REDIRECTS`]); a refused
//!   one (a loop, a longer chain, a scheme other than http(s), https down to http, another
//!   origin over plain http) is a `NETWORK` error naming the URL, not retried (the same
//!   answer would come again).
//!
//! [`HttpClient::get_with`] adds a [`Policy`]: a request-rate limit ([`RateLimiter`],
//! admitted per attempt, right before sending), exchange "slow down" answers that are not
//! 429/418 (e.g. an HTTP 200 whose body carries a rate-limit code), and the wait to use
//! when such an answer names none. Those answers are waited out like 429s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dsm_sdk::{plugin::Host, ErrorKind, LogLevel, ProviderConfig, ProviderError};
/// Re-exported: plugins read headers without depending on reqwest.
pub use reqwest::header::HeaderMap;

use crate::backoff::{retry_after_ms, Backoff};
use crate::cancel::{cancellable, check, sleep_cancellable};
use crate::limit::{Concurrency, RateLimiter, WeightGate};
use crate::redirect::{redirect_policy, unfollowed_redirect};

/// The most bytes of one response body, counted after decompression, unless
/// [`Policy::max_body`] says otherwise. The largest real REST page (1500 Binance futures
/// klines) is about 300 KB; 16 MiB is some fifty times that, yet a lying Content-Length, an
/// endless chunked body or a gzip bomb cannot exhaust memory.
pub const MAX_BODY_BYTES: u64 = 16 << 20;

/// A response the caller handles: success or a status the client does not retry.
#[derive(Debug)]
pub struct Response {
    pub url: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// HTTP requests this call made, retries included.
    pub attempts: u32,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, cut to `max` characters, for error messages.
    pub fn snippet(&self, max: usize) -> String {
        snippet(&self.body, max)
    }
}

/// A request's weight, reserved in `gate` before each attempt.
#[derive(Clone, Copy)]
pub struct Weighted<'a> {
    pub gate: &'a WeightGate,
    pub weight: u32,
}

/// Classifies an answer (status, headers, body) as a "slow down" answer the exchange sends
/// other than as 429/418: `Some(wait)` when it is one, `wait` in ms when the answer says how
/// long (else Retry-After, [`Policy::throttle_wait_ms`] or the backoff applies).
pub type Throttled = dyn Fn(u16, &HeaderMap, &[u8]) -> Option<Option<u64>> + Send + Sync;

/// Per-request limits and exchange rules for [`HttpClient::get_with`].
#[derive(Clone, Copy, Default)]
pub struct Policy<'a> {
    /// A used-weight budget (Binance style), reserved before each attempt.
    pub weight: Option<Weighted<'a>>,
    /// A requests-per-window limit, admitted before each attempt is sent.
    pub rate: Option<&'a RateLimiter>,
    /// Recognizes throttling answers besides 429/418.
    pub throttled: Option<&'a Throttled>,
    /// The wait after a throttling answer that names none (no Retry-After), e.g. the
    /// exchange's rate window; `None` uses the exponential backoff.
    pub throttle_wait_ms: Option<u64>,
    /// Refuse a body larger than this many bytes, counted after decompression
    /// (`None`: [`MAX_BODY_BYTES`]): `INTEGRITY`, not retried (refused from its
    /// Content-Length, or as soon as it grows past the cap).
    pub max_body: Option<u64>,
    /// Counts every attempt (retries included), also when the call ends in an error.
    pub counter: Option<&'a AtomicU64>,
    /// Requests in flight are limited by these slots instead of the client's own
    /// (`ProviderConfig::concurrency`): a source with a limit of its own, e.g. an archive.
    pub slots: Option<&'a Concurrency>,
}

/// One attempt's result before retry decisions.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

pub struct HttpClient {
    client: reqwest::Client,
    host: Host,
    backoff: Backoff,
    retries: u32,
    max_retry_after_ms: u64,
    log_http: bool,
    concurrency: Concurrency,
    requests: AtomicU64,
}

impl HttpClient {
    /// A client honouring every network setting of `config`.
    pub fn new(
        config: &ProviderConfig,
        host: Host,
        user_agent: &str,
    ) -> Result<Self, ProviderError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(user_agent)
            .redirect(redirect_policy())
            .pool_max_idle_per_host(config.pool_size as usize);
        if config.connect_timeout_ms > 0 {
            builder = builder.connect_timeout(Duration::from_millis(config.connect_timeout_ms));
        }
        if config.request_timeout_ms > 0 {
            builder = builder.timeout(Duration::from_millis(config.request_timeout_ms));
        }
        let client = builder.build().map_err(|e| {
            ProviderError::new(
                ErrorKind::INTERNAL,
                format!("cannot build the HTTP client: {e}"),
            )
        })?;
        Ok(HttpClient {
            client,
            host,
            backoff: Backoff {
                base_ms: config.backoff_base_ms,
                max_ms: config.backoff_max_ms,
            },
            retries: config.retries,
            max_retry_after_ms: config.max_retry_after_ms,
            log_http: config.log_http,
            concurrency: Concurrency::new(config.concurrency),
            requests: AtomicU64::new(0),
        })
    }

    /// HTTP requests made by this client so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GET `url` with the retry semantics in the module docs.
    pub async fn get(
        &self,
        url: &str,
        weight: Option<Weighted<'_>>,
    ) -> Result<Response, ProviderError> {
        let policy = Policy {
            weight,
            ..Policy::default()
        };
        self.get_with(url, &policy).await
    }

    /// GET `url` under `policy` (see the module docs).
    pub async fn get_with(
        &self,
        url: &str,
        policy: &Policy<'_>,
    ) -> Result<Response, ProviderError> {
        let (mut failures, mut rate_waits, mut attempts) = (0u32, 0u32, 0u32);
        loop {
            check(&self.host)?;
            attempts += 1;
            if let Some(c) = policy.counter {
                c.fetch_add(1, Ordering::Relaxed);
            }
            let outcome = self.attempt(url, policy).await;
            let throttle = match &outcome {
                Ok(raw) => throttle_hint(policy, raw),
                Err(_) => None,
            };
            let (wait, reason) = match outcome {
                Ok(raw) if throttle.is_some() => {
                    let hint = throttle.flatten();
                    let wait = self.rate_limit_wait(url, &raw, rate_waits, hint, policy)?;
                    if let Some(w) = policy.weight {
                        w.gate.pause_for(wait.as_millis() as u64);
                    }
                    rate_waits += 1;
                    (wait, format!("HTTP {} (rate limited)", raw.status))
                }
                Ok(raw) if raw.status >= 500 => {
                    let err = status_error(url, &raw, attempts);
                    failures = self.spend_retry(failures, err)?;
                    (
                        self.backoff.delay(failures - 1),
                        format!("HTTP {}", raw.status),
                    )
                }
                Ok(raw) => return Ok(into_response(url, raw, attempts)),
                // Cancelled, a body over the cap, a refused redirect: retrying would not help.
                Err(Failed::Final(e)) => return Err(e),
                Err(Failed::Retry(e)) if e.kind == ErrorKind::CANCELLED => return Err(e),
                Err(Failed::Retry(e)) => {
                    let reason = e.message.to_string();
                    failures = self.spend_retry(failures, with_attempts(e, attempts))?;
                    (self.backoff.delay(failures - 1), reason)
                }
            };
            self.host.log(
                LogLevel::INFO,
                &format!("GET {url}: {reason}; retrying in {} ms", wait.as_millis()),
            );
            sleep_cancellable(&self.host, wait).await?;
        }
    }

    /// One more retry if the budget allows, else the error.
    fn spend_retry(&self, failures: u32, err: ProviderError) -> Result<u32, ProviderError> {
        if failures >= self.retries {
            Err(err)
        } else {
            Ok(failures + 1)
        }
    }

    /// How long to wait after a throttling answer, or the `RATE_LIMITED` error when not
    /// waiting. `hint`: the wait the answer itself named (besides Retry-After).
    fn rate_limit_wait(
        &self,
        url: &str,
        raw: &Raw,
        waits: u32,
        hint: Option<u64>,
        policy: &Policy<'_>,
    ) -> Result<Duration, ProviderError> {
        let after = hint.or_else(|| retry_after_ms(&raw.headers));
        let wait_ms = after
            .or(policy.throttle_wait_ms)
            .unwrap_or_else(|| self.backoff.delay(waits).as_millis() as u64);
        if wait_ms <= self.max_retry_after_ms && waits <= self.retries {
            return Ok(Duration::from_millis(wait_ms));
        }
        let why = if waits > self.retries {
            format!("still limited after {} waits", waits)
        } else {
            format!(
                "asked to wait {wait_ms} ms, more than max_retry_after_ms {}",
                self.max_retry_after_ms
            )
        };
        let what = if raw.status == 418 {
            "banned this IP for now"
        } else {
            "is rate limiting"
        };
        let detail = match raw.status {
            429 | 418 => String::new(),
            _ => format!(": {}", snippet(&raw.body, 120)),
        };
        Err(ProviderError::new(
            ErrorKind::RATE_LIMITED,
            format!(
                "GET {url}: the exchange {what} (HTTP {}{detail}); {why}",
                raw.status
            ),
        )
        .with_retry_after(after.unwrap_or(wait_ms)))
    }

    /// Send once and read the whole body, holding a concurrency slot.
    async fn attempt(&self, url: &str, policy: &Policy<'_>) -> Result<Raw, Failed> {
        let slots = policy.slots.unwrap_or(&self.concurrency);
        let _slot = slots.acquire(&self.host).await?;
        // Weight is reserved holding a slot: what was reserved but not yet sent is then
        // bounded by the slots, so a window's count at the server stays within reach.
        if let Some(w) = policy.weight {
            w.gate.admit(w.weight, &self.host).await?;
        }
        if let Some(rate) = policy.rate {
            rate.admit(&self.host).await?;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        if self.log_http {
            self.host.log(LogLevel::DEBUG, &format!("GET {url}"));
        }
        let started = Instant::now();
        let max_body = policy.max_body.unwrap_or(MAX_BODY_BYTES);
        let raw = cancellable(&self.host, self.send(url, max_body)).await?;
        let raw = raw.map_err(|e| match e {
            SendError::Http(e) if e.is_redirect() => Failed::Final(map_reqwest(url, e)),
            SendError::Http(e) => Failed::Retry(map_reqwest(url, e)),
            SendError::TooLarge(size) => Failed::Final(too_large(url, size, max_body)),
            SendError::Redirect(why) => Failed::Final(ProviderError::new(
                ErrorKind::NETWORK,
                format!("GET {url} failed: {why}"),
            )),
        })?;
        if let Some(w) = policy.weight {
            w.gate.observe(&raw.headers);
        }
        if self.log_http {
            self.host.log(
                LogLevel::DEBUG,
                &format!(
                    "GET {url} -> {} in {} ms, {} bytes",
                    raw.status,
                    started.elapsed().as_millis(),
                    raw.body.len()
                ),
            );
        }
        Ok(raw)
    }

    /// Send and read the body, at most `max` bytes of it (decompressed: reqwest decodes gzip
    /// as the chunks arrive, and then reports no Content-Length).
    async fn send(&self, url: &str, max: u64) -> Result<Raw, SendError> {
        let mut resp = self.client.get(url).send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(why) = unfollowed_redirect(&resp) {
            return Err(SendError::Redirect(why));
        }
        if let Some(len) = resp.content_length().filter(|&len| len > max) {
            return Err(SendError::TooLarge(len));
        }
        let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
        // Checked before each append: chunks are small, so memory stays bounded by `max`.
        while let Some(chunk) = resp.chunk().await? {
            let size = (body.len() + chunk.len()) as u64;
            if size > max {
                return Err(SendError::TooLarge(size));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Raw {
            status,
            headers,
            body,
        })
    }
}

/// Why one attempt failed: worth another attempt, or not.
enum Failed {
    Retry(ProviderError),
    Final(ProviderError),
}

impl From<ProviderError> for Failed {
    fn from(e: ProviderError) -> Self {
        Failed::Retry(e)
    }
}

/// Why one send failed.
enum SendError {
    Http(reqwest::Error),
    /// The body is at least this large, over [`Policy::max_body`].
    TooLarge(u64),
    /// A redirect reqwest did not follow (e.g. to `file://`), and why.
    Redirect(String),
}

impl From<reqwest::Error> for SendError {
    fn from(e: reqwest::Error) -> Self {
        SendError::Http(e)
    }
}

fn too_large(url: &str, size: u64, max: u64) -> ProviderError {
    ProviderError::new(
        ErrorKind::INTEGRITY,
        format!(
            "GET {url}: refusing a body of {size}+ bytes (after decompression), over the \
             {max}-byte limit; no real answer is that large, so the server (or a proxy) is \
             broken or hostile"
        ),
    )
}

/// `Some(hint)` when `raw` is a throttling answer: 429/418, or one `policy` recognizes.
fn throttle_hint(policy: &Policy<'_>, raw: &Raw) -> Option<Option<u64>> {
    if let Some(f) = policy.throttled {
        if let Some(hint) = f(raw.status, &raw.headers, &raw.body) {
            return Some(hint);
        }
    }
    (raw.status == 429 || raw.status == 418).then_some(None)
}

fn into_response(url: &str, raw: Raw, attempts: u32) -> Response {
    Response {
        url: url.to_string(),
        status: raw.status,
        headers: raw.headers,
        body: raw.body,
        attempts,
    }
}

fn status_error(url: &str, raw: &Raw, attempts: u32) -> ProviderError {
    ProviderError::new(
        ErrorKind::UPSTREAM_STATUS,
        format!(
            "GET {url} answered HTTP {} after {attempts} attempt(s): {}",
            raw.status,
            snippet(&raw.body, 200)
        ),
    )
}

fn with_attempts(e: ProviderError, attempts: u32) -> ProviderError {
    let message = format!("{} (after {attempts} attempt(s))", e.message);
    ProviderError::new(e.kind, message)
}

/// A reqwest error as TIMEOUT or NETWORK, naming the URL and the underlying causes.
fn map_reqwest(url: &str, e: reqwest::Error) -> ProviderError {
    let kind = if e.is_timeout() {
        ErrorKind::TIMEOUT
    } else {
        ErrorKind::NETWORK
    };
    let what = if e.is_timeout() {
        "timed out"
    } else {
        "failed"
    };
    ProviderError::new(
        kind,
        format!("GET {url} {what}: {}", causes(&e.without_url())),
    )
}

fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}
