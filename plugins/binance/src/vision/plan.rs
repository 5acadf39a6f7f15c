//! Which Vision files serve a range: whole past months from monthly files (daily files when
//! a monthly one is missing), other days from daily files; 3d, 1w and 1M from monthly files
//! only; 1s from daily files only (a month of 1s is ~2.6M rows: memory stays bounded by
//! day-sized files).

use dsm_plugin_kit::calendar::{day_start, month_start, next_month_start, DAY_MS};

use super::paths::monthly_only;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A daily file; one batch.
    Day,
    /// A monthly file of a day-or-shorter interval, split into one batch per day; falls
    /// back to the month's daily files when it is not in the archive.
    Month,
    /// A monthly file of 3d, 1w or 1M; one batch for the month.
    MonthOnly,
}

/// One file to fetch: the period it holds `[start, end)` and the part of it requested
/// `[lo, hi)` (the whole period unless the range cuts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub kind: Kind,
    pub start: i64,
    pub end: i64,
    pub lo: i64,
    pub hi: i64,
}

impl Unit {
    fn new(kind: Kind, start: i64, end: i64, (lo, hi): (i64, i64)) -> Unit {
        Unit {
            kind,
            start,
            end,
            lo: lo.max(start),
            hi: hi.min(end),
        }
    }

    /// Whether its file can exist yet at `now`: daily files appear the day after, monthly
    /// files after the month.
    pub fn published_by(&self, now_ms: i64) -> bool {
        match self.kind {
            Kind::Day => self.end <= day_start(now_ms),
            Kind::Month | Kind::MonthOnly => self.end <= month_start(now_ms),
        }
    }

    /// The days of the period, for splitting a monthly file and for its daily fallback.
    pub fn days(&self) -> impl Iterator<Item = i64> {
        let (start, end) = (self.start, self.end);
        (0..)
            .map(move |i| start + i * DAY_MS)
            .take_while(move |d| *d < end)
    }
}

/// The files for `[start, end)` at `now`, ascending and contiguous.
pub fn plan(interval: &str, start: i64, end: i64, now_ms: i64) -> Vec<Unit> {
    let range = (start, end);
    let mut out = Vec::new();
    if start >= end {
        return out;
    }
    if monthly_only(interval) {
        let mut m = month_start(start);
        while m < end {
            let next = next_month_start(m);
            out.push(Unit::new(Kind::MonthOnly, m, next, range));
            m = next;
        }
        return out;
    }
    let this_month = month_start(now_ms);
    let mut d = day_start(start);
    while d < end {
        let next_month = next_month_start(d);
        let whole_month = d == month_start(d) && d >= start && next_month <= end;
        if whole_month && interval != "1s" && next_month <= this_month {
            out.push(Unit::new(Kind::Month, d, next_month, range));
            d = next_month;
        } else {
            out.push(Unit::new(Kind::Day, d, d + DAY_MS, range));
            d += DAY_MS;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;
    const FEB_2024: i64 = JAN_2024 + 31 * DAY_MS;
    const MAR_2024: i64 = FEB_2024 + 29 * DAY_MS;
    const NOW: i64 = JAN_2024 + 400 * DAY_MS;

    fn kinds(units: &[Unit]) -> Vec<(Kind, i64, i64)> {
        units.iter().map(|u| (u.kind, u.start, u.end)).collect()
    }

    #[test]
    fn whole_months_from_monthly_files_the_rest_daily() {
        let u = plan("1m", JAN_2024 - 2 * DAY_MS, MAR_2024 + DAY_MS, NOW);
        assert_eq!(
            kinds(&u),
            [
                (Kind::Day, JAN_2024 - 2 * DAY_MS, JAN_2024 - DAY_MS),
                (Kind::Day, JAN_2024 - DAY_MS, JAN_2024),
                (Kind::Month, JAN_2024, FEB_2024),
                (Kind::Month, FEB_2024, MAR_2024),
                (Kind::Day, MAR_2024, MAR_2024 + DAY_MS),
            ]
        );
        assert!(u.iter().all(|u| (u.lo, u.hi) == (u.start, u.end)));
        assert_eq!(u[2].days().count(), 31);
        assert_eq!(u[3].days().last(), Some(MAR_2024 - DAY_MS));
    }

    #[test]
    fn current_month_and_1s_use_daily_files() {
        // "Now" in February: January is whole and past, February is the current month.
        let now = FEB_2024 + 20 * DAY_MS;
        let u = plan("1h", JAN_2024, MAR_2024, now);
        assert_eq!(u[0].kind, Kind::Month);
        assert_eq!(u.len(), 1 + 29);
        assert!(u[1..].iter().all(|u| u.kind == Kind::Day));
        assert!(u[0].published_by(now));
        // u[20] is February 20th, published on the 21st ("now").
        assert!(u[20].published_by(now) && !u[21].published_by(now));
        let u = plan("1s", JAN_2024, FEB_2024, NOW);
        assert_eq!(u.len(), 31);
        assert!(u.iter().all(|u| u.kind == Kind::Day));
    }

    #[test]
    fn monthly_only_intervals_and_cut_ranges() {
        let u = plan("1w", JAN_2024, MAR_2024, NOW);
        assert_eq!(
            kinds(&u),
            [
                (Kind::MonthOnly, JAN_2024, FEB_2024),
                (Kind::MonthOnly, FEB_2024, MAR_2024)
            ]
        );
        let u = plan("1M", JAN_2024 + DAY_MS, FEB_2024 + DAY_MS, NOW);
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].lo, u[0].hi), (JAN_2024 + DAY_MS, FEB_2024));
        assert_eq!((u[1].lo, u[1].hi), (FEB_2024, FEB_2024 + DAY_MS));
        // A range that is not day-aligned: the days it touches, cut.
        let u = plan("1m", JAN_2024 + 60_000, JAN_2024 + DAY_MS + 60_000, NOW);
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].lo, u[0].hi), (JAN_2024 + 60_000, JAN_2024 + DAY_MS));
        assert_eq!(
            (u[1].lo, u[1].hi),
            (JAN_2024 + DAY_MS, JAN_2024 + DAY_MS + 60_000)
        );
        assert!(plan("1m", JAN_2024, JAN_2024, NOW).is_empty());
    }
}
