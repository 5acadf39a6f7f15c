//! Issue 14: Spark's count and group-by per symbol over the dataset of the export scenario
//! (50 series x 31 days of 1m), by bench/spark_bench.py (PySpark local[2] on 127.0.0.1).
//! Its counts are checked against the rows dsm wrote (the Parquet footers, per symbol).

use std::collections::BTreeMap;

use super::export::{fill, DAYS, SERIES};
use super::*;

/// The export scenario's dataset when it ran in this bench, else a new one from the same
/// cache, exported once (outside any timed region).
fn dataset(env: &Env) -> Result<PathBuf, String> {
    let files = SERIES * DAYS as usize;
    let ds = env.work.join("export-dataset");
    if parquet_files(&ds).len() == files {
        return Ok(ds);
    }
    let cache = env.fresh_dir("export-cache");
    fill(&cache)?;
    let ds = env.fresh_dir("export-dataset");
    let p = env.run_ok(
        env.dsm()
            .arg("--cache-dir")
            .arg(&cache)
            .arg("export")
            .arg("--dataset")
            .arg(&ds),
    )?;
    if !p.stdout.contains(&format!("{files} files written")) {
        return Err(format!("export: expected {files} files, got: {}", p.stdout));
    }
    Ok(ds)
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect()
}

/// Rows per symbol, from the footers of the files dsm wrote (`.../symbol=S/...`).
fn rows_per_symbol(ds: &Path) -> Result<BTreeMap<String, u64>, String> {
    let mut out = BTreeMap::new();
    for f in parquet_files(ds) {
        let symbol = f
            .components()
            .find_map(|c| {
                c.as_os_str()
                    .to_str()?
                    .strip_prefix("symbol=")
                    .map(String::from)
            })
            .ok_or_else(|| format!("{}: no symbol= directory", f.display()))?;
        *out.entry(symbol).or_insert(0) += parquet_rows(&f)?;
    }
    Ok(out)
}

fn durations(v: &serde_json::Value) -> Vec<Duration> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_f64())
                .map(Duration::from_secs_f64)
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn spark(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("Spark: count and group-by per symbol over the export of {SERIES} series");
    let probe = "import pyspark, shutil, sys; sys.exit(shutil.which('java') is None)";
    if !env
        .run(env.cmd(Path::new(&env.python)).args(["-c", probe]))?
        .ok()
    {
        rep.note(
            "Spark: pyspark (or java) is NOT installed (pip install pyspark; a Java 17 runtime): \
             no Spark rows measured",
        );
        return Ok(());
    }
    let ds = dataset(env)?;
    let expected = rows_per_symbol(&ds)?;
    let total: u64 = expected.values().sum();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("spark_bench.py");
    let scratch = env.fresh_dir("spark-scratch");
    let runs = o.reps(5, 2);
    let p = env.run_ok(
        env.cmd(Path::new(&env.python))
            .arg(&script)
            .arg("--dataset")
            .arg(&ds)
            .args(["--runs", &runs.to_string()])
            .arg("--scratch")
            .arg(&scratch),
    )?;
    let v: serde_json::Value = serde_json::from_str(p.stdout.trim())
        .map_err(|e| format!("spark_bench.py printed {:?}: {e}", p.stdout))?;
    let groups: BTreeMap<String, u64> = v["groups"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, n)| Some((k.clone(), n.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    if v["rows"].as_u64() != Some(total) || groups != expected || expected.len() != SERIES {
        return Err(format!(
            "Spark counted {} rows in {} groups; dsm wrote {total} rows of {} symbols",
            v["rows"],
            groups.len(),
            expected.len()
        ));
    }
    let group = "Spark over the export (50 series)";
    let what = format!("{total} candles, {} files", parquet_files(&ds).len());
    let startup = Duration::from_secs_f64(v["startup_s"].as_f64().unwrap_or(0.0));
    rep.add(
        group,
        "session start-up (local[2], JVM included)",
        secs(&[startup]),
        Unit::Secs,
    );
    rep.add(
        group,
        format!("`spark.read.parquet(...).count()` ({what})"),
        secs(&durations(&v["count_s"])),
        Unit::Secs,
    );
    rep.add(
        group,
        "group-by symbol: count, sum(volume), max(high), collected",
        secs(&durations(&v["groupby_s"])),
        Unit::Secs,
    );
    rep.add(
        group,
        "the whole script, one process",
        secs(&[p.wall]),
        Unit::Secs,
    );
    rep.note(format!(
        "Spark {}: count and every symbol's group count equal the rows dsm wrote ({total} in \
         {} symbols, from the Parquet footers); each query {runs} times after a warm-up",
        v["spark"].as_str().unwrap_or("?"),
        expected.len()
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
