//! A month of 1s streamed to Parquet: peak RSS.

use super::*;

pub(super) fn memory(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("bounded memory: a month of 1s to Parquet (CLI)");
    // The 31 day files of 1s (~170 MB of zips) built before the fake prints its URL.
    let prebuild = format!(
        "data/spot/daily/klines/BTCUSDT/1s:{}:{}",
        MONTH_1S.0, MONTH_1S.1
    );
    let fake = env.fake_with(&["--prebuild".into(), prebuild])?;
    let (mut wall, mut rss, mut fake_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.reps(3, 1) {
        let cache = env.fresh_dir("month-cache");
        let out = env.work.join("month-1s.parquet");
        let before = fake.cpu();
        let p = env.run_ok(
            env.dsm()
                .env("DSM_BINANCE_VISION_URL", &fake.url)
                .env("DSM_BINANCE_SPOT_URL", &fake.url)
                .arg("-q")
                .arg("--cache-dir")
                .arg(&cache)
                .args([
                    "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1s",
                ])
                .args([
                    "--start", MONTH_1S.0, "--end", MONTH_1S.1, "-f", "parquet", "-o",
                ])
                .arg(&out),
        )?;
        fake_cpu.push(fake.cpu().saturating_sub(before));
        let rows = parquet_rows(&out)?;
        if rows != MONTH_1S_ROWS {
            return Err(format!(
                "month of 1s: {rows} rows, expected {MONTH_1S_ROWS}"
            ));
        }
        wall.push(p.wall);
        rss.push(p.maxrss_kib);
    }
    rep.target(
        "month of 1s (2,678,400 candles)",
        "archive to Parquet + cache (CLI): peak RSS",
        kib(&rss),
        Unit::KiB,
        // Issue 15's target (issue 5's was 128 MiB).
        "<= 64 MiB",
        |m| m <= 64.0 * 1024.0,
    );
    rep.add(
        "month of 1s (2,678,400 candles)",
        "wall",
        secs(&wall),
        Unit::Secs,
    );
    rep.add(
        "month of 1s (2,678,400 candles)",
        "fake exchange CPU (other process, files prebuilt)",
        secs(&fake_cpu),
        Unit::Secs,
    );
    Ok(())
}
