//! Binance trades, aggregated trades and metrics end to end: the real plugin file, the fake
//! exchange's Vision daily files, the host's one pipeline. Rows equal to the fake's, days
//! cached and served again without a request, a missing metrics day reported as a gap, and
//! the CLI's csv and parquet output.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::kinds::{Kind, Metrics, Trades};
use dsm_core::{DataKind, Dsm, FetchSummary, Source, SourceMode};
use dsm_tests::fake::{
    expected_metrics, expected_trades, metrics_day_missing, FakeExchange, Market,
};

fn manager(fake: &FakeExchange, market: &str, cache: &Path) -> Dsm {
    binance_on_fake(fake, market, cache, SourceMode::Auto, 10_000)
}

/// Every row of a fetch as the kind's rows, with the summary.
fn fetch<K: Kind>(
    dsm: &Dsm,
    kind: &K,
    symbol: &str,
    range: (i64, i64),
) -> (Vec<K::Row>, FetchSummary) {
    let req = dsm
        .kind_request(kind.id(), symbol, "", range.0, range.1)
        .unwrap();
    let mut rows = Vec::new();
    let summary = dsm
        .fetch_records(
            &req,
            &mut |p| {
                rows.extend(kind.rows_of(&p.batch).unwrap());
                Ok(())
            },
            &mut |_, _| {},
        )
        .unwrap();
    (rows, summary)
}

fn same_trades(got: &[dsm_sdk::Trade], want: &[dsm_sdk::Trade]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let same = (
            g.id,
            g.time,
            g.first_id,
            g.last_id,
            g.buyer_maker,
            g.best_match,
        ) == (
            w.id,
            w.time,
            w.first_id,
            w.last_id,
            w.buyer_maker,
            w.best_match,
        ) && (g.price, g.qty) == (w.price, w.qty)
            && g.quote_qty.to_bits() == w.quote_qty.to_bits();
        assert!(same, "{g:?} != {w:?}");
    }
}

#[test]
fn trades_of_every_market_from_the_archive_cached_and_served_again() {
    let fake = FakeExchange::start();
    let range = (ms("2025-01-01"), ms("2025-01-03"));
    let cases = [
        ("spot", Market::Spot, "BTCUSDT", DataKind::AGG_TRADES, true),
        ("spot", Market::Spot, "ETHUSDT", DataKind::TRADES, false),
        ("um", Market::Um, "BTCUSDT", DataKind::AGG_TRADES, true),
        ("um", Market::Um, "BTCUSDT", DataKind::TRADES, false),
        ("cm", Market::Cm, "BTCUSD_PERP", DataKind::AGG_TRADES, true),
        ("cm", Market::Cm, "BTCUSD_PERP", DataKind::TRADES, false),
    ];
    for (market, fm, symbol, kind, aggregated) in cases {
        let cache = tempfile::tempdir().unwrap();
        let trades = Trades::new(kind);
        let dsm = manager(&fake, market, cache.path());
        let (rows, summary) = fetch(&dsm, &trades, symbol, range);
        assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
        assert_eq!(
            summary.sources,
            [
                (range.0, Source::Archive),
                (ms("2025-01-02"), Source::Archive)
            ]
        );
        same_trades(
            &rows,
            &expected_trades(fm, aggregated, symbol, range.0, range.1),
        );
        let dir = format!("binance/{market}/{kind}/{symbol}");
        assert_eq!(
            cache_files(cache.path()),
            [
                format!("{dir}/2025-01-01.arrow"),
                format!("{dir}/2025-01-02.arrow")
            ]
        );
        assert_eq!(assert_cache_valid(cache.path()), 2);
        fake.clear_requests();
        let (again, summary) = fetch(
            &manager(&fake, market, cache.path()),
            &trades,
            symbol,
            range,
        );
        same_trades(&again, &rows);
        assert!(summary.sources.iter().all(|s| s.1 == Source::Cache));
        assert!(fake.requests().is_empty(), "{market} {kind}");
    }
}

#[test]
fn metrics_days_with_a_gap_where_the_archive_has_no_file() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let range = (ms("2024-01-01"), ms("2024-01-11"));
    let missing = (0..10)
        .map(|i| range.0 + i * 86_400_000)
        .find(|d| metrics_day_missing(*d))
        .unwrap();
    let dsm = manager(&fake, "cm", cache.path());
    let (rows, summary) = fetch(&dsm, &Metrics, "BTCUSD_PERP", range);
    let want = expected_metrics(Market::Cm, "BTCUSD_PERP", range.0, range.1);
    assert_eq!(rows.len(), want.len());
    for (g, w) in rows.iter().zip(&want) {
        assert_eq!(g.time, w.time);
        assert_eq!(g.open_interest.to_bits(), w.open_interest.to_bits());
        assert_eq!(
            g.taker_buy_sell_ratio.to_bits(),
            w.taker_buy_sell_ratio.to_bits()
        );
    }
    assert_eq!(summary.gaps.len(), 1, "{:?}", summary.gaps);
    let gap = &summary.gaps[0];
    assert_eq!((gap.start_ms, gap.end_ms), (missing, missing + 86_400_000));
    assert!(gap.reason.contains("404"), "{}", gap.reason);
    // Nine days cached, the missing one not.
    assert_eq!(assert_cache_valid(cache.path()), 9);
}

fn cli(fake: &FakeExchange, cache: &str, args: &[&str]) -> std::process::Output {
    let plugins = target_dir();
    let mut all = vec![
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "fetch",
        "-p",
        "binance",
    ];
    all.extend_from_slice(args);
    run_dsm_on(&fake.url(), &all, &[("DSM_CACHE_DIR", cache)])
}

#[test]
fn cli_writes_coin_m_trades_as_csv_and_parquet() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cache = cache.to_str().unwrap();
    let args = [
        "-m",
        "cm",
        "-s",
        "BTCUSD_PERP",
        "--kind",
        "trades",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
    ];
    let out = cli(&fake, cache, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = expected_trades(
        Market::Cm,
        false,
        "BTCUSD_PERP",
        ms("2024-01-01"),
        ms("2024-01-02"),
    );
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("id,time,price,qty,quote_qty,is_buyer_maker"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), want.len());
    for (line, w) in rows.iter().zip(&want) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0].parse::<i64>().unwrap(), w.id);
        assert_eq!(f[2].parse::<f64>().unwrap(), w.price);
        assert_eq!(f[4], "", "COIN-M trades have no quote quantity: {line}");
    }
    // Parquet, from the cache this time.
    fake.clear_requests();
    let file = tmp.path().join("t.parquet");
    let mut args = args.to_vec();
    args.extend(["-f", "parquet", "-o", file.to_str().unwrap()]);
    let out = cli(&fake, cache, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fake.requests().is_empty());
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        std::fs::File::open(&file).unwrap(),
        4096,
    )
    .unwrap();
    let mut got = Vec::new();
    for b in reader {
        got.extend(Trades::new(DataKind::TRADES).rows_of(&b.unwrap()).unwrap());
    }
    same_trades(&got, &want);
}

#[test]
fn cli_refuses_rest_for_archive_only_kinds() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().to_str().unwrap();
    let args = [
        "-m",
        "um",
        "-s",
        "BTCUSDT",
        "--kind",
        "metrics",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
        "--source",
        "rest",
    ];
    let out = cli(&fake, cache, &args);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("has no REST source"),
        "{}",
        stderr(&out)
    );
    assert!(fake.requests().is_empty());
}
