//! A busy day: with `DSM_FAKE_TRADES_PER_DAY` set (its own test binary, so no other test
//! sees it) the day's rows reach the collector in chunks of 100,000 while the file is
//! parsed, and equal the fake's.

mod common;

use common::{request, setup, DAY};
use dsm_binance::trades::rows::CHUNK;
use dsm_sdk::{DataKind, SourceKind};
use dsm_tests::fake::{expected_trades, trades_per_day, Market};

const JAN_2024: i64 = 1_704_067_200_000;

#[test]
fn a_busy_day_streams_in_chunks() {
    // The only test of this binary, set before any thread reads the environment.
    std::env::set_var("DSM_FAKE_TRADES_PER_DAY", "210000");
    assert_eq!(trades_per_day(), 210_000);
    let s = setup();
    let range = (JAN_2024, JAN_2024 + DAY);
    let req = request(
        DataKind::TRADES,
        "um",
        "BTCUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    assert!(got.unwrap().missing.is_empty());
    let sizes: Vec<usize> = out.trades.iter().map(|b| b.rows.len()).collect();
    assert_eq!(sizes, [CHUNK, CHUNK, 10_000, 0]);
    let rows = out.trade_rows();
    let want = expected_trades(Market::Um, false, "BTCUSDT", range.0, range.1);
    assert_eq!(rows.len(), 210_000);
    assert!(rows == want, "rows differ from the fake's");
}
