//! Issue 10, "the CLI, polished": what a failing or finishing fetch says on stderr. No
//! colour unless on a terminal and without NO_COLOR; retries are not warnings; a network
//! failure ends in one paragraph of fixes; an unwritable cache is an error; plurals.

use crate::cli_env;
use crate::common;

use std::process::Command;

use cli_env::*;
use common::{dsm_bin, stderr, stdout};
use dsm_tests::fake::{FakeExchange, Fault};

#[test]
fn a_network_failure_is_one_paragraph_without_warnings() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(dsm(&closed_url(), cache.path(), &DAY_1H).env("DSM_RETRIES", "6"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        !err.contains("WARN"),
        "retries are info, not warnings:\n{err}"
    );
    assert!(!has_colour(&err), "no colour into a pipe:\n{err:?}");
    assert!(err.starts_with("error: binance: "), "{err}");
    for hint in ["proxy", "DSM_BINANCE_URL", "--source cache"] {
        assert!(err.contains(hint), "the fix names {hint}:\n{err}");
    }
    let paragraphs: Vec<&str> = err.trim().split("\n\n").collect();
    assert_eq!(paragraphs.len(), 2, "the error, then the fixes:\n{err}");

    // With -v the retries are there, as info.
    let out = run(dsm(&closed_url(), cache.path(), &DAY_1H)
        .env("DSM_RETRIES", "2")
        .arg("-v"));
    let err = stderr(&out);
    assert_eq!(err.matches("retrying in").count(), 2, "{err}");
    assert!(err
        .lines()
        .filter(|l| l.contains("retrying in"))
        .all(|l| l.contains("INFO")));
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    fake.push_faults("/api/v3/klines", [Fault::Status(503)]);
    // Into a file: no colour (the 503 retry is logged at info with -v).
    let out = run(dsm(&fake.url(), cache.path(), &DAY_1H).arg("-v"));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("INFO") && err.contains("HTTP 503"), "{err}");
    assert!(!has_colour(&err), "{err:?}");

    // On a terminal (`script` gives it one): colour, unless NO_COLOR is set.
    for no_color in [None, Some("1")] {
        fake.push_faults("/api/v3/klines", [Fault::Status(503)]);
        let dir = tempfile::tempdir().unwrap();
        let line = format!(
            "exec {} {} -v -o {}",
            dsm_bin().display(),
            DAY_1H.join(" "),
            dir.path().join("o.csv").display()
        );
        let mut cmd = Command::new("script");
        // The typescript goes into the test's directory, not /dev/null.
        let typescript = dir.path().join("typescript");
        cmd.args(["-qec", &line]).arg(&typescript);
        env(&mut cmd, &fake.url(), dir.path()); // a fresh cache: the day is fetched
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let tty = run(&mut cmd);
        let screen = stdout(&tty);
        assert!(tty.status.success(), "{screen}");
        assert!(screen.contains("HTTP 503"), "{screen}");
        assert_eq!(
            has_colour(&screen),
            no_color.is_none(),
            "NO_COLOR={no_color:?}: {screen:?}"
        );
    }
}

#[test]
fn an_unwritable_cache_directory_is_an_error() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    // Under a regular file: no one, root included, can create it.
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let bad = file.join("cache");
    let out = run(dsm(&fake.url(), &bad, &DAY_1H).stdout(std::process::Stdio::piped()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot write to the cache directory"), "{err}");
    assert!(
        err.contains("--cache-dir") && err.contains("--no-cache"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(fake.requests().is_empty(), "found before fetching");
    // Reading only (--source cache) needs no writable directory: an empty cache, gaps.
    let mut args = DAY_1H.to_vec();
    args[13] = "--source=cache";
    let out = run(&mut dsm(&fake.url(), &bad, &args));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn one_period_is_singular() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(dsm(&fake.url(), cache.path(), &DAY_1H).arg("-v"));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(": 1 period cached, 1 request"), "{err}");
    assert!(!err.contains("1 periods"), "{err}");
    assert_eq!(stdout(&out).lines().count(), 25);
}
