//! Issue 13: `dsm sync` of 20 symbols x 2 intervals x 90 days from REST under ONE rate
//! budget: the fake's weight limit is lowered (and its window shortened to a second, as is
//! dsm's, so the test waits seconds, not minutes) so that the run needs several windows;
//! the fake never refuses a request and never counts more than its limit in a window.
//! Then a second run asks only for the new days, and --locked finds the cache as locked.
//!
//! Why this bound holds by construction, not by timing: dsm reserves weight while holding
//! one of its request slots, so a window's count at the server is at most dsm's budget
//! (90% of the limit) plus what was in flight when the window began (4 slots x weight 2).

use crate::common;
use crate::sync_env;

use common::{lower_weight_budget, ms, stderr, stdout};
use dsm_tests::fake::FakeExchange;
use sync_env::*;

const LIMIT: u32 = 100;

#[test]
fn twenty_symbols_two_intervals_ninety_days_stay_within_one_weight_budget() {
    let fake = FakeExchange::start();
    let env = lower_weight_budget(&fake, "/api/", LIMIT);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = dir.path().join("universe.lock");
    let symbols = coins(20);
    let args = |end: &str| {
        let mut a = vec![
            "-p",
            "binance",
            "-m",
            "spot",
            "-s",
            &symbols,
            "-i",
            "1h,4h",
            "--start",
            "2024-01-02",
            "--source",
            "rest",
            "--lock",
        ];
        a.push(lock.to_str().unwrap());
        a.extend(["--end", end]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let budget = |cmd: &mut std::process::Command| {
        cmd.envs(env.clone());
    };

    let mut first = sync(&fake.url(), &cache, &[]);
    first.args(args("2024-04-01"));
    budget(&mut first);
    let out = run(&mut first);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let table = stdout(&out);
    assert_eq!(
        table.lines().count(),
        41,
        "a header and 40 series:\n{table}"
    );
    assert!(
        table.contains("binance/spot/klines/COIN20USDT/4h"),
        "{table}"
    );
    let klines = fake.requests_on("/api/v3/klines");
    let weight: u32 = klines.len() as u32 * 2;
    assert!(
        weight > 2 * LIMIT,
        "the run needs several windows ({weight} weight)"
    );
    assert_eq!(fake.weight_refusals(), 0, "no request was refused (429)");
    assert!(klines.iter().all(|r| r.status == 200));
    let max = fake.max_used_weight("/api/");
    assert!(
        max <= LIMIT,
        "the fake counted {max} in one window, over {LIMIT}"
    );
    assert_eq!(common::cache_files(&cache).len(), 20 * 2 * 90);

    // Two days later: only the new days are asked for, one request per series.
    fake.clear_requests();
    let mut second = sync(&fake.url(), &cache, &[]);
    second.args(args("2024-04-03"));
    budget(&mut second);
    let out = run(&mut second);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let asked = fake.requests_on("/api/v3/klines");
    assert_eq!(
        asked.len(),
        40,
        "one request per series for the two new days"
    );
    for r in &asked {
        let start: i64 = r.param("startTime").unwrap().parse().unwrap();
        assert_eq!(
            start,
            ms("2024-04-01"),
            "asked again for cached days: {}",
            r.query
        );
    }
    assert_eq!(common::cache_files(&cache).len(), 20 * 2 * 92);
    let table = stdout(&out);
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("binance/spot/klines/COIN01USDT/1h "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row[1..6],
        ["2208", "90", "0", "2", "0"],
        "rows, cache, archive, rest, gaps"
    );

    // The cache is what the lockfile says: nothing fetched.
    fake.clear_requests();
    let mut locked = sync(&fake.url(), &cache, &["--locked"]);
    locked.args(args("2024-04-03"));
    let out = run(&mut locked);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("matches the lockfile"),
        "{}",
        stderr(&out)
    );
    assert!(
        fake.requests().is_empty(),
        "a locked check of a full cache asks nothing"
    );
}

/// Klines and mark-price klines of one market come from two provider instances (the
/// manager's and the data module's), both drawing on the one budget of the USD-M host:
/// together they stay within the fake's limit. Each request weighs 5 (limit 1000); with one
/// request slot per instance at most 2 x 5 are in flight at a window's start, within the
/// 10% headroom of a limit of 100, while the run needs several windows. (That the two
/// instances hold the same gate is proven by the plugin's `shared_budget.rs`: here, with
/// one slot each, the used-weight header alone would also keep two gates in step.)
#[test]
fn klines_and_mark_candles_of_one_market_share_the_budget() {
    let fake = FakeExchange::start();
    let env = lower_weight_budget(&fake, "/fapi/", LIMIT);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = dir.path().join("m.lock");
    let mut cmd = sync(
        &fake.url(),
        &cache,
        &[
            "-p",
            "binance",
            "-m",
            "um",
            "-s",
            "BTCUSDT,ETHUSDT",
            "--kind",
            "klines,mark",
            "-i",
            "1h",
            "--start",
            "2024-01-01",
            "--end",
            "2025-01-01",
            "--source",
            "rest",
            "--concurrency",
            "1",
            "--lock",
            lock.to_str().unwrap(),
        ],
    );
    cmd.envs(env);
    let out = run(&mut cmd);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let klines = fake.requests_on("/fapi/v1/klines").len() as u32;
    let mark = fake.requests_on("/fapi/v1/markPriceKlines").len() as u32;
    assert!(klines > 0 && mark > 0);
    assert!(
        (klines + mark) * 5 > 2 * LIMIT,
        "the run needs several windows"
    );
    assert_eq!(fake.weight_refusals(), 0, "no request was refused (429)");
    let max = fake.max_used_weight("/fapi/");
    assert!(
        max <= LIMIT,
        "the fake counted {max} in one window, over {LIMIT}"
    );
}
