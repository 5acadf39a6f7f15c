//! Past one machine (issue 14): `dsm export --dataset s3://...` writes the same objects as an
//! export to a directory; `dsm sync --dataset` exports what it synced; and a fleet of
//! `dsm sync --shard i/3` processes sharing one bucket as their cache equals one unsharded
//! sync, each series fetched once. Real HTTP throughout: the fake exchange and the fake S3
//! server on 127.0.0.1.

use crate::common;
use crate::sync_env;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::stderr;
use dsm_core::cache::storage::ObjectStorage;
use dsm_core::dataset::{DatasetStore, DirStore, StorageStore};
use dsm_tests::fake::FakeExchange;
use dsm_tests::fake_s3::FakeS3;
use sync_env::{code, coins, run, sync};

/// Every object below `prefix` of the fake's bucket and its bytes, read through the
/// cache's storage (the listing the export itself uses).
fn s3_objects(s3: &FakeS3, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let options = s3.options();
    let opts: Vec<(&str, &str)> = options.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let store = StorageStore::new(Arc::new(ObjectStorage::s3(&s3.url(prefix), &opts).unwrap()));
    read_all(&store)
}

/// Every object of a dataset directory and its bytes (not the writer's lock file).
fn dir_objects(dir: &Path) -> Vec<(String, Vec<u8>)> {
    read_all(&DirStore::create(dir).unwrap())
}

fn read_all(store: &dyn DatasetStore) -> Vec<(String, Vec<u8>)> {
    let objects = store.list().unwrap();
    objects
        .into_iter()
        .map(|o| {
            let bytes = store.get(&o.path).unwrap().unwrap();
            (o.path, bytes)
        })
        .collect()
}

/// `cmd` with the fake S3's AWS_* variables.
fn with_s3<'a>(cmd: &'a mut Command, s3: &FakeS3) -> &'a mut Command {
    for (k, v) in s3.env() {
        cmd.env(k, v);
    }
    cmd
}

const SPAN: [&str; 4] = ["--start", "2024-01-01", "--end", "2024-01-04"];

#[test]
fn an_export_to_s3_equals_an_export_to_a_directory_byte_for_byte() {
    let fake = FakeExchange::start();
    let s3 = FakeS3::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut args = vec!["-p", "binance", "-m", "spot", "-s", "BTCUSDT,ETHUSDT"];
    args.extend(["-i", "1h,1d", "--source", "archive", "--lock"]);
    let lock = dir.path().join("s.lock").display().to_string();
    args.push(&lock);
    args.extend(SPAN);
    let out = run(&mut sync(&fake.url(), &cache, &args));
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let export = |dest: &str| {
        let mut cmd = Command::new(common::dsm_bin());
        with_s3(&mut cmd, &s3)
            .env_remove("DSM_PLUGIN_PATH")
            .env("DSM_CACHE_DIR", &cache)
            .args(["export", "--dataset", dest])
            .output()
            .unwrap()
    };
    let local = dir.path().join("dataset");
    let o = export(local.to_str().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = export(&s3.url("lake/dsm"));
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = common::stdout(&o);
    assert!(stdout.contains("to s3://dsm-test/lake/dsm"), "{stdout}");

    let want = dir_objects(&local);
    let got = s3_objects(&s3, "lake/dsm");
    // 2 symbols x (3 days of 1h + one month of 1d), and the manifest.
    assert_eq!(
        want.len(),
        2 * (3 + 1) + 1,
        "{:?}",
        want.iter().map(|o| &o.0)
    );
    assert!(want.iter().any(|(p, _)| p == "_dsm/manifest.json"));
    assert_eq!(
        got.iter().map(|o| &o.0).collect::<Vec<_>>(),
        want.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    for ((path, g), (_, w)) in got.iter().zip(&want) {
        assert!(g == w, "{path} differs between S3 and the directory");
    }

    // Again: nothing changed, nothing written (the manifest read back from the bucket).
    let puts = s3.puts();
    let o = export(&s3.url("lake/dsm"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        common::stdout(&o).contains("0 files written"),
        "{}",
        common::stdout(&o)
    );
    assert_eq!(s3.puts(), puts);
}

#[test]
fn sync_with_a_dataset_exports_exactly_the_series_it_synced() {
    let fake = FakeExchange::start();
    let s3 = FakeS3::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = dir.path().join("s.lock").display().to_string();
    let base = [
        "-p", "binance", "-m", "spot", "-i", "1h", "--source", "archive",
    ];
    let sync_of = |symbols: &str, extra: &[&str]| {
        let mut cmd = sync(&fake.url(), &cache, &base);
        cmd.args(["-s", symbols, "--lock", &lock])
            .args(SPAN)
            .args(extra);
        run(with_s3(&mut cmd, &s3))
    };
    // The cache holds ETHUSDT too, which the second sync does not name.
    let out = sync_of("BTCUSDT,ETHUSDT", &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let url = s3.url("lake/synced");
    let out = sync_of("BTCUSDT", &["--dataset", &url]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dataset s3://dsm-test/lake/synced: 1 series, 3 files written"),
        "{}",
        stderr(&out)
    );
    let got = s3_objects(&s3, "lake/synced");
    let paths: Vec<&str> = got.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(paths
        .iter()
        .all(|p| *p == "_dsm/manifest.json" || p.contains("symbol=BTCUSDT/")));

    // The same as `dsm export` of that one series into a directory, byte for byte.
    let local = dir.path().join("dataset");
    let o = Command::new(common::dsm_bin())
        .env_remove("DSM_PLUGIN_PATH")
        .env("DSM_CACHE_DIR", &cache)
        .args([
            "export",
            "--dataset",
            local.to_str().unwrap(),
            "-s",
            "BTCUSDT",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir_objects(&local) == got,
        "the sync's dataset differs from dsm export's"
    );

    // Into a directory too (the flag takes both).
    let local2 = dir.path().join("dataset2");
    let out = sync_of("BTCUSDT", &["--dataset", local2.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir_objects(&local2) == got);
}

/// The fake exchange's requests that name one of the series' symbols, as `path?query`,
/// sorted.
fn series_requests(fake: &FakeExchange) -> Vec<String> {
    let mut out: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|r| format!("{}?{}", r.path, r.query))
        .filter(|r| r.contains("COIN"))
        .collect();
    out.sort();
    out
}

#[test]
fn three_shards_sharing_one_bucket_equal_one_unsharded_sync_each_series_fetched_once() {
    let fake = FakeExchange::start();
    let (fleet, single) = (FakeS3::start(), FakeS3::start());
    let dir = tempfile::tempdir().unwrap();
    let symbols = coins(12);
    let spec = |s3: &FakeS3, lock: &Path| {
        let location = s3.url("desk/cache");
        let mut cmd = sync(&fake.url(), Path::new(&location), &[]);
        cmd.args(["-p", "binance", "-m", "spot", "-s", &symbols, "-i", "1h"])
            .args(SPAN)
            .args(["--source", "archive", "--cache-dir", &location, "--lock"])
            .arg(lock);
        with_s3(&mut cmd, s3);
        cmd
    };

    // Three processes at once, one bucket.
    let children: Vec<_> = (1..=3)
        .map(|k| {
            let mut cmd = spec(&fleet, &dir.path().join(format!("{k}.lock")));
            cmd.args(["--shard", &format!("{k}/3")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let sharded = series_requests(&fake);
    fake.clear_requests();

    let out = run(&mut spec(&single, &dir.path().join("all.lock")));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let unsharded = series_requests(&fake);

    // Every object of the two buckets, byte for byte: 12 series x 3 days.
    let (a, b) = (
        s3_objects(&fleet, "desk/cache"),
        s3_objects(&single, "desk/cache"),
    );
    assert_eq!(a.len(), 12 * 3, "{:?}", a.iter().map(|o| &o.0));
    assert_eq!(
        a.iter().map(|o| &o.0).collect::<Vec<_>>(),
        b.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    for ((key, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{key} differs between the sharded and the unsharded bucket"
        );
    }

    // Each series fetched once: no request for a series was made twice across the three
    // processes (two shards fetching one series would repeat its requests), and the fleet
    // made exactly the requests one process makes.
    assert!(!sharded.is_empty());
    let mut unique = sharded.clone();
    unique.dedup();
    assert_eq!(
        unique.len(),
        sharded.len(),
        "a request repeated: {sharded:#?}"
    );
    assert_eq!(sharded, unsharded);
    for i in 1..=12 {
        let coin = format!("COIN{i:02}USDT");
        assert!(
            sharded.iter().any(|r| r.contains(&coin)),
            "{coin} never fetched"
        );
    }
}
