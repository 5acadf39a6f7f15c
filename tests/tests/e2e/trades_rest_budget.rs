//! Issue 11: Binance trades over REST under the weight budget. The fake's limit on /api/
//! is lowered (its window shortened to a second, as is dsm's, so the test waits seconds,
//! not minutes) so that fifteen days of spot aggTrades (weight 4 a page) and two days of
//! historicalTrades (weight 25) need many windows; the fake never refuses a request (429)
//! and never counts more than its limit in a window, and the rows are the archive's.
//!
//! The bound holds by construction, not by timing: the plugin reserves a request's weight
//! before sending it, so a window's count at the server is at most its budget (90% of the
//! limit) plus what was in flight when the window began.

use crate::common;

use common::*;
use dsm_tests::fake::{expected_trades, FakeExchange, Market};

const LIMIT: u32 = 40;

/// `dsm fetch` of BTCUSDT spot `kind` over REST as CSV ids, under the lowered budget.
fn fetch_ids(
    fake: &FakeExchange,
    budget: &[(&str, String)],
    cache: &str,
    kind: &str,
    range: (&str, &str),
) -> Vec<i64> {
    let plugins = target_dir();
    let args = [
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "fetch",
        "-p",
        "binance",
        "-m",
        "spot",
        "-s",
        "BTCUSDT",
        "--kind",
        kind,
        "--start",
        range.0,
        "--end",
        range.1,
        "--source",
        "rest",
    ];
    let mut env: Vec<(&str, &str)> = budget.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("DSM_CACHE_DIR", cache));
    first_csv_column(&fake.url(), &args, &env)
}

/// The weight of a request as Binance counts it (raw trades start from an aggTrades window).
fn weight_of(path: &str) -> u32 {
    match path {
        "/api/v3/aggTrades" => 4,
        "/api/v3/historicalTrades" => 25,
        _ => 0,
    }
}

#[test]
fn spot_trades_over_rest_stay_within_the_weight_budget() {
    let fake = FakeExchange::start();
    let budget = lower_weight_budget(&fake, "/api/", LIMIT);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cache = cache.to_str().unwrap();
    for (kind, aggregated, range, endpoint) in [
        (
            "agg-trades",
            true,
            ("2024-05-01", "2024-05-16"),
            "/api/v3/aggTrades",
        ),
        (
            "trades",
            false,
            ("2024-05-01", "2024-05-03"),
            "/api/v3/historicalTrades",
        ),
    ] {
        fake.clear_requests();
        let got = fetch_ids(&fake, &budget, cache, kind, range);
        let want = expected_trades(
            Market::Spot,
            aggregated,
            "BTCUSDT",
            ms(range.0),
            ms(range.1),
        );
        assert!(
            got == want.iter().map(|t| t.id).collect::<Vec<_>>(),
            "{kind}: the archive's rows"
        );
        assert!(
            fake.requests_on(endpoint).len() > 1,
            "{kind}: pages of {endpoint}"
        );
        let used: u32 = fake.requests().iter().map(|r| weight_of(&r.path)).sum();
        assert!(
            used > 2 * LIMIT,
            "{kind}: the run needs several windows ({used} weight)"
        );
        assert!(fake.requests().iter().all(|r| r.status == 200), "{kind}");
        assert!(
            fake.requests()
                .iter()
                .all(|r| !r.path.starts_with("/data/")),
            "{kind}: REST only"
        );
    }
    assert_eq!(fake.weight_refusals(), 0, "no request was refused (429)");
    let max = fake.max_used_weight("/api/");
    assert!(
        max <= LIMIT,
        "the fake counted {max} in one window, over {LIMIT}"
    );
}
