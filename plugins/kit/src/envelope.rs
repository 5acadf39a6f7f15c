//! One GET of a JSON API that wraps its rows in an envelope with a status code (OKX
//! `{"code":"0","data":[...]}`, Bybit `{"retCode":0,"result":{"list":[...]}}`): the rows of
//! a success answer, or the plugin's own error for anything else.

use dsm_sdk::{ErrorKind, ProviderError};
use serde_json::Value;

use crate::http::{HttpClient, Policy, Response};

/// An answer's rows and the HTTP requests it took (retries included).
pub struct Rows {
    pub rows: Vec<Value>,
    pub requests: u64,
}

/// How an API wraps its rows.
pub struct Envelope<'a> {
    /// Whether a parsed answer says success (its code field).
    pub ok: fn(&Value) -> bool,
    /// JSON pointer to the rows array (`/data`).
    pub rows_at: &'a str,
    /// What a success answer without rows lacks, for the error (`code 0 but no data array`).
    pub lacking: &'a str,
}

/// GET `url` with `policy`: the rows of a 2xx answer that `envelope` calls a success, else
/// `error(answer)` (the plugin maps codes and statuses for a person). `place` names the
/// request in the error for a success answer without rows.
pub async fn get_rows(
    http: &HttpClient,
    url: &str,
    policy: &Policy<'_>,
    envelope: &Envelope<'_>,
    error: impl Fn(&Response) -> ProviderError,
    place: &str,
) -> Result<Rows, ProviderError> {
    let resp = http.get_with(url, policy).await?;
    let mut doc: Value = match serde_json::from_slice(&resp.body) {
        Ok(doc) if resp.is_success() && (envelope.ok)(&doc) => doc,
        _ => return Err(error(&resp)),
    };
    match doc.pointer_mut(envelope.rows_at).map(Value::take) {
        Some(Value::Array(rows)) => Ok(Rows {
            rows,
            requests: u64::from(resp.attempts),
        }),
        _ => Err(ProviderError::new(
            ErrorKind::PARSE,
            format!("{place}: the answer has {}", envelope.lacking),
        )),
    }
}
