//! The Binance Vision archive source (data.binance.vision): klines (and mark, index and
//! premium index klines, by the fetch's `Series`) from daily and monthly zip files,
//! verified against their CHECKSUM files. Funding files: `crate::funding::archive`.
//!
//! - [`plan`]: which files serve the range (whole past months: monthly files, falling back
//!   to daily ones; other days: daily files; 3d/1w/1M: monthly only; 1s: daily only);
//! - [`fetch`]: one file: download (size-capped), checksum, unzip (bounded), parse;
//! - [`csv`]: rows (header detection, microseconds) to candles; [`paths`]: names and URLs.
//!
//! Files are fetched concurrently (the zip and its CHECKSUM together, several files at
//! once, at most [`concurrency`] requests in flight, the archive's own limit) and delivered
//! in ascending order, one ARCHIVE batch per UTC day (per month for 3d/1w/1M) covering that
//! day. A file that is not in the archive, or cannot be used (checksum mismatch, corrupt
//! zip, malformed row, failed download), is not pushed at all: its range goes into
//! `FetchReport::missing` with the reason, and the other files go on.

pub mod concurrency;
pub mod csv;
pub mod days;
pub mod fetch;
pub mod paths;
pub mod plan;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use dsm_plugin_kit::calendar::DAY_MS;
use dsm_plugin_kit::ordered::for_each_ordered;
use dsm_plugin_kit::Interval;
use dsm_sdk::time::now_ms;
use dsm_sdk::{FetchReport, Kline, KlineBatch, LogLevel, MissingRange, ProviderError, SourceKind};

use crate::Out;
use dsm_sdk::DataKind;
use fetch::{Problem, Vision};
use plan::{Kind, Unit};

/// What one file (or a month's fallback files) yields, in order.
enum Piece {
    Batch {
        klines: Vec<Kline>,
        lo: i64,
        hi: i64,
    },
    Missing(MissingRange),
}

fn missing(lo: i64, hi: i64, reason: impl Into<String>) -> Piece {
    Piece::Missing(MissingRange {
        start_ms: lo,
        end_ms: hi,
        reason: reason.into().into(),
    })
}

/// Candles decoded and waiting for their turn, at most (about 45 MB): memory stays bounded
/// whatever the concurrency (a day of 1s is 86,400 candles, a month of 1m 44,640).
const ROWS_AHEAD: usize = 500_000;

/// Files fetched ahead of the one being delivered: as many as requests may be in flight,
/// fewer when their candles would pass [`ROWS_AHEAD`]; at least one.
fn lookahead(concurrency: usize, rows_per_file: usize) -> usize {
    (ROWS_AHEAD / rows_per_file.max(1)).clamp(1, concurrency.max(1))
}

/// Largest zip of a trade day: BTCUSDT spot trades reach a few hundred MB a day.
pub const MAX_TRADES_ZIP_BYTES: u64 = 1 << 30;

/// The Vision dataset word of a kind without an interval (empty for candle kinds).
pub fn dataset_word(kind: DataKind) -> &'static str {
    match kind {
        DataKind::FUNDING => "fundingRate",
        DataKind::AGG_TRADES => "aggTrades",
        DataKind::TRADES => "trades",
        DataKind::METRICS => "metrics",
        _ => "",
    }
}

/// Largest zip downloaded for a kind.
pub fn max_zip(kind: DataKind) -> u64 {
    match kind {
        DataKind::AGG_TRADES | DataKind::TRADES => MAX_TRADES_ZIP_BYTES,
        _ => fetch::MAX_ZIP_BYTES,
    }
}

/// Limits on a zip's CSV: trade days are streamed, never held inflated, and a busy day of
/// BTCUSDT spot trades is over 1 GB of CSV, so they may inflate to 8 GiB.
pub fn zip_limits(kind: DataKind) -> dsm_plugin_kit::unzip::ZipLimits {
    let default = dsm_plugin_kit::unzip::ZipLimits::DEFAULT;
    match kind {
        DataKind::AGG_TRADES | DataKind::TRADES => dsm_plugin_kit::unzip::ZipLimits {
            max_bytes: 8 << 30,
            ..default
        },
        _ => default,
    }
}

/// Fetch `[start_ms, end_ms)` from Vision into `out`.
pub async fn fetch(
    vision: Arc<Vision>,
    (start_ms, end_ms): (i64, i64),
    out: &mut dyn Out,
) -> Result<FetchReport, ProviderError> {
    let now = now_ms();
    let units = plan::plan(&vision.interval, start_ms, end_ms, now);
    let mut report = FetchReport::default();
    let largest = units
        .iter()
        .map(|u| capacity(&vision.interval, u.end - u.start))
        .max()
        .unwrap_or(1);
    let lookahead = lookahead(vision.concurrency, largest);
    let deliver = |(unit, pieces): (Unit, Vec<Piece>)| {
        for piece in pieces {
            match piece {
                Piece::Batch { klines, lo, hi } => {
                    report.klines += klines.len() as u64;
                    out.batch(KlineBatch {
                        klines: klines.into(),
                        source: SourceKind::ARCHIVE,
                        covered_start_ms: lo,
                        covered_end_ms: hi,
                    })?;
                }
                Piece::Missing(m) => report.missing.push(m),
            }
        }
        out.progress(unit.hi - start_ms, end_ms - start_ms);
        Ok(())
    };
    let task = |unit: Unit| {
        let vision = vision.clone();
        async move {
            let pieces = fetch_unit(&vision, unit, now).await?;
            Ok((unit, pieces))
        }
    };
    let result = for_each_ordered(units, lookahead, task, deliver).await;
    report.requests = vision.requests.load(Ordering::Relaxed);
    result?;
    Ok(report)
}

async fn fetch_unit(v: &Arc<Vision>, u: Unit, now: i64) -> Result<Vec<Piece>, ProviderError> {
    dsm_plugin_kit::cancel::check(&v.host)?;
    if !u.published_by(now) {
        let (file, when) = match u.kind {
            Kind::Day => (v.daily(u.start), "day"),
            _ => (v.monthly(u.start), "month"),
        };
        let why = format!(
            "not in the Binance Vision archive yet ({} is published after its {when} ends)",
            file.name
        );
        return Ok(vec![missing(u.lo, u.hi, why)]);
    }
    let (file, per_day) = match u.kind {
        Kind::Day => (v.daily(u.start), true),
        Kind::Month => (v.monthly(u.start), true),
        Kind::MonthOnly => (v.monthly(u.start), false),
    };
    match v
        .file(&file, capacity(&v.interval, u.end - u.start))
        .await?
    {
        Ok(klines) => Ok(split(v, &file.name, klines, u, per_day)),
        Err(p) if u.kind == Kind::Month => {
            let fell = p.clone();
            v.host.log(
                LogLevel::DEBUG,
                &format!("{}: {}; using daily files", file.name, fell.reason()),
            );
            daily_fallback(v, u, &file.name, p).await
        }
        Err(p) => Ok(vec![missing(u.lo, u.hi, p.reason())]),
    }
}

/// A month whose monthly file was not usable, from its daily files (fetched concurrently,
/// in order).
async fn daily_fallback(
    v: &Arc<Vision>,
    u: Unit,
    monthly_name: &str,
    monthly: Problem,
) -> Result<Vec<Piece>, ProviderError> {
    let cap = capacity(&v.interval, DAY_MS);
    let mut days = Vec::new();
    let task = |day: i64| {
        let v = v.clone();
        async move {
            let file = v.daily(day);
            let got = v.file(&file, cap).await?;
            Ok((day, file.name, got))
        }
    };
    let keep = |d| {
        days.push(d);
        Ok(())
    };
    for_each_ordered(u.days(), lookahead(v.concurrency, cap), task, keep).await?;
    let all_absent = days
        .iter()
        .all(|d| matches!(d.2, Err(Problem::NotFound(_))));
    if all_absent && matches!(monthly, Problem::NotFound(_)) {
        let why = format!(
            "not in the Binance Vision archive ({monthly_name} 404, and its daily files too)"
        );
        return Ok(vec![missing(u.lo, u.hi, why)]);
    }
    let mut pieces = Vec::new();
    for (day, name, got) in days {
        let day_unit = Unit {
            kind: Kind::Day,
            start: day,
            end: day + DAY_MS,
            lo: day,
            hi: day + DAY_MS,
        };
        match got {
            Ok(klines) => pieces.extend(split(v, &name, klines, day_unit, true)),
            Err(p) => pieces.push(missing(day, day + DAY_MS, p.reason())),
        }
    }
    Ok(pieces)
}

/// A file's candles as batches: one per day of the unit (or one for the unit), each
/// covering its part of `[lo, hi)`. Rows outside the file's period are dropped and logged.
fn split(v: &Vision, name: &str, klines: Vec<Kline>, u: Unit, per_day: bool) -> Vec<Piece> {
    let stray = klines
        .iter()
        .filter(|k| k.open_time < u.start || k.open_time >= u.end)
        .count();
    if stray > 0 {
        v.host.log(
            LogLevel::WARN,
            &format!("Binance Vision {name}: dropped {stray} rows outside the file's period"),
        );
    }
    let inside = |k: &Kline| k.open_time >= u.lo && k.open_time < u.hi;
    if !per_day {
        let klines: Vec<Kline> = klines.into_iter().filter(inside).collect();
        return vec![Piece::Batch {
            klines,
            lo: u.lo,
            hi: u.hi,
        }];
    }
    let days: Vec<i64> = u
        .days()
        .filter(|d| *d + DAY_MS > u.lo && *d < u.hi)
        .collect();
    if days.len() == 1 {
        let klines = klines.into_iter().filter(inside).collect();
        return vec![Piece::Batch {
            klines,
            lo: u.lo,
            hi: u.hi,
        }];
    }
    let first = days[0];
    let per = klines.len() / days.len().max(1) + 1;
    let mut buckets: Vec<Vec<Kline>> = days.iter().map(|_| Vec::with_capacity(per)).collect();
    for k in klines.into_iter().filter(inside) {
        let i = ((k.open_time - first) / DAY_MS) as usize;
        buckets[i].push(k);
    }
    days.iter()
        .zip(buckets)
        .map(|(&d, klines)| Piece::Batch {
            klines,
            lo: d.max(u.lo),
            hi: (d + DAY_MS).min(u.hi),
        })
        .collect()
}

/// Rows a file of `span_ms` holds, for sizing vectors.
fn capacity(interval: &str, span_ms: i64) -> usize {
    match Interval::parse(interval) {
        Ok(Interval::Fixed(ms)) if ms > 0 => (span_ms / ms) as usize,
        _ => 1,
    }
}
