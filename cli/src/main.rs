//! The `dsm` command line: list providers, fetch klines, inspect the cache, export it.

mod cache_cmd;
mod cli;
mod dest;
mod export_cmd;
mod fetch;
mod interrupt;
mod plugin_cmd;
mod progress;
mod providers;
mod report;
mod sink;
mod symbols;
mod sync_cmd;
mod sync_view;

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = parse_args();
    if cli.command.moves_large_periods() {
        dsm_core::memory::return_large_blocks();
    } else if cli.command.moves_data() {
        dsm_core::memory::reuse_freed_blocks();
    }
    init_logging(cli.verbose, cli.quiet);
    let result = match &cli.command {
        cli::Command::Providers(args) => providers::run(&cli, args),
        cli::Command::Fetch(args) => fetch::run(&cli, args),
        cli::Command::Sync(args) => sync_cmd::run(&cli, args),
        cli::Command::Symbols(args) => symbols::run(&cli, args),
        cli::Command::Cache(args) => cache_cmd::run(&cli, args),
        cli::Command::Export(args) => export_cmd::run(&cli, args),
        cli::Command::Plugin(args) => plugin_cmd::run(&cli, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", report::error_paragraph(&err));
            ExitCode::from(if err.is_usage() { 2 } else { 1 })
        }
    }
}

/// `Cli::parse()`, without freeing clap's command tree after: it lives until the process
/// exits anyway, and its thousands of small frees were 3.5% of `dsm providers`' instructions.
fn parse_args() -> cli::Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = cli::Cli::command();
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut matches| cli::Cli::from_arg_matches_mut(&mut matches))
        .map_err(|e| e.format(&mut command));
    std::mem::forget(command);
    parsed.unwrap_or_else(|e| e.exit())
}

/// Logs go to stderr. DSM_LOG (a tracing filter such as `debug` or `dsm=trace`) wins over -v.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DSM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
        .with_target(false)
        .init();
}

/// Colour only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org).
fn colour(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_on_a_terminal_without_no_color_only() {
        use super::colour;
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())));
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }
}
