//! Chunks fetched ahead, through the real plugin and the fake over HTTP: several months'
//! archive files are in flight together, the archive's own limit still holds across them,
//! and what comes out (rows, order, gaps, cache files) is what one chunk at a time gives,
//! also when a later chunk fails.
//!
//! The fetches are of 1h candles: a day is a period, a month of days one chunk, served by
//! its monthly file (a zip and its CHECKSUM: at most 2 requests in flight for one chunk).

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::*;
use dsm_core::{DsmError, ErrorKind, FetchSummary, PeriodBatch, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Fault, Market};

/// Five months: January to May 2024, 152 days.
const START: &str = "2024-01-01";
const END: &str = "2024-06-01";
const DAYS: usize = 31 + 29 + 31 + 30 + 31;

/// Longer than the tests wait for held requests: a held request that timed out and was
/// asked again would count twice at the fake's gate.
const PATIENT_MS: u64 = 120_000;

struct Fetched {
    batches: Vec<PeriodBatch>,
    result: dsm_core::Result<FetchSummary>,
}

fn fetch(fake: &FakeExchange, cache: &Path, start: &str, end: &str) -> Fetched {
    let dsm = binance_on_fake(fake, "spot", cache, SourceMode::Archive, PATIENT_MS);
    let mut batches = Vec::new();
    let result = dsm
        .fetch_each("BTCUSDT", "1h", ms(start), ms(end), &mut |b| {
            batches.push(b);
            Ok(())
        })
        .map(|(_, summary)| summary);
    Fetched { batches, result }
}

fn rows(batches: &[PeriodBatch]) -> Vec<dsm_core::Kline> {
    batches
        .iter()
        .flat_map(|b| b.rows.iter().copied())
        .collect()
}

fn assert_in_order(batches: &[PeriodBatch]) {
    assert!(
        batches
            .windows(2)
            .all(|w| w[0].period_start < w[1].period_start),
        "periods emitted out of order"
    );
}

/// Cache files and their sizes.
fn files_with_sizes(dir: &Path) -> Vec<(String, u64)> {
    cache_files(dir)
        .into_iter()
        .map(|f| {
            let len = std::fs::metadata(dir.join(&f)).unwrap().len();
            (f, len)
        })
        .collect()
}

#[test]
fn the_months_archive_files_are_in_flight_together_and_delivered_in_order() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    // Nothing is answered until 5 requests wait at once: one chunk alone has at most 2 in
    // flight, so 5 means at least three months were being fetched together.
    fake.hold_after(0);
    let (held, got) = std::thread::scope(|s| {
        let run = s.spawn(|| fetch(&fake, cache.path(), START, END));
        let held = fake.wait_held_count(5, Duration::from_secs(60));
        fake.release();
        (held, run.join().unwrap())
    });
    assert!(
        held >= 5,
        "only {held} archive requests were in flight at once"
    );
    let summary = got.result.unwrap();
    assert_in_order(&got.batches);
    assert_eq!(got.batches.len(), DAYS);
    let want = expected_klines(Market::Spot, "BTCUSDT", "1h", ms(START), ms(END));
    assert!(rows(&got.batches) == want);
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert_eq!(summary.cached_periods as usize, DAYS);
    assert_eq!(assert_cache_valid(cache.path()), DAYS);
}

#[test]
fn archive_requests_in_flight_across_chunks_never_exceed_the_archive_concurrency() {
    let fake = FakeExchange::start();
    fake.hold_after(0);
    let url = fake.url();
    let args = [
        "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1h", "--start", START,
        "--end", END, "--source", "archive",
    ];
    // 3: more than one chunk's 2, fewer than the 10 that five chunks would ask for at once.
    let patient = PATIENT_MS.to_string();
    let env = [
        ("DSM_BINANCE_ARCHIVE_CONCURRENCY", "3"),
        ("DSM_REQUEST_TIMEOUT_MS", patient.as_str()),
    ];
    let (held, out) = std::thread::scope(|s| {
        let run = s.spawn(|| run_dsm_on(&url, &args, &env));
        let held = fake.wait_held_count(3, Duration::from_secs(60));
        fake.release();
        (held, run.join().unwrap())
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(held, 3, "fewer than 3 archive requests in flight at once");
    let max = fake.max_in_flight();
    assert!(max <= 3, "at most 3 in flight across chunks, saw {max}");
    assert_eq!(stdout(&out).lines().count(), 1 + DAYS * 24);
}

#[test]
fn fetched_ahead_equals_one_chunk_at_a_time_and_a_later_failure_keeps_the_earlier_months() {
    let fake = FakeExchange::start();
    // One chunk at a time: each month fetched alone (nothing can be ahead of it).
    let one = tempfile::tempdir().unwrap();
    let months = [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
        END,
    ];
    let (mut one_batches, mut one_requests) = (Vec::new(), 0);
    for m in months.windows(2) {
        let got = fetch(&fake, one.path(), m[0], m[1]);
        let summary = got.result.unwrap();
        assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
        one_requests += summary.requests;
        one_batches.extend(got.batches);
    }

    let ahead = tempfile::tempdir().unwrap();
    let got = fetch(&fake, ahead.path(), START, END);
    let summary = got.result.unwrap();
    assert_in_order(&got.batches);
    assert!(rows(&got.batches) == rows(&one_batches));
    let periods = |b: &[PeriodBatch]| -> Vec<_> {
        b.iter()
            .map(|b| (b.period_start, b.source, b.cached))
            .collect()
    };
    assert_eq!(periods(&got.batches), periods(&one_batches));
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert_eq!(summary.requests, one_requests);
    assert_eq!(files_with_sizes(ahead.path()), files_with_sizes(one.path()));
    assert_eq!(assert_cache_valid(ahead.path()), DAYS);

    // March's file answers 418 with a ban far longer than any wait: the fetch fails there,
    // whatever April and May (in flight meanwhile) gave.
    fake.push_faults(
        "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03.zip",
        [Fault::RetryAfter {
            status: 418,
            secs: 3600,
        }],
    );
    let failed = tempfile::tempdir().unwrap();
    let got = fetch(&fake, failed.path(), START, END);
    match &got.result {
        Err(DsmError::Provider { error, .. }) => {
            assert_eq!(error.kind, ErrorKind::RATE_LIMITED, "{error}")
        }
        other => panic!("expected the 418 of March, got {other:?}"),
    }
    // January and February were delivered and cached, as one chunk at a time does; nothing
    // of the months after the failure is in the cache.
    let jan_feb = 31 + 29;
    assert_in_order(&got.batches);
    assert!(rows(&got.batches) == rows(&one_batches[..jan_feb]));
    let in_cache = files_with_sizes(failed.path());
    assert_eq!(in_cache, files_with_sizes(one.path())[..jan_feb].to_vec());
    assert_eq!(assert_cache_valid(failed.path()), jan_feb);
}

#[test]
fn a_cancel_while_chunks_are_ahead_stops_them_all_and_caches_nothing() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = binance_on_fake(&fake, "spot", cache.path(), SourceMode::Archive, PATIENT_MS);
    fake.hold_after(0);
    let result = std::thread::scope(|s| {
        let run = s.spawn(|| dsm.fetch_market_data("BTCUSDT", "1h", ms(START), ms(END)));
        // Several months in flight, none answered: then the cancel, the gate still closed.
        assert!(fake.wait_held_count(5, Duration::from_secs(60)) >= 5);
        dsm.cancel();
        let result = run.join().unwrap();
        fake.release();
        result
    });
    match result {
        Err(DsmError::Provider { error, .. }) => {
            assert_eq!(error.kind, ErrorKind::CANCELLED, "{error}")
        }
        other => panic!("expected a cancelled fetch, got {other:?}"),
    }
    assert!(cache_files(cache.path()).is_empty());
}
