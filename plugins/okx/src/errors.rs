//! OKX's answers as dsm errors a person can act on.
//!
//! OKX wraps everything in `{"code":"0","msg":"","data":[...]}`; a non-zero code is an
//! error, sometimes with HTTP 200 (51001 unknown instrument), sometimes with 4xx/5xx
//! (51000 parameter error 400, 50014 parameter empty 400, 50011 rate limit 429, 50001
//! service unavailable 503). 429 and 5xx are waited out / retried by the kit's client.

use dsm_plugin_kit::Response;
use dsm_sdk::{ErrorKind, ProviderError};
use serde_json::Value;

use crate::markets::Market;

/// What was asked, for the messages.
pub struct Asked<'a> {
    pub market: Market,
    /// As the user typed it (uppercased by the host).
    pub symbol: &'a str,
    pub inst_id: &'a str,
    pub interval: &'a str,
    pub bar: &'a str,
}

/// OKX's `code` as text (documented as a string; a number is accepted too).
pub fn code_of(doc: &Value) -> Option<String> {
    match doc.get("code")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a (small) body is OKX's rate-limit answer 50011, at any HTTP status.
pub fn is_rate_limit_body(body: &[u8]) -> bool {
    body.len() < 512
        && serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|d| code_of(&d))
            .is_some_and(|c| c == "50011")
}

/// The error for an answer that is not a success (a non-2xx status or a non-zero code).
pub fn from_response(asked: &Asked<'_>, resp: &Response) -> ProviderError {
    let doc: Option<Value> = serde_json::from_slice(&resp.body).ok();
    if let Some((code, doc)) = doc.as_ref().and_then(|d| Some((code_of(d)?, d))) {
        let msg = doc.get("msg").and_then(Value::as_str).unwrap_or("");
        return from_code(asked, resp, &code, msg);
    }
    let market = asked.market.id();
    let message = match resp.status {
        404 => format!(
            "OKX {market} answered HTTP 404 for GET {}: check the endpoint URL (DSM_OKX_URL)",
            resp.url
        ),
        status => format!(
            "OKX {market} answered HTTP {status} for GET {}: {}",
            resp.url,
            resp.snippet(200)
        ),
    };
    ProviderError::new(ErrorKind::UPSTREAM_STATUS, message)
}

fn from_code(asked: &Asked<'_>, resp: &Response, code: &str, msg: &str) -> ProviderError {
    let market = asked.market;
    let m = market.id();
    let as_typed = if asked.symbol == asked.inst_id {
        String::new()
    } else {
        format!(" (from {})", asked.symbol)
    };
    match code {
        "51001" => ProviderError::new(
            ErrorKind::INVALID_SYMBOL,
            format!(
                "OKX {m} has no instrument {}{as_typed} (code 51001: {msg}). OKX {m} expects {}",
                asked.inst_id,
                market.form()
            ),
        ),
        "51000" if msg.to_ascii_lowercase().contains("bar") => ProviderError::new(
            ErrorKind::INVALID_INTERVAL,
            format!(
                "OKX {m} refused bar {} for interval {} (code 51000: {msg}). Intervals: {}",
                asked.bar,
                asked.interval,
                market.intervals().join(" ")
            ),
        ),
        "51000" | "50014" => ProviderError::new(
            ErrorKind::INVALID_REQUEST,
            format!(
                "OKX {m} refused the request for {} {} (code {code}: {msg}; GET {})",
                asked.inst_id, asked.interval, resp.url
            ),
        ),
        "50011" => ProviderError::new(
            ErrorKind::RATE_LIMITED,
            format!("OKX {m} is rate limiting (code 50011: {msg}); try again in a few seconds"),
        )
        .with_retry_after(2_000),
        _ => ProviderError::new(
            ErrorKind::UPSTREAM_STATUS,
            format!(
                "OKX {m} answered HTTP {} with code {code}: {msg} (GET {})",
                resp.status, resp.url
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            url: "http://x/api/v5/market/history-candles?instId=BTC-USDX".into(),
            status,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
            attempts: 1,
        }
    }

    fn asked() -> Asked<'static> {
        Asked {
            market: Market::Spot,
            symbol: "BTCUSDX",
            inst_id: "BTC-USDX",
            interval: "1h",
            bar: "1H",
        }
    }

    #[test]
    fn unknown_instrument_names_the_symbol_and_the_form() {
        let body = r#"{"code":"51001","data":[],"msg":"Instrument ID doesn't exist."}"#;
        let e = from_response(&asked(), &resp(200, body));
        assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
        assert_eq!(
            &*e.message,
            "OKX spot has no instrument BTC-USDX (from BTCUSDX) (code 51001: Instrument ID \
             doesn't exist.). OKX spot expects BASE-QUOTE instrument ids, e.g. BTC-USDT \
             (BTCUSDT works too)"
        );
    }

    #[test]
    fn parameter_errors() {
        let e = from_response(
            &asked(),
            &resp(
                400,
                r#"{"code":"51000","data":[],"msg":"Parameter bar error"}"#,
            ),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        assert!(e.message.contains("bar 1H for interval 1h"), "{e}");
        let e = from_response(
            &asked(),
            &resp(
                400,
                r#"{"code":"51000","data":[],"msg":"Parameter after error"}"#,
            ),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_REQUEST);
        let e = from_response(&asked(), &resp(200, r#"{"code":"50004","msg":"timeout"}"#));
        assert_eq!(e.kind, ErrorKind::UPSTREAM_STATUS);
        assert!(e.message.contains("code 50004: timeout"), "{e}");
        let e = from_response(&asked(), &resp(404, "not found"));
        assert!(e.message.contains("DSM_OKX_URL"), "{e}");
    }

    #[test]
    fn rate_limit_bodies() {
        assert!(is_rate_limit_body(
            br#"{"msg":"Too Many Requests","code":"50011"}"#
        ));
        assert!(!is_rate_limit_body(br#"{"code":"0","msg":"","data":[]}"#));
        assert!(!is_rate_limit_body(b"<html>"));
    }
}
