//! One rate budget per exchange host per process.
//!
//! An exchange counts weight and requests per IP, not per client: every provider instance
//! of a process (one per manager, and a second one for the data kinds) must draw from the
//! same budget, or two series fetched at once each think they have the whole limit. The
//! limiters are therefore handed out here, once per key (an API's base URL and what it
//! counts), and shared by every instance that asks for the same key. A plugin is one
//! shared library per process, so this registry is per process and per plugin.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use crate::limit::{Concurrency, RateLimiter, WeightGate};

static GATES: LazyLock<Mutex<HashMap<String, Arc<WeightGate>>>> = LazyLock::new(Default::default);
static RATES: LazyLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = LazyLock::new(Default::default);
static SLOTS: LazyLock<Mutex<HashMap<String, Arc<Concurrency>>>> = LazyLock::new(Default::default);

/// The process's used-weight gate for `key` (e.g. `"weight https://api.binance.com"`), made
/// by `make` the first time the key is asked for; later calls share it whatever they pass.
pub fn weight_gate(key: &str, make: impl FnOnce() -> WeightGate) -> Arc<WeightGate> {
    shared(&GATES, key, make)
}

/// The process's requests-per-window limiter for `key`, made by [`RateLimiter::new`] with
/// `max` and `window` the first time.
pub fn rate_limiter(key: &str, max: u32, window: Duration) -> Arc<RateLimiter> {
    shared(&RATES, key, || RateLimiter::new(max, window))
}

/// The process's requests-in-flight slots for `key` (e.g. an archive host), `n` of them;
/// instances asking for another `n` get slots of their own (`key` and `n` together name
/// them), so a setting is never silently ignored.
pub fn slots(key: &str, n: u32) -> Arc<Concurrency> {
    shared(&SLOTS, &format!("{key} x{n}"), || Concurrency::new(n))
}

fn shared<T>(map: &Mutex<HashMap<String, Arc<T>>>, key: &str, make: impl FnOnce() -> T) -> Arc<T> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key.to_string())
        .or_insert_with(|| Arc::new(make()))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_limiter_per_key() {
        let a = weight_gate("test-a", || WeightGate::new("x", 10, 0));
        let b = weight_gate("test-a", || WeightGate::new("x", 99, 0));
        let c = weight_gate("test-c", || WeightGate::new("x", 10, 0));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        let r1 = rate_limiter("test-r", 2, Duration::from_secs(1));
        let r2 = rate_limiter("test-r", 2, Duration::from_secs(1));
        assert!(Arc::ptr_eq(&r1, &r2));
        assert!(Arc::ptr_eq(&slots("test-s", 4), &slots("test-s", 4)));
        assert!(!Arc::ptr_eq(&slots("test-s", 4), &slots("test-s", 8)));
    }
}
