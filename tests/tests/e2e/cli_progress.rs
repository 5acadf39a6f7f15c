//! The progress line shows on a terminal (days done / total, source, rate) and never when
//! stderr is a file or a pipe.

use crate::common;

use std::process::Command;

use common::*;

const FETCH: [&str; 14] = [
    "fetch",
    "-p",
    "testplug",
    "-m",
    "spot",
    "-s",
    "TEST",
    "-i",
    "1m",
    "--start",
    "2024-01-01",
    "--end",
    "2024-01-04",
    "--no-cache",
];

#[test]
fn progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let mut args: Vec<String> = FETCH.map(String::from).to_vec();
    args.extend(["-o".to_string(), out_file.display().to_string()]);
    // `script` runs the command on a pseudo-terminal (util-linux, in every Debian).
    let line = format!("{} {}", dsm_bin().display(), args.join(" "));
    // The typescript goes into the test's directory, not /dev/null.
    let tty = on_loopback(&mut Command::new("script"), NOWHERE)
        .args(["-qec", &line])
        .arg(dir.path().join("typescript"))
        .output()
        .expect("script(1)");
    assert!(tty.status.success(), "{}", stderr(&tty));
    let screen = String::from_utf8_lossy(&tty.stdout).replace('\r', "\n");
    assert!(
        screen.contains("1/3 days") && screen.contains("3/3 days"),
        "{screen}"
    );
    assert!(
        screen.contains("from rest") && screen.contains("candles") && screen.contains("/s"),
        "{screen}"
    );

    let piped = run_dsm(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(piped.status.success());
    assert!(
        !stderr(&piped).contains("days"),
        "no progress into a pipe: {}",
        stderr(&piped)
    );
}

/// Binance spot 1m from REST on the fake, `days` days from 2024-01-01, run under `script`.
fn binance_1m_on_a_terminal(fake_url: &str, dir: &std::path::Path, end: &str) -> Command {
    let line = format!(
        "exec {} fetch -p binance -m spot -s BTCUSDT -i 1m --start 2024-01-01 --end {end} \
         --source rest --no-cache -o {}",
        dsm_bin().display(),
        dir.join("out.csv").display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line])
        .arg(dir.join("typescript")) // in the test's directory, not /dev/null
        .env_remove("DSM_PLUGIN_PATH")
        .env_remove("DSM_LOG")
        .env("DSM_CACHE_DIR", dir.join("cache"));
    for k in [
        "DSM_BINANCE_URL",
        "DSM_BINANCE_UM_URL",
        "DSM_BINANCE_CM_URL",
        "DSM_BINANCE_VISION_URL",
        "DSM_BINANCE_VISION_LISTING_URL",
        "DSM_OKX_URL",
        "DSM_BYBIT_URL",
    ] {
        cmd.env(k, fake_url);
    }
    cmd
}

#[test]
fn percent_and_eta_move_within_a_period() {
    let fake = dsm_tests::fake::FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    // Two days of 1m are three pages of 1000 candles: 1000 and 2000 of 2880 minutes come
    // before either day is complete.
    let tty = binance_1m_on_a_terminal(&fake.url(), dir.path(), "2024-01-03")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&tty.stdout).replace('\r', "\n");
    assert!(tty.status.success(), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    for pct in [" 34%  0/2 days", " 69%  0/2 days", "100%  2/2 days"] {
        assert!(
            lines.iter().any(|l| l.contains(pct)),
            "{pct:?} in:\n{screen}"
        );
    }
    let mid = lines.iter().find(|l| l.contains(" 34%")).unwrap();
    assert!(mid.contains("ETA ") && !mid.contains("ETA --"), "{mid}");
    assert!(lines
        .iter()
        .any(|l| l.contains("  0%") && l.contains("ETA --")));
}

#[test]
fn the_line_is_redrawn_every_second_while_nothing_arrives() {
    let fake = dsm_tests::fake::FakeExchange::start();
    // Every answer is held (for longer than the test lives).
    fake.set_delay("/api/v3/klines", std::time::Duration::from_secs(3600));
    let dir = tempfile::tempdir().unwrap();
    let mut child = binance_1m_on_a_terminal(&fake.url(), dir.path(), "2024-01-02")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pty = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = pty.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    // Wait for the event (two seconds of redraws with nothing received), however long the
    // machine takes to get there.
    let mut screen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !screen.contains("elapsed 0:02") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => screen.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => break,
        }
    }
    let _ = child.kill(); // the pty closes: dsm gets SIGHUP
    let _ = child.wait();
    let screen = screen.replace('\r', "\n");
    for tick in ["elapsed 0:00", "elapsed 0:01", "elapsed 0:02"] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains("  0%  0/1 days") && l.contains(tick)),
            "{tick:?} while waiting:\n{screen}"
        );
    }
}

/// The library's request-level progress, which the line above is drawn from: within each
/// plugin call, counted in the whole request (here two calls, one per month).
#[test]
fn stream_progress_counts_within_the_whole_request() {
    let fake = dsm_tests::fake::FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dsm = binance_on_fake(
        &fake,
        "spot",
        cache.path(),
        dsm_core::SourceMode::Rest,
        5000,
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let stream = dsm
        .fetch_stream_with_progress("BTCUSDT", "1m", "2024-01-31", "2024-02-02", move |d, t| {
            log.lock().unwrap().push((d, t))
        })
        .unwrap();
    assert_eq!(
        stream.map(|b| b.unwrap().rows.len()).sum::<usize>(),
        2 * 1440
    );
    let seen = seen.lock().unwrap().clone();
    const MIN: i64 = 60_000;
    let total = 2880 * MIN;
    assert!(seen.iter().all(|(_, t)| *t == total), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    // The second call's first page: 1000 minutes into February, 2440 into the request.
    for done in [1000 * MIN, 1440 * MIN, 2440 * MIN, total] {
        assert!(seen.iter().any(|(d, _)| *d == done), "{done}: {seen:?}");
    }
}
