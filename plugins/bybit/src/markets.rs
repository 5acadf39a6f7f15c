//! Bybit's three kline categories, its interval names, and the symbols users may type.

use dsm_plugin_kit::symbol::{split_separated, QUOTE_ASSETS};

/// dsm interval -> Bybit interval.
const INTERVALS: [(&str, &str); 13] = [
    ("1m", "1"),
    ("3m", "3"),
    ("5m", "5"),
    ("15m", "15"),
    ("30m", "30"),
    ("1h", "60"),
    ("2h", "120"),
    ("4h", "240"),
    ("6h", "360"),
    ("12h", "720"),
    ("1d", "D"),
    ("1w", "W"),
    ("1M", "M"),
];

const NAMES: [&str; 13] = [
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Spot,
    /// USDT/USDC-margined contracts.
    Linear,
    /// Coin-margined contracts.
    Inverse,
}

impl Market {
    pub const ALL: [Market; 3] = [Market::Spot, Market::Linear, Market::Inverse];

    /// The market for a manifest id or alias (the host passes ids; aliases work too).
    pub fn from_name(name: &str) -> Option<Market> {
        match name.to_ascii_lowercase().as_str() {
            "spot" => Some(Market::Spot),
            "linear" | "usdt_perp" | "usdt_futures" | "perp" => Some(Market::Linear),
            "inverse" | "coin_perp" | "inverse_perp" => Some(Market::Inverse),
            _ => None,
        }
    }

    /// Manifest id, also Bybit's `category`.
    pub fn id(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Linear => "linear",
            Market::Inverse => "inverse",
        }
    }

    pub fn intervals(self) -> &'static [&'static str] {
        &NAMES
    }

    pub fn symbol_example(self) -> &'static str {
        match self {
            Market::Spot | Market::Linear => "BTCUSDT",
            Market::Inverse => "BTCUSD",
        }
    }

    /// Bybit's symbol for what the user typed (uppercase): as is, except `BTC-USDT`,
    /// `BTC_USDT` (a known quote asset after one separator) -> `BTCUSDT`, and on inverse
    /// Binance's `BTCUSD_PERP` -> `BTCUSD`.
    pub fn symbol(self, typed: &str) -> String {
        let typed = match self {
            Market::Inverse => typed.strip_suffix("_PERP").unwrap_or(typed),
            _ => typed,
        };
        match split_separated(typed) {
            Some((base, quote)) if QUOTE_ASSETS.contains(&quote) => format!("{base}{quote}"),
            _ => typed.to_string(),
        }
    }
}

/// Bybit's interval for a dsm interval the manifest lists.
pub fn bybit_interval(name: &str) -> Option<&'static str> {
    INTERVALS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_sdk::PluginInfo;

    #[test]
    fn manifest_matches_the_code() {
        let info: PluginInfo = serde_json::from_str(include_str!("../manifest.json")).unwrap();
        assert_eq!(info.id, "bybit");
        assert_eq!(info.endpoints, ["rest"]);
        assert_eq!(info.markets.len(), Market::ALL.len());
        for (m, info) in Market::ALL.iter().zip(&info.markets) {
            assert_eq!(info.id, m.id());
            assert_eq!(info.intervals, m.intervals());
            assert_eq!(info.max_page, crate::fetch::PAGE);
            assert_eq!(info.symbol_example, m.symbol_example());
            assert!(!info.archive);
            for alias in &info.aliases {
                assert_eq!(Market::from_name(alias), Some(*m));
            }
            for iv in &info.intervals {
                assert!(bybit_interval(iv).is_some(), "{iv}");
            }
        }
    }

    #[test]
    fn symbol_forms() {
        assert_eq!(Market::Spot.symbol("BTCUSDT"), "BTCUSDT");
        assert_eq!(Market::Spot.symbol("BTC-USDT"), "BTCUSDT");
        assert_eq!(Market::Linear.symbol("ETH_USDT"), "ETHUSDT");
        assert_eq!(Market::Linear.symbol("BTC-26DEC25"), "BTC-26DEC25");
        assert_eq!(Market::Inverse.symbol("BTCUSD_PERP"), "BTCUSD");
        assert_eq!(Market::Inverse.symbol("BTCUSDH25"), "BTCUSDH25");
    }

    #[test]
    fn intervals_map() {
        assert_eq!(bybit_interval("1h"), Some("60"));
        assert_eq!(bybit_interval("1d"), Some("D"));
        assert_eq!(bybit_interval("1M"), Some("M"));
        assert_eq!(bybit_interval("8h"), None);
    }
}
