//! Issue 10, "the CLI, polished": help that groups global options, shows defaults, exit
//! codes and examples; filter options explained; `fake-exchange --help` works.

use crate::common;

use std::process::Command;

use common::{run_dsm, stderr, stdout, target_dir};

/// The section of `help` from `heading` to the next blank-line-separated heading.
fn section<'a>(help: &'a str, heading: &str) -> &'a str {
    let start = help
        .find(&format!("\n{heading}:\n"))
        .unwrap_or_else(|| panic!("no {heading:?} section:\n{help}"));
    let rest = &help[start + 1..];
    let end = rest[heading.len() + 2..]
        .find("\n\n")
        .map_or(rest.len(), |i| i + heading.len() + 2);
    &rest[..end]
}

#[test]
fn fetch_help_groups_globals_and_shows_defaults_exit_codes_and_examples() {
    let out = run_dsm(&["fetch", "--help"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    let own = section(&help, "Options");
    let global = section(&help, "Global options");
    for flag in [
        "--plugin-dir",
        "--verbose",
        "--quiet",
        "--cache-dir",
        "--allow-insecure-plugins",
    ] {
        assert!(
            global.contains(flag),
            "{flag} under Global options:\n{help}"
        );
        assert!(
            !own.contains(flag),
            "{flag} not among fetch's own options:\n{help}"
        );
    }
    for flag in ["--provider", "--symbol", "--source", "--output"] {
        assert!(own.contains(flag), "{flag}:\n{help}");
    }
    assert!(own.contains("[default: auto]"), "--source default:\n{own}");
    assert!(own.contains("[env: DSM_SOURCE"), "{own}");
    assert!(own.contains("[default: csv]"), "{own}");
    let codes = section(&help, "Exit codes");
    for code in ["0 ", "1 ", "2 ", "3 ", "130 "] {
        assert!(
            codes.contains(&format!("  {code}")),
            "exit code {code}:\n{codes}"
        );
    }
    let examples = section(&help, "Examples");
    assert!(examples.matches("dsm fetch -p ").count() >= 3, "{examples}");
}

#[test]
fn cache_filter_options_have_help() {
    for sub in ["ls", "verify", "clear"] {
        let out = run_dsm(&["cache", sub, "--help"], &[]);
        assert!(out.status.success());
        let help = stdout(&out);
        for (flag, words) in [
            ("--provider <PROVIDER>", "Only this provider"),
            ("--market <MARKET>", "Only this market"),
            ("--symbol <SYMBOL>", "Only this symbol"),
            ("--interval <INTERVAL>", "Only this interval"),
        ] {
            let line = help
                .lines()
                .find(|l| l.contains(flag))
                .unwrap_or_else(|| panic!("{flag} in cache {sub}:\n{help}"));
            assert!(line.contains(words), "cache {sub} {flag} explained: {line}");
        }
    }
}

#[test]
fn fake_exchange_help() {
    let bin = target_dir().join("fake-exchange");
    for flag in ["--help", "-h"] {
        let out = Command::new(&bin)
            .arg(flag)
            .output()
            .expect("fake-exchange");
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.starts_with("usage: fake-exchange [--port PORT]"),
            "{text}"
        );
        assert!(text.contains("DSM_BINANCE_VISION_URL"), "{text}");
        assert!(!stderr(&out).contains("unknown argument"));
    }
    let out = Command::new(&bin).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown argument \"--bogus\""));
}
