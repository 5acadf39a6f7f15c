//! OKX's candle series by data kind: the endpoint, its rate budget, its row layout and
//! which instrument id it takes. Everything else about a candle fetch is shared (fetch.rs).
//!
//! | kind   | endpoint                                  | instId          | rate    |
//! |--------|-------------------------------------------|-----------------|---------|
//! | klines | /api/v5/market/history-candles            | BTC-USDT-SWAP   | 20/2 s  |
//! | mark   | /api/v5/market/history-mark-price-candles | BTC-USDT-SWAP   | 10/2 s* |
//! | index  | /api/v5/market/history-index-candles      | BTC-USDT (index)| 10/2 s  |
//!
//! *20 in newer docs, 10 in older ones: the lower budget is kept. Mark and index rows are
//! `[ts, o, h, l, c, confirm]` (no volumes: 0 in dsm). Premium is points on OKX
//! (`public/premium-history`), not candles, so no series.

use std::sync::LazyLock;
use std::time::Duration;

use dsm_plugin_kit::RateLimiter;
use dsm_sdk::DataKind;

/// One candle endpoint.
pub struct Series {
    pub kind: DataKind,
    pub path: &'static str,
    /// The process-wide budget of the endpoint (every provider instance shares the IP).
    pub rate: &'static LazyLock<RateLimiter>,
    /// Whether rows carry the volume columns (history-candles' 9-cell rows).
    pub volumes: bool,
    /// Whether the endpoint takes the index id (`BTC-USD`) rather than the swap's.
    pub index_id: bool,
}

static CANDLES_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(20, Duration::from_secs(2)));
static MARK_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(10, Duration::from_secs(2)));
static INDEX_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(10, Duration::from_secs(2)));

pub static KLINES: Series = Series {
    kind: DataKind::KLINES,
    path: "/api/v5/market/history-candles",
    rate: &CANDLES_RATE,
    volumes: true,
    index_id: false,
};

pub static MARK: Series = Series {
    kind: DataKind::MARK,
    path: "/api/v5/market/history-mark-price-candles",
    rate: &MARK_RATE,
    volumes: false,
    index_id: false,
};

pub static INDEX: Series = Series {
    kind: DataKind::INDEX,
    path: "/api/v5/market/history-index-candles",
    rate: &INDEX_RATE,
    volumes: false,
    index_id: true,
};

impl Series {
    /// The series of a candle-shaped kind OKX has.
    pub fn of(kind: DataKind) -> Option<&'static Series> {
        [&KLINES, &MARK, &INDEX]
            .into_iter()
            .find(|s| s.kind == kind)
    }

    /// Index of the confirm cell.
    pub fn confirm_col(&self) -> usize {
        if self.volumes {
            8
        } else {
            5
        }
    }

    /// The instId this endpoint takes for an instrument: the index of a swap is its
    /// underlying (`BTC-USDT-SWAP` -> `BTC-USDT`, `BTC-USD-SWAP` -> `BTC-USD`).
    pub fn inst_id(&self, inst_id: &str) -> String {
        match inst_id.strip_suffix("-SWAP") {
            Some(underlying) if self.index_id => underlying.to_string(),
            _ => inst_id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_endpoints_and_instruments() {
        assert_eq!(Series::of(DataKind::KLINES).unwrap().confirm_col(), 8);
        let mark = Series::of(DataKind::MARK).unwrap();
        assert_eq!(mark.confirm_col(), 5);
        assert_eq!(mark.inst_id("BTC-USD-SWAP"), "BTC-USD-SWAP");
        let index = Series::of(DataKind::INDEX).unwrap();
        assert_eq!(index.inst_id("BTC-USD-SWAP"), "BTC-USD");
        assert_eq!(index.inst_id("ETH-USDT-SWAP"), "ETH-USDT");
        assert!(Series::of(DataKind::PREMIUM).is_none());
        assert!(Series::of(DataKind::FUNDING).is_none());
    }
}
