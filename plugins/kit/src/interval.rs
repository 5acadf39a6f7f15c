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
}
