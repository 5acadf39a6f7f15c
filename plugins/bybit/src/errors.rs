//! Bybit's answers as dsm errors a person can act on.
//!
//! Bybit answers HTTP 200 with `retCode` != 0 for errors: 10001 (parameter error: "Not
//! supported symbols", "Illegal category", ...), 10006 (too many visits; waited out by the
//! kit's client). Over 600 requests in 5 s from one IP it answers HTTP 403 and bans the IP
//! for about 10 minutes.

use dsm_plugin_kit::Response;
use dsm_sdk::time::now_ms;
use dsm_sdk::{ErrorKind, ProviderError};
use serde_json::Value;

use crate::markets::Market;

/// How long Bybit bans an IP after its 403.
pub const BAN_MS: u64 = 600_000;
/// Header with the time (ms) the rate window resets.
const RESET_HEADER: &str = "x-bapi-limit-reset-timestamp";

/// What was asked, for the messages.
pub struct Asked<'a> {
    pub market: Market,
    pub typed: &'a str,
    pub symbol: &'a str,
    pub interval: &'a str,
}

/// `retCode` and `retMsg` of a Bybit answer, when it has them.
pub fn ret_code(doc: &Value) -> Option<(i64, &str)> {
    let code = doc.get("retCode")?.as_i64()?;
    let msg = doc.get("retMsg").and_then(Value::as_str).unwrap_or("");
    Some((code, msg))
}

/// For the kit's client: `Some(wait)` when a (small) body is Bybit's 10006, the wait taken
/// from the reset-timestamp header when it has one.
pub fn throttled(
    _status: u16,
    headers: &dsm_plugin_kit::http::HeaderMap,
    body: &[u8],
) -> Option<Option<u64>> {
    if body.len() > 1024 {
        return None;
    }
    let doc: Value = serde_json::from_slice(body).ok()?;
    if ret_code(&doc)?.0 != 10006 {
        return None;
    }
    let reset = headers
        .get(RESET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    Some(reset.map(|t| (t - now_ms()).clamp(0, 10_000) as u64))
}

/// The error for an answer that is not a success (a non-2xx status or retCode != 0).
pub fn from_response(asked: &Asked<'_>, resp: &Response) -> ProviderError {
    let m = asked.market.id();
    if resp.status == 403 {
        return ProviderError::new(
            ErrorKind::RATE_LIMITED,
            format!(
                "Bybit {m} answered HTTP 403 for GET {}: IP banned by Bybit for about 10 \
                 minutes (over 600 requests in 5 s from this IP). Wait, then retry",
                resp.url
            ),
        )
        .with_retry_after(BAN_MS);
    }
    let doc: Option<Value> = serde_json::from_slice(&resp.body).ok();
    if let Some((code, msg)) = doc.as_ref().and_then(ret_code) {
        if code != 0 {
            return from_code(asked, resp, code, msg);
        }
    }
    let message = match resp.status {
        404 => format!(
            "Bybit {m} answered HTTP 404 for GET {}: check the endpoint URL (DSM_BYBIT_URL)",
            resp.url
        ),
        status => format!(
            "Bybit {m} answered HTTP {status} for GET {}: {}",
            resp.url,
            resp.snippet(200)
        ),
    };
    ProviderError::new(ErrorKind::UPSTREAM_STATUS, message)
}

fn from_code(asked: &Asked<'_>, resp: &Response, code: i64, msg: &str) -> ProviderError {
    let market = asked.market;
    let m = market.id();
    let lower = msg.to_ascii_lowercase();
    let from = if asked.typed == asked.symbol {
        String::new()
    } else {
        format!(" (from {})", asked.typed)
    };
    match code {
        10001 if lower.contains("category") => ProviderError::new(
            ErrorKind::INVALID_REQUEST,
            format!(
                "Bybit refused category {m} (retCode 10001: {msg}; GET {})",
                resp.url
            ),
        ),
        10001 if lower.contains("interval") || lower.contains("period") => ProviderError::new(
            ErrorKind::INVALID_INTERVAL,
            format!(
                "Bybit {m} refused interval {} (retCode 10001: {msg}). Intervals: {}",
                asked.interval,
                market.intervals().join(" ")
            ),
        ),
        10001 if lower.contains("symbol") => ProviderError::new(
            ErrorKind::INVALID_SYMBOL,
            format!(
                "Bybit {m} does not know symbol {}{from} (retCode 10001: {msg}). Bybit {m} \
                 symbols look like {}",
                asked.symbol,
                market.symbol_example()
            ),
        ),
        10001 => ProviderError::new(
            ErrorKind::INVALID_REQUEST,
            format!(
                "Bybit {m} refused the request (retCode 10001: {msg}; GET {})",
                resp.url
            ),
        ),
        10006 => ProviderError::new(
            ErrorKind::RATE_LIMITED,
            format!("Bybit {m} is rate limiting (retCode 10006: {msg}); retry in a few seconds"),
        )
        .with_retry_after(5_000),
        _ => ProviderError::new(
            ErrorKind::UPSTREAM_STATUS,
            format!(
                "Bybit {m} answered HTTP {} with retCode {code}: {msg} (GET {})",
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
            url: "http://x/v5/market/kline?category=spot&symbol=BTCUSDX".into(),
            status,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
            attempts: 1,
        }
    }

    fn asked(market: Market) -> Asked<'static> {
        Asked {
            market,
            typed: "BTC-USDX",
            symbol: "BTCUSDX",
            interval: "1h",
        }
    }

    fn body(code: i64, msg: &str) -> String {
        format!(r#"{{"retCode":{code},"retMsg":"{msg}","result":{{}},"retExtInfo":{{}},"time":1}}"#)
    }

    #[test]
    fn codes() {
        let e = from_response(
            &asked(Market::Spot),
            &resp(200, &body(10001, "Not supported symbols")),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
        assert_eq!(
            &*e.message,
            "Bybit spot does not know symbol BTCUSDX (from BTC-USDX) (retCode 10001: Not \
             supported symbols). Bybit spot symbols look like BTCUSDT"
        );
        let e = from_response(
            &asked(Market::Linear),
            &resp(200, &body(10001, "Illegal category")),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_REQUEST);
        let e = from_response(
            &asked(Market::Linear),
            &resp(200, &body(10001, "Invalid period")),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        let e = from_response(
            &asked(Market::Inverse),
            &resp(200, &body(10016, "Server error")),
        );
        assert_eq!(e.kind, ErrorKind::UPSTREAM_STATUS);
        assert!(e.message.contains("retCode 10016: Server error"), "{e}");
    }

    #[test]
    fn ban_and_throttle() {
        let e = from_response(&asked(Market::Spot), &resp(403, "Forbidden"));
        assert_eq!(e.kind, ErrorKind::RATE_LIMITED);
        assert_eq!(e.retry_after_ms, BAN_MS);
        assert!(
            e.message
                .contains("IP banned by Bybit for about 10 minutes"),
            "{e}"
        );
        let mut h = dsm_plugin_kit::http::HeaderMap::new();
        let b = body(10006, "Too many visits!");
        assert_eq!(throttled(200, &h, b.as_bytes()), Some(None));
        h.insert(
            RESET_HEADER,
            (now_ms() + 60_000).to_string().parse().unwrap(),
        );
        assert_eq!(
            throttled(200, &h, b.as_bytes()),
            Some(Some(10_000)),
            "clamped"
        );
        assert_eq!(throttled(200, &h, body(0, "OK").as_bytes()), None);
    }
}
