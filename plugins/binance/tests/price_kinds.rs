//! Mark price, index price and premium index klines against the fake exchange, for USD-M
//! and COIN-M, over REST (index by pair, COIN-M's 200-day windows) and from Vision (daily
//! and monthly files, index directories named by pair).

mod common;

use common::{request, setup, DAY};
use dsm_sdk::{DataKind, SourceKind};
use dsm_tests::fake::{expected_price_klines, Market, PriceKind};

const JAN_2024: i64 = 1_704_067_200_000;
const FEB_2024: i64 = JAN_2024 + 31 * DAY;
const MAR_2024: i64 = FEB_2024 + 29 * DAY;

/// (dsm kind, fake kind, path word).
const KINDS: [(DataKind, PriceKind, &str); 3] = [
    (DataKind::MARK, PriceKind::Mark, "markPriceKlines"),
    (DataKind::INDEX, PriceKind::Index, "indexPriceKlines"),
    (DataKind::PREMIUM, PriceKind::Premium, "premiumIndexKlines"),
];

/// (market, symbol, the name index klines use, REST prefix).
const MARKETS: [(&str, Market, &str, &str, &str); 2] = [
    ("um", Market::Um, "BTCUSDT", "BTCUSDT", "/fapi/v1/"),
    ("cm", Market::Cm, "BTCUSD_PERP", "BTCUSD", "/dapi/v1/"),
];

#[test]
fn rest_serves_every_kind_on_both_futures_markets() {
    let s = setup();
    let range = (JAN_2024, JAN_2024 + 3 * DAY);
    for (market, fm, symbol, pair, prefix) in MARKETS {
        for (kind, fk, word) in KINDS {
            s.fake.clear_requests();
            let req = request(kind, market, symbol, "15m", range, SourceKind::LIVE);
            let (got, out) = s.fetch(&req);
            let report = got.unwrap();
            let name = if fk == PriceKind::Index { pair } else { symbol };
            let want = expected_price_klines(fk, fm, name, "15m", range.0, range.1);
            assert_eq!(want.len(), 288);
            assert_eq!(out.klines(), want, "{market} {kind}");
            assert_eq!(report.klines, 288);
            // Only OHLC carry data; column 8 is the count of basic data.
            let per_minute = if fk == PriceKind::Premium { 12 } else { 60 };
            assert!(out
                .klines()
                .iter()
                .all(|k| k.volume == 0.0 && k.trades == 15 * per_minute));
            let hits = s.fake.requests();
            assert!(!hits.is_empty());
            for h in &hits {
                assert_eq!(h.path, format!("{prefix}{word}"));
                let param = if fk == PriceKind::Index {
                    "pair"
                } else {
                    "symbol"
                };
                assert_eq!(h.param(param).as_deref(), Some(name), "{}", h.query);
                assert_eq!(h.status, 200);
            }
            let cover: Vec<(i64, i64)> = out
                .batches
                .iter()
                .map(|b| (b.covered_start_ms, b.covered_end_ms))
                .collect();
            assert_eq!(cover.first().unwrap().0, range.0);
            assert_eq!(cover.last().unwrap().1, range.1);
            assert!(cover.windows(2).all(|w| w[0].1 == w[1].0));
        }
    }
    // Premium index OHLC are small signed fractions.
    let req = request(
        DataKind::PREMIUM,
        "um",
        "BTCUSDT",
        "1h",
        range,
        SourceKind::LIVE,
    );
    let k = s.fetch(&req).1.klines();
    assert!(k.iter().any(|k| k.open < 0.0) && k.iter().all(|k| k.open.abs() < 0.01));
}

#[test]
fn coin_m_mark_and_index_windows_stay_within_200_days() {
    let s = setup();
    let range = (JAN_2024 - 500 * DAY, JAN_2024);
    for (kind, fk, _) in &KINDS[..2] {
        s.fake.clear_requests();
        let req = request(*kind, "cm", "ETHUSD_PERP", "1d", range, SourceKind::LIVE);
        let (got, out) = s.fetch(&req);
        got.unwrap();
        let name = if *fk == PriceKind::Index {
            "ETHUSD"
        } else {
            "ETHUSD_PERP"
        };
        assert_eq!(
            out.klines(),
            expected_price_klines(*fk, Market::Cm, name, "1d", range.0, range.1)
        );
        let hits = s.fake.requests();
        assert_eq!(hits.len(), 3);
        for h in hits {
            let span = h.param("endTime").unwrap().parse::<i64>().unwrap()
                - h.param("startTime").unwrap().parse::<i64>().unwrap();
            assert!(span <= 200 * DAY && h.status == 200, "{}", h.query);
        }
    }
}

#[test]
fn archive_serves_every_kind_from_monthly_and_daily_files() {
    let s = setup();
    // February whole (a monthly file), then two days of March (daily files).
    let range = (FEB_2024, MAR_2024 + 2 * DAY);
    for (market, fm, symbol, pair, _) in MARKETS {
        for (kind, fk, word) in KINDS {
            s.fake.clear_requests();
            let req = request(kind, market, symbol, "1h", range, SourceKind::ARCHIVE);
            let (got, out) = s.fetch(&req);
            let report = got.unwrap();
            assert!(report.missing.is_empty(), "{:?}", report.missing);
            let name = if fk == PriceKind::Index { pair } else { symbol };
            let want = expected_price_klines(fk, fm, name, "1h", range.0, range.1);
            assert_eq!(want.len(), 31 * 24);
            assert_eq!(out.klines(), want, "{market} {kind}");
            assert!(out.batches.iter().all(|b| b.source == SourceKind::ARCHIVE));
            let mut paths: Vec<String> = s.fake.requests().into_iter().map(|r| r.path).collect();
            paths.sort();
            let dir = format!("/data/futures/{market}");
            assert_eq!(
                paths,
                [
                    format!("{dir}/daily/{word}/{name}/1h/{name}-1h-2024-03-01.zip"),
                    format!("{dir}/daily/{word}/{name}/1h/{name}-1h-2024-03-01.zip.CHECKSUM"),
                    format!("{dir}/daily/{word}/{name}/1h/{name}-1h-2024-03-02.zip"),
                    format!("{dir}/daily/{word}/{name}/1h/{name}-1h-2024-03-02.zip.CHECKSUM"),
                    format!("{dir}/monthly/{word}/{name}/1h/{name}-1h-2024-02.zip"),
                    format!("{dir}/monthly/{word}/{name}/1h/{name}-1h-2024-02.zip.CHECKSUM"),
                ]
            );
        }
    }
}

#[test]
fn archive_gaps_of_a_kind_are_reported() {
    let s = setup();
    s.fake.withhold_vision_file("BTCUSDT-1h-2024-03-01.zip");
    let range = (MAR_2024, MAR_2024 + 2 * DAY);
    let req = request(
        DataKind::MARK,
        "um",
        "BTCUSDT",
        "1h",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    assert_eq!(report.missing.len(), 1);
    assert_eq!(
        (report.missing[0].start_ms, report.missing[0].end_ms),
        (MAR_2024, MAR_2024 + DAY)
    );
    assert!(report.missing[0]
        .reason
        .contains("BTCUSDT-1h-2024-03-01.zip 404"));
    let want = expected_price_klines(
        PriceKind::Mark,
        Market::Um,
        "BTCUSDT",
        "1h",
        MAR_2024 + DAY,
        range.1,
    );
    assert_eq!(out.klines(), want);
}
