//! The row parsers on Bybit's own recorded examples, read from the shared real-wire samples
//! (`DSM_REAL_WIRE`, default /work/shared/real-wire; see its SOURCES.md).

use dsm_bybit::{fetch, funding, series};
use dsm_plugin_kit::Interval;
use serde_json::Value;

fn sample(name: &str) -> Value {
    let root = std::env::var("DSM_REAL_WIRE").unwrap_or_else(|_| "/work/shared/real-wire".into());
    let path = format!("{root}/samples/datasets/{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (set DSM_REAL_WIRE to the real-wire directory)"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["retCode"], 0);
    doc
}

fn list(doc: &Value) -> &Vec<Value> {
    doc["result"]["list"].as_array().unwrap()
}

#[test]
fn mark_kline_example_parses_with_no_volumes() {
    let doc = sample("bybit_linear_BTCUSDT_mark_kline_docs.json");
    let iv = Interval::parse("1h").unwrap();
    let k = fetch::parse_row(&list(&doc)[0], iv, &series::MARK).unwrap();
    assert_eq!(k.open_time, 1_670_608_800_000);
    assert_eq!(
        (k.open, k.high, k.low, k.close),
        (17164.16, 17164.16, 17121.5, 17131.64)
    );
    assert_eq!((k.volume, k.quote_volume, k.trades), (0.0, 0.0, 0));
    assert_eq!(k.close_time, 1_670_608_800_000 + 3_599_999);
    // Read as a kline row it lacks the volume cells: the layout is the series'.
    let e = fetch::parse_row(&list(&doc)[0], iv, &series::KLINES).unwrap_err();
    assert!(e.message.contains("column 5 (volume) is missing"), "{e}");
}

#[test]
fn premium_index_example_parses_signed_fractions_newest_first() {
    let doc = sample("bybit_linear_BTCUSDT_premium_index_kline_docs.json");
    let iv = Interval::parse("1d").unwrap();
    let ks: Vec<_> = list(&doc)
        .iter()
        .map(|r| fetch::parse_row(r, iv, &series::PREMIUM).unwrap())
        .collect();
    assert_eq!(ks.len(), 2);
    assert!(
        ks[0].open_time > ks[1].open_time,
        "newest first on the wire"
    );
    assert_eq!(ks[1].open_time + 86_400_000, ks[0].open_time);
    assert_eq!(
        (ks[0].open, ks[0].high, ks[0].low, ks[0].close),
        (-0.000587, -0.000344, -0.00048, -0.000344)
    );
    assert!(ks
        .iter()
        .all(|k| k.volume == 0.0 && k.close_time == k.open_time + 86_399_999));
}

#[test]
fn funding_history_example_parses() {
    let doc = sample("bybit_linear_ETHPERP_funding_history_docs.json");
    let rows = list(&doc);
    assert_eq!(rows.len(), 1);
    let r = funding::parse_row(&rows[0]).unwrap();
    assert_eq!(r.funding_time, 1_672_041_600_000);
    assert_eq!(r.rate, 0.0001);
    assert!(r.mark_price.is_nan(), "Bybit sends no mark price");
    assert_eq!(r.interval_ms, 0, "Bybit states no interval per row");
}
