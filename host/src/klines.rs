//! The result of a fetch.

use dsm_sdk::Kline;

/// Closed candles of one symbol and interval, sorted by open time, unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Klines {
    pub provider: String,
    pub market: String,
    pub symbol: String,
    pub interval: String,
    /// The range asked for (end clipped to the time of the request).
    pub start_ms: i64,
    pub end_ms: i64,
    pub rows: Vec<Kline>,
    /// HTTP requests the plugin made, retries included.
    pub requests: u64,
}

impl Klines {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
