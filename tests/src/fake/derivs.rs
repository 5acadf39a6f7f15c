//! Deterministic derivatives data for the fake's OKX and Bybit answers: funding settlements
//! (times and rates) and premium index candles. Like candles.rs, every value is a pure
//! function of (series key, time), printed as fixed-point text and parsed back from that
//! very text by the `expected_*` functions, so comparisons are exact.
//!
//! Funding intervals change, as real ones do: a series settles every 8 h (00, 08, 16 UTC)
//! until its switch time, then every 4 h.

use super::candles::{fixed, fnv1a, mix, unit};
use super::grid::Step;

const HOUR_MS: i64 = 3_600_000;
/// 2024-03-01T00:00:00Z.
pub const SWITCH_2024_03: i64 = 1_709_251_200_000;
/// 2025-01-01T00:00:00Z.
pub const SWITCH_2025_01: i64 = 1_735_689_600_000;

/// When a series settles funding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    /// The first settlement.
    pub(crate) listing: i64,
    /// From here on every 4 h, before every 8 h; `None`: 8 h throughout.
    pub(crate) switch: Option<i64>,
}

impl Schedule {
    fn interval_at(self, t: i64) -> i64 {
        match self.switch {
            Some(s) if t >= s => 4 * HOUR_MS,
            _ => 8 * HOUR_MS,
        }
    }

    /// The latest settlement at or before `t`.
    fn floor(self, t: i64) -> i64 {
        t - t.rem_euclid(self.interval_at(t))
    }

    /// Settlements in `[lo, hi]` no later than `now`, newest first, at most `limit`.
    pub(crate) fn newest(self, lo: i64, hi: i64, now: i64, limit: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let top = hi.min(now);
        if top < self.listing {
            return out;
        }
        let floor = lo.max(self.listing);
        let mut t = self.floor(top);
        while t >= floor && out.len() < limit {
            out.push(t);
            t = self.floor(t - 1);
        }
        out
    }

    /// Every settlement in `[start_ms, end_ms)` up to `now`, ascending: what an
    /// `expected_*_funding` lists.
    pub(crate) fn settled(self, start_ms: i64, end_ms: i64, now: i64) -> Vec<i64> {
        let mut times = self.newest(start_ms, end_ms - 1, now, usize::MAX);
        times.reverse();
        times
    }
}

/// The funding rate of `key` at `t` in units of 1e-16: around +0.01 %, within +-0.03 %.
pub(crate) fn rate_units(key: &str, t: i64) -> i128 {
    let u = unit(mix(
        fnv1a(key.as_bytes()) ^ (t as u64).wrapping_mul(0x9E37_79B9)
    ));
    (1e12 + (u - 0.5) * 6e12) as i128
}

/// A hash-chosen one in `n` of a series' settlements (for occasional quirks).
pub(crate) fn one_in(key: &str, t: i64, n: u64) -> bool {
    mix(fnv1a(key.as_bytes()).rotate_left(7) ^ t as u64).is_multiple_of(n)
}

/// Decimal text with trailing zeros (and a bare point) removed, as Bybit prints rates.
pub(crate) fn trimmed(units: i128, dp: u32) -> String {
    let s = fixed(units, dp);
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A premium index candle of `key` opening at `t` on `step`: open, high, low, close as
/// signed fractions with 6 decimals ("-0.000587").
pub(crate) fn premium_row(key: &str, step: Step, t: i64) -> [String; 4] {
    let seed = fnv1a(key.as_bytes());
    let at = |x: i64| -> i128 {
        let wave = ((x as f64) / 86_400_000.0 * 0.7 + (seed % 97) as f64).sin();
        (wave * 600.0) as i128 - 100
    };
    let noise = |k: u64| (unit(mix(seed ^ (t as u64) ^ k)) * 200.0) as i128;
    let (open, close) = (at(t), at(step.next(t)));
    let high = open.max(close) + noise(1);
    let low = open.min(close) - noise(2);
    [open, high, low, close].map(|u| fixed(u, 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_switch_from_8h_to_4h() {
        let s = Schedule {
            listing: 0,
            switch: Some(SWITCH_2024_03),
        };
        let around = s.newest(
            SWITCH_2024_03 - 24 * HOUR_MS,
            SWITCH_2024_03 + 12 * HOUR_MS,
            i64::MAX,
            100,
        );
        let gaps: Vec<i64> = around.windows(2).map(|w| (w[0] - w[1]) / HOUR_MS).collect();
        assert_eq!(gaps, [4, 4, 4, 8, 8, 8]);
        assert_eq!(around[0], SWITCH_2024_03 + 12 * HOUR_MS);
        assert!(s.newest(0, 100, 50, 9).len() == 1, "none after now");
        assert_eq!(trimmed(1_000_000_000_000, 16), "0.0001");
        assert_eq!(trimmed(-312_500_000_000, 16), "-0.00003125");
        let r = rate_units("k", SWITCH_2024_03);
        assert!((-2_000_000_000_000..4_000_000_000_000).contains(&r));
        let p = premium_row("k", Step::parse("1h").unwrap(), SWITCH_2024_03);
        let v: Vec<f64> = p.iter().map(|s| s.parse().unwrap()).collect();
        assert!(v[1] >= v[0].max(v[3]) && v[2] <= v[0].min(v[3]), "{p:?}");
    }
}
