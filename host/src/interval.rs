//! Kline intervals: names, lengths and alignment (UTC).

use std::fmt;

pub use dsm_sdk::calendar::{civil_from_days, days_from_civil};

use crate::error::{DsmError, Result};

/// A second in milliseconds.
pub const SECOND: i64 = 1_000;
/// A minute in milliseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// An hour in milliseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// A day in milliseconds.
pub const DAY: i64 = 24 * HOUR;
/// A week in milliseconds.
pub const WEEK: i64 = 7 * DAY;
/// 1970-01-01 was a Thursday; weekly candles open on Mondays.
const MONDAY_OFFSET: i64 = 4 * DAY;

/// A kline interval: a fixed length, or calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// A fixed length in milliseconds (`1s` .. `1w`).
    Fixed(i64),
    /// A number of calendar months (`1M`).
    Months(u32),
}

impl Interval {
    /// Parse a dsm interval name: `1s`, `1m`, `3m`, `1h`, `1d`, `3d`, `1w`, `1M` (`1mo` too).
    pub fn parse(name: &str) -> Result<Interval> {
        let name = name.trim();
        let split = name
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(name.len());
        let (num, unit) = name.split_at(split);
        let n: i64 = num.parse().ok().filter(|n| *n > 0 && *n <= 1000).ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "interval {name:?} is not valid: write a count and a unit, e.g. 1m, 15m, 1h, 1d, 1w, 1M"
            ))
        })?;
        let unit_ms = match unit {
            "s" => SECOND,
            "m" => MINUTE,
            "h" | "H" => HOUR,
            "d" | "D" => DAY,
            "w" | "W" => WEEK,
            "M" | "mo" => return Ok(Interval::Months(n as u32)),
            _ => {
                return Err(DsmError::InvalidInput(format!(
                    "interval {name:?} has an unknown unit {unit:?}: use s, m (minutes), h, d, w or M (months)"
                )))
            }
        };
        Ok(Interval::Fixed(n * unit_ms))
    }

    /// Whether a candle may open at `t`.
    pub fn is_aligned(self, t: i64) -> bool {
        self.floor(t) == t
    }

    /// The open time of the candle containing `t`.
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Interval::Fixed(ms) if ms % WEEK == 0 => {
                (t - MONDAY_OFFSET).div_euclid(ms) * ms + MONDAY_OFFSET
            }
            Interval::Fixed(ms) => t.div_euclid(ms) * ms,
            Interval::Months(n) => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY));
                let months = (y * 12 + m as i64 - 1).div_euclid(n as i64) * n as i64;
                month_start(months.div_euclid(12), (months.rem_euclid(12) + 1) as u32)
            }
        }
    }

    /// The open time of the candle after the one opening at `t` (aligned `t`).
    pub fn next(self, t: i64) -> i64 {
        match self {
            Interval::Fixed(ms) => t + ms,
            Interval::Months(n) => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY));
                let months = y * 12 + m as i64 - 1 + n as i64;
                month_start(months.div_euclid(12), (months.rem_euclid(12) + 1) as u32)
            }
        }
    }

    /// The first candle open time at or after `t`.
    pub fn ceil(self, t: i64) -> i64 {
        let f = self.floor(t);
        if f == t {
            t
        } else {
            self.next(f)
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Interval::Months(n) => write!(f, "{n}M"),
            Interval::Fixed(ms) => {
                let units = [
                    (WEEK, "w"),
                    (DAY, "d"),
                    (HOUR, "h"),
                    (MINUTE, "m"),
                    (SECOND, "s"),
                ];
                let (size, unit) = units
                    .into_iter()
                    .find(|(size, _)| ms % size == 0)
                    .unwrap_or((1, "ms"));
                write!(f, "{}{unit}", ms / size)
            }
        }
    }
}

fn month_start(year: i64, month: u32) -> i64 {
    days_from_civil(year, month, 1) * DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_prints_them_back() {
        for name in ["1s", "1m", "3m", "15m", "1h", "12h", "1d", "3d", "1w", "1M"] {
            assert_eq!(Interval::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(Interval::parse("1mo").unwrap(), Interval::Months(1));
        assert!(Interval::parse("0m").is_err());
        assert!(Interval::parse("5x").is_err());
        assert!(Interval::parse("m").is_err());
    }

    #[test]
    fn weeks_open_on_monday_and_months_on_the_first() {
        let w = Interval::parse("1w").unwrap();
        let mon = days_from_civil(2024, 1, 1) * DAY; // a Monday
        assert_eq!(w.floor(mon + 3 * DAY), mon);
        assert!(w.is_aligned(mon) && !w.is_aligned(mon + DAY));
        let m = Interval::parse("1M").unwrap();
        let feb = days_from_civil(2024, 2, 1) * DAY;
        assert_eq!(m.floor(feb + 10 * DAY), feb);
        assert_eq!(m.next(feb), days_from_civil(2024, 3, 1) * DAY);
        assert_eq!(
            m.next(days_from_civil(2023, 12, 1) * DAY),
            days_from_civil(2024, 1, 1) * DAY
        );
        assert_eq!(m.ceil(feb + 1), days_from_civil(2024, 3, 1) * DAY);
    }

    #[test]
    fn civil_round_trips() {
        for day in [-1000, 0, 59, 365, 10_957, 19_723, 20_000, 50_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }
}
