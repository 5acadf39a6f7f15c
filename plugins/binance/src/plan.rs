//! Request windows for a Binance klines fetch.
//!
//! Each window spans exactly `page x interval` (COIN-M: at most 200 days), so each fits in
//! one page and windows can be fetched concurrently. `1M` has no fixed length: its windows
//! are sized by the shortest month (28 days), which still never holds more than a page, so
//! it needs no sequential paging.

use dsm_plugin_kit::{window, Interval, Window};

use crate::markets::Market;

/// A call's requests: the page size each asks for, the windows, their weight in all.
pub struct Paged {
    pub page: u32,
    pub windows: Vec<Window>,
    pub weight: u32,
}

/// Windows of `page` candles.
pub fn plan_paged(
    market: Market,
    interval: Interval,
    (start_ms, end_ms): (i64, i64),
    page: u32,
) -> Paged {
    let windows = window::plan(
        start_ms,
        end_ms,
        interval.min_step_ms(),
        page,
        market.max_span_ms(),
    );
    let weight = (windows.len() as u64 * u64::from(market.request_weight(page)))
        .try_into()
        .unwrap_or(u32::MAX);
    Paged {
        page,
        windows,
        weight,
    }
}

/// A call's requests, their page size chosen by which limit binds. While the call's weight
/// at the largest page fits in what the weight window has left (`budget` less `demand`,
/// the gate's), the round trips bind: the largest page, fewest requests. Once it does not,
/// the budget binds: the page that carries the most candles a weight (futures: 499 candles
/// for weight 2, 250 a weight, against 200 for 1000 and 150 for 1500), the larger on a tie.
pub fn plan_for_budget(
    market: Market,
    interval: Interval,
    range: (i64, i64),
    (demand, budget): (u32, u32),
) -> Paged {
    let largest = plan_paged(market, interval, range, market.max_page());
    if u64::from(demand) + u64::from(largest.weight) <= u64::from(budget) {
        return largest;
    }
    // Candles a weight compared across pages: c1 / w1 against c2 / w2, multiplied out.
    let cheapest = market
        .page_sizes()
        .max_by(|&(c1, w1), &(c2, w2)| (c1 * w2).cmp(&(c2 * w1)).then(c1.cmp(&c2)))
        .map_or(largest.page, |(page, _)| page);
    match cheapest == largest.page {
        true => largest,
        false => plan_paged(market, interval, range, cheapest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use dsm_sdk::time::{DAY_MS as DAY, MINUTE_MS as MIN};
    const JAN_2024: i64 = 1_704_067_200_000;

    /// Windows of the largest page.
    fn plan(market: Market, interval: Interval, start_ms: i64, end_ms: i64) -> Vec<Window> {
        plan_paged(market, interval, (start_ms, end_ms), market.max_page()).windows
    }

    /// The page size `plan_for_budget` chooses.
    fn page_for(market: Market, interval: Interval, range: (i64, i64), gate: (u32, u32)) -> u32 {
        plan_for_budget(market, interval, range, gate).page
    }

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
    fn the_largest_page_while_the_budget_has_room_the_cheapest_once_it_binds() {
        let year = (JAN_2024, JAN_2024 + 365 * DAY);
        let month = (JAN_2024, JAN_2024 + 30 * DAY);
        // A month of 1m at 1500 is 29 requests of weight 10.
        let at_1500 = plan_paged(Market::Um, iv("1m"), month, 1500);
        assert_eq!((at_1500.windows.len(), at_1500.weight), (29, 290));
        assert_eq!(page_for(Market::Um, iv("1m"), month, (0, 2160)), 1500);
        assert_eq!(page_for(Market::Um, iv("1m"), month, (1870, 2160)), 1500);
        assert_eq!(page_for(Market::Um, iv("1m"), month, (1871, 2160)), 499);
        assert_eq!(page_for(Market::Cm, iv("1m"), year, (0, 2160)), 499);
        // Spot weighs 2 whatever the limit: always its largest page.
        assert_eq!(page_for(Market::Spot, iv("1m"), year, (5400, 5400)), 1000);
        // A small call fits anywhere there is room for it.
        let hour = (JAN_2024, JAN_2024 + 60 * MIN);
        assert_eq!(page_for(Market::Um, iv("1m"), hour, (2150, 2160)), 1500);
        let cheap = plan_for_budget(Market::Um, iv("1m"), month, (2160, 2160));
        assert_eq!(
            (cheap.page, cheap.windows.len(), cheap.weight),
            (499, 87, 174)
        );
        assert_eq!(cheap.windows[0].capacity, 499);
        assert_contiguous(&cheap.windows, month.0, month.1);
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
