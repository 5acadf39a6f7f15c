//! Injected failures: each queued fault replaces or alters one response on its path.

use std::time::Duration;

use super::http::Response;

/// One injected failure, consumed by one request on the path it was queued for.
#[derive(Debug, Clone)]
pub enum Fault {
    /// That status with an empty body (a gateway error, say).
    Status(u16),
    /// 429 or 418 with a Retry-After header and Binance's -1003 body.
    RetryAfter { status: u16, secs: u64 },
    /// That status with the body {"code":code,"msg":msg}.
    BinanceError { status: u16, code: i64, msg: String },
    /// OKX's error body {"code":"<code>","msg":msg,"data":[]} with that status; at 429
    /// without "data", as OKX sends 50011.
    OkxError { status: u16, code: u32, msg: String },
    /// Bybit's HTTP 200 with retCode != 0; 10006 also carries X-Bapi-Limit-Reset-Timestamp
    /// one second ahead.
    BybitRetCode { code: i64, msg: String },
    /// The normal answer, sent this much later (headers included).
    Delay(Duration),
    /// The normal answer's headers (correct Content-Length) and half its body, then the
    /// connection closes.
    Truncated,
}

impl Fault {
    /// The response that replaces the normal answer; `None` for faults that only alter the
    /// normal answer (`Delay`, `Truncated`).
    pub(crate) fn replacement(&self) -> Option<Response> {
        match self {
            Fault::Status(status) => Some(Response::empty(*status)),
            Fault::RetryAfter { status, secs } => {
                Some(too_many_requests(*status, 6000).header("Retry-After", secs.to_string()))
            }
            Fault::BinanceError { status, code, msg } => Some(binance_error(*status, *code, msg)),
            Fault::OkxError { status, code, msg } => {
                Some(super::okx::fault_error(*status, *code, msg))
            }
            Fault::BybitRetCode { code, msg } => Some(super::bybit::fault_ret(*code, msg)),
            Fault::Delay(_) | Fault::Truncated => None,
        }
    }

    /// Applies `Delay` / `Truncated` to the normal answer.
    pub(crate) fn alter(&self, resp: &mut Response) {
        match self {
            Fault::Delay(d) => resp.delay += *d,
            Fault::Truncated => resp.truncate = true,
            _ => {}
        }
    }
}

/// Binance's error shape: {"code":-1121,"msg":"Invalid symbol."}.
pub(crate) fn binance_error(status: u16, code: i64, msg: &str) -> Response {
    let msg = serde_json::to_string(msg).expect("a string serializes");
    Response::json(status, format!("{{\"code\":{code},\"msg\":{msg}}}"))
}

/// The -1003 body sent with 429 (over the limit) and 418 (banned).
pub(crate) fn too_many_requests(status: u16, limit: u32) -> Response {
    let msg = format!(
        "Too many requests; current limit of IP(127.0.0.1) is {limit} requests per minute. \
         Please use the websocket for live updates to avoid polling the API."
    );
    binance_error(status, -1003, &msg)
}
