//! Trades and aggregated trades of spot, USD-M and COIN-M from the fake's Vision daily
//! files: rows equal to the fake's, streamed in chunks, each day covered once read; the
//! quirks (microseconds, headers, invalidated rows, COIN-M base_qty) and missing days.

mod common;

use common::{request, setup, DAY};
use dsm_sdk::{DataKind, ErrorKind, LogLevel, SourceKind, Trade};
use dsm_tests::fake::{expected_trades, Market, SPOT_MICROS_FROM, TRADES_HEADER_FROM};

const JAN_2024: i64 = 1_704_067_200_000;

const MARKETS: [(&str, Market, &str); 3] = [
    ("spot", Market::Spot, "BTCUSDT"),
    ("um", Market::Um, "BTCUSDT"),
    ("cm", Market::Cm, "BTCUSD_PERP"),
];

/// Equal field by field, NaN quote quantities equal to each other.
fn assert_same(got: &[Trade], want: &[Trade]) {
    assert_eq!(got.len(), want.len(), "row counts differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same = (g.id, g.time, g.first_id, g.last_id) == (w.id, w.time, w.first_id, w.last_id)
            && (g.price, g.qty) == (w.price, w.qty)
            && (g.buyer_maker, g.best_match) == (w.buyer_maker, w.best_match)
            && g.quote_qty.to_bits() == w.quote_qty.to_bits();
        assert!(same, "row {i}: got {g:?}, want {w:?}");
    }
}

#[test]
fn every_market_serves_both_kinds_from_daily_files() {
    let s = setup();
    let range = (JAN_2024, JAN_2024 + 2 * DAY);
    for (market, fm, symbol) in MARKETS {
        for (kind, word, aggregated) in [
            (DataKind::AGG_TRADES, "aggTrades", true),
            (DataKind::TRADES, "trades", false),
        ] {
            s.fake.clear_requests();
            let req = request(kind, market, symbol, "", range, SourceKind::ARCHIVE);
            let (got, out) = s.fetch(&req);
            let report = got.unwrap();
            assert!(report.missing.is_empty(), "{:?}", report.missing);
            let want = expected_trades(fm, aggregated, symbol, range.0, range.1);
            assert!(want.len() > 1000, "{market} {kind}");
            assert_same(&out.trade_rows(), &want);
            assert_eq!(report.klines, want.len() as u64);
            // Rows go in batches covering nothing; then one empty batch covers each day.
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
            assert!(out.trades.iter().all(|b| b.source == SourceKind::ARCHIVE));
            let mut paths: Vec<String> = s.fake.requests().into_iter().map(|r| r.path).collect();
            paths.sort();
            let dir = match market {
                "spot" => "spot".to_string(),
                m => format!("futures/{m}"),
            };
            let base = format!("/data/{dir}/daily/{word}/{symbol}/{symbol}-{word}");
            assert_eq!(
                paths,
                [
                    format!("{base}-2024-01-01.zip"),
                    format!("{base}-2024-01-01.zip.CHECKSUM"),
                    format!("{base}-2024-01-02.zip"),
                    format!("{base}-2024-01-02.zip.CHECKSUM"),
                ]
            );
            let flags_ok = out.trade_rows().iter().all(|t| {
                (t.best_match == 2) == (market != "spot")
                    && (t.first_id == -1) != aggregated
                    && t.quote_qty.is_nan() == (market == "cm" || aggregated)
            });
            assert!(flags_ok, "{market} {kind}");
        }
    }
}

#[test]
fn spot_microseconds_become_milliseconds_and_invalidated_rows_are_skipped() {
    let s = setup();
    let range = (SPOT_MICROS_FROM, SPOT_MICROS_FROM + DAY);
    let req = request(
        DataKind::AGG_TRADES,
        "spot",
        "BTCUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    got.unwrap();
    let rows = out.trade_rows();
    assert_same(
        &rows,
        &expected_trades(Market::Spot, true, "BTCUSDT", range.0, range.1),
    );
    assert!(rows.iter().all(|t| t.time >= range.0 && t.time < range.1));
    // Several trades in one millisecond, ordered by id.
    assert!(rows.windows(2).any(|w| w[0].time == w[1].time));
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    // The invalidated rows leave holes in the ids and a log line with their count.
    let holes = rows.windows(2).filter(|w| w[1].id != w[0].id + 1).count();
    assert!(holes > 0);
    let info = s.host.lines(LogLevel::INFO);
    let line = info
        .iter()
        .find(|l| l.contains("invalidated"))
        .expect("a log line");
    assert!(
        line.contains(&format!("skipped {holes} invalidated rows")),
        "{line}"
    );
}

#[test]
fn futures_files_with_and_without_header() {
    let s = setup();
    // 2022-08-10 has no header, 2022-08-11 has one.
    let range = (TRADES_HEADER_FROM - DAY, TRADES_HEADER_FROM + DAY);
    for (market, fm, symbol) in &MARKETS[1..] {
        let req = request(
            DataKind::TRADES,
            market,
            symbol,
            "",
            range,
            SourceKind::ARCHIVE,
        );
        let (got, out) = s.fetch(&req);
        assert!(got.unwrap().missing.is_empty());
        assert_same(
            &out.trade_rows(),
            &expected_trades(*fm, false, symbol, range.0, range.1),
        );
    }
}

#[test]
fn part_of_a_day_and_missing_days_are_reported() {
    let s = setup();
    // Half a day.
    let range = (JAN_2024 + DAY / 2, JAN_2024 + DAY);
    let req = request(
        DataKind::TRADES,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    got.unwrap();
    let want = expected_trades(Market::Um, false, "ETHUSDT", range.0, range.1);
    assert!(!want.is_empty());
    assert_same(&out.trade_rows(), &want);
    // A withheld day is missing with the reason, the next day still served.
    s.fake.withhold_vision_file("ETHUSDT-trades-2024-01-01.zip");
    let range = (JAN_2024, JAN_2024 + 2 * DAY);
    let req = request(
        DataKind::TRADES,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    assert_eq!(report.missing.len(), 1);
    let m = &report.missing[0];
    assert_eq!((m.start_ms, m.end_ms), (JAN_2024, JAN_2024 + DAY));
    assert!(
        m.reason.contains("ETHUSDT-trades-2024-01-01.zip 404"),
        "{}",
        m.reason
    );
    let want = expected_trades(Market::Um, false, "ETHUSDT", JAN_2024 + DAY, range.1);
    assert_same(&out.trade_rows(), &want);
    // Today is not published yet.
    let now = dsm_sdk::time::now_ms();
    let today = now - now % DAY;
    let req = request(
        DataKind::AGG_TRADES,
        "cm",
        "BTCUSD_PERP",
        "",
        (today, now),
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    assert!(report.missing[0]
        .reason
        .contains("published after its day ends"));
    assert!(out.trade_rows().is_empty());
}

#[test]
fn a_corrupt_checksum_makes_the_day_unusable() {
    let s = setup();
    s.fake.corrupt_checksum("BTCUSDT-aggTrades-2024-01-01.zip");
    let range = (JAN_2024, JAN_2024 + DAY);
    let req = request(
        DataKind::AGG_TRADES,
        "spot",
        "BTCUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    assert_eq!(report.missing.len(), 1, "{:?}", report.missing);
    assert!(out.trade_rows().is_empty());
}

#[test]
fn rest_is_refused_with_where_to_go() {
    let s = setup();
    // Futures raw trades: historicalTrades there needs an API key (spot serves REST).
    let req = request(
        DataKind::TRADES,
        "um",
        "BTCUSDT",
        "",
        (JAN_2024, JAN_2024 + DAY),
        SourceKind::LIVE,
    );
    let e = s.fetch(&req).0.unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(e.message.contains("archive only"), "{e}");
    assert!(s.fake.requests().is_empty());
}
