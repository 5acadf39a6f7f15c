//! Command-line arguments.

use std::path::PathBuf;

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};

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

/// The end of `dsm sync --help`.
const SYNC_AFTER_HELP: &str = "\
Exit codes:
  0    every series complete
  1    a series failed (named on stderr; the others still ran), or --locked found a
       difference
  2    bad usage
  3    finished with gaps (the series are named on stderr)
  130  interrupted: completed periods stay cached; run the same command again to resume

The spec file (TOML): provider, markets, symbols, intervals, kinds, start, end; see README
\"Syncing many series\". The lockfile goes to --lock FILE, else beside the spec file
(SPEC with the extension .lock), else dsm-sync.lock in the current directory.

Examples:
  dsm sync -p binance -m spot -s BTCUSDT,ETHUSDT -i 1m,1h --start 2024-01-01 --end 2024-04-01
  dsm sync -p binance -m um -s BTCUSDT --kind klines,funding -i 1h --start 2024-01-01 --end 2024-02-01
  dsm sync universe.toml --shard 2/4
  dsm sync universe.toml --dataset s3://my-bucket/dsm
  dsm sync universe.toml --locked";

/// Command-line arguments of `dsm`.
#[derive(Parser, Debug)]
#[command(
    name = "dsm",
    version,
    about = "dsm fetches verified historical crypto market data (klines, funding, mark/index/premium,\n\
             trades, open interest) from exchanges, one series or whole universes (dsm sync).\n\
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
    Providers(Lazy<ProvidersArgs>),
    /// Fetch klines for one symbol and interval over [start, end).
    #[command(after_help = FETCH_AFTER_HELP)]
    Fetch(Lazy<FetchArgs>),
    /// Fetch many series (symbols x intervals x kinds) into the cache under one rate budget,
    /// writing a lockfile.
    #[command(after_help = SYNC_AFTER_HELP)]
    Sync(Lazy<SyncArgs>),
    /// List a market's symbols: the exchange's instruments and the archive's (delisted too).
    Symbols(Lazy<crate::symbols::SymbolsArgs>),
    /// Inspect or clear the local cache.
    Cache(Lazy<CacheArgs>),
    /// Write what the cache holds as a Hive-partitioned Parquet dataset (fetches nothing).
    #[command(after_help = EXPORT_AFTER_HELP)]
    Export(Lazy<ExportArgs>),
    /// Write a new plugin from the template, or check a plugin file.
    Plugin(Lazy<crate::plugin_cmd::PluginArgs>),
}

/// A subcommand's arguments, added to clap's tree only when that subcommand is the one
/// given (`clap::Command::defer`): `dsm providers` does not build the dozens of arguments
/// of fetch, sync and export just to parse one word.
#[derive(Debug)]
pub struct Lazy<A>(pub A);

impl<A> std::ops::Deref for Lazy<A> {
    type Target = A;
    fn deref(&self) -> &A {
        &self.0
    }
}

impl<A: Args> Args for Lazy<A> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(A::augment_args)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(A::augment_args_for_update)
    }
    fn group_id() -> Option<clap::Id> {
        A::group_id()
    }
}

impl<A: FromArgMatches> FromArgMatches for Lazy<A> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        A::from_arg_matches(m).map(Lazy)
    }
    fn from_arg_matches_mut(m: &mut ArgMatches) -> Result<Self, clap::Error> {
        A::from_arg_matches_mut(m).map(Lazy)
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
    fn update_from_arg_matches_mut(&mut self, m: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(m)
    }
}

impl Command {
    /// Whether the command may move periods of millions of rows (trades, days of 1s
    /// candles), for which the CLI fixes the allocator's threshold (`dsm_core::memory`):
    /// a month of 1s peaked at 53 MiB with it against 86 without. Other fetches keep freed
    /// blocks for reuse instead ([`Command::moves_data`]).
    pub fn moves_large_periods(&self) -> bool {
        use dsm_core::memory::moves_large_periods as large;
        match self {
            Command::Fetch(a) => large([a.kind.as_str()], a.interval.as_deref()),
            // A spec file names its series inside it; an export takes whatever is cached.
            Command::Sync(a) => {
                a.spec.is_some()
                    || large(
                        a.kind.iter().map(String::as_str),
                        a.interval.iter().map(String::as_str),
                    )
            }
            Command::Export(_) => true,
            _ => false,
        }
    }

    /// Whether the command fetches series (fetch, sync): when their periods are small, the
    /// CLI keeps freed blocks in the heap for reuse (`dsm_core::memory::reuse_freed_blocks`:
    /// a warm year of 1m to Parquet took 190 ms of CPU with glibc's own rule, 165 with it).
    pub fn moves_data(&self) -> bool {
        matches!(self, Command::Fetch(_) | Command::Sync(_))
    }
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

/// The end of `dsm export --help`.
const EXPORT_AFTER_HELP: &str = "\
Layout: DIR/kind=K/provider=P/market=M/symbol=S[/interval=I]/date=YYYY-MM-DD/part-0.parquet,
one file per cached period (a day; a month for 1d and longer and for funding), and
DIR/_dsm/manifest.json listing every complete period with its checksums. Only periods whose
cache file changed are written again; the manifest is written last.

Examples:
  dsm export --dataset /data/dsm
  dsm export --dataset /data/dsm -p binance -m spot -i 1m --start 2024-01-01 --end 2024-02-01
  dsm export --dataset s3://my-bucket/dsm";

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The dataset's directory (created if missing; an existing one must be a dsm dataset
    /// or empty), or s3://BUCKET/PREFIX (AWS_* variables; one exporter per prefix at a time).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub dataset: PathBuf,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only periods ending after this: a date, an RFC 3339 time or ms.
    #[arg(long)]
    pub start: Option<String>,
    /// Only periods starting before this (exclusive), same forms as --start.
    #[arg(long)]
    pub end: Option<String>,
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

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// A TOML spec file naming the series (instead of -p, -m, -s, -i, --kind, --start, --end).
    pub spec: Option<PathBuf>,

    /// Provider id, e.g. binance.
    #[arg(short, long)]
    pub provider: Option<String>,

    /// Markets of that provider (comma-separated or repeated), e.g. spot,um.
    #[arg(short, long)]
    pub market: Vec<String>,

    /// Symbols (comma-separated or repeated): names, globs such as '*USDT', or all.
    #[arg(short, long)]
    pub symbol: Vec<String>,

    /// Intervals of the candle kinds (comma-separated or repeated), e.g. 1m,1h.
    #[arg(short, long)]
    pub interval: Vec<String>,

    /// Data kinds (comma-separated or repeated; default klines), e.g. klines,funding.
    #[arg(short, long)]
    pub kind: Vec<String>,

    /// Start (inclusive), as for dsm fetch.
    #[arg(long)]
    pub start: Option<String>,

    /// End (exclusive), clipped to now.
    #[arg(long)]
    pub end: Option<String>,

    /// Series fetched at once (default 4); the rate budget per host is shared by all.
    #[arg(short, long)]
    pub workers: Option<usize>,

    /// Only this shard of the series, K/N (1 <= K <= N): machines given the same spec and
    /// 1/N .. N/N split it without overlap (by a stable hash of each series' name).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// The lockfile to write (or check with --locked).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

    /// After the sync, export the synced series into this dataset (as `dsm export
    /// --dataset`): a directory or s3://BUCKET/PREFIX (one writer per prefix at a time).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub dataset: Option<PathBuf>,

    /// Check the cache against the lockfile instead of writing it (what is missing is
    /// fetched; a period whose checksum differs fails naming it).
    #[arg(long)]
    pub locked: bool,

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

    /// Ask the exchange again for every candle it lacked before, however old the hole.
    #[arg(long)]
    pub recheck_gaps: bool,

    /// Whole-request timeout in milliseconds (default 30000; DSM_REQUEST_TIMEOUT_MS).
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,

    /// Retries on network errors, timeouts and 5xx (default 3; DSM_RETRIES).
    #[arg(long)]
    pub retries: Option<u32>,

    /// Requests in flight at once per market, all series together (default 4;
    /// DSM_CONCURRENCY).
    #[arg(long)]
    pub concurrency: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::Parser;

    fn large(args: &str) -> bool {
        let cli = Cli::try_parse_from(format!("dsm {args}").split_whitespace()).unwrap();
        cli.command.moves_large_periods()
    }

    #[test]
    fn only_trades_seconds_specs_and_exports_move_large_periods() {
        let fetch = "fetch -p binance -m spot -s BTCUSDT --start 2024-01-01 --end 2024-01-02";
        assert!(!large(&format!("{fetch} -i 1m")));
        assert!(large(&format!("{fetch} -i 1s")));
        assert!(large(&format!("{fetch} --kind agg-trades")));
        assert!(large(&format!("{fetch} --kind TRADES")));
        assert!(!large(&format!("{fetch} --kind funding")));
        let sync = "sync -p binance -m um -s BTCUSDT --start 2024-01-01 --end 2024-01-02";
        assert!(!large(&format!("{sync} --kind klines,funding -i 1h")));
        assert!(large(&format!("{sync} --kind klines,agg-trades -i 1h")));
        assert!(large(&format!("{sync} -i 1m,1s")));
        assert!(large("sync spec.toml"));
        assert!(!large("providers"));
    }

    #[test]
    fn fetch_and_sync_move_data_listing_and_the_cache_commands_not() {
        let moves = |args: &str| {
            let cli = Cli::try_parse_from(format!("dsm {args}").split_whitespace()).unwrap();
            cli.command.moves_data()
        };
        assert!(moves(
            "fetch -p binance -m spot -s BTCUSDT -i 1m --start 2024-01-01 --end 2024-01-02"
        ));
        assert!(moves("sync spec.toml"));
        assert!(!moves("providers"));
        assert!(!moves("cache ls"));
        assert!(!moves("export --dataset d"));
    }
}
