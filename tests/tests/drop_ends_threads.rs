//! Dropping a manager ends its provider's threads; the library stays mapped (fresh process).

mod common;

use common::*;
use dsm_core::{Dsm, DsmConfig};
use dsm_tests::fake::FakeExchange;

fn thread_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn dropping_a_manager_ends_its_threads_and_keeps_the_library() {
    let fake = FakeExchange::start();
    let before = thread_names().len();
    let dsm = Dsm::create_with_config(
        config_on(DsmConfig::new("binance", "spot"), &fake.url())
            .plugin_dir(target_dir())
            .cache_enabled(false),
    )
    .unwrap();
    assert!(!is_mapped("binance"));
    let got = dsm
        .fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
        .unwrap();
    assert_eq!(got.len(), 24);
    assert!(is_mapped("binance"));
    let during = thread_names().len();
    assert!(
        during > before,
        "the plugin's runtime runs threads: {:?}",
        thread_names()
    );

    drop(dsm);
    // Runtime shutdown joins its workers; give the kernel a moment to reap them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while thread_names().len() > before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(thread_names().len(), before, "{:?}", thread_names());
    assert!(is_mapped("binance"), "libraries are never unloaded");
}
