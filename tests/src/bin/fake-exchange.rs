//! Runs the fake exchange until killed:
//!     cargo run -p dsm-tests --bin fake-exchange -- --port PORT
//! Port 0 or no --port picks a free port. The base URL is the first line of stdout.

use std::io::Write;
use std::time::Duration;

use dsm_tests::fake::{FakeConfig, FakeExchange};

const USAGE: &str = "\
usage: fake-exchange [--port PORT] [--latency-ms MS] [--withhold ZIP]... [--prebuild DIR:FROM:TO]... [--geo-block]

A fake Binance (spot, USD-M, COIN-M, Vision archives), OKX and Bybit on 127.0.0.1, with
deterministic candles, for trying dsm offline. Prints its base URL on the first line of
stdout, then serves until killed. Point dsm at it with every endpoint variable:
  DSM_BINANCE_URL DSM_BINANCE_UM_URL DSM_BINANCE_CM_URL DSM_BINANCE_VISION_URL
  DSM_BINANCE_VISION_LISTING_URL DSM_OKX_URL DSM_BYBIT_URL

options:
  --port PORT          listen on this port (default 0: a free one)
  --latency-ms MS      wait MS milliseconds before every response (a far server; default 0)
  --withhold ZIP       answer 404 for this Vision file and its CHECKSUM on every market
                       (e.g. BTCUSDT-1m-2023-01.zip); repeatable
  --prebuild DIR:FROM:TO
                       build the Vision zips of DIR (e.g. data/spot/daily/klines/BTCUSDT/1m)
                       from FROM to TO (exclusive; YYYY-MM-DD, or YYYY-MM for monthly
                       directories) before printing the URL, and keep them; repeatable.
                       Daily trade directories too (data/spot/daily/aggTrades/BTCUSDT;
                       DSM_FAKE_TRADES_PER_DAY sets their volume)
  --geo-block          answer every Binance REST path with HTTP 451 (a restricted
                       country); Vision and its bucket listing still answer
  -h, --help           show this help";

/// What the command line asks for.
#[derive(Default)]
struct Args {
    config: FakeConfig,
    withhold: Vec<String>,
    /// (dir, from, to)
    prebuild: Vec<(String, String, String)>,
    geo_block: bool,
}

fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(msg) => {
            eprintln!("fake-exchange: {msg}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let port = args.config.port;
    let exchange = match FakeExchange::start_with(args.config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fake-exchange: cannot bind 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    exchange.geo_block_rest(args.geo_block);
    for name in &args.withhold {
        exchange.withhold_vision_file(name);
    }
    for (dir, from, to) in &args.prebuild {
        if let Err(msg) = exchange.prebuild_vision(dir, from, to) {
            eprintln!("fake-exchange: {msg}");
            std::process::exit(2);
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", exchange.url());
    let _ = out.flush();
    drop(out);
    // The server runs on its own thread; this one only keeps it alive.
    loop {
        std::thread::park();
    }
}

/// The options, or None when help was asked for.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut out = Args::default();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        if arg == "--geo-block" {
            out.geo_block = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if !matches!(
            name.as_str(),
            "--port" | "--latency-ms" | "--withhold" | "--prebuild"
        ) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or(format!("{name} needs a value"))?,
        };
        match name.as_str() {
            "--port" => {
                out.config.port = value.parse().map_err(|_| format!("bad port {value:?}"))?
            }
            "--latency-ms" => {
                let ms: u64 = value
                    .parse()
                    .map_err(|_| format!("bad --latency-ms {value:?}: a whole number of ms"))?;
                out.config.latency = Duration::from_millis(ms);
            }
            "--withhold" => out.withhold.push(value),
            _ => {
                let parts: Vec<&str> = value.split(':').collect();
                let [dir, from, to] = parts.as_slice() else {
                    return Err(format!("bad --prebuild {value:?}: expected DIR:FROM:TO"));
                };
                out.prebuild
                    .push((dir.to_string(), from.to_string(), to.to_string()));
            }
        }
    }
    Ok(Some(out))
}
