//! Whole-process measurements (wall time from spawn to reap, and the child's own rusage via
//! `wait4`: peak RSS, user and system CPU) and the statistics reported (median, min..max).

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished child process.
#[derive(Debug, Clone)]
pub struct Proc {
    pub wall: Duration,
    /// Peak resident set size (ru_maxrss), KiB.
    pub maxrss_kib: u64,
    /// Context switches, voluntary plus involuntary (ru_nvcsw + ru_nivcsw).
    pub switches: u64,
    pub user: Duration,
    pub sys: Duration,
    /// Exit code; -signal when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Proc {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    /// `key=value` lines of a probe's stdout.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
    }

    pub fn ns(&self, key: &str) -> Option<Duration> {
        self.value(key)?.parse().ok().map(Duration::from_nanos)
    }

    pub fn num(&self, key: &str) -> Option<u64> {
        self.value(key)?.parse().ok()
    }

    /// A one-line description for error messages.
    pub fn failure(&self) -> String {
        let tail: Vec<&str> = self.stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("exit {}: {}", self.code, tail.join(" | "))
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
}

/// Runs `cmd` to completion with stdout and stderr in files under `scratch`, and measures
/// it. Stdin is closed.
pub fn run(cmd: &mut Command, scratch: &Path) -> io::Result<Proc> {
    let out_path = scratch.join("child.stdout");
    let err_path = scratch.join("child.stderr");
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path)?)
        .stderr(File::create(&err_path)?);
    let started = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: plain FFI; `rusage` is plain old data written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    // The child is reaped; `child` must not wait again (dropping a Child does not wait).
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        -libc::WTERMSIG(status)
    } else {
        -1
    };
    Ok(Proc {
        wall,
        maxrss_kib: usage.ru_maxrss as u64,
        switches: (usage.ru_nvcsw + usage.ru_nivcsw) as u64,
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        code,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    })
}

/// Median, minimum and maximum of a sample.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Stats {
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stats {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        })
    }

    pub fn durations(values: &[Duration]) -> Option<Stats> {
        Stats::of(&values.iter().map(|d| d.as_secs_f64()).collect::<Vec<_>>())
    }
}

/// A duration in seconds, in the unit that reads best.
pub fn fmt_secs(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// KiB as MiB.
pub fn fmt_mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}
