//! In-process measurements, each run by the bench in a fresh process of its own binary
//! (`dsm-bench probe KIND ...`); results go to stdout as `key=value` lines (times in ns).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dsm_core::arrow_array::RecordBatch;
use dsm_core::{DataKind, Dsm, DsmConfig, PeriodRecords, SourceMode};

/// Options every probe understands.
#[derive(Default)]
struct Opts {
    plugin_dir: Option<PathBuf>,
    url: Option<String>,
    cache_dir: Option<PathBuf>,
    market: String,
    symbol: String,
    interval: String,
    start: String,
    end: String,
    n: usize,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        market: "spot".into(),
        symbol: "BTCUSDT".into(),
        interval: "1m".into(),
        n: 1,
        ..Opts::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().cloned().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--plugin-dir" => o.plugin_dir = Some(v.into()),
            "--url" => o.url = Some(v),
            "--cache-dir" => o.cache_dir = Some(v.into()),
            "--market" => o.market = v,
            "--symbol" => o.symbol = v,
            "--interval" => o.interval = v,
            "--start" => o.start = v,
            "--end" => o.end = v,
            "--n" => o.n = v.parse().map_err(|e| format!("--n: {e}"))?,
            other => return Err(format!("probe: unknown option {other:?}")),
        }
    }
    Ok(o)
}

impl Opts {
    fn config(&self) -> DsmConfig {
        let mut c = DsmConfig::new("binance", &self.market);
        if let Some(d) = &self.plugin_dir {
            c = c.plugin_dir(d);
        }
        if let Some(u) = &self.url {
            for key in ["spot", "um", "cm", "vision"] {
                c = c.endpoint(key, u);
            }
        }
        match &self.cache_dir {
            Some(d) => c.cache_dir(d),
            None => c.cache_enabled(false),
        }
    }
}

fn ns(d: Duration) -> u128 {
    d.as_nanos()
}

/// Plugin libraries mapped into this process (from /proc/self/maps).
fn mapped_plugins() -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut libs: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.contains("libdsm_"))
        .collect();
    libs.dedup();
    libs.len()
}

pub fn run(args: &[String]) -> Result<(), String> {
    let (kind, rest) = args.split_first().ok_or("probe: which one?")?;
    let o = parse(rest)?;
    let err = |e: dsm_core::DsmError| e.to_string();
    match kind.as_str() {
        // Dsm::create, n times in this process (the first one separately).
        "create" => {
            let mut samples = Vec::with_capacity(o.n);
            for _ in 0..o.n {
                let t = Instant::now();
                let dsm = Dsm::create_with_config(o.config()).map_err(err)?;
                samples.push(ns(t.elapsed()));
                std::hint::black_box(&dsm);
            }
            let list: Vec<String> = samples.iter().map(|s| s.to_string()).collect();
            println!("samples={}", list.join(","));
            println!("mapped={}", mapped_plugins());
        }
        // The first fetch of a fresh process, split: opening the library (load_time), the
        // rest of the first fetch (provider init + request), the same request again, and a
        // second manager's first fetch (provider init + request, library already open).
        "first-use" => {
            let t = Instant::now();
            let dsm = Dsm::create_with_config(o.config().source(SourceMode::Rest)).map_err(err)?;
            println!("create={}", ns(t.elapsed()));
            println!("mapped_before={}", mapped_plugins());
            let fetch = |d: &Dsm| -> Result<(Duration, usize), String> {
                let t = Instant::now();
                let k = d
                    .fetch_market_data(&o.symbol, &o.interval, o.start.as_str(), o.end.as_str())
                    .map_err(err)?;
                Ok((t.elapsed(), k.len()))
            };
            let (first, candles) = fetch(&dsm)?;
            let load = dsm
                .load_time()
                .ok_or("no load time after the first fetch")?;
            let (again, _) = fetch(&dsm)?;
            let other =
                Dsm::create_with_config(o.config().source(SourceMode::Rest)).map_err(err)?;
            let (other_first, _) = fetch(&other)?;
            println!("first={}", ns(first));
            println!("load={}", ns(load));
            println!("again={}", ns(again));
            println!("second_manager_first={}", ns(other_first));
            println!("candles={candles}");
            println!("mapped_after={}", mapped_plugins());
        }
        // One fetch to an in-memory result (warm cache or REST), timed alone.
        "fetch" => {
            let source = if o.cache_dir.is_some() {
                SourceMode::Cache
            } else {
                SourceMode::Rest
            };
            let dsm = Dsm::create_with_config(o.config().source(source)).map_err(err)?;
            let t = Instant::now();
            let k = dsm
                .fetch_market_data(&o.symbol, &o.interval, o.start.as_str(), o.end.as_str())
                .map_err(err)?;
            let took = t.elapsed();
            println!("fetch={}", ns(took));
            println!("candles={}", k.len());
            println!("gaps={}", k.summary.gaps.len());
            println!("requests={}", k.summary.requests);
            println!("loaded={}", u8::from(dsm.is_loaded()));
            println!("load={}", ns(dsm.load_time().unwrap_or_default()));
            println!("mapped={}", mapped_plugins());
        }
        // A stream of period batches (archive first), with when each arrived: for finding
        // where a fetch waits (`dsm-bench probe stream --url U --cache-dir D ...`).
        "stream" => {
            let dsm = Dsm::create_with_config(o.config()).map_err(err)?;
            let t = Instant::now();
            let stream = dsm
                .fetch_stream(&o.symbol, &o.interval, o.start.as_str(), o.end.as_str())
                .map_err(err)?;
            let mut rows = 0;
            for (i, batch) in stream.enumerate() {
                let batch = batch.map_err(err)?;
                rows += batch.rows.len();
                println!(
                    "batch{i}={} rows={} source={}",
                    ns(t.elapsed()),
                    batch.rows.len(),
                    batch.source.name()
                );
            }
            println!("fetch={}", ns(t.elapsed()));
            println!("candles={rows}");
        }
        // Issue 15: the warm range into memory as Arrow record batches (one per period,
        // checksums verified by the cache read), through `fetch_records` on this thread or
        // `stream_records` (its own thread, as the CLI reads it); the call alone timed.
        "records" | "stream-records" => records(&o, kind.as_str() == "stream-records")?,
        other => return Err(format!("probe: unknown kind {other:?}")),
    }
    Ok(())
}

/// The `records` probes: the batches are kept (the result in memory, as a user holds it).
fn records(o: &Opts, streamed: bool) -> Result<(), String> {
    let err = |e: dsm_core::DsmError| e.to_string();
    let source = match o.cache_dir {
        Some(_) => SourceMode::Cache,
        None => SourceMode::Rest,
    };
    let dsm = Dsm::create_with_config(o.config().source(source)).map_err(err)?;
    let req = dsm
        .kind_request(
            DataKind::KLINES,
            &o.symbol,
            &o.interval,
            o.start.as_str(),
            o.end.as_str(),
        )
        .map_err(err)?;
    let mut batches: Vec<RecordBatch> = Vec::new();
    let t = Instant::now();
    let summary = if streamed {
        let mut stream = dsm.stream_records(&req, |_, _| {}).map_err(err)?;
        for period in stream.by_ref() {
            batches.push(period.map_err(err)?.batch);
        }
        stream
            .summary()
            .cloned()
            .ok_or("the record stream ended without its summary")?
    } else {
        let mut keep = |p: PeriodRecords| -> dsm_core::Result<()> {
            batches.push(p.batch);
            Ok(())
        };
        dsm.fetch_records(&req, &mut keep, &mut |_, _| {})
            .map_err(err)?
    };
    let took = t.elapsed();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    println!("fetch={}", ns(took));
    println!("candles={rows}");
    println!("batches={}", batches.len());
    println!("gaps={}", summary.gaps.len());
    println!("loaded={}", u8::from(dsm.is_loaded()));
    println!("mapped={}", mapped_plugins());
    Ok(())
}
