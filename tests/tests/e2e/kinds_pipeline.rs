//! Data kinds through the one pipeline, against testplug (no network): funding rates and
//! mark / premium candles fetched with `dsm fetch --kind`, validated, cached as complete
//! months or days, served again from the cache with no plugin, written in every format,
//! and usage errors that say where a kind is.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::*;
use dsm_core::{DataKind, Dsm, DsmConfig};

const H8: i64 = 8 * 3_600_000;

fn dsm_in(cache: &Path, args: &[&str]) -> Output {
    let plugins = plugin_dir_with(&["testplug"]);
    let mut all = vec!["--plugin-dir", plugins.path().to_str().unwrap()];
    all.extend_from_slice(args);
    let cache = cache.to_str().unwrap();
    run_dsm(&all, &[("DSM_CACHE_DIR", cache)])
}

fn funding_args<'a>(symbol: &'a str, start: &'a str, end: &'a str) -> Vec<&'a str> {
    vec![
        "fetch", "-p", "testplug", "-m", "spot", "-s", symbol, "--kind", "funding", "--start",
        start, "--end", end,
    ]
}

#[test]
fn funding_rates_are_fetched_cached_and_served_again_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = dsm_in(&cache, &funding_args("TEST", "2024-01-01", "2024-03-01"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "funding_time,funding_rate,mark_price,funding_interval_hours"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 31 + 29 days, three settlements a day, each 3 ms past its hour.
    assert_eq!(rows.len(), 60 * 3);
    let jan1 = ms("2024-01-01");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0].parse::<i64>().unwrap(), jan1 + i as i64 * H8 + 3);
        assert_eq!(r[3], "8");
        assert!(r[1].parse::<f64>().unwrap().abs() < 0.001);
    }
    assert_eq!(
        cache_files(&cache),
        [
            "testplug/spot/funding/TEST/2024-01.arrow",
            "testplug/spot/funding/TEST/2024-02.arrow"
        ]
    );
    assert_eq!(assert_cache_valid(&cache), 2);

    // Again from the cache alone: the same bytes, and no plugin is needed for it.
    let mut args = funding_args("TEST", "2024-01-01", "2024-03-01");
    args.extend(["--source", "cache"]);
    let again = dsm_in(&cache, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again), text);

    // Part of the range not cached: a gap over what no source covered, exit 3.
    let mut args = funding_args("TEST", "2024-02-01", "2024-04-01");
    args.extend(["--source", "cache"]);
    let part = dsm_in(&cache, &args);
    assert_eq!(part.status.code(), Some(3), "{}", stderr(&part));
    assert_eq!(stdout(&part).lines().count(), 1 + 29 * 3);
    let err = stderr(&part);
    assert!(
        err.contains("gap 2024-03-01T00:00:00Z .. 2024-04-01T00:00:00Z: not in the cache"),
        "{err}"
    );

    // The listing knows the kind.
    let ls = dsm_in(&cache, &["cache", "ls"]);
    let listed = stdout(&ls);
    let line = listed.lines().find(|l| l.contains("funding")).unwrap_or("");
    assert!(line.contains("TEST") && line.contains("180"), "{listed}");
}

#[test]
fn a_damaged_funding_file_is_named_and_fetched_again() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let args = funding_args("TEST", "2024-01-01", "2024-02-01");
    let first = dsm_in(&cache, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let file = cache.join("testplug/spot/funding/TEST/2024-01.arrow");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();

    let verify = dsm_in(&cache, &["cache", "verify"]);
    assert_ne!(verify.status.code(), Some(0));
    assert!(
        stdout(&verify).contains("2024-01.arrow") || stderr(&verify).contains("2024-01.arrow"),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    let again = dsm_in(&cache, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again), stdout(&first));
    assert!(stderr(&again).contains("checksum"), "{}", stderr(&again));
    assert_eq!(assert_cache_valid(&cache), 1);
}

#[test]
fn absent_mark_prices_are_null_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let mut args = funding_args("NOMARKX", "2024-01-01", "2024-01-02");
    args.extend(["-f", "jsonl"]);
    let out = dsm_in(&cache, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["mark_price"].is_null(), "{line}");
        assert_eq!(v["funding_interval_hours"], 8.0);
    }
    for format in ["parquet", "arrow"] {
        let file = tmp.path().join(format!("f.{format}"));
        let mut args = funding_args("NOMARKX", "2024-01-01", "2024-01-02");
        args.extend(["-f", format, "-o", file.to_str().unwrap()]);
        let out = dsm_in(&cache, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let batches = read_columnar(&file, format);
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 3, "{format}");
        let schema = batches[0].schema();
        assert_eq!(schema.field(0).name(), "funding_time");
        assert_eq!(batches[0].column(2).null_count(), 3, "{format}");
    }
}

fn read_columnar(path: &Path, format: &str) -> Vec<dsm_core::arrow_array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    match format {
        "parquet" => parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024)
            .unwrap()
            .map(|b| b.unwrap())
            .collect(),
        _ => arrow_ipc::reader::FileReader::try_new(file, None)
            .unwrap()
            .map(|b| b.unwrap())
            .collect(),
    }
}

#[test]
fn mark_and_premium_candles_go_through_the_candle_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let base = |kind: &'static str, interval: &'static str| {
        vec![
            "fetch",
            "-p",
            "testplug",
            "-m",
            "spot",
            "-s",
            "TEST",
            "--kind",
            kind,
            "-i",
            interval,
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
        ]
    };
    let out = dsm_in(&cache, &base("mark", "1h"));
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<String> = stdout(&out).lines().skip(1).map(String::from).collect();
    assert_eq!(rows.len(), 24);
    let want = testplug_klines(3_600_000, ms("2024-01-01"), ms("2024-01-02"));
    for (line, k) in rows.iter().zip(&want) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0].parse::<i64>().unwrap(), k.open_time);
        assert_eq!(f[1].parse::<f64>().unwrap(), k.open);
        assert_eq!(f[5], "0", "mark candles carry no volume: {line}");
    }
    // Premium index candles are negative fractions: valid for that kind only.
    let out = dsm_in(&cache, &base("premium", "1h"));
    assert!(out.status.success(), "{}", stderr(&out));
    let first: Vec<String> = stdout(&out)
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    assert!(first[1].parse::<f64>().unwrap() < 0.0, "{first:?}");
    assert_eq!(
        cache_files(&cache),
        [
            "testplug/spot/mark/TEST/1h/2024-01-01.arrow",
            "testplug/spot/premium/TEST/1h/2024-01-01.arrow"
        ]
    );
}

#[test]
fn usage_errors_name_what_is_available() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--kind", "funding", "-i", "1m"],
            "funding has no interval",
        ),
        (vec!["--kind", "mark"], "mark needs an interval"),
        (
            vec!["--kind", "mark", "-i", "1d"],
            "interval \"1d\" is not available for mark on market spot; available: 1m 1h",
        ),
        (vec!["--kind", "trades-of-mars", "-i", "1m"], "unknown kind"),
        (
            vec!["--kind", "index", "-i", "1m"],
            "index is not available on testplug market spot; no market of testplug has it",
        ),
        (
            vec!["--kind", "funding", "--source", "archive"],
            "funding of market spot of testplug has no archive source",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec![
            "fetch",
            "-p",
            "testplug",
            "-m",
            "spot",
            "-s",
            "TEST",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
        ];
        args.extend(extra.iter());
        let out = dsm_in(&cache, &args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{extra:?}: {}", stderr(&out));
        assert!(cache_files(&cache).is_empty());
    }
    let out = dsm_in(&cache, &["providers"]);
    assert!(
        stdout(&out).contains("kinds: klines (rest), funding (rest), mark (rest), premium (rest), agg-trades (rest), trades (rest), metrics (rest)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_library_fetches_funding_and_candle_kinds() {
    let plugins = plugin_dir_with(&["testplug"]);
    let cache = tempfile::tempdir().unwrap();
    let config = DsmConfig::new("testplug", "spot")
        .plugin_dir(plugins.path())
        .cache_dir(cache.path());
    let dsm = Dsm::create_with_config(config).unwrap();
    let rates = dsm
        .fetch_funding("TEST", "2024-01-01", "2024-01-03")
        .unwrap();
    assert_eq!(rates.rows.len(), 6);
    assert!(rates.summary.gaps.is_empty());
    assert_eq!(rates.to_record_batch().num_rows(), 6);
    assert!(rates.rows.iter().all(|r| r.interval_ms == H8));
    let mark = dsm
        .fetch_candles(
            DataKind::MARK,
            "TEST",
            "1m",
            "2024-01-01",
            "2024-01-01T01:00:00Z",
        )
        .unwrap();
    assert_eq!(mark.kind, DataKind::MARK);
    assert_eq!(mark.rows.len(), 60);
    assert!(mark.rows.iter().all(|k| k.volume == 0.0));
    let err = dsm
        .fetch_candles(DataKind::INDEX, "TEST", "1m", "2024-01-01", "2024-01-02")
        .unwrap_err();
    assert!(err.to_string().contains("index is not available"), "{err}");
}

#[test]
fn trades_keep_every_trade_of_a_millisecond_and_metrics_follow_their_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = |kind: &str, end: &str, extra: &[&str]| {
        let mut args = vec![
            "fetch",
            "-p",
            "testplug",
            "-m",
            "spot",
            "-s",
            "TEST",
            "--kind",
            kind,
            "--start",
            "2024-01-01",
            "--end",
            end,
        ];
        args.extend_from_slice(extra);
        dsm_in(&cache, &args)
    };
    // A whole day: two trades share each millisecond, none is lost to deduplication.
    let out = run("trades", "2024-01-02", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,time,price,qty,quote_qty,is_buyer_maker,is_best_match"
    );
    assert_eq!(lines.count(), 2 * 86_400);
    let again = run("trades", "2024-01-02", &["--source", "cache"]);
    assert!(stdout(&again) == text, "{}", stderr(&again)); // (not printed: 172,800 rows)
    let out = run("agg-trades", "2024-01-01T00:00:10Z", &["-f", "jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert!(first["quote_qty"].is_null());
    assert_eq!(
        first["last_trade_id"],
        first["first_trade_id"].as_i64().unwrap() + 1
    );
    assert_eq!(stdout(&out).lines().count(), 10);

    let out = run("metrics", "2024-01-02", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 288);
    assert!(stdout(&out).starts_with("time,open_interest,open_interest_value,"));
    // The grid finds what the cache lacks: 2024-01-02 was never fetched.
    let out = run("metrics", "2024-01-03", &["--source", "cache"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("gap 2024-01-02T00:00:00Z .. 2024-01-03T00:00:00Z: not in the cache"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        cache_files(&cache),
        // Ten seconds of aggregated trades are no complete day: not cached.
        [
            "testplug/spot/metrics/TEST/2024-01-01.arrow",
            "testplug/spot/trades/TEST/2024-01-01.arrow",
        ]
    );
    // The cache commands filter by kind.
    let ls = dsm_in(&cache, &["cache", "ls", "--kind", "metrics"]);
    assert_eq!(stdout(&ls).lines().count(), 2, "{}", stdout(&ls));
    let clear = dsm_in(&cache, &["cache", "clear", "-k", "trades"]);
    assert!(clear.status.success(), "{}", stderr(&clear));
    assert_eq!(
        cache_files(&cache),
        ["testplug/spot/metrics/TEST/2024-01-01.arrow"]
    );
    let bad = dsm_in(&cache, &["cache", "ls", "-k", "candlesticks"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown kind"), "{}", stderr(&bad));
}
