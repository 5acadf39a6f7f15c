//! The result of a fetch.

use dsm_sdk::{DataKind, FundingRate, Kline};

use crate::report::FetchSummary;

/// Closed, validated candles of one symbol and interval, sorted by open time, unique, with
/// the fetch's report (gaps, sources per period, requests).
#[derive(Debug, Clone, PartialEq)]
pub struct Klines {
    /// Klines, or mark, index or premium-index candles.
    pub kind: DataKind,
    /// Provider id.
    pub provider: String,
    /// Market id (canonical, not an alias).
    pub market: String,
    /// Symbol as sent to the exchange.
    pub symbol: String,
    /// Interval name.
    pub interval: String,
    /// The range asked for (end clipped to the time of the request).
    pub start_ms: i64,
    /// End of the range, exclusive.
    pub end_ms: i64,
    /// The candles, ascending by open time, validated and unique.
    pub rows: Vec<Kline>,
    /// Gaps, sources, requests.
    pub summary: FetchSummary,
}

impl Klines {
    /// The number of candles.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No candles.
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

/// Settled funding rates of one perpetual, ascending by funding time, unique, with the
/// fetch's report.
#[derive(Debug, Clone, PartialEq)]
pub struct FundingRates {
    /// Provider id.
    pub provider: String,
    /// Market id.
    pub market: String,
    /// Symbol as sent to the exchange.
    pub symbol: String,
    /// The range asked for (end clipped to the time of the request).
    pub start_ms: i64,
    /// End of the range, exclusive.
    pub end_ms: i64,
    /// The rates, ascending by funding time.
    pub rows: Vec<FundingRate>,
    /// Gaps, sources, requests.
    pub summary: FetchSummary,
}

impl FundingRates {
    /// The rates as one Arrow record batch (funding_time timestamp[ms, UTC], funding_rate,
    /// mark_price and funding_interval_hours, null where the source gives none).
    pub fn to_record_batch(&self) -> arrow_array::RecordBatch {
        use crate::kinds::{Funding, Kind};
        Funding.to_batch(Funding.schema(), &self.rows)
    }
}
