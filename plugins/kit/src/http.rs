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
//! - every other status (2xx, 3xx, other 4xx) is returned to the caller, body read in full,
//!   for the exchange-specific mapping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dsm_sdk::{plugin::Host, ErrorKind, LogLevel, ProviderConfig, ProviderError};
use reqwest::header::HeaderMap;

use crate::backoff::{retry_after_ms, Backoff};
use crate::cancel::{cancellable, check, sleep_cancellable};
use crate::limit::{Concurrency, WeightGate};

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
        let (mut failures, mut rate_waits, mut attempts) = (0u32, 0u32, 0u32);
        loop {
            check(&self.host)?;
            if let Some(w) = weight {
                w.gate.admit(w.weight, &self.host).await?;
            }
            attempts += 1;
            let outcome = self.attempt(url, weight).await;
            let (wait, reason) = match outcome {
                Ok(raw) if raw.status == 429 || raw.status == 418 => {
                    let wait = self.rate_limit_wait(url, &raw, rate_waits)?;
                    rate_waits += 1;
                    (wait, format!("HTTP {}", raw.status))
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
                Err(e) if e.kind == ErrorKind::CANCELLED => return Err(e),
                Err(e) => {
                    let reason = e.message.to_string();
                    failures = self.spend_retry(failures, with_attempts(e, attempts))?;
                    (self.backoff.delay(failures - 1), reason)
                }
            };
            self.host.log(
                LogLevel::WARN,
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

    /// How long to wait after a 429/418, or the `RATE_LIMITED` error when not waiting.
    fn rate_limit_wait(&self, url: &str, raw: &Raw, waits: u32) -> Result<Duration, ProviderError> {
        let after = retry_after_ms(&raw.headers);
        let wait_ms = after.unwrap_or_else(|| self.backoff.delay(waits).as_millis() as u64);
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
        Err(ProviderError::new(
            ErrorKind::RATE_LIMITED,
            format!(
                "GET {url}: the exchange {what} (HTTP {}); {why}",
                raw.status
            ),
        )
        .with_retry_after(after.unwrap_or(wait_ms)))
    }

    /// Send once and read the whole body, holding a concurrency slot.
    async fn attempt(&self, url: &str, weight: Option<Weighted<'_>>) -> Result<Raw, ProviderError> {
        let _slot = self.concurrency.acquire(&self.host).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        if self.log_http {
            self.host.log(LogLevel::DEBUG, &format!("GET {url}"));
        }
        let started = Instant::now();
        let raw = cancellable(&self.host, self.send(url)).await?;
        let raw = raw.map_err(|e| map_reqwest(url, e))?;
        if let Some(w) = weight {
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

    async fn send(&self, url: &str) -> Result<Raw, reqwest::Error> {
        let resp = self.client.get(url).send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(Raw {
            status,
            headers,
            body,
        })
    }
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
