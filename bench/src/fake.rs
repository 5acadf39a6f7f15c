//! The fake exchange in its own process (the release `fake-exchange` binary), so that its
//! CPU is never counted in dsm's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// A running fake exchange process; killed (by its pid) and reaped when dropped.
pub struct FakeProc {
    child: Child,
    /// Keeps the pipe open: the fake never writes again, but must not get SIGPIPE.
    _stdout: BufReader<ChildStdout>,
    pub url: String,
}

impl FakeProc {
    /// Starts `program args...`, whose first stdout line is the base URL.
    pub fn start(program: &Path, args: &[String]) -> std::io::Result<FakeProc> {
        Self::start_with_env(program, args, &[])
    }

    /// As [`FakeProc::start`], with these environment variables set for the fake (e.g.
    /// `DSM_FAKE_TRADES_PER_DAY`).
    pub fn start_with_env(
        program: &Path,
        args: &[String],
        envs: &[(&str, String)],
    ) -> std::io::Result<FakeProc> {
        let mut child = Command::new(program)
            .args(args)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .arg("--port")
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let url = line.trim().to_string();
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!(
                "{} printed {url:?} instead of its URL",
                program.display()
            )));
        }
        Ok(FakeProc {
            child,
            _stdout: stdout,
            url,
        })
    }

    /// CPU time (user + system) the fake process has used so far.
    pub fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which is in parentheses): utime is the 14th
        // field of the line, stime the 15th.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
        // SAFETY: plain FFI call without pointers.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        match (ticks(11), ticks(12)) {
            (Some(u), Some(s)) => Duration::from_millis((u + s) * 1000 / hz),
            _ => Duration::ZERO,
        }
    }

    /// The used-weight header of a GET of `path` (e.g. /fapi/v1/ping): the weight used in
    /// the current minute, as the fake counts it. A plain HTTP/1.1 request, so that the
    /// bench needs no HTTP client.
    pub fn used_weight(&self, path: &str) -> Option<u32> {
        let addr = self.url.strip_prefix("http://")?;
        let mut s = TcpStream::connect(addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).ok()?;
        resp.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("x-mbx-used-weight-1m")
                    .then(|| v.trim().parse().ok())?
            })
            .or(None)
    }
}

impl Drop for FakeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
