//! Trades over REST at the plugin's edge: each page handed on as it arrives (never a day
//! held whole), one empty batch covering each day once walked, rows equal to the archive's.

mod common;

use common::{request, setup, DAY};
use dsm_sdk::{DataKind, SourceKind};
use dsm_tests::fake::{expected_trades, Market};

const MAR_2024: i64 = 1_709_251_200_000;

#[test]
fn rest_pages_stream_in_bounded_batches_and_cover_each_day_once() {
    let s = setup();
    let range = (MAR_2024, MAR_2024 + 2 * DAY);
    for (kind, aggregated) in [(DataKind::AGG_TRADES, true), (DataKind::TRADES, false)] {
        let req = request(kind, "spot", "BTCUSDT", "", range, SourceKind::LIVE);
        let (got, out) = s.fetch(&req);
        let report = got.unwrap();
        assert!(report.missing.is_empty(), "{:?}", report.missing);
        let want = expected_trades(Market::Spot, aggregated, "BTCUSDT", range.0, range.1);
        let rows = out.trade_rows();
        assert_eq!(rows.len(), want.len());
        assert!(rows
            .iter()
            .zip(&want)
            .all(|(g, w)| (g.id, g.time) == (w.id, w.time)));
        assert!(out.trades.iter().all(|b| b.source == SourceKind::LIVE));
        // Batches of one page at most; several of them a day.
        assert!(out.trades.iter().all(|b| b.rows.len() <= 1000));
        assert!(out.trades.iter().filter(|b| !b.rows.is_empty()).count() >= 4);
        let covering: Vec<(i64, i64)> = out
            .trades
            .iter()
            .filter(|b| b.covered_end_ms > b.covered_start_ms)
            .map(|b| (b.covered_start_ms, b.covered_end_ms))
            .collect();
        assert_eq!(
            covering,
            [(range.0, range.0 + DAY), (range.0 + DAY, range.1)]
        );
        assert!(out
            .trades
            .iter()
            .filter(|b| b.covered_end_ms > b.covered_start_ms)
            .all(|b| b.rows.is_empty()));
    }
}
