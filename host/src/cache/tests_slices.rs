//! Large periods in slices: a day of trades is written and read a record batch of
//! [`SLICE_ROWS`] at a time, and files of one batch (every file an older dsm wrote) read
//! the same.

use std::io::Cursor;

use arrow_ipc::reader::FileReader;
use dsm_sdk::{DataKind, Trade};

use super::test_backends::{on_every_backend, temp_cache, Backend};
use super::*;
use crate::interval::{days_from_civil, DAY, MINUTE};
use crate::kinds::{Trades, SLICE_ROWS};

on_every_backend!(
    a_trade_day_written_in_slices_reads_back_identical,
    a_trade_day_in_one_batch_as_older_dsm_wrote_it_still_reads,
    a_damaged_slice_of_a_trade_day_is_never_served,
);

pub(super) fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY
}

pub(super) fn trades_key() -> SeriesKey {
    SeriesKey::of(DataKind::AGG_TRADES, "binance", "spot", "BTCUSDT", "").unwrap()
}

/// `n` aggregated trades spread over the day at `start`, several to a millisecond.
pub(super) fn trade_day(start: i64, n: usize) -> Vec<Trade> {
    (0..n as i64)
        .map(|i| Trade {
            id: 1_000 + i,
            time: start + i * (DAY - 1) / n as i64,
            price: 42_000.0 + (i % 977) as f64 / 100.0,
            qty: 0.001 * (1 + i % 13) as f64,
            // Finite, so that rows compare equal (aggregated trades in the wild have NaN).
            quote_qty: 0.01 * i as f64,
            first_id: 5_000 + 2 * i,
            last_id: 5_001 + 2 * i,
            buyer_maker: (i % 2) as u8,
            best_match: 1,
        })
        .collect()
}

/// How many record batches the file holds.
fn batches_in(bytes: &[u8]) -> usize {
    FileReader::try_new(Cursor::new(bytes), None)
        .unwrap()
        .num_batches()
}

/// More rows than two slices: three record batches.
pub(super) const ROWS: usize = 2 * SLICE_ROWS + 1_234;

fn a_trade_day_written_in_slices_reads_back_identical(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (trades_key(), day(2024, 3, 1));
    let kind = Trades::new(DataKind::AGG_TRADES);
    let rows = trade_day(start, ROWS);
    let written = cache.write_many_of(&kind, &k, &[(start, &rows)], 0);
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    let raw = cache.raw(&k, start);
    assert_eq!(batches_in(&raw), 3, "a batch per slice");
    let back = cache.read_period_of(&kind, &k, start).unwrap().unwrap();
    assert!(back.rows == rows, "the same trades, in order");
    assert!(back.holes.is_empty());
    // The checksum the file states is its content's (the slow path checks it whole too).
    let stated = cache.stated_checksum(&k, start).unwrap();
    assert_eq!(cache.stored_checksum(&k, start).unwrap(), Some(stated));
    // Written straight to storage or through memory, the bytes are the same.
    let expect = cache.expect(&kind, &k, start).unwrap();
    assert!(expect.encode(&rows, &[], 0).unwrap() == raw);
}

fn a_trade_day_in_one_batch_as_older_dsm_wrote_it_still_reads(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (trades_key(), day(2024, 3, 2));
    let kind = Trades::new(DataKind::AGG_TRADES);
    let rows = trade_day(start, ROWS);
    let expect = cache.expect(&kind, &k, start).unwrap();
    let whole = expect.encode_whole(&rows, &[], 0).unwrap();
    assert_eq!(batches_in(&whole), 1);
    cache.put_raw(&k, start, &whole);
    let back = cache.read_period_of(&kind, &k, start).unwrap().unwrap();
    assert!(back.rows == rows);
    assert!(cache.stored_checksum(&k, start).unwrap().is_some());
}

fn a_damaged_slice_of_a_trade_day_is_never_served(b: Backend) {
    let cache = &temp_cache(b);
    let (k, start) = (trades_key(), day(2024, 3, 3));
    let kind = Trades::new(DataKind::AGG_TRADES);
    let rows = trade_day(start, ROWS);
    let expect = cache.expect(&kind, &k, start).unwrap();
    let good = expect.encode(&rows, &[], 0).unwrap();
    // A byte in the middle of the second slice, and one in the last byte of the file.
    for at in [good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        cache.put_raw(&k, start, &bad);
        let err = cache.read_period_of(&kind, &k, start).unwrap_err();
        assert!(
            matches!(err, CacheError::Corrupt { .. }),
            "byte {at}: {err}"
        );
        assert!(matches!(
            cache.stored_checksum(&k, start),
            Err(CacheError::Corrupt { .. })
        ));
    }
}

/// Periods of candles fit in one slice: their files are the bytes an older dsm wrote (sync
/// lockfiles compare checksums of them).
#[test]
fn candle_files_are_the_bytes_they_were_before_slices() {
    let k = SeriesKey::new("binance", "spot", "BTCUSDT", "1m").unwrap();
    let start = days_from_civil(2024, 1, 1) * DAY;
    let rows = crate::columnar::tests::sample(start, MINUTE, 31 * 1440);
    let cache = temp_cache(Backend::Fs);
    let kind = super::candles_of(&k).unwrap();
    let expect = cache.expect(&kind, &k, start).unwrap();
    let sliced = expect.encode(&rows, &[], 0).unwrap();
    assert!(sliced == expect.encode_whole(&rows, &[], 0).unwrap());
    assert_eq!(batches_in(&sliced), 1);
}
