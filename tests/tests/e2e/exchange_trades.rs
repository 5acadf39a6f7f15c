//! OKX and Bybit trades end to end: the real plugin files against the fake's
//! history-trades and recent-trade, through the host's one trades pipeline and the CLI.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::kinds::{Kind, Trades};
use dsm_core::{DataKind, Dsm, DsmConfig, FetchSummary, SourceMode};
use dsm_sdk::Trade;
use dsm_tests::fake::{expected_okx_trades, FakeExchange, Fault};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

fn manager(fake: &FakeExchange, provider: &str, market: &str, cache: &Path) -> Dsm {
    let config = config_on(DsmConfig::new(provider, market), &fake.url())
        .plugin_dir(target_dir())
        .cache_dir(cache)
        .source(SourceMode::Auto)
        .retries(2)
        .backoff(
            std::time::Duration::from_millis(5),
            std::time::Duration::from_millis(20),
        );
    Dsm::create_with_config(config).unwrap()
}

fn fetch(dsm: &Dsm, symbol: &str, range: (i64, i64)) -> Result<(Vec<Trade>, FetchSummary), String> {
    let kind = Trades::new(DataKind::TRADES);
    let req = dsm
        .kind_request(DataKind::TRADES, symbol, "", range.0, range.1)
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let summary = dsm
        .fetch_records(
            &req,
            &mut |p| {
                rows.extend(kind.rows_of(&p.batch).unwrap());
                Ok(())
            },
            &mut |_, _| {},
        )
        .map_err(|e| e.to_string())?;
    Ok((rows, summary))
}

fn same_trades(got: &[Trade], want: &[Trade]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let same = (g.id, g.time, g.buyer_maker, g.best_match, g.first_id)
            == (w.id, w.time, w.buyer_maker, w.best_match, w.first_id)
            && (g.price, g.qty) == (w.price, w.qty)
            && g.quote_qty.is_nan();
        assert!(same, "{g:?} != {w:?}");
    }
}

/// Whole hours ending `days_ago` days back.
fn hours_before(days_ago: i64, hours: i64) -> (i64, i64) {
    let end = (dsm_core::request::now_ms() - days_ago * DAY).div_euclid(HOUR) * HOUR;
    (end - hours * HOUR, end)
}

#[test]
fn okx_swap_trades_page_back_by_id_and_come_ascending_and_cached() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = manager(&fake, "okx", "swap", cache.path());
    let day = {
        let (_, end) = hours_before(3, 0);
        let d = end - end.rem_euclid(DAY);
        (d, d + DAY)
    };
    let (rows, summary) = fetch(&dsm, "BTC-USDT-SWAP", day).unwrap();
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    let want = expected_okx_trades("BTC-USDT-SWAP", day.0, day.1);
    assert!(want.len() > 1000);
    same_trades(&rows, &want);
    // Hour windows by time, then tradeId cursors; never a page over 100.
    let reqs = fake.requests_on("/api/v5/market/history-trades");
    assert!(reqs.iter().all(|r| r.query.contains("limit=100")));
    assert_eq!(
        reqs.iter().filter(|r| r.query.contains("type=2")).count(),
        24
    );
    assert!(reqs.iter().any(|r| r.query.contains("type=1&after=")));
    assert_eq!(assert_cache_valid(cache.path()), 1);
    fake.clear_requests();
    let (again, _) = fetch(&dsm, "BTC-USDT-SWAP", day).unwrap();
    same_trades(&again, &want);
    assert!(fake.requests().is_empty());
}

#[test]
fn okx_trades_older_than_three_months_are_a_gap_with_the_reason() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = manager(&fake, "okx", "swap", cache.path());
    let now = dsm_core::request::now_ms();
    let range = hours_before(87, 30);
    let (rows, summary) = fetch(&dsm, "BTC-USD-SWAP", (range.0 - 3 * DAY, range.1)).unwrap();
    let gap = summary.gaps.first().expect("a gap");
    assert_eq!(gap.start_ms, range.0 - 3 * DAY);
    assert!(gap.reason.contains("three months"), "{}", gap.reason);
    assert!(gap.end_ms >= now - 88 * DAY && gap.end_ms < range.1);
    let want = expected_okx_trades("BTC-USD-SWAP", gap.end_ms, range.1);
    assert!(!want.is_empty());
    same_trades(&rows, &want);
}

#[test]
fn okx_hostile_pages_fail_clearly() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = manager(&fake, "okx", "swap", cache.path());
    let range = hours_before(2, 1);
    let page = |ids: Vec<i64>| {
        let rows: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    "{{\"instId\":\"BTC-USDT-SWAP\",\"side\":\"buy\",\"sz\":\"1\",\"px\":\"100.5\",\
                     \"tradeId\":\"{id}\",\"ts\":\"{}\"}}",
                    range.1 - 1000
                )
            })
            .collect();
        format!(
            "{{\"code\":\"0\",\"msg\":\"\",\"data\":[{}]}}",
            rows.join(",")
        )
    };
    // Endless paging: the same full page again for the id cursor.
    let same = page((0..100).rev().map(|i| 9_000 + i).collect());
    let path = "/api/v5/market/history-trades";
    fake.push_faults(path, [Fault::Body(same.clone()), Fault::Body(same)]);
    let e = fetch(&dsm, "BTC-USDT-SWAP", range).unwrap_err();
    assert!(e.contains("refusing to loop"), "{e}");
    // Ids rising inside a newest-first page.
    fake.push_faults(
        path,
        [Fault::Body(page((0..100).map(|i| 9_000 + i).collect()))],
    );
    let e = fetch(&dsm, "BTC-USDT-SWAP", range).unwrap_err();
    assert!(e.contains("does not come before"), "{e}");
    assert!(cache_files(cache.path()).is_empty());
}

#[test]
fn okx_trades_through_the_cli_as_jsonl() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let (start, end) = hours_before(2, 3);
    let (s, e) = (start.to_string(), end.to_string());
    let plugins = target_dir();
    let args = [
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "fetch",
        "-p",
        "okx",
        "-m",
        "swap",
        "-s",
        "BTC-USDT-SWAP",
        "--kind",
        "trades",
        "--start",
        &s,
        "--end",
        &e,
        "-f",
        "jsonl",
    ];
    let out = run_dsm_on(
        &fake.url(),
        &args,
        &[("DSM_CACHE_DIR", tmp.path().to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let want = expected_okx_trades("BTC-USDT-SWAP", start, end);
    let got: Vec<(i64, bool)> = stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_i64().unwrap(),
                v["is_buyer_maker"].as_bool().unwrap(),
            )
        })
        .collect();
    let w: Vec<(i64, bool)> = want.iter().map(|t| (t.id, t.buyer_maker == 1)).collect();
    assert_eq!(got, w);
}

#[test]
fn bybit_trades_are_refused_with_a_clear_usage_error() {
    // Bybit's recent-trade holds the latest 1000 trades only, with no id that ascends
    // uniquely (derivatives' execId is a UUID, seq is shared by one match's fills): dsm
    // offers no Bybit trades rather than unverifiable ones (README "Data kinds").
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let plugins = target_dir();
    for market in ["linear", "inverse"] {
        let args = [
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "fetch",
            "-p",
            "bybit",
            "-m",
            market,
            "-s",
            "BTCUSDT",
            "--kind",
            "trades",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
        ];
        let out = run_dsm_on(
            &fake.url(),
            &args,
            &[("DSM_CACHE_DIR", tmp.path().to_str().unwrap())],
        );
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains("trades is not available on bybit"), "{err}");
    }
    assert!(fake.requests().is_empty());
}
