//! Data kinds: what a series holds (candles, funding rates, ...). The id crosses the boundary
//! in a [`crate::DataRequest`]; the names and shapes are plain Rust shared by host and plugins.

use abi_stable::StableAbi;

/// A kind of market data. A transparent integer so kinds can be added without changing any
/// layout; a plugin answers a kind it does not know with `UNSUPPORTED_SOURCE`.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataKind(pub u32);

/// How a kind's rows look on the wire between plugin and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// [`crate::Kline`] rows on an interval grid (pushed as `KlineBatch`).
    Candles,
    /// [`crate::FundingRate`] rows at settlement times, no grid (pushed as `FundingBatch`).
    Funding,
    /// [`crate::Trade`] rows, ordered by id (pushed as `TradeBatch`).
    Trades,
    /// [`crate::Metric`] rows every 5 minutes: open interest and long/short ratios
    /// (pushed as `MetricBatch`).
    Metrics,
}

impl DataKind {
    /// Exchange candles (the original kind; `Provider::fetch`).
    pub const KLINES: DataKind = DataKind(0);
    /// Funding rate history of perpetual futures.
    pub const FUNDING: DataKind = DataKind(1);
    /// Mark price candles (only OHLC carry data).
    pub const MARK: DataKind = DataKind(2);
    /// Index price candles (only OHLC carry data).
    pub const INDEX: DataKind = DataKind(3);
    /// Premium index candles (OHLC are signed fractions).
    pub const PREMIUM: DataKind = DataKind(4);
    /// Aggregated trades (Binance aggTrades: fills of one taker order at one price).
    pub const AGG_TRADES: DataKind = DataKind(5);
    /// Individual trades.
    pub const TRADES: DataKind = DataKind(6);
    /// Futures positioning every 5 minutes: open interest and long/short ratios.
    pub const METRICS: DataKind = DataKind(7);

    /// Every kind this SDK knows, in display order.
    pub const ALL: [DataKind; 8] = [
        DataKind::KLINES,
        DataKind::FUNDING,
        DataKind::MARK,
        DataKind::INDEX,
        DataKind::PREMIUM,
        DataKind::AGG_TRADES,
        DataKind::TRADES,
        DataKind::METRICS,
    ];

    /// The name users type and the cache directory (`klines`, `funding`, `mark`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DataKind::KLINES => "klines",
            DataKind::FUNDING => "funding",
            DataKind::MARK => "mark",
            DataKind::INDEX => "index",
            DataKind::PREMIUM => "premium",
            DataKind::AGG_TRADES => "agg-trades",
            DataKind::TRADES => "trades",
            DataKind::METRICS => "metrics",
            _ => "unknown",
        }
    }

    /// The kind named `name` (case-insensitive; `candles`, `funding-rate`, `mark-price` ...
    /// accepted too).
    pub fn parse(name: &str) -> Option<DataKind> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "klines" | "kline" | "candles" => Some(DataKind::KLINES),
            "funding" | "funding-rate" | "funding-rates" | "fundingrate" => Some(DataKind::FUNDING),
            "mark" | "mark-price" | "markpriceklines" => Some(DataKind::MARK),
            "index" | "index-price" | "indexpriceklines" => Some(DataKind::INDEX),
            "premium" | "premium-index" | "premiumindexklines" => Some(DataKind::PREMIUM),
            "agg-trades" | "aggtrades" | "aggtrade" => Some(DataKind::AGG_TRADES),
            "trades" | "trade" => Some(DataKind::TRADES),
            "metrics" | "open-interest" => Some(DataKind::METRICS),
            _ => None,
        }
    }

    /// The names of every kind, for error messages.
    pub fn names() -> Vec<&'static str> {
        DataKind::ALL.iter().map(|k| k.name()).collect()
    }

    pub fn shape(self) -> Shape {
        match self {
            DataKind::FUNDING => Shape::Funding,
            DataKind::AGG_TRADES | DataKind::TRADES => Shape::Trades,
            DataKind::METRICS => Shape::Metrics,
            _ => Shape::Candles,
        }
    }

    /// Whether requests of this kind name an interval (candles do, funding does not).
    pub fn has_interval(self) -> bool {
        self.shape() == Shape::Candles
    }
}

impl std::fmt::Display for DataKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for k in DataKind::ALL {
            assert_eq!(DataKind::parse(k.name()), Some(k));
            assert_eq!(DataKind::parse(&k.name().to_uppercase()), Some(k));
        }
        assert_eq!(DataKind::parse("funding_rate"), Some(DataKind::FUNDING));
        assert_eq!(DataKind::parse("aggTrades"), Some(DataKind::AGG_TRADES));
        assert!(!DataKind::TRADES.has_interval() && !DataKind::METRICS.has_interval());
        assert_eq!(DataKind::parse("trades-ish"), None);
        assert_eq!(DataKind(99).name(), "unknown");
    }
}
