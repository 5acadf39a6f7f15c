//! Issue 15: four years of 1m USD-M candles from the archive with 50 ms added before every
//! response (a far CDN), the fake holding the 48 monthly files prebuilt.

use super::*;

const FOUR_YEARS: (&str, &str) = ("2020-01-01", "2024-01-01");
/// 2020 and 2024's leap days: 366 + 365 + 365 + 365 days.
const DAYS: u64 = 1461;
const ROWS: u64 = DAYS * 1440;
/// 48 monthly zips and their CHECKSUMs.
const REQUESTS: u64 = 96;
const LATENCY_MS: u64 = 50;

pub(super) fn archive_um(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("four years of 1m USD-M from the archive, {LATENCY_MS} ms added latency");
    let fake = env.fake_with(&[
        "--latency-ms".into(),
        LATENCY_MS.to_string(),
        "--prebuild".into(),
        format!(
            "data/futures/um/monthly/klines/BTCUSDT/1m:{}:{}",
            &FOUR_YEARS.0[..7],
            &FOUR_YEARS.1[..7]
        ),
    ])?;
    let (mut wall, mut cpu, mut rss, mut fake_cpu, mut requests) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The first run is a warm-up (page caches, the fake's first connections).
    for i in 0..o.reps(3, 1) + 1 {
        let cache = env.fresh_dir_retiring("um4-cache");
        let out = env.work.join("um4.parquet");
        let before = fake.cpu();
        let p = env.run_ok(
            env.dsm()
                .env("DSM_BINANCE_VISION_URL", &fake.url)
                .env("DSM_BINANCE_UM_URL", &fake.url)
                .arg("-v")
                .arg("--cache-dir")
                .arg(&cache)
                .args(["fetch", "-p", "binance", "-m", "um", "-s", "BTCUSDT"])
                .args(["-i", "1m", "--start", FOUR_YEARS.0, "--end", FOUR_YEARS.1])
                .args(["--source", "archive", "-f", "parquet", "-o"])
                .arg(&out),
        )?;
        let fake_used = fake.cpu().saturating_sub(before);
        let rows = parquet_rows(&out)?;
        let cached = files_in(&cache) as u64;
        let n = logged_requests(&p.stderr).unwrap_or(0);
        if rows != ROWS || cached != DAYS || n != REQUESTS {
            return Err(format!(
                "four years USD-M: {rows} rows, {cached} cached days, {n} requests; expected \
                 {ROWS}, {DAYS}, {REQUESTS}"
            ));
        }
        requests.push(n);
        if i == 0 {
            continue;
        }
        wall.push(p.wall);
        cpu.push(p.cpu());
        rss.push(p.maxrss_kib);
        fake_cpu.push(fake_used);
    }
    let group = "archive 4 years 1m um, 50 ms latency";
    rep.target(
        group,
        "wall (CLI to Parquet + cache, 2,103,840 candles from 48 monthly files)",
        secs(&wall),
        Unit::Secs,
        "<= 3 s",
        |m| m <= 3.0,
    );
    rep.add(group, "dsm CPU (user+sys)", secs(&cpu), Unit::Secs);
    rep.add(
        group,
        "fake exchange CPU (other process, files prebuilt)",
        secs(&fake_cpu),
        Unit::Secs,
    );
    rep.add(group, "peak RSS", kib(&rss), Unit::KiB);
    rep.note(format!(
        "archive 4 years um: BTCUSDT 1m {} .. {} (exclusive), {LATENCY_MS} ms before every \
         response; HTTP requests per run (from `dsm -v`, warm-up first): {requests:?}; every \
         run wrote {ROWS} rows to Parquet and {DAYS} day files to a fresh cache",
        FOUR_YEARS.0, FOUR_YEARS.1
    ));
    Ok(())
}
