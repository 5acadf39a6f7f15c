//! The Binance plugin against the fake exchange over real HTTP: pagination for every market,
//! errors, retries, timeouts and Retry-After, all settings wired through.

mod common;

use std::time::Duration;

use common::*;
use dsm_core::{Dsm, DsmConfig, ErrorKind, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Fault, Market};

const DAY: i64 = 86_400_000;
const JAN1: i64 = 1_704_067_200_000; // 2024-01-01

fn config(fake: &FakeExchange, market: &str) -> DsmConfig {
    config_on(DsmConfig::new("binance", market), &fake.url())
        .plugin_dir(target_dir())
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .source(SourceMode::Rest)
        .cache_enabled(false)
}

fn manager(fake: &FakeExchange, market: &str) -> Dsm {
    Dsm::create_with_config(config(fake, market)).unwrap()
}

fn kline_requests(fake: &FakeExchange) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path.ends_with("/klines"))
        .count()
}

#[test]
fn many_pages_return_every_candle_once_in_order_for_each_market() {
    let fake = FakeExchange::start();
    let cases = [
        ("spot", Market::Spot, "BTCUSDT", "/api/v3/klines", 1000),
        ("um", Market::Um, "ETHUSDT", "/fapi/v1/klines", 1500),
        ("cm", Market::Cm, "BTCUSD_PERP", "/dapi/v1/klines", 1500),
    ];
    for (market, m, symbol, path, page) in cases {
        // 3 days and 7 minutes of 1m: several full pages and a partial one; an unaligned end.
        let (start, end) = (JAN1 + 7 * 60_000, JAN1 + 3 * DAY + 14 * 60_000 + 5);
        fake.clear_requests();
        let got = manager(&fake, market)
            .fetch_market_data(symbol, "1m", start, end)
            .unwrap();
        let want = expected_klines(m, symbol, "1m", start, end);
        assert_eq!(want.len(), 3 * 1440 + 8);
        assert_eq!(got.rows.len(), want.len(), "{market}");
        assert!(got.rows == want, "{market}: candles differ from the fake's");
        let reqs: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect();
        assert_eq!(
            reqs.len(),
            want.len().div_ceil(page),
            "{market}: one request per page"
        );
        assert!(reqs
            .iter()
            .all(|r| r.param("limit") == Some(page.to_string())));
        assert_eq!(got.summary.requests as usize, reqs.len());
    }
}

#[test]
fn coin_m_windows_stay_within_200_days() {
    let fake = FakeExchange::start();
    let (start, end) = (JAN1, JAN1 + 400 * DAY);
    let got = manager(&fake, "cm")
        .fetch_market_data("BTCUSD_PERP", "4h", start, end)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Cm, "BTCUSD_PERP", "4h", start, end));
    for r in fake.requests() {
        let s: i64 = r.param("startTime").unwrap().parse().unwrap();
        let e: i64 = r.param("endTime").unwrap().parse().unwrap();
        assert!(e - s <= 200 * DAY, "window too wide: {}", r.query);
        assert_eq!(r.status, 200);
    }
}

#[test]
fn monthly_candles_and_the_one_call_api() {
    let fake = FakeExchange::start();
    let endpoints = endpoint_env(&fake.url());
    for (var, url) in &endpoints {
        std::env::set_var(var, url);
    }
    std::env::set_var("DSM_PLUGIN_PATH", target_dir());
    std::env::set_var("DSM_NO_CACHE", "1");
    let got = dsm_core::fetch_market_data(
        "binance",
        "spot",
        "btcusdt",
        "1M",
        "2020-01-01",
        "2024-01-01",
    )
    .unwrap();
    for (var, _) in &endpoints {
        std::env::remove_var(var);
    }
    assert_eq!(got.len(), 48);
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1M", 1_577_836_800_000, JAN1));
    // From the archive's monthly files (auto), REST for what they lack: all from the fake.
    let monthly = "/data/spot/monthly/klines/BTCUSDT/1mo/";
    for r in fake.requests() {
        assert!(
            r.path == "/api/v3/klines" || r.path.starts_with(monthly),
            "{}",
            r.path
        );
    }
}

#[test]
fn the_forming_candle_is_not_history() {
    let fake = FakeExchange::start();
    let now = dsm_core::request::now_ms();
    let got = manager(&fake, "spot")
        .fetch_market_data("BTCUSDT", "1h", now - 5 * 3_600_000, now + DAY)
        .unwrap();
    assert!(!got.is_empty());
    let last = got.rows.last().unwrap();
    assert!(
        last.close_time < dsm_core::request::now_ms(),
        "only closed candles"
    );
    assert!(
        last.open_time + 2 * 3_600_000 > now,
        "the last closed candle is there"
    );
}

#[test]
fn unknown_symbol_and_interval_errors_say_what_was_wrong() {
    let fake = FakeExchange::start();
    let err = manager(&fake, "spot")
        .fetch_market_data("NOPEUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::INVALID_SYMBOL));
    assert!(err.is_usage());
    assert!(err.to_string().contains("NOPEUSDT"), "{err}");
    // 1s exists on spot only: the host refuses it for um before any request.
    fake.clear_requests();
    let err = manager(&fake, "um")
        .fetch_market_data("BTCUSDT", "1s", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert!(
        err.to_string().contains("not available on market um"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 0);
    // The exchange's own -1120 answer is mapped too.
    fake.push_faults(
        "/api/v3/klines",
        [Fault::BinanceError {
            status: 400,
            code: -1120,
            msg: "Invalid interval.".into(),
        }],
    );
    let err = manager(&fake, "spot")
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::INVALID_INTERVAL));
    assert!(err.to_string().contains("1h"), "{err}");
}

#[test]
fn attempts_equal_the_configured_retries() {
    for retries in [0u32, 2, 4] {
        let fake = FakeExchange::start();
        fake.push_faults("/api/v3/klines", (0..10).map(|_| Fault::Status(503)));
        let dsm = Dsm::create_with_config(config(&fake, "spot").retries(retries)).unwrap();
        let err = dsm
            .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
            .unwrap_err();
        assert_eq!(
            err.provider_kind(),
            Some(ErrorKind::UPSTREAM_STATUS),
            "{err}"
        );
        assert!(err.to_string().contains("503"), "{err}");
        assert_eq!(
            kline_requests(&fake),
            retries as usize + 1,
            "retries={retries}"
        );
    }
}

#[test]
fn transient_5xx_are_retried_into_success() {
    let fake = FakeExchange::start();
    fake.push_faults(
        "/api/v3/klines",
        [Fault::Status(502), Fault::Status(500), Fault::Truncated],
    );
    let got = Dsm::create_with_config(config(&fake, "spot").retries(3).concurrency(1))
        .unwrap()
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", JAN1, JAN1 + DAY));
    assert_eq!(kline_requests(&fake), 4);
}

#[test]
fn request_timeout_fires_against_a_slow_exchange() {
    let fake = FakeExchange::start();
    fake.set_delay("/fapi/v1/klines", Duration::from_secs(3));
    let dsm = Dsm::create_with_config(
        config(&fake, "um")
            .request_timeout(Duration::from_millis(300))
            .retries(1),
    )
    .unwrap();
    let err = dsm
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::TIMEOUT), "{err}");
    // TIMEOUT, not a fetch that succeeded after the fake's 3 s: the client's timeout ended
    // both attempts.
    assert_eq!(kline_requests(&fake), 2, "first try and one retry");
}

#[test]
fn retry_after_is_waited_for() {
    let fake = FakeExchange::start();
    fake.push_faults(
        "/api/v3/klines",
        [Fault::RetryAfter {
            status: 429,
            secs: 1,
        }],
    );
    let got = Dsm::create_with_config(config(&fake, "spot").concurrency(1))
        .unwrap()
        .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(got.len(), 24);
    let reqs: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v3/klines")
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].status, 429);
    let waited = reqs[1].at - reqs[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}"
    );
}

#[test]
fn retry_after_beyond_the_configured_maximum_is_a_rate_limit_error() {
    let fake = FakeExchange::start();
    fake.push_faults(
        "/api/v3/klines",
        [Fault::RetryAfter {
            status: 418,
            secs: 120,
        }],
    );
    let err =
        Dsm::create_with_config(config(&fake, "spot").max_retry_after(Duration::from_secs(5)))
            .unwrap()
            .fetch_market_data("BTCUSDT", "1h", JAN1, JAN1 + DAY)
            .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::RATE_LIMITED), "{err}");
    assert!(err.to_string().contains("120"), "{err}");
}

#[test]
fn concurrency_setting_bounds_requests_in_flight() {
    let fake = FakeExchange::start();
    let (start, end) = (JAN1, JAN1 + 6 * 1000 * 60_000); // 6 pages of 1m
    for concurrency in [1usize, 3] {
        fake.clear_requests();
        fake.reset_max_in_flight();
        // Every page is held unanswered: `concurrency` of them waiting at once means the
        // client had that many in flight, however fast or slow the machine is.
        fake.hold_after(0);
        let dsm =
            Dsm::create_with_config(config(&fake, "spot").concurrency(concurrency as u32)).unwrap();
        let fetch = std::thread::spawn(move || dsm.fetch_market_data("BTCUSDT", "1m", start, end));
        let held = fake.wait_held_count(concurrency, Duration::from_secs(30));
        fake.release();
        let got = fetch.join().unwrap().unwrap();
        assert_eq!(held, concurrency, "pages in flight together");
        assert_eq!(got.len(), 6000);
        // Answered pages overlapped no more than the setting allows.
        let most = fake.max_in_flight();
        assert!(most <= concurrency, "{most} > {concurrency}");
    }
}
