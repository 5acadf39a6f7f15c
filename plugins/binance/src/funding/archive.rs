//! Funding rates from the Vision archive: one monthly file per month (there are no daily
//! ones), fetched concurrently and delivered in order, one ARCHIVE batch per month covering
//! the month's part of the range. A month not yet published, not in the archive, or not
//! usable goes into `FetchReport::missing` with the reason; the other months go on.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use dsm_plugin_kit::calendar::{month_start, next_month_start};
use dsm_plugin_kit::deliver::FundingOut;
use dsm_plugin_kit::funding::ascending;
use dsm_plugin_kit::ordered::for_each_ordered;
use dsm_sdk::time::now_ms;
use dsm_sdk::{FetchReport, FundingBatch, FundingRate, MissingRange, ProviderError, SourceKind};

use super::rows::parse_file;
use crate::vision::fetch::Vision;
use crate::vision::paths::VisionFile;

/// One month: `[start, end)` the file's, `[lo, hi)` the part asked for.
#[derive(Clone, Copy)]
struct Month {
    start: i64,
    end: i64,
    lo: i64,
    hi: i64,
}

fn months(start_ms: i64, end_ms: i64) -> Vec<Month> {
    let mut out = Vec::new();
    let mut m = month_start(start_ms);
    while m < end_ms {
        let end = next_month_start(m);
        out.push(Month {
            start: m,
            end,
            lo: start_ms.max(m),
            hi: end_ms.min(end),
        });
        m = end;
    }
    out
}

/// Fetch `[start_ms, end_ms)` from the monthly files into `out`.
pub async fn fetch(
    vision: Arc<Vision>,
    (start_ms, end_ms): (i64, i64),
    concurrency: usize,
    out: &mut dyn FundingOut,
) -> Result<FetchReport, ProviderError> {
    let now = now_ms();
    let mut report = FetchReport::default();
    let deliver = |(m, got): (Month, Result<Vec<FundingRate>, String>)| {
        match got {
            Ok(rows) => {
                report.klines += rows.len() as u64;
                out.funding(FundingBatch {
                    rows: rows.into(),
                    source: SourceKind::ARCHIVE,
                    covered_start_ms: m.lo,
                    covered_end_ms: m.hi,
                })?;
            }
            Err(reason) => report.missing.push(MissingRange {
                start_ms: m.lo,
                end_ms: m.hi,
                reason: reason.into(),
            }),
        }
        out.progress(m.hi - start_ms, end_ms - start_ms);
        Ok(())
    };
    let task = |m: Month| {
        let vision = vision.clone();
        async move { Ok((m, month(&vision, m, now).await?)) }
    };
    let result =
        for_each_ordered(months(start_ms, end_ms), concurrency.max(1), task, deliver).await;
    report.requests = vision.requests.load(Ordering::Relaxed);
    result?;
    Ok(report)
}

/// A month's rows inside `[lo, hi)`, or why there are none.
async fn month(
    v: &Arc<Vision>,
    m: Month,
    now: i64,
) -> Result<Result<Vec<FundingRate>, String>, ProviderError> {
    let file = VisionFile::funding(&v.base_url, v.market, &v.symbol, m.start);
    if m.end > month_start(now) {
        return Ok(Err(format!(
            "not in the Binance Vision archive yet ({} is published after its month ends)",
            file.name
        )));
    }
    let name = file.name.clone();
    let got = v
        .decoded(&file, move |r, entry| {
            let mut rows = parse_file(r, entry)?;
            ascending(&mut rows, &format!("{name} ({entry})"))?;
            Ok(rows)
        })
        .await?;
    Ok(match got {
        Ok(mut rows) => {
            rows.retain(|r| r.funding_time >= m.lo && r.funding_time < m.hi);
            Ok(rows)
        }
        Err(p) => Err(p.reason().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_sdk::time::DAY_MS;

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn months_cover_the_range_cut_at_its_ends() {
        let m = months(JAN_2024 + DAY_MS, JAN_2024 + 40 * DAY_MS);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].start, m[0].lo, m[0].hi),
            (JAN_2024, JAN_2024 + DAY_MS, JAN_2024 + 31 * DAY_MS)
        );
        assert_eq!(
            (m[1].lo, m[1].hi),
            (JAN_2024 + 31 * DAY_MS, JAN_2024 + 40 * DAY_MS)
        );
        assert_eq!(m[1].end, JAN_2024 + 60 * DAY_MS);
        assert!(months(JAN_2024, JAN_2024).is_empty());
    }
}
