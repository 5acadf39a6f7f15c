//! `HttpClient::get_with`: the body size cap (Content-Length and streamed bodies) and the
//! per-caller request counter. A raw server on 127.0.0.1 so chunked bodies are exact.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use dsm_plugin_kit::{http::Policy, testing::TestHost, HttpClient};
use dsm_sdk::{ErrorKind, LogLevel, ProviderConfig};

/// Serves: /sized (Content-Length 10000), /chunked (10 x 1000 bytes, no length),
/// /small ("hello"), /flaky (503 on the first request, then "ok").
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let flaky = Arc::new(AtomicU32::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n";
            let _ = match path.as_str() {
                "/sized" => write!(stream, "{head}Content-Length: 10000\r\n\r\n{}", "x".repeat(10_000)),
                "/chunked" => {
                    let chunk = format!("3e8\r\n{}\r\n", "y".repeat(1000));
                    write!(stream, "{head}Transfer-Encoding: chunked\r\n\r\n{}0\r\n\r\n", chunk.repeat(10))
                }
                "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => write!(
                    stream,
                    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                ),
                "/flaky" => write!(stream, "{head}Content-Length: 2\r\n\r\nok"),
                _ => write!(stream, "{head}Content-Length: 5\r\n\r\nhello"),
            };
        }
    });
    url
}

fn client() -> HttpClient {
    let config = ProviderConfig {
        retries: 2,
        backoff_base_ms: 1,
        backoff_max_ms: 5,
        ..ProviderConfig::default()
    };
    HttpClient::new(&config, TestHost::new().host(LogLevel::WARN), "dsm-test/0").unwrap()
}

#[test]
fn bodies_over_the_cap_are_refused_without_retries() {
    let url = serve();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = client();
    let counter = AtomicU64::new(0);
    let policy = Policy {
        max_body: Some(5_000),
        counter: Some(&counter),
        ..Policy::default()
    };
    rt.block_on(async {
        for path in ["/sized", "/chunked"] {
            let e = http
                .get_with(&format!("{url}{path}"), &policy)
                .await
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::INTEGRITY, "{path}: {e}");
            assert!(e.message.contains("over the 5000-byte limit"), "{e}");
        }
        assert_eq!(counter.load(Ordering::SeqCst), 2, "no retries");
        let r = http
            .get_with(&format!("{url}/small"), &policy)
            .await
            .unwrap();
        assert_eq!(r.body, b"hello");
        // Within the cap, streamed bodies arrive whole.
        let roomy = Policy {
            max_body: Some(10_000),
            ..policy
        };
        let r = http
            .get_with(&format!("{url}/chunked"), &roomy)
            .await
            .unwrap();
        assert_eq!(r.body.len(), 10_000);
        let r = http
            .get_with(&format!("{url}/sized"), &roomy)
            .await
            .unwrap();
        assert_eq!(r.body.len(), 10_000);
        // The counter includes retries.
        counter.store(0, Ordering::SeqCst);
        let r = http
            .get_with(&format!("{url}/flaky"), &policy)
            .await
            .unwrap();
        assert_eq!((r.status, r.attempts), (200, 2));
        assert_eq!(counter.load(Ordering::SeqCst), 2);
    });
}
