//! The tests' endpoint table (common::ENDPOINTS) names every endpoint of every built
//! plugin, in manifest order (`DSM_<PROVIDER>_URL` sets the first): a plugin that gains an
//! endpoint cannot leave one test pointing at the real exchange. .ci/loopback-only proves
//! from outside that no test process connects anywhere but 127.0.0.1.

use crate::common;

use common::*;
use serde_json::Value;

#[test]
fn every_endpoint_is_listed() {
    let out = run_dsm(
        &[
            "--plugin-dir",
            target_dir().to_str().unwrap(),
            "providers",
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let providers = doc["providers"].as_array().unwrap();
    for id in ["binance", "okx", "bybit"] {
        assert!(providers.iter().any(|p| p["id"] == id), "{id} not built");
    }
    for p in providers {
        let id = p["id"].as_str().unwrap();
        let keys: Vec<&str> = p["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let listed = ENDPOINTS
            .iter()
            .find(|(p, _)| *p == id)
            .map_or(&[][..], |(_, keys)| *keys);
        assert_eq!(keys, listed, "{id}: update ENDPOINTS in tests/tests/common");
    }
}

#[test]
fn the_environment_names_every_endpoint() {
    let env = endpoint_env("http://127.0.0.1:1");
    assert!(env.contains(&("DSM_BINANCE_VISION_URL".into(), "http://127.0.0.1:1".into())));
    assert!(env.contains(&("DSM_OKX_REST_URL".into(), "http://127.0.0.1:1".into())));
    let count: usize = ENDPOINTS.iter().map(|(_, keys)| keys.len()).sum();
    assert_eq!(env.len(), count);
}
