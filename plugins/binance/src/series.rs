//! The candle-shaped series Binance serves (klines and the mark, index and premium index
//! klines of futures): one code path for all of them, this enum choosing the URL words and
//! what of a row carries data (docs: wire-formats-datasets.md 2.1-2.2).

use dsm_sdk::DataKind;

use crate::markets::Market;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Klines,
    Mark,
    Index,
    Premium,
}

impl Series {
    /// The series of a candle-shaped kind; `None` for other kinds.
    pub fn of(kind: DataKind) -> Option<Series> {
        match kind {
            DataKind::KLINES => Some(Series::Klines),
            DataKind::MARK => Some(Series::Mark),
            DataKind::INDEX => Some(Series::Index),
            DataKind::PREMIUM => Some(Series::Premium),
            _ => None,
        }
    }

    /// The endpoint's path word and the Vision directory word (they are the same).
    fn word(self) -> &'static str {
        match self {
            Series::Klines => "klines",
            Series::Mark => "markPriceKlines",
            Series::Index => "indexPriceKlines",
            Series::Premium => "premiumIndexKlines",
        }
    }

    /// REST path, e.g. `/dapi/v1/markPriceKlines` (spot has klines only: the host asks
    /// only what the manifest lists).
    pub fn rest_path(self, market: Market) -> String {
        let klines = market.klines_path();
        match self {
            Series::Klines => klines.to_string(),
            other => klines.replace("klines", other.word()),
        }
    }

    /// The REST query's name for the instrument: index klines take the `pair`.
    pub fn param(self) -> &'static str {
        match self {
            Series::Index => "pair",
            _ => "symbol",
        }
    }

    /// What the URL (REST query and Vision path) names: the pair for index klines
    /// (um BTCUSDT -> BTCUSDT, cm BTCUSD_PERP -> BTCUSD), else the symbol.
    pub fn instrument(self, symbol: &str) -> &str {
        match self {
            Series::Index => symbol.split('_').next().unwrap_or(symbol),
            _ => symbol,
        }
    }

    /// Vision's directory word under `{daily|monthly}/`.
    pub fn vision_dir(self) -> &'static str {
        self.word()
    }

    /// Only open, high, low, close carry data: the volume columns are placeholders (the
    /// docs show `"0 "` with a space), never parsed, set to 0.
    pub fn ohlc_only(self) -> bool {
        self != Series::Klines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_paths_and_pairs() {
        assert_eq!(Series::Klines.rest_path(Market::Spot), "/api/v3/klines");
        assert_eq!(
            Series::Mark.rest_path(Market::Um),
            "/fapi/v1/markPriceKlines"
        );
        assert_eq!(
            Series::Index.rest_path(Market::Cm),
            "/dapi/v1/indexPriceKlines"
        );
        assert_eq!(
            Series::Premium.rest_path(Market::Cm),
            "/dapi/v1/premiumIndexKlines"
        );
        assert_eq!(Series::Index.instrument("BTCUSD_PERP"), "BTCUSD");
        assert_eq!(Series::Index.instrument("BTCUSDT"), "BTCUSDT");
        assert_eq!(Series::Mark.instrument("BTCUSD_PERP"), "BTCUSD_PERP");
        assert_eq!(
            (Series::Index.param(), Series::Mark.param()),
            ("pair", "symbol")
        );
        assert!(!Series::Klines.ohlc_only() && Series::Premium.ohlc_only());
        assert_eq!(Series::of(DataKind::FUNDING), None);
        assert_eq!(Series::of(DataKind::INDEX), Some(Series::Index));
    }
}
