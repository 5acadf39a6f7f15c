//! Listing providers and creating managers maps no plugin library (fresh process).

mod common;

use common::*;
use dsm_core::{Dsm, DsmConfig};

#[test]
fn listing_and_creating_managers_load_no_plugin() {
    let dir = target_dir();
    plugin("testplug");
    let listing = dsm_core::list_providers(std::slice::from_ref(&dir));
    assert!(listing.plugins.contains_key("testplug"), "{listing:?}");
    assert!(listing.plugins.contains_key("binance"), "{listing:?}");

    let a = Dsm::create_with_config(DsmConfig::new("TESTPLUG", "Main").plugin_dir(&dir)).unwrap();
    let b = Dsm::create_with_config(DsmConfig::new("binance", "USDM").plugin_dir(&dir)).unwrap();
    assert_eq!(a.market().id, "spot", "alias resolved");
    assert_eq!(b.market().id, "um", "alias resolved");
    let c = Dsm::create_with_config(DsmConfig::new("binance", "futures_coin").plugin_dir(&dir));
    assert_eq!(c.unwrap().market().id, "cm");

    assert_eq!(mapped_plugins(), Vec::<String>::new());
    assert!(dsm_core::loaded_plugins().is_empty());
    assert!(!a.is_loaded() && !b.is_loaded());
}
