//! Trades from the Vision archive, a daily file per UTC day: each day's rows stream to the
//! host in chunks while the file is parsed (ARCHIVE batches covering nothing), then one
//! empty batch covers the day's part asked for once the whole file was read. A day not yet
//! published, not in the archive, or not usable goes into `FetchReport::missing` with the
//! reason; the other days go on.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use dsm_plugin_kit::deliver::TradesOut;
use dsm_sdk::time::now_ms;
use dsm_sdk::{FetchReport, LogLevel, MissingRange, ProviderError, SourceKind, TradeBatch};

use super::rows::{parse_file, Layout};
use crate::vision::days::days;
use crate::vision::fetch::Vision;

fn batch(rows: Vec<dsm_sdk::Trade>, (lo, hi): (i64, i64)) -> TradeBatch {
    TradeBatch {
        rows: rows.into(),
        source: SourceKind::ARCHIVE,
        covered_start_ms: lo,
        covered_end_ms: hi,
    }
}

/// Fetch `[start_ms, end_ms)` of `layout`'s files into `out`.
pub async fn fetch(
    vision: Arc<Vision>,
    layout: Layout,
    (start_ms, end_ms): (i64, i64),
    out: &mut dyn TradesOut,
) -> Result<FetchReport, ProviderError> {
    let now = now_ms();
    let mut report = FetchReport::default();
    for day in days(start_ms, end_ms) {
        let file = day.file(&vision);
        let (lo, hi) = (day.lo, day.hi);
        let got = match day.unpublished(&file, now) {
            Some(why) => Err(why),
            None => {
                let name = file.name.clone();
                let parse = move |r: &mut dyn std::io::BufRead, entry: &str, chunks: &mut _| {
                    let place = format!("{name} ({entry})");
                    let chunks: &mut crate::vision::fetch::Chunks<_> = chunks;
                    parse_file(r, &place, layout, (lo, hi), &mut |rows| chunks.send(rows))
                };
                let push = |rows: Vec<_>| out.trades(batch(rows, (lo, lo)));
                vision
                    .streamed(&file, parse, push)
                    .await?
                    .map_err(|p| p.reason().to_string())
            }
        };
        match got {
            Ok(parsed) => {
                if parsed.invalidated > 0 {
                    vision.host.log(
                        LogLevel::INFO,
                        &format!(
                            "Binance Vision {}: skipped {} invalidated rows (price 0, qty 0, \
                             first/last trade id -1)",
                            file.name, parsed.invalidated
                        ),
                    );
                }
                report.klines += parsed.rows;
                out.trades(batch(Vec::new(), (lo, hi)))?;
            }
            Err(reason) => report.missing.push(MissingRange {
                start_ms: lo,
                end_ms: hi,
                reason: reason.into(),
            }),
        }
        out.progress(hi - start_ms, end_ms - start_ms);
    }
    report.requests = vision.requests.load(Ordering::Relaxed);
    Ok(report)
}
