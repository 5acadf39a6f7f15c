//! Injected failures: each queued fault replaces or alters one response on its path.

use std::time::Duration;

use serde_json::Value;

use super::http::{Request, Response};

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
    /// The normal answer's headers and half its body, then the connection is reset (RST,
    /// not a clean close): "connection reset by peer" in the middle of the body.
    Reset,
    /// The normal answer with its body sent `bytes` at a time, `every` apart: a body that
    /// trickles in slower than the client's timeout (headers come at once).
    Trickle { bytes: usize, every: Duration },
    /// The normal answer with its rows altered (REST JSON pages: Binance's array of rows,
    /// OKX's `data`, Bybit's `result.list`). Vision files: see
    /// `FakeExchange::mutate_vision_rows`.
    Rows(RowFault),
    /// HTTP 200 with this JSON body instead of the normal answer (a hostile page).
    Body(String),
    /// HTTP 302 whose Location is the request's own URL: an endless redirect.
    RedirectLoop,
    /// HTTP 302 to this Location (another scheme, another origin).
    Redirect(String),
    /// HTTP 200 with `Content-Encoding: gzip` and a 64 KiB body that inflates to 64 MiB of
    /// zeros: a gzip bomb.
    GzipBomb,
}

/// How rows are damaged, in a REST page or a Vision CSV. Each alters the second row (the
/// first when there is one only), so every kind is visible in a page of two rows or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFault {
    /// Its high (column 2) becomes `abc`.
    NonNumeric,
    /// It loses every column from 5 on (five columns left).
    WrongColumnCount,
    /// It is sent twice, identical.
    Duplicate,
    /// It is sent again right after itself with another volume (column 5): two different
    /// candles for one open time.
    ConflictingDuplicate,
    /// It swaps places with the row after it (nothing else changes).
    OutOfOrder,
}

impl RowFault {
    /// Applies the fault to `rows` (cells as JSON values; CSV fields as strings).
    pub(crate) fn apply(self, rows: &mut Vec<Vec<Value>>) {
        if rows.is_empty() {
            return;
        }
        let i = usize::from(rows.len() > 1);
        match self {
            RowFault::NonNumeric => {
                if let Some(cell) = rows[i].get_mut(2) {
                    *cell = Value::String("abc".into());
                }
            }
            RowFault::WrongColumnCount => rows[i].truncate(5),
            RowFault::Duplicate => rows.insert(i + 1, rows[i].clone()),
            RowFault::ConflictingDuplicate => {
                let mut other = rows[i].clone();
                if let Some(cell) = other.get_mut(5) {
                    *cell = match cell {
                        Value::String(s) => Value::String(format!("{s}1")),
                        _ => Value::String("12345".into()),
                    };
                }
                rows.insert(i + 1, other);
            }
            RowFault::OutOfOrder => {
                if i + 1 < rows.len() {
                    rows.swap(i, i + 1);
                } else {
                    rows.swap(0, 1);
                }
            }
        }
    }

    /// Applies the fault to a JSON page body; other bodies are left alone.
    pub(crate) fn apply_json(self, body: &mut Vec<u8>) {
        let Ok(mut doc) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let rows = match &mut doc {
            Value::Array(_) => Some(&mut doc),
            Value::Object(o) if o.contains_key("data") => o.get_mut("data"),
            Value::Object(o) => o.get_mut("result").and_then(|r| r.get_mut("list")),
            _ => None,
        };
        let Some(Value::Array(rows)) = rows else {
            return;
        };
        let mut table: Vec<Vec<Value>> = rows
            .iter()
            .map(|r| r.as_array().cloned().unwrap_or_default())
            .collect();
        self.apply(&mut table);
        *rows = table.into_iter().map(Value::Array).collect();
        *body = serde_json::to_vec(&doc).expect("JSON serializes");
    }

    /// Applies the fault to CSV text (a header row, if any, stays first and untouched).
    pub(crate) fn apply_csv(self, csv: &str) -> String {
        let mut lines: Vec<&str> = csv.lines().collect();
        let header = match lines.first() {
            Some(l) if l.starts_with("open_time") => Some(lines.remove(0)),
            _ => None,
        };
        let mut table: Vec<Vec<Value>> = lines
            .iter()
            .map(|l| l.split(',').map(|f| Value::String(f.into())).collect())
            .collect();
        self.apply(&mut table);
        let mut out = String::with_capacity(csv.len() + 200);
        for line in header
            .into_iter()
            .map(String::from)
            .chain(table.iter().map(|r| {
                r.iter()
                    .map(|v| v.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")
            }))
        {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

impl Fault {
    /// The response that replaces the normal answer to `req`; `None` for faults that only
    /// alter the normal answer (`Delay`, `Truncated`, `Reset`, `Trickle`, `Rows`).
    pub(crate) fn replacement(&self, req: &Request) -> Option<Response> {
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
            Fault::RedirectLoop => {
                let target = match req.query.as_str() {
                    "" => req.path.clone(),
                    q => format!("{}?{q}", req.path),
                };
                Some(Response::empty(302).header("Location", target))
            }
            Fault::Redirect(location) => {
                Some(Response::empty(302).header("Location", location.clone()))
            }
            Fault::GzipBomb => Some(gzip_bomb()),
            Fault::Body(body) => Some(Response::json(200, body.clone())),
            Fault::Delay(_)
            | Fault::Truncated
            | Fault::Reset
            | Fault::Trickle { .. }
            | Fault::Rows(_) => None,
        }
    }

    /// Applies the faults that alter the normal answer.
    pub(crate) fn alter(&self, resp: &mut Response) {
        match self {
            Fault::Delay(d) => resp.delay += *d,
            Fault::Truncated => resp.truncate = true,
            Fault::Reset => {
                resp.truncate = true;
                resp.reset = true;
            }
            Fault::Trickle { bytes, every } => resp.trickle = Some(((*bytes).max(1), *every)),
            Fault::Rows(r) if resp.status == 200 => r.apply_json(&mut resp.body),
            _ => {}
        }
    }
}

/// A gzip member whose deflate data inflates to 64 MiB of zeros (no trailer: a client
/// must give up long before the end).
fn gzip_bomb() -> Response {
    let mut piece = Vec::with_capacity(8 << 10);
    flate2::Compress::new(flate2::Compression::best(), false)
        .compress_vec(&vec![0u8; 1 << 20], &mut piece, flate2::FlushCompress::Full)
        .expect("deflate");
    // Header: magic, deflate, no flags, no mtime, no extra flags, unknown OS. Each piece ends
    // on a full flush, so copies of it in a row are one valid deflate stream.
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..64 {
        body.extend_from_slice(&piece);
    }
    Response::bytes(200, "application/json;charset=UTF-8", body)
        .header("Content-Encoding", "gzip".into())
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
