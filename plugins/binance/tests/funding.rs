//! Funding rates against the fake exchange: REST paged forward (USD-M with mark prices,
//! empty in early rows; COIN-M without), the Vision monthly files with their per-row
//! intervals (a month where the interval changes 8 h -> 4 h -> 1 h -> 4 h), missing months
//! with reasons, and kinds a market does not serve.

mod common;

use common::{assert_same_rates, request, setup, DAY, HOUR};
use dsm_sdk::{DataKind, ErrorKind, SourceKind};
use dsm_tests::fake::{expected_funding, Market};

const SEP_2019: i64 = 1_567_296_000_000;
const JAN_2020: i64 = 1_577_836_800_000;
const DEC_2020: i64 = 1_606_780_800_000;
const JAN_2024: i64 = 1_704_067_200_000;
const FEB_2024: i64 = JAN_2024 + 31 * DAY;
const MAR_2024: i64 = FEB_2024 + 29 * DAY;
const APR_2024: i64 = MAR_2024 + 31 * DAY;

#[test]
fn rest_pages_forward_from_the_first_settlement() {
    let s = setup();
    let range = (SEP_2019, DEC_2020);
    let req = request(
        DataKind::FUNDING,
        "um",
        "BTCUSDT",
        "",
        range,
        SourceKind::LIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    let want = expected_funding(Market::Um, "BTCUSDT", SEP_2019, DEC_2020, false);
    assert!(want.len() > 1000, "{}", want.len());
    assert_same_rates(&out.funding_rates(), &want);
    assert_eq!(report.klines, want.len() as u64);
    // Early rows have markPrice "" (NaN), later ones a price; REST states no interval.
    let rows = out.funding_rates();
    assert!(rows[0].mark_price.is_nan() && rows.last().unwrap().mark_price > 0.0);
    assert!(rows.iter().all(|r| r.interval_ms == 0));
    // Two pages: the second starts 1 ms after the first page's last settlement.
    let hits = s.hits("/fapi/v1/fundingRate");
    assert_eq!(hits.len(), 2);
    assert_eq!(report.requests, 2);
    assert_eq!(hits[0].param("startTime"), Some(SEP_2019.to_string()));
    assert_eq!(hits[0].param("endTime"), Some((DEC_2020 - 1).to_string()));
    assert_eq!(hits[0].param("limit").as_deref(), Some("1000"));
    let last_of_first = want[999].funding_time;
    assert_eq!(
        hits[1].param("startTime"),
        Some((last_of_first + 1).to_string())
    );
    // Batches: LIVE, ascending, covering the range exactly and holding their rows.
    let cover: Vec<(i64, i64)> = out
        .funding
        .iter()
        .map(|b| (b.covered_start_ms, b.covered_end_ms))
        .collect();
    assert_eq!(
        cover,
        [(SEP_2019, last_of_first + 1), (last_of_first + 1, DEC_2020)]
    );
    for b in &out.funding {
        assert_eq!(b.source, SourceKind::LIVE);
        assert!(b
            .rows
            .iter()
            .all(|r| r.funding_time >= b.covered_start_ms && r.funding_time < b.covered_end_ms));
    }
    assert_eq!(
        out.progress.last(),
        Some(&(DEC_2020 - SEP_2019, DEC_2020 - SEP_2019))
    );
}

#[test]
fn rest_keeps_stamps_as_given_and_coin_m_has_no_mark_price() {
    let s = setup();
    let range = (JAN_2024, MAR_2024);
    let req = request(
        DataKind::FUNDING,
        "cm",
        "BTCUSD_PERP",
        "",
        range,
        SourceKind::LIVE,
    );
    let (got, out) = s.fetch(&req);
    got.unwrap();
    let rows = out.funding_rates();
    assert_eq!(rows.len(), 60 * 3);
    assert_same_rates(
        &rows,
        &expected_funding(Market::Cm, "BTCUSD_PERP", JAN_2024, MAR_2024, false),
    );
    assert!(rows.iter().all(|r| r.mark_price.is_nan()));
    // Settlement stamps a few ms past the hour stay as the exchange gives them.
    assert!(rows.iter().any(|r| r.funding_time % HOUR != 0));
    assert_eq!(s.hits("/dapi/v1/fundingRate").len(), 1);
    // A delivery contract has no funding: an empty answer, covered in full.
    let range = (JAN_2024, FEB_2024);
    let req = request(
        DataKind::FUNDING,
        "cm",
        "BTCUSD_250328",
        "",
        range,
        SourceKind::LIVE,
    );
    let (got, out) = s.fetch(&req);
    got.unwrap();
    assert!(out.funding_rates().is_empty());
    assert_eq!(out.funding[0].covered_end_ms, FEB_2024);
}

#[test]
fn archive_month_with_interval_changes() {
    let s = setup();
    let range = (FEB_2024, APR_2024);
    let req = request(
        DataKind::FUNDING,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert_same_rates(
        &out.funding_rates(),
        &expected_funding(Market::Um, "ETHUSDT", FEB_2024, APR_2024, true),
    );
    let cover: Vec<(i64, i64)> = out
        .funding
        .iter()
        .map(|b| (b.covered_start_ms, b.covered_end_ms))
        .collect();
    assert_eq!(cover, [(FEB_2024, MAR_2024), (MAR_2024, APR_2024)]);
    assert!(out.funding.iter().all(|b| b.source == SourceKind::ARCHIVE));
    // February: 8 h throughout; March: 8 h, 4 h, 1 h and 4 h again, as the file says.
    assert!(out.funding[0]
        .rows
        .iter()
        .all(|r| r.interval_ms == 8 * HOUR));
    assert_eq!(out.funding[0].rows.len(), 29 * 3);
    let march: Vec<i64> = out.funding[1]
        .rows
        .iter()
        .map(|r| r.interval_ms / HOUR)
        .collect();
    for h in [8, 4, 1] {
        assert!(march.contains(&h), "{h}");
    }
    assert!(out.funding_rates().iter().all(|r| r.mark_price.is_nan()));
    let paths: Vec<String> = s.fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 4);
    assert!(paths.contains(
        &"/data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-03.zip.CHECKSUM"
            .to_string()
    ));
    assert_eq!(report.requests, 4);
}

#[test]
fn rest_and_archive_agree_where_both_have_the_month() {
    // March 2024 of ETHUSDT, with its interval changes, from both sources.
    let s = setup();
    let range = (MAR_2024, APR_2024);
    let rest = request(
        DataKind::FUNDING,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::LIVE,
    );
    let archive = request(
        DataKind::FUNDING,
        "um",
        "ETHUSDT",
        "",
        range,
        SourceKind::ARCHIVE,
    );
    let (a, rest) = s.fetch(&rest);
    let (b, archive) = s.fetch(&archive);
    a.unwrap();
    b.unwrap();
    let (rest, archive) = (rest.funding_rates(), archive.funding_rates());
    // 8 h to the 5th (13), 4 h to the 18th 12:00 (81), 1 h to the 25th (156), 4 h (41).
    assert_eq!(rest.len(), 13 + 81 + 156 + 41);
    assert_eq!(rest.len(), archive.len());
    for (r, a) in rest.iter().zip(&archive) {
        assert_eq!((r.funding_time, r.rate), (a.funding_time, a.rate));
        assert!(r.mark_price > 0.0 && a.mark_price.is_nan());
    }
    // Spacing between settlements equals the interval the archive states for the later one.
    for w in archive.windows(2) {
        let gap = w[1].funding_time - w[0].funding_time;
        assert!((gap - w[1].interval_ms).abs() <= 7, "{w:?}");
    }
}

#[test]
fn archive_missing_months_are_reported_with_reasons() {
    let s = setup();
    // 2019-11 and -12 predate the archive; 2020-02's file is withheld, 2020-03's CHECKSUM
    // does not match; 2020-01 and -04 are fine.
    s.fake
        .withhold_vision_file("BTCUSDT-fundingRate-2020-02.zip");
    s.fake.corrupt_checksum("BTCUSDT-fundingRate-2020-03.zip");
    let nov_2019 = JAN_2020 - 61 * DAY;
    let (feb, mar, apr, may) = (
        JAN_2020 + 31 * DAY,
        JAN_2020 + 60 * DAY,
        JAN_2020 + 91 * DAY,
        JAN_2020 + 121 * DAY,
    );
    let req = request(
        DataKind::FUNDING,
        "um",
        "BTCUSDT",
        "",
        (nov_2019, may),
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    let missing: Vec<(i64, i64)> = report
        .missing
        .iter()
        .map(|m| (m.start_ms, m.end_ms))
        .collect();
    assert_eq!(
        missing,
        [
            (nov_2019, JAN_2020 - 31 * DAY),
            (JAN_2020 - 31 * DAY, JAN_2020),
            (feb, mar),
            (mar, apr)
        ]
    );
    assert!(
        report.missing[0]
            .reason
            .contains("BTCUSDT-fundingRate-2019-11.zip 404"),
        "{:?}",
        report.missing[0]
    );
    assert!(report.missing[2].reason.contains("2020-02.zip 404"));
    assert!(
        report.missing[3].reason.contains("checksum"),
        "{:?}",
        report.missing[3]
    );
    let cover: Vec<(i64, i64)> = out
        .funding
        .iter()
        .map(|b| (b.covered_start_ms, b.covered_end_ms))
        .collect();
    assert_eq!(cover, [(JAN_2020, feb), (apr, may)]);
    let want: Vec<_> = [(JAN_2020, feb), (apr, may)]
        .iter()
        .flat_map(|&(a, b)| expected_funding(Market::Um, "BTCUSDT", a, b, true))
        .collect();
    assert_same_rates(&out.funding_rates(), &want);
    // The month not closed yet is not asked for at all.
    s.fake.clear_requests();
    let now = dsm_sdk::time::now_ms();
    let this_month = dsm_sdk::calendar::month_start(now);
    let req = request(
        DataKind::FUNDING,
        "um",
        "BTCUSDT",
        "",
        (this_month, now),
        SourceKind::ARCHIVE,
    );
    let (got, out) = s.fetch(&req);
    let report = got.unwrap();
    assert!(out.funding.is_empty() && s.fake.requests().is_empty());
    assert!(
        report.missing[0]
            .reason
            .contains("published after its month ends"),
        "{:?}",
        report.missing
    );
}

#[test]
fn kinds_a_market_lacks_are_refused_naming_where_they_are() {
    let s = setup();
    let range = (JAN_2024, FEB_2024);
    for kind in [
        DataKind::FUNDING,
        DataKind::MARK,
        DataKind::INDEX,
        DataKind::PREMIUM,
    ] {
        let iv = if kind == DataKind::FUNDING { "" } else { "1h" };
        let req = request(kind, "spot", "BTCUSDT", iv, range, SourceKind::LIVE);
        let e = s.fetch(&req).0.unwrap_err();
        assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
        assert_eq!(
            &*e.message,
            format!("Binance spot has no {kind} data; it is available on Binance um, cm")
        );
    }
    let req = request(
        dsm_sdk::DataKind(42),
        "um",
        "BTCUSDT",
        "",
        range,
        SourceKind::LIVE,
    );
    let e = s.fetch(&req).0.unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(e.message.contains("does not know data kind 42"), "{e}");
    let req = request(
        DataKind::FUNDING,
        "um",
        "BTCUSDT",
        "8h",
        range,
        SourceKind::LIVE,
    );
    assert_eq!(
        s.fetch(&req).0.unwrap_err().kind,
        ErrorKind::INVALID_INTERVAL
    );
    assert!(s.fake.requests().is_empty());
    // klines through fetch_data take the kline path.
    let req = request(
        DataKind::KLINES,
        "spot",
        "BTCUSDT",
        "1h",
        (JAN_2024, JAN_2024 + DAY),
        SourceKind::LIVE,
    );
    let (got, out) = s.fetch(&req);
    got.unwrap();
    assert_eq!(
        out.klines(),
        dsm_tests::fake::expected_klines(Market::Spot, "BTCUSDT", "1h", JAN_2024, JAN_2024 + DAY)
    );
}
