//! OKX's two candle markets, its bar names, and the instrument ids users may type.

use dsm_plugin_kit::manifest::EmbeddedManifest;
use dsm_plugin_kit::symbol::{split_concatenated, split_separated, QUOTE_ASSETS};
use dsm_sdk::{ErrorKind, MarketInfo, PluginInfo, ProviderError};

/// The one source of the markets' aliases, intervals and symbol examples.
static MANIFEST: EmbeddedManifest = EmbeddedManifest::new(include_str!("../manifest.json"));

/// dsm interval -> OKX bar. From 6h on, the UTC-aligned bars (`...utc`); plain `6H`, `1D`,
/// `1W`, `1M` open at midnight Hong Kong time (UTC+8).
const BARS: [(&str, &str); 13] = [
    ("1m", "1m"),
    ("3m", "3m"),
    ("5m", "5m"),
    ("15m", "15m"),
    ("30m", "30m"),
    ("1h", "1H"),
    ("2h", "2H"),
    ("4h", "4H"),
    ("6h", "6Hutc"),
    ("12h", "12Hutc"),
    ("1d", "1Dutc"),
    ("1w", "1Wutc"),
    ("1M", "1Mutc"),
];

/// The whole manifest (for the kinds each market serves).
pub fn manifest() -> &'static PluginInfo {
    MANIFEST.info()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Spot,
    /// Perpetual swaps, USDT- and coin-margined.
    Swap,
}

impl Market {
    pub const ALL: [Market; 2] = [Market::Spot, Market::Swap];

    /// The market for a manifest id or alias (the host passes ids; aliases work too).
    pub fn from_name(name: &str) -> Option<Market> {
        let id = &MANIFEST.find(name)?.id;
        Market::ALL.into_iter().find(|m| m.id() == id)
    }

    /// This market's entry in the manifest.
    pub fn info(self) -> &'static MarketInfo {
        MANIFEST.market(self.id())
    }

    pub fn id(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Swap => "swap",
        }
    }

    /// The dsm interval names the manifest lists (each has a bar in `BARS`).
    pub fn intervals(self) -> &'static [String] {
        &self.info().intervals
    }

    pub fn symbol_example(self) -> &'static str {
        &self.info().symbol_example
    }

    /// The instrument id form, for messages.
    pub fn form(self) -> &'static str {
        match self {
            Market::Spot => "BASE-QUOTE instrument ids, e.g. BTC-USDT (BTCUSDT works too)",
            Market::Swap => {
                "BASE-QUOTE-SWAP instrument ids, e.g. BTC-USDT-SWAP or BTC-USD-SWAP \
                 (BTCUSDT and BTCUSD work too)"
            }
        }
    }

    /// OKX's instrument id for what the user typed (already uppercase): the exchange's own
    /// form as is; dsm's usual `BTCUSDT` split at the longest known quote asset; `BTC_USDT`
    /// and (swaps) `BTC-USDT` / `BTCUSD_PERP` completed.
    pub fn inst_id(self, symbol: &str) -> Result<String, ProviderError> {
        let (base, quote) = match self {
            Market::Spot => {
                if let Some((b, q)) = split_separated(symbol) {
                    (b, q)
                } else if symbol.contains('-') {
                    return Ok(symbol.to_string());
                } else if let Some(bq) = split_concatenated(symbol, QUOTE_ASSETS) {
                    bq
                } else {
                    return Err(self.unsplittable(symbol));
                }
            }
            Market::Swap => {
                if symbol.ends_with("-SWAP") {
                    return Ok(symbol.to_string());
                }
                let bare = symbol
                    .strip_suffix("_PERP")
                    .or_else(|| symbol.strip_suffix("-PERP"))
                    .unwrap_or(symbol);
                if let Some((b, q)) = split_separated(bare) {
                    (b, q)
                } else if bare.contains('-') {
                    // Some other OKX instrument (a dated future, say): OKX will say.
                    return Ok(bare.to_string());
                } else if let Some(bq) = split_concatenated(bare, QUOTE_ASSETS) {
                    bq
                } else {
                    return Err(self.unsplittable(symbol));
                }
            }
        };
        Ok(match self {
            Market::Spot => format!("{base}-{quote}"),
            Market::Swap => format!("{base}-{quote}-SWAP"),
        })
    }

    fn unsplittable(self, symbol: &str) -> ProviderError {
        ProviderError::new(
            ErrorKind::INVALID_SYMBOL,
            format!(
                "OKX {} cannot tell base from quote in {symbol}: it expects {}",
                self.id(),
                self.form()
            ),
        )
    }
}

/// OKX's bar for a dsm interval the manifest lists.
pub fn bar(interval: &str) -> Option<&'static str> {
    BARS.iter().find(|(i, _)| *i == interval).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_has_every_market_the_code_knows() {
        let info = MANIFEST.info();
        assert_eq!(info.id, "okx");
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
                assert!(bar(iv).is_some(), "{iv}");
            }
            for offer in listed.offers() {
                assert!(!offer.archive);
                for iv in &offer.intervals {
                    assert!(m.intervals().contains(iv) && bar(iv).is_some(), "{iv}");
                }
                let candles = offer.kind.has_interval();
                let series = crate::series::Series::of(offer.kind);
                assert_eq!(series.is_some(), candles, "{}", offer.kind);
            }
        }
        let kinds =
            |m: Market| -> Vec<&str> { m.info().offers().iter().map(|o| o.kind.name()).collect() };
        assert_eq!(kinds(Market::Spot), ["klines"]);
        assert_eq!(
            kinds(Market::Swap),
            ["klines", "funding", "mark", "index", "trades"]
        );
        assert_eq!(Market::from_name("PERP"), Some(Market::Swap));
        assert_eq!(Market::from_name("futures"), None);
        assert_eq!(Market::Swap.symbol_example(), "BTC-USDT-SWAP");
    }

    #[test]
    fn bars_are_utc_aligned_from_6h() {
        assert_eq!(bar("1h"), Some("1H"));
        assert_eq!(bar("4h"), Some("4H"));
        assert_eq!(bar("6h"), Some("6Hutc"));
        assert_eq!(bar("1d"), Some("1Dutc"));
        assert_eq!(bar("1M"), Some("1Mutc"));
        assert_eq!(bar("8h"), None);
    }

    #[test]
    fn symbol_forms() {
        let spot = |s| Market::Spot.inst_id(s);
        let swap = |s| Market::Swap.inst_id(s);
        assert_eq!(spot("BTCUSDT").unwrap(), "BTC-USDT");
        assert_eq!(spot("BTC-USDT").unwrap(), "BTC-USDT");
        assert_eq!(spot("BTC_USDT").unwrap(), "BTC-USDT");
        assert_eq!(spot("ETHBTC").unwrap(), "ETH-BTC");
        assert_eq!(spot("USDCUSDT").unwrap(), "USDC-USDT");
        assert_eq!(swap("BTCUSDT").unwrap(), "BTC-USDT-SWAP");
        assert_eq!(swap("BTCUSD").unwrap(), "BTC-USD-SWAP");
        assert_eq!(swap("BTC-USDT").unwrap(), "BTC-USDT-SWAP");
        assert_eq!(swap("BTCUSD_PERP").unwrap(), "BTC-USD-SWAP");
        assert_eq!(swap("BTC-USD-SWAP").unwrap(), "BTC-USD-SWAP");
        assert_eq!(swap("BTC-USD-250328").unwrap(), "BTC-USD-250328");
        let e = spot("BTCXYZ").unwrap_err();
        assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
        assert!(
            e.message.contains("BTCXYZ") && e.message.contains("BTC-USDT"),
            "{e}"
        );
        let e = swap("FOO").unwrap_err();
        assert!(e.message.contains("BTC-USDT-SWAP"), "{e}");
    }
}
