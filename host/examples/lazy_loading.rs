//! Shows dsm's lazy plugin loading: start, create a manager, the plugin not mapped, the
//! first fetch opening it (with its load time), the plugin mapped afterwards.
//!
//! Offline, against the fake exchange (see README.md):
//!
//! ```text
//! cargo build --workspace
//! target/debug/fake-exchange --port 8099 &
//! DSM_BINANCE_URL=http://127.0.0.1:8099 DSM_BINANCE_VISION_URL=http://127.0.0.1:8099 \
//!     cargo run -p dsm-core --example lazy_loading
//! ```
//!
//! Against Binance itself: `cargo run -p dsm-core --example lazy_loading`.

use std::time::Instant;

fn mapped_plugins() -> Vec<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut libs: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.contains("libdsm_"))
        .map(String::from)
        .collect();
    libs.dedup();
    libs
}

fn main() -> Result<(), dsm_core::DsmError> {
    let t0 = Instant::now();
    let providers = dsm_core::list_providers(&[]);
    let names: Vec<&String> = providers.plugins.keys().collect();
    println!(
        "found providers {names:?} in {:?} (manifests only)",
        t0.elapsed()
    );

    let t = Instant::now();
    let manager = dsm_core::Dsm::create("binance", "spot")?;
    println!("Dsm::create(binance, spot) took {:?}", t.elapsed());
    println!(
        "plugins mapped before the first fetch: {:?}",
        mapped_plugins()
    );

    let t = Instant::now();
    let klines = manager.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")?;
    println!(
        "first fetch: {} candles in {:?}, of which opening the plugin took {:?}",
        klines.len(),
        t.elapsed(),
        manager.load_time().unwrap_or_default()
    );
    println!("plugins mapped after: {:?}", mapped_plugins());

    let t = Instant::now();
    let again = manager.fetch_market_data("BTCUSDT", "1h", "2024-01-02", "2024-01-03")?;
    println!(
        "second fetch: {} candles in {:?} (no load)",
        again.len(),
        t.elapsed()
    );
    Ok(())
}
