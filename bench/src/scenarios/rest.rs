//! REST against ccxt on the same fake.

use super::*;

/// ccxt_rest.py once against a fresh fake (started with `fake_args`): its JSON line and
/// the process.
pub(super) fn ccxt_run(
    env: &Env,
    mode: &str,
    rate_limit: bool,
    fake_args: &[String],
) -> Result<(serde_json::Value, Proc), String> {
    let fake = env.fake_with(fake_args)?;
    let mut c = env.cmd(Path::new(&env.python));
    c.arg(&env.ccxt_script)
        .args(["--url", &fake.url, "--mode", mode])
        .args([
            "--start-ms",
            &REST_MS.0.to_string(),
            "--end-ms",
            &REST_MS.1.to_string(),
        ]);
    if !rate_limit {
        c.arg("--no-rate-limit");
    }
    let p = env.run_ok(&mut c)?;
    let v: serde_json::Value = serde_json::from_str(p.stdout.trim())
        .map_err(|e| format!("ccxt_rest.py printed {:?}: {e}", p.stdout))?;
    if v["candles"].as_u64() != Some(REST_ROWS) {
        return Err(format!(
            "ccxt fetched {} candles, expected {REST_ROWS}",
            v["candles"]
        ));
    }
    Ok((v, p))
}

pub(super) fn rest(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("REST 30 days 1m um: dsm and ccxt, each run against a fresh fake");
    let reps = o.reps(7, 3);
    let (mut dsm_fetch, mut dsm_proc, mut dsm_cli, mut weights) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let have_ccxt = env
        .run(env.cmd(Path::new(&env.python)).args(["-c", "import ccxt"]))?
        .ok();
    let (mut cx, mut cx_proc, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let mut cx_requests = (0, 0);
    for i in 0..reps + 1 {
        // dsm, library in a fresh process (the plugin load included).
        let fake = env.fake()?;
        let p = env.run_ok(
            env.probe("fetch")
                .args(["--url", &fake.url, "--market", "um"])
                .args(["--start", REST.0, "--end", REST.1]),
        )?;
        if p.num("candles") != Some(REST_ROWS) || p.num("gaps") != Some(0) {
            return Err(format!("dsm REST: {}", p.stdout));
        }
        // Retries (after a 429 or anything else) would show as more requests than pages.
        if p.num("requests") != Some(REST_PAGES) {
            return Err(format!(
                "dsm REST made {:?} requests for {REST_PAGES} pages: the run does not count",
                p.num("requests")
            ));
        }
        weights.push(fake.used_weight("/fapi/v1/ping").unwrap_or(0));
        drop(fake);
        // dsm, the CLI to Parquet, whole process.
        let fake = env.fake()?;
        let out = env.work.join("rest.parquet");
        let cli = env.run_ok(
            env.dsm()
                .env("DSM_BINANCE_UM_URL", &fake.url)
                .arg("-q")
                .args([
                    "fetch", "-p", "binance", "-m", "um", "-s", "BTCUSDT", "-i", "1m",
                ])
                .args([
                    "--start",
                    REST.0,
                    "--end",
                    REST.1,
                    "--source",
                    "rest",
                    "--no-cache",
                    "-f",
                    "parquet",
                    "-o",
                ])
                .arg(&out),
        )?;
        if parquet_rows(&out)? != REST_ROWS {
            return Err("dsm CLI REST: wrong row count".into());
        }
        drop(fake);
        let ccxt = if have_ccxt {
            Some((
                ccxt_run(env, "ohlcv", false, &[])?,
                ccxt_run(env, "raw", false, &[])?,
            ))
        } else {
            None
        };
        if i == 0 {
            continue; // warm-up
        }
        dsm_fetch.push(p.ns("fetch").unwrap_or_default());
        dsm_proc.push(p.wall);
        dsm_cli.push(cli.wall);
        if let Some(((v, pr), (r, _))) = ccxt {
            cx.push(Duration::from_secs_f64(
                v["fetch_s"].as_f64().unwrap_or(0.0),
            ));
            cx_proc.push(pr.wall);
            raw.push(Duration::from_secs_f64(
                r["fetch_s"].as_f64().unwrap_or(0.0),
            ));
            cx_requests = (
                v["requests"].as_u64().unwrap_or(0),
                r["requests"].as_u64().unwrap_or(0),
            );
        }
    }
    let dsm_s = secs(&dsm_fetch);
    rep.add(
        "REST 30 days 1m um",
        "dsm: `fetch_market_data` (cache off, plugin load included)",
        dsm_s,
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        "dsm: whole process (bench probe)",
        secs(&dsm_proc),
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        "dsm: CLI to Parquet, whole process",
        secs(&dsm_cli),
        Unit::Secs,
    );
    rep.note(format!(
        "REST: every dsm run made exactly {REST_PAGES} requests (no retry, so no 429) against \
         a fresh fake, and the fake reported used weight {:?} of 2400/min afterwards",
        weights
    ));
    if !have_ccxt {
        rep.note(
            "ccxt is NOT installed (pip install -r bench/requirements.txt): no ratio measured",
        );
        return Ok(());
    }
    let cx_s = secs(&cx);
    let raw_s = secs(&raw);
    rep.add(
        "REST 30 days 1m um",
        format!(
            "ccxt: fetch_ohlcv paging, no throttle ({} requests)",
            cx_requests.0
        ),
        cx_s,
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        format!(
            "ccxt: implicit API, 1500 a page, no throttle ({} requests)",
            cx_requests.1
        ),
        raw_s,
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        "ccxt: fetch_ohlcv script, whole process",
        secs(&cx_proc),
        Unit::Secs,
    );
    let ratio = |a: Option<Stats>, b: Option<Stats>| {
        let (a, b) = (a?, b?);
        Stats::of(&[a.median / b.median])
    };
    // ccxt as users run it: enableRateLimit on (its default).
    let mut throttled = Vec::new();
    for _ in 0..o.reps(2, 1) {
        let (v, _) = ccxt_run(env, "ohlcv", true, &[])?;
        throttled.push(Duration::from_secs_f64(
            v["fetch_s"].as_f64().unwrap_or(0.0),
        ));
    }
    let thr_s = secs(&throttled);
    rep.add(
        "REST 30 days 1m um",
        "ccxt: fetch_ohlcv with its default throttle (enableRateLimit)",
        thr_s,
        Unit::Secs,
    );
    rep.target(
        "REST 30 days 1m um",
        "ratio ccxt fetch_ohlcv (no throttle) / dsm",
        ratio(cx_s, dsm_s),
        Unit::Ratio,
        ">= 5x",
        |m| m >= 5.0,
    );
    rep.add(
        "REST 30 days 1m um",
        "ratio ccxt implicit API 1500/page (no throttle) / dsm",
        ratio(raw_s, dsm_s),
        Unit::Ratio,
    );
    rep.add(
        "REST 30 days 1m um",
        "ratio ccxt fetch_ohlcv, default throttle / dsm",
        ratio(thr_s, dsm_s),
        Unit::Ratio,
    );
    rep.add(
        "REST 30 days 1m um",
        "ratio whole processes: ccxt script / dsm CLI",
        ratio(secs(&cx_proc), secs(&dsm_cli)),
        Unit::Ratio,
    );
    Ok(())
}
