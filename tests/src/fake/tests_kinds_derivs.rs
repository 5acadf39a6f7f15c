//! The fake's OKX and Bybit funding, mark, index and premium answers, over real HTTP.

use serde_json::Value;

use super::candles::now_ms;
use super::tests_rest::{get, T};
use super::*;

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;

fn cells(row: &Value) -> Vec<String> {
    row.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn okx_funding_newest_first_exclusive_bounds_three_months_deep() {
    let fx = FakeExchange::start();
    let now = now_ms();
    let (lo, hi) = (now - 20 * DAY, now - 10 * DAY);
    let r = get(
        &fx,
        &format!(
            "/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP&after={hi}&before={lo}&limit=7"
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (v["code"].as_str(), v["msg"].as_str()),
        (Some("0"), Some(""))
    );
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 7);
    let keys: Vec<&str> = data[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "formulaType",
            "fundingRate",
            "fundingTime",
            "instId",
            "instType",
            "method",
            "realizedRate"
        ]
    );
    assert!(
        data[0].as_object().unwrap().values().all(Value::is_string),
        "all strings"
    );
    let ts: Vec<i64> = data
        .iter()
        .map(|d| d["fundingTime"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        ts.windows(2).all(|w| w[0] - w[1] == 4 * H),
        "newest first, 4 h: {ts:?}"
    );
    assert!(ts[0] < hi && ts[0] >= hi - 4 * H);
    // What the plugin reads of them.
    let want = expected_okx_funding("BTC-USDT-SWAP", ts[6], ts[0] + 1);
    let got: Vec<f64> = data
        .iter()
        .rev()
        .map(|d| {
            let realized = d["realizedRate"].as_str().unwrap();
            let paid = if realized.is_empty() {
                &d["fundingRate"]
            } else {
                &d["realizedRate"]
            };
            paid.as_str().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(got, want.iter().map(|r| r.rate).collect::<Vec<_>>());
    // Default limit 400 (90 days of 4 h are 540 rows); nothing before 90 days ago.
    let r = get(
        &fx,
        "/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP",
    );
    let all = r.json()["data"].as_array().unwrap().len();
    assert_eq!(all, 400, "default limit");
    let old = now - 100 * DAY;
    let r = get(
        &fx,
        &format!("/api/v5/public/funding-rate-history?instId=BTC-USD-SWAP&after={old}"),
    );
    assert_eq!(
        r.json()["data"],
        serde_json::json!([]),
        "older than three months"
    );
    let r = get(
        &fx,
        "/api/v5/public/funding-rate-history?instId=BTC-USD-SWAP&limit=400",
    );
    let data = r.json()["data"].as_array().unwrap().clone();
    let oldest: i64 = data.last().unwrap()["fundingTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (270..=271).contains(&data.len()),
        "90 days of 8 h: {}",
        data.len()
    );
    let horizon = now - OKX_FUNDING_DEPTH_MS;
    assert!(oldest >= horizon && oldest < horizon + 8 * H + 60_000);
    // Some rows leave realizedRate empty.
    let empty = data.iter().filter(|d| d["realizedRate"] == "").count();
    assert!(empty > 0 && empty < 40, "{empty}");
    // Errors.
    let r = get(&fx, "/api/v5/public/funding-rate-history?instId=BTC-USDT");
    assert_eq!((r.status, r.json()["code"].as_str()), (200, Some("51001")));
    let r = get(&fx, "/api/v5/public/funding-rate-history");
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("50014")));
    let r = get(
        &fx,
        "/api/v5/public/funding-rate-history?instId=BTC-USD-SWAP&limit=401",
    );
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("51000")));
}

#[test]
fn okx_mark_and_index_candles() {
    let fx = FakeExchange::start();
    let q = format!(
        "instId=BTC-USDT-SWAP&bar=1H&after={}&before={}&limit=3",
        T + 10 * H,
        T
    );
    let r = get(
        &fx,
        &format!("/api/v5/market/history-mark-price-candles?{q}"),
    );
    let rows: Vec<Vec<String>> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(cells)
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.len() == 6 && r[5] == "1"));
    assert_eq!(rows[0][0], (T + 9 * H).to_string(), "newest first");
    let want = expected_okx_candles("mark", "BTC-USDT-SWAP", "1h", T + 7 * H, T + 10 * H);
    assert_eq!(want[2].open, rows[0][1].parse::<f64>().unwrap());
    let trades = expected_okx_klines("BTC-USDT-SWAP", "1h", T + 9 * H, T + 10 * H);
    assert_ne!(trades[0].open, want[2].open, "mark prices are their own");
    // Index candles take the index id, not the swap.
    let r = get(
        &fx,
        &format!("/api/v5/market/history-index-candles?instId=BTC-USD&bar=1Dutc&after={T}&limit=2"),
    );
    let rows: Vec<Vec<String>> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(cells)
        .collect();
    let want = expected_okx_candles("index", "BTC-USD-SWAP", "1d", T - 2 * DAY, T);
    assert_eq!(rows[1][4].parse::<f64>().unwrap(), want[0].close);
    // The newest candle is forming (confirm "0").
    let r = get(
        &fx,
        "/api/v5/market/history-index-candles?instId=BTC-USDT&bar=1Dutc&limit=1",
    );
    assert_eq!(cells(&r.json()["data"][0])[5], "0");
    // Errors: swap id on index, spot on mark, 1s bars, limit over 100.
    for q in [
        "/api/v5/market/history-index-candles?instId=BTC-USDT-SWAP&bar=1H",
        "/api/v5/market/history-mark-price-candles?instId=BTC-USDT&bar=1H",
    ] {
        assert_eq!(get(&fx, q).json()["code"], "51001", "{q}");
    }
    for q in [
        "/api/v5/market/history-mark-price-candles?instId=BTC-USD-SWAP&bar=1s",
        "/api/v5/market/history-mark-price-candles?instId=BTC-USD-SWAP&bar=1H&limit=101",
    ] {
        let r = get(&fx, q);
        assert_eq!(
            (r.status, r.json()["code"].as_str()),
            (400, Some("51000")),
            "{q}"
        );
    }
}

#[test]
fn bybit_funding_pages_by_end_time_and_switches_to_4h() {
    let fx = FakeExchange::start();
    let at = derivs::SWITCH_2024_03;
    let q = |extra: &str| {
        let r = get(
            &fx,
            &format!("/v5/market/funding/history?category=linear&symbol=BTCUSDT{extra}"),
        );
        let v = r.json();
        assert_eq!(v["retCode"], 0, "{}", r.body);
        v
    };
    let v = q(&format!("&endTime={}&limit=6", at + 12 * H));
    assert_eq!(v["result"]["category"], "linear");
    let list = v["result"]["list"].as_array().unwrap();
    let keys: Vec<&str> = list[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys.len(), 3);
    let raw = get(
        &fx,
        "/v5/market/funding/history?category=linear&symbol=BTCUSDT&limit=1",
    )
    .body;
    assert!(
        raw.starts_with(
            r#"{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","fundingRate":""#
        ),
        "Bybit's field order: {raw}"
    );
    let ts: Vec<i64> = list
        .iter()
        .map(|r| r["fundingRateTimestamp"].as_str().unwrap().parse().unwrap())
        .collect();
    let gaps: Vec<i64> = ts.windows(2).map(|w| (w[0] - w[1]) / H).collect();
    assert_eq!(ts[0], at + 12 * H, "endTime inclusive");
    assert_eq!(gaps, [4, 4, 4, 8, 8], "8 h before the switch, 4 h after");
    let want = expected_bybit_funding("linear", "BTCUSDT", ts[5], ts[0] + 1);
    let rates: Vec<f64> = list
        .iter()
        .rev()
        .map(|r| r["fundingRate"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(rates, want.iter().map(|r| r.rate).collect::<Vec<_>>());
    let text = list[0]["fundingRate"].as_str().unwrap();
    assert!(!text.ends_with('0'), "trailing zeros trimmed: {text}");
    // Default 200; both bounds: the newest in between; only settled rows.
    assert_eq!(
        q("").get("result").unwrap()["list"]
            .as_array()
            .unwrap()
            .len(),
        200
    );
    let v = q(&format!("&startTime={}&endTime={}", at - 24 * H, at));
    assert_eq!(v["result"]["list"].as_array().unwrap().len(), 4);
    let newest: i64 = q("&limit=1")["result"]["list"][0]["fundingRateTimestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(newest <= now_ms() && newest > now_ms() - 4 * H - 60_000);
    // Errors: startTime alone, spot, unknown symbols.
    let code = |q: &str| get(&fx, q).json()["retCode"].as_i64().unwrap();
    assert_eq!(
        code("/v5/market/funding/history?category=linear&symbol=BTCUSDT&startTime=1"),
        10001
    );
    assert_eq!(
        code("/v5/market/funding/history?category=spot&symbol=BTCUSDT"),
        10001
    );
    assert_eq!(
        code("/v5/market/funding/history?category=inverse&symbol=BTCUSDT"),
        10001
    );
}

#[test]
fn bybit_mark_index_premium_klines() {
    let fx = FakeExchange::start();
    let window = format!(
        "symbol=BTCUSDT&interval=60&start={T}&end={}&limit=2",
        T + 5 * H
    );
    for (path, kind) in [
        ("mark-price-kline", "mark"),
        ("index-price-kline", "index"),
        ("premium-index-price-kline", "premium"),
    ] {
        let r = get(&fx, &format!("/v5/market/{path}?category=linear&{window}"));
        let v = r.json();
        assert_eq!(v["retCode"], 0, "{}", r.body);
        let rows: Vec<Vec<String>> = v["result"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(cells)
            .collect();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.len() == 5), "{kind}: five strings");
        assert_eq!(
            rows[0][0],
            (T + 5 * H).to_string(),
            "newest first, end inclusive"
        );
        let want = expected_bybit_candles(kind, "linear", "BTCUSDT", "1h", T + 4 * H, T + 6 * H);
        assert_eq!(want[1].close, rows[0][4].parse::<f64>().unwrap(), "{kind}");
        assert_eq!(want[1].volume, 0.0);
    }
    // Premium is linear only; its values are signed fractions.
    let r = get(
        &fx,
        &format!("/v5/market/premium-index-price-kline?category=inverse&{window}"),
    );
    assert_eq!(r.json()["retCode"], 10001);
    let p = expected_bybit_candles("premium", "linear", "BTCUSDT", "1h", T, T + 200 * H);
    assert!(p.iter().any(|k| k.low < 0.0) && p.iter().all(|k| k.high.abs() < 0.01));
    // No confirm flag: the newest row is the forming candle.
    let r = get(
        &fx,
        "/v5/market/mark-price-kline?category=inverse&symbol=BTCUSD&interval=D&limit=1",
    );
    let open: i64 = cells(&r.json()["result"]["list"][0])[0].parse().unwrap();
    assert!(open + DAY > now_ms());
}
