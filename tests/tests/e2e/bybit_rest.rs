//! The Bybit plugin against the fake exchange over real HTTP: exact windows of 1000
//! candles for every category, symbol forms, retCodes, 10006 waited out, the 403 ban.

use crate::common;

use std::time::Duration;

use common::*;
use dsm_core::{Dsm, DsmConfig, ErrorKind, SourceMode};
use dsm_tests::fake::{expected_bybit_klines, FakeExchange, Fault, RequestRecord};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
const KLINE: &str = "/v5/market/kline";

fn config(fake: &FakeExchange, market: &str) -> DsmConfig {
    config_on(DsmConfig::new("bybit", market), &fake.url())
        .plugin_dir(target_dir())
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .source(SourceMode::Rest)
        .cache_enabled(false)
}

fn manager(fake: &FakeExchange, market: &str) -> Dsm {
    Dsm::create_with_config(config(fake, market)).unwrap()
}

fn klines(fake: &FakeExchange) -> Vec<RequestRecord> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path == KLINE)
        .collect()
}

fn num(r: &RequestRecord, name: &str) -> i64 {
    r.param(name).unwrap().parse().unwrap()
}

#[test]
fn many_pages_return_every_candle_once_in_order_for_each_category() {
    let fake = FakeExchange::start();
    let cases = [
        (
            "linear",
            "BTCUSDT",
            "1m",
            JAN1 + 7 * MIN,
            JAN1 + 3 * DAY + 14 * MIN + 5,
            5,
            60_000,
        ),
        ("spot", "ETHUSDT", "1m", JAN1, JAN1 + DAY, 2, 60_000),
        (
            "inverse",
            "BTCUSD",
            "1h",
            JAN1 - 100 * DAY,
            JAN1,
            3,
            3_600_000,
        ),
        ("spot", "BTCUSDT", "1d", JAN1 - 1500 * DAY, JAN1, 2, DAY),
    ];
    for (category, symbol, interval, start, end, pages, step) in cases {
        fake.clear_requests();
        let got = manager(&fake, category)
            .fetch_market_data(symbol, interval, start, end)
            .unwrap();
        let want = expected_bybit_klines(category, symbol, interval, start, end);
        assert!(!want.is_empty());
        assert_eq!(got.rows.len(), want.len(), "{category} {interval}");
        assert!(got.rows == want, "{category} {interval}: candles differ");
        let reqs = klines(&fake);
        // The host asks per calendar period, so a window may be cut at a period's end; at
        // least one request per 1000 candles, and the windows never overlap.
        assert!(
            reqs.len() >= pages,
            "{category} {interval}: {} requests",
            reqs.len()
        );
        assert!(
            reqs.len() <= pages + 4,
            "{category} {interval}: {} requests",
            reqs.len()
        );
        assert_eq!(got.summary.requests as usize, reqs.len());
        let mut spans: Vec<(i64, i64)> = reqs
            .iter()
            .map(|r| (num(r, "start"), num(r, "end")))
            .collect();
        spans.sort_unstable();
        assert!(
            spans.windows(2).all(|w| w[0].1 < w[1].0),
            "{category}: overlapping windows"
        );
        for r in &reqs {
            assert_eq!(r.param("category").as_deref(), Some(category));
            assert_eq!(r.param("limit").as_deref(), Some("1000"));
            // end is inclusive: a window holds at most 1000 open times.
            assert!(num(r, "end") - num(r, "start") < 1000 * step, "{}", r.query);
        }
    }
    let intervals: Vec<String> = {
        fake.clear_requests();
        manager(&fake, "linear")
            .fetch_market_data("BTCUSDT", "4h", JAN1, JAN1 + DAY)
            .unwrap();
        klines(&fake)
            .iter()
            .filter_map(|r| r.param("interval"))
            .collect()
    };
    assert_eq!(intervals, ["240"]);
}

#[test]
fn months_and_weeks() {
    let fake = FakeExchange::start();
    let start = 1_577_836_800_000; // 2020-01-01
    for interval in ["1M", "1w"] {
        let got = manager(&fake, "inverse")
            .fetch_market_data("BTCUSD", interval, start, JAN1)
            .unwrap();
        assert!(got.rows == expected_bybit_klines("inverse", "BTCUSD", interval, start, JAN1));
    }
}

#[test]
fn dashed_symbols_equal_bybit_symbols() {
    let fake = FakeExchange::start();
    let (start, end) = (JAN1, JAN1 + DAY);
    for (market, typed, symbol, category) in [
        ("spot", "BTC-USDT", "BTCUSDT", "spot"),
        ("usdt_perp", "eth_usdt", "ETHUSDT", "linear"),
        ("inverse", "BTCUSD_PERP", "BTCUSD", "inverse"),
    ] {
        fake.clear_requests();
        let got = manager(&fake, market)
            .fetch_market_data(typed, "1h", start, end)
            .unwrap();
        assert!(got.rows == expected_bybit_klines(category, symbol, "1h", start, end));
        assert!(klines(&fake)
            .iter()
            .all(|r| r.param("symbol").as_deref() == Some(symbol)));
    }
}

#[test]
fn ret_codes_become_clear_errors() {
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
    assert!(
        err.to_string()
            .contains("does not know symbol NOPEUSDT (retCode 10001"),
        "{err}"
    );
    // BTCUSD is inverse only.
    let err = manager(&fake, "linear")
        .fetch_market_data("BTCUSD", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert!(
        err.to_string().contains("e.g. BTCUSDT") || err.to_string().contains("like BTCUSDT"),
        "{err}"
    );
    fake.push_faults(
        KLINE,
        [Fault::BybitRetCode {
            code: 10001,
            msg: "Illegal category".into(),
        }],
    );
    let err = manager(&fake, "spot")
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(
        err.provider_kind(),
        Some(ErrorKind::INVALID_REQUEST),
        "{err}"
    );
    assert!(err.to_string().contains("Illegal category"), "{err}");
}

#[test]
fn too_many_visits_is_waited_out() {
    let fake = FakeExchange::start();
    fake.push_faults(
        KLINE,
        [Fault::BybitRetCode {
            code: 10006,
            msg: "Too many visits!".into(),
        }],
    );
    let got = Dsm::create_with_config(config(&fake, "linear").concurrency(1))
        .unwrap()
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(got.len(), 24);
    let reqs = klines(&fake);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].query, reqs[1].query);
    let waited = reqs[1].at - reqs[0].at;
    // The answer's X-Bapi-Limit-Reset-Timestamp is one second ahead.
    assert!(
        waited >= Duration::from_millis(800),
        "retried after {waited:?}"
    );
}

#[test]
fn ip_ban_is_a_rate_limit_error_with_retry_after() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINE, [Fault::Status(403)]);
    let err = manager(&fake, "spot")
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::RATE_LIMITED), "{err}");
    assert!(
        err.to_string()
            .contains("IP banned by Bybit for about 10 minutes"),
        "{err}"
    );
    match err {
        dsm_core::DsmError::Provider { error, .. } => assert_eq!(error.retry_after_ms, 600_000),
        other => panic!("{other}"),
    }
    assert_eq!(klines(&fake).len(), 1, "a ban is not retried");
}

#[test]
fn gateway_errors_are_retried() {
    let fake = FakeExchange::start();
    fake.push_faults(KLINE, [Fault::Status(502), Fault::Truncated]);
    let got = Dsm::create_with_config(config(&fake, "spot").concurrency(1))
        .unwrap()
        .fetch_market_data("ETHUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert!(got.rows == expected_bybit_klines("spot", "ETHUSDT", "1h", JAN1, JAN1 + DAY));
    assert_eq!(klines(&fake).len(), 3);
}

#[test]
fn the_forming_candle_is_not_history() {
    let fake = FakeExchange::start();
    let now = dsm_core::request::now_ms();
    let got = manager(&fake, "linear")
        .fetch_market_data("ETHUSDT", "1m", now - 30 * MIN, now + DAY)
        .unwrap();
    assert!(!got.is_empty());
    let last = got.rows.last().unwrap();
    assert!(last.close_time < dsm_core::request::now_ms());
    assert!(last.open_time + 2 * MIN > now);
}
