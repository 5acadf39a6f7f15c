//! The cold and warm archive years.

use super::*;

/// One way of serving the cold year.
struct Variant {
    label: &'static str,
    /// The monthly files are withheld, so the plugin falls back to the 365 daily files.
    daily: bool,
    /// Added by the fake before every response.
    latency_ms: u64,
    /// Issue 15's target for the wall time, in seconds.
    target: (&'static str, f64),
}

const VARIANTS: [Variant; 4] = [
    Variant {
        label: "monthly files (12)",
        daily: false,
        latency_ms: 0,
        target: ("<= 0.40 s", 0.40),
    },
    Variant {
        label: "daily files (365)",
        daily: true,
        latency_ms: 0,
        target: ("<= 0.55 s", 0.55),
    },
    Variant {
        label: "monthly files (12), 50 ms added latency",
        daily: false,
        latency_ms: 50,
        target: ("<= 0.6 s", 0.6),
    },
    Variant {
        label: "daily files (365), 50 ms added latency",
        daily: true,
        latency_ms: 50,
        target: ("<= 2.0 s", 2.0),
    },
];

/// Cold archive year, every [`VARIANTS`] entry. Returns a cache dir holding the year.
pub(super) fn cold(env: &Env, o: &Options, rep: &mut Report) -> Result<PathBuf, String> {
    let fetch = |url: &str, cache: &Path, out: &Path| {
        let mut c = env.dsm();
        c.env("DSM_BINANCE_VISION_URL", url)
            .env("DSM_BINANCE_SPOT_URL", url)
            .arg("-v")
            .arg("--cache-dir")
            .arg(cache)
            .args([
                "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
            ])
            .args([
                "--start", YEAR.0, "--end", YEAR.1, "--source", "archive", "-f", "parquet", "-o",
            ])
            .arg(out);
        c
    };
    for v in &VARIANTS {
        let label = v.label;
        eprintln!("cold archive year: {label}");
        let fake = env.fake_year_1m(v.daily, v.latency_ms)?;
        let reps = if v.daily { o.reps(3, 2) } else { o.reps(5, 3) };
        let (mut wall, mut rss, mut cpu, mut fake_cpu) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut requests = Vec::new();
        // The first run is a warm-up (page caches, the fake's first connections).
        for i in 0..reps + 1 {
            let cache = env.fresh_dir_retiring("cold-cache");
            let out = env.work.join("cold.parquet");
            let before = fake.cpu();
            let p = env.run_ok(&mut fetch(&fake.url, &cache, &out))?;
            let fake_used = fake.cpu().saturating_sub(before);
            let rows = parquet_rows(&out)?;
            if rows != YEAR_ROWS {
                return Err(format!(
                    "cold {label}: {rows} rows in the Parquet file, expected {YEAR_ROWS}"
                ));
            }
            let cached = files_in(&cache);
            if cached != 365 {
                return Err(format!("cold {label}: {cached} files cached, expected 365"));
            }
            requests.push(logged_requests(&p.stderr).unwrap_or(0));
            if i == 0 {
                continue;
            }
            wall.push(p.wall);
            rss.push(p.maxrss_kib);
            cpu.push(p.cpu());
            fake_cpu.push(fake_used);
        }
        let group = "cold archive year 1m";
        let (text, limit) = v.target;
        rep.target(
            group,
            format!("{label}: wall (CLI to Parquet, 525,600 candles)"),
            secs(&wall),
            Unit::Secs,
            text,
            |m| m <= limit,
        );
        rep.add(
            group,
            format!("{label}: dsm CPU (user+sys)"),
            secs(&cpu),
            Unit::Secs,
        );
        rep.add(
            group,
            format!("{label}: fake exchange CPU (other process, files prebuilt)"),
            secs(&fake_cpu),
            Unit::Secs,
        );
        rep.add(group, format!("{label}: peak RSS"), kib(&rss), Unit::KiB);
        rep.note(format!(
            "cold archive, {label}: HTTP requests per run (from `dsm -v`, warm-up first): \
             {requests:?}; every run wrote 525,600 rows to Parquet and 365 day files to a \
             fresh cache"
        ));
    }
    Ok(env.work.join("cold-cache"))
}

pub(super) fn warm(
    env: &Env,
    o: &Options,
    rep: &mut Report,
    cache: Option<PathBuf>,
) -> Result<PathBuf, String> {
    eprintln!("warm year: from cache to Parquet and to memory");
    let cache = year_cache(env, cache)?;
    let (mut wall, mut rss, mut switches) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.reps(10, 5) + 1 {
        let out = env.work.join("warm.parquet");
        let p = env.run_ok(
            env.dsm()
                .arg("-q")
                .arg("--cache-dir")
                .arg(&cache)
                .args([
                    "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
                ])
                .args([
                    "--start", YEAR.0, "--end", YEAR.1, "--source", "cache", "-f", "parquet", "-o",
                ])
                .arg(&out),
        )?;
        if parquet_rows(&out)? != YEAR_ROWS {
            return Err("warm to Parquet: wrong row count".into());
        }
        if i > 0 {
            wall.push(p.wall);
            rss.push(p.maxrss_kib);
            switches.push(p.switches);
        }
    }
    rep.target(
        "warm year 1m (cache)",
        "to Parquet: wall (CLI, whole process)",
        secs(&wall),
        Unit::Secs,
        "<= 70 ms",
        |m| m <= 0.070,
    );
    rep.add(
        "warm year 1m (cache)",
        "to Parquet: peak RSS",
        kib(&rss),
        Unit::KiB,
    );
    rep.add(
        "warm year 1m (cache)",
        "to Parquet: context switches of the process (voluntary + involuntary)",
        counts(&switches),
        Unit::Count,
    );
    let (mut fetch, mut rss) = (Vec::new(), Vec::new());
    for i in 0..o.reps(10, 5) + 1 {
        let p = env.run_ok(
            env.probe("fetch")
                .arg("--cache-dir")
                .arg(&cache)
                .args(["--start", YEAR.0, "--end", YEAR.1]),
        )?;
        if p.num("candles") != Some(YEAR_ROWS)
            || p.num("loaded") != Some(0)
            || p.num("mapped") != Some(0)
        {
            return Err(format!("warm to memory: {}", p.stdout));
        }
        if i > 0 {
            fetch.push(p.ns("fetch").unwrap_or_default());
            rss.push(p.maxrss_kib);
        }
    }
    rep.target(
        "warm year 1m (cache)",
        "to memory: `fetch_market_data` (Vec of 525,600 klines)",
        secs(&fetch),
        Unit::Secs,
        "<= 25 ms (issue 5: 100 ms)",
        |m| m <= 0.025,
    );
    rep.add(
        "warm year 1m (cache)",
        "to memory: peak RSS of that process",
        kib(&rss),
        Unit::KiB,
    );
    warm_records(env, o, rep, &cache)?;
    rep.note("warm fetches opened no plugin (Dsm::is_loaded false, nothing mapped)");
    Ok(cache)
}

/// Issue 15: the warm year as Arrow record batches (one per day, each cache file's
/// checksum verified on read), through `fetch_records` and `stream_records`.
fn warm_records(env: &Env, o: &Options, rep: &mut Report, cache: &Path) -> Result<(), String> {
    for (probe, what, target) in [
        ("records", "`fetch_records` (365 batches)", true),
        ("stream-records", "`stream_records` (its own thread)", false),
    ] {
        let (mut fetch, mut rss) = (Vec::new(), Vec::new());
        for i in 0..o.reps(10, 5) + 1 {
            let p = env.run_ok(
                env.probe(probe)
                    .arg("--cache-dir")
                    .arg(cache)
                    .args(["--start", YEAR.0, "--end", YEAR.1]),
            )?;
            if p.num("candles") != Some(YEAR_ROWS)
                || p.num("batches") != Some(365)
                || p.num("gaps") != Some(0)
                || p.num("loaded") != Some(0)
                || p.num("mapped") != Some(0)
            {
                return Err(format!("warm to Arrow batches ({probe}): {}", p.stdout));
            }
            if i > 0 {
                fetch.push(p.ns("fetch").unwrap_or_default());
                rss.push(p.maxrss_kib);
            }
        }
        let group = "warm year 1m (cache)";
        let what = format!("to memory as Arrow batches: {what}");
        match target {
            true => rep.target(group, what, secs(&fetch), Unit::Secs, "<= 12 ms", |m| {
                m <= 0.012
            }),
            false => rep.add(group, what, secs(&fetch), Unit::Secs),
        }
        rep.add(
            group,
            format!("to Arrow batches ({probe}): peak RSS of that process"),
            kib(&rss),
            Unit::KiB,
        );
    }
    Ok(())
}

/// The cache of the year of 1m the cold runs filled, or a new one filled from the archive.
pub(super) fn year_cache(env: &Env, cache: Option<PathBuf>) -> Result<PathBuf, String> {
    Ok(match cache {
        Some(c) if files_in(&c) == 365 => c,
        _ => {
            let fake = env.fake_year_1m(false, 0)?;
            let c = env.fresh_dir_retiring("cold-cache");
            env.run_ok(
                env.dsm()
                    .env("DSM_BINANCE_VISION_URL", &fake.url)
                    .arg("-q")
                    .arg("--cache-dir")
                    .arg(&c)
                    .args([
                        "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
                    ])
                    .args([
                        "--start",
                        YEAR.0,
                        "--end",
                        YEAR.1,
                        "--source",
                        "archive",
                        "-o",
                        "/dev/null",
                    ]),
            )?;
            c
        }
    })
}
