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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::MINUTE;

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
