//! The progress line shows on a terminal (days done / total, source, rate) and never when
//! stderr is a file or a pipe.

mod common;

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
    let tty = on_loopback(&mut Command::new("script"), NOWHERE)
        .args(["-qec", &line, "/dev/null"])
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
