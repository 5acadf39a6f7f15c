//! The warm read's column form: a candle file read whole and kept as its record batches
//! gives the rows, verdicts and words of the rows it holds, and reuses its read memory.

use super::test_backends::{on_every_backend, temp_cache, Backend};
use super::*;
use crate::columnar::{self, tests::sample};
use crate::interval::{days_from_civil, DAY};
use arrow_array::RecordBatch;

const HOUR: i64 = 3_600_000;

on_every_backend!(
    a_files_batches_hold_its_rows_and_holes,
    read_memory_is_reused_once_the_batches_are_dropped,
);

fn key() -> SeriesKey {
    SeriesKey::new("binance", "spot", "BTCUSDT", "1h").unwrap()
}

fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY
}

fn a_files_batches_hold_its_rows_and_holes(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (key(), day(2024, 3, 1));
    let mut rows = sample(start, HOUR, 24);
    rows.remove(5);
    cache.write_seen(&k, start, &rows, 77).unwrap();
    let kind = candles_of(&k).unwrap();
    let got = cache
        .read_batches_of(&kind, &k, start, &mut ReadBuf::default())
        .unwrap()
        .unwrap();
    assert_eq!(got.holes, vec![(start + 5 * HOUR, start + 6 * HOUR)]);
    assert_eq!(got.holes_seen_ms, 77);
    let mut back = Vec::new();
    for batch in &got.batches {
        assert_eq!(batch.schema(), columnar::schema());
        back.extend(columnar::from_record_batch(batch).unwrap());
    }
    assert_eq!(back, rows);
    assert_eq!(cache.read_period(&k, start).unwrap().unwrap().rows, rows);
    assert!(cache
        .read_batches_of(&kind, &k, day(2024, 3, 2), &mut ReadBuf::default())
        .unwrap()
        .is_none());
}

fn read_memory_is_reused_once_the_batches_are_dropped(b: Backend) {
    let cache = &temp_cache(b);
    let k = key();
    let kind = candles_of(&k).unwrap();
    for d in 1..=3 {
        let start = day(2024, 3, d);
        cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    }
    let mut buf = ReadBuf::default();
    let read = |buf: &mut ReadBuf, d| {
        let start = day(2024, 3, d);
        cache
            .read_batches_of(&kind, &k, start, buf)
            .unwrap()
            .unwrap()
    };
    let first = read(&mut buf, 1);
    let at = first.bytes.as_ptr();
    // Dropped batches: the memory comes back and the next file is read into it.
    let CachedBatches { batches, bytes, .. } = first;
    drop(batches);
    buf.give_back(bytes);
    let second = read(&mut buf, 2);
    assert_eq!(second.bytes.as_ptr(), at, "read into the same memory");
    // Kept batches (an output holding them): the next read takes other memory, and the
    // kept rows stay as they were.
    let kept: Vec<RecordBatch> = second.batches.clone();
    drop(second.batches);
    buf.give_back(second.bytes);
    let third = read(&mut buf, 3);
    assert_ne!(third.bytes.as_ptr(), at);
    let start = day(2024, 3, 2);
    let rows = columnar::from_record_batch(&kept[0]).unwrap();
    assert_eq!(rows, sample(start, HOUR, 24));
    // Once the holder drops them (a stream's reader is done with the period), a later
    // read reuses them.
    drop(kept);
    let CachedBatches { batches, bytes, .. } = third;
    let third_at = bytes.as_ptr();
    buf.give_back(bytes);
    let again = read(&mut buf, 1);
    assert!(again.bytes.as_ptr() == at || again.bytes.as_ptr() == third_at);
    drop(batches);
    let fourth = read(&mut buf, 2);
    let reused = [at, third_at];
    assert!(
        reused.contains(&fourth.bytes.as_ptr()) && fourth.bytes.as_ptr() != again.bytes.as_ptr()
    );
}

#[test]
fn the_column_checks_give_the_row_checks_verdicts_and_words() {
    let (k, start) = (key(), day(2024, 3, 1));
    let kind = candles_of(&k).unwrap();
    let expect = Expect {
        key: &k,
        kind: &kind,
        period: Period::Day,
        start,
    };
    let good = sample(start, HOUR, 24);
    let mut cases: Vec<Vec<Kline>> = vec![good.clone()];
    let mut swapped = good.clone();
    swapped.swap(3, 4);
    cases.push(swapped);
    let mut repeated = good.clone();
    repeated[4] = repeated[3];
    cases.push(repeated);
    cases.push(sample(start - HOUR, HOUR, 24));
    cases.push(sample(start + HOUR, HOUR, 24));
    let mut nan = good.clone();
    nan[7].high = f64::NAN;
    cases.push(nan);
    let mut misaligned = good.clone();
    misaligned[9].open_time += 1;
    misaligned[9].close_time += 1;
    cases.push(misaligned);
    let mut close = good.clone();
    close[23].close_time -= 1;
    cases.push(close);
    for rows in cases {
        let want = expect.check_rows(&rows);
        let whole = [columnar::to_record_batch(&rows)];
        assert_eq!(expect.check_batches(&whole), want, "{rows:?}");
        // In two batches, the order across them checked too.
        let split = [whole[0].slice(0, 4), whole[0].slice(4, rows.len() - 4)];
        assert_eq!(expect.check_batches(&split), want, "{rows:?}");
    }
    let order = [
        columnar::to_record_batch(&good[12..]),
        columnar::to_record_batch(&good[..12]),
    ];
    let err = expect.check_batches(&order).unwrap_err();
    assert!(err.contains("out of order"), "{err}");
}
