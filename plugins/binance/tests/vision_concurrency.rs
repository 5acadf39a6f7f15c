//! Vision downloads run concurrently, proved without timing: the fake holds every request
//! unanswered (its gate) until as many as expected are waiting at once, which only a
//! client with that many requests in flight together can reach. Then the results must be
//! delivered in order and be the very batches a one-at-a-time fetch delivers.

use std::time::Duration;

use dsm_binance::{BinanceProvider, Out};
use dsm_plugin_kit::testing::TestHost;
use dsm_sdk::{
    Endpoint, FetchReport, FetchRequest, KlineBatch, LogLevel, ProviderConfig, ProviderError,
    SourceKind,
};
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const DAY: i64 = 86_400_000;
const MAR_2024: i64 = 1_709_251_200_000;
/// Only bounds a failing test: a correct client reaches the awaited state at once.
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Collect {
    batches: Vec<KlineBatch>,
}

impl Out for Collect {
    fn batch(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        self.batches.push(batch);
        Ok(())
    }
    fn progress(&mut self, _: i64, _: i64) {}
}

fn provider(fake: &FakeExchange, archive_concurrency: usize) -> (BinanceProvider, TestHost) {
    let config = ProviderConfig {
        // REST's limit, lower on purpose: the archive has its own.
        concurrency: 1,
        endpoints: vec![Endpoint {
            key: "vision".into(),
            url: fake.url().into(),
        }]
        .into(),
        ..ProviderConfig::default()
    };
    let host = TestHost::new();
    let p = BinanceProvider::with_archive_concurrency(
        config,
        host.host(LogLevel::DEBUG),
        archive_concurrency,
    );
    (p, host)
}

fn archive(interval: &str, start_ms: i64, end_ms: i64) -> FetchRequest {
    FetchRequest {
        market: "spot".into(),
        symbol: "BTCUSDT".into(),
        interval: interval.into(),
        start_ms,
        end_ms,
        source: SourceKind::ARCHIVE,
    }
}

/// Fetches `req` while the fake holds every request; returns how many were held at once
/// (waiting for `want` of them) before releasing, and the fetch's result.
fn fetch_held(
    fake: &FakeExchange,
    p: &BinanceProvider,
    req: &FetchRequest,
    want: usize,
) -> (usize, FetchReport, Collect) {
    fake.hold_after(0);
    std::thread::scope(|s| {
        let run = s.spawn(|| {
            let mut out = Collect::default();
            let report = p.fetch_into(req, &mut out).unwrap();
            (report, out)
        });
        let held = fake.wait_held_count(want, PATIENCE);
        let answered = fake.requests().len();
        fake.release(); // before any assertion, so that a failure cannot hang the fetch
        let (report, out) = run.join().unwrap();
        // Nothing had been answered: the held requests were all sent before any answer.
        assert_eq!(answered, 0);
        (held, report, out)
    })
}

fn coverage(out: &Collect) -> Vec<(i64, i64)> {
    out.batches
        .iter()
        .map(|b| (b.covered_start_ms, b.covered_end_ms))
        .collect()
}

fn klines(out: &Collect) -> Vec<dsm_sdk::Kline> {
    out.batches
        .iter()
        .flat_map(|b| b.klines.iter().copied())
        .collect()
}

#[test]
fn a_zip_and_its_checksum_are_asked_for_together() {
    let fake = FakeExchange::start();
    let (p, _host) = provider(&fake, 8);
    let (start, end) = (MAR_2024, MAR_2024 + DAY);
    let (held, report, out) = fetch_held(&fake, &p, &archive("1h", start, end), 2);
    assert_eq!(
        held, 2,
        "the zip and its CHECKSUM were not in flight together"
    );
    let mut paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    let zip = "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03-01.zip";
    assert_eq!(paths, [zip.to_string(), format!("{zip}.CHECKSUM")]);
    assert_eq!(report.requests, 2);
    assert!(klines(&out) == expected_klines(Market::Spot, "BTCUSDT", "1h", start, end));
}

#[test]
fn several_files_are_in_flight_at_once_within_the_limit_and_delivered_in_order() {
    // Eight loose days (not a whole month): eight daily files, sixteen requests.
    let (start, end) = (MAR_2024 + DAY, MAR_2024 + 9 * DAY);
    let req = archive("5m", start, end);
    let limit = 6;
    let fake = FakeExchange::start();
    let (p, _host) = provider(&fake, limit);
    let (held, report, out) = fetch_held(&fake, &p, &req, limit);
    assert_eq!(
        held, limit,
        "fewer requests in flight at once than the limit"
    );
    assert!(
        fake.max_in_flight() <= limit,
        "{} in flight, over the limit of {limit}",
        fake.max_in_flight()
    );
    assert_eq!(report.requests, 16);
    let days: Vec<(i64, i64)> = (0..8)
        .map(|i| (start + i * DAY, start + (i + 1) * DAY))
        .collect();
    assert_eq!(coverage(&out), days, "batches out of order");
    assert!(klines(&out) == expected_klines(Market::Spot, "BTCUSDT", "5m", start, end));

    // One request at a time: the very same batches.
    let fake = FakeExchange::start();
    let (p, _host) = provider(&fake, 1);
    let (held, one_report, one) = fetch_held(&fake, &p, &req, 1);
    assert_eq!(held, 1);
    assert_eq!(fake.max_in_flight(), 1);
    assert_eq!(one_report.requests, report.requests);
    assert_eq!(coverage(&one), coverage(&out));
    assert!(klines(&one) == klines(&out));
}

#[test]
fn a_missing_monthly_file_falls_back_to_daily_files_fetched_together() {
    let fake = FakeExchange::start();
    fake.withhold_vision_file("BTCUSDT-1h-2024-02.zip");
    let (feb, mar) = (MAR_2024 - 29 * DAY, MAR_2024);
    let (p, _host) = provider(&fake, 2);
    // The monthly pair first (both 404), then the daily files: let those two through and
    // hold the rest.
    fake.hold_after(2);
    let req = archive("1h", feb, mar);
    let (held, report, out) = std::thread::scope(|s| {
        let run = s.spawn(|| {
            let mut out = Collect::default();
            let report = p.fetch_into(&req, &mut out).unwrap();
            (report, out)
        });
        let held = fake.wait_held_count(2, PATIENCE);
        fake.release();
        let (report, out) = run.join().unwrap();
        (held, report, out)
    });
    assert_eq!(held, 2);
    assert!(fake.max_in_flight() <= 2);
    assert_eq!(report.requests, 2 + 29 * 2);
    let days: Vec<(i64, i64)> = (0..29)
        .map(|i| (feb + i * DAY, feb + (i + 1) * DAY))
        .collect();
    assert_eq!(coverage(&out), days);
    assert!(klines(&out) == expected_klines(Market::Spot, "BTCUSDT", "1h", feb, mar));
}
