//! Shared mutable state of one fake exchange: request log, fault queues, delays and the
//! per-minute request-weight counters.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::faults::Fault;
use super::log::RequestRecord;

/// A weight counter: each of the three Binance hosts counts separately.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    key: &'static str,
    /// Header name with the host's own casing (spot upper case, futures lower case).
    pub(crate) header: &'static str,
    default_limit: u32,
}

/// The bucket a path is counted in, `None` for paths outside the Binance APIs.
pub(crate) fn bucket(path: &str) -> Option<Bucket> {
    let (key, header, default_limit) = if path.starts_with("/api/") {
        ("/api/", "X-MBX-USED-WEIGHT-1M", 6000)
    } else if path.starts_with("/fapi/") {
        ("/fapi/", "x-mbx-used-weight-1m", 2400)
    } else if path.starts_with("/dapi/") {
        ("/dapi/", "x-mbx-used-weight-1m", 2400)
    } else {
        return None;
    };
    Some(Bucket {
        key,
        header,
        default_limit,
    })
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) requests: Vec<RequestRecord>,
    faults: HashMap<String, VecDeque<Fault>>,
    delays: HashMap<String, Duration>,
    /// (path prefix, limit) overrides; the longest matching prefix wins.
    limits: Vec<(String, u32)>,
    /// bucket key -> (minute number, weight used in that minute).
    used: HashMap<&'static str, (i64, u32)>,
    /// The counting window in ms (0: a minute, as Binance; tests shorten it).
    weight_window_ms: i64,
    /// bucket key -> the most weight used in any one window.
    pub(crate) max_used: HashMap<&'static str, u32>,
    /// Requests refused with 429 for going over the weight limit.
    pub(crate) weight_refusals: u32,
    /// Binance Vision switches and built files (see vision.rs).
    pub(crate) vision: super::vision::VisionState,
    /// Instrument listing and bucket listing switches (see listing.rs, bucket.rs).
    pub(crate) listing: super::listing::ListingState,
    /// OKX and Bybit request counters (see v5.rs).
    pub(crate) v5: super::v5::V5State,
    /// Requests being answered right now (from the head read to the last byte written),
    /// and the most seen at once since the last reset.
    pub(crate) in_flight: usize,
    pub(crate) max_in_flight: usize,
}

impl State {
    pub(crate) fn push_faults(&mut self, path: &str, faults: impl IntoIterator<Item = Fault>) {
        self.faults
            .entry(path.to_string())
            .or_default()
            .extend(faults);
    }

    pub(crate) fn pop_fault(&mut self, path: &str) -> Option<Fault> {
        self.faults.get_mut(path)?.pop_front()
    }

    pub(crate) fn set_delay(&mut self, path: &str, delay: Duration) {
        if delay.is_zero() {
            self.delays.remove(path);
        } else {
            self.delays.insert(path.to_string(), delay);
        }
    }

    pub(crate) fn delay(&self, path: &str) -> Duration {
        self.delays.get(path).copied().unwrap_or_default()
    }

    pub(crate) fn set_weight_limit(&mut self, prefix: &str, per_minute: u32) {
        self.limits.retain(|(p, _)| p != prefix);
        self.limits.push((prefix.to_string(), per_minute));
    }

    pub(crate) fn limit(&self, path: &str, bucket: Bucket) -> u32 {
        self.limits
            .iter()
            .filter(|(p, _)| path.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map_or(bucket.default_limit, |&(_, l)| l)
    }

    pub(crate) fn set_weight_window(&mut self, ms: i64) {
        self.weight_window_ms = ms;
    }

    fn window_ms(&self) -> i64 {
        match self.weight_window_ms {
            ms if ms > 0 => ms,
            _ => 60_000,
        }
    }

    /// Weight used in the current minute (the counter resets when the minute turns).
    pub(crate) fn used(&mut self, bucket: Bucket, now_ms: i64) -> u32 {
        let minute = now_ms.div_euclid(self.window_ms());
        let slot = self.used.entry(bucket.key).or_insert((minute, 0));
        if slot.0 != minute {
            *slot = (minute, 0);
        }
        slot.1
    }

    /// Adds `weight`, or refuses with the seconds until the next minute when it would go
    /// over the limit (the refused request itself is not counted).
    pub(crate) fn charge(
        &mut self,
        path: &str,
        bucket: Bucket,
        weight: u32,
        now_ms: i64,
    ) -> Result<(), u64> {
        let used = self.used(bucket, now_ms);
        let window = self.window_ms();
        if used + weight > self.limit(path, bucket) {
            self.weight_refusals += 1;
            let into_minute = now_ms.rem_euclid(window);
            return Err(((window - into_minute + 999) / 1000) as u64);
        }
        if let Some(slot) = self.used.get_mut(bucket.key) {
            slot.1 += weight;
            let max = self.max_used.entry(bucket.key).or_default();
            *max = (*max).max(slot.1);
        }
        Ok(())
    }
}

/// The state behind a mutex that survives a panicking test thread, and the request gate.
#[derive(Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) gate: super::gate::Gate,
    /// Waited before every response (see [`super::FakeConfig::latency`]).
    pub(crate) latency: Duration,
}

impl Shared {
    /// Fresh state answering after `latency`.
    pub(crate) fn with_latency(latency: Duration) -> Shared {
        Shared {
            latency,
            ..Shared::default()
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
