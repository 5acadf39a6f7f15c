//! Issue 13: `dsm sync` of 50 symbols x one year of 1h spot candles, from the archive and
//! from REST under a reduced weight limit, and the incremental re-run one day later.
//!
//! Here the fake runs in the bench's own process (`dsm_tests::fake`), because these rows are
//! read from its request log and weight counters; `dsm` is still a child process of its own.

use dsm_tests::fake::{FakeExchange, RequestRecord};

use super::*;

const SYMBOLS: usize = 50;
const SYNC_YEAR: (&str, &str) = ("2023-01-01", "2024-01-01");
/// The end of the incremental run: one more day.
const NEXT_DAY: &str = "2024-01-02";
const SYNC_ROWS: u64 = SYMBOLS as u64 * 365 * 24;
/// The weight limit given to the fake and to dsm for the REST run (spot's real one is 6000 a
/// minute), and the window both count in (the real one is 60 s).
const LIMIT: u32 = 100;
const WINDOW_MS: u32 = 1_000;
/// dsm's budget per window: the limit less its 10% headroom (plugins/binance/src/weights.rs).
const BUDGET: u32 = LIMIT - LIMIT / 10;
/// Every endpoint of every provider, all at the fake.
const ENDPOINTS: [&str; 7] = [
    "DSM_BINANCE_SPOT_URL",
    "DSM_BINANCE_UM_URL",
    "DSM_BINANCE_CM_URL",
    "DSM_BINANCE_VISION_URL",
    "DSM_BINANCE_VISION_LISTING_URL",
    "DSM_OKX_REST_URL",
    "DSM_BYBIT_REST_URL",
];

/// `dsm -q sync` of the 50 coins, 1h, from the year's start to `end`, with the cache and the
/// lockfile in `dir`.
fn sync_cmd(env: &Env, url: &str, dir: &Path, source: &str, end: &str) -> Command {
    let symbols: Vec<String> = (1..=SYMBOLS).map(|i| format!("COIN{i:02}USDT")).collect();
    let mut c = env.dsm();
    for var in ENDPOINTS {
        c.env(var, url);
    }
    c.env("DSM_CACHE_DIR", dir.join("cache"))
        .args(["-q", "sync", "-p", "binance", "-m", "spot", "-i", "1h"])
        .args(["-s", &symbols.join(",")])
        .args(["--start", SYNC_YEAR.0, "--end", end, "--source", source])
        .arg("--lock")
        .arg(dir.join("sync.lock"));
    c
}

/// Runs a sync (exit 0), checks its table has `SYMBOLS` series and `rows` rows in all.
fn run_sync(env: &Env, mut cmd: Command, rows: u64) -> Result<Proc, String> {
    let p = env.run_ok(&mut cmd)?;
    let series: Vec<u64> = p
        .stdout
        .lines()
        .filter(|l| l.starts_with("binance/spot/klines/"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    let total: u64 = series.iter().sum();
    if series.len() != SYMBOLS || total != rows {
        return Err(format!(
            "sync: {} series, {total} rows, expected {SYMBOLS} and {rows}:\n{}",
            series.len(),
            p.stdout
        ));
    }
    Ok(p)
}

/// The weight the fake charged for `log` on spot (klines 2, ping and time 1; 429s nothing).
fn spot_weight(log: &[RequestRecord]) -> u32 {
    log.iter()
        .filter(|r| r.path.starts_with("/api/") && r.status != 429)
        .map(|r| if r.path == "/api/v3/klines" { 2 } else { 1 })
        .sum()
}

pub(super) fn sync(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    archive_runs(env, o, rep)?;
    rest_runs(env, o, rep)
}

/// (a) the year from the archive into a fresh cache, and (c) one more day into that cache.
fn archive_runs(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("sync 50 symbols x 1 year 1h from the archive, then one more day");
    let group = "sync 50 x 1 year 1h spot (archive)";
    let (mut wall, mut cpu, mut requests) = (Vec::new(), Vec::new(), Vec::new());
    let (mut inc_wall, mut inc_requests) = (Vec::new(), Vec::new());
    for _ in 0..o.reps(3, 1) {
        let fake = FakeExchange::start();
        let dir = env.fresh_dir("sync-archive");
        let p = run_sync(
            env,
            sync_cmd(env, &fake.url(), &dir, "archive", SYNC_YEAR.1),
            SYNC_ROWS,
        )?;
        let cached = files_in(&dir.join("cache"));
        if cached < SYMBOLS * 365 {
            return Err(format!(
                "sync archive: {cached} files cached, expected 50 x 365"
            ));
        }
        wall.push(p.wall);
        cpu.push(p.cpu());
        requests.push(fake.requests().len() as u64);
        fake.clear_requests();
        let next = sync_cmd(env, &fake.url(), &dir, "archive", NEXT_DAY);
        let p = run_sync(env, next, SYNC_ROWS + SYMBOLS as u64 * 24)?;
        inc_wall.push(p.wall);
        inc_requests.push(fake.requests().len() as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }
    rep.add(
        group,
        "wall (whole `dsm sync`, 438,000 rows)",
        secs(&wall),
        Unit::Secs,
    );
    rep.add(group, "dsm CPU (user+sys)", secs(&cpu), Unit::Secs);
    rep.add(
        group,
        "HTTP requests (fake's log)",
        counts(&requests),
        Unit::Count,
    );
    rep.add(group, "one more day: wall", secs(&inc_wall), Unit::Secs);
    rep.add(
        group,
        "one more day: HTTP requests",
        counts(&inc_requests),
        Unit::Count,
    );
    rep.note(format!(
        "sync archive: every run's table showed 50 series and 438,000 rows (the next day: \
         439,200) in a fresh cache; requests per run {requests:?}, next day {inc_requests:?}"
    ));
    Ok(())
}

/// (b) the year from REST, the fake and dsm both at `LIMIT` per `WINDOW_MS`.
fn rest_runs(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("sync 50 symbols x 1 year 1h from REST, weight limit {LIMIT} per {WINDOW_MS} ms");
    let group = "sync 50 x 1 year 1h spot (REST, budget)";
    let (mut wall, mut ratio, mut requests, mut weights, mut maxes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.reps(3, 1) {
        let fake = FakeExchange::start();
        fake.set_weight_limit("/api/", LIMIT);
        fake.set_weight_window(i64::from(WINDOW_MS));
        let dir = env.fresh_dir("sync-rest");
        let mut cmd = sync_cmd(env, &fake.url(), &dir, "rest", SYNC_YEAR.1);
        cmd.env("DSM_BINANCE_WEIGHT_LIMIT", LIMIT.to_string())
            .env("DSM_BINANCE_WEIGHT_WINDOW_MS", WINDOW_MS.to_string());
        let p = run_sync(env, cmd, SYNC_ROWS)?;
        let _ = std::fs::remove_dir_all(&dir);
        let log = fake.requests();
        if fake.weight_refusals() > 0 || log.iter().any(|r| r.status == 429) {
            return Err(format!(
                "sync REST: {} requests refused (429)",
                fake.weight_refusals()
            ));
        }
        let weight = spot_weight(&log);
        let floor = f64::from(weight) / f64::from(BUDGET) * f64::from(WINDOW_MS) / 1e3;
        wall.push(p.wall);
        ratio.push(p.wall.as_secs_f64() / floor);
        requests.push(log.len() as u64);
        weights.push(u64::from(weight));
        maxes.push(u64::from(fake.max_used_weight("/api/")));
    }
    let floor = weights
        .first()
        .map_or(0.0, |&w| w as f64 / f64::from(BUDGET));
    rep.add(group, "wall (whole `dsm sync`)", secs(&wall), Unit::Secs);
    rep.add(
        group,
        "HTTP requests (fake's log)",
        counts(&requests),
        Unit::Count,
    );
    rep.add(group, "total weight used", counts(&weights), Unit::Count);
    rep.add(
        group,
        format!("max weight in one window (limit {LIMIT})"),
        counts(&maxes),
        Unit::Count,
    );
    rep.add(
        group,
        format!(
            "wall / floor (floor = weight / budget {BUDGET} = {floor:.1} windows of {WINDOW_MS} ms)"
        ),
        Stats::of(&ratio),
        Unit::Ratio,
    );
    rep.note(format!(
        "sync REST: fake and dsm at {LIMIT} weight per {WINDOW_MS} ms window (dsm's budget \
         {BUDGET}, 10% headroom); no 429 in any run; max weight per window {maxes:?}; every \
         table 50 series and 438,000 rows"
    ));
    Ok(())
}
