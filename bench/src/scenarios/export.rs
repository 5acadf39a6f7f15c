//! `dsm export` of 50 series: a fresh dataset, then a re-export where nothing changed.

use dsm_core::cache::{Cache, SeriesKey};
use dsm_core::Kline;

use super::*;

pub(super) const SERIES: usize = 50;
pub(super) const DAYS: i64 = 31;
/// 2024-01-01T00:00:00Z.
const START_MS: i64 = 1_704_067_200_000;
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// A day of valid, distinct 1m candles.
fn day_of(start: i64, seed: usize) -> Vec<Kline> {
    (0..1440)
        .map(|i| {
            let p = 100.0 + seed as f64 + (i % 97) as f64 / 10.0;
            Kline {
                open_time: start + i * MINUTE_MS,
                open: p,
                high: p + 1.0,
                low: p - 1.0,
                close: p + 0.5,
                volume: 10.0 + (i % 13) as f64,
                close_time: start + (i + 1) * MINUTE_MS - 1,
                quote_volume: 1000.0 + i as f64,
                trades: (i % 50) as u64,
                taker_buy_base_volume: 5.0,
                taker_buy_quote_volume: 500.0,
            }
        })
        .collect()
}

/// A cache of [`SERIES`] 1m series (`S00USDT` ..) of [`DAYS`] days each, written through
/// the library (outside any timed region).
pub(super) fn fill(dir: &Path) -> Result<(), String> {
    let cache = Cache::new(dir);
    for s in 0..SERIES {
        let key = SeriesKey::new("binance", "spot", &format!("S{s:02}USDT"), "1m")
            .map_err(|e| e.to_string())?;
        let days: Vec<(i64, Vec<Kline>)> = (0..DAYS)
            .map(|d| (START_MS + d * DAY_MS, day_of(START_MS + d * DAY_MS, s)))
            .collect();
        let periods: Vec<(i64, &[Kline])> = days.iter().map(|(t, r)| (*t, &r[..])).collect();
        for r in cache.write_many(&key, &periods, 0) {
            r.map_err(|e| format!("filling the cache: {e}"))?;
        }
    }
    Ok(())
}

pub(super) fn export(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("export: {SERIES} series of 1m, {DAYS} days each");
    let cache = env.fresh_dir("export-cache");
    fill(&cache)?;
    let files = SERIES * DAYS as usize;
    let run_export = |dataset: &Path| {
        let mut c = env.dsm();
        c.arg("--cache-dir")
            .arg(&cache)
            .arg("export")
            .arg("--dataset")
            .arg(dataset);
        c
    };
    let (mut fresh, mut again, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    // The first round is a warm-up (page cache of the cache files).
    for i in 0..o.reps(3, 2) + 1 {
        let dataset = env.fresh_dir("export-dataset");
        let p = env.run_ok(&mut run_export(&dataset))?;
        if !p.stdout.contains(&format!("{files} files written")) {
            return Err(format!("export: expected {files} files, got: {}", p.stdout));
        }
        let q = env.run_ok(&mut run_export(&dataset))?;
        if !q.stdout.contains(&format!("{files} unchanged")) {
            return Err(format!(
                "re-export: expected nothing written, got: {}",
                q.stdout
            ));
        }
        bytes = walk(&dataset)
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum::<u64>();
        if i > 0 {
            fresh.push(p.wall);
            again.push(q.wall);
            rss.push(p.maxrss_kib);
        }
    }
    let group = "export (50 series)";
    let what = format!("{SERIES} series x {DAYS} days of 1m ({files} files)");
    rep.add(
        group,
        format!("{what}: wall, new dataset"),
        secs(&fresh),
        Unit::Secs,
    );
    rep.add(
        group,
        format!("{what}: wall, re-export (nothing changed)"),
        secs(&again),
        Unit::Secs,
    );
    rep.add(group, format!("{what}: peak RSS"), kib(&rss), Unit::KiB);
    rep.note(format!(
        "export: {} candles into {files} Parquet files, {bytes} bytes with the manifest",
        files * 1440
    ));
    Ok(())
}
