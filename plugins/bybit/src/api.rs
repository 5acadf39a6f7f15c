//! One GET of Bybit's v5 API: the process-wide IP budget, the 10006 wait, and the envelope
//! `{"retCode":0,"retMsg":"OK","result":{"list":[...]},...}` with errors mapped for a person.

use std::sync::LazyLock;
use std::time::Duration;

use dsm_plugin_kit::{HttpClient, Policy, RateLimiter};
use dsm_sdk::{ErrorKind, ProviderError};
use serde_json::Value;

use crate::errors::{from_response, ret_code, throttled, Asked};

/// 600 requests per 5 s per IP, for the whole process (every provider instance and every
/// endpoint shares it).
static IP_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(600, Duration::from_secs(5)));
/// After a 10006 that names no reset time.
const THROTTLE_WAIT_MS: u64 = 1_000;

/// An answer's `result.list` rows and the HTTP requests it took (retries included).
pub struct List {
    pub rows: Vec<Value>,
    pub requests: u64,
}

/// GET `url`; the rows of a retCode-0 answer, else the mapped error. `place` names the
/// request in parse errors.
pub async fn get_list(
    http: &HttpClient,
    url: &str,
    asked: &Asked<'_>,
    place: &str,
) -> Result<List, ProviderError> {
    let policy = Policy {
        rate: Some(&IP_RATE),
        throttled: Some(&throttled),
        throttle_wait_ms: Some(THROTTLE_WAIT_MS),
        ..Policy::default()
    };
    let resp = http.get_with(url, &policy).await?;
    let mut doc: Value = match serde_json::from_slice(&resp.body) {
        Ok(doc) if resp.is_success() => doc,
        _ => return Err(from_response(asked, &resp)),
    };
    if ret_code(&doc).map(|(c, _)| c) != Some(0) {
        return Err(from_response(asked, &resp));
    }
    match doc.pointer_mut("/result/list").map(Value::take) {
        Some(Value::Array(rows)) => Ok(List {
            rows,
            requests: u64::from(resp.attempts),
        }),
        _ => Err(ProviderError::new(
            ErrorKind::PARSE,
            format!("{place}: the answer has retCode 0 but no result.list"),
        )),
    }
}
