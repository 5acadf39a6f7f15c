//! Network and data faults on Binance Vision files, through the real plugin and the host's
//! failover: a file that comes after retries is used; one that cannot be used is a gap
//! naming the file and the cause (source archive) or is filled from REST (source auto);
//! the cache only ever holds valid, whole days. Also: downloads in flight stay within
//! the archive's own concurrency (DSM_BINANCE_ARCHIVE_CONCURRENCY).

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::*;
use dsm_core::{Klines, Source, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Fault, Market, RowFault};

const DAY: i64 = 86_400_000;
const DIR: &str = "/data/spot/daily/klines/BTCUSDT/1h";

/// 2024-05-10 .. 2024-05-13: three daily files; the faults hit the middle one.
fn range() -> (i64, i64) {
    (ms("2024-05-10"), ms("2024-05-13"))
}

fn zip(day: &str) -> String {
    format!("BTCUSDT-1h-{day}.zip")
}

fn path(day: &str) -> String {
    format!("{DIR}/{}", zip(day))
}

fn fetch(fake: &FakeExchange, cache: &Path, mode: SourceMode, timeout_ms: u64) -> Klines {
    let (s, e) = range();
    binance_on_fake(fake, "spot", cache, mode, timeout_ms)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap()
}

fn want() -> Vec<dsm_core::Kline> {
    let (s, e) = range();
    expected_klines(Market::Spot, "BTCUSDT", "1h", s, e)
}

fn requests_to(fake: &FakeExchange, path: &str) -> usize {
    fake.requests().iter().filter(|r| r.path == path).count()
}

#[test]
fn resets_trickles_truncations_and_5xx_on_a_zip_are_retried_until_the_file_comes() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    fake.push_faults(
        &path("2024-05-11"),
        [
            Fault::Reset,
            // ~1.5 KB at 32 bytes every 20 ms: ~1 s, past the 300 ms timeout.
            Fault::Trickle {
                bytes: 32,
                every: Duration::from_millis(20),
            },
            Fault::Truncated,
        ],
    );
    fake.push_faults(
        &format!("{}.CHECKSUM", path("2024-05-12")),
        [Fault::Reset, Fault::Status(503)],
    );
    let got = fetch(&fake, cache.path(), SourceMode::Archive, 300);
    assert!(got.rows == want());
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
    assert!(got
        .summary
        .sources
        .iter()
        .all(|(_, s)| *s == Source::Archive));
    assert_eq!(requests_to(&fake, &path("2024-05-11")), 4);
    assert_eq!(assert_cache_valid(cache.path()), 3);
}

/// Faults that outlast the retries (3 retries: 4 attempts) or are not retried at all.
#[test]
fn a_zip_that_never_comes_is_a_gap_naming_file_and_cause_and_rest_fills_it() {
    let trickle = || Fault::Trickle {
        bytes: 16,
        every: Duration::from_millis(30),
    };
    let cases: [(&str, Vec<Fault>, &str); 3] = [
        ("reset", vec![Fault::Reset; 4], "Connection reset by peer"),
        (
            "slow body",
            (0..4).map(|_| trickle()).collect(),
            "timed out",
        ),
        ("redirect loop", vec![Fault::RedirectLoop], "redirect loop"),
    ];
    for (what, faults, cause) in cases {
        let fake = FakeExchange::start();
        let cache = tempfile::tempdir().unwrap();
        let bad = path("2024-05-11");
        fake.push_faults(&bad, faults.clone());
        let got = fetch(&fake, cache.path(), SourceMode::Archive, 300);
        let (s, _) = range();
        assert_eq!(got.summary.gaps.len(), 1, "{what}: {:?}", got.summary.gaps);
        let gap = &got.summary.gaps[0];
        assert_eq!((gap.start_ms, gap.end_ms), (s + DAY, s + 2 * DAY), "{what}");
        assert!(
            gap.reason.contains(&zip("2024-05-11")) && gap.reason.contains(cause),
            "{what}: {}",
            gap.reason
        );
        assert_eq!(got.len(), 48, "{what}: the two good days");
        assert_eq!(
            cache_files(cache.path()),
            [
                "binance/spot/klines/BTCUSDT/1h/2024-05-10.arrow",
                "binance/spot/klines/BTCUSDT/1h/2024-05-12.arrow"
            ],
            "{what}"
        );
        assert_eq!(assert_cache_valid(cache.path()), 2);

        // Source auto: the same faults again, and REST fills the day in.
        fake.push_faults(&bad, faults);
        let got = fetch(&fake, cache.path(), SourceMode::Auto, 300);
        assert!(got.rows == want(), "{what}");
        assert!(
            got.summary.gaps.is_empty(),
            "{what}: {:?}",
            got.summary.gaps
        );
        let sources: Vec<Source> = got.summary.sources.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            sources,
            [Source::Cache, Source::Rest, Source::Cache],
            "{what}"
        );
        assert_eq!(assert_cache_valid(cache.path()), 3, "{what}");
    }
}

#[test]
fn a_zip_truncated_on_every_download_is_a_gap_then_filled_from_rest() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    fake.truncate_vision(&zip("2024-05-11"));
    let got = fetch(&fake, cache.path(), SourceMode::Archive, 2_000);
    assert_eq!(got.summary.gaps.len(), 1, "{:?}", got.summary.gaps);
    assert!(got.summary.gaps[0].reason.contains(&zip("2024-05-11")));
    let got = fetch(&fake, cache.path(), SourceMode::Auto, 2_000);
    assert!(got.rows == want());
    assert_eq!(assert_cache_valid(cache.path()), 3);
}

#[test]
fn malformed_archive_rows_are_gaps_naming_file_line_and_column() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    fake.mutate_vision_rows(&zip("2024-05-11"), RowFault::NonNumeric);
    fake.mutate_vision_rows(&zip("2024-05-12"), RowFault::WrongColumnCount);
    let got = fetch(&fake, cache.path(), SourceMode::Archive, 2_000);
    let reasons: Vec<&str> = got.summary.gaps.iter().map(|g| g.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "BTCUSDT-1h-2024-05-11.csv line 2: column 2 (high): \"abc\" is not a decimal number",
            "BTCUSDT-1h-2024-05-12.csv line 2: 5 fields where at least 11 are expected",
        ]
    );
    assert_eq!(assert_cache_valid(cache.path()), 1, "only the good day");
    let got = fetch(&fake, cache.path(), SourceMode::Auto, 2_000);
    assert!(got.rows == want());
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
    assert_eq!(assert_cache_valid(cache.path()), 3);
}

#[test]
fn repeated_and_out_of_order_archive_rows_are_put_right_and_conflicts_are_a_gap() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    fake.mutate_vision_rows(&zip("2024-05-10"), RowFault::Duplicate);
    fake.mutate_vision_rows(&zip("2024-05-11"), RowFault::OutOfOrder);
    fake.mutate_vision_rows(&zip("2024-05-12"), RowFault::ConflictingDuplicate);
    let got = fetch(&fake, cache.path(), SourceMode::Archive, 2_000);
    assert!(
        got.rows[..] == want()[..48],
        "the first two days whole and in order"
    );
    assert_eq!(got.summary.gaps.len(), 1, "{:?}", got.summary.gaps);
    let reason = &got.summary.gaps[0].reason;
    assert!(
        reason.starts_with(
            "BTCUSDT-1h-2024-05-12.zip (BTCUSDT-1h-2024-05-12.csv): two different candles open at"
        ),
        "{reason}"
    );
    assert_eq!(assert_cache_valid(cache.path()), 2);
}

fn february_on_the_cli(url: &str, env: &[(&str, &str)]) -> std::process::Output {
    let args = [
        "fetch",
        "-p",
        "binance",
        "-m",
        "spot",
        "-s",
        "BTCUSDT",
        "-i",
        "1h",
        "--start",
        "2024-02-01",
        "--end",
        "2024-03-01",
        "--source",
        "archive",
    ];
    run_dsm_on(url, &args, env)
}

#[test]
fn vision_downloads_in_flight_reach_but_never_exceed_the_archive_concurrency() {
    let fake = FakeExchange::start();
    // February 2024 without its monthly file: 29 daily files for the daily fallback.
    fake.withhold_vision_file("BTCUSDT-1h-2024-02.zip");
    // The monthly pair passes (404); every daily request is then held unanswered until 3
    // are waiting at once, which only 3 requests in flight together can reach.
    fake.hold_after(2);
    let url = fake.url();
    let env = [
        ("DSM_BINANCE_ARCHIVE_CONCURRENCY", "3"),
        // REST's own limit does not apply to the archive.
        ("DSM_CONCURRENCY", "1"),
    ];
    let (held, out) = std::thread::scope(|s| {
        let run = s.spawn(|| february_on_the_cli(&url, &env));
        let held = fake.wait_held_count(3, Duration::from_secs(60));
        fake.release();
        (held, run.join().unwrap())
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(held, 3, "fewer than 3 archive requests in flight at once");
    let max = fake.max_in_flight();
    assert!(max <= 3, "at most 3 in flight, saw {max}");
    assert_eq!(stdout(&out).lines().count(), 1 + 29 * 24);
    let zips = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(DIR) && r.path.ends_with(".zip"))
        .count();
    assert_eq!(zips, 29);
}

#[test]
fn a_bad_archive_concurrency_is_refused_naming_the_variable() {
    let fake = FakeExchange::start();
    for bad in ["0", "many"] {
        let out = february_on_the_cli(&fake.url(), &[("DSM_BINANCE_ARCHIVE_CONCURRENCY", bad)]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "DSM_BINANCE_ARCHIVE_CONCURRENCY={bad:?} is not a number"
            )),
            "{err}"
        );
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn bursts_of_5xx_and_429_418_on_the_archive_are_waited_out_or_leave_it_to_rest() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let bad = path("2024-05-11");
    // 5xx burst then 429 and 418 with Retry-After 0: waited out, the file is used.
    fake.push_faults(
        &bad,
        [
            Fault::Status(500),
            Fault::Status(502),
            Fault::RetryAfter {
                status: 429,
                secs: 0,
            },
            Fault::RetryAfter {
                status: 418,
                secs: 0,
            },
            Fault::Status(503),
        ],
    );
    let got = fetch(&fake, cache.path(), SourceMode::Archive, 2_000);
    assert!(got.rows == want());
    assert!(got
        .summary
        .sources
        .iter()
        .all(|(_, s)| *s == Source::Archive));
    assert_eq!(requests_to(&fake, &bad), 6);

    // A ban longer than max_retry_after (5 min): the archive gives up, and with source
    // auto REST serves the range, with a note that says why.
    let cache = tempfile::tempdir().unwrap();
    fake.push_faults(
        &bad,
        [Fault::RetryAfter {
            status: 418,
            secs: 3600,
        }],
    );
    let got = fetch(&fake, cache.path(), SourceMode::Auto, 2_000);
    assert!(got.rows == want());
    assert!(
        got.summary
            .notes
            .iter()
            .any(|n| n.contains("archive unavailable") && n.contains("418")),
        "{:?}",
        got.summary.notes
    );
    assert_eq!(assert_cache_valid(cache.path()), 3);
    // With source archive the same ban is an error that says so, and nothing bad is cached.
    let cache = tempfile::tempdir().unwrap();
    fake.push_faults(
        &bad,
        [Fault::RetryAfter {
            status: 418,
            secs: 3600,
        }],
    );
    let (s, e) = range();
    let err = binance_on_fake(&fake, "spot", cache.path(), SourceMode::Archive, 2_000)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("banned") && err.contains(&zip("2024-05-11")),
        "{err}"
    );
    assert_cache_valid(cache.path());
}
