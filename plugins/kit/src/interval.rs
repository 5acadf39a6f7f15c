//! dsm interval names (`1s`, `15m`, `4h`, `1d`, `1w`, `1M`) and their length.

/// A candle interval: a fixed length, or calendar months (whose length varies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Fixed { ms: i64 },
    Months(u32),
}

const DAY_MS: i64 = 86_400_000;

impl Interval {
    /// Parse a dsm interval name: a count and a unit `s m h d w M` (`M` = months).
    pub fn parse(name: &str) -> Option<Interval> {
        let unit = name.chars().last()?;
        let count: u32 = name[..name.len() - unit.len_utf8()].parse().ok()?;
        if count == 0 {
            return None;
        }
        let unit_ms = match unit {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => DAY_MS,
            'w' => 7 * DAY_MS,
            'M' => return Some(Interval::Months(count)),
            _ => return None,
        };
        Some(Interval::Fixed {
            ms: unit_ms * i64::from(count),
        })
    }

    /// The shortest time between two open times: exact for fixed intervals, the shortest
    /// month (28 days) for months. Windows sized by it never hold more candles than planned.
    pub fn min_step_ms(self) -> i64 {
        match self {
            Interval::Fixed { ms } => ms,
            Interval::Months(n) => i64::from(n) * 28 * DAY_MS,
        }
    }

    /// The open time of the candle after the one opening at `open_ms` (UTC calendar months
    /// for `Months`), for exchanges whose rows carry no close time: close = next open - 1.
    pub fn next_open(self, open_ms: i64) -> i64 {
        match self {
            Interval::Fixed { ms } => open_ms + ms,
            Interval::Months(n) => {
                (0..n).fold(open_ms, |t, _| crate::calendar::next_month_start(t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dsm_names() {
        assert_eq!(Interval::parse("1s"), Some(Interval::Fixed { ms: 1_000 }));
        assert_eq!(
            Interval::parse("15m"),
            Some(Interval::Fixed { ms: 900_000 })
        );
        assert_eq!(
            Interval::parse("12h"),
            Some(Interval::Fixed { ms: 43_200_000 })
        );
        assert_eq!(Interval::parse("3d").unwrap().min_step_ms(), 3 * DAY_MS);
        assert_eq!(Interval::parse("1w").unwrap().min_step_ms(), 7 * DAY_MS);
        assert_eq!(Interval::parse("1M"), Some(Interval::Months(1)));
        assert_eq!(Interval::parse("1M").unwrap().min_step_ms(), 28 * DAY_MS);
        for bad in ["", "m", "0m", "1x", "1mo", "-1m", "1é"] {
            assert_eq!(Interval::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn next_open_follows_the_calendar() {
        const JAN_2024: i64 = 1_704_067_200_000;
        let h = Interval::parse("1h").unwrap();
        assert_eq!(h.next_open(JAN_2024), JAN_2024 + 3_600_000);
        let m = Interval::parse("1M").unwrap();
        assert_eq!(m.next_open(JAN_2024), JAN_2024 + 31 * DAY_MS);
        // 2024 is a leap year: February has 29 days.
        let feb = m.next_open(JAN_2024);
        assert_eq!(m.next_open(feb), feb + 29 * DAY_MS);
        let dec_2023 = JAN_2024 - 31 * DAY_MS;
        assert_eq!(m.next_open(dec_2023), JAN_2024);
    }
}
