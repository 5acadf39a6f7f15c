//! Issue 11's bound: a month of BTCUSDT spot aggregated trades from the archive to Parquet
//! and the cache stays within 256 MiB. The fake (its own process, its memory not dsm's)
//! holds the month's daily zips prebuilt, byte for byte the files it serves on request.

use super::kinds::{agg_rows, check, fetch_kind, TRADES_PER_DAY};
use super::*;

/// March 2024: 31 days of 1,500,000 aggregated trades each (a busy real day).
const MONTH_START: &str = "2024-03-01";
const MONTH_DAYS: u32 = 31;

/// `DSM_BENCH_TRADE_DAYS` shortens the month (a quick check that the row works).
fn days() -> Result<u32, String> {
    match std::env::var("DSM_BENCH_TRADE_DAYS") {
        Err(_) => Ok(MONTH_DAYS),
        Ok(v) => v
            .parse()
            .ok()
            .filter(|d| (1..=MONTH_DAYS).contains(d))
            .ok_or_else(|| format!("DSM_BENCH_TRADE_DAYS={v:?}: expected 1 to {MONTH_DAYS}")),
    }
}

pub(super) fn trades_month(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    let days = days()?;
    let end = if days == MONTH_DAYS {
        "2024-04-01".to_string()
    } else {
        format!("2024-03-{:02}", days + 1)
    };
    eprintln!("{days} days of BTCUSDT spot aggTrades: archive -> Parquet + cache (memory)");
    let rows = agg_rows(TRADES_PER_DAY) * u64::from(days);
    // Zipping a busy day is seconds of CPU: every day built before the fake prints its URL.
    let fake = FakeProc::start_with_env(
        &env.fake_exe,
        &[
            "--prebuild".into(),
            format!("data/spot/daily/aggTrades/BTCUSDT:{MONTH_START}:{end}"),
        ],
        &[("DSM_FAKE_TRADES_PER_DAY", TRADES_PER_DAY.to_string())],
    )
    .map_err(|e| format!("fake exchange: {e}"))?;
    let args = [
        "--kind",
        "agg-trades",
        "-m",
        "spot",
        "--start",
        MONTH_START,
        "--end",
        &end,
        "--source",
        "archive",
    ];
    let out = env.work.join("trades-month.parquet");
    let (mut wall, mut cpu, mut rss, mut fake_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.reps(2, 1) {
        let cache = env.fresh_dir("trades-month-cache");
        let before = fake.cpu();
        let p = env.run_ok(&mut fetch_kind(env, &fake.url, &cache, &args, &out))?;
        fake_cpu.push(fake.cpu().saturating_sub(before));
        // Every day's zip and its CHECKSUM; a cache file a day.
        let files = days as usize;
        check(
            "aggTrades month",
            &p,
            &out,
            rows,
            (&cache, files),
            Some(2 * u64::from(days)),
        )?;
        wall.push(p.wall);
        cpu.push(p.cpu());
        rss.push(p.maxrss_kib);
    }
    let group = "a month of BTCUSDT spot aggTrades";
    let what = format!("{days} days ({rows} rows), archive -> Parquet + cache");
    rep.target(
        group,
        format!("{what}: peak RSS"),
        kib(&rss),
        Unit::KiB,
        "<= 256 MiB",
        |m| m <= 256.0 * 1024.0,
    );
    rep.add(
        group,
        format!("{what}: wall (CLI, whole process)"),
        secs(&wall),
        Unit::Secs,
    );
    let per_s: Vec<f64> = cpu.iter().map(|c| rows as f64 / c.as_secs_f64()).collect();
    rep.add(
        group,
        "rows per second of dsm CPU",
        Stats::of(&per_s),
        Unit::Count,
    );
    rep.add(
        group,
        "fake exchange CPU (other process, files prebuilt)",
        secs(&fake_cpu),
        Unit::Secs,
    );
    rep.note(format!(
        "aggTrades month: BTCUSDT spot from {MONTH_START}, {days} days of \
         DSM_FAKE_TRADES_PER_DAY={TRADES_PER_DAY} prebuilt by the fake; every run made {} \
         requests and wrote {rows} rows to Parquet and {days} day files to a fresh cache",
        2 * days
    ));
    Ok(())
}
