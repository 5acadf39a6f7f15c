//! `dsm export --dataset DIR|s3://BUCKET/PREFIX`: the cache as a Hive-partitioned Parquet dataset.

use std::process::ExitCode;

use dsm_core::cache::Cache;
use dsm_core::dataset::{export_to, Selection, MANIFEST_PATH};
use dsm_core::timeparse::parse_time;
use dsm_core::DsmError;

use crate::cli::{Cli, ExportArgs};

pub fn run(cli: &Cli, args: &ExportArgs) -> Result<ExitCode, DsmError> {
    let cache = Cache::at(cli.cache_dir.clone().unwrap_or_else(Cache::default_dir))?;
    let time = |t: &Option<String>| t.as_deref().map(parse_time).transpose();
    let selection = Selection {
        filter: crate::cache_cmd::filter(&args.filter)?,
        start: time(&args.start)?,
        end: time(&args.end)?,
        series: None,
    };
    if let (Some(s), Some(e)) = (selection.start, selection.end) {
        if s >= e {
            return Err(DsmError::InvalidInput(format!(
                "--start {} is not before --end {}",
                args.start.as_deref().unwrap_or(""),
                args.end.as_deref().unwrap_or("")
            )));
        }
    }
    let report = export_to(&cache, &args.dataset, &selection)?;
    for (path, why) in &report.skipped {
        eprintln!("skipped {path}: {why}");
    }
    if !cli.quiet {
        println!(
            "exported {} series, {} periods to {}: {} files written ({} rows, {} bytes), {} \
             unchanged{}; manifest {}",
            report.series,
            report.periods,
            args.dataset.display(),
            report.written,
            report.rows_written,
            report.bytes_written,
            report.unchanged,
            match report.skipped.len() {
                0 => String::new(),
                n => format!(", {n} skipped (bad cache files: see `dsm cache verify`)"),
            },
            match report.manifest_written {
                true => format!("{MANIFEST_PATH} written"),
                false => format!("{MANIFEST_PATH} unchanged"),
            }
        );
    }
    Ok(match report.skipped.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    })
}
