//! A minimal HTTP/1.1 server on a raw TcpStream. Hand-rolled rather than axum/hyper so that
//! faults are byte-exact: header names keep Binance's casing, and a truncated body really
//! is a correct Content-Length followed by half the bytes and a closed connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::state::Shared;

/// Requests whose head is larger than this are dropped (no legitimate client sends one).
const MAX_HEAD: usize = 64 * 1024;

pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    keep_alive: bool,
}

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// Waited before anything (headers included) is written.
    pub(crate) delay: Duration,
    /// Send only half the body, then close.
    pub(crate) truncate: bool,
    /// With `truncate`: reset the connection (RST) instead of closing it cleanly.
    pub(crate) reset: bool,
    /// Send the body this many bytes at a time, waiting this long between pieces.
    pub(crate) trickle: Option<(usize, Duration)>,
}

impl Response {
    pub(crate) fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            truncate: false,
            reset: false,
            trickle: None,
        }
    }

    pub(crate) fn json(status: u16, body: String) -> Response {
        let mut r =
            Response::empty(status).header("Content-Type", "application/json;charset=UTF-8".into());
        r.body = body.into_bytes();
        r
    }

    /// A body of any bytes (zip files, XML) with its Content-Type.
    pub(crate) fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        let mut r = Response::empty(status).header("Content-Type", content_type.into());
        r.body = body;
        r
    }

    pub(crate) fn header(mut self, name: &'static str, value: String) -> Response {
        self.headers.push((name, value));
        self
    }

    fn head(&self, keep_alive: bool) -> String {
        let mut h = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            h += &format!("{name}: {value}\r\n");
        }
        h += &format!("Content-Length: {}\r\n", self.body.len());
        h += if keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        };
        h
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Accepts connections until `shutdown` fires (or its sender is dropped).
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_connection(stream, shared.clone()));
                }
            }
        }
    }
}

/// Serves requests on one keep-alive connection, one at a time.
async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await {
        shared.gate.enter().await;
        {
            let mut st = shared.lock();
            st.in_flight += 1;
            st.max_in_flight = st.max_in_flight.max(st.in_flight);
        }
        let resp = super::dispatch(&shared, &req);
        let delay = resp.delay + shared.latency;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let keep_alive = req.keep_alive && !resp.truncate;
        let written = write_response(&mut stream, &resp, keep_alive).await;
        shared.lock().in_flight -= 1;
        if written.is_err() || !keep_alive {
            if resp.reset {
                // SO_LINGER 0: closing sends RST instead of FIN.
                let _ = stream.set_zero_linger();
                drop(stream);
            } else {
                let _ = stream.shutdown().await;
            }
            return;
        }
    }
}

async fn write_response(
    stream: &mut TcpStream,
    resp: &Response,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut bytes = resp.head(keep_alive).into_bytes();
    let body_len = if resp.truncate {
        resp.body.len() / 2
    } else {
        resp.body.len()
    };
    let body = &resp.body[..body_len];
    let Some((piece, every)) = resp.trickle else {
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).await?;
        return stream.flush().await;
    };
    stream.write_all(&bytes).await?;
    stream.flush().await?;
    for chunk in body.chunks(piece) {
        tokio::time::sleep(every).await;
        stream.write_all(chunk).await?;
        stream.flush().await?;
    }
    Ok(())
}

/// Reads one request head (and skips its body); `None` on EOF, error or garbage.
/// `buf` carries bytes already read past the previous request.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD || read_more(stream, buf).await? == 0 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let (req, body_len) = parse_head(&head)?;
    while buf.len() < head_end + body_len {
        if read_more(stream, buf).await? == 0 {
            return None;
        }
    }
    buf.drain(..head_end + body_len);
    Some(req)
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.ok()?;
    buf.extend_from_slice(&chunk[..n]);
    Some(n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses the request line and the headers that matter: Connection and Content-Length.
fn parse_head(head: &str) -> Option<(Request, usize)> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split_whitespace();
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let mut keep_alive = version == "HTTP/1.1";
    let mut body_len = 0;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            keep_alive = value.eq_ignore_ascii_case("keep-alive")
                || (keep_alive && !value.eq_ignore_ascii_case("close"));
        } else if name.eq_ignore_ascii_case("content-length") {
            body_len = value.parse().ok()?;
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let req = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        keep_alive,
    };
    Some((req, body_len))
}
