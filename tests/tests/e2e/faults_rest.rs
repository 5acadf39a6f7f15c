//! Network and data faults on Binance REST pages, through the real plugin and the host's
//! failover (source rest): each ends in the right data or an error naming the page (its URL,
//! with startTime) and the cause; never a panic, never bad data in the cache.

use crate::common;

use std::time::Duration;

use common::*;
use dsm_core::{DsmError, ErrorKind, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Fault, Market, RowFault};

const KLINES: &str = "/api/v3/klines";

/// Two whole past days of 1h: one page (48 rows) per fetch.
fn range() -> (i64, i64) {
    (ms("2024-04-01"), ms("2024-04-03"))
}

fn rest_requests(fake: &FakeExchange) -> usize {
    fake.requests().iter().filter(|r| r.path == KLINES).count()
}

/// The fetch's error, with the checks every failed fetch must pass: a provider error of
/// `kind` naming the page (the klines URL with its startTime), and nothing cached.
fn failed(fake: &FakeExchange, timeout_ms: u64, kind: ErrorKind) -> String {
    let cache = tempfile::tempdir().unwrap();
    let (s, e) = range();
    let err = binance_on_fake(fake, "spot", cache.path(), SourceMode::Rest, timeout_ms)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(&err, DsmError::Provider { error, .. } if error.kind == kind),
        "{kind:?} expected: {err:?}"
    );
    assert!(
        message.contains(&format!(
            "{KLINES}?symbol=BTCUSDT&interval=1h&startTime={s}"
        )),
        "the page is named: {message}"
    );
    assert!(cache_files(cache.path()).is_empty(), "nothing cached");
    message
}

/// The fetch succeeds with exactly the exchange's candles, no gap, and a valid cache.
fn recovered(fake: &FakeExchange, timeout_ms: u64) {
    let cache = tempfile::tempdir().unwrap();
    let (s, e) = range();
    let got = binance_on_fake(fake, "spot", cache.path(), SourceMode::Rest, timeout_ms)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", s, e));
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
    assert_eq!(assert_cache_valid(cache.path()), 2, "both days cached");
}

#[test]
fn resets_trickles_truncations_and_5xx_mid_body_are_retried_until_the_data_comes() {
    let fake = FakeExchange::start();
    fake.push_faults(
        KLINES,
        [
            Fault::Reset,
            // 48 rows (~7 KB) at 64 bytes every 20 ms: ~2 s, far past the 400 ms timeout.
            Fault::Trickle {
                bytes: 64,
                every: Duration::from_millis(20),
            },
            Fault::Truncated,
        ],
    );
    recovered(&fake, 400);
    assert_eq!(rest_requests(&fake), 4, "three faults, then the page");
}

#[test]
fn a_connection_reset_on_every_attempt_is_a_network_error_naming_the_page() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINES, (0..4).map(|_| Fault::Reset));
    let message = failed(&fake, 2_000, ErrorKind::NETWORK);
    assert!(message.contains("after 4 attempt(s)"), "{message}");
    assert_eq!(rest_requests(&fake), 4);
}

#[test]
fn a_body_slower_than_the_timeout_on_every_attempt_is_a_timeout_naming_the_page() {
    let fake = FakeExchange::start();
    let slow = || Fault::Trickle {
        bytes: 256,
        every: Duration::from_millis(40),
    };
    fake.push_faults(KLINES, (0..4).map(|_| slow()));
    let message = failed(&fake, 300, ErrorKind::TIMEOUT);
    assert!(message.contains("timed out"), "{message}");
}

#[test]
fn malformed_rows_are_parse_errors_naming_page_row_and_column() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINES, [Fault::Rows(RowFault::NonNumeric)]);
    let message = failed(&fake, 2_000, ErrorKind::PARSE);
    assert!(
        message.ends_with("row 1: column 2 (high): \"abc\" is not a decimal number"),
        "{message}"
    );
    fake.push_faults(KLINES, [Fault::Rows(RowFault::WrongColumnCount)]);
    let message = failed(&fake, 2_000, ErrorKind::PARSE);
    assert!(
        message.ends_with("row 1: column 5 (volume) is missing: the row has 5 columns"),
        "{message}"
    );
    assert_eq!(rest_requests(&fake), 2, "a bad page is not asked for again");
}

#[test]
fn repeated_and_out_of_order_rows_are_put_right_and_conflicting_ones_refused() {
    let fake = FakeExchange::start();
    // An exact repeat is dropped and a swapped pair sorted: the data is whole and right.
    fake.push_faults(KLINES, [Fault::Rows(RowFault::Duplicate)]);
    recovered(&fake, 2_000);
    fake.push_faults(KLINES, [Fault::Rows(RowFault::OutOfOrder)]);
    recovered(&fake, 2_000);
    // Two different candles for one open time: which is right cannot be known.
    fake.push_faults(KLINES, [Fault::Rows(RowFault::ConflictingDuplicate)]);
    let message = failed(&fake, 2_000, ErrorKind::INTEGRITY);
    let second = range().0 + 3_600_000;
    assert!(
        message.contains(&format!("two different candles open at {second}")),
        "{message}"
    );
}

#[test]
fn an_endless_redirect_is_a_network_error_naming_the_url_and_is_not_retried() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINES, (0..20).map(|_| Fault::RedirectLoop));
    let message = failed(&fake, 2_000, ErrorKind::NETWORK);
    assert!(message.contains("redirect loop"), "{message}");
    assert_eq!(
        rest_requests(&fake),
        1,
        "the loop is seen at once, not retried"
    );
}

#[test]
fn a_gzip_bomb_is_refused_at_the_body_cap_and_not_retried() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINES, (0..5).map(|_| Fault::GzipBomb));
    let message = failed(&fake, 10_000, ErrorKind::INTEGRITY);
    assert!(
        message.contains("(after decompression), over the 16777216-byte limit"),
        "{message}"
    );
    assert_eq!(rest_requests(&fake), 1, "refused once, not retried");
}

#[test]
fn redirects_to_other_schemes_or_other_origins_over_http_are_refused_once() {
    let other_origin = format!("{NOWHERE}{KLINES}");
    for (location, why) in [
        ("ftp://127.0.0.1/klines", "only http and https are followed"),
        ("file:///etc/passwd", "only http and https are followed"),
        (other_origin.as_str(), "another origin over plain http"),
    ] {
        let fake = FakeExchange::start();
        fake.push_faults(KLINES, (0..5).map(|_| Fault::Redirect(location.into())));
        let message = failed(&fake, 2_000, ErrorKind::NETWORK);
        assert!(message.contains("refusing a redirect"), "{message}");
        assert!(message.contains(why), "{location}: {message}");
        assert_eq!(
            rest_requests(&fake),
            1,
            "{location}: refused once, not retried"
        );
    }
}

#[test]
fn the_cli_exits_1_with_the_page_and_cause_and_writes_no_file() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINES, [Fault::Rows(RowFault::NonNumeric)]);
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let url = fake.url();
    let out = run_dsm_on(
        &url,
        &[
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
            "2024-04-01",
            "--end",
            "2024-04-03",
            "--source",
            "rest",
            "-o",
            out_file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("startTime=1711929600000") && err.contains("is not a decimal number"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out_file.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
