//! One GET of OKX's v5 API: its rate budget, the 50011 wait, and the envelope
//! `{"code":"0","msg":"","data":[...]}` with errors mapped for a person.

use dsm_plugin_kit::envelope::{get_rows, Envelope, Rows};
use dsm_plugin_kit::{HttpClient, Policy, RateLimiter};
use dsm_sdk::ProviderError;

use crate::errors::{code_of, from_response, is_rate_limit_body, Asked};

/// After a 50011 without Retry-After, wait out OKX's whole 2 s window.
const RATE_WINDOW_MS: u64 = 2_000;

/// Rows under `data`, on `code` "0".
const ENVELOPE: Envelope = Envelope {
    ok: |doc| code_of(doc).as_deref() == Some("0"),
    rows_at: "/data",
    lacking: "code 0 but no data array",
};

/// GET `url` within `rate`; the rows of a code-0 answer, else the mapped error. `place`
/// names the request in parse errors.
pub async fn get_data(
    http: &HttpClient,
    url: &str,
    rate: &RateLimiter,
    asked: &Asked<'_>,
    place: &str,
) -> Result<Rows, ProviderError> {
    let throttled = |_: u16, _: &_, body: &[u8]| is_rate_limit_body(body).then_some(None);
    let policy = Policy {
        rate: Some(rate),
        throttled: Some(&throttled),
        throttle_wait_ms: Some(RATE_WINDOW_MS),
        ..Policy::default()
    };
    let error = |resp: &_| from_response(asked, resp);
    get_rows(http, url, &policy, &ENVELOPE, error, place).await
}
