//! The dataset on real files in temporary directories: layout, schema, manifest,
//! idempotence, atomicity, errors.

use std::fs;
use std::path::{Path, PathBuf};

use arrow_schema::{DataType, TimeUnit};
use dsm_sdk::{DataKind, FundingRate};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;
use crate::columnar::tests::sample;
use crate::interval::{days_from_civil, DAY, HOUR, MINUTE};

fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY
}

fn klines(symbol: &str, interval: &str) -> SeriesKey {
    SeriesKey::new("binance", "spot", symbol, interval).unwrap()
}

fn funding() -> SeriesKey {
    SeriesKey::of(DataKind::FUNDING, "binance", "um", "BTCUSDT", "").unwrap()
}

/// A cache with BTCUSDT 1h on 2024-01-01, -02 and -04 (the 2nd missing its 13:00 candle),
/// ETHUSDT 1d in January 2024, and BTCUSDT funding in January 2024.
fn filled() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let btc = klines("BTCUSDT", "1h");
    for d in [1, 2, 4] {
        let mut rows = sample(day(2024, 1, d), HOUR, 24);
        if d == 2 {
            rows.remove(13);
        }
        cache.write_seen(&btc, day(2024, 1, d), &rows, 5).unwrap();
    }
    let eth = klines("ETHUSDT", "1d");
    cache
        .write(&eth, day(2024, 1, 1), &sample(day(2024, 1, 1), DAY, 31))
        .unwrap();
    let rates: Vec<FundingRate> = (0..93)
        .map(|i| FundingRate {
            funding_time: day(2024, 1, 1) + i * 8 * HOUR + 3,
            rate: 0.0001 * (i % 5) as f64,
            mark_price: f64::NAN,
            interval_ms: 8 * HOUR,
        })
        .collect();
    let written = cache.write_many_of(&Funding, &funding(), &[(day(2024, 1, 1), &rates)], 0);
    assert!(written.iter().all(|r| r.is_ok()), "{written:?}");
    (dir, cache)
}

fn export_into(cache: &Cache, dir: &Path) -> ExportReport {
    export_to_dir(cache, dir, &Selection::all()).unwrap()
}

/// Every file below `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            match p.is_dir() {
                true => walk(root, &p, out),
                false => out.push(p.strip_prefix(root).unwrap().display().to_string()),
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn manifest_of(dir: &Path) -> Manifest {
    Manifest::parse(&fs::read(dir.join(MANIFEST_PATH)).unwrap()).unwrap()
}

fn read_parquet(path: &Path) -> (arrow_schema::SchemaRef, Vec<arrow_array::RecordBatch>) {
    let b = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap();
    let schema = b.schema().clone();
    (schema, b.build().unwrap().map(|r| r.unwrap()).collect())
}

#[test]
fn layout_is_hive_partitioned_one_file_per_cache_period() {
    let (tmp, cache) = filled();
    let ds = tmp.path().join("ds");
    let report = export_into(&cache, &ds);
    assert_eq!(
        files(&ds),
        [
            "_dsm/.lock",
            "_dsm/manifest.json",
            "kind=funding/provider=binance/market=um/symbol=BTCUSDT/date=2024-01-01/part-0.parquet",
            "kind=klines/provider=binance/market=spot/symbol=BTCUSDT/interval=1h/date=2024-01-01/part-0.parquet",
            "kind=klines/provider=binance/market=spot/symbol=BTCUSDT/interval=1h/date=2024-01-02/part-0.parquet",
            "kind=klines/provider=binance/market=spot/symbol=BTCUSDT/interval=1h/date=2024-01-04/part-0.parquet",
            "kind=klines/provider=binance/market=spot/symbol=ETHUSDT/interval=1d/date=2024-01-01/part-0.parquet",
        ]
    );
    assert_eq!((report.series, report.periods, report.written), (3, 5, 5));
    assert_eq!(report.rows_written, 24 + 23 + 24 + 31 + 93);
    assert!(report.manifest_written && report.skipped.is_empty());
}

#[test]
fn files_hold_the_kind_columns_with_utc_millisecond_timestamps() {
    let (tmp, cache) = filled();
    let ds = tmp.path().join("ds");
    export_into(&cache, &ds);
    let utc_ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let btc = klines("BTCUSDT", "1h");
    let (schema, batches) = read_parquet(&ds.join(file_path(&btc, day(2024, 1, 2))));
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, crate::output::COLUMNS);
    for f in schema.fields() {
        assert!(!partition_columns(&btc).contains(&f.name().as_str()));
    }
    assert_eq!(schema.field(0).data_type(), &utc_ms);
    assert_eq!(
        schema.field_with_name("close_time").unwrap().data_type(),
        &utc_ms
    );
    assert_eq!(
        schema.field_with_name("trades").unwrap().data_type(),
        &DataType::Int64
    );
    // The rows are the cache's, values and all.
    let rows = cache.read(&btc, day(2024, 1, 2)).unwrap().unwrap();
    let expected = layout::to_dataset(
        &crate::columnar::to_record_batch(&rows),
        layout::schema(DataKind::KLINES),
    )
    .unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].columns(), expected.columns());
    // The Parquet logical type says UTC (isAdjustedToUTC), which engines read as instants.
    let reader = parquet::file::reader::SerializedFileReader::new(
        fs::File::open(ds.join(file_path(&btc, day(2024, 1, 2)))).unwrap(),
    )
    .unwrap();
    let descr = parquet::file::reader::FileReader::metadata(&reader)
        .file_metadata()
        .schema_descr_ptr();
    let open_time = descr.column(0);
    assert!(
        open_time.logical_type_ref()
            == Some(&parquet::basic::LogicalType::timestamp(
                true,
                parquet::basic::TimeUnit::MILLIS
            )),
        "{:?}",
        open_time.logical_type_ref()
    );
    let (fschema, _) = read_parquet(&ds.join(file_path(&funding(), day(2024, 1, 1))));
    assert_eq!(fschema.field(0).name(), "funding_time");
    assert_eq!(fschema.field(0).data_type(), &utc_ms);
    assert_eq!(fschema.fields(), layout::schema(DataKind::FUNDING).fields());
}

#[test]
fn every_kind_has_a_dataset_schema_with_utc_millisecond_times() {
    for kind in DataKind::ALL {
        let s = schema(kind);
        let times: Vec<_> = s
            .fields()
            .iter()
            .filter(|f| matches!(f.data_type(), DataType::Timestamp(..)))
            .collect();
        assert!(!times.is_empty(), "{kind}");
        for f in times {
            assert_eq!(
                f.data_type(),
                &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                "{kind} {}",
                f.name()
            );
        }
        assert!(s
            .fields()
            .iter()
            .all(|f| f.data_type() != &DataType::UInt64));
    }
}

#[test]
fn the_manifest_lists_complete_periods_with_both_checksums() {
    let (tmp, cache) = filled();
    let ds = tmp.path().join("ds");
    export_into(&cache, &ds);
    let m = manifest_of(&ds);
    assert_eq!((m.format.as_str(), m.version), ("dsm-dataset", 1));
    let ids: Vec<_> = m.series.iter().map(|s| s.id()).collect();
    assert_eq!(
        ids,
        [
            ("funding", "binance", "um", "BTCUSDT", ""),
            ("klines", "binance", "spot", "BTCUSDT", "1h"),
            ("klines", "binance", "spot", "ETHUSDT", "1d"),
        ]
    );
    let btc = &m.series[1];
    assert_eq!(btc.period, "day");
    // Two runs: the 3rd is not cached.
    assert_eq!(
        btc.complete,
        [
            [day(2024, 1, 1), day(2024, 1, 3)],
            [day(2024, 1, 4), day(2024, 1, 5)]
        ]
    );
    let second = &btc.periods[1];
    assert_eq!((second.date.as_str(), second.rows), ("2024-01-02", 23));
    let hole = day(2024, 1, 2) + 13 * HOUR;
    assert_eq!(second.holes, [[hole, hole + HOUR]]);
    assert_eq!(m.series[2].period, "month");
    assert_eq!(m.series[2].periods[0].end_ms, day(2024, 2, 1));
    for s in &m.series {
        for p in &s.periods {
            let bytes = fs::read(ds.join(&p.file)).unwrap();
            assert_eq!(p.bytes, bytes.len() as u64);
            assert_eq!(
                p.xxh3,
                format!("{:016x}", twox_hash::XxHash3_64::oneshot(&bytes))
            );
            let key = SeriesKey::of(
                DataKind::parse(&s.kind).unwrap(),
                &s.provider,
                &s.market,
                &s.symbol,
                &s.interval,
            )
            .unwrap();
            assert_eq!(
                Some(&p.cache_xxh3),
                cache.stated_checksum(&key, p.start_ms).as_ref()
            );
            assert_eq!(p.file, file_path(&key, p.start_ms));
        }
    }
}

fn mtime(p: &Path) -> std::time::SystemTime {
    fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn re_export_writes_only_what_changed_and_the_manifest_last() {
    let (tmp, cache) = filled();
    let ds = tmp.path().join("ds");
    export_into(&cache, &ds);
    let before = fs::read(ds.join(MANIFEST_PATH)).unwrap();
    let btc = klines("BTCUSDT", "1h");
    let day1 = ds.join(file_path(&btc, day(2024, 1, 1)));
    let day4 = ds.join(file_path(&btc, day(2024, 1, 4)));
    let (t1, t4) = (mtime(&day1), mtime(&day4));
    std::thread::sleep(std::time::Duration::from_millis(20)); // mtimes can tell writes apart

    let again = export_into(&cache, &ds);
    assert_eq!(
        (again.written, again.unchanged, again.manifest_written),
        (0, 5, false)
    );
    assert_eq!(fs::read(ds.join(MANIFEST_PATH)).unwrap(), before);
    assert_eq!((mtime(&day1), mtime(&day4)), (t1, t4));

    // The 4th changes in the cache (fetched again with other candles): only it is written.
    let mut rows = sample(day(2024, 1, 4), HOUR, 24);
    rows[0].close = 100.75;
    cache.write(&btc, day(2024, 1, 4), &rows).unwrap();
    let third = export_into(&cache, &ds);
    assert_eq!(
        (third.written, third.unchanged, third.manifest_written),
        (1, 4, true)
    );
    assert_eq!(mtime(&day1), t1);
    assert_ne!(mtime(&day4), t4);
    let m = manifest_of(&ds);
    let p = m.period(&btc, day(2024, 1, 4)).unwrap();
    assert_eq!(
        Some(&p.cache_xxh3),
        cache.stated_checksum(&btc, day(2024, 1, 4)).as_ref()
    );

    // A dataset file removed by hand is written again; a filtered export keeps the rest.
    fs::remove_file(&day1).unwrap();
    let only_btc = Selection {
        filter: Filter {
            symbol: Some("BTCUSDT".into()),
            kind: Some(DataKind::KLINES),
            ..Filter::default()
        },
        ..Selection::default()
    };
    let fourth = export_to_dir(&cache, &ds, &only_btc).unwrap();
    assert_eq!((fourth.series, fourth.written, fourth.unchanged), (1, 1, 2));
    assert!(day1.exists());
    assert_eq!(manifest_of(&ds).series.len(), 3);

    // A file gone from both the dataset and the cache is no longer listed as complete.
    fs::remove_file(&day4).unwrap();
    fs::remove_file(cache.path(&btc, day(2024, 1, 4)).unwrap()).unwrap();
    let fifth = export_into(&cache, &ds);
    assert_eq!((fifth.written, fifth.manifest_written), (0, true));
    assert!(manifest_of(&ds).period(&btc, day(2024, 1, 4)).is_none());
    assert!(manifest_of(&ds).period(&btc, day(2024, 1, 2)).is_some());
}

#[test]
fn a_time_range_selects_the_periods_it_overlaps() {
    let (tmp, cache) = filled();
    let ds = tmp.path().join("ds");
    let sel = Selection {
        filter: Filter {
            interval: Some("1h".into()),
            ..Filter::default()
        },
        start: Some(day(2024, 1, 2) + 12 * HOUR),
        end: Some(day(2024, 1, 4) + MINUTE),
        series: None,
    };
    let r = export_to_dir(&cache, &ds, &sel).unwrap();
    assert_eq!((r.series, r.periods, r.written), (1, 2, 2));
    let dates: Vec<String> = manifest_of(&ds).series[0]
        .periods
        .iter()
        .map(|p| p.date.clone())
        .collect();
    assert_eq!(dates, ["2024-01-02", "2024-01-04"]);
}

/// A temporary file as a killed writer leaves it: named after a pid that is not running.
fn leftover_in(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!(
        "{}part-0.parquet.999999999.0.tmp",
        crate::cache::TEMP_PREFIX
    ));
    fs::write(&p, b"PAR1 half a file").unwrap();
    p
}

#[test]
fn a_leftover_temporary_file_is_never_data_and_is_removed() {
    let (tmp, cache) = filled();
    let ds = tmp.path().join("ds");
    export_into(&cache, &ds);
    let btc = klines("BTCUSDT", "1h");
    let part = ds.join(file_path(&btc, day(2024, 1, 1)));
    let leftover = leftover_in(part.parent().unwrap());
    let store = DirStore::create(&ds).unwrap();
    let listed: Vec<String> = store.list().unwrap().into_iter().map(|o| o.path).collect();
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert!(listed.iter().all(|p| !p.contains(".tmp")));
    // A write in progress (its writer alive) is left alone; a dead writer's is removed.
    let live = part.parent().unwrap().join(format!(
        "{}x.{}.0.tmp",
        crate::cache::TEMP_PREFIX,
        std::process::id()
    ));
    fs::write(&live, b"being written").unwrap();
    let r = export_into(&cache, &ds);
    assert_eq!(r.written, 0);
    assert!(!leftover.exists());
    assert!(live.exists());
    fs::remove_file(live).unwrap();
}

#[test]
fn a_put_replaces_whole_files_and_takes_relative_paths_only() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::create(tmp.path().join("ds")).unwrap();
    store.put("a/b.txt", b"one").unwrap();
    store.put("a/b.txt", b"two").unwrap();
    assert_eq!(store.get("a/b.txt").unwrap().unwrap(), b"two");
    assert_eq!(store.get("a/c.txt").unwrap(), None);
    assert_eq!(files(store.root()), ["a/b.txt"]);
    for bad in [
        "", "/abs", "a//b", "../x", "a/./b", ".hidden", "a/.b", "a\\b",
    ] {
        assert!(store.put(bad, b"x").is_err(), "{bad:?}");
        assert!(check_rel_path(bad).is_err(), "{bad:?}");
    }
    assert_eq!(files(store.root()), ["a/b.txt"]);
}

#[test]
fn bad_destinations_and_empty_selections_are_clear_errors() {
    let (tmp, cache) = filled();
    let file = tmp.path().join("file");
    fs::write(&file, b"x").unwrap();
    let e = export_to_dir(&cache, &file, &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a directory"), "{e}");

    let other = tmp.path().join("home");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), b"mine").unwrap();
    let e = export_to_dir(&cache, &other, &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("notes.txt") && e.contains("not a dsm dataset"),
        "{e}"
    );
    assert_eq!(files(&other), ["notes.txt"]);

    let nothing = Selection {
        filter: Filter {
            symbol: Some("DOGEUSDT".into()),
            ..Filter::default()
        },
        ..Selection::default()
    };
    let fresh = tmp.path().join("fresh");
    let e = export_to_dir(&cache, &fresh, &nothing).unwrap_err();
    assert!(
        e.is_usage() && e.to_string().contains("symbol DOGEUSDT"),
        "{e}"
    );
    assert!(!fresh.exists(), "no directory is made for nothing");

    let out_of_range = Selection {
        start: Some(day(2023, 1, 1)),
        end: Some(day(2023, 2, 1)),
        ..Selection::default()
    };
    let e = export_to_dir(&cache, &fresh, &out_of_range)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no period in the range"), "{e}");

    let ds = tmp.path().join("ds");
    export_into(&cache, &ds);
    // One export at a time per directory: the second is refused while the first holds it.
    let held = DirStore::create(&ds).unwrap().lock().unwrap().unwrap();
    let e = export_to_dir(&cache, &ds, &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(e.contains("another dsm export"), "{e}");
    drop(held);
    assert_eq!(export_into(&cache, &ds).written, 0);
    let path = ds.join(MANIFEST_PATH);
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 9");
    fs::write(&path, text).unwrap();
    let e = export_to_dir(&cache, &ds, &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("version 9") && e.contains("new directory"),
        "{e}"
    );
}

#[test]
fn a_damaged_cache_file_is_skipped_and_named_and_the_rest_exported() {
    let (tmp, cache) = filled();
    let btc = klines("BTCUSDT", "1h");
    let path = cache.path(&btc, day(2024, 1, 2)).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[200] ^= 0x55;
    fs::write(&path, bytes).unwrap();
    let ds = tmp.path().join("ds");
    let r = export_into(&cache, &ds);
    assert_eq!((r.written, r.skipped.len()), (4, 1));
    assert_eq!(r.skipped[0].0, path.display().to_string());
    assert!(r.skipped[0].1.contains("checksum"), "{:?}", r.skipped);
    assert!(manifest_of(&ds).period(&btc, day(2024, 1, 2)).is_none());
    assert!(!ds.join(file_path(&btc, day(2024, 1, 2))).exists());
}
