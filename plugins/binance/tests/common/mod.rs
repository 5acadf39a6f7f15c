//! What the kinds tests share: the fake exchange and a provider with every endpoint on it.

#![allow(dead_code)] // each test file uses a part

use dsm_binance::BinanceProvider;
use dsm_plugin_kit::testing::{Collect, TestHost};
use dsm_sdk::{
    plugin::Plugin, DataKind, DataRequest, Endpoint, FetchReport, FundingRate, LogLevel,
    ProviderConfig, ProviderError, SourceKind,
};
use dsm_tests::fake::FakeExchange;

pub const DAY: i64 = 86_400_000;
pub const HOUR: i64 = 3_600_000;

pub struct Setup {
    pub fake: FakeExchange,
    pub provider: BinanceProvider,
    pub host: TestHost,
}

pub fn setup() -> Setup {
    let fake = FakeExchange::start();
    let endpoints = ["spot", "um", "cm", "vision"].map(|k| Endpoint {
        key: k.into(),
        url: fake.url().into(),
    });
    let config = ProviderConfig {
        concurrency: 4,
        retries: 2,
        backoff_base_ms: 5,
        backoff_max_ms: 20,
        endpoints: endpoints.to_vec().into(),
        ..ProviderConfig::default()
    };
    let host = TestHost::new();
    let provider = BinanceProvider::new(config, host.host(LogLevel::DEBUG)).unwrap();
    Setup {
        fake,
        provider,
        host,
    }
}

pub fn request(
    kind: DataKind,
    market: &str,
    symbol: &str,
    interval: &str,
    (start_ms, end_ms): (i64, i64),
    source: SourceKind,
) -> DataRequest {
    DataRequest {
        kind,
        market: market.into(),
        symbol: symbol.into(),
        interval: interval.into(),
        start_ms,
        end_ms,
        source,
    }
}

impl Setup {
    pub fn fetch(&self, req: &DataRequest) -> (Result<FetchReport, ProviderError>, Collect) {
        let mut out = Collect::default();
        let got = self.provider.fetch_data_into(req, &mut out);
        (got, out)
    }

    /// Requests the fake received whose path ends with `suffix`.
    pub fn hits(&self, suffix: &str) -> Vec<dsm_tests::fake::RequestRecord> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }
}

/// Equal field by field, NaN mark prices equal to each other.
pub fn assert_same_rates(got: &[FundingRate], want: &[FundingRate]) {
    assert_eq!(got.len(), want.len(), "row counts differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same = g.funding_time == w.funding_time
            && g.rate == w.rate
            && g.interval_ms == w.interval_ms
            && g.mark_price.to_bits() == w.mark_price.to_bits();
        assert!(same, "row {i}: got {g:?}, want {w:?}");
    }
}
