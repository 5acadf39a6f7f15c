//! Issue 11's data kinds: a day of BTCUSDT spot aggregated trades from the archive to
//! Parquet + cache and from the cache to Parquet, and a year of USD-M funding rates from
//! the archive. The fake exchange runs in its own process, as for klines.

use dsm_tests::fake::{expected_funding, Market};

use super::*;

/// The day of trades, and the fake's volume: 3,000,000 trades a day, aggregated two by
/// two into 1,500,000 rows (a busy real BTCUSDT day has about as many).
const TRADE_DAY: (&str, &str) = ("2024-03-01", "2024-03-02");
pub(super) const TRADES_PER_DAY: u64 = 3_000_000;
const FUNDING_YEAR: (&str, &str) = ("2023-01-01", "2024-01-01");
const FUNDING_MS: (i64, i64) = (1_672_531_200_000, 1_704_067_200_000);

/// The aggregated trades dsm keeps of a fake day: the fake writes `trades / 2` rows and
/// invalidates (price 0, ids -1, as Binance's 2022 audit did) every row `k % 250 == 17`
/// (tests/src/fake/trades.rs), which the plugin skips.
pub(super) fn agg_rows(trades_per_day: u64) -> u64 {
    let rows = trades_per_day / 2;
    let invalidated = match rows > 17 {
        true => (rows - 18) / 250 + 1,
        false => 0,
    };
    rows - invalidated
}

/// `dsm -v fetch` of one kind into `out`, the cache in `cache`, every endpoint at `url`.
pub(super) fn fetch_kind(env: &Env, url: &str, cache: &Path, args: &[&str], out: &Path) -> Command {
    let mut c = env.dsm();
    for var in [
        "DSM_BINANCE_SPOT_URL",
        "DSM_BINANCE_UM_URL",
        "DSM_BINANCE_VISION_URL",
    ] {
        c.env(var, url);
    }
    c.arg("-v")
        .arg("--cache-dir")
        .arg(cache)
        .args(["fetch", "-p", "binance", "-s", "BTCUSDT"])
        .args(args)
        .args(["-f", "parquet", "-o"])
        .arg(out);
    c
}

/// Checks a run's Parquet rows, cached files and (when given) logged requests.
pub(super) fn check(
    what: &str,
    p: &Proc,
    out: &Path,
    rows: u64,
    cache: (&Path, usize),
    requests: Option<u64>,
) -> Result<(), String> {
    let got = parquet_rows(out)?;
    let cached = files_in(cache.0);
    let logged = logged_requests(&p.stderr);
    if got != rows || cached != cache.1 || requests.is_some_and(|r| logged != Some(r)) {
        return Err(format!(
            "{what}: {got} rows, {cached} files cached, {logged:?} requests; expected {rows}, \
             {}, {requests:?}",
            cache.1
        ));
    }
    Ok(())
}

pub(super) fn trades(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("a day of BTCUSDT spot aggTrades: archive -> Parquet + cache, cache -> Parquet");
    let rows = agg_rows(TRADES_PER_DAY);
    let fake = FakeProc::start_with_env(
        &env.fake_exe,
        &[
            "--prebuild".into(),
            format!(
                "data/spot/daily/aggTrades/BTCUSDT:{}:{}",
                TRADE_DAY.0, TRADE_DAY.1
            ),
        ],
        &[("DSM_FAKE_TRADES_PER_DAY", TRADES_PER_DAY.to_string())],
    )
    .map_err(|e| format!("fake exchange: {e}"))?;
    let range = [
        "--kind",
        "agg-trades",
        "-m",
        "spot",
        "--start",
        TRADE_DAY.0,
        "--end",
        TRADE_DAY.1,
    ];
    let out = env.work.join("trades.parquet");
    let cache = env.work.join("trades-cache");
    let (mut wall, mut cpu, mut rss, mut fake_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The first run is a warm-up (page caches, the fake's first connections).
    for i in 0..o.reps(3, 1) + 1 {
        let cache = env.fresh_dir("trades-cache");
        let before = fake.cpu();
        let mut args = range.to_vec();
        args.extend(["--source", "archive"]);
        let p = env.run_ok(&mut fetch_kind(env, &fake.url, &cache, &args, &out))?;
        let fake_used = fake.cpu().saturating_sub(before);
        // The day's zip and its CHECKSUM.
        check("aggTrades archive", &p, &out, rows, (&cache, 1), Some(2))?;
        if i > 0 {
            fake_cpu.push(fake_used);
            wall.push(p.wall);
            cpu.push(p.cpu());
            rss.push(p.maxrss_kib);
        }
    }
    let group = "a day of BTCUSDT spot aggTrades";
    let what = "archive -> Parquet + cache";
    wall_and_cpu(rep, group, what, &wall, &cpu);
    let per_s: Vec<f64> = cpu.iter().map(|c| rows as f64 / c.as_secs_f64()).collect();
    rep.add(
        group,
        format!("{what}: rows per second of dsm CPU"),
        Stats::of(&per_s),
        Unit::Count,
    );
    rep.add(group, format!("{what}: peak RSS"), kib(&rss), Unit::KiB);
    rep.add(
        group,
        format!("{what}: fake exchange CPU (other process, file prebuilt)"),
        secs(&fake_cpu),
        Unit::Secs,
    );
    drop(fake);
    let (mut wall, mut cpu, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.reps(5, 2) + 1 {
        let mut args = range.to_vec();
        args.extend(["--source", "cache"]);
        // No exchange at all: a closed port.
        let p = env.run_ok(&mut fetch_kind(
            env,
            "http://127.0.0.1:9",
            &cache,
            &args,
            &out,
        ))?;
        check(
            "aggTrades from the cache",
            &p,
            &out,
            rows,
            (&cache, 1),
            Some(0),
        )?;
        if i > 0 {
            wall.push(p.wall);
            cpu.push(p.cpu());
            rss.push(p.maxrss_kib);
        }
    }
    let what = "cache -> Parquet";
    wall_and_cpu(rep, group, what, &wall, &cpu);
    rep.add(group, format!("{what}: peak RSS"), kib(&rss), Unit::KiB);
    rep.note(format!(
        "aggTrades: BTCUSDT spot {} with DSM_FAKE_TRADES_PER_DAY={TRADES_PER_DAY} (the fake's \
         file holds {} rows, {} of them invalidated and skipped by the plugin), the zip \
         prebuilt by the fake; every archive run made 2 requests (zip + CHECKSUM) and wrote \
         {rows} rows to Parquet and 1 day file to a fresh cache; every cache run {rows} rows \
         and no request",
        TRADE_DAY.0,
        TRADES_PER_DAY / 2,
        TRADES_PER_DAY / 2 - rows
    ));
    Ok(())
}

pub(super) fn funding(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("a year of BTCUSDT USD-M funding from the archive");
    let rows =
        expected_funding(Market::Um, "BTCUSDT", FUNDING_MS.0, FUNDING_MS.1, true).len() as u64;
    // The 12 monthly files are about 10 KB of CSV each: built on request.
    let fake = env.fake()?;
    let out = env.work.join("funding.parquet");
    let (mut wall, mut cpu, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.reps(5, 2) + 1 {
        let cache = env.fresh_dir("funding-cache");
        let args = [
            "--kind",
            "funding",
            "-m",
            "um",
            "--start",
            FUNDING_YEAR.0,
            "--end",
            FUNDING_YEAR.1,
            "--source",
            "archive",
        ];
        let p = env.run_ok(&mut fetch_kind(env, &fake.url, &cache, &args, &out))?;
        // 12 monthly files and their CHECKSUMs; one cache file a month.
        check("funding archive", &p, &out, rows, (&cache, 12), Some(24))?;
        if i > 0 {
            wall.push(p.wall);
            cpu.push(p.cpu());
            rss.push(p.maxrss_kib);
        }
    }
    let group = "a year of BTCUSDT um funding";
    let what = format!("archive -> Parquet + cache ({rows} rates, 12 monthly files)");
    rep.add(
        group,
        format!("{what}: wall (CLI, whole process)"),
        secs(&wall),
        Unit::Secs,
    );
    rep.add(group, "dsm CPU (user+sys)", secs(&cpu), Unit::Secs);
    rep.add(group, "peak RSS", kib(&rss), Unit::KiB);
    rep.note(format!(
        "funding: every run made 24 requests (12 monthly fundingRate zips + CHECKSUMs) and \
         wrote {rows} rates (the fake's, tests/src/fake/funding.rs) to Parquet and 12 month \
         files to a fresh cache"
    ));
    Ok(())
}

/// The whole process's wall time and dsm's CPU time of a CLI run, as two rows.
fn wall_and_cpu(
    rep: &mut Report,
    group: &'static str,
    what: &str,
    wall: &[Duration],
    cpu: &[Duration],
) {
    rep.add(
        group,
        format!("{what}: wall (CLI, whole process)"),
        secs(wall),
        Unit::Secs,
    );
    rep.add(
        group,
        format!("{what}: dsm CPU (user+sys)"),
        secs(cpu),
        Unit::Secs,
    );
}
