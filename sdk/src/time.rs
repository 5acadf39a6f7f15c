//! Time units in milliseconds and the clock, shared by the host and the plugins (every
//! timestamp dsm handles is milliseconds since 1970-01-01 UTC).

use std::time::{SystemTime, UNIX_EPOCH};

/// A second in milliseconds.
pub const SECOND_MS: i64 = 1_000;
/// A minute in milliseconds.
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
/// An hour in milliseconds.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// A UTC day in milliseconds (UTC has no leap seconds in Unix time).
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// A week in milliseconds.
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// The current time in milliseconds UTC (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_clock() {
        assert_eq!(DAY_MS, 86_400_000);
        assert_eq!(WEEK_MS, 604_800_000);
        // 2024-01-01: any clock this code runs on is later.
        assert!(now_ms() > 1_704_067_200_000);
    }
}
