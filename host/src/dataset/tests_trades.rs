//! A day of trades exported in bounded row groups, as the fetch outputs write them; a
//! period of candles stays one.

use std::fs;

use arrow_array::{Array, Float64Array, Int64Array};
use dsm_sdk::{DataKind, Trade};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::*;
use crate::interval::{days_from_civil, DAY};
use crate::output_arrow::ROW_GROUP_ROWS;

/// `n` aggregated trades over the day at `start`, several to a millisecond.
fn trade_day(start: i64, n: usize) -> Vec<Trade> {
    (0..n as i64)
        .map(|i| Trade {
            id: 7_000 + i,
            time: start + i * (DAY - 1) / n as i64,
            price: 60_000.0 + (i % 1_009) as f64 / 100.0,
            qty: 0.002 * (1 + i % 11) as f64,
            quote_qty: 0.5 * i as f64,
            first_id: 9_000 + 3 * i,
            last_id: 9_002 + 3 * i,
            buyer_maker: (i % 3 == 0) as u8,
            best_match: 1,
        })
        .collect()
}

/// The row counts of a Parquet file's row groups.
fn row_groups(path: &std::path::Path) -> Vec<i64> {
    let r = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
    r.metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect()
}

#[test]
fn a_day_of_trades_is_exported_in_bounded_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let start = days_from_civil(2024, 3, 1) * DAY;
    let key = SeriesKey::of(DataKind::AGG_TRADES, "binance", "spot", "BTCUSDT", "").unwrap();
    let rows = trade_day(start, ROW_GROUP_ROWS + 777);
    let kind = Trades::new(DataKind::AGG_TRADES);
    let written = cache.write_many_of(&kind, &key, &[(start, &rows)], 0);
    assert!(written.iter().all(|r| r.is_ok()), "{written:?}");
    let candles = SeriesKey::new("binance", "spot", "BTCUSDT", "1m").unwrap();
    let minutes = crate::columnar::tests::sample(start, 60_000, 1440);
    cache.write(&candles, start, &minutes).unwrap();
    let ds = dir.path().join("ds");
    let report = export_to_dir(&cache, &ds, &Selection::all()).unwrap();
    assert_eq!(report.rows_written, (rows.len() + minutes.len()) as u64);
    let file = ds.join(layout::file_path(&key, start));
    let n = ROW_GROUP_ROWS as i64;
    assert_eq!(row_groups(&file), [n, 777]);
    assert_eq!(
        row_groups(&ds.join(layout::file_path(&candles, start))),
        [1440]
    );
    // The same trades, in order, across the groups.
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&file).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let (mut ids, mut prices) = (Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch.unwrap();
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let id = col("id");
        let id = id.as_any().downcast_ref::<Int64Array>().unwrap();
        let price = col("price");
        let price = price.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(id.null_count(), 0);
        ids.extend(id.values().iter().copied());
        prices.extend(price.values().iter().copied());
    }
    assert!(ids == rows.iter().map(|t| t.id).collect::<Vec<_>>());
    assert!(prices == rows.iter().map(|t| t.price).collect::<Vec<_>>());
}
