//! Finding the candles a period should have but does not, and saying why.

use dsm_sdk::FetchReport;

use super::sink::PeriodBuf;
use crate::interval::Interval;
use crate::report::{Gap, SourceMode};

/// Why ranges are missing, as sources reported them.
#[derive(Debug, Default)]
pub struct Reasons(Vec<(i64, i64, String)>);

impl Reasons {
    pub fn add(&mut self, start: i64, end: i64, reason: String) {
        self.0.push((start, end, reason));
    }

    pub fn add_report(&mut self, report: &FetchReport) {
        for m in report.missing.iter() {
            self.add(m.start_ms, m.end_ms, m.reason.to_string());
        }
    }

    fn at(&self, t: i64) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(s, e, _)| *s <= t && t < *e)
            .map(|(_, _, r)| r.as_str())
    }
}

/// What gaps are explained with.
pub struct GapContext<'a> {
    pub now: i64,
    pub reasons: &'a Reasons,
    pub mode: SourceMode,
    /// The period is not published in the archive yet (archive-only fetches).
    pub unpublished: bool,
    /// The kind's noun for messages (`candle`).
    pub noun: &'a str,
}

/// Gaps in `[lo, hi)` given the rows (sorted) and what sources covered: on a grid, every
/// closed grid time without a row; without one, the ranges no source covered (up to now).
pub fn expected_gaps<R>(
    grid: Option<Interval>,
    lo: i64,
    hi: i64,
    buf: &PeriodBuf<R>,
    times: impl Iterator<Item = i64>,
    ctx: &GapContext,
) -> Vec<Gap> {
    match grid {
        Some(iv) => grid_gaps(iv, lo, hi, buf, times, ctx),
        None => {
            let hi = hi.min(ctx.now);
            let mut gaps = Vec::new();
            for (s, e) in buf.covered.missing(lo, hi) {
                push_gap(&mut gaps, s, e, reason_for(s, buf, ctx));
            }
            gaps
        }
    }
}

fn grid_gaps<R>(
    iv: Interval,
    lo: i64,
    hi: i64,
    buf: &PeriodBuf<R>,
    times: impl Iterator<Item = i64>,
    ctx: &GapContext,
) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = Vec::new();
    let mut rows = times.peekable();
    let mut t = iv.ceil(lo);
    while t < hi && iv.next(t) <= ctx.now {
        while rows.next_if(|o| *o < t).is_some() {}
        if rows.next_if_eq(&t).is_none() {
            push_gap(&mut gaps, t, iv.next(t), reason_for(t, buf, ctx));
        }
        t = iv.next(t);
    }
    gaps
}

/// Whether [`expected_gaps`] over `times` (the slices in order, ascending) finds no gap
/// for sure: a fixed grid, and the times every grid time from the first in `[lo, hi)` on,
/// up to where the walk stops (`hi`, or the last closed candle before `now`). `false`
/// says only "not shown here".
pub fn grid_complete(
    grid: Option<Interval>,
    (lo, hi): (i64, i64),
    now: i64,
    times: &[&[i64]],
) -> bool {
    let Some(iv @ Interval::Fixed(ms)) = grid else {
        return false;
    };
    let mut next = iv.ceil(lo);
    for s in times {
        let from = next;
        if !(s.iter().zip(0i64..)).fold(true, |ok, (t, i)| ok & (*t == from + i * ms)) {
            return false;
        }
        next = from + s.len() as i64 * ms;
    }
    // The walk's first time without a row: past its end, or not closed by `now`.
    next >= hi || next + ms > now
}

/// Append a gap, merging it into the last one when it continues it for the same reason.
fn push_gap(gaps: &mut Vec<Gap>, start_ms: i64, end_ms: i64, reason: String) {
    match gaps.last_mut() {
        Some(g) if g.end_ms == start_ms && g.reason == reason => g.end_ms = end_ms,
        _ => gaps.push(Gap {
            start_ms,
            end_ms,
            reason,
        }),
    }
}

fn reason_for<R>(t: i64, buf: &PeriodBuf<R>, ctx: &GapContext) -> String {
    if buf.covered.covers(t, t + 1) {
        let from = buf.source.map(|s| s.name()).unwrap_or("the source");
        return format!(
            "the exchange has no {} here ({from} covered this range)",
            ctx.noun
        );
    }
    if let Some(r) = ctx.reasons.at(t) {
        return r.to_string();
    }
    match ctx.mode {
        SourceMode::Cache => "not in the cache (--source cache never uses the network)".into(),
        SourceMode::Archive if ctx.unpublished => "not published in the archive yet".into(),
        _ => "no source returned this range".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::MINUTE;
    use dsm_sdk::Kline;

    fn buf(opens: &[i64], covered: (i64, i64)) -> PeriodBuf<Kline> {
        let mut b = PeriodBuf {
            rows: opens
                .iter()
                .map(|&t| Kline {
                    open_time: t,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        b.covered.add(covered.0, covered.1);
        b
    }

    #[test]
    fn a_complete_grid_is_one_without_gaps() {
        let m = MINUTE;
        let ctx = |reasons| GapContext {
            now: 100 * m,
            reasons,
            mode: SourceMode::Cache,
            unpublished: false,
            noun: "candle",
        };
        let reasons = Reasons::default();
        let all: Vec<i64> = (0..20).map(|i| i * m).collect();
        let mut cases = vec![all.clone(), all[1..].to_vec(), all[..19].to_vec(), vec![]];
        let mut hole = all.clone();
        hole.remove(7);
        cases.push(hole);
        for (lo, hi, now) in [
            (0, 20 * m, 100 * m),
            (0, 20 * m, 10 * m),
            (m / 2, 20 * m, 100 * m),
        ] {
            for times in &cases {
                let b = buf(times, (lo, hi));
                let c = GapContext {
                    now,
                    ..ctx(&reasons)
                };
                let want = expected_gaps(
                    Some(Interval::Fixed(m)),
                    lo,
                    hi,
                    &b,
                    times.iter().copied(),
                    &c,
                );
                for cut in [0, times.len() / 2, times.len()] {
                    let (x, y) = times.split_at(cut);
                    if grid_complete(Some(Interval::Fixed(m)), (lo, hi), now, &[x, y]) {
                        assert!(want.is_empty(), "{lo} {hi} {now} {times:?}");
                    }
                }
                if want.is_empty() && times.first() == Some(&Interval::Fixed(m).ceil(lo)) {
                    assert!(
                        grid_complete(Some(Interval::Fixed(m)), (lo, hi), now, &[times]),
                        "{times:?}"
                    );
                }
            }
        }
        assert!(!grid_complete(None, (0, m), 10 * m, &[&[0]]));
    }

    fn times(b: &PeriodBuf<Kline>) -> impl Iterator<Item = i64> + '_ {
        b.rows.iter().map(|k| k.open_time)
    }

    #[test]
    fn without_a_grid_only_uncovered_ranges_are_gaps() {
        let b = buf(&[5], (0, 3 * MINUTE));
        let mut reasons = Reasons::default();
        reasons.add(3 * MINUTE, 9 * MINUTE, "archive file missing".into());
        let ctx = GapContext {
            now: 8 * MINUTE,
            reasons: &reasons,
            mode: SourceMode::Auto,
            unpublished: false,
            noun: "funding rate",
        };
        let gaps = expected_gaps(None, 0, 10 * MINUTE, &b, times(&b), &ctx);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!((gaps[0].start_ms, gaps[0].end_ms), (3 * MINUTE, 8 * MINUTE));
        assert_eq!(gaps[0].reason, "archive file missing");
    }

    #[test]
    fn gaps_are_merged_and_explained() {
        let iv = Interval::Fixed(MINUTE);
        let b = buf(&[0, MINUTE, 4 * MINUTE], (0, 3 * MINUTE));
        let mut reasons = Reasons::default();
        reasons.add(3 * MINUTE, 10 * MINUTE, "archive file missing".into());
        let ctx = GapContext {
            now: i64::MAX,
            reasons: &reasons,
            mode: SourceMode::Auto,
            unpublished: false,
            noun: "candle",
        };
        let gaps = expected_gaps(Some(iv), 0, 8 * MINUTE, &b, times(&b), &ctx);
        assert_eq!(gaps.len(), 3, "{gaps:?}");
        assert_eq!((gaps[0].start_ms, gaps[0].end_ms), (2 * MINUTE, 3 * MINUTE));
        assert!(gaps[0].reason.contains("exchange has no candle"));
        assert_eq!((gaps[1].start_ms, gaps[1].end_ms), (3 * MINUTE, 4 * MINUTE));
        assert_eq!(gaps[1].reason, "archive file missing");
        assert_eq!((gaps[2].start_ms, gaps[2].end_ms), (5 * MINUTE, 8 * MINUTE));
    }

    #[test]
    fn unclosed_candles_are_not_gaps() {
        let iv = Interval::Fixed(MINUTE);
        let b = buf(&[], (0, 0));
        let reasons = Reasons::default();
        let ctx = GapContext {
            now: 3 * MINUTE + 1,
            reasons: &reasons,
            mode: SourceMode::Cache,
            unpublished: false,
            noun: "candle",
        };
        let gaps = expected_gaps(Some(iv), 0, 10 * MINUTE, &b, times(&b), &ctx);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].end_ms, 3 * MINUTE);
        assert!(gaps[0].reason.contains("not in the cache"));
    }
}
