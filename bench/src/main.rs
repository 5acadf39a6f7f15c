//! dsm-bench: dsm measured against the targets of issue 5 and against ccxt, on release
//! builds, with the fake exchange in its own process. See BENCHMARKS.md.
//!
//! ```text
//! cargo build --release --workspace && target/release/dsm-bench [--quick] [--out FILE]
//! ```
//!
//! Subcommands used by the bench itself (in a fresh process each time):
//! `dsm-bench probe KIND ...` (in-process timings of dsm) and `dsm-bench floor OP ...`
//! (the floors' file I/O, kept out of the bench's own process: a child's peak RSS counts
//! its parent's at the spawn, so the bench itself never holds large buffers).

mod fake;
mod measure;
mod probe;
mod scenarios;

use std::process::ExitCode;

fn usage() -> String {
    format!(
        "usage: dsm-bench [--quick] [--out FILE] [--only NAME[,NAME...]]
  Runs every benchmark (see BENCHMARKS.md) and prints a Markdown table.
  --quick   fewer repetitions (a few minutes instead of about ten)
  --out     also write the table (and the machine) to FILE
  --only    run only these: {}
Build first: cargo build --release --workspace
Environment: DSM_BENCH_PYTHON (default python3) runs bench/ccxt_rest.py and
bench/spark_bench.py (ccxt and pyspark are optional: without them those rows are skipped).",
        scenarios::NAMES.join(", ")
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("probe") => probe::run(&args[1..]),
        Some("floor") => scenarios::floor_child(&args[1..]),
        Some("-h" | "--help") => {
            println!("{}", usage());
            Ok(())
        }
        _ => parse_options(&args).and_then(|o| scenarios::run_all(&o)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dsm-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Options of a whole run.
pub struct Options {
    pub quick: bool,
    pub out: Option<std::path::PathBuf>,
    pub only: Option<Vec<String>>,
}

impl Options {
    pub fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|n| n == name))
    }

    /// Repetitions: `full` normally, `quick` with --quick.
    pub fn reps(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        out: None,
        only: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--out" => o.out = Some(it.next().ok_or("--out needs a file")?.into()),
            "--only" => {
                let v = it.next().ok_or("--only needs names")?;
                let names: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = names
                    .iter()
                    .find(|n| !scenarios::NAMES.contains(&n.as_str()))
                {
                    return Err(format!("--only: no benchmark {bad:?}\n{}", usage()));
                }
                o.only = Some(names);
            }
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    Ok(o)
}
