//! Rate limits: requests in flight at once, an exchange's used-weight-per-minute budget, and
//! a plain "at most N requests per window" limit.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dsm_sdk::time::now_ms;

use dsm_sdk::{plugin::Host, ProviderError};
use reqwest::header::HeaderMap;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::cancel::{cancellable, cancelled_error, sleep_cancellable};

const MINUTE_MS: i64 = 60_000;
/// Extra wait past the minute boundary: our clock and the exchange's differ a little
/// (a tenth of the window for windows shorter than 10 s).
const ROLLOVER_MARGIN_MS: i64 = 1_000;

/// At most `n` requests in flight at once (`ProviderConfig::concurrency`).
pub struct Concurrency(Semaphore);

impl Concurrency {
    pub fn new(n: u32) -> Self {
        Concurrency(Semaphore::new(n.max(1) as usize))
    }

    /// A slot, held until the permit is dropped; `CANCELLED` if the host stops meanwhile.
    pub async fn acquire(&self, host: &Host) -> Result<SemaphorePermit<'_>, ProviderError> {
        cancellable(host, self.0.acquire())
            .await?
            .map_err(|_| cancelled_error())
    }
}

/// A used-weight budget per wall-clock minute, fed by the exchange's used-weight header.
///
/// Before a request, [`WeightGate::admit`] reserves its weight; when the minute's budget
/// (the limit minus headroom) would be exceeded, it waits for the next minute. Responses
/// feed the server's count back with [`WeightGate::observe`] (it also counts requests from
/// other clients on the same IP); local reservations cover requests still in flight.
pub struct WeightGate {
    header: &'static str,
    budget: u32,
    /// The exchange's counting window (a minute; shorter only for test servers).
    window_ms: i64,
    state: Mutex<Minute>,
}

#[derive(Debug, Default)]
struct Minute {
    index: i64,
    used: u32,
    /// Weight that calls planned in this window said they will send ([`WeightGate::plan`]).
    planned: u32,
    /// After a 429/418 every request of the process waits until then (ms UTC).
    paused_until: i64,
}

impl Minute {
    /// Window `index` begins: nothing used or planned in it yet (a pause outlives it).
    fn start(&mut self, index: i64) {
        (self.index, self.used, self.planned) = (index, 0, 0);
    }
}

impl WeightGate {
    /// `limit_per_minute` as the exchange documents it; `headroom_pct` of it is left unused.
    /// `header` is the response header with the used weight (any case).
    pub fn new(header: &'static str, limit_per_minute: u32, headroom_pct: u32) -> Self {
        Self::with_window(header, limit_per_minute, headroom_pct, MINUTE_MS)
    }

    /// As [`WeightGate::new`] for a server that counts per `window_ms` instead of a minute.
    pub fn with_window(
        header: &'static str,
        limit: u32,
        headroom_pct: u32,
        window_ms: i64,
    ) -> Self {
        let budget = limit - limit * headroom_pct.min(100) / 100;
        WeightGate {
            header,
            budget: budget.max(1),
            window_ms: window_ms.max(1),
            state: Mutex::new(Minute::default()),
        }
    }

    /// The weight this gate lets out per window (the limit minus the headroom).
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// The exchange said "slow down" (429/418) for `wait_ms`: every request through this
    /// gate, of any series, waits that long, not only the one that was refused.
    pub fn pause_for(&self, wait_ms: u64) {
        let until = now_ms().saturating_add(i64::try_from(wait_ms).unwrap_or(i64::MAX));
        let mut m = self.state.lock().unwrap();
        m.paused_until = m.paused_until.max(until);
    }

    /// Wait until `weight` fits into the current minute's budget, then reserve it.
    pub async fn admit(&self, weight: u32, host: &Host) -> Result<(), ProviderError> {
        while let Some(wait_ms) = self.reserve(weight, now_ms()) {
            host.log(
                dsm_sdk::LogLevel::DEBUG,
                &format!(
                    "used weight near the limit ({}); waiting {wait_ms} ms",
                    self.budget
                ),
            );
            sleep_cancellable(host, Duration::from_millis(wait_ms)).await?;
        }
        Ok(())
    }

    /// What this window has used or been promised: the weight its requests used, or the
    /// weight calls planned in it ([`WeightGate::plan`]), whichever is more. A call planning
    /// its requests sees the calls planned just before it, whose requests are not sent yet.
    pub fn demand(&self) -> u32 {
        self.demand_at(now_ms())
    }

    /// A call will send requests of `weight` in all (admitted one by one later).
    pub fn plan(&self, weight: u32) {
        self.plan_at(weight, now_ms());
    }

    fn demand_at(&self, now: i64) -> u32 {
        let mut m = self.state.lock().unwrap();
        self.roll(&mut m, now);
        m.used.max(m.planned)
    }

    fn plan_at(&self, weight: u32, now: i64) {
        let mut m = self.state.lock().unwrap();
        self.roll(&mut m, now);
        m.planned = m.planned.saturating_add(weight);
    }

    /// Moves on to `now`'s window if it is a later one (reports of an earlier one are stale).
    fn roll(&self, m: &mut Minute, now: i64) {
        let index = now.div_euclid(self.window_ms);
        if index > m.index {
            m.start(index);
        }
    }

    /// Record the used weight a response reports.
    pub fn observe(&self, headers: &HeaderMap) {
        let used = headers
            .get(self.header)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        if let Some(used) = used {
            self.record(used, now_ms());
        }
    }

    /// Reserve `weight` now, or say how long to wait (ms) for the next minute.
    fn reserve(&self, weight: u32, now: i64) -> Option<u64> {
        let mut m = self.state.lock().unwrap();
        if m.paused_until > now {
            return Some((m.paused_until - now) as u64);
        }
        let index = now.div_euclid(self.window_ms);
        if m.index != index {
            m.start(index);
        }
        // A request heavier than the whole budget still goes out, alone in its minute.
        if m.used > 0 && m.used.saturating_add(weight) > self.budget {
            let margin = ROLLOVER_MARGIN_MS.min(self.window_ms / 10);
            return Some(((index + 1) * self.window_ms + margin - now) as u64);
        }
        m.used = m.used.saturating_add(weight);
        None
    }

    fn record(&self, used: u32, now: i64) {
        let mut m = self.state.lock().unwrap();
        self.roll(&mut m, now);
        if now.div_euclid(self.window_ms) == m.index {
            m.used = m.used.max(used);
        }
    }
}

/// At most `max` requests in any sliding window of `window` (e.g. OKX: 20 per 2 s; Bybit:
/// 600 per 5 s), counted when each request is admitted, i.e. right before it is sent.
///
/// A little slack (1/20 of the window, at least 20 ms) is added to every window, since the
/// exchange counts arrivals and arrivals jitter. Safe to share across runtimes and threads
/// (e.g. one `static` per exchange endpoint: the exchange counts per IP, not per client).
pub struct RateLimiter {
    max: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        let slack = (window / 20).max(Duration::from_millis(20));
        RateLimiter {
            max: max.max(1) as usize,
            window: window + slack,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Wait until one more request fits into the window, then count it.
    pub async fn admit(&self, host: &Host) -> Result<(), ProviderError> {
        loop {
            match self.reserve(Instant::now()) {
                None => return Ok(()),
                Some(wait) => {
                    host.log(
                        dsm_sdk::LogLevel::DEBUG,
                        &format!(
                            "request rate at its limit ({} per {} ms); waiting {} ms",
                            self.max,
                            self.window.as_millis(),
                            wait.as_millis()
                        ),
                    );
                    sleep_cancellable(host, wait).await?;
                }
            }
        }
    }

    /// Count a request at `now`, or say how long until one fits.
    fn reserve(&self, now: Instant) -> Option<Duration> {
        let mut sent = self.sent.lock().unwrap();
        while sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            sent.pop_front();
        }
        if sent.len() < self.max {
            sent.push_back(now);
            return None;
        }
        let oldest = *sent.front()?;
        Some(
            (oldest + self.window)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_040_000; // a minute boundary

    #[test]
    fn reserves_until_budget_then_waits_for_next_minute() {
        let g = WeightGate::new("x-used", 100, 10); // budget 90
        for _ in 0..9 {
            assert_eq!(g.reserve(10, T0 + 5_000), None);
        }
        assert_eq!(g.reserve(10, T0 + 5_000), Some(56_000));
        assert_eq!(
            g.reserve(10, T0 + MINUTE_MS),
            None,
            "new minute, fresh budget"
        );
    }

    #[test]
    fn demand_is_what_was_used_or_planned_this_window_whichever_is_more() {
        let g = WeightGate::with_window("x-used", 100, 10, 1_000);
        assert_eq!(g.demand_at(T0), 0);
        g.plan_at(30, T0);
        g.plan_at(30, T0 + 1);
        assert_eq!(
            g.demand_at(T0 + 2),
            60,
            "two calls planned, nothing sent yet"
        );
        for _ in 0..7 {
            assert_eq!(g.reserve(10, T0 + 3), None);
        }
        assert_eq!(g.demand_at(T0 + 4), 70, "more sent than planned");
        g.record(85, T0 + 5);
        assert_eq!(g.demand_at(T0 + 6), 85, "the exchange's count");
        assert_eq!(g.demand_at(T0 + 1_000), 0, "a new window");
        g.plan_at(5, T0 + 1_001);
        g.record(3, T0 + 2_000);
        assert_eq!(g.demand_at(T0 + 2_001), 3, "the plan was the last window's");
    }

    #[test]
    fn header_count_raises_the_local_one() {
        let g = WeightGate::new("x-used", 100, 10);
        assert_eq!(g.reserve(2, T0), None);
        g.record(85, T0 + 1);
        assert_eq!(g.reserve(2, T0 + 2), None);
        assert!(g.reserve(10, T0 + 3).is_some());
        g.record(5, T0 + 4); // a lower count from an older response does not lower it
        assert!(g.reserve(10, T0 + 5).is_some());
    }

    #[test]
    fn stale_minute_reports_are_ignored() {
        let g = WeightGate::new("x-used", 100, 0);
        assert_eq!(g.reserve(1, T0 + MINUTE_MS), None);
        g.record(100, T0 + 59_999);
        assert_eq!(g.reserve(50, T0 + MINUTE_MS + 1), None);
    }

    #[test]
    fn a_pause_holds_every_request_and_a_short_window_rolls_over() {
        let g = WeightGate::with_window("x-used", 10, 0, 1_000);
        assert_eq!(g.reserve(10, T0), None);
        assert_eq!(
            g.reserve(1, T0 + 200),
            Some(900),
            "next window plus a tenth of one"
        );
        assert_eq!(g.reserve(1, T0 + 1_000), None);
        g.pause_for(60_000);
        assert!(g.reserve(1, now_ms()).is_some_and(|w| w > 59_000));
    }

    #[test]
    fn oversized_request_goes_alone() {
        let g = WeightGate::new("x-used", 10, 0);
        assert_eq!(g.reserve(50, T0), None);
        assert!(g.reserve(1, T0).is_some());
    }

    #[test]
    fn rate_limiter_slides() {
        let r = RateLimiter::new(3, Duration::from_millis(1_000)); // + 50 ms slack
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(r.reserve(t0), None);
        assert_eq!(r.reserve(t0 + ms(10)), None);
        assert_eq!(r.reserve(t0 + ms(20)), None);
        assert_eq!(r.reserve(t0 + ms(30)), Some(ms(1_020)));
        assert_eq!(
            r.reserve(t0 + ms(1_050)),
            None,
            "the first one left the window"
        );
        assert_eq!(r.reserve(t0 + ms(1_051)), Some(ms(9)));
    }

    #[tokio::test]
    async fn rate_limiter_admits_at_the_rate() {
        let host = crate::testing::TestHost::new().host(dsm_sdk::LogLevel::WARN);
        let r = RateLimiter::new(2, Duration::from_millis(100)); // + 20 ms slack
        let t0 = Instant::now();
        for _ in 0..6 {
            r.admit(&host).await.unwrap();
        }
        // 6 requests at 2 per 120 ms: the 5th and 6th go at 240 ms.
        let took = t0.elapsed();
        // (How long it waits at most is `reserve`'s verdict, tested above on a given clock.)
        assert!(took >= Duration::from_millis(240), "{took:?}");
    }

    #[test]
    fn observe_reads_header_case_insensitively() {
        let g = WeightGate::new("X-MBX-USED-WEIGHT-1M", 100, 0);
        let mut h = HeaderMap::new();
        h.insert("x-mbx-used-weight-1m", "99".parse().unwrap());
        g.observe(&h);
        assert!(g.reserve(5, now_ms()).is_some());
    }
}
