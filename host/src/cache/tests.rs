//! The cache's behaviour, on every backend (`test_backends.rs`).

use std::path::Path;

use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, TimeUnit};

use super::test_backends::{on_every_backend, temp_cache, Backend, TestCache};
use super::*;
use crate::columnar::{self, tests::sample};
use crate::interval::{days_from_civil, DAY, MINUTE};

fn key(symbol: &str, interval: &str) -> SeriesKey {
    SeriesKey::new("binance", "spot", symbol, interval).unwrap()
}

fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY
}

fn minutes_of(start: i64) -> Vec<Kline> {
    sample(start, MINUTE, 1440)
}

on_every_backend!(
    write_then_read_gives_the_same_klines,
    write_many_writes_each_period_as_write_does_and_reports_in_order,
    monthly_files_for_daily_candles,
    file_has_the_documented_schema,
    atomic_write_replaces_and_leaves_no_temp_file,
    write_refuses_what_must_not_be_cached,
    keys_cannot_escape_the_root,
    bad_files_are_errors_naming_the_file,
    verify_flags_every_kind_of_bad_file,
    list_counts_periods_rows_and_bytes,
    clear_removes_only_what_matches,
);

/// Write rows as a current-format file (checksum and identity right) without the cache's
/// checks of the candles.
fn write_unchecked(cache: &TestCache, k: &SeriesKey, start: i64, rows: &[Kline]) {
    let kind = super::candles_of(k).unwrap();
    let expect = cache.expect(&kind, k, start).unwrap();
    let bytes = expect.encode(rows, &expect.holes_of(rows), 0).unwrap();
    cache.put_raw(k, start, &bytes);
}

/// Rows as a plain IPC file, as dsm's format 1 wrote them (no version, no checksum).
fn format_1(rows: &[Kline]) -> Vec<u8> {
    let batch = columnar::to_record_batch(rows);
    let mut w = FileWriter::try_new(Vec::new(), &columnar::schema()).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    w.into_inner().unwrap()
}

fn write_then_read_gives_the_same_klines(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 1, 1));
    assert!(!cache.contains(&k, start));
    assert_eq!(cache.read(&k, start).unwrap(), None);
    let rows = minutes_of(start);
    cache.write(&k, start, &rows).unwrap();
    assert!(cache.contains(&k, start));
    assert_eq!(cache.read(&k, start).unwrap(), Some(rows));
    let path = cache.path(&k, start).unwrap();
    let rel = path.strip_prefix(cache.root()).unwrap();
    assert_eq!(
        rel,
        Path::new("binance/spot/klines/BTCUSDT/1m/2024-01-01.arrow")
    );
    assert_eq!(
        cache.keys_below(""),
        ["binance/spot/klines/BTCUSDT/1m/2024-01-01.arrow"],
        "one file, nothing beside it"
    );
}

fn write_many_writes_each_period_as_write_does_and_reports_in_order(b: Backend) {
    let cache = &temp_cache(b);
    let k = key("BTCUSDT", "1m");
    let days: Vec<i64> = (0..31).map(|i| day(2024, 1, 1) + i * DAY).collect();
    let rows: Vec<Vec<Kline>> = days.iter().map(|d| minutes_of(*d)).collect();
    let mut periods: Vec<(i64, &[Kline])> = days
        .iter()
        .zip(&rows)
        .map(|(d, r)| (*d, r.as_slice()))
        .collect();
    // One bad period (empty) among good ones: refused alone, in its place.
    periods[7].1 = &[];
    let results = cache.write_many(&k, &periods, 0);
    assert_eq!(results.len(), 31);
    for (i, (r, d)) in results.iter().zip(&days).enumerate() {
        if i == 7 {
            assert!(matches!(r, Err(CacheError::Refused { .. })), "{r:?}");
            assert!(!cache.contains(&k, *d));
        } else {
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(cache.read(&k, *d).unwrap().as_ref(), Some(&rows[i]));
        }
    }
    assert_eq!(cache.names_in(&k).len(), 30, "no temporary files left");
    assert!(cache.write_many(&k, &[], 0).is_empty());
}

fn monthly_files_for_daily_candles(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key("ETHUSDT", "1d"), day(2024, 2, 1));
    let rows = sample(start, DAY, 29);
    cache.write(&k, start, &rows).unwrap();
    assert!(cache.path(&k, start).unwrap().ends_with("1d/2024-02.arrow"));
    assert_eq!(cache.read(&k, start).unwrap(), Some(rows));
    let march = sample(start, DAY, 30);
    assert!(matches!(
        cache.write(&k, start, &march),
        Err(CacheError::Refused { .. })
    ));
    assert!(matches!(
        cache.path(&k, day(2024, 2, 2)),
        Err(CacheError::InvalidPeriod(_))
    ));
}

fn file_has_the_documented_schema(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 1, 1));
    cache
        .write(&k, start, &sample(start, 3_600_000, 24))
        .unwrap();
    let file = std::io::Cursor::new(cache.raw(&k, start));
    let reader = arrow_ipc::reader::FileReader::try_new(file, None).unwrap();
    let schema = reader.schema();
    let utc_ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    assert_eq!(
        schema.field_with_name("open_time").unwrap().data_type(),
        &utc_ms
    );
    assert_eq!(
        schema.field_with_name("close_time").unwrap().data_type(),
        &utc_ms
    );
    assert_eq!(
        schema.field_with_name("trades").unwrap().data_type(),
        &DataType::UInt64
    );
    assert_eq!(
        schema.field_with_name("volume").unwrap().data_type(),
        &DataType::Float64
    );
    assert!(schema.fields().iter().all(|f| !f.is_nullable()));
    assert_eq!(schema.metadata()["symbol"], "BTCUSDT");
    assert_eq!(schema.metadata()["interval"], "1h");
    assert_eq!(reader.custom_metadata()[format::ROWS_KEY], "24");
    assert_eq!(reader.custom_metadata()[format::FORMAT_KEY], FORMAT_VERSION);
}

fn atomic_write_replaces_and_leaves_no_temp_file(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 1, 1));
    cache.write(&k, start, &minutes_of(start)).unwrap();
    let fewer = sample(start, MINUTE, 10);
    cache.write(&k, start, &fewer).unwrap();
    assert_eq!(cache.read(&k, start).unwrap(), Some(fewer));
    assert_eq!(cache.names_in(&k), ["2024-01-01.arrow"]);
}

fn write_refuses_what_must_not_be_cached(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 1, 1));
    let refused = |rows: &[Kline]| {
        matches!(
            cache.write(&k, start, rows),
            Err(CacheError::Refused { .. })
        )
    };
    assert!(refused(&[]));
    assert!(
        refused(&sample(start - MINUTE, MINUTE, 2)),
        "before the day"
    );
    assert!(refused(&sample(start + DAY, MINUTE, 2)), "after the day");
    assert!(refused(&sample(start + 1, MINUTE, 2)), "unaligned");
    let mut unsorted = sample(start, MINUTE, 3);
    unsorted.swap(0, 2);
    assert!(refused(&unsorted));
    let dup = [unsorted[0], unsorted[0]];
    assert!(refused(&dup));
    assert!(!cache.contains(&k, start));
    assert!(
        cache.keys_below("").is_empty(),
        "nothing stored for refused data"
    );
    if b == Backend::Fs {
        assert!(!cache.root().exists(), "nothing created for refused data");
    }
}

fn keys_cannot_escape_the_root(b: Backend) {
    let cache = &temp_cache(b);
    assert!(SeriesKey::new("binance", "spot", "../x", "1m").is_err());
    let start = day(2024, 1, 1);
    for bad in ["../x", "..", "A/B", "", "x"] {
        let k = SeriesKey {
            symbol: bad.into(),
            ..key("BTCUSDT", "1m")
        };
        assert!(
            matches!(cache.path(&k, start), Err(CacheError::InvalidKey(_))),
            "{bad}"
        );
        assert!(cache.read(&k, start).is_err());
        assert!(cache.write(&k, start, &minutes_of(start)).is_err());
        assert!(!cache.contains(&k, start));
    }
    let k = SeriesKey {
        provider: "../../etc".into(),
        ..key("BTCUSDT", "1m")
    };
    assert!(cache.path(&k, start).is_err());
}

fn bad_files_are_errors_naming_the_file(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 1, 1));
    cache.put_raw(&k, start, b"not arrow at all");
    let err = cache.read(&k, start).unwrap_err();
    assert!(matches!(err, CacheError::Corrupt { .. }));
    assert!(err.to_string().contains("2024-01-01.arrow"), "{err}");
}

/// A cache with one good file, and each kind of bad one.
fn damaged_cache(b: Backend) -> (TestCache, Vec<&'static str>) {
    let cache = temp_cache(b);
    let k = key("BTCUSDT", "1m");
    cache
        .write(&k, day(2024, 1, 1), &minutes_of(day(2024, 1, 1)))
        .unwrap();
    // Truncated: a good file cut in half.
    cache
        .write(&k, day(2024, 1, 2), &minutes_of(day(2024, 1, 2)))
        .unwrap();
    let bytes = cache.raw(&k, day(2024, 1, 2));
    cache.put_raw(&k, day(2024, 1, 2), &bytes[..bytes.len() / 2]);
    cache.put_raw(&k, day(2024, 1, 3), b"garbage");
    let mut unsorted = minutes_of(day(2024, 1, 4));
    unsorted.swap(5, 6);
    write_unchecked(&cache, &k, day(2024, 1, 4), &unsorted);
    let mut dup = minutes_of(day(2024, 1, 5));
    dup[7] = dup[6];
    write_unchecked(&cache, &k, day(2024, 1, 5), &dup);
    // Rows of another day under this day's name.
    write_unchecked(&cache, &k, day(2024, 1, 6), &minutes_of(day(2024, 1, 7)));
    // A file of dsm's first format: not damage, only not used.
    cache.put_raw(&k, day(2024, 1, 9), &format_1(&minutes_of(day(2024, 1, 9))));
    // A leftover temporary file (only a file system has them: an upload is whole or absent).
    if b == Backend::Fs {
        let dir = k.dir_under(cache.root());
        let tmp = dir.join(format!("{TEMP_PREFIX}2024-01-08-abc.tmp"));
        std::fs::write(tmp, b"half").unwrap();
    }
    let bad = vec![
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-06",
    ];
    (cache, bad)
}

fn verify_flags_every_kind_of_bad_file(b: Backend) {
    let (cache, expected) = damaged_cache(b);
    let leftovers = usize::from(b == Backend::Fs);
    let report = cache.verify(&Filter::default());
    assert_eq!(report.files_checked, 7);
    assert_eq!(
        report.leftovers.len(),
        leftovers,
        "the temp file is a leftover, not a bad file"
    );
    assert_eq!(report.outdated.len(), 1, "{:?}", report.outdated);
    assert!(report.outdated[0].0.ends_with("2024-01-09.arrow"));
    let names: Vec<String> = report
        .bad
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), expected.len(), "{:?}", report.bad);
    for (name, want) in names.iter().zip(&expected) {
        assert!(name.starts_with(want), "{name} vs {want}");
    }
    let why: Vec<&str> = report.bad.iter().map(|(_, w)| w.as_str()).collect();
    assert!(why[2].contains("out of order"), "{}", why[2]);
    assert!(why[3].contains("duplicate"), "{}", why[3]);
    assert!(why[4].contains("outside the period"), "{}", why[4]);
    let other = Filter {
        symbol: Some("ethusdt".into()),
        ..Filter::default()
    };
    assert_eq!(cache.verify(&other), VerifyReport::default());
}

fn list_counts_periods_rows_and_bytes(b: Backend) {
    let cache = &temp_cache(b);
    let k = key("BTCUSDT", "1m");
    for d in [3, 1, 2] {
        cache
            .write(&k, day(2024, 1, d), &minutes_of(day(2024, 1, d)))
            .unwrap();
    }
    let kd = key("BTCUSDT", "1d");
    cache
        .write(&kd, day(2023, 12, 1), &sample(day(2023, 12, 1), DAY, 31))
        .unwrap();
    let list = cache.list(&Filter::default());
    assert_eq!(list.len(), 2);
    let (daily, minutes) = (&list[0], &list[1]);
    assert_eq!(
        (daily.key.interval.as_str(), daily.periods, daily.rows),
        ("1d", 1, 31)
    );
    assert_eq!(
        (daily.first.as_str(), daily.last.as_str()),
        ("2023-12", "2023-12")
    );
    assert_eq!((minutes.periods, minutes.rows), (3, 3 * 1440));
    assert_eq!(
        (minutes.first.as_str(), minutes.last.as_str()),
        ("2024-01-01", "2024-01-03")
    );
    let on_disk: u64 = (1..=3)
        .map(|d| cache.raw(&k, day(2024, 1, d)).len() as u64)
        .sum();
    assert_eq!(minutes.bytes, on_disk);
    let only = Filter {
        provider: Some("BINANCE".into()),
        interval: Some("1d".into()),
        ..Filter::default()
    };
    assert_eq!(cache.list(&only).len(), 1);
    assert!(cache
        .list(&Filter {
            interval: Some("1M".into()),
            ..Filter::default()
        })
        .is_empty());
}

fn clear_removes_only_what_matches(b: Backend) {
    let cache = &temp_cache(b);
    let (btc, eth) = (key("BTCUSDT", "1m"), key("ETHUSDT", "1m"));
    let um = SeriesKey::new("binance", "um", "BTCUSDT", "1m").unwrap();
    let start = day(2024, 1, 1);
    for k in [&btc, &eth, &um] {
        cache.write(k, start, &minutes_of(start)).unwrap();
        cache
            .write(k, start + DAY, &minutes_of(start + DAY))
            .unwrap();
    }
    cache.put_named(&btc, "notes.txt", b"mine");
    let f = Filter {
        market: Some("SPOT".into()),
        symbol: Some("btcusdt".into()),
        ..Filter::default()
    };
    let report = cache.clear(&f).unwrap();
    assert_eq!(report.files_removed, 2);
    assert!(report.bytes > 0);
    assert_eq!(
        cache.names_in(&btc),
        ["notes.txt"],
        "files dsm did not write stay"
    );
    assert!(!cache.contains(&btc, start));
    assert!(cache.contains(&eth, start) && cache.contains(&um, start));

    let report = cache
        .clear(&Filter {
            market: Some("um".into()),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(report.files_removed, 2);
    assert!(cache.keys_below("binance/um/").is_empty());
    assert!(!cache.keys_below("binance/spot/").is_empty());
    if b == Backend::Fs {
        assert!(
            !cache.root().join("binance/um").exists(),
            "empty directories go"
        );
        assert!(cache.root().join("binance/spot").exists());
    }
    cache.clear(&Filter::default()).unwrap();
    if b == Backend::Fs {
        assert!(cache.root().exists(), "the root stays");
    }
    assert_eq!(cache.list(&Filter::default()), vec![]);
}

#[test]
fn cache_errors_become_dsm_errors() {
    let e: DsmError = CacheError::InvalidKey("symbol bad".into()).into();
    assert!(e.is_usage());
    let e: DsmError = CacheError::Corrupt {
        path: "/c/x.arrow".into(),
        message: "bad".into(),
    }
    .into();
    assert!(e.to_string().contains("/c/x.arrow"), "{e}");
}

/// Timing of a day of 1s candles; run with
/// `cargo test -p dsm-core --lib --release -- --ignored --nocapture one_day_of_seconds`.
#[test]
#[ignore]
fn one_day_of_seconds_timing() {
    let cache = temp_cache(Backend::Fs);
    let (k, start) = (key("BTCUSDT", "1s"), day(2024, 1, 1));
    let rows = sample(start, 1000, 86_400);
    let t = std::time::Instant::now();
    cache.write(&k, start, &rows).unwrap();
    let written = t.elapsed();
    let t = std::time::Instant::now();
    let back = cache.read(&k, start).unwrap().unwrap();
    let read = t.elapsed();
    assert_eq!(back, rows);
    let bytes = cache.raw(&k, start).len();
    println!("86,400 rows, {bytes} bytes: write {written:?}, read {read:?}");
}

#[test]
#[ignore]
fn s3_request_timing() {
    let cache = temp_cache(Backend::S3);
    let k = key("BTCUSDT", "1h");
    let t = std::time::Instant::now();
    for _ in 0..20 {
        cache.put_named(&k, "x", b"abc");
    }
    let put = t.elapsed() / 20;
    let t = std::time::Instant::now();
    for _ in 0..20 {
        cache
            .storage()
            .get(&format!("{}x", k.prefix()), 10)
            .unwrap();
    }
    println!("put {put:?} get {:?}", t.elapsed() / 20);
}
