//! The REST path at the plugin boundary, against the fake exchange on 127.0.0.1: exact
//! windows, ascending delivery, COIN-M's newest-first pages and 200-day limit, error mapping.

use std::sync::Arc;

use dsm_binance::{BinanceProvider, Out};
use dsm_plugin_kit::testing::TestHost;
use dsm_sdk::{
    plugin::Plugin, Endpoint, ErrorKind, FetchRequest, KlineBatch, LogLevel, ProviderConfig,
    ProviderError, SourceKind,
};
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const JAN_2024: i64 = 1_704_067_200_000;

/// Requests the fake received on its klines paths.
fn hits(fake: &FakeExchange) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path.ends_with("/klines"))
        .count()
}

/// The fake exchange, and a provider pointed at it.
fn setup() -> (BinanceProvider, FakeExchange) {
    let fake = FakeExchange::start();
    let endpoints = ["spot", "um", "cm"].map(|k| Endpoint {
        key: k.into(),
        url: fake.url().into(),
    });
    let config = ProviderConfig {
        concurrency: 4,
        endpoints: endpoints.to_vec().into(),
        ..ProviderConfig::default()
    };
    let provider = BinanceProvider::new(config, TestHost::new().host(LogLevel::WARN)).unwrap();
    (provider, fake)
}

#[derive(Default)]
struct Collect {
    batches: Vec<KlineBatch>,
    progress: Vec<(i64, i64)>,
}

impl Out for Collect {
    fn batch(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        self.batches.push(batch);
        Ok(())
    }
    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.progress.push((done_ms, total_ms));
    }
}

fn request(market: &str, symbol: &str, interval: &str, start_ms: i64, end_ms: i64) -> FetchRequest {
    FetchRequest {
        market: market.into(),
        symbol: symbol.into(),
        interval: interval.into(),
        start_ms,
        end_ms,
        source: SourceKind::LIVE,
    }
}

/// The fake's candles in [start, end) exactly once, ascending; batches contiguous.
fn assert_exact(out: &Collect, market: Market, symbol: &str, iv: &str, start: i64, end: i64) {
    let got: Vec<dsm_sdk::Kline> = out
        .batches
        .iter()
        .flat_map(|b| b.klines.iter().copied())
        .collect();
    let want = expected_klines(market, symbol, iv, start, end);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "candles differ");
    assert_eq!(out.batches[0].covered_start_ms, start);
    assert_eq!(out.batches.last().unwrap().covered_end_ms, end);
    assert!(out
        .batches
        .windows(2)
        .all(|p| p[0].covered_end_ms == p[1].covered_start_ms));
    assert!(out.batches.iter().all(|b| b.source == SourceKind::LIVE));
    assert_eq!(*out.progress.last().unwrap(), (end - start, end - start));
}

#[test]
fn spot_minutes_unaligned_range_is_exact() {
    let (p, fake) = setup();
    assert!(!p.is_started());
    let (start, end) = (JAN_2024 + 30_000, JAN_2024 + 3 * DAY + 30_000);
    let mut out = Collect::default();
    let report = p
        .fetch_into(&request("spot", "BTCUSDT", "1m", start, end), &mut out)
        .unwrap();
    assert_exact(&out, Market::Spot, "BTCUSDT", "1m", start, end);
    assert_eq!(out.batches.len(), 5); // 4320 minutes in pages of 1000
    assert_eq!(report.klines, 4320);
    assert_eq!(report.requests, 5);
    assert_eq!(hits(&fake), 5);
}

#[test]
fn usdm_uses_pages_of_1500() {
    let (p, fake) = setup();
    let mut out = Collect::default();
    let (start, end) = (JAN_2024, JAN_2024 + 3 * DAY);
    p.fetch_into(&request("um", "BTCUSDT", "1m", start, end), &mut out)
        .unwrap();
    assert_exact(&out, Market::Um, "BTCUSDT", "1m", start, end);
    assert_eq!(hits(&fake), 3);
}

#[test]
fn coin_m_newest_first_pages_are_exact() {
    let (p, _fake) = setup();
    let mut out = Collect::default();
    let (start, end) = (JAN_2024 + 1, JAN_2024 + 100 * DAY);
    p.fetch_into(&request("cm", "BTCUSD_PERP", "1h", start, end), &mut out)
        .unwrap();
    assert_exact(&out, Market::Cm, "BTCUSD_PERP", "1h", start, end);
}

#[test]
fn coin_m_daily_respects_200_days() {
    let (p, fake) = setup();
    let mut out = Collect::default();
    // COIN-M candles start 2020-08-01 in the fake; 1000 days before 2024 reach back to 2021.
    let (start, end) = (JAN_2024 - 1_000 * DAY, JAN_2024);
    p.fetch_into(&request("cm", "BTCUSD_PERP", "1d", start, end), &mut out)
        .unwrap();
    assert_exact(&out, Market::Cm, "BTCUSD_PERP", "1d", start, end);
    assert_eq!(hits(&fake), 5);
}

#[test]
fn unknown_symbol_is_invalid_symbol() {
    let (p, _fake) = setup();
    let e = p
        .fetch_into(
            &request("spot", "NOPE", "1m", JAN_2024, JAN_2024 + DAY),
            &mut Collect::default(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
    assert!(
        e.message
            .starts_with("Binance spot does not know symbol NOPE (code -1121"),
        "{e}"
    );
}

/// ARCHIVE goes to Vision (tests/vision.rs); a source the plugin does not know is refused.
#[test]
fn unknown_source_is_unsupported_and_starts_nothing() {
    let (p, fake) = setup();
    let mut req = request("spot", "BTCUSDT", "1m", JAN_2024, JAN_2024 + DAY);
    req.source = SourceKind(9);
    let e = p.fetch_into(&req, &mut Collect::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(!p.is_started());
    assert_eq!(fake.requests().len(), 0);
}

/// A window larger than a page (never planned, but handled): the rest is fetched after the
/// newest rows on COIN-M and after the oldest elsewhere.
#[test]
fn full_page_falls_back_to_the_rest_of_the_window() {
    use dsm_binance::page::{fetch_window, Job};
    use dsm_plugin_kit::{HttpClient, WeightGate, Window};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = FakeExchange::start();
    let base = fake.url();
    let host = TestHost::new().host(LogLevel::WARN);
    let http = Arc::new(HttpClient::new(&ProviderConfig::default(), host.clone(), "t").unwrap());
    for (market, symbol) in [
        (dsm_binance::Market::Cm, "BTCUSD_PERP"),
        (dsm_binance::Market::Spot, "BTCUSDT"),
    ] {
        let job = Arc::new(Job {
            market,
            series: dsm_binance::Series::Klines,
            symbol: symbol.into(),
            interval: "1h".into(),
            min_step_ms: 60 * MIN,
            base_url: base.clone(),
            http: http.clone(),
            gate: Arc::new(WeightGate::new("x-mbx-used-weight-1m", 2400, 10)),
            host: host.clone(),
        });
        let w = Window {
            start_ms: JAN_2024,
            end_ms: JAN_2024 + 3200 * 60 * MIN,
            capacity: 3200,
        };
        let before = hits(&fake);
        let page = rt
            .block_on(fetch_window(job, w, market.max_page()))
            .unwrap();
        let got: Vec<i64> = page.klines.iter().map(|k| k.open_time).collect();
        let want: Vec<i64> = (0..3200).map(|i| JAN_2024 + i * 60 * MIN).collect();
        assert!(got == want, "{market:?}: {} rows", got.len());
        assert_eq!(page.requests as usize, hits(&fake) - before);
        assert!(page.requests >= 3, "{market:?}");
    }
}
