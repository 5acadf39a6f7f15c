//! The warm year from object storage: the same 365 cached days as the disk row, served by
//! the tests' S3-compatible server (`fake-s3`, its own process on 127.0.0.1) and read with
//! `--cache-dir s3://...`. What it measures over the disk row: one GET per day through
//! HTTP and SigV4, on loopback (a real bucket adds its network's round trips).

use super::archive::year_cache;
use super::*;

pub(super) fn warm_s3(
    env: &Env,
    o: &Options,
    rep: &mut Report,
    cache: Option<PathBuf>,
) -> Result<(), String> {
    eprintln!("warm year from S3: from the fake S3 server to Parquet");
    let cache = year_cache(env, cache)?;
    let exe = env.release.join("fake-s3");
    if !exe.is_file() {
        return Err(format!(
            "{} is missing: cargo build --release --workspace",
            exe.display()
        ));
    }
    let root = env.fresh_dir("s3");
    copy_tree(&cache, &root.join(dsm_tests::fake_s3::BUCKET).join("warm"))?;
    let s3 = FakeProc::start(&exe, &[root.display().to_string()])
        .map_err(|e| format!("fake S3: {e}"))?;
    use dsm_tests::fake_s3::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY};
    let env_vars = [
        ("AWS_ENDPOINT_URL", s3.url.as_str()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", REGION),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let url = format!("s3://{BUCKET}/warm");
    let mut wall = Vec::new();
    for i in 0..o.reps(10, 5) + 1 {
        let out = env.work.join("warm-s3.parquet");
        let p = env.run_ok(
            env.dsm()
                .envs(env_vars)
                .args(["-q", "--cache-dir", &url])
                .args([
                    "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
                ])
                .args(["--start", YEAR.0, "--end", YEAR.1, "--source", "cache"])
                .args(["-f", "parquet", "-o"])
                .arg(&out),
        )?;
        if parquet_rows(&out)? != YEAR_ROWS {
            return Err("warm from S3 to Parquet: wrong row count".into());
        }
        if i > 0 {
            wall.push(p.wall);
        }
    }
    rep.add(
        "warm year 1m (S3, fake-s3 on 127.0.0.1)",
        "to Parquet: wall (CLI, whole process; compare the disk row above)",
        secs(&wall),
        Unit::Secs,
    );
    Ok(())
}

/// Copy the files below `from` to the same paths below `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for file in walk(from) {
        let rel = file.strip_prefix(from).map_err(|e| e.to_string())?;
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().expect("a file has a directory"))
            .and_then(|_| std::fs::copy(&file, &dest).map(drop))
            .map_err(|e| format!("copy {}: {e}", file.display()))?;
    }
    Ok(())
}
