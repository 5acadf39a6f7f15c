//! Binance's three kline markets and what differs between them.

const FUTURES_INTERVALS: &[&str] = &[
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
];
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Spot,
    /// USD-M futures (fapi).
    Um,
    /// COIN-M futures (dapi).
    Cm,
}

impl Market {
    pub const ALL: [Market; 3] = [Market::Spot, Market::Um, Market::Cm];

    /// The market for a manifest id or alias (the host passes ids; aliases are accepted too).
    pub fn from_name(name: &str) -> Option<Market> {
        match name.to_ascii_lowercase().as_str() {
            "spot" => Some(Market::Spot),
            "um" | "usdm" | "futures_usdt" => Some(Market::Um),
            "cm" | "coinm" | "futures_coin" => Some(Market::Cm),
            _ => None,
        }
    }

    /// Manifest id, also the endpoint key (`DSM_BINANCE_<ID>_URL`).
    pub fn id(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Um => "um",
            Market::Cm => "cm",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Market::Spot => "https://api.binance.com",
            Market::Um => "https://fapi.binance.com",
            Market::Cm => "https://dapi.binance.com",
        }
    }

    pub fn klines_path(self) -> &'static str {
        match self {
            Market::Spot => "/api/v3/klines",
            Market::Um => "/fapi/v1/klines",
            Market::Cm => "/dapi/v1/klines",
        }
    }

    /// Largest `limit` the klines endpoint accepts (the manifest's `max_page`).
    pub fn max_page(self) -> u32 {
        match self {
            Market::Spot => 1000,
            Market::Um | Market::Cm => 1500,
        }
    }

    /// COIN-M accepts `endTime - startTime` of at most 200 days.
    pub fn max_span_ms(self) -> Option<i64> {
        (self == Market::Cm).then_some(200 * DAY_MS)
    }

    /// COIN-M returns the NEWEST `limit` candles of a window, the others the oldest.
    pub fn newest_first(self) -> bool {
        self == Market::Cm
    }

    /// REQUEST_WEIGHT per minute: spot 6000, futures 2400.
    pub fn weight_limit(self) -> u32 {
        match self {
            Market::Spot => 6000,
            Market::Um | Market::Cm => 2400,
        }
    }

    /// Weight of one klines request: spot 2; futures by `limit`.
    pub fn request_weight(self, limit: u32) -> u32 {
        match (self, limit) {
            (Market::Spot, _) => 2,
            (_, 0..=99) => 1,
            (_, 100..=499) => 2,
            (_, 500..=1000) => 5,
            _ => 10,
        }
    }

    pub fn intervals(self) -> &'static [&'static str] {
        match self {
            Market::Spot => &SPOT_INTERVALS,
            Market::Um | Market::Cm => FUTURES_INTERVALS,
        }
    }

    pub fn symbol_example(self) -> &'static str {
        match self {
            Market::Spot | Market::Um => "BTCUSDT",
            Market::Cm => "BTCUSD_PERP",
        }
    }
}

/// Spot has `1s` on top of the futures intervals.
const SPOT_INTERVALS: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_sdk::PluginInfo;

    #[test]
    fn manifest_matches_the_code() {
        let info: PluginInfo = serde_json::from_str(include_str!("../manifest.json")).unwrap();
        assert_eq!(info.id, "binance");
        assert_eq!(info.endpoints, ["spot", "um", "cm", "vision"]);
        for (m, info) in Market::ALL.iter().zip(&info.markets) {
            assert_eq!(info.id, m.id());
            assert_eq!(info.intervals, m.intervals());
            assert_eq!(info.max_page, m.max_page());
            assert_eq!(info.symbol_example, m.symbol_example());
            assert!(info.archive);
            for alias in &info.aliases {
                assert_eq!(Market::from_name(alias), Some(*m));
            }
        }
    }

    #[test]
    fn futures_weights_follow_limit() {
        assert_eq!(Market::Um.request_weight(99), 1);
        assert_eq!(Market::Um.request_weight(499), 2);
        assert_eq!(Market::Cm.request_weight(1000), 5);
        assert_eq!(Market::Um.request_weight(1500), 10);
        assert_eq!(Market::Spot.request_weight(1000), 2);
    }
}
