//! Parsing the times users type: a date, an RFC 3339 time (naive = UTC) or integer ms.

use dsm_sdk::calendar::days_in_month;

use crate::error::{DsmError, Result};
use crate::interval::{civil_from_days, days_from_civil, DAY};

/// Earliest and latest years accepted: crypto exchanges have no data outside them, and a
/// typo like 20245 should be an error, not a request.
const YEARS: std::ops::RangeInclusive<i64> = 2009..=2100;

/// Milliseconds UTC of `s`: `2024-01-01`, `2024-01-01T12:30:00Z`, `2024-01-01 12:30`,
/// `2024-01-01T12:30:00+02:00`, or integer milliseconds `1704067200000`.
pub fn parse_time(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = |why: &str| {
        DsmError::InvalidInput(format!(
            "time {s:?} is not valid ({why}); use a date (2024-01-01), an RFC 3339 time \
             (2024-01-01T12:00:00Z; without a zone it is UTC) or integer milliseconds"
        ))
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s.parse().map_err(|_| bad("number too large"))?;
        let year = civil_from_days(ms.div_euclid(DAY)).0;
        if !YEARS.contains(&year) {
            return Err(bad(&format!(
                "as milliseconds that is the year {year}; seconds must be multiplied by 1000"
            )));
        }
        return Ok(ms);
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad("expected YYYY-MM-DD"));
    }
    let year = num(&s[0..4]).ok_or_else(|| bad("year"))?;
    let month = num(&s[5..7]).ok_or_else(|| bad("month"))?;
    let day = num(&s[8..10]).ok_or_else(|| bad("day"))?;
    if !YEARS.contains(&year) {
        return Err(bad(&format!(
            "year {year} is outside {}..={}",
            YEARS.start(),
            YEARS.end()
        )));
    }
    if !(1..=12).contains(&month) || day < 1 || day > i64::from(days_in_month(year, month as u32)) {
        return Err(bad("no such date"));
    }
    let date_ms = days_from_civil(year, month as u32, day as u32) * DAY;
    let rest = &s[10..];
    if rest.is_empty() {
        return Ok(date_ms);
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .ok_or_else(|| bad("expected T or a space after the date"))?;
    let (clock, offset_ms) = split_zone(rest).ok_or_else(|| bad("time zone"))?;
    let clock_ms = parse_clock(clock).ok_or_else(|| bad("expected HH:MM[:SS[.fff]]"))?;
    Ok(date_ms + clock_ms - offset_ms)
}

fn num(s: &str) -> Option<i64> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Split `12:00:00+02:00` into the clock and the zone's offset in ms (`Z`/none = 0).
fn split_zone(s: &str) -> Option<(&str, i64)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match s.rfind(['+', '-']) {
        Some(i) => {
            let sign = if &s[i..i + 1] == "-" { -1 } else { 1 };
            let zone = &s[i + 1..];
            let (h, m) = zone.split_once(':').unwrap_or((zone, "00"));
            let (h, m) = (num(h)?, num(m)?);
            if h > 23 || m > 59 || zone.len() > 5 {
                return None;
            }
            Some((&s[..i], sign * (h * 3_600_000 + m * 60_000)))
        }
        None => Some((s, 0)),
    }
}

fn parse_clock(s: &str) -> Option<i64> {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = hms.split(':');
    let h = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let sec = parts.next().map(num).unwrap_or(Some(0))?;
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 || frac.len() > 9 {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        num(&format!("{frac:0<3}")[..3])?
    };
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// `YYYY-MM-DD` of a time in ms.
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` (with `.mmm` when needed) of a time in ms.
pub fn format_time(ms: i64) -> String {
    let day_ms = ms.rem_euclid(DAY);
    let (h, m, s, f) = (
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1000 % 60,
        day_ms % 1000,
    );
    let frac = if f == 0 {
        String::new()
    } else {
        format!(".{f:03}")
    };
    format!("{}T{h:02}:{m:02}:{s:02}{frac}Z", format_date(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN1: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(parse_time("2024-01-01").unwrap(), JAN1);
        assert_eq!(parse_time("2024-01-01T00:00:00Z").unwrap(), JAN1);
        assert_eq!(parse_time("2024-01-01 01:30").unwrap(), JAN1 + 5_400_000);
        assert_eq!(parse_time("2024-01-01T02:00:00+02:00").unwrap(), JAN1);
        assert_eq!(parse_time("2023-12-31T22:00:00-02:00").unwrap(), JAN1);
        assert_eq!(parse_time("2024-01-01T00:00:00.250").unwrap(), JAN1 + 250);
        assert_eq!(parse_time("1704067200000").unwrap(), JAN1);
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for bad in [
            "",
            "2024-13-01",
            "2024-02-30",
            "24-01-01",
            "2024/01/01",
            "2024-01-01X",
            "2024-01-01T25:00",
            "1704067200",
            "99999-01-01",
            "1900-01-01",
            "2024-01-01T00:00+99:00",
        ] {
            let err = parse_time(bad).unwrap_err().to_string();
            assert!(err.contains("is not valid"), "{bad}: {err}");
        }
        assert!(parse_time("1704067200")
            .unwrap_err()
            .to_string()
            .contains("1000"));
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_time(JAN1 + 5_400_000), "2024-01-01T01:30:00Z");
        assert_eq!(format_time(JAN1 + 1), "2024-01-01T00:00:00.001Z");
        assert_eq!(format_date(JAN1 - 1), "2023-12-31");
    }
}
