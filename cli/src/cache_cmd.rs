//! `dsm cache ls | verify | clear`.

use std::process::ExitCode;

use dsm_core::cache::{Cache, Filter, TempState};
use dsm_core::{DataKind, DsmError};

use crate::cli::{CacheArgs, CacheCommand, Cli, FilterArgs};

pub fn run(cli: &Cli, args: &CacheArgs) -> Result<ExitCode, DsmError> {
    let cache = Cache::at(cli.cache_dir.clone().unwrap_or_else(Cache::default_dir))?;
    match &args.command {
        CacheCommand::Ls(f) => ls(&cache, &filter(f)?),
        CacheCommand::Verify(v) => verify(&cache, &filter(&v.filter)?, v.fix),
        CacheCommand::Clear(f) => clear(&cache, &filter(f)?),
    }
}

pub fn filter(f: &FilterArgs) -> Result<Filter, DsmError> {
    let kind = f
        .kind
        .as_deref()
        .map(|k| {
            DataKind::parse(k).ok_or_else(|| {
                DsmError::InvalidInput(format!(
                    "unknown kind {k:?}; use one of: {}",
                    DataKind::names().join(", ")
                ))
            })
        })
        .transpose()?;
    Ok(Filter {
        provider: f.provider.clone(),
        market: f.market.clone(),
        symbol: f.symbol.as_ref().map(|s| s.to_ascii_uppercase()),
        interval: f.interval.clone(),
        kind,
    })
}

fn ls(cache: &Cache, filter: &Filter) -> Result<ExitCode, DsmError> {
    let series = cache.try_list(filter)?;
    if series.is_empty() {
        println!("nothing cached in {}", cache.root().display());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<10} {:<6} {:<8} {:<14} {:<4} {:>7} {:>10} {:>10}  range",
        "provider", "market", "kind", "symbol", "ivl", "periods", "rows", "bytes"
    );
    for s in series {
        println!(
            "{:<10} {:<6} {:<8} {:<14} {:<4} {:>7} {:>10} {:>10}  {} .. {}",
            s.key.provider,
            s.key.market,
            s.key.kind.name(),
            s.key.symbol,
            s.key.interval,
            s.periods,
            s.rows,
            s.bytes,
            s.first,
            s.last
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(cache: &Cache, filter: &Filter, fix: bool) -> Result<ExitCode, DsmError> {
    let report = cache.verify_and(filter, fix);
    for (path, why) in &report.bad {
        println!("BAD {}: {why}", path.display());
    }
    for (path, why) in &report.outdated {
        println!(
            "OLD {}: {why}; fetched again when next asked for",
            path.display()
        );
    }
    for l in &report.leftovers {
        let what = match (&l.state, l.removed) {
            (TempState::InUse, _) => "being written by a running dsm; left alone",
            (TempState::Stale, true) => "left by a killed process; removed",
            (TempState::Stale, false) => {
                "left by a killed process; `dsm cache verify --fix` or the next fetch removes it"
            }
        };
        println!("TEMP {} ({} bytes): {what}", l.path.display(), l.bytes);
    }
    println!(
        "{} files checked, {} bad, {} of an older format, {} temporary",
        report.files_checked,
        report.bad.len(),
        report.outdated.len(),
        report.leftovers.len()
    );
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn clear(cache: &Cache, filter: &Filter) -> Result<ExitCode, DsmError> {
    let report = cache.clear(filter)?;
    for path in &report.in_use {
        println!("kept {}: being written by a running dsm", path.display());
    }
    println!(
        "removed {} files ({} bytes) from {}",
        report.files_removed,
        report.bytes,
        cache.root().display()
    );
    Ok(ExitCode::SUCCESS)
}
