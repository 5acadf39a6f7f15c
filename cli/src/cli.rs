//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Command-line arguments of `dsm`.
#[derive(Parser, Debug)]
#[command(
    name = "dsm",
    version,
    about = "dsm fetches verified historical crypto market data (klines) from exchanges.\n\
             Each exchange is a plugin file (libdsm_<id>.so), opened only when it is used."
)]
#[command(
    after_help = "Exit codes: 0 ok, 1 error, 2 bad usage, 3 finished with gaps (listed on stderr).\n\nExamples:\n  \
    dsm providers\n  \
    dsm cache ls\n  \
    dsm fetch -p binance -m spot -s BTCUSDT -i 1h --start 2024-01-01 --end 2024-01-08\n  \
    dsm fetch -p binance -m um -s ETHUSDT -i 1m --start 2024-03-01T12:00:00Z --end 2024-03-01T18:00:00Z --format jsonl -o eth.jsonl"
)]
pub struct Cli {
    /// Also search this directory for plugins, before the default ones (repeatable;
    /// DSM_PLUGIN_PATH takes a colon-separated list).
    #[arg(long, global = true, value_name = "DIR")]
    pub plugin_dir: Vec<PathBuf>,

    /// More logging on stderr (-v info, -vv debug, -vvv trace with HTTP); DSM_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr (no progress line).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Load plugin files that other users could have written (refused by default).
    #[arg(long, global = true)]
    pub allow_insecure_plugins: bool,

    /// Cache directory (default: DSM_CACHE_DIR, else $XDG_CACHE_HOME/dsm, else ~/.cache/dsm).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the providers found, their markets and intervals (loads no plugin).
    Providers(ProvidersArgs),
    /// Fetch klines for one symbol and interval over [start, end).
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
    /// What is cached, per provider/market/symbol/interval: periods, rows, bytes, range.
    Ls(FilterArgs),
    /// Check every cache file (checksum, identity, every candle); list temporary files;
    /// exit 1 if a file is bad.
    Verify(VerifyArgs),
    /// Remove cached files matching the filters (all when none is given).
    Clear(FilterArgs),
}

#[derive(Args, Debug)]
pub struct FilterArgs {
    #[arg(short, long)]
    pub provider: Option<String>,
    #[arg(short, long)]
    pub market: Option<String>,
    #[arg(short, long)]
    pub symbol: Option<String>,
    #[arg(short, long)]
    pub interval: Option<String>,
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

    /// Interval: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M (as the market offers).
    #[arg(short, long)]
    pub interval: String,

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
    #[arg(long, value_parser = ["auto", "cache", "archive", "rest"])]
    pub source: Option<String>,

    /// Neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Ask the exchange again for every candle it lacked before, however old the hole
    /// (recent ones are asked again anyway; DSM_RECHECK_HOLES=1).
    #[arg(long)]
    pub recheck_gaps: bool,

    /// Write to this file instead of stdout (written whole, or not at all).
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
