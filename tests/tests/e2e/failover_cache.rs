//! The failover's cache, with the network-free test plugin: complete days cached atomically
//! and served back, partial days never cached, `--source cache` offline, streaming by day.

use crate::common;

use common::*;
use common::{testplug_day_file as day_file, testplug_manager as manager};
use dsm_core::{Source, SourceMode};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
const JAN1: i64 = 1_704_067_200_000;

#[test]
fn complete_days_are_cached_and_served_back_identically() {
    let cache = tempfile::tempdir().unwrap();
    let first = manager(cache.path(), SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    assert_eq!(first.rows, testplug_klines(H, JAN1, JAN1 + 3 * DAY));
    assert_eq!(first.summary.cached_periods, 3);
    assert!(first
        .summary
        .sources
        .iter()
        .all(|(_, s)| *s == Source::Rest));
    for d in ["2024-01-01", "2024-01-02", "2024-01-03"] {
        assert!(day_file(cache.path(), d).is_file(), "{d} cached");
    }
    let again = manager(cache.path(), SourceMode::Cache)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    assert_eq!(again.rows, first.rows);
    assert_eq!(again.summary.cached_periods, 0);
    let days: Vec<_> = again
        .summary
        .sources
        .iter()
        .map(|(p, s)| (*p, *s))
        .collect();
    assert_eq!(
        days,
        vec![
            (JAN1, Source::Cache),
            (JAN1 + DAY, Source::Cache),
            (JAN1 + 2 * DAY, Source::Cache)
        ]
    );
    assert!(again.summary.gaps.is_empty());
}

#[test]
fn partial_days_are_returned_but_not_cached() {
    let cache = tempfile::tempdir().unwrap();
    // Mid-day to mid-day: only the whole day in between is complete.
    let got = manager(cache.path(), SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1 + 5 * H, JAN1 + 2 * DAY + 7 * H)
        .unwrap();
    assert_eq!(
        got.rows,
        testplug_klines(H, JAN1 + 5 * H, JAN1 + 2 * DAY + 7 * H)
    );
    assert!(!day_file(cache.path(), "2024-01-01").exists());
    assert!(day_file(cache.path(), "2024-01-02").exists());
    assert!(!day_file(cache.path(), "2024-01-03").exists());
    // A range ending now: today is never cached.
    let now = dsm_core::request::now_ms();
    let got = manager(cache.path(), SourceMode::Auto)
        .fetch_market_data("TEST", "1h", now - 30 * H, now + DAY)
        .unwrap();
    assert!(got.rows.last().unwrap().close_time < now);
    let today = dsm_core::timeparse::format_date(now);
    assert!(!day_file(cache.path(), &today).exists(), "today cached");
}

#[test]
fn source_cache_on_an_uncached_range_reports_it_all_as_gap() {
    let cache = tempfile::tempdir().unwrap();
    let got = manager(cache.path(), SourceMode::Cache)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 2 * DAY)
        .unwrap();
    assert!(got.rows.is_empty());
    assert_eq!(got.summary.gaps.len(), 1, "{:?}", got.summary.gaps);
    let gap = &got.summary.gaps[0];
    assert_eq!((gap.start_ms, gap.end_ms), (JAN1, JAN1 + 2 * DAY));
    assert!(gap.reason.contains("not in the cache"), "{}", gap.reason);
}

#[test]
fn stream_yields_one_batch_per_day_in_order() {
    let cache = tempfile::tempdir().unwrap();
    let dsm = manager(cache.path(), SourceMode::Auto);
    let mut stream = dsm
        .fetch_stream("TEST", "1m", JAN1 + H, JAN1 + 4 * DAY)
        .unwrap();
    let batches: Vec<_> = stream.by_ref().map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 4);
    for (i, b) in batches.iter().enumerate() {
        assert_eq!(b.period_start, JAN1 + i as i64 * DAY);
        assert!(b
            .rows
            .iter()
            .all(|k| k.open_time >= b.period_start && k.open_time < b.period_start + DAY));
    }
    assert_eq!(batches[0].rows.len(), 23 * 60, "trimmed to the range");
    assert!(!batches[0].cached && batches[1].cached);
    let all: Vec<_> = batches.into_iter().flat_map(|b| b.rows).collect();
    assert_eq!(all, testplug_klines(60_000, JAN1 + H, JAN1 + 4 * DAY));
    assert_eq!(stream.summary().unwrap().cached_periods, 3);
}

#[test]
fn cache_files_read_back_with_arrow_rs_give_the_candles_written() {
    let cache = tempfile::tempdir().unwrap();
    manager(cache.path(), SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    let file = std::fs::File::open(day_file(cache.path(), "2024-01-01")).unwrap();
    let reader = arrow_ipc::reader::FileReader::try_new(file, None).unwrap();
    let schema = reader.schema();
    assert_eq!(
        schema.field_with_name("open_time").unwrap().data_type(),
        &arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, Some("UTC".into()))
    );
    let mut rows = Vec::new();
    for batch in reader {
        rows.extend(dsm_core::columnar::from_record_batch(&batch.unwrap()).unwrap());
    }
    assert_eq!(rows, testplug_klines(H, JAN1, JAN1 + DAY));
}

#[test]
fn cli_cache_only_run_loads_no_plugin_and_exits_3_with_gaps() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let args = [
        "--cache-dir",
        c,
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
        "2024-01-01",
        "--end",
        "2024-01-03",
    ];
    let mut offline = args.to_vec();
    offline.extend(["--source", "cache"]);
    let out = run_dsm(&offline, &[("LD_DEBUG", "files")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("gap 2024-01-01T00:00:00Z .. 2024-01-03T00:00:00Z: not in the cache"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out)
        .lines()
        .any(|l| l.contains("libdsm_testplug.so") && l.contains("dynamically loaded")));
    // Fill the cache, then the offline run serves it all without loading the plugin.
    let out = run_dsm(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_dsm(&offline, &[("LD_DEBUG", "files")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 48);
    assert!(!stderr(&out)
        .lines()
        .any(|l| l.contains("libdsm_") && l.contains("dynamically loaded")));
    // ls and verify see the two days.
    let ls = run_dsm(&["--cache-dir", c, "cache", "ls"], &[]);
    assert!(
        stdout(&ls).contains("testplug") && stdout(&ls).contains("2024-01-01 .. 2024-01-02"),
        "{}",
        stdout(&ls)
    );
    let verify = run_dsm(&["--cache-dir", c, "cache", "verify"], &[]);
    assert!(
        verify.status.success() && stdout(&verify).contains("2 files checked, 0 bad"),
        "{}",
        stdout(&verify)
    );
    let clear = run_dsm(&["--cache-dir", c, "cache", "clear", "-s", "TEST"], &[]);
    assert!(
        stdout(&clear).contains("removed 2 files"),
        "{}",
        stdout(&clear)
    );
}

#[test]
fn cli_writes_parquet_and_arrow_files() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["parquet", "arrow"] {
        let file = dir.path().join(format!("out.{format}"));
        let out = run_dsm(
            &[
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
                "2024-01-01",
                "--end",
                "2024-01-02",
                "-f",
                format,
                "-o",
                file.to_str().unwrap(),
            ],
            &[],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let rows: Vec<dsm_core::Kline> = if format == "arrow" {
            let reader =
                arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&file).unwrap(), None)
                    .unwrap();
            reader
                .flat_map(|b| dsm_core::columnar::from_record_batch(&b.unwrap()).unwrap())
                .collect()
        } else {
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(&file).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            reader
                .flat_map(|b| dsm_core::columnar::from_record_batch(&b.unwrap()).unwrap())
                .collect()
        };
        assert_eq!(rows, testplug_klines(H, JAN1, JAN1 + DAY), "{format}");
    }
    // parquet to stdout makes no sense: a usage error.
    let out = run_dsm(
        &[
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
            "2024-01-01",
            "--end",
            "2024-01-02",
            "-f",
            "parquet",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}
