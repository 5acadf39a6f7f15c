//! What a read accepts: a day of trades may be far larger than a file of any other kind
//! (a busy day is over 256 MiB), while a record batch, what a reader allocates at once,
//! stays bounded, and a footer that states a batch over it, or outside the file, is refused
//! before anything is allocated.

use dsm_sdk::DataKind;
use twox_hash::XxHash3_64;

use super::format::CHECKSUM_KEY;
use super::store::{self, Bounds, MAX_BATCH_BYTES};
use super::test_backends::{on_every_backend, temp_cache, Backend};
use super::tests_slices::{day, trade_day, trades_key, ROWS};
use super::*;
use crate::kinds::{self, trades, Trades};

on_every_backend!(
    a_trade_day_over_the_bound_of_other_kinds_reads_back_intact,
    a_batch_over_its_bound_is_refused_before_it_is_read,
    a_footer_stating_a_huge_or_misplaced_batch_is_refused,
);

fn agg() -> Trades {
    Trades::new(DataKind::AGG_TRADES)
}

fn assert_corrupt(err: CacheError, says: &str) {
    match &err {
        CacheError::Corrupt { message, .. } => assert!(message.contains(says), "{err}"),
        other => panic!("expected Corrupt saying {says:?}, got {other}"),
    }
}

fn a_trade_day_over_the_bound_of_other_kinds_reads_back_intact(b: Backend) {
    let cache = &temp_cache(b);
    let agg = &agg();
    let (k, start) = (trades_key(), day(2024, 3, 1));
    let rows = trade_day(start, ROWS);
    let written = cache.write_many_of(agg, &k, &[(start, &rows)], 0);
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    let len = cache.raw(&k, start).len() as u64;
    // The real bound holds the most trades a day is expected to have.
    assert!(
        len / ROWS as u64 <= trades::MAX_BYTES_PER_ROW,
        "{len} bytes"
    );
    assert_eq!(
        Bounds::of(DataKind::TRADES),
        Bounds::of(DataKind::AGG_TRADES)
    );
    assert_eq!(Bounds::of(DataKind::KLINES).file, kinds::MAX_FILE_BYTES);
    // File bounds scaled down so that other kinds' bound is half this file: the trade
    // bound keeps its real proportion to it (the batch bound is the real one).
    let scale = kinds::MAX_FILE_BYTES / (len / 2);
    let real = Bounds::of(DataKind::AGG_TRADES);
    let scaled = Bounds {
        file: real.file / scale,
        batch: real.batch,
    };
    let expect = cache.expect(agg, &k, start).unwrap();
    let at = cache.file_at(&expect);
    let back = store::read_bounded(&at, &expect, scaled).unwrap().unwrap();
    assert!(back.rows == rows, "the same trades, in order");
    // What dsm refused before: the file over the bound every kind had.
    let old = Bounds {
        file: kinds::MAX_FILE_BYTES / scale,
        ..scaled
    };
    let err = store::read_bounded(&at, &expect, old).unwrap_err();
    assert_corrupt(err, "more than any cache file holds");
}

fn a_batch_over_its_bound_is_refused_before_it_is_read(b: Backend) {
    let cache = &temp_cache(b);
    let agg = &agg();
    let (k, start) = (trades_key(), day(2024, 3, 2));
    let rows = trade_day(start, ROWS);
    cache.write_many_of(agg, &k, &[(start, &rows)], 0);
    let expect = cache.expect(agg, &k, start).unwrap();
    let at = cache.file_at(&expect);
    // A slice of trades is ~7 MB: under a bound of 1 MiB none is read.
    let small = Bounds {
        batch: 1 << 20,
        ..Bounds::of(DataKind::AGG_TRADES)
    };
    let err = store::read_bounded(&at, &expect, small).unwrap_err();
    assert_corrupt(err, "a record batch of");
    assert!(store::read(&at, &expect).unwrap().is_some());
}

/// `bytes` with the first record batch's stated body length set to `body`, checksummed
/// again as dsm would: only the bounds can refuse it.
fn with_batch_body(bytes: &[u8], body: i64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let block = first_block(bytes);
    // A Block is offset (i64), metadata length (i32), padding, body length (i64).
    let at = block as *const _ as usize - bytes.as_ptr() as usize + 16;
    assert_eq!(
        i64::from_le_bytes(out[at..at + 8].try_into().unwrap()),
        block.bodyLength()
    );
    out[at..at + 8].copy_from_slice(&body.to_le_bytes());
    // The checksum's digits, where the footer holds them; hashed as `0`s.
    let footer = arrow_ipc::root_as_footer(footer_of(bytes)).unwrap();
    let value = (footer.custom_metadata().unwrap().iter())
        .find(|kv| kv.key() == Some(CHECKSUM_KEY))
        .and_then(|kv| kv.value())
        .expect("a checksum in the footer");
    let digits = value.as_ptr() as usize - bytes.as_ptr() as usize;
    out[digits..digits + 16].copy_from_slice(b"0000000000000000");
    let sum = format!("{:016x}", XxHash3_64::oneshot(&out));
    out[digits..digits + 16].copy_from_slice(sum.as_bytes());
    out
}

fn a_footer_stating_a_huge_or_misplaced_batch_is_refused(b: Backend) {
    let cache = &temp_cache(b);
    let agg = &agg();
    let (k, start) = (trades_key(), day(2024, 3, 3));
    let rows = trade_day(start, 1_000);
    let expect = cache.expect(agg, &k, start).unwrap();
    let good = expect.encode(&rows, &[], 0).unwrap();
    // Unchanged, the file reads: the edit below is all that is wrong.
    let body = first_block(&good).bodyLength();
    cache.put_raw(&k, start, &with_batch_body(&good, body));
    assert!(cache.read_period_of(agg, &k, start).unwrap().is_some());
    // A terabyte: a reader would allocate it whole before reading a byte.
    cache.put_raw(&k, start, &with_batch_body(&good, 1 << 40));
    let err = cache.read_period_of(agg, &k, start).unwrap_err();
    assert_corrupt(
        err,
        &format!("more than any cache file holds in one ({MAX_BATCH_BYTES})"),
    );
    // Under the bound, but past the end of the file; and a negative length.
    cache.put_raw(&k, start, &with_batch_body(&good, 100 << 20));
    let err = cache.read_period_of(agg, &k, start).unwrap_err();
    assert_corrupt(err, "outside the file's");
    cache.put_raw(&k, start, &with_batch_body(&good, -8));
    let err = cache.read_period_of(agg, &k, start).unwrap_err();
    assert_corrupt(err, "negative");
}

/// The first record batch's block in the footer, as it lies in `bytes`.
fn first_block(bytes: &[u8]) -> &arrow_ipc::Block {
    let footer = arrow_ipc::root_as_footer(footer_of(bytes)).unwrap();
    footer.recordBatches().unwrap().get(0)
}

/// The footer's flatbuffer in an Arrow IPC file.
fn footer_of(bytes: &[u8]) -> &[u8] {
    let n = bytes.len();
    let len = i32::from_le_bytes(bytes[n - 10..n - 6].try_into().unwrap()) as usize;
    &bytes[n - 10 - len..n - 10]
}
