//! Binance's data kinds end to end: the real plugin file, the fake exchange, the host's one
//! pipeline. Funding months from Vision and REST, COIN-M without mark prices, mark / index /
//! premium candles from both sources, every format, and the usage error on spot.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::{DataKind, Dsm, Source, SourceMode};
use dsm_tests::fake::{expected_funding, expected_price_klines, FakeExchange, Market, PriceKind};

fn manager(fake: &FakeExchange, market: &str, cache: &Path, source: SourceMode) -> Dsm {
    binance_on_fake(fake, market, cache, source, 10_000)
}

/// Equal as rows: NaN mark prices compare equal.
fn same_rates(got: &[dsm_core::FundingRate], want: &[dsm_core::FundingRate]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let marks =
            g.mark_price == w.mark_price || (g.mark_price.is_nan() && w.mark_price.is_nan());
        assert!(
            g.funding_time == w.funding_time
                && g.rate == w.rate
                && marks
                && g.interval_ms == w.interval_ms,
            "{g:?} != {w:?}"
        );
    }
}

#[test]
fn funding_months_come_from_the_archive_with_interval_changes_and_are_cached() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let (start, end) = (ms("2024-02-01"), ms("2024-04-01"));
    let dsm = manager(&fake, "um", cache.path(), SourceMode::Auto);
    let got = dsm.fetch_funding("ETHUSDT", start, end).unwrap();
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
    assert_eq!(
        got.summary.sources,
        [
            (start, Source::Archive),
            (ms("2024-03-01"), Source::Archive)
        ]
    );
    same_rates(
        &got.rows,
        &expected_funding(Market::Um, "ETHUSDT", start, end, true),
    );
    // March changes the interval: the archive's own column says so row by row.
    let hours: std::collections::BTreeSet<i64> =
        got.rows.iter().map(|r| r.interval_ms / 3_600_000).collect();
    assert!(hours.len() > 1, "{hours:?}");
    assert_eq!(
        cache_files(cache.path()),
        [
            "binance/um/funding/ETHUSDT/2024-02.arrow",
            "binance/um/funding/ETHUSDT/2024-03.arrow"
        ]
    );
    assert_eq!(assert_cache_valid(cache.path()), 2);

    // Again: from the cache, no request.
    fake.clear_requests();
    let again = manager(&fake, "um", cache.path(), SourceMode::Auto)
        .fetch_funding("ETHUSDT", start, end)
        .unwrap();
    same_rates(&again.rows, &got.rows);
    assert!(fake.requests().is_empty());

    // REST alone: the same settlements, with mark prices and no stated interval.
    let rest = manager(
        &fake,
        "um",
        tempfile::tempdir().unwrap().path(),
        SourceMode::Rest,
    )
    .fetch_funding("ETHUSDT", start, end)
    .unwrap();
    same_rates(
        &rest.rows,
        &expected_funding(Market::Um, "ETHUSDT", start, end, false),
    );
    assert!(rest.rows.iter().all(|r| !r.mark_price.is_nan()));
}

#[test]
fn coin_m_funding_has_no_mark_price_in_any_format() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cache_env = cache.to_str().unwrap().to_string();
    let out = run_dsm_on(
        &fake.url(),
        &[
            "--plugin-dir",
            target_dir().to_str().unwrap(),
            "fetch",
            "-p",
            "binance",
            "-m",
            "cm",
            "-s",
            "BTCUSD_PERP",
            "--kind",
            "funding",
            "--start",
            "2024-01-01",
            "--end",
            "2024-02-01",
            "--source",
            "rest",
        ],
        &[("DSM_CACHE_DIR", &cache_env)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let want = expected_funding(
        Market::Cm,
        "BTCUSD_PERP",
        ms("2024-01-01"),
        ms("2024-02-01"),
        false,
    );
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), want.len());
    for (line, w) in rows.iter().zip(&want) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0].parse::<i64>().unwrap(), w.funding_time);
        assert_eq!(f[1].parse::<f64>().unwrap(), w.rate);
        assert_eq!((f[2], f[3]), ("", ""), "{line}");
    }
    let file = tmp.path().join("f.parquet");
    let out = run_dsm_on(
        &fake.url(),
        &[
            "--plugin-dir",
            target_dir().to_str().unwrap(),
            "fetch",
            "-p",
            "binance",
            "-m",
            "cm",
            "-s",
            "BTCUSD_PERP",
            "--kind",
            "funding",
            "--start",
            "2024-01-01",
            "--end",
            "2024-02-01",
            "-f",
            "parquet",
            "-o",
            file.to_str().unwrap(),
        ],
        &[("DSM_CACHE_DIR", &cache_env)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        std::fs::File::open(&file).unwrap(),
        4096,
    )
    .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, want.len());
}

#[test]
fn mark_index_and_premium_candles_agree_from_the_archive_and_from_rest() {
    let fake = FakeExchange::start();
    let (start, end) = (ms("2024-01-01"), ms("2024-01-03"));
    let cases = [
        (
            DataKind::MARK,
            PriceKind::Mark,
            "um",
            Market::Um,
            "BTCUSDT",
            "BTCUSDT",
        ),
        (
            DataKind::INDEX,
            PriceKind::Index,
            "um",
            Market::Um,
            "BTCUSDT",
            "BTCUSDT",
        ),
        (
            DataKind::PREMIUM,
            PriceKind::Premium,
            "um",
            Market::Um,
            "BTCUSDT",
            "BTCUSDT",
        ),
        (
            DataKind::INDEX,
            PriceKind::Index,
            "cm",
            Market::Cm,
            "BTCUSD_PERP",
            "BTCUSD",
        ),
        (
            DataKind::MARK,
            PriceKind::Mark,
            "cm",
            Market::Cm,
            "BTCUSD_PERP",
            "BTCUSD_PERP",
        ),
    ];
    for (kind, fake_kind, market, fake_market, symbol, name) in cases {
        let want = expected_price_klines(fake_kind, fake_market, name, "1h", start, end);
        assert_eq!(want.len(), 48, "{kind} {market}");
        for source in [SourceMode::Auto, SourceMode::Rest] {
            let cache = tempfile::tempdir().unwrap();
            let got = manager(&fake, market, cache.path(), source)
                .fetch_candles(kind, symbol, "1h", start, end)
                .unwrap();
            assert_eq!(got.rows, want, "{kind} {market} {source:?}");
            assert!(got.summary.gaps.is_empty());
            let from = if source == SourceMode::Auto {
                Source::Archive
            } else {
                Source::Rest
            };
            assert!(
                got.summary.sources.iter().all(|(_, s)| *s == from),
                "{kind} {source:?}"
            );
            let dir = format!("binance/{market}/{kind}/{symbol}/1h/2024-01-01.arrow");
            assert!(cache_files(cache.path()).contains(&dir), "{dir}");
        }
    }
}

#[test]
fn spot_has_no_funding_and_says_where_it_is() {
    let fake = FakeExchange::start();
    let out = run_dsm_on(
        &fake.url(),
        &[
            "--plugin-dir",
            target_dir().to_str().unwrap(),
            "fetch",
            "-p",
            "binance",
            "-m",
            "spot",
            "-s",
            "BTCUSDT",
            "--kind",
            "funding",
            "--start",
            "2024-01-01",
            "--end",
            "2024-02-01",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "funding is not available on binance market spot; it is on binance market(s) um, cm"
        ),
        "{}",
        stderr(&out)
    );
    assert!(fake.requests().is_empty());
}
