//! Routing and shared state for the OKX and Bybit v5 APIs of the fake exchange
//! (okx.rs, bybit.rs): which paths are theirs, and sliding-window request counters.

use std::collections::{HashMap, VecDeque};

use super::http::{Request, Response};
use super::state::State;
use super::{bybit, okx};

/// Whether `path` belongs to the OKX or Bybit API.
pub(crate) fn owns(path: &str) -> bool {
    path.starts_with("/api/v5/") || path.starts_with("/v5/")
}

/// The normal answer to a request on one of their paths.
pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if req.path.starts_with("/api/v5/") {
        okx::answer(st, req, now_ms)
    } else {
        bybit::answer(st, req, now_ms)
    }
}

/// Requests counted per limit key, for "N requests per window" limits.
#[derive(Default)]
pub(crate) struct V5State {
    sent: HashMap<&'static str, VecDeque<i64>>,
    /// A clock the counters use instead of the wall clock, set by a test so that "20
    /// requests within 2 s" holds however slow the machine is.
    pub(crate) frozen_ms: Option<i64>,
}

impl V5State {
    /// Counts a request on `key` at `now_ms` when fewer than `max` were counted in the last
    /// `window_ms` and returns how many remain; else `Err(ms until the oldest leaves)`.
    /// Refused requests are not counted.
    pub(crate) fn admit(
        &mut self,
        key: &'static str,
        max: usize,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<usize, i64> {
        let now_ms = self.frozen_ms.unwrap_or(now_ms);
        let sent = self.sent.entry(key).or_default();
        while sent.front().is_some_and(|t| now_ms - t >= window_ms) {
            sent.pop_front();
        }
        if sent.len() >= max {
            return Err(sent.front().map_or(0, |t| t + window_ms - now_ms));
        }
        sent.push_back(now_ms);
        Ok(max - sent.len())
    }

    /// When the oldest counted request on `key` leaves the window.
    pub(crate) fn reset_at(&self, key: &'static str, window_ms: i64, now_ms: i64) -> i64 {
        let now_ms = self.frozen_ms.unwrap_or(now_ms);
        self.sent
            .get(key)
            .and_then(|s| s.front())
            .map_or(now_ms, |t| t + window_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window() {
        let mut s = V5State::default();
        assert_eq!(s.admit("k", 2, 1000, 0), Ok(1));
        assert_eq!(s.admit("k", 2, 1000, 10), Ok(0));
        assert_eq!(s.admit("k", 2, 1000, 20), Err(980));
        assert_eq!(s.admit("other", 2, 1000, 20), Ok(1));
        assert_eq!(s.admit("k", 2, 1000, 1000), Ok(0));
        assert_eq!(s.reset_at("k", 1000, 1000), 1010);
    }
}
