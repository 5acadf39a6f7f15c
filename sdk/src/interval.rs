//! Kline intervals: the one table of dsm interval names, their lengths and their alignment
//! (UTC), used by the host (requests, periods, validation) and the plugins (windows, close
//! times). Plain Rust: nothing here crosses the plugin boundary, where intervals travel as
//! their names.

use std::fmt;

use crate::calendar::{month_number, month_number_start};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, WEEK_MS};

/// 1970-01-01 was a Thursday; weekly candles open on Mondays.
const MONDAY_OFFSET_MS: i64 = 4 * DAY_MS;

/// A kline interval: a fixed length, or calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// A fixed length in milliseconds (`1s` .. `1w`).
    Fixed(i64),
    /// A number of calendar months (`1M`).
    Months(u32),
}

/// Why a name is not an interval; the message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalError(String);

impl fmt::Display for IntervalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IntervalError {}

impl Interval {
    /// Parse an interval name: a count (1-1000) and a unit `s`, `m` (minutes), `h`, `d`,
    /// `w` or `M` (months). Months may also be written `mo` (`1mo`, Binance Vision's name and
    /// what users type to avoid `1M`/`1m` confusion); the canonical name, printed by
    /// `Display` and listed in manifests, is `1M` (as Binance REST, OKX and dsm write it).
    /// `H`, `D` and `W` are accepted for hours, days and weeks (OKX's spelling).
    pub fn parse(name: &str) -> Result<Interval, IntervalError> {
        let name = name.trim();
        let split = name
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(name.len());
        let (num, unit) = name.split_at(split);
        let n: i64 = num.parse().ok().filter(|n| *n > 0 && *n <= 1000).ok_or_else(|| {
            IntervalError(format!(
                "interval {name:?} is not valid: write a count and a unit, e.g. 1m, 15m, 1h, 1d, 1w, 1M"
            ))
        })?;
        let unit_ms = match unit {
            "s" => SECOND_MS,
            "m" => MINUTE_MS,
            "h" | "H" => HOUR_MS,
            "d" | "D" => DAY_MS,
            "w" | "W" => WEEK_MS,
            "M" | "mo" => return Ok(Interval::Months(n as u32)),
            _ => {
                return Err(IntervalError(format!(
                    "interval {name:?} has an unknown unit {unit:?}: use s, m (minutes), h, d, w or M (months)"
                )))
            }
        };
        Ok(Interval::Fixed(n * unit_ms))
    }

    /// Whether a candle may open at `t`.
    #[inline]
    pub fn is_aligned(self, t: i64) -> bool {
        self.floor(t) == t
    }

    /// The open time of the candle containing `t`.
    #[inline]
    pub fn floor(self, t: i64) -> i64 {
        match self {
            Interval::Fixed(ms) if ms % WEEK_MS == 0 => {
                (t - MONDAY_OFFSET_MS).div_euclid(ms) * ms + MONDAY_OFFSET_MS
            }
            Interval::Fixed(ms) => t.div_euclid(ms) * ms,
            Interval::Months(n) => {
                let n = i64::from(n);
                month_number_start(month_number(t).div_euclid(n) * n)
            }
        }
    }

    /// The open time of the candle after the one opening at `t` (aligned `t`); for
    /// exchanges whose rows carry no close time, close = next open - 1.
    #[inline]
    pub fn next(self, t: i64) -> i64 {
        match self {
            Interval::Fixed(ms) => t + ms,
            Interval::Months(n) => month_number_start(month_number(t) + i64::from(n)),
        }
    }

    /// The first candle open time at or after `t`.
    #[inline]
    pub fn ceil(self, t: i64) -> i64 {
        let f = self.floor(t);
        if f == t {
            t
        } else {
            self.next(f)
        }
    }

    /// The shortest time between two open times: exact for fixed intervals, the shortest
    /// month (28 days) for months. Windows sized by it never hold more candles than planned.
    #[inline]
    pub fn min_step_ms(self) -> i64 {
        match self {
            Interval::Fixed(ms) => ms,
            Interval::Months(n) => i64::from(n) * 28 * DAY_MS,
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Interval::Months(n) => write!(f, "{n}M"),
            Interval::Fixed(ms) => {
                let units = [
                    (WEEK_MS, "w"),
                    (DAY_MS, "d"),
                    (HOUR_MS, "h"),
                    (MINUTE_MS, "m"),
                    (SECOND_MS, "s"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::days_from_civil;

    fn day(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * DAY_MS
    }

    #[test]
    fn parses_names_and_prints_them_back() {
        for name in ["1s", "1m", "3m", "15m", "1h", "12h", "1d", "3d", "1w", "1M"] {
            assert_eq!(Interval::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(Interval::parse("15m"), Ok(Interval::Fixed(900_000)));
        assert_eq!(Interval::parse("1H"), Ok(Interval::Fixed(HOUR_MS)));
        assert_eq!(Interval::parse(" 1d "), Ok(Interval::Fixed(DAY_MS)));
        for bad in ["", "m", "0m", "1001m", "1x", "-1m", "1é", "1 m", "1mon"] {
            assert!(Interval::parse(bad).is_err(), "{bad}");
        }
        let e = Interval::parse("5x").unwrap_err().to_string();
        assert!(e.contains("\"5x\"") && e.contains("M (months)"), "{e}");
    }

    #[test]
    fn months_are_1m_upper_or_1mo_and_print_as_1m_upper() {
        assert_eq!(Interval::parse("1M"), Ok(Interval::Months(1)));
        assert_eq!(Interval::parse("1mo"), Ok(Interval::Months(1)));
        assert_eq!(Interval::parse("3mo"), Ok(Interval::Months(3)));
        assert_eq!(Interval::parse("1mo").unwrap().to_string(), "1M");
        // Lowercase m alone is minutes, never months.
        assert_eq!(Interval::parse("1m"), Ok(Interval::Fixed(MINUTE_MS)));
        assert!(Interval::parse("1MO").is_err());
    }

    #[test]
    fn fixed_intervals_align_to_the_epoch_and_weeks_to_monday() {
        let h = Interval::parse("4h").unwrap();
        assert_eq!(
            h.floor(day(2024, 1, 1) + 5 * HOUR_MS),
            day(2024, 1, 1) + 4 * HOUR_MS
        );
        assert!(h.is_aligned(day(2024, 1, 1)) && !h.is_aligned(day(2024, 1, 1) + HOUR_MS));
        assert_eq!(h.floor(-1), -4 * HOUR_MS);
        let w = Interval::parse("1w").unwrap();
        let mon = day(2024, 1, 1); // a Monday
        assert_eq!(w.floor(mon + 3 * DAY_MS), mon);
        assert_eq!(w.floor(mon - 1), mon - WEEK_MS);
        assert!(w.is_aligned(mon) && !w.is_aligned(mon + DAY_MS));
        assert_eq!(w.ceil(mon + 1), mon + WEEK_MS);
        assert_eq!(w.min_step_ms(), WEEK_MS);
    }

    #[test]
    fn months_open_on_the_first_and_follow_the_calendar() {
        let m = Interval::parse("1M").unwrap();
        let feb = day(2024, 2, 1);
        assert_eq!(m.floor(feb + 10 * DAY_MS), feb);
        assert_eq!(m.next(feb), day(2024, 3, 1)); // 29 days: a leap year
        assert_eq!(m.next(day(2023, 2, 1)), day(2023, 3, 1));
        assert_eq!(m.next(day(2023, 12, 1)), day(2024, 1, 1));
        assert_eq!(m.ceil(feb + 1), day(2024, 3, 1));
        assert_eq!(m.ceil(feb), feb);
        assert_eq!(m.min_step_ms(), 28 * DAY_MS);
        let q = Interval::Months(3);
        assert_eq!(q.floor(day(2024, 5, 17)), day(2024, 4, 1));
        assert_eq!(q.next(day(2024, 10, 1)), day(2025, 1, 1));
        assert_eq!(q.floor(day(1969, 12, 31)), day(1969, 10, 1));
    }
}
