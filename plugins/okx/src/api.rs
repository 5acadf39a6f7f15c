//! One GET of OKX's v5 API: its rate budget, the 50011 wait, and the envelope
//! `{"code":"0","msg":"","data":[...]}` with errors mapped for a person.

use dsm_plugin_kit::{HttpClient, Policy, RateLimiter};
use dsm_sdk::{ErrorKind, ProviderError};
use serde_json::Value;

use crate::errors::{code_of, from_response, is_rate_limit_body, Asked};

/// After a 50011 without Retry-After, wait out OKX's whole 2 s window.
const RATE_WINDOW_MS: u64 = 2_000;

/// An answer's `data` rows and the HTTP requests it took (retries included).
pub struct Data {
    pub rows: Vec<Value>,
    pub requests: u64,
}

/// GET `url` within `rate`; the rows of a code-0 answer, else the mapped error. `place`
/// names the request in parse errors.
pub async fn get_data(
    http: &HttpClient,
    url: &str,
    rate: &RateLimiter,
    asked: &Asked<'_>,
    place: &str,
) -> Result<Data, ProviderError> {
    let throttled = |_: u16, _: &_, body: &[u8]| is_rate_limit_body(body).then_some(None);
    let policy = Policy {
        rate: Some(rate),
        throttled: Some(&throttled),
        throttle_wait_ms: Some(RATE_WINDOW_MS),
        ..Policy::default()
    };
    let resp = http.get_with(url, &policy).await?;
    let mut doc: Value = match serde_json::from_slice(&resp.body) {
        Ok(doc) if resp.is_success() => doc,
        _ => return Err(from_response(asked, &resp)),
    };
    if code_of(&doc).as_deref() != Some("0") {
        return Err(from_response(asked, &resp));
    }
    match doc.get_mut("data").map(Value::take) {
        Some(Value::Array(rows)) => Ok(Data {
            rows,
            requests: u64::from(resp.attempts),
        }),
        _ => Err(ProviderError::new(
            ErrorKind::PARSE,
            format!("{place}: the answer has code 0 but no data array"),
        )),
    }
}
