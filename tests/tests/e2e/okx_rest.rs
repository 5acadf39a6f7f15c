//! The OKX plugin against the fake exchange over real HTTP: backwards paging by UTC-day
//! chunks, symbol forms, error codes, rate limits (client-side pacing and 50011 waited out),
//! monthly bars and the still-forming candle.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use dsm_core::{Dsm, DsmConfig, ErrorKind, SourceMode};
use dsm_tests::fake::{expected_okx_klines, FakeExchange, Fault};

const H: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
const HISTORY: &str = "/api/v5/market/history-candles";

fn config(fake: &FakeExchange, market: &str) -> DsmConfig {
    config_on(DsmConfig::new("okx", market), &fake.url())
        .plugin_dir(target_dir())
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .source(SourceMode::Rest)
        .cache_enabled(false)
}

fn manager(fake: &FakeExchange, market: &str) -> Dsm {
    Dsm::create_with_config(config(fake, market)).unwrap()
}

fn history(fake: &FakeExchange) -> Vec<dsm_tests::fake::RequestRecord> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path == HISTORY)
        .collect()
}

#[test]
fn minutes_over_days_page_backwards_and_come_back_ascending_once() {
    let fake = FakeExchange::start();
    // Unaligned start and end: 1433 + 1440 + 15 candles in three UTC-day chunks.
    let (start, end) = (JAN1 + 7 * 60_000, JAN1 + 2 * DAY + 14 * 60_000 + 5);
    let t = Instant::now();
    let got = manager(&fake, "spot")
        .fetch_market_data("BTC-USDT", "1m", start, end)
        .unwrap();
    let want = expected_okx_klines("BTC-USDT", "1m", start, end);
    assert_eq!(want.len(), 1433 + 1440 + 15);
    assert_eq!(got.rows.len(), want.len());
    assert!(got.rows == want, "candles differ from the fake's");
    let reqs = history(&fake);
    // Per day: 14 full pages and one of 40 (33 for the first); the last chunk one request.
    assert_eq!(reqs.len(), 15 + 15 + 1, "one request per page");
    assert_eq!(got.summary.requests as usize, reqs.len());
    for r in &reqs {
        assert_eq!(r.status, 200, "paced under 20 requests / 2 s: {}", r.query);
        assert_eq!(r.param("limit").as_deref(), Some("100"));
        assert_eq!(r.param("bar").as_deref(), Some("1m"));
        assert_eq!(r.param("instId").as_deref(), Some("BTC-USDT"));
    }
    // Within a chunk the cursor walks back: `after` decreases page by page.
    let afters: Vec<i64> = reqs[..15]
        .iter()
        .map(|r| r.param("after").unwrap().parse().unwrap())
        .collect();
    let mut sorted = afters.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 15, "every page asked once");
    // 31 requests at 20 per 2 s cannot take less than 2 s.
    assert!(
        t.elapsed() >= Duration::from_millis(1_900),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn hours_of_a_swap_take_one_request_per_page_window() {
    let fake = FakeExchange::start();
    let (start, end) = (JAN1, JAN1 + 30 * DAY);
    let got = manager(&fake, "swap")
        .fetch_market_data("BTC-USDT-SWAP", "1h", start, end)
        .unwrap();
    let want = expected_okx_klines("BTC-USDT-SWAP", "1h", start, end);
    assert_eq!(want.len(), 720);
    assert!(got.rows == want);
    let reqs = history(&fake);
    assert_eq!(reqs.len(), 8, "720 hours in windows of 100");
    for r in &reqs {
        let after: i64 = r.param("after").unwrap().parse().unwrap();
        let before: i64 = r.param("before").unwrap().parse().unwrap();
        assert!(
            after - before - 1 <= 100 * H,
            "window too wide: {}",
            r.query
        );
        assert_eq!(r.param("bar").as_deref(), Some("1H"));
    }
    // Swap volume is in contracts (0.01 BTC): 100 x the base volume the fake prints.
    assert!(got
        .rows
        .iter()
        .all(|k| k.trades == 0 && k.taker_buy_base_volume == 0.0));
}

#[test]
fn months_and_utc_bars() {
    let fake = FakeExchange::start();
    let start = 1_577_836_800_000; // 2020-01-01
    let got = manager(&fake, "spot")
        .fetch_market_data("ETH-USDT", "1M", start, JAN1)
        .unwrap();
    assert_eq!(got.len(), 48);
    assert!(got.rows == expected_okx_klines("ETH-USDT", "1M", start, JAN1));
    assert_eq!(
        got.rows[1].close_time,
        1_583_020_800_000 - 1,
        "February 2020 has 29 days"
    );
    let got = manager(&fake, "swap")
        .fetch_market_data("BTC-USD-SWAP", "1d", JAN1 - 400 * DAY, JAN1)
        .unwrap();
    assert!(got.rows == expected_okx_klines("BTC-USD-SWAP", "1d", JAN1 - 400 * DAY, JAN1));
    assert!(got.rows.iter().all(|k| k.open_time % DAY == 0), "UTC days");
    let bars: Vec<String> = history(&fake)
        .iter()
        .filter_map(|r| r.param("bar"))
        .collect();
    assert!(bars.contains(&"1Mutc".to_string()) && bars.contains(&"1Dutc".to_string()));
}

#[test]
fn dsm_symbol_forms_equal_okx_instrument_ids() {
    let fake = FakeExchange::start();
    let (start, end) = (JAN1, JAN1 + 2 * DAY);
    let cases = [
        ("spot", "btcusdt", "BTC-USDT"),
        ("spot", "BTC_USDT", "BTC-USDT"),
        ("swap", "BTCUSDT", "BTC-USDT-SWAP"),
        ("perp", "BTCUSD", "BTC-USD-SWAP"),
        ("swap", "BTCUSD_PERP", "BTC-USD-SWAP"),
    ];
    for (market, typed, inst_id) in cases {
        fake.clear_requests();
        let got = manager(&fake, market)
            .fetch_market_data(typed, "1h", start, end)
            .unwrap();
        assert!(
            got.rows == expected_okx_klines(inst_id, "1h", start, end),
            "{typed}"
        );
        assert!(
            history(&fake)
                .iter()
                .all(|r| r.param("instId").as_deref() == Some(inst_id)),
            "{typed} -> {inst_id}"
        );
    }
}

#[test]
fn unknown_instruments_and_bad_parameters_are_clear_errors() {
    let fake = FakeExchange::start();
    let err = manager(&fake, "spot")
        .fetch_market_data("NOPEUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(
        err.provider_kind(),
        Some(ErrorKind::INVALID_SYMBOL),
        "{err}"
    );
    assert!(err.is_usage());
    let text = err.to_string();
    assert!(
        text.contains("NOPE-USDT") && text.contains("from NOPEUSDT"),
        "{text}"
    );
    assert!(
        text.contains("51001") && text.contains("e.g. BTC-USDT"),
        "{text}"
    );
    // No quote asset to split at: refused before any request.
    fake.clear_requests();
    let err = manager(&fake, "swap")
        .fetch_market_data("BTCXYZ", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(
        err.provider_kind(),
        Some(ErrorKind::INVALID_SYMBOL),
        "{err}"
    );
    assert!(err.to_string().contains("BTC-USDT-SWAP"), "{err}");
    assert!(fake.requests().is_empty());
    // OKX's own 51000 for a bar.
    fake.push_faults(
        HISTORY,
        [Fault::OkxError {
            status: 400,
            code: 51000,
            msg: "Parameter bar error".into(),
        }],
    );
    let err = manager(&fake, "spot")
        .fetch_market_data("BTC-USDT", "4h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(
        err.provider_kind(),
        Some(ErrorKind::INVALID_INTERVAL),
        "{err}"
    );
    assert!(err.to_string().contains("bar 4H for interval 4h"), "{err}");
}

#[test]
fn service_unavailable_is_retried() {
    let fake = FakeExchange::start();
    let busy = || Fault::OkxError {
        status: 503,
        code: 50001,
        msg: "Service temporarily unavailable. Please try again later".into(),
    };
    fake.push_faults(HISTORY, [busy(), busy()]);
    let got = Dsm::create_with_config(config(&fake, "spot").concurrency(1))
        .unwrap()
        .fetch_market_data("ETH-USDT", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert!(got.rows == expected_okx_klines("ETH-USDT", "1h", JAN1, JAN1 + DAY));
    let statuses: Vec<u16> = history(&fake).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[test]
fn rate_limit_answer_is_waited_out() {
    let fake = FakeExchange::start();
    fake.push_faults(
        HISTORY,
        [Fault::OkxError {
            status: 429,
            code: 50011,
            msg: "Too Many Requests".into(),
        }],
    );
    let got = Dsm::create_with_config(config(&fake, "spot").concurrency(1))
        .unwrap()
        .fetch_market_data("BTC-USDT", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(got.len(), 24);
    let reqs = history(&fake);
    assert_eq!(reqs.len(), 2);
    assert_eq!((reqs[0].status, reqs[1].status), (429, 200));
    assert_eq!(reqs[0].query, reqs[1].query, "the same page again");
    let waited = reqs[1].at - reqs[0].at;
    assert!(
        waited >= Duration::from_millis(1_900),
        "retried after {waited:?}: OKX's 2 s window"
    );
}

#[test]
fn persistent_rate_limiting_is_a_rate_limit_error() {
    let fake = FakeExchange::start();
    let limited = || Fault::OkxError {
        status: 429,
        code: 50011,
        msg: "Too Many Requests".into(),
    };
    fake.push_faults(HISTORY, (0..5).map(|_| limited()));
    let err = Dsm::create_with_config(config(&fake, "spot").retries(1).concurrency(1))
        .unwrap()
        .fetch_market_data("BTC-USDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::RATE_LIMITED), "{err}");
    assert_eq!(history(&fake).len(), 3, "the first try and two waits");
}

#[test]
fn the_forming_candle_is_not_history() {
    let fake = FakeExchange::start();
    let now = dsm_core::request::now_ms();
    let got = manager(&fake, "spot")
        .fetch_market_data("BTC-USDT", "1h", now - 5 * H, now + DAY)
        .unwrap();
    assert!(!got.is_empty());
    let last = got.rows.last().unwrap();
    assert!(
        last.close_time < dsm_core::request::now_ms(),
        "only closed candles"
    );
    assert!(
        last.open_time + 2 * H > now,
        "the last closed candle is there"
    );
}
