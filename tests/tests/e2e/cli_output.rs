//! Issue 9 items 13, 15 and 16: what `-o` writes to and how. A regular file is replaced
//! atomically (through a symlink, in the target's directory), with the umask's mode when new
//! and its own mode when replaced; a FIFO, a character device and `-` are written directly;
//! nothing reaches the output before the first period is ready. Every path is inside the
//! test's own temporary directory (the character device is a mknod'ed copy of /dev/null's
//! numbers there, never /dev itself).

use crate::cli_env;
use crate::common;

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use cli_env::*;
use common::{dsm_bin, stderr, stdout};
use dsm_tests::fake::FakeExchange;

fn with_output(out: &Path) -> Vec<String> {
    let mut args: Vec<String> = DAY_1H.map(String::from).to_vec();
    args.extend(["-o".into(), out.display().to_string()]);
    args
}

fn fetch_to(fake: &FakeExchange, cache: &Path, out: &Path) -> std::process::Output {
    let args = with_output(out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&mut dsm(&fake.url(), cache, &args))
}

fn assert_day_csv(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some(header().as_str()), "{text}");
    assert_eq!(lines.len(), 25, "header and 24 hourly candles: {text}");
}

#[test]
fn a_fifo_is_written_into_not_replaced() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    let out = fetch_to(&fake, cache.path(), &fifo);
    assert!(out.status.success(), "{}", stderr(&out));
    // Checked before joining: a reader of a FIFO that was renamed over never returns.
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "still a FIFO");
    assert_day_csv(&reader.join().unwrap());
    assert_eq!(names(dir.path()), ["pipe"], "no temporary file left");
}

#[test]
fn a_character_device_is_written_into_not_replaced() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A null device of our own (major 1, minor 3), inside the test's directory.
    let null = dir.path().join("null");
    let made = Command::new("mknod")
        .arg(&null)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(made.success(), "mknod (the tests run as root)");
    let out = fetch_to(&fake, cache.path(), &null);
    let meta = std::fs::symlink_metadata(&null).unwrap();
    std::fs::remove_file(&null).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        meta.file_type().is_char_device(),
        "still a character device"
    );
    assert_eq!(
        names(dir.path()),
        Vec::<String>::new(),
        "no temporary file left"
    );
}

#[test]
fn dash_is_stdout_and_creates_no_file() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run(dsm(
        &fake.url(),
        cache.path(),
        &with_output(Path::new("-"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .current_dir(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_day_csv(&stdout(&out));
    assert_eq!(names(dir.path()), Vec::<String>::new(), "no file named -");

    // Parquet to stdout: built aside, then copied out whole.
    let mut args = with_output(Path::new("-"));
    args.extend(["-f".into(), "parquet".into()]);
    let out = run(dsm(
        &fake.url(),
        cache.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .current_dir(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"PAR1") && out.stdout.ends_with(b"PAR1"));
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_symlink_is_written_through_to_its_target() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (real_dir, link_dir) = (dir.path().join("real"), dir.path().join("links"));
    std::fs::create_dir(&real_dir).unwrap();
    std::fs::create_dir(&link_dir).unwrap();
    let target = real_dir.join("btc.csv");
    std::fs::write(&target, "old\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = link_dir.join("btc.csv");
    std::os::unix::fs::symlink("../real/btc.csv", &link).unwrap();

    let out = fetch_to(&fake, cache.path(), &link);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_day_csv(&std::fs::read_to_string(&target).unwrap());
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the replaced file keeps its mode");
    assert_eq!(names(&real_dir), ["btc.csv"]);
    assert_eq!(names(&link_dir), ["btc.csv"]);
}

/// `dsm` run by `sh` under `umask`.
fn fetch_under_umask(fake: &FakeExchange, cache: &Path, out: &Path, umask: &str) {
    let args = with_output(out).join(" ");
    let script = format!("umask {umask} && exec {} {args}", dsm_bin().display());
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script]);
    env(&mut cmd, &fake.url(), cache);
    let o = run(&mut cmd);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn new_files_honour_the_umask_and_replaced_files_keep_their_mode() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    for (umask, want) in [("022", 0o644), ("027", 0o640), ("002", 0o664)] {
        let file = dir.path().join(format!("new-{umask}.csv"));
        fetch_under_umask(&fake, cache.path(), &file, umask);
        assert_eq!(mode(&file), want, "new file under umask {umask}");
    }
    let kept = dir.path().join("kept.csv");
    std::fs::write(&kept, "old\n").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o604)).unwrap();
    fetch_under_umask(&fake, cache.path(), &kept, "077");
    assert_eq!(mode(&kept), 0o604, "a replaced file keeps its mode");
    assert_day_csv(&std::fs::read_to_string(&kept).unwrap());

    // Parquet files too (they are built by another writer).
    let pq = dir.path().join("new.parquet");
    let args = format!("{} -f parquet -o {}", DAY_1H.join(" "), pq.display());
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        &format!("umask 027 && exec {} {args}", dsm_bin().display()),
    ]);
    env(&mut cmd, &fake.url(), cache.path());
    assert!(run(&mut cmd).status.success());
    assert_eq!(mode(&pq), 0o640);
}

#[test]
fn nothing_is_written_before_the_first_period() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    // An invalid symbol: found by the exchange, after the output was opened.
    let mut args = DAY_1H.to_vec();
    args[6] = "NOSUCHCOIN";
    let out = run(&mut dsm(&fake.url(), cache.path(), &args));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));

    // The network down.
    let out = run(dsm(&closed_url(), cache.path(), &DAY_1H).env("DSM_RETRIES", "1"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));

    // A plugin that panics on this symbol.
    let out = run(&mut dsm(
        &fake.url(),
        cache.path(),
        &[
            "fetch",
            "-p",
            "testplug",
            "-m",
            "spot",
            "-s",
            "PANIC",
            "-i",
            "1m",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
            "--no-cache",
        ],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));

    // An empty result that succeeds still gets its header.
    let mut args = DAY_1H.to_vec();
    args[13] = "--source=cache";
    let out = run(&mut dsm(&fake.url(), cache.path(), &args));
    assert_eq!(out.status.code(), Some(3), "gaps: {}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", header()));
}

#[test]
fn a_directory_as_output_is_refused_before_fetching() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = fetch_to(&fake, cache.path(), dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    assert!(fake.requests().is_empty(), "refused before any request");
}
