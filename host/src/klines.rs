//! The result of a fetch.

use dsm_sdk::Kline;

use crate::report::FetchSummary;

/// Closed, validated candles of one symbol and interval, sorted by open time, unique, with
/// the fetch's report (gaps, sources per period, requests).
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
    pub summary: FetchSummary,
}

impl Klines {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether some candles in the range are missing (see `summary.gaps`).
    pub fn has_gaps(&self) -> bool {
        !self.summary.gaps.is_empty()
    }

    /// The candles as one Arrow record batch (timestamps in ms, UTC).
    pub fn to_record_batch(&self) -> arrow_array::RecordBatch {
        crate::columnar::to_record_batch(&self.rows)
    }
}
