//! The warm read's column form: a candle file read whole and kept as its record batches
//! gives the rows, verdicts and words of the rows it holds, and reuses its read memory
//! (arenas) without ever writing over bytes a live batch points into.

use super::test_backends::{on_every_backend, temp_cache, Backend};
use super::*;
use crate::columnar::{self, tests::sample};
use crate::interval::{days_from_civil, DAY};
use arrow_array::RecordBatch;

const HOUR: i64 = 3_600_000;

on_every_backend!(
    a_files_batches_hold_its_rows_and_holes,
    read_memory_is_reused_once_the_batches_are_dropped,
    held_batches_are_never_overwritten_by_later_reads,
    a_bad_file_in_a_walk_fails_alone,
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

/// Days 1..=n of 2024-03 written, and a reader of them into a `ReadBuf`.
fn days(
    cache: &Cache,
    n: u32,
) -> impl Fn(&mut ReadBuf, u32) -> Result<CachedBatches, CacheError> + '_ {
    let k = key();
    for d in 1..=n {
        let start = day(2024, 3, d);
        cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    }
    move |buf: &mut ReadBuf, d| {
        let kind = candles_of(&k).unwrap();
        let start = day(2024, 3, d);
        Ok(cache.read_batches_of(&kind, &k, start, buf)?.unwrap())
    }
}

fn span(b: &CachedBatches) -> std::ops::Range<usize> {
    b.bytes.as_ptr() as usize..b.bytes.as_ptr() as usize + b.bytes.len()
}

fn read_memory_is_reused_once_the_batches_are_dropped(b: Backend) {
    let cache = &temp_cache(b);
    let read = days(cache, 3);
    let mut buf = ReadBuf::default();
    let first = read(&mut buf, 1).unwrap();
    let at = first.bytes.as_ptr();
    // Dropped batches: the next file is read into the same memory.
    drop(first);
    let second = read(&mut buf, 2).unwrap();
    assert_eq!(second.bytes.as_ptr(), at, "read into the same memory");
    // Kept batches (an output holding them): the next file goes after them, in the same
    // arena, and the kept rows stay as they were.
    let kept: Vec<RecordBatch> = second.batches.clone();
    let kept_span = span(&second);
    drop(second);
    let third = read(&mut buf, 3).unwrap();
    assert!(span(&third).start >= kept_span.end);
    let rows = columnar::from_record_batch(&kept[0]).unwrap();
    assert_eq!(rows, sample(day(2024, 3, 2), HOUR, 24));
    // Once nobody holds any of it, the arena is started over.
    drop((kept, third));
    assert_eq!(read(&mut buf, 1).unwrap().bytes.as_ptr(), at);
}

fn held_batches_are_never_overwritten_by_later_reads(b: Backend) {
    let cache = &temp_cache(b);
    let read = days(cache, 31);
    let size = read(&mut ReadBuf::default(), 1).unwrap().bytes.len();
    // Arenas of three files each, so that a month fills and recycles many of them.
    let mut buf = ReadBuf::with_limit(3 * size + 200);
    let mut held: Vec<(u32, CachedBatches)> = Vec::new();
    for d in 1..=31 {
        let got = read(&mut buf, d).unwrap();
        for (_, h) in &held {
            let (a, b) = (span(h), span(&got));
            assert!(
                a.end <= b.start || b.end <= a.start,
                "day {d} read over a held day"
            );
        }
        // Some days kept (as a stream ahead of its reader, or a caller keeping a few),
        // the others dropped at once; some kept ones dropped later.
        if d % 3 != 0 || d % 7 == 0 {
            held.push((d, got));
        }
        if d % 5 == 0 {
            held.retain(|(h, _)| h % 2 == 0);
        }
    }
    assert!(held.len() > 5);
    for (d, h) in &held {
        let mut rows = Vec::new();
        for batch in &h.batches {
            rows.extend(columnar::from_record_batch(batch).unwrap());
        }
        assert_eq!(rows, sample(day(2024, 3, *d), HOUR, 24), "day {d}");
    }
}

fn a_bad_file_in_a_walk_fails_alone(b: Backend) {
    let cache = &temp_cache(b);
    let read = days(cache, 6);
    let k = key();
    let mut bad = cache.raw(&k, day(2024, 3, 3));
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    cache.put_raw(&k, day(2024, 3, 3), &bad);
    // Cut short: longer than the room left where it is read, then not.
    let whole = cache.raw(&k, day(2024, 3, 5));
    cache.put_raw(&k, day(2024, 3, 5), &whole[..whole.len() - 20]);
    let size = whole.len();
    for limit in [None, Some(2 * size + 100)] {
        let mut buf = limit.map_or_else(ReadBuf::default, ReadBuf::with_limit);
        let mut held = Vec::new();
        for d in 1..=6 {
            match read(&mut buf, d) {
                Ok(got) => held.push((d, got)),
                Err(CacheError::Corrupt { message, .. }) => {
                    assert!([3, 5].contains(&d), "day {d}: {message}");
                }
                Err(e) => panic!("day {d}: {e}"),
            }
        }
        let days: Vec<u32> = held.iter().map(|(d, _)| *d).collect();
        assert_eq!(days, [1, 2, 4, 6]);
        for (d, h) in &held {
            let rows = columnar::from_record_batch(&h.batches[0]).unwrap();
            assert_eq!(rows, sample(day(2024, 3, *d), HOUR, 24), "day {d}");
        }
    }
}

/// What a day file of `k` starting at `start` must hold.
fn day_expect<'a, K: Kind>(k: &'a SeriesKey, kind: &'a K, start: i64) -> Expect<'a, K> {
    Expect {
        key: k,
        kind,
        period: Period::Day,
        start,
    }
}

#[test]
fn the_column_checks_give_the_row_checks_verdicts_and_words() {
    let (k, start) = (key(), day(2024, 3, 1));
    let kind = candles_of(&k).unwrap();
    let expect = day_expect(&k, &kind, start);
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
    // Each rule of the column pass broken in a later row (and in the first).
    for (row, bad) in [
        (17, 0),
        (20, 1),
        (1, 2),
        (22, 3),
        (0, 4),
        (12, 5),
        (0, 0),
        (5, 6),
        (8, 7),
        (10, 8),
        (11, 9),
    ] {
        let mut rows = good.clone();
        let k = &mut rows[row];
        match bad {
            0 => k.open = -1.0,
            1 => k.taker_buy_quote_volume = f64::INFINITY,
            2 => k.low = k.open + 1.0,
            3 => k.volume = -0.5,
            4 => k.close = f64::NAN,
            6 => k.high = f64::INFINITY,
            7 => k.low = f64::NEG_INFINITY,
            8 => (k.open, k.high) = (f64::INFINITY, f64::INFINITY),
            9 => k.volume = f64::NAN,
            _ => k.quote_volume = -1.0,
        }
        cases.push(rows);
    }
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

#[test]
fn the_holes_of_a_complete_period_are_the_walks_holes() {
    let (k, start) = (key(), day(2024, 3, 1));
    let kind = candles_of(&k).unwrap();
    let expect = day_expect(&k, &kind, start);
    let all: Vec<i64> = (0..24).map(|h| start + h * HOUR).collect();
    let mut cases = vec![all.clone(), all[1..].to_vec(), all[..23].to_vec(), vec![]];
    let mut gap = all.clone();
    gap.remove(11);
    cases.push(gap);
    // Off the grid (never a checked file's, but the verdict must still be the walk's).
    let mut off = all.clone();
    off[5] += 1;
    cases.push(off);
    for times in cases {
        let want = expect.holes_at(times.iter().copied());
        for cut in [0, 1, times.len() / 2, times.len()] {
            let (a, b) = times.split_at(cut.min(times.len()));
            assert_eq!(expect.holes_in(&[a, b]), want, "{times:?} at {cut}");
        }
        assert_eq!(expect.holes_in(&[&times]), want);
    }
    assert!(expect.holes_in(&[&all]).is_empty());
}
