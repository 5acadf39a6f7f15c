//! `dsm symbols`: a market's instruments and, where an archive exists, the archive's own
//! symbols with their first and last day, as a table, CSV or JSON (semantics in
//! `dsm_core::symbols`).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use dsm_core::interval::{civil_from_days, DAY};
use dsm_core::{DataKind, Dsm, DsmConfig, DsmError, SymbolListing, SymbolQuery, SymbolRow};

use crate::cli::Cli;

/// The end of `dsm symbols --help`.
const AFTER_HELP: &str = "\
Rows are the exchange's instruments (its REST listing). With --kind or --interval the
archive is listed too and each row gets the first and last day the archive has of that
kind and interval (kinds with intervals need --interval for days); --all adds the symbols
only the archive knows (delisted or renamed: not on the exchange any more). If REST is
refused (e.g. HTTP 451 from a restricted country) the archive's symbols are still listed
and the refusal is a warning on stderr.

Listings are kept under the cache directory (listings/): instruments for 1 hour, archive
listings for 24 hours; --refresh lists again, --no-cache neither reads nor keeps them.

Examples:
  dsm symbols -p binance -m um
  dsm symbols -p binance -m spot --interval 1d --all
  dsm symbols -p binance -m um --kind funding --all --format csv
  dsm symbols -p okx -m swap --json";

/// Arguments of `dsm symbols`.
#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct SymbolsArgs {
    /// Provider, e.g. binance.
    #[arg(short, long)]
    pub provider: String,
    /// Market, e.g. spot, um, cm.
    #[arg(short, long)]
    pub market: String,
    /// Data kind whose archive days are listed (default klines), e.g. funding, agg-trades.
    #[arg(short, long)]
    pub kind: Option<String>,
    /// Interval of the archive days, e.g. 1d (candle kinds).
    #[arg(short, long)]
    pub interval: Option<String>,
    /// Also the symbols only the archive knows (delisted, renamed).
    #[arg(long)]
    pub all: bool,
    /// Output: a table, CSV or JSON.
    #[arg(short, long, default_value = "table", value_parser = ["table", "csv", "json"])]
    pub format: String,
    /// Same as --format json.
    #[arg(long)]
    pub json: bool,
    /// List again instead of using the listings kept on disk.
    #[arg(long)]
    pub refresh: bool,
    /// Neither read nor keep listings on disk.
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(cli: &Cli, args: &SymbolsArgs) -> Result<ExitCode, DsmError> {
    let kind = match &args.kind {
        None => None,
        Some(name) => Some(DataKind::parse(name).ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "unknown data kind {name:?}; kinds: {}",
                DataKind::names().join(", ")
            ))
        })?),
    };
    let dsm = Dsm::create_with_config(config(cli, args)?)?;
    let query = SymbolQuery {
        kind,
        interval: args.interval.clone(),
        include_archive: args.all,
        refresh: args.refresh,
    };
    let listing = dsm.symbols(&query)?;
    for w in &listing.warnings {
        eprintln!("warning: {w}");
    }
    let text = match (args.json, args.format.as_str()) {
        (true, _) | (_, "json") => json(&listing),
        (_, "csv") => csv(&listing),
        _ => table(&listing),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| DsmError::io("stdout", e))?;
    if !cli.quiet && !args.json && args.format == "table" {
        eprintln!("{}", summary(&listing));
    }
    Ok(ExitCode::SUCCESS)
}

fn config(cli: &Cli, args: &SymbolsArgs) -> Result<DsmConfig, DsmError> {
    let mut config = crate::fetch::global_config(cli, &args.provider, &args.market)?;
    config.cache_enabled &= !args.no_cache;
    Ok(config)
}

/// "12 symbols (3 only in the archive); 4 requests".
fn summary(l: &SymbolListing) -> String {
    let archive_only = l.rows.iter().filter(|r| !r.on_exchange).count();
    let mut s = format!("{} symbols", l.rows.len());
    if archive_only > 0 {
        s += &format!(" ({archive_only} only in the archive)");
    }
    match l.requests {
        0 => s + "; from the listings kept on disk",
        1 => s + "; 1 request",
        n => s + &format!("; {n} requests"),
    }
}

/// `YYYY-MM-DD` of a time (ms UTC).
fn day(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 UTC of a time (ms UTC), to the second.
fn instant(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let tod = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        day(ms),
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

fn cell(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

fn table(l: &SymbolListing) -> String {
    let mut header = vec![
        "SYMBOL", "STATUS", "BASE", "QUOTE", "CONTRACT", "LISTED", "DELIVERY",
    ];
    if l.archive_listed {
        header.push("ARCHIVE");
    }
    if l.dates_listed {
        header.extend(["FIRST", "LAST"]);
    }
    let opt_day = |t: Option<i64>| t.map_or("-".to_string(), day);
    let rows: Vec<Vec<String>> = l
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.symbol.clone(),
                cell(&r.status).to_string(),
                cell(&r.base).to_string(),
                cell(&r.quote).to_string(),
                cell(&r.contract_type).to_string(),
                opt_day(r.listed_ms),
                opt_day(r.delivery_ms),
            ];
            if l.archive_listed {
                row.push(archive_word(r).into());
            }
            if l.dates_listed {
                row.extend([opt_day(r.first_day_ms), opt_day(r.last_day_ms)]);
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.clone());
    for row in &rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

/// `yes`, `only` (the exchange does not list it) or `no`.
fn archive_word(r: &SymbolRow) -> &'static str {
    match (r.in_archive, r.on_exchange) {
        (true, true) => "yes",
        (true, false) => "only",
        _ => "no",
    }
}

fn csv(l: &SymbolListing) -> String {
    let mut out = String::from(
        "symbol,status,base,quote,contract_type,listed,delivery,on_exchange,in_archive,\
         first_day,last_day\n",
    );
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    for r in &l.rows {
        let fields = [
            r.symbol.clone(),
            text(&r.status),
            text(&r.base),
            text(&r.quote),
            text(&r.contract_type),
            r.listed_ms.map(instant).unwrap_or_default(),
            r.delivery_ms.map(instant).unwrap_or_default(),
            r.on_exchange.to_string(),
            r.in_archive.to_string(),
            r.first_day_ms.map(day).unwrap_or_default(),
            r.last_day_ms.map(day).unwrap_or_default(),
        ];
        // Exchange words never hold commas or quotes; quote them anyway if one does.
        let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out += &(fields.join(",") + "\n");
    }
    out
}

fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

fn json(l: &SymbolListing) -> String {
    let doc = serde_json::json!({
        "provider": l.provider,
        "market": l.market,
        "kind": l.kind.name(),
        "interval": l.interval,
        "archive_listed": l.archive_listed,
        "dates_listed": l.dates_listed,
        "warnings": l.warnings,
        "symbols": l.rows,
    });
    serde_json::to_string_pretty(&doc).expect("JSON of plain values") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_dates_and_rfc3339() {
        assert_eq!(day(1_743_148_800_000), "2025-03-28");
        assert_eq!(instant(1_743_148_800_000), "2025-03-28T08:00:00Z");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
