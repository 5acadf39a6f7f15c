//! The Vision archive source against the fake exchange (tests/src/fake/vision.rs): monthly
//! and daily files, their fallbacks, headers, microseconds, COIN-M, and every way a file
//! can be missing or unusable. The fake builds its files from the same candles as its REST
//! answers, so `expected_klines` is what Vision must yield.

use std::time::Duration;

use dsm_binance::{BinanceProvider, Out};
use dsm_plugin_kit::testing::TestHost;
use dsm_sdk::{
    plugin::Plugin, Endpoint, FetchReport, FetchRequest, KlineBatch, LogLevel, ProviderConfig,
    ProviderError, SourceKind,
};
use dsm_tests::fake::{expected_klines, FakeExchange, Fault, Market};

const DAY: i64 = 86_400_000;
const DEC_2023: i64 = 1_701_388_800_000;
const JAN_2024: i64 = 1_704_067_200_000;
const FEB_2024: i64 = JAN_2024 + 31 * DAY;
const MAR_2024: i64 = FEB_2024 + 29 * DAY;
const JAN_2025: i64 = 1_735_689_600_000;

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

impl Collect {
    fn klines(&self) -> Vec<dsm_sdk::Kline> {
        self.batches
            .iter()
            .flat_map(|b| b.klines.iter().copied())
            .collect()
    }

    fn coverage(&self) -> Vec<(i64, i64)> {
        self.batches
            .iter()
            .map(|b| (b.covered_start_ms, b.covered_end_ms))
            .collect()
    }
}

struct Setup {
    fake: FakeExchange,
    provider: BinanceProvider,
    host: TestHost,
}

fn setup() -> Setup {
    let fake = FakeExchange::start();
    let config = ProviderConfig {
        concurrency: 4,
        retries: 2,
        backoff_base_ms: 5,
        backoff_max_ms: 20,
        endpoints: vec![Endpoint {
            key: "vision".into(),
            url: format!("{}/", fake.url()).into(),
        }]
        .into(),
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

fn archive(market: &str, symbol: &str, interval: &str, start_ms: i64, end_ms: i64) -> FetchRequest {
    FetchRequest {
        market: market.into(),
        symbol: symbol.into(),
        interval: interval.into(),
        start_ms,
        end_ms,
        source: SourceKind::ARCHIVE,
    }
}

impl Setup {
    fn fetch(&self, req: &FetchRequest) -> (FetchReport, Collect) {
        let mut out = Collect::default();
        let report = self.provider.fetch_into(req, &mut out).unwrap();
        (report, out)
    }

    /// Paths requested, in order of arrival.
    fn paths(&self) -> Vec<String> {
        self.fake.requests().into_iter().map(|r| r.path).collect()
    }
}

fn days(start: i64, end: i64) -> Vec<(i64, i64)> {
    (0..)
        .map(|i| (start + i * DAY, start + (i + 1) * DAY))
        .take_while(|d| d.0 < end)
        .collect()
}

/// One ARCHIVE batch per day, ascending and contiguous, with progress up to the end.
fn assert_daily_batches(out: &Collect, start: i64, end: i64) {
    assert_eq!(out.coverage(), days(start, end));
    assert!(out.batches.iter().all(|b| b.source == SourceKind::ARCHIVE));
    for b in &out.batches {
        assert!(b
            .klines
            .iter()
            .all(|k| k.open_time >= b.covered_start_ms && k.open_time < b.covered_end_ms));
    }
    assert_eq!(out.progress.last(), Some(&(end - start, end - start)));
}

#[test]
fn a_past_month_comes_from_its_monthly_file() {
    let s = setup();
    let req = archive("spot", "BTCUSDT", "1h", JAN_2024, FEB_2024);
    let (report, out) = s.fetch(&req);
    assert_daily_batches(&out, JAN_2024, FEB_2024);
    let want = expected_klines(Market::Spot, "BTCUSDT", "1h", JAN_2024, FEB_2024);
    assert_eq!(want.len(), 31 * 24);
    assert!(
        out.klines() == want,
        "Vision candles differ from REST candles"
    );
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert_eq!(report.klines, 31 * 24);
    let dir = "/data/spot/monthly/klines/BTCUSDT/1h";
    let mut paths = s.paths();
    paths.sort(); // asked for together: either may arrive first
    assert_eq!(
        paths,
        [
            format!("{dir}/BTCUSDT-1h-2024-01.zip"),
            format!("{dir}/BTCUSDT-1h-2024-01.zip.CHECKSUM")
        ]
    );
    assert_eq!(report.requests, 2);
}

#[test]
fn loose_days_use_daily_files_around_a_whole_month() {
    let s = setup();
    // Dec 30 and 31 (daily), all of January (monthly), Feb 1 (daily); USD-M with headers.
    let (start, end) = (JAN_2024 - 2 * DAY, FEB_2024 + DAY);
    let (report, out) = s.fetch(&archive("um", "BTCUSDT", "1m", start, end));
    assert_daily_batches(&out, start, end);
    assert_eq!(out.batches.len(), 34);
    assert!(out.klines() == expected_klines(Market::Um, "BTCUSDT", "1m", start, end));
    let mut zips: Vec<String> = s
        .paths()
        .into_iter()
        .filter(|p| p.ends_with(".zip"))
        .map(|p| p.rsplit('/').next().unwrap().to_string())
        .collect();
    zips.sort();
    assert_eq!(
        zips,
        [
            "BTCUSDT-1m-2023-12-30.zip",
            "BTCUSDT-1m-2023-12-31.zip",
            "BTCUSDT-1m-2024-01.zip",
            "BTCUSDT-1m-2024-02-01.zip"
        ]
    );
    assert_eq!(report.requests, 8);
    assert_eq!(report.requests, s.fake.requests().len() as u64);
}

#[test]
fn spot_2025_microsecond_files_become_milliseconds() {
    let s = setup();
    let (start, end) = (JAN_2025, JAN_2025 + 2 * DAY);
    let (report, out) = s.fetch(&archive("spot", "DOGEUSDT", "1m", start, end));
    assert_daily_batches(&out, start, end);
    let got = out.klines();
    assert_eq!(got.len(), 2 * 1440);
    assert_eq!(got[0].open_time, JAN_2025);
    assert_eq!(got[0].close_time, JAN_2025 + 59_999);
    assert!(got == expected_klines(Market::Spot, "DOGEUSDT", "1m", start, end));
    assert!(report.missing.is_empty());
}

#[test]
fn futures_files_with_and_without_header_rows() {
    let s = setup();
    // 2021-12-31 has no header; 2022-01-01 starts with one.
    let start = 1_640_908_800_000;
    let end = start + 2 * DAY;
    let (_, out) = s.fetch(&archive("um", "ETHUSDT", "1h", start, end));
    assert_daily_batches(&out, start, end);
    assert!(out.klines() == expected_klines(Market::Um, "ETHUSDT", "1h", start, end));
}

#[test]
fn one_line_daily_files() {
    let s = setup();
    let (start, end) = (MAR_2024 + 3 * DAY, MAR_2024 + 6 * DAY);
    let (report, out) = s.fetch(&archive("spot", "BNBUSDT", "1d", start, end));
    assert_daily_batches(&out, start, end);
    assert!(out.batches.iter().all(|b| b.klines.len() == 1));
    assert!(out.klines() == expected_klines(Market::Spot, "BNBUSDT", "1d", start, end));
    assert_eq!(report.requests, 6);
}

#[test]
fn coin_m_perpetual() {
    let s = setup();
    // 2023-10-27 .. 2023-12-01: five loose days, then November from its monthly file.
    let start = 1_698_364_800_000;
    let (report, out) = s.fetch(&archive("cm", "BTCUSD_PERP", "1h", start, DEC_2023));
    assert_daily_batches(&out, start, DEC_2023);
    assert!(out.klines() == expected_klines(Market::Cm, "BTCUSD_PERP", "1h", start, DEC_2023));
    assert!(s
        .paths()
        .iter()
        .any(|p| p == "/data/futures/cm/monthly/klines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2023-11.zip"));
    assert_eq!(report.requests, 2 * 6);
}

#[test]
fn a_withheld_day_is_missing_and_the_others_are_delivered() {
    let s = setup();
    s.fake.withhold_vision_file("BTCUSDT-1m-2024-03-02.zip");
    let (start, end) = (MAR_2024, MAR_2024 + 3 * DAY);
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "1m", start, end));
    assert_eq!(
        out.coverage(),
        [(start, start + DAY), (start + 2 * DAY, end)]
    );
    assert_eq!(report.missing.len(), 1);
    let m = &report.missing[0];
    assert_eq!((m.start_ms, m.end_ms), (start + DAY, start + 2 * DAY));
    assert_eq!(
        m.reason.as_str(),
        "not in the Binance Vision archive (BTCUSDT-1m-2024-03-02.zip 404)"
    );
    let want: Vec<_> = expected_klines(Market::Spot, "BTCUSDT", "1m", start, end)
        .into_iter()
        .filter(|k| k.open_time < start + DAY || k.open_time >= start + 2 * DAY)
        .collect();
    assert!(out.klines() == want);
    // The missing zip's CHECKSUM is asked for with it (and is missing too).
    assert_eq!(report.requests, 6);
    let statuses: Vec<u16> = s.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), 2);
}

#[test]
fn a_checksum_mismatch_is_missing_with_no_batch() {
    let s = setup();
    s.fake.corrupt_checksum("ETHUSDT-5m-2024-03-01.zip");
    let (start, end) = (MAR_2024, MAR_2024 + 2 * DAY);
    let (report, out) = s.fetch(&archive("um", "ETHUSDT", "5m", start, end));
    assert_eq!(out.coverage(), [(start + DAY, end)]);
    assert_eq!(report.missing.len(), 1);
    let m = &report.missing[0];
    assert_eq!((m.start_ms, m.end_ms), (start, start + DAY));
    assert!(
        m.reason
            .starts_with("checksum mismatch for ETHUSDT-5m-2024-03-01.zip: expected "),
        "{}",
        m.reason
    );
    assert!(m.reason.contains(" got "), "{}", m.reason);
    assert!(s
        .host
        .lines(LogLevel::WARN)
        .iter()
        .any(|l| l.contains("checksum mismatch for ETHUSDT-5m-2024-03-01.zip")));
}

#[test]
fn a_truncated_zip_is_retried_then_reported() {
    let s = setup();
    let name = "BTCUSDT-1h-2024-03-01.zip";
    s.fake.truncate_vision(name);
    let (start, end) = (MAR_2024, MAR_2024 + 2 * DAY);
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "1h", start, end));
    assert_eq!(out.coverage(), [(start + DAY, end)]);
    let m = &report.missing[0];
    assert_eq!((m.start_ms, m.end_ms), (start, start + DAY));
    assert!(
        m.reason
            .starts_with(&format!("download of {name} failed: ")),
        "{}",
        m.reason
    );
    // retries = 2: three attempts at the truncated zip, all counted, and its CHECKSUM.
    let tries = s.paths().iter().filter(|p| p.ends_with(name)).count();
    assert_eq!(tries, 3);
    assert_eq!(report.requests, 3 + 1 + 2);
    assert_eq!(report.requests, s.fake.requests().len() as u64);
}

#[test]
fn a_zip_truncated_once_is_retried_and_used() {
    let s = setup();
    let path = "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03-01.zip";
    s.fake
        .push_faults(path, [Fault::Truncated, Fault::Status(503)]);
    let (start, end) = (MAR_2024, MAR_2024 + DAY);
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "1h", start, end));
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert!(out.klines() == expected_klines(Market::Spot, "BTCUSDT", "1h", start, end));
    assert_eq!(report.requests, 4);
}

#[test]
fn a_malformed_row_names_file_and_line_and_nothing_of_it_is_pushed() {
    let s = setup();
    s.fake.garble_vision_row("BTCUSDT-15m-2024-03-02.zip");
    let (start, end) = (MAR_2024, MAR_2024 + 3 * DAY);
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "15m", start, end));
    assert_eq!(
        out.coverage(),
        [(start, start + DAY), (start + 2 * DAY, end)]
    );
    let m = &report.missing[0];
    assert_eq!(
        m.reason.as_str(),
        "BTCUSDT-15m-2024-03-02.csv line 3: 3 fields where at least 11 are expected"
    );
}

#[test]
fn weekly_and_monthly_candles_come_from_monthly_files_only() {
    let s = setup();
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "1w", JAN_2024, MAR_2024));
    assert_eq!(out.coverage(), [(JAN_2024, FEB_2024), (FEB_2024, MAR_2024)]);
    assert!(out.klines() == expected_klines(Market::Spot, "BTCUSDT", "1w", JAN_2024, MAR_2024));
    assert_eq!(report.requests, 4);
    assert!(s
        .paths()
        .iter()
        .all(|p| p.contains("/monthly/klines/BTCUSDT/1w/")));

    let s = setup();
    let (start, end) = (DEC_2023 - 334 * DAY, FEB_2024); // 2023-01-01 .. 2024-02-01
    let (report, out) = s.fetch(&archive("um", "ETHUSDT", "1M", start, end));
    assert_eq!(out.batches.len(), 13);
    assert!(out.batches.iter().all(|b| b.klines.len() == 1));
    assert!(out.klines() == expected_klines(Market::Um, "ETHUSDT", "1M", start, end));
    assert!(report.missing.is_empty());
    assert!(s
        .paths()
        .contains(&"/data/futures/um/monthly/klines/ETHUSDT/1mo/ETHUSDT-1mo-2023-07.zip".into()));
}

#[test]
fn a_missing_monthly_file_falls_back_to_daily_files() {
    let s = setup();
    s.fake.withhold_vision_file("BTCUSDT-4h-2024-02.zip");
    s.fake.withhold_vision_file("BTCUSDT-4h-2024-02-10.zip");
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "4h", FEB_2024, MAR_2024));
    let mut want_cover = days(FEB_2024, MAR_2024);
    want_cover.remove(9);
    assert_eq!(out.coverage(), want_cover);
    assert_eq!(report.missing.len(), 1);
    assert_eq!(report.missing[0].start_ms, FEB_2024 + 9 * DAY);
    // monthly zip and CHECKSUM 404, 28 daily files with CHECKSUM, one daily pair 404.
    assert_eq!(report.requests, 2 + 28 * 2 + 2);

    // Nothing at all (an unknown symbol): the month is reported once.
    let s = setup();
    let (report, out) = s.fetch(&archive("spot", "XYZUSDT", "4h", FEB_2024, MAR_2024));
    assert!(out.batches.is_empty());
    assert_eq!(report.missing.len(), 1);
    let m = &report.missing[0];
    assert_eq!((m.start_ms, m.end_ms), (FEB_2024, MAR_2024));
    assert_eq!(
        m.reason.as_str(),
        "not in the Binance Vision archive (XYZUSDT-4h-2024-02.zip 404, and its daily files too)"
    );
}

#[test]
fn days_not_yet_published_are_missing_without_a_request() {
    let s = setup();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = now - now % DAY;
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "1h", today - DAY, today + DAY));
    // Yesterday is published (unless the day turned meanwhile); today is not.
    assert!(out.coverage().len() <= 1);
    let last = report.missing.last().unwrap();
    assert_eq!((last.start_ms, last.end_ms), (today, today + DAY));
    assert!(
        last.reason
            .starts_with("not in the Binance Vision archive yet"),
        "{}",
        last.reason
    );
    assert!(report.requests <= 2);
}

#[test]
fn a_day_of_seconds() {
    let s = setup();
    let (start, end) = (JAN_2024, JAN_2024 + DAY);
    let (report, out) = s.fetch(&archive("spot", "BTCUSDT", "1s", start, end));
    assert_eq!(out.coverage(), [(start, end)]);
    assert_eq!(report.klines, 86_400);
    assert!(out.klines() == expected_klines(Market::Spot, "BTCUSDT", "1s", start, end));
}

#[test]
fn cancellation_stops_the_fetch() {
    let s = setup();
    s.fake.set_delay(
        "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip",
        Duration::from_secs(5),
    );
    let host = s.host.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        host.cancel();
    });
    let mut out = Collect::default();
    let e = s
        .provider
        .fetch_into(
            &archive("spot", "BTCUSDT", "1m", MAR_2024, MAR_2024 + 2 * DAY),
            &mut out,
        )
        .unwrap_err();
    canceller.join().unwrap();
    // CANCELLED, not the file the fake sends after 5 s.
    assert_eq!(e.kind, dsm_sdk::ErrorKind::CANCELLED);
    assert!(out.batches.is_empty());
}
