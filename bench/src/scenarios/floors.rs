//! Floors of the warm and cold year rows: the file I/O their durability and their reads
//! require, done with no dsm code, so that BENCHMARKS.md can say how much of a row's time
//! is the machine's (issue 15: "why it cannot go lower").
//!
//! Each measurement runs in a fresh `dsm-bench floor OP` process: the files it holds
//! (~80 MB) would otherwise stay in the bench's peak RSS, which every later child's
//! `ru_maxrss` inherits at its spawn (Linux counts the parent's memory up to the exec).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::time::Instant;

use super::archive::year_cache;
use super::*;
use dsm_core::cache::WRITE_THREADS;

/// The chunk the floors write in: the CLI's output writer asks the kernel to write back
/// every 8 MiB, so the floor writes in the same steps.
const CHUNK: usize = 8 << 20;

pub(super) fn floors(
    env: &Env,
    o: &Options,
    rep: &mut Report,
    cache: Option<PathBuf>,
) -> Result<(), String> {
    eprintln!("floors: the warm and cold year's file I/O without dsm");
    let cache = year_cache(env, cache)?;
    let files = walk(&cache);
    if files.len() != 365 {
        return Err(format!("floors: {} cache files, not 365", files.len()));
    }
    let cache_mb = files
        .iter()
        .map(|p| fs::metadata(p).map_or(0, |m| m.len()))
        .sum::<u64>() as f64
        / 1e6;
    let output = warm_output(env, &cache)?;
    let output_mb = fs::metadata(&output).map_or(0, |m| m.len()) as f64 / 1e6;
    let group = "floors (no dsm code)";
    let runs = |op: &str, threads: usize, reps: usize| -> Result<Vec<Duration>, String> {
        let mut out = Vec::new();
        for i in 0..reps + 1 {
            let p = env.run_ok(
                env.cmd(&env.self_exe)
                    .args(["floor", op, "--threads", &threads.to_string()])
                    .arg("--cache")
                    .arg(&cache)
                    .arg("--file")
                    .arg(&output)
                    .arg("--dir")
                    .arg(env.fresh_dir_retiring("floor")),
            )?;
            let t = p
                .ns("ns")
                .ok_or_else(|| format!("floor {op}: {}", p.stdout))?;
            if i > 0 {
                out.push(t); // the first run is a warm-up
            }
        }
        Ok(out)
    };
    let (reps, few) = (o.reps(10, 5), o.reps(5, 3));
    rep.add(
        group,
        format!("read the year's 365 cache files ({cache_mb:.1} MB, page cache warm)"),
        secs(&runs("read", 1, reps)?),
        Unit::Secs,
    );
    rep.add(
        group,
        format!(
            "write + fsync + rename + fsync the directory: one file of the warm Parquet \
             output's {output_mb:.1} MB, over the previous one"
        ),
        secs(&runs("write", 1, reps)?),
        Unit::Secs,
    );
    for (threads, how) in [
        (1, "one after the other".to_string()),
        (
            WRITE_THREADS,
            format!(
                "a month at a time on {WRITE_THREADS} threads (`cache::WRITE_THREADS`), as \
                 dsm's cache writes a chunk"
            ),
        ),
    ] {
        rep.add(
            group,
            format!(
                "the 365 cache files published as the cache does (each: create, write, \
                 fsync, rename, fsync the directory) into a fresh directory, {how}"
            ),
            secs(&runs("publish", threads, few)?),
            Unit::Secs,
        );
    }
    let _ = fs::remove_file(&output);
    rep.note(
        "floors: the files are the warm year's own (its cache files, its Parquet output), \
         each timing in a fresh `dsm-bench floor` process: no dsm code",
    );
    Ok(())
}

/// `dsm-bench floor read|write|publish --cache C --file F --dir D --threads N`: one timed
/// operation (what it needs loaded first, untimed); prints `ns=` its wall time.
pub fn floor_child(args: &[String]) -> Result<(), String> {
    let (op, rest) = args.split_first().ok_or("floor: which operation?")?;
    let (mut cache, mut file, mut dir, mut threads) = (None, None, None, 1);
    for pair in rest.chunks(2) {
        let [key, value] = pair else {
            return Err(format!("floor: {pair:?} needs a value"));
        };
        match key.as_str() {
            "--cache" => cache = Some(PathBuf::from(value)),
            "--file" => file = Some(PathBuf::from(value)),
            "--dir" => dir = Some(PathBuf::from(value)),
            "--threads" => threads = value.parse().map_err(|e| format!("--threads: {e}"))?,
            other => return Err(format!("floor: unknown option {other:?}")),
        }
    }
    let need = |p: Option<PathBuf>, what: &str| p.ok_or(format!("floor: --{what} is needed"));
    let took = match op.as_str() {
        "read" => {
            let mut paths = walk(&need(cache, "cache")?);
            paths.sort();
            let mut buf = Vec::new();
            timed(|| {
                for path in &paths {
                    buf.clear();
                    File::open(path)
                        .and_then(|mut f| f.read_to_end(&mut buf))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                Ok(())
            })?
        }
        "write" => {
            let file = need(file, "file")?;
            let bytes = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let dir = need(dir, "dir")?;
            // Over a previous file, as the warm runs write over the last run's output.
            durable_write(&dir, "warm.parquet", &bytes)?;
            timed(|| durable_write(&dir, "warm.parquet", &bytes))?
        }
        "publish" => {
            let files = cache_files(&need(cache, "cache")?)?;
            let dir = need(dir, "dir")?;
            timed(|| publish_files(&dir, &files, threads))?
        }
        other => return Err(format!("floor: unknown operation {other:?}")),
    };
    println!("ns={}", took.as_nanos());
    Ok(())
}

fn timed(f: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed())
}

/// `files` published into `dir`: in months (files named by day, in order), each month's
/// files split over `threads` threads; months one after the other.
fn publish_files(dir: &Path, files: &[(PathBuf, Vec<u8>)], threads: usize) -> Result<(), String> {
    let name = |p: &Path| {
        p.file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("f")
            .to_string()
    };
    let publish = |part: &[(PathBuf, Vec<u8>)]| -> Result<(), String> {
        part.iter()
            .try_for_each(|(path, bytes)| durable_write(dir, &name(path), bytes))
    };
    if threads <= 1 {
        return publish(files);
    }
    let mut rest = files;
    while let Some((first, _)) = rest.first() {
        let month = name(first).get(..7).unwrap_or_default().to_string();
        let len = rest
            .iter()
            .take_while(|(p, _)| name(p).starts_with(&month))
            .count();
        let (chunk, next) = rest.split_at(len.max(1));
        let per = chunk.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk.chunks(per).map(|c| s.spawn(|| publish(c))).collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().map_err(|_| "a writer panicked".to_string())?)
        })?;
        rest = next;
    }
    Ok(())
}

/// `bytes` as `dir/name`, durably: a temporary file written in [`CHUNK`]s, fsynced,
/// renamed over `name`, the directory fsynced (what the cache and the CLI's output do).
fn durable_write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let tmp = dir.join(format!(".tmp-{name}"));
    let err = |e: std::io::Error| format!("{}: {e}", tmp.display());
    let mut f = File::create(&tmp).map_err(err)?;
    for chunk in bytes.chunks(CHUNK) {
        f.write_all(chunk).map_err(err)?;
    }
    f.sync_all().map_err(err)?;
    drop(f);
    fs::rename(&tmp, dir.join(name)).map_err(err)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(err)
}

/// The cache's files with their bytes, in path order.
fn cache_files(cache: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut paths = walk(cache);
    paths.sort();
    paths
        .into_iter()
        .map(|p| fs::read(&p).map(|b| (p.clone(), b)))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("reading the cache: {e}"))
}

/// The warm year written to Parquet by the CLI (not timed), kept for the write floor.
fn warm_output(env: &Env, cache: &Path) -> Result<PathBuf, String> {
    let out = env.work.join("floor-warm.parquet");
    env.run_ok(
        env.dsm()
            .arg("-q")
            .arg("--cache-dir")
            .arg(cache)
            .args([
                "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
            ])
            .args([
                "--start", YEAR.0, "--end", YEAR.1, "--source", "cache", "-f", "parquet",
            ])
            .arg("-o")
            .arg(&out),
    )?;
    Ok(out)
}
