//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The heading global options are listed under in every command's help.
const GLOBAL: &str = "Global options";

/// The end of `dsm fetch --help`.
const FETCH_AFTER_HELP: &str = "\
Exit codes:
  0    every requested candle was written
  1    error (network, exchange, plugin, cache, output)
  2    bad usage (unknown symbol, interval, market or option)
  3    finished with gaps: candles the exchange does not have, listed on stderr
  130  interrupted (Ctrl-C or SIGTERM): nothing written, completed periods stay cached

Examples:
  dsm fetch -p binance -m spot -s BTCUSDT -i 1h --start 2024-01-01 --end 2024-02-01 -o btc.csv
  dsm fetch -p okx -m swap -s BTC-USDT-SWAP -i 1m --start 2024-03-01T12:00:00Z --end 2024-03-02 -f jsonl
  dsm fetch -p bybit -m linear -s ETHUSDT -i 1d --start 2023-01-01 --end 2024-01-01 -f parquet -o eth.parquet
  dsm fetch -p binance -m spot -s BTCUSDT -i 1h --start 2024-01-01 --end 2024-02-01 --source cache

-o writes a file whole at the end (a temporary file beside it, renamed; a replaced file keeps
its mode, a new one gets the umask's); a FIFO or device is written as it is; -o - is stdout.";

/// Command-line arguments of `dsm`.
#[derive(Parser, Debug)]
#[command(
    name = "dsm",
    version,
    about = "dsm fetches verified historical crypto market data (klines) from exchanges.\n\
             Each exchange is a plugin file (libdsm_<id>.so), opened only when it is used."
)]
#[command(
    after_help = "Exit codes: 0 ok, 1 error, 2 bad usage, 3 finished with gaps (listed on stderr), 130 interrupted.\n\nExamples:\n  \
    dsm providers\n  \
    dsm cache ls\n  \
    dsm fetch -p binance -m spot -s BTCUSDT -i 1h --start 2024-01-01 --end 2024-01-08\n  \
    dsm fetch -p binance -m um -s ETHUSDT -i 1m --start 2024-03-01T12:00:00Z --end 2024-03-01T18:00:00Z --format jsonl -o eth.jsonl"
)]
pub struct Cli {
    /// Also search this directory for plugins, before the default ones (repeatable;
    /// DSM_PLUGIN_PATH takes a colon-separated list).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub plugin_dir: Vec<PathBuf>,

    /// More logging on stderr (-v info, -vv debug, -vvv trace with HTTP); DSM_LOG overrides.
    #[arg(short, long, global = true, help_heading = GLOBAL, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr (no progress line).
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Load plugin files that other users could have written (refused by default).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub allow_insecure_plugins: bool,

    /// Cache directory or s3://BUCKET/PREFIX (default: DSM_CACHE_DIR, else
    /// $XDG_CACHE_HOME/dsm, else ~/.cache/dsm).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the providers found, their markets and intervals (loads no plugin).
    Providers(ProvidersArgs),
    /// Fetch klines for one symbol and interval over [start, end).
    #[command(after_help = FETCH_AFTER_HELP)]
    Fetch(FetchArgs),
    /// Inspect or clear the local cache.
    Cache(CacheArgs),
    /// Write a new plugin from the template, or check a plugin file.
    Plugin(crate::plugin_cmd::PluginArgs),
}

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// What is cached, per provider/market/kind/symbol/interval: periods, rows, bytes, range.
    Ls(FilterArgs),
    /// Check every cache file (checksum, identity, every candle); list temporary files;
    /// exit 1 if a file is bad.
    Verify(VerifyArgs),
    /// Remove cached files matching the filters (all when none is given).
    Clear(FilterArgs),
}

#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Only this provider, e.g. binance.
    #[arg(short, long)]
    pub provider: Option<String>,
    /// Only this market, e.g. spot, um.
    #[arg(short, long)]
    pub market: Option<String>,
    /// Only this symbol, e.g. BTCUSDT (any case).
    #[arg(short, long)]
    pub symbol: Option<String>,
    /// Only this interval, e.g. 1h.
    #[arg(short, long)]
    pub interval: Option<String>,
    /// Only this data kind, e.g. funding.
    #[arg(short, long)]
    pub kind: Option<String>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Remove stale temporary files (of killed processes; never one being written).
    #[arg(long)]
    pub fix: bool,
}

#[derive(Args, Debug)]
pub struct ProvidersArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// Provider id, e.g. binance (`dsm providers` lists them).
    #[arg(short, long)]
    pub provider: String,

    /// Market, e.g. spot, um (USD-M futures), cm (COIN-M futures).
    #[arg(short, long)]
    pub market: String,

    /// Symbol as the exchange writes it, e.g. BTCUSDT, BTCUSD_PERP.
    #[arg(short, long)]
    pub symbol: String,

    /// Interval: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M (as the market offers);
    /// required for candle kinds, absent for funding.
    #[arg(short, long)]
    pub interval: Option<String>,

    /// What to fetch: klines, funding, mark, index, premium (`dsm providers` lists what each
    /// market has).
    #[arg(short, long, default_value = "klines")]
    pub kind: String,

    /// Start (inclusive): a date (2024-01-01), an RFC 3339 time (no zone = UTC), or ms.
    #[arg(long)]
    pub start: String,

    /// End (exclusive), same forms as --start; clipped to now.
    #[arg(long)]
    pub end: String,

    /// Output format (parquet and arrow need -o).
    #[arg(short, long, default_value = "csv", value_parser = ["csv", "jsonl", "parquet", "arrow"])]
    pub format: String,

    /// Sources to use: auto (cache, then archive, then REST), cache (offline), archive, rest.
    #[arg(
        long,
        env = "DSM_SOURCE",
        hide_env_values = true,
        ignore_case = true,
        default_value = "auto",
        value_parser = ["auto", "cache", "archive", "rest"]
    )]
    pub source: String,

    /// Neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Ask the exchange again for every candle it lacked before, however old the hole
    /// (recent ones are asked again anyway; DSM_RECHECK_HOLES=1).
    #[arg(long)]
    pub recheck_gaps: bool,

    /// Write to this file instead of stdout (a file is written whole, or not at all; - is
    /// stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Whole-request timeout in milliseconds (default 30000; DSM_REQUEST_TIMEOUT_MS).
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,

    /// Retries on network errors, timeouts and 5xx (default 3; DSM_RETRIES).
    #[arg(long)]
    pub retries: Option<u32>,

    /// Requests in flight at once (default 4; DSM_CONCURRENCY).
    #[arg(long)]
    pub concurrency: Option<u32>,
}
