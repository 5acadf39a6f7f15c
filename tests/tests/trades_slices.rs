//! A busy trade day through the whole pipeline in slices: with `DSM_FAKE_TRADES_PER_DAY` set
//! (its own test binary, so no other test sees it) a day holds more than two slices of
//! aggregated trades; the archive and then the cache hand it on in slices of at most
//! `SLICE_ROWS`, the cache file is valid, and the CLI's Parquet output of it has bounded row
//! groups and the same rows.

mod common;

use common::*;
use dsm_core::kinds::{Kind, Trades, SLICE_ROWS};
use dsm_core::{DataKind, PeriodRecords, Source, SourceMode};
use dsm_sdk::Trade;
use dsm_tests::fake::{expected_trades, FakeExchange, Market};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn all_bits(rows: &[Trade]) -> Vec<TradeBits> {
    rows.iter().map(trade_bits).collect()
}

#[test]
fn a_busy_trade_day_comes_in_slices_from_the_archive_and_the_cache() {
    // The only test of this binary, set before any thread reads the environment.
    std::env::set_var("DSM_FAKE_TRADES_PER_DAY", "600000");
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let range = (ms("2024-03-01"), ms("2024-03-02"));
    let kind = Trades::new(DataKind::AGG_TRADES);
    let want = expected_trades(Market::Spot, true, "BTCUSDT", range.0, range.1);
    assert!(want.len() > 2 * SLICE_ROWS, "{} trades", want.len());
    for source in [Source::Archive, Source::Cache] {
        let dsm = binance_on_fake(&fake, "spot", &cache, SourceMode::Auto, 30_000);
        let req = dsm
            .kind_request(DataKind::AGG_TRADES, "BTCUSDT", "", range.0, range.1)
            .unwrap();
        let mut records: Vec<PeriodRecords> = Vec::new();
        let summary = dsm
            .fetch_records(
                &req,
                &mut |p| {
                    records.push(p);
                    Ok(())
                },
                &mut |_, _| {},
            )
            .unwrap();
        assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
        let sizes: Vec<usize> = records.iter().map(|r| r.batch.num_rows()).collect();
        assert_eq!(sizes.len(), want.len().div_ceil(SLICE_ROWS), "{sizes:?}");
        assert!(sizes.iter().all(|n| *n <= SLICE_ROWS), "{sizes:?}");
        let lasts: Vec<bool> = records.iter().map(|r| r.last).collect();
        assert_eq!(lasts.iter().filter(|l| **l).count(), 1, "{lasts:?}");
        assert_eq!(lasts.last(), Some(&true));
        for r in &records {
            assert_eq!((r.period_start, r.source), (range.0, source));
        }
        let rows: Vec<Trade> = records
            .iter()
            .flat_map(|r| kind.rows_of(&r.batch).unwrap())
            .collect();
        assert!(
            all_bits(&rows) == all_bits(&want),
            "{source:?}: other trades"
        );
        assert_eq!(assert_cache_valid(&cache), 1);
    }

    // The CLI from the cache: Parquet row groups bounded, the same trades.
    fake.clear_requests();
    let file = tmp.path().join("day.parquet");
    let plugins = target_dir();
    let args = [
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "fetch",
        "-p",
        "binance",
        "-m",
        "spot",
        "-s",
        "BTCUSDT",
        "--kind",
        "agg-trades",
        "--start",
        "2024-03-01",
        "--end",
        "2024-03-02",
        "--source",
        "cache",
        "-f",
        "parquet",
        "-o",
        file.to_str().unwrap(),
    ];
    let out = run_dsm_on(
        &fake.url(),
        &args,
        &[("DSM_CACHE_DIR", cache.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fake.requests().is_empty());
    let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap()).unwrap();
    let groups: Vec<i64> = b
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert!(groups.len() >= 2, "{groups:?}");
    assert!(groups.iter().all(|n| *n <= 131_072), "{groups:?}");
    let got: Vec<Trade> = b
        .build()
        .unwrap()
        .flat_map(|b| kind.rows_of(&b.unwrap()).unwrap())
        .collect();
    assert!(
        all_bits(&got) == all_bits(&want),
        "the CLI's Parquet holds other trades"
    );
}
