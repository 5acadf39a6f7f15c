//! `dsm export` killed mid-write at a deterministic point: strace delivers SIGKILL as the
//! process enters its 4th rename (the 4th data file's publication), which never happens.
//! Readers then see three whole files and no manifest; the next export removes the killed
//! writer's temporary file and completes. Runs outside `.ci/loopback-only` (a traced process
//! cannot be traced again): `.ci/run` runs the `_strace` tests on their own.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{dsm_bin, stderr, testplug_klines};
use dsm_core::cache::{Cache, SeriesKey};
use parquet::file::reader::{FileReader, SerializedFileReader};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2024-01-01.
const START: i64 = 1_704_067_200_000;
const DAYS: i64 = 8;

/// Every file below `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            match p.is_dir() {
                true => walk(root, &p, out),
                false => out.push(p.strip_prefix(root).unwrap().display().to_string()),
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn parquet_rows(path: &Path) -> i64 {
    let r = SerializedFileReader::new(fs::File::open(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not a whole Parquet file: {e}", path.display()));
    r.metadata().file_metadata().num_rows()
}

#[test]
fn a_killed_export_leaves_only_whole_files_and_the_next_one_completes_strace() {
    if Command::new("strace").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have strace (.ci/run installs it)"
        );
        eprintln!("strace not installed; skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let cache = Cache::new(&cache_dir);
    let key = SeriesKey::new("binance", "spot", "BTCUSDT", "1h").unwrap();
    for d in 0..DAYS {
        let start = START + d * DAY;
        cache
            .write(&key, start, &testplug_klines(HOUR, start, start + DAY))
            .unwrap();
    }
    let ds = tmp.path().join("ds");
    let export = |cmd: &mut Command| {
        cmd.arg(dsm_bin())
            .arg("--cache-dir")
            .arg(&cache_dir)
            .args(["export", "--dataset"])
            .arg(&ds)
            .env_remove("DSM_PLUGIN_PATH")
            .output()
            .unwrap()
    };
    let killed = export(
        Command::new("strace")
            .args(["-f", "-qq", "-o"])
            .arg(tmp.path().join("strace.log"))
            .args([
                "-e",
                "trace=rename,renameat,renameat2",
                "-e",
                "inject=rename,renameat,renameat2:error=EIO:signal=KILL:when=4",
                "--",
            ]),
    );
    assert!(!killed.status.success(), "{}", stderr(&killed));
    let after = files(&ds);
    let parquet: Vec<&String> = after.iter().filter(|f| f.ends_with(".parquet")).collect();
    assert_eq!(parquet.len(), 3, "{after:?}");
    for f in &parquet {
        assert_eq!(parquet_rows(&ds.join(f)), 24, "{f}");
    }
    assert!(
        !after.iter().any(|f| f.ends_with("manifest.json")),
        "{after:?}"
    );
    let temps: Vec<&String> = after
        .iter()
        .filter(|f| f.rsplit('/').next().unwrap().starts_with(".dsm-tmp-"))
        .collect();
    assert_eq!(
        temps.len(),
        1,
        "the killed write's temporary file: {after:?}"
    );

    let again = export(&mut Command::new("env"));
    assert!(again.status.success(), "{}", stderr(&again));
    let done = files(&ds);
    assert!(!done.iter().any(|f| f.contains(".dsm-tmp-")), "{done:?}");
    let parquet: Vec<&String> = done.iter().filter(|f| f.ends_with(".parquet")).collect();
    assert_eq!(parquet.len(), DAYS as usize, "{done:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(ds.join("_dsm/manifest.json")).unwrap()).unwrap();
    let periods = manifest["series"][0]["periods"].as_array().unwrap();
    assert_eq!(periods.len(), DAYS as usize);
    assert_eq!(
        manifest["series"][0]["complete"],
        serde_json::json!([[START, START + DAYS * DAY]])
    );
}
