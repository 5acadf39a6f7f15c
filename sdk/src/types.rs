//! The data that crosses the boundary: requests, candles, batches and reports.

use abi_stable::{
    std_types::{RString, RVec},
    StableAbi,
};

/// One candle. Times are integer milliseconds UTC everywhere in dsm; a plugin converts
/// other units (e.g. microsecond archives) before handing candles over.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Default)]
pub struct Kline {
    pub open_time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub close_time: i64,
    pub quote_volume: f64,
    pub trades: u64,
    pub taker_buy_base_volume: f64,
    pub taker_buy_quote_volume: f64,
}

/// Which of an exchange's sources a request is for. A transparent integer so that sources can
/// be added in a minor version without breaking the layout.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceKind(pub u32);

impl SourceKind {
    /// Bulk archive files (e.g. Binance Vision).
    pub const ARCHIVE: SourceKind = SourceKind(1);
    /// The exchange's REST API.
    pub const LIVE: SourceKind = SourceKind(2);

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::ARCHIVE => "archive",
            SourceKind::LIVE => "rest",
            _ => "unknown",
        }
    }
}

/// What the host asks a plugin for: one market, symbol and interval over the half-open
/// UTC range `[start_ms, end_ms)`, from one source.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct FetchRequest {
    /// Market id as in the manifest, lowercase (`spot`, `um`, `cm`).
    pub market: RString,
    /// Exchange symbol, already validated by the host (`^[A-Z0-9_-]{1,30}$`).
    pub symbol: RString,
    /// dsm interval name as in the manifest (`1s`, `1m`, `1h`, `1d`, `1M`).
    pub interval: RString,
    pub start_ms: i64,
    pub end_ms: i64,
    pub source: SourceKind,
}

/// Candles handed to the host's sink. `covered_start_ms..covered_end_ms` is the range the
/// plugin asked the exchange for in full: every candle the exchange has in that range is in
/// `klines`. The host uses coverage to decide which days are complete.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct KlineBatch {
    pub klines: RVec<Kline>,
    pub source: SourceKind,
    pub covered_start_ms: i64,
    pub covered_end_ms: i64,
}

/// A range the plugin knows it could not serve, and why (e.g. "archive file not published").
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct MissingRange {
    pub start_ms: i64,
    pub end_ms: i64,
    pub reason: RString,
}

/// Summary of one fetch, returned when the plugin is done.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Default)]
pub struct FetchReport {
    /// HTTP requests made, retries included.
    pub requests: u64,
    /// Candles handed to the sink.
    pub klines: u64,
    pub missing: RVec<MissingRange>,
}

/// One funding settlement of a perpetual future. `rate` is the fraction paid per interval
/// (not percent); `mark_price` is NaN where the source does not give it; `interval_ms` is the
/// funding interval the source states for this row (0 when it states none: REST endpoints
/// do not, and intervals change per symbol over time, so none is ever assumed).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Default)]
pub struct FundingRate {
    pub funding_time: i64,
    pub rate: f64,
    pub mark_price: f64,
    pub interval_ms: i64,
}

/// Funding rates handed to the host's sink, with the range covered in full (as
/// [`KlineBatch`]).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct FundingBatch {
    pub rows: RVec<FundingRate>,
    pub source: SourceKind,
    pub covered_start_ms: i64,
    pub covered_end_ms: i64,
}

/// A request for any kind of data ([`crate::DataKind`]): one market and symbol over
/// `[start_ms, end_ms)` from one source; `interval` is empty for kinds without one.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct DataRequest {
    pub kind: crate::DataKind,
    pub market: RString,
    pub symbol: RString,
    pub interval: RString,
    pub start_ms: i64,
    pub end_ms: i64,
    pub source: SourceKind,
}

/// One trade, or one aggregated trade (`first_id..=last_id` the trades it merges; -1 for
/// plain trades). Ordered by `id`: many trades share a millisecond. `quote_qty` is NaN
/// where the source gives none; `qty` is in contracts on COIN-M.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Default)]
pub struct Trade {
    pub id: i64,
    /// Milliseconds UTC (microsecond archives are converted by the plugin).
    pub time: i64,
    pub price: f64,
    pub qty: f64,
    pub quote_qty: f64,
    pub first_id: i64,
    pub last_id: i64,
    /// 1 when the buyer was the maker (the taker sold), else 0.
    pub buyer_maker: u8,
    /// Binance spot's "best price match" flag: 1 or 0; 2 where the source has none.
    pub best_match: u8,
}

/// Trades handed to the host's sink, with the range covered in full.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct TradeBatch {
    pub rows: RVec<Trade>,
    pub source: SourceKind,
    pub covered_start_ms: i64,
    pub covered_end_ms: i64,
}

/// Futures positioning at one 5-minute mark. NaN where the source left a value empty.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Default)]
pub struct Metric {
    pub time: i64,
    /// Open interest in contracts or base units (Binance `sum_open_interest`).
    pub open_interest: f64,
    /// Its value in the quote asset (`sum_open_interest_value`).
    pub open_interest_value: f64,
    /// Long/short ratio of top traders' accounts (`count_toptrader_long_short_ratio`).
    pub top_trader_account_ratio: f64,
    /// Long/short ratio of top traders' positions (`sum_toptrader_long_short_ratio`).
    pub top_trader_position_ratio: f64,
    /// Long/short ratio of all accounts (`count_long_short_ratio`).
    pub account_ratio: f64,
    /// Taker buy/sell volume ratio (`sum_taker_long_short_vol_ratio`).
    pub taker_buy_sell_ratio: f64,
}

/// Metrics handed to the host's sink, with the range covered in full.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct MetricBatch {
    pub rows: RVec<Metric>,
    pub source: SourceKind,
    pub covered_start_ms: i64,
    pub covered_end_ms: i64,
}
