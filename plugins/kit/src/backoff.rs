//! Retry delays: exponential backoff with jitter, and the server's Retry-After.

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Backoff settings, from `ProviderConfig`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base_ms: u64,
    pub max_ms: u64,
}

impl Backoff {
    /// The ceiling before retry number `retry` (0 for the first retry): `base * 2^retry`,
    /// capped at `max`.
    pub fn ceiling_ms(&self, retry: u32) -> u64 {
        let factor = 1u64.checked_shl(retry.min(62)).unwrap_or(u64::MAX);
        self.base_ms.saturating_mul(factor).min(self.max_ms)
    }

    /// The delay before retry number `retry`: uniform in `[ceiling / 2, ceiling]` ("equal
    /// jitter"), so concurrent clients spread out yet every wait stays meaningful.
    pub fn delay(&self, retry: u32) -> Duration {
        let hi = self.ceiling_ms(retry);
        let ms = if hi == 0 {
            0
        } else {
            rand::thread_rng().gen_range(hi / 2..=hi)
        };
        Duration::from_millis(ms)
    }
}

/// Retry-After in milliseconds, when the header holds a number of seconds (the form
/// exchanges use; an HTTP date is ignored and the caller backs off instead).
pub fn retry_after_ms(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = value.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_bounds_and_cap() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 1_000,
        };
        let ceilings: Vec<u64> = (0..6).map(|r| b.ceiling_ms(r)).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1_000, 1_000]);
        for retry in 0..6 {
            for _ in 0..200 {
                let d = b.delay(retry).as_millis() as u64;
                let hi = b.ceiling_ms(retry);
                assert!(d >= hi / 2 && d <= hi, "retry {retry}: {d} ms");
            }
        }
        assert_eq!(b.ceiling_ms(500), 1_000);
    }

    #[test]
    fn zero_base_means_no_wait() {
        let b = Backoff {
            base_ms: 0,
            max_ms: 0,
        };
        assert_eq!(b.delay(3), Duration::ZERO);
    }

    #[test]
    fn retry_after_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after_ms(&h), None);
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after_ms(&h), Some(2_000));
        h.insert(RETRY_AFTER, "0.5".parse().unwrap());
        assert_eq!(retry_after_ms(&h), Some(500));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_ms(&h), None);
    }
}
