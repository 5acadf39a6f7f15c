//! Candle open-time arithmetic: fixed-length intervals and calendar months, aligned as
//! Binance aligns them (epoch multiples; weeks open on Monday; months on the 1st, UTC).

use dsm_sdk::calendar::{month_number, month_number_start, month_start};
use dsm_sdk::time::DAY_MS;

/// 1970-01-01 was a Thursday; Binance weeks open on Monday 00:00 UTC (1970-01-05).
const WEEK_OFFSET_MS: i64 = 4 * DAY_MS;

/// Length of a fixed interval in milliseconds, for "1s" through "1w". `None` for anything
/// else, including "1M": months have no fixed length (the candle functions handle them as
/// calendar months).
pub fn interval_ms(interval: &str) -> Option<i64> {
    let ms = match interval {
        "1s" => 1_000,
        "1m" => 60_000,
        "3m" => 3 * 60_000,
        "5m" => 5 * 60_000,
        "15m" => 15 * 60_000,
        "30m" => 30 * 60_000,
        "1h" => 3_600_000,
        "2h" => 2 * 3_600_000,
        "4h" => 4 * 3_600_000,
        "6h" => 6 * 3_600_000,
        "8h" => 8 * 3_600_000,
        "12h" => 12 * 3_600_000,
        "1d" => DAY_MS,
        "3d" => 3 * DAY_MS,
        "1w" => 7 * DAY_MS,
        _ => return None,
    };
    Some(ms)
}

/// How consecutive open times follow each other for one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Fixed { len: i64, offset: i64 },
    Month,
}

impl Step {
    pub(crate) fn parse(interval: &str) -> Option<Step> {
        if interval == "1M" {
            return Some(Step::Month);
        }
        let len = interval_ms(interval)?;
        let offset = if interval == "1w" { WEEK_OFFSET_MS } else { 0 };
        Some(Step::Fixed { len, offset })
    }

    /// Open time of the candle that contains `t`.
    pub(crate) fn floor(self, t: i64) -> i64 {
        match self {
            Step::Fixed { len, offset } => t - (t - offset).rem_euclid(len),
            Step::Month => month_start(t),
        }
    }

    /// The first open time at or after `t`.
    pub(crate) fn ceil(self, t: i64) -> i64 {
        let f = self.floor(t);
        if f == t {
            t
        } else {
            self.next(f)
        }
    }

    pub(crate) fn next(self, open: i64) -> i64 {
        match self {
            Step::Fixed { len, .. } => open + len,
            Step::Month => add_months(open, 1),
        }
    }

    pub(crate) fn prev(self, open: i64) -> i64 {
        match self {
            Step::Fixed { len, .. } => open - len,
            Step::Month => add_months(open, -1),
        }
    }

    /// Open times that exist within `[lo, hi]` (inclusive) given the first candle ever
    /// (`listing`) and the current time (the still-forming candle counts). `None` if empty.
    /// Clamping first keeps the arithmetic away from i64 overflow on silly query values.
    pub(crate) fn span(self, lo: i64, hi: i64, listing: i64, now: i64) -> Option<(i64, i64)> {
        if lo > now || hi < listing {
            return None;
        }
        let first = self.ceil(lo.max(listing));
        let top = hi.min(now);
        if top < first {
            return None;
        }
        Some((first, self.floor(top)))
    }

    /// Open times of the candles in `[start_ms, end_ms)` that have closed by `now`, ascending
    /// (what an `expected_*` lists where the plugin drops the forming candle).
    pub(crate) fn closed(self, start_ms: i64, end_ms: i64, listing: i64, now: i64) -> Vec<i64> {
        let Some((first, last)) = self.span(start_ms, end_ms - 1, listing, now) else {
            return Vec::new();
        };
        let mut out = self.oldest(first, last, usize::MAX);
        out.retain(|t| self.next(*t) <= now);
        out
    }

    /// Up to `limit` open times from `first` upwards, not past `last`.
    pub(crate) fn oldest(self, first: i64, last: i64, limit: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(limit.min(4096));
        let mut t = first;
        while t <= last && out.len() < limit {
            out.push(t);
            t = self.next(t);
        }
        out
    }

    /// The newest `limit` open times in `[first, last]`, oldest first.
    pub(crate) fn newest(self, first: i64, last: i64, limit: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(limit.min(4096));
        let mut t = last;
        while t >= first && out.len() < limit {
            out.push(t);
            t = self.prev(t);
        }
        out.reverse();
        out
    }
}

fn add_months(t: i64, k: i64) -> i64 {
    month_number_start(month_number(t) + k)
}

/// `dsm_sdk::calendar::days_from_civil` on the fake's i64 fields.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    dsm_sdk::calendar::days_from_civil(y, m as u32, d as u32)
}

/// `dsm_sdk::calendar::civil_from_days` as (year, month 1-12, day 1-31) in i64.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let (y, m, d) = dsm_sdk::calendar::civil_from_days(z);
    (y, i64::from(m), i64::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn months_follow_the_calendar() {
        let s = Step::Month;
        assert_eq!(s.floor(JAN_2024 + 5 * DAY_MS), JAN_2024);
        assert_eq!(s.next(JAN_2024), JAN_2024 + 31 * DAY_MS);
        // 2024 is a leap year: February has 29 days.
        assert_eq!(s.next(s.next(JAN_2024)), JAN_2024 + 60 * DAY_MS);
        assert_eq!(s.prev(JAN_2024), JAN_2024 - 31 * DAY_MS);
        assert_eq!(s.ceil(JAN_2024 + 1), JAN_2024 + 31 * DAY_MS);
    }

    #[test]
    fn weeks_open_on_monday() {
        let s = Step::parse("1w").unwrap();
        // 2024-01-01 was a Monday.
        assert_eq!(s.floor(JAN_2024 + 3 * DAY_MS), JAN_2024);
        assert_eq!(civil_from_days(days_from_civil(2017, 1, 2)), (2017, 1, 2));
    }

    #[test]
    fn newest_and_oldest_pick_the_right_ends() {
        let s = Step::parse("1m").unwrap();
        let (a, b) = s.span(0, 10 * 60_000, 0, i64::MAX / 2).unwrap();
        assert_eq!(s.oldest(a, b, 3), vec![0, 60_000, 120_000]);
        assert_eq!(s.newest(a, b, 2), vec![540_000, 600_000]);
        assert_eq!(s.span(1, 59_999, 0, i64::MAX / 2), None);
    }
}
