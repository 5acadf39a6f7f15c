//! The Vision daily `metrics` files of USD-M and COIN-M perpetuals (wire-formats-datasets.md
//! 4): a header, then a row every 5 minutes with `create_time` as a `YYYY-MM-DD HH:MM:SS`
//! string, from 2021-12-01. Quirks, by day index since then: every 10th day (index % 10 ==
//! 4) has no file (real gaps exist); on index % 10 == 6 the 12:00 row appears twice (the
//! second with other values; the first counts); on index % 10 == 2 the 00:00 row's ratio
//! cells are empty.

use std::fmt::Write as _;

use dsm_sdk::Metric;

use super::candles::{fixed, fnv1a, mix, now_ms, Market};
use super::funding::has_funding;

const DAY_MS: i64 = 86_400_000;
const STEP_MS: i64 = 300_000;
/// First day of metrics files: 2021-12-01.
pub const METRICS_FROM: i64 = 1_638_316_800_000;
pub(crate) const METRICS_HEADER: &str = "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio";

fn index(day: i64) -> i64 {
    (day - METRICS_FROM).div_euclid(DAY_MS)
}

/// Whether the day starting at `day` is one the fake's archive lacks.
pub fn metrics_day_missing(day: i64) -> bool {
    index(day) % 10 == 4
}

/// Whether that day's file repeats a create_time.
pub fn metrics_day_repeats(day: i64) -> bool {
    index(day) % 10 == 6
}

/// Whether the fake archive has the metrics file of `symbol`'s day starting at `day`.
pub(crate) fn has_metrics_day(market: Market, symbol: &str, day: i64, now: i64) -> bool {
    has_funding(market, symbol)
        && day >= METRICS_FROM
        && day + DAY_MS <= now - now.rem_euclid(DAY_MS)
        && !metrics_day_missing(day)
}

fn datetime(t: i64, out: &mut String) {
    let (y, m, d) = super::grid::civil_from_days(t.div_euclid(DAY_MS));
    let s = t.rem_euclid(DAY_MS) / 1000;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
}

/// One row's CSV for time `t` (`salt` varies a repeated row).
fn line(symbol: &str, t: i64, salt: u64, empty: bool, out: &mut String) {
    let h = mix(fnv1a(symbol.as_bytes()) ^ t as u64 ^ salt);
    let oi = 50_000_000 + (h % 10_000_000) as i128; // 1e-3 units
    let ratio = |k: u32| {
        fixed(
            50_000_000 + (mix(h ^ u64::from(k)) % 250_000_000) as i128,
            8,
        )
    };
    datetime(t, out);
    let _ = write!(
        out,
        ",{symbol},{},{}",
        fixed(oi, 3),
        fixed(oi * 2_000_123, 5)
    );
    for k in 0..4 {
        match empty {
            true => out.push(','),
            false => {
                let _ = write!(out, ",{}", ratio(k));
            }
        }
    }
}

/// The file of the day starting at `day`.
pub(crate) fn csv(symbol: &str, day: i64) -> String {
    let mut out = String::with_capacity(300 * 120);
    out.push_str(METRICS_HEADER);
    out.push('\n');
    let noon = day + DAY_MS / 2;
    let mut t = day;
    while t < day + DAY_MS {
        let empty = t == day && index(day) % 10 == 2;
        line(symbol, t, 0, empty, &mut out);
        out.push('\n');
        if t == noon && metrics_day_repeats(day) {
            line(symbol, t, 1, false, &mut out);
            out.push('\n');
        }
        t += STEP_MS;
    }
    out
}

fn metric(row: &str) -> Metric {
    let c: Vec<&str> = row.split(',').collect();
    let v = |i: usize| c[i].parse::<f64>().unwrap_or(f64::NAN);
    Metric {
        time: 0,
        open_interest: v(2),
        open_interest_value: v(3),
        top_trader_account_ratio: v(4),
        top_trader_position_ratio: v(5),
        account_ratio: v(6),
        taker_buy_sell_ratio: v(7),
    }
}

/// The metrics a Vision fetch of `[start_ms, end_ms)` yields: the rows of every day the
/// fake has, a repeated time's first row only.
pub fn expected_metrics(market: Market, symbol: &str, start_ms: i64, end_ms: i64) -> Vec<Metric> {
    let mut out = Vec::new();
    let now = now_ms();
    let mut t = start_ms - start_ms.rem_euclid(STEP_MS);
    t += if t < start_ms { STEP_MS } else { 0 };
    while t < end_ms {
        let day = t - t.rem_euclid(DAY_MS);
        if has_metrics_day(market, symbol, day, now) {
            let empty = t == day && index(day) % 10 == 2;
            let mut row = String::new();
            line(symbol, t, 0, empty, &mut row);
            out.push(Metric {
                time: t,
                ..metric(&row)
            });
        }
        t += STEP_MS;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_every_five_minutes_with_the_quirks() {
        let mut day = METRICS_FROM;
        while !metrics_day_repeats(day) {
            day += DAY_MS;
        }
        let text = csv("BTCUSDT", day);
        assert!(text.starts_with(METRICS_HEADER));
        assert_eq!(text.lines().count(), 1 + 288 + 1);
        assert_eq!(text.lines().nth(1).unwrap().split(',').count(), 8);
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("2021-12-07 00:00:00,BTCUSDT,"));
        let noon: Vec<&str> = text.lines().filter(|l| l.contains(" 12:00:00,")).collect();
        assert_eq!(noon.len(), 2);
        assert_ne!(noon[0], noon[1]);
        let want = expected_metrics(Market::Um, "BTCUSDT", day, day + DAY_MS);
        assert_eq!(want.len(), 288);
        let got = metric(noon[0]);
        assert_eq!(want[144].open_interest, got.open_interest);
        let empty = csv("BTCUSDT", day - 4 * DAY_MS);
        assert!(empty.lines().nth(1).unwrap().ends_with(",,,,"));
        assert!(expected_metrics(Market::Um, "BTCUSDT", day - 2 * DAY_MS, day - DAY_MS).is_empty());
        assert!(expected_metrics(Market::Spot, "BTCUSDT", day, day + DAY_MS).is_empty());
    }
}
