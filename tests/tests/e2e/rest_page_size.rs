//! Issue 15: the Binance plugin picks its klines page size by which limit binds. A call whose
//! weight at the largest page (1500 candles, weight 10) fits in the window's budget asks for
//! 1500-candle pages (fewest round trips); one that does not asks for 499-candle pages
//! (weight 2: 250 candles a weight against 150), which the fake counts as Binance does.
//! Deterministic: each case is one plugin call (inside one month) made by a fresh process,
//! so what the gate has seen before it is the same every run.

use crate::common;

use common::*;
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

/// The fake's weight limit per 1 s window; dsm's budget is 90% of it, 90.
const LIMIT: u32 = 100;

/// `dsm fetch` of BTCUSDT USD-M 1m over REST under `budget`: the open times.
fn fetch_open_times(
    fake: &FakeExchange,
    budget: &[(&str, String)],
    range: (&str, &str),
) -> Vec<i64> {
    let plugins = target_dir();
    let args = [
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "fetch",
        "--no-cache",
        "-p",
        "binance",
        "-m",
        "um",
        "-s",
        "BTCUSDT",
        "-i",
        "1m",
        "--start",
        range.0,
        "--end",
        range.1,
        "--source",
        "rest",
    ];
    let env: Vec<(&str, &str)> = budget.iter().map(|(k, v)| (*k, v.as_str())).collect();
    first_csv_column(&fake.url(), &args, &env)
}

#[test]
fn pages_are_the_largest_while_the_budget_has_room_and_the_cheapest_once_it_binds() {
    let fake = FakeExchange::start();
    let budget = lower_weight_budget(&fake, "/fapi/", LIMIT);
    // Two days: 2 pages of 1500 (weight 20) fit in a window of 90. Twelve days: 12 pages of
    // 1500 would weigh 120, so 35 pages of 499 (weight 70).
    for (range, page, pages) in [
        (("2024-05-01", "2024-05-03"), "1500", 2),
        (("2024-05-01", "2024-05-13"), "499", 35),
    ] {
        fake.clear_requests();
        let got = fetch_open_times(&fake, &budget, range);
        let want: Vec<i64> = expected_klines(Market::Um, "BTCUSDT", "1m", ms(range.0), ms(range.1))
            .iter()
            .map(|k| k.open_time)
            .collect();
        assert!(got == want, "{range:?}: the fake's candles");
        let klines = fake.requests_on("/fapi/v1/klines");
        assert_eq!(klines.len(), pages, "{range:?}");
        assert!(
            klines
                .iter()
                .all(|r| r.param("limit").as_deref() == Some(page) && r.status == 200),
            "{range:?}: every page asked for {page} candles"
        );
    }
    assert_eq!(fake.weight_refusals(), 0, "no request was refused (429)");
    let max = fake.max_used_weight("/fapi/");
    assert!(max <= LIMIT, "the fake counted {max} in one window");
}
