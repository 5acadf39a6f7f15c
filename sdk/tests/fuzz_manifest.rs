//! `Manifest::parse` fuzzed on the stable toolchain with proptest: arbitrary bytes, any
//! JSON, and a valid manifest with fields replaced, removed or added. Property: an error or
//! a manifest that passes the checks (format 1, a lowercase id, markets), never a panic.
//!
//! `PROPTEST_CASES` sets the count (256 by default); a long run:
//! `PROPTEST_CASES=1000000 cargo test --release -p dsm-sdk --test fuzz_manifest`.

use dsm_sdk::Manifest;
use proptest::prelude::*;
use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "format": 1,
        "sdk_version": "0.1.0",
        "version": "0.1.0",
        "plugin": {
            "id": "binance",
            "name": "Binance",
            "endpoints": ["spot", "vision"],
            "markets": [{
                "id": "spot",
                "aliases": ["s"],
                "description": "Spot",
                "symbol_example": "BTCUSDT",
                "intervals": ["1m", "1h"],
                "archive": true,
                "max_page": 1000
            }]
        }
    })
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        "[a-z_]{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (object keys and array indexes) inside `v`.
fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<String>) {
    out.push(at.join("/"));
    match v {
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            at.push(k.clone());
            paths(v, at, out);
            at.pop();
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
            at.push(i.to_string());
            paths(v, at, out);
            at.pop();
        }),
        _ => {}
    }
}

fn check(m: Result<Manifest, String>) {
    if let Ok(m) = m {
        assert_eq!(m.format, 1);
        assert!(!m.id().is_empty());
        assert!(!m.plugin.markets.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_manifest_json_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(Manifest::parse(&bytes));
    }

    #[test]
    fn fuzz_manifest_json_values(v in json()) {
        check(Manifest::parse(&serde_json::to_vec(&v).unwrap()));
    }

    /// The valid manifest with a field replaced by any value, removed, or a field added;
    /// and its text cut short.
    #[test]
    fn fuzz_manifest_json_mutated(
        edits in prop::collection::vec((any::<prop::sample::Index>(), json(), 0u8..3), 1..4),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut doc = valid();
        for (at, value, how) in edits {
            let mut all = Vec::new();
            paths(&doc, &mut Vec::new(), &mut all);
            let path = format!("/{}", all[at.index(all.len())]);
            let path = if path == "/" { String::new() } else { path };
            let (parent, key) = path.rsplit_once('/').unwrap_or(("", ""));
            match (how, doc.pointer_mut(parent)) {
                (0, _) => if let Some(slot) = doc.pointer_mut(&path) { *slot = value },
                (1, Some(Value::Object(o))) => { o.remove(key); }
                (1, Some(Value::Array(a))) => { if let Ok(i) = key.parse::<usize>() { if i < a.len() { a.remove(i); } } }
                (_, Some(Value::Object(o))) => { o.insert("extra".into(), value); }
                _ => {}
            }
        }
        let mut bytes = serde_json::to_vec(&doc).unwrap();
        check(Manifest::parse(&bytes));
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
            check(Manifest::parse(&bytes));
        }
    }
}

#[test]
fn the_unmutated_manifest_parses() {
    let m = Manifest::parse(&serde_json::to_vec(&valid()).unwrap()).unwrap();
    assert_eq!(m.id(), "binance");
}
