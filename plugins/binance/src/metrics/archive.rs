//! Metrics from the Vision archive, a daily file per UTC day (288 rows: small, read whole):
//! one ARCHIVE batch per day covering its part asked for. A day not yet published, missing
//! (real gaps exist, e.g. whole months for some symbols) or unusable goes into
//! `FetchReport::missing` with the reason; repeated times keep their first row and are
//! logged.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use dsm_plugin_kit::deliver::MetricsOut;
use dsm_sdk::time::now_ms;
use dsm_sdk::{FetchReport, LogLevel, MetricBatch, MissingRange, ProviderError, SourceKind};

use super::rows::parse_file;
use crate::vision::days::days;
use crate::vision::fetch::Vision;

/// Fetch `[start_ms, end_ms)` into `out`.
pub async fn fetch(
    vision: Arc<Vision>,
    (start_ms, end_ms): (i64, i64),
    out: &mut dyn MetricsOut,
) -> Result<FetchReport, ProviderError> {
    let now = now_ms();
    let mut report = FetchReport::default();
    for day in days(start_ms, end_ms) {
        let file = day.file(&vision);
        let got = match day.unpublished(&file, now) {
            Some(why) => Err(why),
            None => vision
                .decoded(&file, |r, entry| parse_file(r, entry))
                .await?
                .map_err(|p| p.reason().to_string()),
        };
        match got {
            Ok((mut rows, repeated)) => {
                if repeated > 0 {
                    vision.host.log(
                        LogLevel::WARN,
                        &format!(
                            "Binance Vision {}: {repeated} repeated create_time rows, the \
                             first of each kept",
                            file.name
                        ),
                    );
                }
                rows.retain(|m| m.time >= day.lo && m.time < day.hi);
                report.klines += rows.len() as u64;
                out.metrics(MetricBatch {
                    rows: rows.into(),
                    source: SourceKind::ARCHIVE,
                    covered_start_ms: day.lo,
                    covered_end_ms: day.hi,
                })?;
            }
            Err(reason) => report.missing.push(MissingRange {
                start_ms: day.lo,
                end_ms: day.hi,
                reason: reason.into(),
            }),
        }
        out.progress(day.hi - start_ms, end_ms - start_ms);
    }
    report.requests = vision.requests.load(Ordering::Relaxed);
    Ok(report)
}
