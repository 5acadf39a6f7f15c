//! Metrics of USD-M and COIN-M from the fake's Vision daily files: rows equal to the
//! fake's, a repeated time's first row kept and logged, a missing day reported, spot
//! refused naming the futures markets.

mod common;

use common::{request, setup, DAY};
use dsm_sdk::{DataKind, ErrorKind, LogLevel, Metric, SourceKind};
use dsm_tests::fake::{expected_metrics, metrics_day_missing, metrics_day_repeats, Market};

const JAN_2024: i64 = 1_704_067_200_000;

fn assert_same(got: &[Metric], want: &[Metric]) {
    assert_eq!(got.len(), want.len(), "row counts differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let bits = |m: &Metric| {
            [
                m.open_interest,
                m.open_interest_value,
                m.top_trader_account_ratio,
                m.top_trader_position_ratio,
                m.account_ratio,
                m.taker_buy_sell_ratio,
            ]
            .map(f64::to_bits)
        };
        assert!(
            g.time == w.time && bits(g) == bits(w),
            "row {i}: got {g:?}, want {w:?}"
        );
    }
}

/// The first day from `from` on for which `pick` holds.
fn first_day(from: i64, pick: fn(i64) -> bool) -> i64 {
    (0..20).map(|i| from + i * DAY).find(|d| pick(*d)).unwrap()
}

#[test]
fn both_futures_markets_serve_ten_days_with_a_missing_and_a_repeating_day() {
    let s = setup();
    let range = (JAN_2024, JAN_2024 + 10 * DAY);
    let missing = first_day(JAN_2024, metrics_day_missing);
    let repeats = first_day(JAN_2024, metrics_day_repeats);
    for (market, fm, symbol) in [
        ("um", Market::Um, "BTCUSDT"),
        ("cm", Market::Cm, "BTCUSD_PERP"),
    ] {
        let req = request(
            DataKind::METRICS,
            market,
            symbol,
            "",
            range,
            SourceKind::ARCHIVE,
        );
        let (got, out) = s.fetch(&req);
        let report = got.unwrap();
        let want = expected_metrics(fm, symbol, range.0, range.1);
        assert_eq!(want.len(), 9 * 288);
        assert_same(&out.metric_rows(), &want);
        assert!(out.metric_rows().iter().any(|m| m.account_ratio.is_nan()));
        assert_eq!(report.missing.len(), 1);
        let m = &report.missing[0];
        assert_eq!((m.start_ms, m.end_ms), (missing, missing + DAY));
        assert!(
            m.reason.contains("-metrics-") && m.reason.contains("404"),
            "{}",
            m.reason
        );
        // A batch per day with a file.
        assert_eq!(out.metrics.len(), 9);
        assert!(out
            .metrics
            .iter()
            .all(|b| b.covered_end_ms - b.covered_start_ms == DAY));
    }
    let warn = s.host.lines(LogLevel::WARN);
    let name = dsm_plugin_kit::calendar::Date::of_ms(repeats).ymd();
    assert!(
        warn.iter().any(|l| l.contains(&format!(
            "BTCUSDT-metrics-{name}.zip: 1 repeated create_time"
        ))),
        "{warn:?}"
    );
}

#[test]
fn part_of_a_day_and_spot_refused() {
    let s = setup();
    let range = (JAN_2024 + 3 * 3_600_000 + 1, JAN_2024 + 5 * 3_600_000);
    let req = request(
        DataKind::METRICS,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    got.unwrap();
    let rows = out.metric_rows();
    assert_eq!(rows.len(), 23); // 03:05 .. 04:55
    assert_same(
        &rows,
        &expected_metrics(Market::Um, "ETHUSDT", range.0, range.1),
    );
    let req = request(
        DataKind::METRICS,
        "spot",
        "BTCUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let e = s.fetch(&req).0.unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(e.message.contains("available on Binance um, cm"), "{e}");
    let req = request(
        DataKind::METRICS,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::LIVE,
    );
    assert!(s
        .fetch(&req)
        .0
        .unwrap_err()
        .message
        .contains("archive only"));
}
