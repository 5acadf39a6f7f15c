//! UTC calendar arithmetic on millisecond timestamps: days, months, and their names.
//! The conversions and month arithmetic are the SDK's, shared with the host.

pub use dsm_sdk::calendar::{
    civil_from_days, day_start, days_from_civil, month_start, next_month_start,
};
pub use dsm_sdk::time::DAY_MS;

/// A UTC calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i64,
    /// 1-12
    pub month: u32,
    /// 1-31
    pub day: u32,
}

impl Date {
    /// The date `t` (ms since the epoch, UTC) falls on.
    pub fn of_ms(t: i64) -> Date {
        let (year, month, day) = civil_from_days(t.div_euclid(DAY_MS));
        Date { year, month, day }
    }

    /// Midnight UTC at the start of this date, in ms.
    pub fn start_ms(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * DAY_MS
    }

    /// `YYYY-MM-DD`
    pub fn ymd(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `YYYY-MM`
    pub fn ym(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn days_and_months() {
        let d = Date::of_ms(JAN_2024 + 59 * DAY_MS + 5);
        assert_eq!((d.year, d.month, d.day), (2024, 2, 29));
        assert_eq!(d.ymd(), "2024-02-29");
        assert_eq!(d.ym(), "2024-02");
        assert_eq!(d.start_ms(), JAN_2024 + 59 * DAY_MS);
        assert_eq!(day_start(JAN_2024 + DAY_MS - 1), JAN_2024);
        assert_eq!(month_start(JAN_2024 + 40 * DAY_MS), JAN_2024 + 31 * DAY_MS);
        assert_eq!(
            next_month_start(JAN_2024 + 31 * DAY_MS),
            JAN_2024 + 60 * DAY_MS
        );
        assert_eq!(next_month_start(JAN_2024 - 1), JAN_2024);
        assert_eq!(Date::of_ms(0).ymd(), "1970-01-01");
        assert_eq!(Date::of_ms(-1).ymd(), "1969-12-31");
    }
}
