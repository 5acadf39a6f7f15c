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

/// Gaps among the closed candles that should open in `[lo, hi)`, given the rows (sorted)
/// and what sources covered.
#[allow(clippy::too_many_arguments)]
pub fn expected_gaps(
    iv: Interval,
    lo: i64,
    hi: i64,
    now: i64,
    buf: &PeriodBuf,
    reasons: &Reasons,
    mode: SourceMode,
    unpublished: bool,
) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = Vec::new();
    let mut rows = buf.rows.iter().map(|k| k.open_time).peekable();
    let mut t = iv.ceil(lo);
    while t < hi && iv.next(t) <= now {
        while rows.next_if(|o| *o < t).is_some() {}
        if rows.next_if_eq(&t).is_none() {
            let reason = reason_for(t, buf, reasons, mode, unpublished);
            let end = iv.next(t);
            match gaps.last_mut() {
                Some(g) if g.end_ms == t && g.reason == reason => g.end_ms = end,
                _ => gaps.push(Gap {
                    start_ms: t,
                    end_ms: end,
                    reason,
                }),
            }
        }
        t = iv.next(t);
    }
    gaps
}

fn reason_for(
    t: i64,
    buf: &PeriodBuf,
    reasons: &Reasons,
    mode: SourceMode,
    unpublished: bool,
) -> String {
    if buf.covered.covers(t, t + 1) {
        let from = buf.source.map(|s| s.name()).unwrap_or("the source");
        return format!("the exchange has no candle here ({from} covered this range)");
    }
    if let Some(r) = reasons.at(t) {
        return r.to_string();
    }
    match mode {
        SourceMode::Cache => "not in the cache (--source cache never uses the network)".into(),
        SourceMode::Archive if unpublished => "not published in the archive yet".into(),
        _ => "no source returned this range".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::MINUTE;
    use dsm_sdk::Kline;

    fn buf(opens: &[i64], covered: (i64, i64)) -> PeriodBuf {
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
    fn gaps_are_merged_and_explained() {
        let iv = Interval::Fixed(MINUTE);
        let b = buf(&[0, MINUTE, 4 * MINUTE], (0, 3 * MINUTE));
        let mut reasons = Reasons::default();
        reasons.add(3 * MINUTE, 10 * MINUTE, "archive file missing".into());
        let gaps = expected_gaps(
            iv,
            0,
            8 * MINUTE,
            i64::MAX,
            &b,
            &reasons,
            SourceMode::Auto,
            false,
        );
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
        let gaps = expected_gaps(
            iv,
            0,
            10 * MINUTE,
            3 * MINUTE + 1,
            &b,
            &Reasons::default(),
            SourceMode::Cache,
            false,
        );
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].end_ms, 3 * MINUTE);
        assert!(gaps[0].reason.contains("not in the cache"));
    }
}
