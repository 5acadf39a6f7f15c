//! Binance's three kline markets and what differs between them. What the manifest lists
//! (aliases, intervals, page sizes, symbol examples) is read from it, not repeated here.

use dsm_plugin_kit::manifest::EmbeddedManifest;
use dsm_sdk::time::DAY_MS;
use dsm_sdk::MarketInfo;

static MANIFEST: EmbeddedManifest = EmbeddedManifest::new(include_str!("../manifest.json"));

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
        let id = &MANIFEST.find(name)?.id;
        Market::ALL.into_iter().find(|m| m.id() == id)
    }

    /// This market's entry in the manifest.
    pub fn info(self) -> &'static MarketInfo {
        MANIFEST.market(self.id())
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

    /// Funding rate history. Spot has none: the request check refuses it before.
    pub fn funding_path(self) -> &'static str {
        match self {
            Market::Cm => "/dapi/v1/fundingRate",
            Market::Spot | Market::Um => "/fapi/v1/fundingRate",
        }
    }

    /// Largest `limit` the klines endpoint accepts (the manifest's `max_page`).
    pub fn max_page(self) -> u32 {
        self.info().max_page
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

    /// The klines request weights: for each step, the largest `limit` it covers and its
    /// weight, ascending (the last step's limit is the largest page). Spot weighs 2 at any
    /// limit; futures by `limit`: 1 / 2 / 5 / 10 under 100 / under 500 / up to 1000 / more.
    fn weight_steps(self) -> &'static [(u32, u32)] {
        match self {
            Market::Spot => &[(1000, 2)],
            Market::Um | Market::Cm => &[(99, 1), (499, 2), (1000, 5), (1500, 10)],
        }
    }

    /// Weight of one klines request of `limit` candles.
    pub fn request_weight(self, limit: u32) -> u32 {
        let steps = self.weight_steps();
        let step = steps.iter().find(|(max, _)| limit <= *max);
        step.unwrap_or(&steps[steps.len() - 1]).1
    }

    /// The page sizes worth asking for: the largest `limit` of each request weight, with
    /// that weight, ascending, the last the largest page.
    pub fn page_sizes(self) -> impl Iterator<Item = (u32, u32)> {
        self.weight_steps().iter().copied()
    }

    /// The dsm interval names the manifest lists (spot has `1s` on top of the futures').
    pub fn intervals(self) -> &'static [String] {
        &self.info().intervals
    }

    pub fn symbol_example(self) -> &'static str {
        &self.info().symbol_example
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_has_every_market_the_code_knows() {
        let info = MANIFEST.info();
        assert_eq!(info.id, "binance");
        assert_eq!(
            info.endpoints,
            ["spot", "um", "cm", "vision", "vision_listing"]
        );
        assert_eq!(info.markets.len(), Market::ALL.len());
        for m in Market::ALL {
            let listed = m.info();
            assert_eq!(Market::from_name(&listed.id), Some(m));
            assert_eq!(Market::from_name(&listed.id.to_uppercase()), Some(m));
            for alias in &listed.aliases {
                assert_eq!(Market::from_name(alias), Some(m));
            }
            assert!(listed.archive);
            for iv in m.intervals() {
                assert!(dsm_sdk::interval::Interval::parse(iv).is_ok(), "{iv}");
            }
        }
        assert_eq!(Market::from_name("usdm"), Some(Market::Um));
        assert_eq!(Market::from_name("options"), None);
        assert_eq!(Market::Spot.intervals()[0], "1s");
        assert!(!Market::Um.intervals().iter().any(|i| i == "1s"));
        assert_eq!(
            (Market::Spot.max_page(), Market::Cm.max_page()),
            (1000, 1500)
        );
        assert_eq!(Market::Cm.symbol_example(), "BTCUSD_PERP");
    }

    #[test]
    fn futures_serve_every_kind_spot_klines_and_trades() {
        use dsm_sdk::DataKind;
        let spot: Vec<DataKind> = Market::Spot
            .info()
            .offers()
            .iter()
            .map(|o| o.kind)
            .collect();
        assert_eq!(
            spot,
            [DataKind::KLINES, DataKind::AGG_TRADES, DataKind::TRADES]
        );
        assert!(Market::Spot
            .info()
            .offers()
            .iter()
            .all(|o| o.archive && o.rest));
        for m in [Market::Um, Market::Cm] {
            let offers = m.info().offers();
            let kinds: Vec<DataKind> = offers.iter().map(|o| o.kind).collect();
            assert_eq!(kinds, DataKind::ALL, "{m:?}");
            // Raw trades and metrics come from the archive only (futures historicalTrades
            // needs an API key); aggregated trades from REST too, for recent days.
            let archive_only = [DataKind::TRADES, DataKind::METRICS];
            assert!(offers
                .iter()
                .all(|o| o.archive && o.rest != archive_only.contains(&o.kind)));
            let mark = m.info().offer(DataKind::MARK).unwrap();
            assert_eq!(mark.intervals, m.intervals());
            assert!(m
                .info()
                .offer(DataKind::FUNDING)
                .unwrap()
                .intervals
                .is_empty());
        }
    }

    #[test]
    fn futures_weights_follow_limit() {
        assert_eq!(Market::Um.request_weight(99), 1);
        assert_eq!(Market::Um.request_weight(499), 2);
        assert_eq!(Market::Cm.request_weight(1000), 5);
        assert_eq!(Market::Um.request_weight(1500), 10);
        assert_eq!(Market::Spot.request_weight(1000), 2);
        assert_eq!(
            [100, 500, 1001].map(|l| Market::Um.request_weight(l)),
            [2, 5, 10]
        );
        for m in Market::ALL {
            let last = m.page_sizes().last().unwrap();
            assert_eq!(
                last.0,
                m.max_page(),
                "{m:?}: the last step is the largest page"
            );
        }
    }
}
