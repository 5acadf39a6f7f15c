//! Floors of the warm and cold year rows: the file I/O their durability and their reads
//! require, done by this process with no dsm code in it, so that BENCHMARKS.md can say how
//! much of a row's time is the machine's (issue 15: "why it cannot go lower").

use std::fs::{self, File};
use std::io::{Read, Write};
use std::time::Instant;

use super::archive::year_cache;
use super::*;

/// The chunk the floors write in: the CLI's output writer asks the kernel to write back
/// every 8 MiB, so the floor writes in the same steps.
const CHUNK: usize = 8 << 20;

pub(super) fn floors(
    env: &Env,
    o: &Options,
    rep: &mut Report,
    cache: Option<PathBuf>,
) -> Result<(), String> {
    eprintln!("floors: the warm and cold rows' file I/O without dsm");
    let cache = year_cache(env, cache)?;
    let files = cache_files(&cache)?;
    if files.len() != 365 {
        return Err(format!("floors: {} cache files, not 365", files.len()));
    }
    let output = warm_output(env, &cache)?;
    let reps = o.reps(10, 5);
    let group = "floors (this process, no dsm code)";

    let mut buf = Vec::new();
    let read = timed(reps, || {
        for (path, _) in &files {
            buf.clear();
            File::open(path)
                .and_then(|mut f| f.read_to_end(&mut buf))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    })?;
    let cache_mb = files.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1e6;
    rep.add(
        group,
        format!("read the year's 365 cache files ({cache_mb:.1} MB, page cache warm)"),
        secs(&read),
        Unit::Secs,
    );

    let dir = env.fresh_dir("floor-output");
    let write = timed(reps, || durable_write(&dir, "warm.parquet", &output))?;
    rep.add(
        group,
        format!(
            "write + fsync + rename + fsync the directory: one file of the warm Parquet \
             output's {:.1} MB, over the previous one",
            output.len() as f64 / 1e6
        ),
        secs(&write),
        Unit::Secs,
    );

    let mut n = 0;
    for (threads, how) in [
        (1, "one after the other"),
        (
            8,
            "a month at a time on 8 threads, as dsm's cache writes a chunk",
        ),
    ] {
        let publish = timed(o.reps(5, 3), || {
            n += 1;
            let dir = env.fresh_dir(&format!("floor-cache-{n}"));
            publish_files(&dir, &files, threads)?;
            fs::remove_dir_all(&dir).map_err(|e| e.to_string())
        })?;
        rep.add(
            group,
            format!(
                "the 365 cache files published as the cache does (each: create, write, fsync, \
                 rename, fsync the directory) into a fresh directory, {how}"
            ),
            secs(&publish),
            Unit::Secs,
        );
    }
    rep.note(
        "floors: the files are the warm year's own (its cache files, its Parquet output), \
         timed in dsm-bench's own process: no fork, exec or dsm code",
    );
    Ok(())
}

/// The wall time of `reps` runs of `f`, after one untimed run.
fn timed(reps: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<Vec<Duration>, String> {
    f()?;
    let mut out = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        out.push(t.elapsed());
    }
    Ok(out)
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

/// The bytes of the warm year written to Parquet by the CLI (not timed).
fn warm_output(env: &Env, cache: &Path) -> Result<Vec<u8>, String> {
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
    let bytes = fs::read(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = fs::remove_file(&out);
    Ok(bytes)
}
