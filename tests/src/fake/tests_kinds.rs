//! The fake's funding and mark / index / premium answers, checked over real HTTP.

use sha2::{Digest, Sha256};

use super::tests_rest::{get, T};
use super::*;

const DAY: i64 = 86_400_000;
const MAR_2024: i64 = T + 60 * DAY;

#[test]
fn funding_rest_shapes_bounds_and_errors() {
    let fx = FakeExchange::start();
    let q = format!("/fapi/v1/fundingRate?symbol=BTCUSDT&startTime={T}&limit=2");
    let r = get(&fx, &q);
    assert_eq!(r.status, 200);
    // Keys in the live order; rate and mark price strings, time a number.
    let first = r.body.split("},").next().unwrap();
    assert!(
        first.starts_with("[{\"symbol\":\"BTCUSDT\",\"fundingTime\":17040672000"),
        "{first}"
    );
    assert!(first.contains(",\"fundingRate\":\"") && first.contains("\",\"markPrice\":\""));
    assert!(
        r.body.ends_with(",\"rateType\":\"Regular\"}]"),
        "{}",
        r.body
    );
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    let t0 = rows[0]["fundingTime"].as_i64().unwrap();
    assert!((T..T + 8).contains(&t0));
    // Inclusive bounds; the default limit is 100; without startTime the newest rows.
    let q = format!(
        "/fapi/v1/fundingRate?symbol=BTCUSDT&startTime={}&endTime={}",
        t0 + 1,
        T + 8 * 3_600_000 + 7
    );
    let n = get(&fx, &q).json().as_array().unwrap().len();
    assert!(n <= 1);
    let r = get(
        &fx,
        &format!("/fapi/v1/fundingRate?symbol=BTCUSDT&endTime={T}"),
    );
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 100);
    assert!(rows[99]["fundingTime"].as_i64().unwrap() <= T);
    // COIN-M: no markPrice; delivery contracts: [].
    let r = get(
        &fx,
        &format!("/dapi/v1/fundingRate?symbol=BTCUSD_PERP&startTime={T}&limit=1"),
    );
    assert!(!r.body.contains("markPrice") && r.body.starts_with("[{\"symbol\":\"BTCUSD_PERP\""));
    assert_eq!(
        get(&fx, "/dapi/v1/fundingRate?symbol=BTCUSD_250328").body,
        "[]"
    );
    let code = |q: &str| get(&fx, q).json()["code"].as_i64().unwrap();
    assert_eq!(code("/fapi/v1/fundingRate?symbol=XYZUSDT"), -1121);
    assert_eq!(
        code("/fapi/v1/fundingRate?symbol=BTCUSDT&limit=1001"),
        -1130
    );
    assert_eq!(code("/dapi/v1/fundingRate"), -1102);
}

#[test]
fn price_klines_shapes_and_rules() {
    let fx = FakeExchange::start();
    let r = get(
        &fx,
        &format!("/dapi/v1/indexPriceKlines?pair=BTCUSD&interval=1m&startTime={T}&limit=30"),
    );
    assert_eq!(r.status, 200);
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 30);
    assert_eq!(rows[0][8], 60);
    assert!(r.body.contains(",\"0 \",") && r.body.contains(",\"0\",\"0\",\"0\"]"));
    let r = get(
        &fx,
        &format!("/fapi/v1/premiumIndexKlines?symbol=BTCUSDT&interval=1m&startTime={T}&limit=5"),
    );
    assert!(!r.body.contains("\"0 \"") && r.json()[0][8] == 12);
    let code = |q: &str| get(&fx, q).json()["code"].as_i64().unwrap();
    // Index takes the pair, COIN-M mark/index windows at most 200 days, no 1s.
    assert_eq!(
        code("/dapi/v1/indexPriceKlines?pair=BTCUSD_PERP&interval=1m"),
        -1121
    );
    assert_eq!(
        code("/fapi/v1/indexPriceKlines?symbol=BTCUSDT&interval=1m"),
        -1102
    );
    let long = format!("startTime={}&endTime={T}", T - 201 * DAY);
    assert_eq!(
        code(&format!(
            "/dapi/v1/markPriceKlines?symbol=BTCUSD_PERP&interval=1d&{long}"
        )),
        -1127
    );
    let premium = get(
        &fx,
        &format!("/dapi/v1/premiumIndexKlines?symbol=BTCUSD_PERP&interval=1d&{long}"),
    );
    assert_eq!(premium.status, 200);
    assert_eq!(
        code("/fapi/v1/markPriceKlines?symbol=BTCUSDT&interval=1s"),
        -1120
    );
    // The used-weight header as on klines.
    assert!(r.headers.contains_key("x-mbx-used-weight-1m"));
}

#[test]
fn vision_kind_files_with_checksums() {
    let fx = FakeExchange::start();
    let dir = "/data/futures/um/monthly/fundingRate/ETHUSDT";
    let name = "ETHUSDT-fundingRate-2024-03.zip";
    let zip = reqwest::blocking::get(format!("{}{dir}/{name}", fx.url())).unwrap();
    assert_eq!(zip.status().as_u16(), 200);
    let zip = zip.bytes().unwrap().to_vec();
    let sum = get(&fx, &format!("{dir}/{name}.CHECKSUM"));
    let digest: String = Sha256::digest(&zip)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sum.body, format!("{digest}  {name}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut csv = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("ETHUSDT-fundingRate-2024-03.csv").unwrap(),
        &mut csv,
    )
    .unwrap();
    assert!(csv.starts_with("calc_time,funding_interval_hours,last_funding_rate\n"));
    let want = expected_funding(Market::Um, "ETHUSDT", MAR_2024, MAR_2024 + 31 * DAY, true);
    assert_eq!(csv.lines().count(), 1 + want.len());
    // No daily funding files; index directories by pair; unknown names 404.
    for missing in [
        "/data/futures/um/daily/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-03-01.zip",
        "/data/futures/cm/daily/indexPriceKlines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2024-03-01.zip",
        "/data/futures/um/daily/markPriceKlines/BTCUSDT/1w/BTCUSDT-1w-2024-03-01.zip",
        "/data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2019-12.zip",
    ] {
        let r = get(&fx, missing);
        assert_eq!(r.status, 404, "{missing}");
        assert!(r.body.contains("<Code>NoSuchKey</Code>"));
    }
    let ok = "/data/futures/cm/daily/indexPriceKlines/BTCUSD/1h/BTCUSD-1h-2024-03-02.zip.CHECKSUM";
    let r = get(&fx, ok);
    assert_eq!(r.status, 200);
    assert!(
        r.body.ends_with("  BTCUSD-1h-2024-03-02.zip\n"),
        "{}",
        r.body
    );
}
