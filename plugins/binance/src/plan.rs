//! Request windows for a Binance klines fetch.
//!
//! Each window spans exactly `page x interval` (COIN-M: at most 200 days), so each fits in
//! one page and windows can be fetched concurrently. `1M` has no fixed length: its windows
//! are sized by the shortest month (28 days), which still never holds more than a page, so
//! it needs no sequential paging.

use dsm_plugin_kit::{window, Interval, Window};

use crate::markets::Market;

pub fn plan(market: Market, interval: Interval, start_ms: i64, end_ms: i64) -> Vec<Window> {
    window::plan(
        start_ms,
        end_ms,
        interval.min_step_ms(),
        market.max_page(),
        market.max_span_ms(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use dsm_sdk::time::{DAY_MS as DAY, MINUTE_MS as MIN};
    const JAN_2024: i64 = 1_704_067_200_000;

    fn iv(name: &str) -> Interval {
        Interval::parse(name).unwrap()
    }

    fn assert_contiguous(w: &[Window], start: i64, end: i64) {
        assert_eq!(w.first().unwrap().start_ms, start);
        assert_eq!(w.last().unwrap().end_ms, end);
        assert!(w.windows(2).all(|p| p[0].end_ms == p[1].start_ms));
    }

    #[test]
    fn spot_1m_day_is_two_exact_windows() {
        let w = plan(Market::Spot, iv("1m"), JAN_2024, JAN_2024 + DAY);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].end_ms, JAN_2024 + 1000 * MIN);
        assert_eq!(w[0].last_ms(), JAN_2024 + 1000 * MIN - 1);
        assert_eq!((w[0].capacity, w[1].capacity), (1000, 440));
        assert_contiguous(&w, JAN_2024, JAN_2024 + DAY);
    }

    #[test]
    fn futures_pages_are_1500() {
        let w = plan(Market::Um, iv("1m"), JAN_2024, JAN_2024 + 3 * DAY);
        assert_eq!(w.len(), 3);
        let caps: Vec<u32> = w.iter().map(|w| w.capacity).collect();
        assert_eq!(caps, [1500, 1500, 1320]);
        assert_eq!(w[0].end_ms - w[0].start_ms, 1500 * MIN);
        assert_contiguous(&w, JAN_2024, JAN_2024 + 3 * DAY);
    }

    #[test]
    fn coin_m_windows_stay_within_200_days() {
        for name in ["4h", "6h", "12h", "1d", "3d", "1w", "1M"] {
            let w = plan(Market::Cm, iv(name), JAN_2024 - 3_000 * DAY, JAN_2024);
            assert!(
                w.iter().all(|w| w.last_ms() - w.start_ms <= 200 * DAY),
                "{name}"
            );
            assert_contiguous(&w, JAN_2024 - 3_000 * DAY, JAN_2024);
        }
        let w = plan(Market::Cm, iv("1d"), JAN_2024, JAN_2024 + 365 * DAY);
        assert_eq!((w[0].capacity, w[1].capacity), (200, 165));
        // 1h: 1500 h = 62.5 days, under the span limit.
        let w = plan(Market::Cm, iv("1h"), JAN_2024, JAN_2024 + 100 * DAY);
        assert_eq!(w[0].capacity, 1500);
    }

    #[test]
    fn monthly_windows_hold_at_most_a_page_of_months() {
        // 1000 spot windows of 28 days: ~76 years, one request for any real range.
        let w = plan(Market::Spot, iv("1M"), JAN_2024 - 3_650 * DAY, JAN_2024);
        assert_eq!(w.len(), 1);
        // COIN-M: 7 shortest months (196 days) a window; a month has >= 28 days, so no
        // window holds more than 7 month starts.
        let w = plan(Market::Cm, iv("1M"), JAN_2024 - 730 * DAY, JAN_2024);
        assert_eq!(w[0].end_ms - w[0].start_ms, 7 * 28 * DAY);
        assert_eq!(w[0].capacity, 7);
        assert_contiguous(&w, JAN_2024 - 730 * DAY, JAN_2024);
    }
}
