//! `dsm providers`: what the manifests say. Loads no plugin.

use std::process::ExitCode;

use dsm_core::{DsmConfig, DsmError};

use crate::cli::{Cli, ProvidersArgs};

pub fn run(cli: &Cli, args: &ProvidersArgs) -> Result<ExitCode, DsmError> {
    // DSM_ALLOW_INSECURE_PLUGINS read the same way as for a fetch (the search path reads
    // DSM_PLUGIN_PATH itself); no provider is named here.
    let env = DsmConfig::from_env("", "")?;
    let dirs = dsm_core::discovery::search_dirs(&cli.plugin_dir);
    let allow = cli.allow_insecure_plugins || env.allow_insecure_plugins;
    let listing = dsm_core::discovery::list(&dirs, allow);
    let out = if args.json {
        json(&listing)
    } else {
        table(&listing)
    };
    print!("{out}");
    for (path, why) in &listing.problems {
        eprintln!("warning: {} {why}", path.display());
    }
    if listing.plugins.is_empty() {
        eprint!("{}", none_found(&dsm_core::discovery::distinct_dirs(&dirs)));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// What to say when no plugin is found: where we looked and how to fix it.
fn none_found(dirs: &[std::path::PathBuf]) -> String {
    use std::fmt::Write;
    let mut s = String::from("error: no providers found; searched:\n");
    for d in dirs {
        let _ = writeln!(s, "  {}", d.display());
    }
    s.push_str(
        "install dsm with its plugins (`cargo xtask install --prefix DIR`, see README.md), \
         or point DSM_PLUGIN_PATH or --plugin-dir at a directory of libdsm_<id>.so files\n",
    );
    s
}

fn json(listing: &dsm_core::discovery::Listing) -> String {
    let providers: Vec<serde_json::Value> = listing
        .plugins
        .values()
        .map(|p| {
            let m = &p.manifest;
            serde_json::json!({
                "id": m.plugin.id,
                "name": m.plugin.name,
                "version": m.version,
                "sdk_version": m.sdk_version,
                "path": p.path,
                "markets": m.plugin.markets,
                "endpoints": m.plugin.endpoints,
            })
        })
        .collect();
    let problems: Vec<serde_json::Value> = listing
        .problems
        .iter()
        .map(|(path, why)| serde_json::json!({ "path": path, "problem": why }))
        .collect();
    let doc = serde_json::json!({ "providers": providers, "problems": problems });
    format!("{doc:#}\n")
}

fn table(listing: &dsm_core::discovery::Listing) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for p in listing.plugins.values() {
        let m = &p.manifest;
        let _ = writeln!(
            s,
            "{} ({}) v{}  [{}]",
            m.plugin.id,
            m.plugin.name,
            m.version,
            p.path.display()
        );
        for mk in &m.plugin.markets {
            let aliases = if mk.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", mk.aliases.join(", "))
            };
            let archive = if mk.archive { "archive + rest" } else { "rest" };
            let _ = writeln!(s, "  {}{aliases}: {}", mk.id, mk.description);
            let _ = writeln!(
                s,
                "    symbols like {}; sources: {archive}; intervals: {}",
                mk.symbol_example,
                mk.intervals.join(" ")
            );
            let _ = writeln!(s, "    kinds: {}", kinds_line(mk));
        }
    }
    s
}

/// `klines, funding (archive + rest), mark (rest)`; a plugin from before data kinds says so.
fn kinds_line(mk: &dsm_core::MarketInfo) -> String {
    if mk.klines_only() {
        return "klines (this plugin serves klines only)".into();
    }
    let offers: Vec<String> = mk
        .offers()
        .iter()
        .map(|o| {
            let sources = match (o.archive, o.rest) {
                (true, true) => "archive + rest",
                (true, false) => "archive",
                _ => "rest",
            };
            format!("{} ({sources})", o.kind)
        })
        .collect();
    offers.join(", ")
}
