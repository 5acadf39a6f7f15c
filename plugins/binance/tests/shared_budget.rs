//! One weight budget per API host per process: every provider instance (a manager's, the
//! data module's, another manager's) gets the same gate for the same host, and the fetches
//! of one are counted against the other's.

use std::sync::Arc;

use dsm_binance::{BinanceProvider, Market, Weights};
use dsm_plugin_kit::testing::TestHost;
use dsm_sdk::{Endpoint, LogLevel, ProviderConfig};

fn provider(url: &str, weights: Weights) -> BinanceProvider {
    let endpoints = ["spot", "um", "cm", "vision"].map(|k| Endpoint {
        key: k.into(),
        url: url.into(),
    });
    let config = ProviderConfig {
        endpoints: endpoints.to_vec().into(),
        ..ProviderConfig::default()
    };
    BinanceProvider::with_limits(config, TestHost::new().host(LogLevel::WARN), 4, weights)
}

#[test]
fn two_provider_instances_share_one_budget_per_host() {
    let w = Weights::default();
    let (a, b) = (
        provider("http://127.0.0.1:1", w),
        provider("http://127.0.0.1:1", w),
    );
    for m in Market::ALL {
        assert!(
            Arc::ptr_eq(&a.gate(m), &b.gate(m)),
            "{m:?}: one gate for both"
        );
    }
    assert!(
        !Arc::ptr_eq(&a.gate(Market::Spot), &a.gate(Market::Um)),
        "each host its own"
    );
    let elsewhere = provider("http://127.0.0.1:2", w);
    assert!(!Arc::ptr_eq(
        &a.gate(Market::Um),
        &elsewhere.gate(Market::Um)
    ));
    // What one instance is told (a 429's wait) holds the other's requests too.
    a.gate(Market::Um).pause_for(30_000);
    let held = b.gate(Market::Um);
    let host = TestHost::new().host(LogLevel::WARN);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let waited = rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_millis(200), held.admit(1, &host)).await
    });
    assert!(
        waited.is_err(),
        "the other instance's request waits out the pause"
    );
}
