//! Binance's error answers as dsm errors a person can act on.

use dsm_plugin_kit::Response;
use dsm_sdk::{ErrorKind, ProviderError};
use serde::Deserialize;

use crate::markets::Market;

/// Binance's error body: `{"code":-1121,"msg":"Invalid symbol."}`.
#[derive(Deserialize)]
struct ApiError {
    code: i64,
    #[serde(default)]
    msg: String,
}

/// What was asked, for the messages.
pub struct Asked<'a> {
    pub market: Market,
    pub symbol: &'a str,
    pub interval: &'a str,
}

/// The error for a response the HTTP client handed back (any non-2xx it does not retry).
pub fn from_response(asked: &Asked<'_>, resp: &Response) -> ProviderError {
    let market = asked.market.id();
    if let Ok(api) = serde_json::from_slice::<ApiError>(&resp.body) {
        return from_code(asked, resp, api);
    }
    let message = match resp.status {
        403 => format!(
            "Binance {market} refused GET {} with HTTP 403: its web application firewall \
             blocked the request (not a rate limit). Wait and retry later, or use another \
             network or endpoint",
            resp.url
        ),
        404 => format!(
            "Binance {market} answered HTTP 404 for GET {}: check the endpoint URL \
             (DSM_BINANCE_{}_URL)",
            resp.url,
            market.to_ascii_uppercase()
        ),
        status => format!(
            "Binance {market} answered HTTP {status} for GET {}: {}",
            resp.url,
            resp.snippet(200)
        ),
    };
    ProviderError::new(ErrorKind::UPSTREAM_STATUS, message)
}

fn from_code(asked: &Asked<'_>, resp: &Response, api: ApiError) -> ProviderError {
    let market = asked.market.id();
    let (code, msg) = (api.code, api.msg);
    match code {
        -1121 => ProviderError::new(
            ErrorKind::INVALID_SYMBOL,
            format!(
                "Binance {market} does not know symbol {} (code -1121 {msg}). Check the symbol: \
                 e.g. {}",
                asked.symbol,
                asked.market.symbol_example()
            ),
        ),
        -1120 => ProviderError::new(
            ErrorKind::INVALID_INTERVAL,
            format!(
                "Binance {market} does not support interval {} (code -1120 {msg}). Intervals: {}",
                asked.interval,
                asked.market.intervals().join(" ")
            ),
        ),
        _ => ProviderError::new(
            ErrorKind::UPSTREAM_STATUS,
            format!(
                "Binance {market} answered HTTP {} with code {code}: {msg} (GET {})",
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
            url: "http://x/api/v3/klines?symbol=BTCUSDX".into(),
            status,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
            attempts: 1,
        }
    }

    fn asked(market: Market) -> Asked<'static> {
        Asked {
            market,
            symbol: "BTCUSDX",
            interval: "1s",
        }
    }

    #[test]
    fn invalid_symbol() {
        let e = from_response(
            &asked(Market::Spot),
            &resp(400, r#"{"code":-1121,"msg":"Invalid symbol."}"#),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
        assert_eq!(
            &*e.message,
            "Binance spot does not know symbol BTCUSDX (code -1121 Invalid symbol.). \
             Check the symbol: e.g. BTCUSDT"
        );
        let e = from_response(
            &asked(Market::Cm),
            &resp(400, r#"{"code":-1121,"msg":"m"}"#),
        );
        assert!(e.message.ends_with("e.g. BTCUSD_PERP"));
    }

    #[test]
    fn invalid_interval_names_interval_and_market() {
        let e = from_response(
            &asked(Market::Um),
            &resp(400, r#"{"code":-1120,"msg":"Invalid interval."}"#),
        );
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        assert!(
            e.message
                .starts_with("Binance um does not support interval 1s"),
            "{e}"
        );
    }

    #[test]
    fn other_codes_and_statuses() {
        let e = from_response(
            &asked(Market::Um),
            &resp(
                400,
                r#"{"code":-1130,"msg":"Data sent for parameter 'limit' is not valid."}"#,
            ),
        );
        assert_eq!(e.kind, ErrorKind::UPSTREAM_STATUS);
        assert!(
            e.message.contains("HTTP 400 with code -1130: Data sent"),
            "{e}"
        );
        let e = from_response(&asked(Market::Spot), &resp(403, "<html>blocked</html>"));
        assert_eq!(e.kind, ErrorKind::UPSTREAM_STATUS);
        assert!(e.message.contains("web application firewall"), "{e}");
        let e = from_response(&asked(Market::Cm), &resp(404, "nope"));
        assert!(e.message.contains("DSM_BINANCE_CM_URL"), "{e}");
        let e = from_response(&asked(Market::Spot), &resp(451, "legal"));
        assert!(
            e.message.contains("HTTP 451") && e.message.ends_with("legal"),
            "{e}"
        );
    }
}
