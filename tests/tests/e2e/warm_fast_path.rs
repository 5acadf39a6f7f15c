//! The warm read's fast path: a period served from the cache goes to the record outputs as
//! the cache file's own record batches (decoded where the file's bytes lie, checksum and
//! candles checked), never as rows; the same rows, the same Parquet bytes, the same errors.

use crate::common;

use std::path::Path;

use common::*;
use common::{testplug_day_file as day_file, testplug_manager as manager};
use dsm_core::arrow_array::{Array, RecordBatch};
use dsm_core::{columnar, DataKind, Dsm, FetchSummary, PeriodRecords, Source};
use dsm_core::{Kline, SourceMode};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
const JAN1: i64 = 1_704_067_200_000;

fn records(dsm: &Dsm, start: i64, end: i64) -> (Vec<PeriodRecords>, FetchSummary) {
    let req = dsm
        .kind_request(DataKind::KLINES, "TEST", "1h", start, end)
        .unwrap();
    let mut out = Vec::new();
    let summary = dsm
        .fetch_records(
            &req,
            &mut |p| {
                out.push(p);
                Ok(())
            },
            &mut |_, _| {},
        )
        .unwrap();
    (out, summary)
}

fn rows_of(records: &[PeriodRecords]) -> Vec<Kline> {
    let mut rows = Vec::new();
    for r in records {
        rows.extend(columnar::from_record_batch(&r.batch).unwrap());
    }
    rows
}

/// Whether every column of `batch` points into one allocation at least `file_len` long:
/// the cache file read whole and decoded in place. Rows made into columns have a buffer of
/// their own per column, 8 bytes a row.
fn points_into_the_file(batch: &RecordBatch, file_len: u64) -> bool {
    batch.columns().iter().all(|c| {
        let data = c.to_data();
        data.buffers()
            .iter()
            .all(|b| b.capacity() as u64 >= file_len)
    })
}

#[test]
fn cached_periods_are_emitted_as_the_files_batches_with_the_same_rows() {
    let cache = tempfile::tempdir().unwrap();
    let first = manager(cache.path(), SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    assert_eq!(first.summary.cached_periods, 3);
    let len = std::fs::metadata(day_file(cache.path(), "2024-01-02"))
        .unwrap()
        .len();
    let warm = manager(cache.path(), SourceMode::Cache);
    // Whole days, and a range that starts and ends inside a day (sliced, not copied).
    for (start, end) in [
        (JAN1, JAN1 + 3 * DAY),
        (JAN1 + 5 * H, JAN1 + 2 * DAY + 7 * H),
    ] {
        let (recs, summary) = records(&warm, start, end);
        assert_eq!(recs.len(), 3);
        assert_eq!(rows_of(&recs), testplug_klines(H, start, end));
        for r in &recs {
            assert_eq!(r.source, Source::Cache);
            assert!(!r.cached && r.last);
            // The kind's schema, the file's identity metadata dropped.
            assert_eq!(r.batch.schema(), columnar::schema());
            assert!(points_into_the_file(&r.batch, len), "{:?}", r.batch);
        }
        assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
        assert_eq!(summary.sources.len(), 3);
        // The rows API: the same candles, made rows once from the same columns.
        let rows = warm.fetch_market_data("TEST", "1h", start, end).unwrap();
        assert_eq!(rows.rows, testplug_klines(H, start, end));
        assert_eq!(rows.summary.sources, summary.sources);
        // The stream of rows too.
        let streamed: Vec<Kline> = warm
            .fetch_stream("TEST", "1h", start, end)
            .unwrap()
            .flat_map(|b| b.unwrap().rows)
            .collect();
        assert_eq!(streamed, rows.rows);
    }
    assert!(!warm.is_loaded(), "a warm read opens no plugin");
}

#[test]
fn a_partly_cached_range_mixes_the_cache_and_the_network_in_order() {
    let cache = tempfile::tempdir().unwrap();
    let auto = manager(cache.path(), SourceMode::Auto);
    // Only the middle day is cached.
    auto.fetch_market_data("TEST", "1h", JAN1 + DAY, JAN1 + 2 * DAY)
        .unwrap();
    let len = std::fs::metadata(day_file(cache.path(), "2024-01-02"))
        .unwrap()
        .len();
    // The first day whole (fetched and cached now), the last cut short (not cached).
    let (recs, summary) = records(&auto, JAN1, JAN1 + 3 * DAY - 2 * H);
    assert_eq!(
        rows_of(&recs),
        testplug_klines(H, JAN1, JAN1 + 3 * DAY - 2 * H)
    );
    let got: Vec<(i64, Source, bool)> = recs
        .iter()
        .map(|r| (r.period_start, r.source, r.cached))
        .collect();
    assert_eq!(
        got,
        vec![
            (JAN1, Source::Rest, true),
            (JAN1 + DAY, Source::Cache, false),
            (JAN1 + 2 * DAY, Source::Rest, false),
        ]
    );
    assert!(points_into_the_file(&recs[1].batch, len));
    assert!(!points_into_the_file(&recs[0].batch, len));
    assert_eq!(summary.cached_periods, 1);
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
}

#[test]
fn a_damaged_cache_file_on_the_fast_path_is_refused_and_fetched_again() {
    let cache = tempfile::tempdir().unwrap();
    let auto = manager(cache.path(), SourceMode::Auto);
    auto.fetch_market_data("TEST", "1h", JAN1, JAN1 + 2 * DAY)
        .unwrap();
    let path = day_file(cache.path(), "2024-01-02");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    // From the cache alone: the day is a gap, with the file and why in a note.
    let (recs, summary) = records(
        &manager(cache.path(), SourceMode::Cache),
        JAN1,
        JAN1 + 2 * DAY,
    );
    assert_eq!(rows_of(&recs), testplug_klines(H, JAN1, JAN1 + DAY));
    let note = summary.notes.join("\n");
    assert!(
        note.contains("checksum mismatch") && note.contains("2024-01-02.arrow"),
        "{note}"
    );
    assert_eq!(summary.gaps.len(), 1, "{:?}", summary.gaps);
    // With the network: fetched again and cached anew, the same candles.
    let (recs, summary) = records(&auto, JAN1, JAN1 + 2 * DAY);
    assert_eq!(rows_of(&recs), testplug_klines(H, JAN1, JAN1 + 2 * DAY));
    assert_eq!(recs[1].source, Source::Rest);
    assert!(summary.notes.join("\n").contains("fetched again"));
    assert_eq!(summary.cached_periods, 1);
}

#[test]
fn parquet_from_the_cache_is_the_bytes_written_from_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let fetch = |source: &str, out: &Path| {
        let args = [
            "--cache-dir",
            cache.to_str().unwrap(),
            "fetch",
            "-p",
            "testplug",
            "-m",
            "spot",
            "-s",
            "TEST",
            "-i",
            "1h",
            "--start",
            "2024-01-01T05:00:00Z",
            "--end",
            "2024-01-04T07:00:00Z",
            "--source",
            source,
            "-f",
            "parquet",
            "-o",
            out.to_str().unwrap(),
        ];
        let o = run_dsm(&args, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let (cold, warm) = (
        dir.path().join("cold.parquet"),
        dir.path().join("warm.parquet"),
    );
    fetch("auto", &cold);
    assert_eq!(cache_files(&cache).len(), 2, "the two whole days cached");
    // Only whole days are cached: the ends come from the network again, the middle not.
    fetch("auto", &warm);
    let (a, b) = (std::fs::read(&cold).unwrap(), std::fs::read(&warm).unwrap());
    assert!(a.starts_with(b"PAR1"));
    assert_eq!(
        a, b,
        "the same Parquet bytes from the cache as from the network"
    );
}
