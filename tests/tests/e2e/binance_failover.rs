//! The failover with real Binance plugin files against the fake exchange: cache, Vision
//! archives and REST mixed in one range; checksums; the archive's formats; gaps.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::{Dsm, DsmConfig, Source, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn manager(fake: &FakeExchange, market: &str, cache: &Path, source: SourceMode) -> Dsm {
    Dsm::create_with_config(
        config_on(DsmConfig::new("binance", market), &fake.url())
            .plugin_dir(target_dir())
            .cache_dir(cache)
            .source(source),
    )
    .unwrap()
}

fn ms(date: &str) -> i64 {
    dsm_core::timeparse::parse_time(date).unwrap()
}

fn vision_requests(fake: &FakeExchange) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/data/"))
        .map(|r| r.path)
        .collect()
}

fn rest_requests(fake: &FakeExchange) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path.ends_with("/klines"))
        .count()
}

#[test]
fn cached_archive_and_rest_days_mix_in_one_range_exactly_once() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let today = dsm_core::request::now_ms().div_euclid(DAY) * DAY;
    let start = today - 3 * DAY;
    // Day 1 into the cache first.
    let first = manager(&fake, "spot", cache.path(), SourceMode::Auto)
        .fetch_market_data("BTCUSDT", "1m", start, start + DAY)
        .unwrap();
    assert_eq!(first.summary.sources, vec![(start, Source::Archive)]);
    fake.clear_requests();

    let before = dsm_core::request::now_ms();
    let got = manager(&fake, "spot", cache.path(), SourceMode::Auto)
        .fetch_market_data("BTCUSDT", "1m", start, today + DAY)
        .unwrap();
    let after = dsm_core::request::now_ms();
    let want = expected_klines(Market::Spot, "BTCUSDT", "1m", start, after);
    let closed_by = |t: i64| want.iter().filter(|k| k.open_time + MIN <= t).count();
    assert!(
        (closed_by(before)..=closed_by(after)).contains(&got.len()),
        "{}",
        got.len()
    );
    assert!(
        got.rows[..] == want[..got.len()],
        "every candle once, in order"
    );
    let sources: Vec<Source> = got.summary.sources.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        sources,
        vec![
            Source::Cache,
            Source::Archive,
            Source::Archive,
            Source::Rest
        ]
    );
    assert_eq!(
        got.summary.cached_periods, 2,
        "the two archive days; not today"
    );
    let vision = vision_requests(&fake);
    assert!(
        vision
            .iter()
            .all(|p| !p.contains(&dsm_core::timeparse::format_date(start))),
        "{vision:?}"
    );
    assert!(rest_requests(&fake) >= 1);
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
}

#[test]
fn the_same_fetch_again_makes_no_request_and_returns_the_same_data() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let (start, end) = (ms("2024-03-03"), ms("2024-03-06T12:00:00Z"));
    let dsm = manager(&fake, "um", cache.path(), SourceMode::Auto);
    let first = dsm.fetch_market_data("ETHUSDT", "5m", start, end).unwrap();
    assert!(first.rows == expected_klines(Market::Um, "ETHUSDT", "5m", start, end));
    assert!(!fake.requests().is_empty());
    // The half day at the end came from REST and was not cached; ask for whole days.
    fake.clear_requests();
    let whole = manager(&fake, "um", cache.path(), SourceMode::Auto)
        .fetch_market_data("ETHUSDT", "5m", start, ms("2024-03-06"))
        .unwrap();
    assert_eq!(fake.requests().len(), 0, "{:?}", fake.requests());
    assert_eq!(whole.rows[..], first.rows[..whole.len()]);
    assert!(whole
        .summary
        .sources
        .iter()
        .all(|(_, s)| *s == Source::Cache));
}

#[test]
fn a_wrong_checksum_is_never_cached_and_is_reported() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let (d1, d2, d3) = (ms("2024-05-10"), ms("2024-05-11"), ms("2024-05-12"));
    manager(&fake, "spot", cache.path(), SourceMode::Auto)
        .fetch_market_data("BTCUSDT", "1h", d1, d2)
        .unwrap();
    let day1_file = cache
        .path()
        .join("binance/spot/klines/BTCUSDT/1h/2024-05-10.arrow");
    let day1_bytes = std::fs::read(&day1_file).unwrap();
    fake.corrupt_checksum("BTCUSDT-1h-2024-05-11.zip");

    // Archive only: the bad day is a gap that names the checksum, and nothing is cached.
    let got = manager(&fake, "spot", cache.path(), SourceMode::Archive)
        .fetch_market_data("BTCUSDT", "1h", d1, d3 + DAY)
        .unwrap();
    assert_eq!(got.summary.gaps.len(), 1, "{:?}", got.summary.gaps);
    let gap = &got.summary.gaps[0];
    assert_eq!((gap.start_ms, gap.end_ms), (d2, d3));
    assert!(gap.reason.contains("checksum"), "{}", gap.reason);
    assert!(!cache
        .path()
        .join("binance/spot/klines/BTCUSDT/1h/2024-05-11.arrow")
        .exists());
    assert!(cache
        .path()
        .join("binance/spot/klines/BTCUSDT/1h/2024-05-12.arrow")
        .exists());
    assert_eq!(
        std::fs::read(&day1_file).unwrap(),
        day1_bytes,
        "earlier cache untouched"
    );

    // Auto: REST fills the day in, and the user is told why.
    let got = manager(&fake, "spot", cache.path(), SourceMode::Auto)
        .fetch_market_data("BTCUSDT", "1h", d1, d3 + DAY)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", d1, d3 + DAY));
    assert!(
        got.summary.sources.contains(&(d2, Source::Rest)),
        "{:?}",
        got.summary.sources
    );
    assert!(
        got.summary.notes.iter().any(|n| n.contains("checksum")),
        "{:?}",
        got.summary.notes
    );
}

#[test]
fn archive_formats_give_the_right_candles() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let cases: [(&str, Market, &str, &str, &str, &str); 5] = [
        // Spot 2025: microsecond timestamps.
        (
            "spot",
            Market::Spot,
            "BTCUSDT",
            "1m",
            "2025-02-03",
            "2025-02-05",
        ),
        // USD-M 2023: files with a header row.
        (
            "um",
            Market::Um,
            "BTCUSDT",
            "15m",
            "2023-06-01T00:00:00Z",
            "2023-06-03",
        ),
        // 1d: one line per daily file (and monthly files for whole months).
        (
            "spot",
            Market::Spot,
            "ETHUSDT",
            "1d",
            "2024-01-01",
            "2024-04-01",
        ),
        // COIN-M perpetual.
        (
            "cm",
            Market::Cm,
            "BTCUSD_PERP",
            "1h",
            "2024-02-27",
            "2024-03-02",
        ),
        // A whole month of 1m: one monthly file.
        (
            "spot",
            Market::Spot,
            "BNBUSDT",
            "1m",
            "2024-02-01",
            "2024-03-01",
        ),
    ];
    for (market, m, symbol, iv, s, e) in cases {
        fake.clear_requests();
        let got = manager(&fake, market, cache.path(), SourceMode::Archive)
            .fetch_market_data(symbol, iv, s, e)
            .unwrap();
        let want = expected_klines(m, symbol, iv, ms(s), ms(e));
        assert!(!want.is_empty());
        assert!(
            got.rows == want,
            "{market} {symbol} {iv}: {} vs {}",
            got.len(),
            want.len()
        );
        assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
        assert!(got
            .summary
            .sources
            .iter()
            .all(|(_, s)| *s == Source::Archive));
        if symbol == "BNBUSDT" {
            let zips: Vec<_> = vision_requests(&fake)
                .into_iter()
                .filter(|p| p.ends_with(".zip"))
                .collect();
            assert_eq!(
                zips,
                vec!["/data/spot/monthly/klines/BNBUSDT/1m/BNBUSDT-1m-2024-02.zip"]
            );
        }
    }
}

#[test]
fn a_withheld_archive_day_comes_from_rest_and_a_day_missing_everywhere_is_a_gap() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    fake.withhold_vision_file("DOGEUSDT-1h-2023-08-09.zip");
    let (s, e) = (ms("2023-08-08"), ms("2023-08-11"));
    let got = manager(&fake, "spot", cache.path(), SourceMode::Auto)
        .fetch_market_data("DOGEUSDT", "1h", s, e)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "DOGEUSDT", "1h", s, e));
    assert_eq!(got.summary.sources[1], (s + DAY, Source::Rest));
    assert!(got.summary.gaps.is_empty());
    assert_eq!(
        got.summary.cached_periods, 3,
        "REST covered the whole day: cached too"
    );

    // Before the symbol's first candle nothing serves: a gap with a reason, not an error.
    let (s, e) = (ms("2016-12-30"), ms("2017-01-02"));
    let got = manager(&fake, "spot", cache.path(), SourceMode::Auto)
        .fetch_market_data("DOGEUSDT", "1h", s, e)
        .unwrap();
    assert_eq!(got.len(), 24);
    assert_eq!(got.summary.gaps.len(), 1, "{:?}", got.summary.gaps);
    let gap = &got.summary.gaps[0];
    assert_eq!((gap.start_ms, gap.end_ms), (s, s + 2 * DAY));
    assert!(gap.reason.contains("no candle"), "{}", gap.reason);
    assert!(
        !cache
            .path()
            .join("binance/spot/klines/DOGEUSDT/1h/2016-12-30.arrow")
            .exists(),
        "empty days are not cached"
    );
}

#[test]
fn cli_reports_gaps_with_exit_3() {
    let fake = FakeExchange::start();
    let url = fake.url();
    fake.withhold_vision_file("BTCUSDT-1h-2024-06-02.zip");
    let out = run_dsm_on(
        &url,
        &[
            "fetch",
            "-p",
            "binance",
            "-m",
            "spot",
            "-s",
            "BTCUSDT",
            "-i",
            "1h",
            "--start",
            "2024-06-01",
            "--end",
            "2024-06-04",
            "--source",
            "archive",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "gap 2024-06-02T00:00:00Z .. 2024-06-03T00:00:00Z: not in the Binance Vision archive"
        ),
        "{err}"
    );
    assert_eq!(stdout(&out).lines().count(), 1 + 48);
}
