//! Bybit's three kline categories, its interval names, and the symbols users may type.

use dsm_plugin_kit::manifest::EmbeddedManifest;
use dsm_plugin_kit::symbol::{split_separated, QUOTE_ASSETS};
use dsm_sdk::{MarketInfo, PluginInfo};

/// The one source of the markets' aliases, intervals and symbol examples.
static MANIFEST: EmbeddedManifest = EmbeddedManifest::new(include_str!("../manifest.json"));

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

/// The whole manifest (for the kinds each market serves).
pub fn manifest() -> &'static PluginInfo {
    MANIFEST.info()
}

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
        let id = &MANIFEST.find(name)?.id;
        Market::ALL.into_iter().find(|m| m.id() == id)
    }

    /// This market's entry in the manifest.
    pub fn info(self) -> &'static MarketInfo {
        MANIFEST.market(self.id())
    }

    /// Manifest id, also Bybit's `category`.
    pub fn id(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Linear => "linear",
            Market::Inverse => "inverse",
        }
    }

    /// The dsm interval names the manifest lists (each has a Bybit name in `INTERVALS`).
    pub fn intervals(self) -> &'static [String] {
        &self.info().intervals
    }

    pub fn symbol_example(self) -> &'static str {
        &self.info().symbol_example
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

    #[test]
    fn the_manifest_has_every_market_the_code_knows() {
        let info = MANIFEST.info();
        assert_eq!(info.id, "bybit");
        assert_eq!(info.endpoints, ["rest"]);
        assert_eq!(info.markets.len(), Market::ALL.len());
        for m in Market::ALL {
            let listed = m.info();
            assert_eq!(Market::from_name(&listed.id), Some(m));
            for alias in &listed.aliases {
                assert_eq!(Market::from_name(alias), Some(m));
            }
            assert_eq!(listed.max_page, crate::fetch::PAGE);
            assert!(!listed.archive);
            for iv in m.intervals() {
                assert!(bybit_interval(iv).is_some(), "{iv}");
            }
            for offer in listed.offers() {
                assert!(!offer.archive);
                for iv in &offer.intervals {
                    assert!(m.intervals().contains(iv), "{iv}");
                }
                let series = crate::series::Series::of(offer.kind);
                assert_eq!(
                    series.is_some(),
                    offer.kind.has_interval(),
                    "{}",
                    offer.kind
                );
            }
        }
        let kinds =
            |m: Market| -> Vec<&str> { m.info().offers().iter().map(|o| o.kind.name()).collect() };
        assert_eq!(kinds(Market::Spot), ["klines"]);
        assert_eq!(
            kinds(Market::Linear),
            ["klines", "funding", "mark", "index", "premium"]
        );
        assert_eq!(
            kinds(Market::Inverse),
            ["klines", "funding", "mark", "index"]
        );
        assert_eq!(Market::from_name("USDT_PERP"), Some(Market::Linear));
        assert_eq!(Market::from_name("option"), None);
        assert_eq!(Market::Inverse.symbol_example(), "BTCUSD");
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
