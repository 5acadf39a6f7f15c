//! UTC calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms), shared by the
//! host (periods, intervals, time parsing) and the plugins (archive file names, months).

use crate::time::DAY_MS;

/// Days since 1970-01-01 of a date (month 1-12, day 1-31).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let (m, d) = (i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1-12, day 1-31) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

/// The number of days in a month (month 1-12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// Midnight UTC of the day holding `t` (ms).
pub fn day_start(t: i64) -> i64 {
    t - t.rem_euclid(DAY_MS)
}

/// The month holding `t` (ms) as a count of months since year 0: `year * 12 + month - 1`.
/// Month arithmetic (`n` months later, `n`-month boundaries) is plain integer math on it.
pub fn month_number(t: i64) -> i64 {
    let (y, m, _) = civil_from_days(t.div_euclid(DAY_MS));
    y * 12 + i64::from(m) - 1
}

/// Midnight UTC on the 1st of month number `n` (see [`month_number`]).
pub fn month_number_start(n: i64) -> i64 {
    days_from_civil(n.div_euclid(12), (n.rem_euclid(12) + 1) as u32, 1) * DAY_MS
}

/// Midnight UTC on the 1st of the month holding `t`.
pub fn month_start(t: i64) -> i64 {
    month_number_start(month_number(t))
}

/// Midnight UTC on the 1st of the month after the one holding `t`.
pub fn next_month_start(t: i64) -> i64 {
    month_number_start(month_number(t) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_dates() {
        for day in [-1000, 0, 59, 365, 10_957, 19_723, 20_000, 50_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
    }

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn month_lengths_follow_the_gregorian_rules() {
        assert_eq!(days_in_month(2024, 1), 31);
        assert_eq!(days_in_month(2024, 2), 29); // divisible by 4
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(1900, 2), 28); // by 100, not 400
        assert_eq!(days_in_month(2000, 2), 29); // by 400
        assert_eq!(days_in_month(2024, 4), 30);
        assert_eq!(days_in_month(2024, 12), 31);
    }

    #[test]
    fn day_and_month_floors() {
        assert_eq!(day_start(JAN_2024 + DAY_MS - 1), JAN_2024);
        assert_eq!(day_start(JAN_2024), JAN_2024);
        assert_eq!(day_start(-1), -DAY_MS);
        let feb = JAN_2024 + 31 * DAY_MS;
        assert_eq!(month_start(feb + 28 * DAY_MS + 5), feb);
        assert_eq!(next_month_start(feb), feb + 29 * DAY_MS);
        assert_eq!(next_month_start(JAN_2024 - 1), JAN_2024); // December to January
        assert_eq!(month_start(-1), -31 * DAY_MS); // 1969-12-01
        assert_eq!(month_number(JAN_2024), 2024 * 12);
        assert_eq!(month_number_start(2024 * 12 + 1), feb);
        assert_eq!(month_number_start(2024 * 12 - 1), JAN_2024 - 31 * DAY_MS);
    }
}
