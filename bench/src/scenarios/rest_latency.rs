//! Issue 15: the 30 days of 1m USD-M over REST with 50 ms added before every response (the
//! fake waits), against the floor ceil(pages / concurrency) x 50 ms and against ccxt's
//! fetch_ohlcv on the same fake.

use super::rest::ccxt_run;
use super::*;

const LATENCY_MS: u64 = 50;

pub(super) fn rest_latency(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("REST 30 days 1m um with {LATENCY_MS} ms added latency: dsm, its floor, ccxt");
    // dsm's default requests in flight (the probe uses DsmConfig::new's defaults).
    let concurrency = u64::from(dsm_core::DsmConfig::new("binance", "um").concurrency);
    let floor = REST_PAGES.div_ceil(concurrency) as f64 * LATENCY_MS as f64 / 1e3;
    let fake_args = ["--latency-ms".to_string(), LATENCY_MS.to_string()];
    let have_ccxt = env
        .run(env.cmd(Path::new(&env.python)).args(["-c", "import ccxt"]))?
        .ok();
    let (mut dsm, mut cli, mut ccxt, mut ccxt_requests) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut fake_cpu, mut unloaded) = (Vec::new(), Vec::new());
    for i in 0..o.reps(7, 3) + 1 {
        // dsm, the library in a fresh process (plugin load included), a fresh fake.
        let fake = env.fake_with(&fake_args)?;
        let p = env.run_ok(
            env.probe("fetch")
                .args(["--url", &fake.url, "--market", "um"])
                .args(["--start", REST.0, "--end", REST.1]),
        )?;
        let served = fake.cpu();
        drop(fake);
        if p.num("candles") != Some(REST_ROWS) || p.num("gaps") != Some(0) {
            return Err(format!("dsm REST with latency: {}", p.stdout));
        }
        if p.num("requests") != Some(REST_PAGES) {
            return Err(format!(
                "dsm REST with latency made {:?} requests for {REST_PAGES} pages: the run \
                 does not count",
                p.num("requests")
            ));
        }
        // The same with no added latency: what the pages cost both sides, the fake and dsm.
        let fake = env.fake()?;
        let z = env.run_ok(
            env.probe("fetch")
                .args(["--url", &fake.url, "--market", "um"])
                .args(["--start", REST.0, "--end", REST.1]),
        )?;
        drop(fake);
        if z.num("candles") != Some(REST_ROWS) {
            return Err(format!("dsm REST without latency: {}", z.stdout));
        }
        // dsm, the CLI to Parquet, whole process.
        let fake = env.fake_with(&fake_args)?;
        let out = env.work.join("rest-latency.parquet");
        let c = env.run_ok(
            env.dsm()
                .env("DSM_BINANCE_UM_URL", &fake.url)
                .args(["-q", "fetch", "-p", "binance", "-m", "um", "-s", "BTCUSDT"])
                .args(["-i", "1m", "--start", REST.0, "--end", REST.1])
                .args(["--source", "rest", "--no-cache", "-f", "parquet", "-o"])
                .arg(&out),
        )?;
        drop(fake);
        if parquet_rows(&out)? != REST_ROWS {
            return Err("dsm CLI REST with latency: wrong row count".into());
        }
        let cx = match have_ccxt {
            true => Some(ccxt_run(env, "ohlcv", false, &fake_args)?.0),
            false => None,
        };
        if i == 0 {
            continue; // warm-up
        }
        dsm.push(p.ns("fetch").unwrap_or_default());
        fake_cpu.push(served);
        unloaded.push(z.ns("fetch").unwrap_or_default());
        cli.push(c.wall);
        if let Some(v) = cx {
            ccxt.push(Duration::from_secs_f64(
                v["fetch_s"].as_f64().unwrap_or(0.0),
            ));
            ccxt_requests.push(v["requests"].as_u64().unwrap_or(0));
        }
    }
    let group = "REST 30 days 1m um, 50 ms latency";
    let dsm_s = secs(&dsm);
    rep.add(
        group,
        "dsm: `fetch_market_data` (cache off, plugin load included)",
        dsm_s,
        Unit::Secs,
    );
    let over_floor: Vec<f64> = dsm.iter().map(|d| d.as_secs_f64() / floor).collect();
    rep.target(
        group,
        format!(
            "dsm / floor (floor = ceil({REST_PAGES} pages / {concurrency}) x {LATENCY_MS} ms \
             = {})",
            fmt_secs(floor)
        ),
        Stats::of(&over_floor),
        Unit::Ratio,
        "<= 1.15x",
        |m| m <= 1.15,
    );
    rep.add(
        group,
        "fake exchange CPU in that run (other process: building and sending the pages)",
        secs(&fake_cpu),
        Unit::Secs,
    );
    rep.add(
        group,
        "dsm: the same `fetch_market_data` with no added latency (the pages' work, both sides)",
        secs(&unloaded),
        Unit::Secs,
    );
    rep.add(
        group,
        "dsm: CLI to Parquet, whole process",
        secs(&cli),
        Unit::Secs,
    );
    rep.note(format!(
        "REST with {LATENCY_MS} ms latency: every dsm run made exactly {REST_PAGES} requests \
         ({concurrency} in flight, dsm's default) against a fresh fake"
    ));
    if !have_ccxt {
        rep.note(
            "ccxt is NOT installed (pip install -r bench/requirements.txt): the latency row \
             has no ccxt ratio",
        );
        return Ok(());
    }
    let ccxt_s = secs(&ccxt);
    rep.add(
        group,
        format!(
            "ccxt: fetch_ohlcv paging, no throttle ({} requests)",
            ccxt_requests.first().copied().unwrap_or(0)
        ),
        ccxt_s,
        Unit::Secs,
    );
    let ratio = match (ccxt_s, dsm_s) {
        (Some(c), Some(d)) => Stats::of(&[c.median / d.median]),
        _ => None,
    };
    rep.target(
        group,
        "ratio ccxt fetch_ohlcv (no throttle) / dsm",
        ratio,
        Unit::Ratio,
        ">= 5x",
        |m| m >= 5.0,
    );
    Ok(())
}
