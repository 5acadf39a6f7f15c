//! OKX and Bybit data kinds end to end: the real plugin files, the fake exchange, the host's
//! one pipeline. Funding (OKX's three-month depth reported as a gap, Bybit across an
//! interval switch), mark / index / premium candles, and the kinds a market lacks.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::{DataKind, Dsm, DsmConfig, FundingRate, SourceMode};
use dsm_tests::fake::{
    expected_bybit_candles, expected_bybit_funding, expected_okx_candles, expected_okx_funding,
    FakeExchange,
};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn manager(fake: &FakeExchange, provider: &str, market: &str, cache: &Path) -> Dsm {
    Dsm::create_with_config(
        config_on(DsmConfig::new(provider, market), &fake.url())
            .plugin_dir(target_dir())
            .cache_dir(cache)
            .source(SourceMode::Auto),
    )
    .unwrap()
}

fn same_rates(got: &[FundingRate], want: &[FundingRate]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let marks = g.mark_price.to_bits() == w.mark_price.to_bits()
            || (g.mark_price.is_nan() && w.mark_price.is_nan());
        assert!(
            g.funding_time == w.funding_time && g.rate == w.rate && marks,
            "{g:?} != {w:?}"
        );
    }
}

/// A range of whole hours ending a day ago: no settlement can land on its edge mid-test.
fn recent(days: i64) -> (i64, i64) {
    let end = (dsm_core::request::now_ms() - DAY).div_euclid(HOUR) * HOUR;
    (end - days * DAY, end)
}

#[test]
fn okx_swap_funding_pages_back_and_older_than_three_months_is_a_gap() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = manager(&fake, "okx", "swap", cache.path());
    let (start, end) = recent(20);
    let got = dsm.fetch_funding("BTC-USDT-SWAP", start, end).unwrap();
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
    same_rates(
        &got.rows,
        &expected_okx_funding("BTC-USDT-SWAP", start, end),
    );

    // Four months back: OKX keeps three. The old part is a gap saying so, not an error.
    let (start, _) = recent(120);
    let old = dsm
        .fetch_funding("BTC-USDT-SWAP", start, start + 10 * DAY)
        .unwrap();
    assert!(old.rows.is_empty());
    let gap = old.summary.gaps.first().expect("a gap");
    assert_eq!(gap.start_ms, start);
    assert!(
        gap.reason.to_lowercase().contains("month"),
        "{}",
        gap.reason
    );
}

#[test]
fn okx_mark_and_index_candles_and_no_premium() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = manager(&fake, "okx", "swap", cache.path());
    let (start, end) = (ms("2024-01-01"), ms("2024-01-03"));
    for (kind, name) in [(DataKind::MARK, "mark"), (DataKind::INDEX, "index")] {
        let got = dsm
            .fetch_candles(kind, "BTC-USDT-SWAP", "1h", start, end)
            .unwrap();
        let want = expected_okx_candles(name, "BTC-USDT-SWAP", "1h", start, end);
        assert_eq!(want.len(), 48);
        assert_eq!(got.rows, want, "{kind}");
    }
    let err = dsm
        .fetch_candles(DataKind::PREMIUM, "BTC-USDT-SWAP", "1h", start, end)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("premium is not available on okx market swap"),
        "{err}"
    );
}

#[test]
fn bybit_funding_across_an_interval_switch_and_premium_on_linear_only() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let linear = manager(&fake, "bybit", "linear", cache.path());
    // 2024-03-01 switches BTCUSDT from 8 h to 4 h.
    let (start, end) = (ms("2024-02-20"), ms("2024-03-10"));
    let got = linear.fetch_funding("BTCUSDT", start, end).unwrap();
    let want = expected_bybit_funding("linear", "BTCUSDT", start, end);
    same_rates(&got.rows, &want);
    let gaps: Vec<i64> = got
        .rows
        .windows(2)
        .map(|w| (w[1].funding_time - w[0].funding_time) / HOUR)
        .collect();
    assert!(gaps.contains(&8) && gaps.contains(&4), "{gaps:?}");
    // Neither month was asked for whole: nothing is cached. A whole month is.
    assert!(cache_files(cache.path()).is_empty());
    let feb = linear
        .fetch_funding("BTCUSDT", ms("2024-02-01"), ms("2024-03-01"))
        .unwrap();
    assert_eq!(feb.summary.cached_periods, 1);
    assert_eq!(
        cache_files(cache.path()),
        ["bybit/linear/funding/BTCUSDT/2024-02.arrow"]
    );

    let (start, end) = (ms("2024-01-01"), ms("2024-01-02"));
    let premium = linear
        .fetch_candles(DataKind::PREMIUM, "BTCUSDT", "1h", start, end)
        .unwrap();
    assert_eq!(
        premium.rows,
        expected_bybit_candles("premium", "linear", "BTCUSDT", "1h", start, end)
    );
    let inverse = manager(&fake, "bybit", "inverse", cache.path());
    let mark = inverse
        .fetch_candles(DataKind::MARK, "BTCUSD", "1h", start, end)
        .unwrap();
    assert_eq!(
        mark.rows,
        expected_bybit_candles("mark", "inverse", "BTCUSD", "1h", start, end)
    );
    let err = inverse
        .fetch_candles(DataKind::PREMIUM, "BTCUSD", "1h", start, end)
        .unwrap_err();
    assert!(err.to_string().contains("linear"), "{err}");
}

#[test]
fn the_cli_writes_okx_funding_and_says_spot_has_none() {
    let fake = FakeExchange::start();
    let (start, end) = recent(5);
    let (s, e) = (start.to_string(), end.to_string());
    let args = |market: &'static str, symbol: &'static str| {
        vec![
            "--plugin-dir".to_string(),
            target_dir().to_str().unwrap().to_string(),
            "fetch".into(),
            "-p".into(),
            "okx".into(),
            "-m".into(),
            market.into(),
            "-s".into(),
            symbol.into(),
            "--kind".into(),
            "funding".into(),
            "--start".into(),
            s.clone(),
            "--end".into(),
            e.clone(),
        ]
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run_dsm_on(&fake.url(), &a, &[])
    };
    let out = run(args("swap", "BTC-USDT-SWAP"));
    assert!(out.status.success(), "{}", stderr(&out));
    let want = expected_okx_funding("BTC-USDT-SWAP", start, end);
    assert_eq!(stdout(&out).lines().count(), 1 + want.len());
    let out = run(args("spot", "BTC-USDT"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("market(s) swap"), "{}", stderr(&out));
}
