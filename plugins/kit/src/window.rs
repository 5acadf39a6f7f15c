//! Splitting a range into request windows that each fit in one page.
//!
//! Any half-open range of `k * step` milliseconds holds at most `k` open times spaced
//! `step` apart, whatever their phase. So windows of `page * step` can be requested
//! concurrently and each answer is complete: no cursor, no overlap, no holes, and exchanges
//! that return the newest rows of a window first are exact too.

/// One request window `[start_ms, end_ms)`, holding at most `capacity` candles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub capacity: u32,
}

impl Window {
    /// The last millisecond inside, for APIs whose end bound is inclusive.
    pub fn last_ms(&self) -> i64 {
        self.end_ms - 1
    }
}

/// Windows covering `[start_ms, end_ms)` in ascending order.
///
/// `min_step_ms`: the shortest spacing of open times; `page`: rows a request returns at
/// most; `max_span_ms`: the largest `endTime - startTime` the API accepts (both inclusive),
/// if it has such a limit.
pub fn plan(
    start_ms: i64,
    end_ms: i64,
    min_step_ms: i64,
    page: u32,
    max_span_ms: Option<i64>,
) -> Vec<Window> {
    let step = min_step_ms.max(1);
    let mut per_window = i64::from(page.max(1));
    if let Some(span) = max_span_ms {
        // The window's inclusive span is k * step - 1, which must not exceed `span`.
        per_window = per_window.min((span + 1) / step).max(1);
    }
    let len = per_window * step;
    let mut out = Vec::new();
    let mut s = start_ms;
    while s < end_ms {
        let e = s.saturating_add(len).min(end_ms);
        let capacity = ((e - s + step - 1) / step) as u32;
        out.push(Window {
            start_ms: s,
            end_ms: e,
            capacity,
        });
        s = e;
    }
    out
}

use dsm_sdk::time::DAY_MS;

/// Chunks covering `[start_ms, end_ms)` in ascending order, each fetched in full before it
/// is delivered, for APIs paged by a cursor (e.g. newest first, see [`crate::pager`]).
///
/// When a page spans a day or more, chunks are one-page windows as [`plan`] makes them (one
/// request each). Shorter pages get UTC-day chunks (the first and last clipped to the range),
/// so that a batch covers a whole day and memory stays bounded by a day of candles; such a
/// chunk's `capacity` is its candle count, more than a page.
pub fn plan_chunks(start_ms: i64, end_ms: i64, min_step_ms: i64, page: u32) -> Vec<Window> {
    let step = min_step_ms.max(1);
    if step.saturating_mul(i64::from(page.max(1))) >= DAY_MS {
        return plan(start_ms, end_ms, step, page, None);
    }
    let mut out = Vec::new();
    let mut s = start_ms;
    while s < end_ms {
        let e = ((s.div_euclid(DAY_MS) + 1) * DAY_MS).min(end_ms);
        out.push(Window {
            start_ms: s,
            end_ms: e,
            capacity: ((e - s + step - 1) / step) as u32,
        });
        s = e;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn chunks_are_days_for_short_pages_and_pages_otherwise() {
        let day = DAY_MS;
        let w = plan_chunks(day + 30 * MIN, 3 * day + 5, MIN, 100);
        let spans: Vec<(i64, i64)> = w.iter().map(|w| (w.start_ms, w.end_ms)).collect();
        assert_eq!(
            spans,
            [
                (day + 30 * MIN, 2 * day),
                (2 * day, 3 * day),
                (3 * day, 3 * day + 5)
            ]
        );
        assert_eq!(w[1].capacity, 1440);
        // 15 minutes x 100 = 25 h: one-page windows.
        let w = plan_chunks(0, 3 * day, 15 * MIN, 100);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].end_ms, 100 * 15 * MIN);
        assert!(w.iter().all(|w| w.capacity <= 100));
        assert!(plan_chunks(5, 5, MIN, 100).is_empty());
    }

    #[test]
    fn windows_are_contiguous_and_sized_by_page() {
        let w = plan(0, 2_500 * MIN, MIN, 1000, None);
        assert_eq!(w.len(), 3);
        assert_eq!(
            (w[0].start_ms, w[0].end_ms, w[0].capacity),
            (0, 1000 * MIN, 1000)
        );
        assert_eq!(w[0].last_ms(), 1000 * MIN - 1);
        assert_eq!((w[1].start_ms, w[1].end_ms), (1000 * MIN, 2000 * MIN));
        assert_eq!(
            (w[2].start_ms, w[2].end_ms, w[2].capacity),
            (2000 * MIN, 2500 * MIN, 500)
        );
    }

    #[test]
    fn unaligned_start_still_holds_at_most_a_page() {
        let w = plan(30_000, 30_000 + 1001 * MIN, MIN, 1000, None);
        assert_eq!(w.len(), 2);
        // [30 s, 1000 min + 30 s) holds open times 1 min .. 1000 min: exactly 1000.
        let opens = (0..).map(|i| i * MIN).skip_while(|t| *t < w[0].start_ms);
        let n = opens.take_while(|t| *t < w[0].end_ms).count();
        assert_eq!(n, 1000);
        assert_eq!(w[1].capacity, 1);
    }

    #[test]
    fn span_limit_shrinks_windows() {
        let day = 1440 * MIN;
        let w = plan(0, 400 * day, day, 1500, Some(200 * day));
        assert_eq!(w[0].end_ms - w[0].start_ms, 200 * day);
        assert!(w.iter().all(|w| w.last_ms() - w.start_ms <= 200 * day));
        let h4 = 240 * MIN;
        let w = plan(0, 1_000 * day, h4, 1500, Some(200 * day));
        assert_eq!(w[0].capacity, 1200);
        assert!(w[0].last_ms() - w[0].start_ms <= 200 * day);
    }

    #[test]
    fn empty_and_tiny_ranges() {
        assert!(plan(5, 5, MIN, 1000, None).is_empty());
        assert!(plan(6, 5, MIN, 1000, None).is_empty());
        assert_eq!(plan(5, 6, MIN, 1000, None)[0].capacity, 1);
    }
}
