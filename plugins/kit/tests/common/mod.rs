//! A raw HTTP/1.1 server on 127.0.0.1 for the HttpClient tests: byte-exact answers (chunked
//! bodies, lying lengths, endless streams, redirects) that a framework would tidy up.
#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use dsm_plugin_kit::{testing::TestHost, HttpClient};
use dsm_sdk::{LogLevel, ProviderConfig};

/// Writes the whole answer (status line, headers, body) for one request path.
pub type Answer = dyn Fn(&str, &mut TcpStream) + Send + Sync;

pub struct Server {
    /// "http://127.0.0.1:PORT"
    pub url: String,
    hits: Arc<AtomicU32>,
}

impl Server {
    /// Serves every connection on its own thread (an endless body blocks only its own),
    /// one request per connection; `answer` writes the response, then the connection closes.
    pub fn start(answer: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicU32::new(0));
        let answer: Arc<Answer> = Arc::new(answer);
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (answer, counted) = (answer.clone(), counted.clone());
                std::thread::spawn(move || {
                    let Some(path) = read_head(&stream) else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    answer(&path, &mut stream);
                });
            }
        });
        Server { url, hits }
    }

    /// Requests received so far.
    pub fn hits(&self) -> u32 {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The request path, after reading the head up to its blank line.
fn read_head(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            return Some(path);
        }
    }
}

/// A client with 2 quick retries and a 20 s request timeout (so that a test of an endless
/// body fails rather than hangs if the cap is missing).
pub fn client() -> HttpClient {
    let config = ProviderConfig {
        retries: 2,
        backoff_base_ms: 1,
        backoff_max_ms: 5,
        request_timeout_ms: 20_000,
        ..ProviderConfig::default()
    };
    HttpClient::new(&config, TestHost::new().host(LogLevel::WARN), "dsm-test/0").unwrap()
}
