//! One GET of Bybit's v5 API: the process-wide IP budget, the 10006 wait, and the envelope
//! `{"retCode":0,"retMsg":"OK","result":{"list":[...]},...}` with errors mapped for a person.

use std::sync::LazyLock;
use std::time::Duration;

use dsm_plugin_kit::envelope::{get_rows, Envelope, Rows};
use dsm_plugin_kit::{HttpClient, Policy, RateLimiter};
use dsm_sdk::ProviderError;

use crate::errors::{from_response, ret_code, throttled, Asked};

/// 600 requests per 5 s per IP, for the whole process (every provider instance and every
/// endpoint shares it).
static IP_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(600, Duration::from_secs(5)));
/// After a 10006 that names no reset time.
const THROTTLE_WAIT_MS: u64 = 1_000;

/// Rows under `result.list`, on `retCode` 0.
const ENVELOPE: Envelope = Envelope {
    ok: |doc| ret_code(doc).map(|(c, _)| c) == Some(0),
    rows_at: "/result/list",
    lacking: "retCode 0 but no result.list",
};

fn policy() -> Policy<'static> {
    Policy {
        rate: Some(&IP_RATE),
        throttled: Some(&throttled),
        throttle_wait_ms: Some(THROTTLE_WAIT_MS),
        ..Policy::default()
    }
}

/// GET `url`; the `result` object of a retCode-0 answer (for paged lists, whose cursor is
/// beside the list) and the requests made, else the mapped error.
pub async fn get_result(
    http: &HttpClient,
    url: &str,
    asked: &Asked<'_>,
    place: &str,
) -> Result<(serde_json::Value, u64), ProviderError> {
    let resp = http.get_with(url, &policy()).await?;
    let mut doc: serde_json::Value = match serde_json::from_slice(&resp.body) {
        Ok(doc) if resp.is_success() && ret_code(&doc).map(|(c, _)| c) == Some(0) => doc,
        _ => return Err(from_response(asked, &resp)),
    };
    match doc.get_mut("result").map(serde_json::Value::take) {
        Some(result @ serde_json::Value::Object(_)) => Ok((result, u64::from(resp.attempts))),
        _ => Err(ProviderError::new(
            dsm_sdk::ErrorKind::PARSE,
            format!("{place}: the answer has retCode 0 but no result object"),
        )),
    }
}

/// GET `url`; the rows of a retCode-0 answer, else the mapped error. `place` names the
/// request in parse errors.
pub async fn get_list(
    http: &HttpClient,
    url: &str,
    asked: &Asked<'_>,
    place: &str,
) -> Result<Rows, ProviderError> {
    let error = |resp: &_| from_response(asked, resp);
    get_rows(http, url, &policy(), &ENVELOPE, error, place).await
}
