//! The checks every candle from a plugin passes before the host uses or caches it.

use dsm_sdk::Kline;

use crate::interval::Interval;
use crate::timeparse::format_time;

/// One candle's checks: aligned, inside `[start, end)`, prices and volumes sane, closing
/// where its interval ends. `signed`: prices may be negative (premium index candles).
pub fn check_kline(
    k: &Kline,
    iv: Interval,
    (start, end): (i64, i64),
    signed: bool,
) -> Result<(), String> {
    // Formatted only on error: this runs for every candle of every fetch.
    let at = || format_time(k.open_time);
    if !iv.is_aligned(k.open_time) {
        return Err(format!("candle at {} is not aligned to {iv}", at()));
    }
    if k.open_time < start || k.open_time >= end {
        return Err(format!(
            "candle at {} lies outside the requested range",
            at()
        ));
    }
    let prices = [k.open, k.high, k.low, k.close];
    if prices
        .iter()
        .any(|p| !p.is_finite() || (*p < 0.0 && !signed))
    {
        return Err(format!(
            "candle at {} has a negative or non-finite price",
            at()
        ));
    }
    if k.low > k.open.min(k.close) || k.high < k.open.max(k.close) {
        return Err(format!(
            "candle at {} has open/close outside [low, high]: o={} h={} l={} c={}",
            at(),
            k.open,
            k.high,
            k.low,
            k.close
        ));
    }
    let volumes = [
        k.volume,
        k.quote_volume,
        k.taker_buy_base_volume,
        k.taker_buy_quote_volume,
    ];
    if volumes.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(format!(
            "candle at {} has a negative or non-finite volume",
            at()
        ));
    }
    // Binance sends the close time (REST and archive); the OKX and Bybit plugins compute
    // it. Either way it is the last millisecond before the next candle opens.
    let close = iv.next(k.open_time) - 1;
    if k.close_time != close {
        return Err(format!(
            "candle at {} has close time {} ms where a {iv} candle closes at {} ({close} ms)",
            at(),
            k.close_time,
            format_time(close)
        ));
    }
    Ok(())
}

/// [`check_kline`] over `rows`, stopping at the first bad candle with its message. Every
/// rule is checked for every candle, but as a few comparisons: the interval's length is
/// taken once, and a candle opening one interval after a good one is aligned without a
/// division. Only the candle that fails is checked again, by `check_kline`, for the words.
pub fn check_klines(
    rows: &[Kline],
    iv: Interval,
    range: (i64, i64),
    signed: bool,
) -> Result<(), String> {
    check_kline_iter(rows.iter().copied(), iv, range, signed)
}

/// [`check_klines`] over candles read one at a time (from the columns of a cache file's
/// record batch, where they are never rows): the same loop, the same verdicts and words.
pub fn check_kline_iter(
    mut rows: impl Iterator<Item = Kline>,
    iv: Interval,
    range: (i64, i64),
    signed: bool,
) -> Result<(), String> {
    let Interval::Fixed(ms) = iv else {
        // Calendar months: few candles, each its own length.
        return rows.try_for_each(|k| check_kline(&k, iv, range, signed));
    };
    let Some(first) = rows.next() else {
        return Ok(());
    };
    check_kline(&first, iv, range, signed)?;
    // Any aligned time: the grid is every `ms` from it (weeks from a Monday).
    let origin = iv.floor(0);
    let mut prev = first.open_time;
    for k in rows {
        let t = k.open_time;
        // `prev` passed, so `prev + ms` is aligned; anything else is reduced by `ms`.
        let aligned = t.wrapping_sub(prev) == ms || t.wrapping_sub(origin).rem_euclid(ms) == 0;
        // Wrapping: a time outside the range fails anyway, and must not overflow first.
        let closes = k.close_time == t.wrapping_add(ms - 1);
        if !(aligned && closes && t >= range.0 && t < range.1 && sane(&k, signed)) {
            return explain(&k, iv, range, signed);
        }
        prev = t;
    }
    Ok(())
}

/// The price and volume rules of [`check_kline`], as one boolean.
#[inline]
fn sane(k: &Kline, signed: bool) -> bool {
    let price = |p: f64| p.is_finite() && (signed || p >= 0.0);
    let volume = |v: f64| v.is_finite() && v >= 0.0;
    price(k.open)
        & price(k.high)
        & price(k.low)
        & price(k.close)
        & (k.low <= k.open)
        & (k.low <= k.close)
        & (k.high >= k.open)
        & (k.high >= k.close)
        & volume(k.volume)
        & volume(k.quote_volume)
        & volume(k.taker_buy_base_volume)
        & volume(k.taker_buy_quote_volume)
}

/// Why the candle the fast loop stopped at is bad (`check_kline`'s words).
#[cold]
#[inline(never)]
fn explain(k: &Kline, iv: Interval, range: (i64, i64), signed: bool) -> Result<(), String> {
    check_kline(k, iv, range, signed)?;
    // Unreachable while the two agree (the tests hold them to it); never let a row through
    // that the loop refused.
    Err(format!(
        "candle at {} failed validation",
        format_time(k.open_time)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::{DAY, MINUTE, WEEK};

    const M1: Interval = Interval::Fixed(MINUTE);
    const RANGE: (i64, i64) = (0, 10 * MINUTE);

    fn k(t: i64) -> Kline {
        Kline {
            open_time: t,
            open: 2.0,
            high: 3.0,
            low: 1.0,
            close: 2.5,
            close_time: t + MINUTE - 1,
            ..Default::default()
        }
    }

    #[test]
    fn accepts_a_sane_candle() {
        assert_eq!(check_kline(&k(MINUTE), M1, RANGE, false), Ok(()));
    }

    #[test]
    fn monthly_candles_close_at_the_end_of_their_month() {
        const FEB_2024: i64 = 1_706_745_600_000;
        const MAR_2024: i64 = 1_709_251_200_000;
        let iv = Interval::Months(1);
        let range = (FEB_2024, MAR_2024);
        let feb = |close_time| Kline {
            close_time,
            ..k(FEB_2024)
        };
        assert_eq!(check_kline(&feb(MAR_2024 - 1), iv, range, false), Ok(()));
        // 30 days of February: 2024 is a leap year.
        let err = check_kline(&feb(FEB_2024 + 30 * 86_400_000 - 1), iv, range, false).unwrap_err();
        assert!(err.contains("2024-02-29T23:59:59.999Z"), "{err}");
    }

    #[test]
    fn rejects_bad_candles_with_the_reason() {
        let cases: Vec<(Kline, &str)> = vec![
            (k(30_000), "not aligned"),
            (k(20 * MINUTE), "outside the requested range"),
            (Kline { high: 1.5, ..k(0) }, "outside [low, high]"),
            (
                Kline {
                    volume: -1.0,
                    ..k(0)
                },
                "volume",
            ),
            (
                Kline {
                    low: f64::NAN,
                    ..k(0)
                },
                "non-finite price",
            ),
            (
                Kline {
                    close_time: -1,
                    ..k(0)
                },
                "has close time -1 ms where a 1m candle closes at 1970-01-01T00:00:59.999Z",
            ),
            (
                Kline {
                    close_time: 9_000_000_000_000_000,
                    ..k(0)
                },
                "close time 9000000000000000 ms",
            ),
            (
                Kline {
                    close_time: MINUTE,
                    ..k(0)
                },
                "(59999 ms)",
            ),
        ];
        for (bad, why) in cases {
            let msg = check_kline(&bad, M1, RANGE, false).unwrap_err();
            assert!(msg.contains(why), "{msg} should say {why}");
        }
    }

    /// Every bad candle of `rejects_bad_candles_with_the_reason`, with the rule it breaks.
    fn bad_candles(t: i64) -> Vec<Kline> {
        vec![
            Kline {
                open_time: t + 30_000,
                close_time: t + 30_000 + MINUTE - 1,
                ..k(t)
            },
            k(20 * MINUTE),
            k(-MINUTE),
            Kline { high: 1.5, ..k(t) },
            Kline { low: 2.2, ..k(t) },
            Kline {
                open: -1.0,
                low: -2.0,
                ..k(t)
            },
            Kline {
                high: f64::INFINITY,
                ..k(t)
            },
            Kline {
                low: f64::NAN,
                ..k(t)
            },
            Kline {
                volume: -1.0,
                ..k(t)
            },
            Kline {
                quote_volume: f64::NAN,
                ..k(t)
            },
            Kline {
                taker_buy_base_volume: -0.5,
                ..k(t)
            },
            Kline {
                taker_buy_quote_volume: f64::INFINITY,
                ..k(t)
            },
            Kline {
                close_time: t + MINUTE,
                ..k(t)
            },
            Kline {
                close_time: i64::MAX,
                ..k(t)
            },
        ]
    }

    #[test]
    fn the_loop_over_candles_rejects_what_each_check_rejects_with_its_words() {
        for at in [0, 4, 9] {
            for bad in bad_candles(at * MINUTE) {
                let mut rows: Vec<Kline> = (0..10).map(|i| k(i * MINUTE)).collect();
                rows[at as usize] = bad;
                let one = check_kline(&bad, M1, RANGE, false).unwrap_err();
                let all = check_klines(&rows, M1, RANGE, false);
                assert_eq!(all, Err(one), "candle {at} of 10: {bad:?}");
            }
        }
    }

    #[test]
    fn the_loop_over_candles_accepts_what_each_check_accepts() {
        let rows: Vec<Kline> = (0..10).map(|i| k(i * MINUTE)).collect();
        assert_eq!(check_klines(&rows, M1, RANGE, false), Ok(()));
        assert_eq!(check_klines(&[], M1, RANGE, false), Ok(()));
        // Not one after another: aligned all the same (the grid, not the neighbour).
        let gappy = [k(0), k(3 * MINUTE), k(7 * MINUTE)];
        assert_eq!(check_klines(&gappy, M1, RANGE, false), Ok(()));
        let off_grid = [k(0), k(3 * MINUTE), k(7 * MINUTE + 1)];
        assert!(check_klines(&off_grid, M1, RANGE, false).is_err());
        // Premium candles: negative prices pass only where signed.
        let neg = |t| Kline {
            open: -0.0004,
            high: -0.0001,
            low: -0.0005,
            close: -0.0002,
            ..k(t)
        };
        let premium = [neg(0), neg(MINUTE)];
        assert_eq!(check_klines(&premium, M1, RANGE, true), Ok(()));
        assert_eq!(
            check_klines(&premium, M1, RANGE, false),
            Err(check_kline(&premium[0], M1, RANGE, false).unwrap_err())
        );
    }

    #[test]
    fn the_loop_over_weekly_and_monthly_candles_keeps_their_grid() {
        const MONDAY: i64 = 1_704_067_200_000; // 2024-01-01
        let w = Interval::parse("1w").unwrap();
        let week = |t: i64| Kline {
            close_time: t + WEEK - 1,
            ..k(t)
        };
        let range = (MONDAY, MONDAY + 10 * WEEK);
        let rows = [
            week(MONDAY),
            week(MONDAY + 2 * WEEK),
            week(MONDAY + 3 * WEEK),
        ];
        assert_eq!(check_klines(&rows, w, range, false), Ok(()));
        // A Thursday (the epoch's grid, not Monday's): refused as each check refuses it.
        let thursday = week(MONDAY + 3 * DAY + WEEK);
        let mixed = [week(MONDAY), thursday];
        let one = check_kline(&thursday, w, range, false).unwrap_err();
        assert_eq!(check_klines(&mixed, w, range, false), Err(one));
        const FEB_2024: i64 = 1_706_745_600_000;
        const MAR_2024: i64 = 1_709_251_200_000;
        const APR_2024: i64 = 1_711_929_600_000;
        let m = Interval::Months(1);
        let month = |t, close_time| Kline { close_time, ..k(t) };
        let range = (FEB_2024, APR_2024);
        let good = [month(FEB_2024, MAR_2024 - 1), month(MAR_2024, APR_2024 - 1)];
        assert_eq!(check_klines(&good, m, range, false), Ok(()));
        let bad = [good[0], month(MAR_2024, MAR_2024 + 30 * DAY - 1)];
        let one = check_kline(&bad[1], m, range, false).unwrap_err();
        assert_eq!(check_klines(&bad, m, range, false), Err(one));
    }

    #[test]
    fn premium_candles_may_be_negative_but_not_nan() {
        let neg = Kline {
            open: -0.0004,
            high: -0.0001,
            low: -0.0005,
            close: -0.0002,
            ..k(0)
        };
        assert!(check_kline(&neg, M1, RANGE, false).is_err());
        assert_eq!(check_kline(&neg, M1, RANGE, true), Ok(()));
        let nan = Kline {
            close: f64::NAN,
            ..neg
        };
        assert!(check_kline(&nan, M1, RANGE, true).is_err());
    }
}
