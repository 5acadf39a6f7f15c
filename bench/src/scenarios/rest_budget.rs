//! Issue 15: a year of 1m USD-M over REST only, against the fake's weight budget, scaled so
//! that the run stays short: 400 weight per 1 s window (Binance's 2400 per minute sped up
//! ten times, as the "2400 per 6 s" is) in windows short enough that the year spans
//! ten of them. dsm gets the same limit and window; the run is started at a window
//! boundary, so that its floor does not depend on where in a window it began.
//!
//! The fake runs in the bench's own process (`dsm_tests::fake`) for its request log, its
//! weight counters and its count of 429s; `dsm` is a child process of its own.

use std::time::{SystemTime, UNIX_EPOCH};

use dsm_tests::fake::{kline_limit_weight, FakeExchange, RequestRecord};

use super::*;

const LIMIT: u32 = 400;
const WINDOW_MS: u64 = 1_000;
/// dsm's budget per window: the limit less its 10% headroom (plugins/binance/src/weights.rs).
const BUDGET: u32 = LIMIT - LIMIT / 10;

/// Windows a client needs for `weights` (in order) at `budget` per window, filling each
/// window as dsm's gate does (a request that does not fit waits for the next one).
fn windows_needed(weights: &[u32], budget: u32) -> u64 {
    let (mut windows, mut used) = (0, 0);
    for &w in weights {
        if windows == 0 || (used > 0 && used + w > budget) {
            windows += 1;
            used = 0;
        }
        used += w;
    }
    windows
}

/// The floor of a run started at a window boundary: the time at which the last window the
/// weight needs opens ((windows - 1) x the window); its own requests take milliseconds.
fn floor_s(weights: &[u32], budget: u32) -> f64 {
    windows_needed(weights, budget).saturating_sub(1) as f64 * WINDOW_MS as f64 / 1e3
}

/// Sleeps until just after the next window boundary of the machine's clock (the fake and
/// dsm count windows on it, aligned on the epoch).
fn wait_for_window() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    std::thread::sleep(Duration::from_millis(WINDOW_MS - now % WINDOW_MS));
}

/// "1500 x 4, 499 x 1000": how many pages of each `limit`, largest first.
fn page_sizes(limits: &[u64]) -> String {
    let mut n = std::collections::BTreeMap::new();
    for &l in limits {
        *n.entry(std::cmp::Reverse(l)).or_insert(0u32) += 1;
    }
    let parts: Vec<String> = n.iter().map(|(l, c)| format!("{} x {c}", l.0)).collect();
    parts.join(", ")
}

fn klines(log: &[RequestRecord]) -> Vec<&RequestRecord> {
    log.iter().filter(|r| r.path == "/fapi/v1/klines").collect()
}

pub(super) fn rest_budget(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("REST a year of 1m um, weight limit {LIMIT} per {WINDOW_MS} ms (fake and dsm)");
    let group = "REST a year of 1m um, weight budget";
    let (mut wall, mut ratio, mut weights, mut maxes, mut refusals) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut floor = 0.0;
    let mut page_weights = Vec::new();
    let mut page_limits: Vec<u64> = Vec::new();
    for _ in 0..o.reps(3, 1) {
        let fake = FakeExchange::start();
        fake.set_weight_limit("/fapi/", LIMIT);
        fake.set_weight_window(WINDOW_MS as i64);
        let out = env.work.join("rest-budget.parquet");
        let mut cmd = env.dsm();
        cmd.env("DSM_BINANCE_UM_URL", fake.url())
            .env("DSM_BINANCE_VISION_URL", fake.url())
            .env("DSM_BINANCE_WEIGHT_LIMIT", LIMIT.to_string())
            .env("DSM_BINANCE_WEIGHT_WINDOW_MS", WINDOW_MS.to_string())
            .args(["-q", "fetch", "-p", "binance", "-m", "um", "-s", "BTCUSDT"])
            .args(["-i", "1m", "--start", YEAR.0, "--end", YEAR.1])
            .args(["--source", "rest", "--no-cache", "-f", "parquet", "-o"])
            .arg(&out);
        wait_for_window();
        let p = env.run_ok(&mut cmd)?;
        let rows = parquet_rows(&out)?;
        let log = fake.requests();
        let answered_429 = log.iter().filter(|r| r.status == 429).count();
        let refused = answered_429.max(fake.weight_refusals() as usize);
        let pages = klines(&log);
        // A retry would ask for a window again: every page must start somewhere new.
        let starts: std::collections::BTreeSet<Option<String>> =
            pages.iter().map(|r| r.param("startTime")).collect();
        if rows != YEAR_ROWS
            || refused > 0
            || pages.len() != log.len()
            || starts.len() != pages.len()
        {
            return Err(format!(
                "REST budget: {rows} rows, {refused} 429s, {} klines requests ({} distinct \
                 windows) of {} in all; expected {YEAR_ROWS} rows, no 429, klines requests \
                 only, each window once",
                pages.len(),
                starts.len(),
                log.len()
            ));
        }
        page_limits = pages
            .iter()
            .map(|r| r.param("limit").and_then(|l| l.parse().ok()).unwrap_or(500))
            .collect();
        page_weights = page_limits.iter().map(|&l| kline_limit_weight(l)).collect();
        floor = floor_s(&page_weights, BUDGET);
        wall.push(p.wall);
        ratio.push(p.wall.as_secs_f64() / floor);
        weights.push(page_weights.iter().map(|&w| u64::from(w)).sum::<u64>());
        maxes.push(u64::from(fake.max_used_weight("/fapi/")));
        refusals.push(refused as u64);
    }
    let counts = |v: &[u64]| Stats::of(&v.iter().map(|&n| n as f64).collect::<Vec<_>>());
    rep.add(
        group,
        "wall (CLI to Parquet, whole process, 525,600 candles)",
        secs(&wall),
        Unit::Secs,
    );
    rep.target(
        group,
        format!("wall / floor (floor {}: see the note)", fmt_secs(floor)),
        Stats::of(&ratio),
        Unit::Ratio,
        "<= 1.10x",
        |m| m <= 1.10,
    );
    rep.add(group, "total weight used", counts(&weights), Unit::Count);
    rep.add(
        group,
        format!("max weight in one window (limit {LIMIT}, dsm's budget {BUDGET})"),
        counts(&maxes),
        Unit::Count,
    );
    rep.add(
        group,
        "429s (the fake's count)",
        counts(&refusals),
        Unit::Count,
    );
    // What one page size throughout would need (the note on Freqtrade #12751).
    let all = |page: u64| vec![kline_limit_weight(page); YEAR_ROWS.div_ceil(page) as usize];
    let (large, cheap) = (all(1500), all(499));
    let sizes = page_sizes(&page_limits);
    rep.note(format!(
        "REST budget: fake and dsm at {LIMIT} weight per {WINDOW_MS} ms window (dsm's budget \
         {BUDGET}, 10% headroom), each run started at a window boundary against a fresh fake; \
         no 429 in any run. dsm chooses each call's page by which limit binds (the host asks \
         the plugin for a month at a time, so each month ends in a short page): pages by size \
         {sizes}, {} pages, {} weight, {} windows at {BUDGET} a window, so the floor is ({} - 1) \
         x {WINDOW_MS} ms = {} (the start of the last window; at the fake's full {LIMIT}: {}). \
         1500-candle pages throughout (weight 10, 150 candles a weight): about {} pages, {} \
         weight, floor {}; 499-candle pages throughout (weight 2, 250 a weight): about {} \
         pages, {} weight, floor {} (month ends aside). The weight-per-minute rate alone \
         (weight / budget) would say {}",
        page_weights.len(),
        page_weights.iter().sum::<u32>(),
        windows_needed(&page_weights, BUDGET),
        windows_needed(&page_weights, BUDGET),
        fmt_secs(floor),
        fmt_secs(floor_s(&page_weights, LIMIT)),
        large.len(),
        large.iter().sum::<u32>(),
        fmt_secs(floor_s(&large, BUDGET)),
        cheap.len(),
        cheap.iter().sum::<u32>(),
        fmt_secs(floor_s(&cheap, BUDGET)),
        fmt_secs(
            f64::from(page_weights.iter().sum::<u32>()) / f64::from(BUDGET) * WINDOW_MS as f64
                / 1e3
        ),
    ));
    Ok(())
}
