//! Redirects `HttpClient` refuses (once, not retried, saying it was a redirect) and the
//! ones it follows. Plain-http rows against real servers on 127.0.0.1; the https rows
//! (a downgrade, an https mirror) through the policy function itself, since the client
//! trusts only real certificates and the tests run no TLS server.

mod common;

use std::io::Write;

use common::{client, Server};
use dsm_plugin_kit::redirect::{redirect_refusal, MAX_REDIRECTS};
use dsm_sdk::ErrorKind;
use reqwest::Url;

fn found(stream: &mut std::net::TcpStream, location: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn refused_redirects_fail_once_and_say_so() {
    let other = Server::start(|_, s| {
        let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let other_url = other.url.clone();
    let server = Server::start(move |path, s| match path {
        "/ftp" => found(s, "ftp://127.0.0.1/klines.zip"),
        "/file" => found(s, "file:///etc/passwd"),
        "/other-origin" => found(s, &format!("{other_url}/ok")),
        "/same-origin" => found(s, "/ok"),
        _ => {
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = client();
    rt.block_on(async {
        let cases = [
            ("/ftp", "only http and https are followed"),
            ("/file", "only http and https are followed"),
            ("/other-origin", "another origin over plain http"),
        ];
        for (n, (path, why)) in cases.into_iter().enumerate() {
            let url = format!("{}{path}", server.url);
            let e = http.get(&url, None).await.unwrap_err();
            assert_eq!(e.kind, ErrorKind::NETWORK, "{path}: {e}");
            assert!(e.message.contains("refusing a redirect"), "{path}: {e}");
            assert!(e.message.contains(why), "{path}: {e}");
            assert_eq!(
                server.hits(),
                n as u32 + 1,
                "{path}: asked once, not retried"
            );
        }
        assert_eq!(other.hits(), 0, "the other origin was never asked");
        // Within the same origin a redirect is followed.
        let r = http
            .get(&format!("{}/same-origin", server.url), None)
            .await
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
    });
}

fn refusal(chain: &[&str], next: &str) -> Option<String> {
    let chain: Vec<Url> = chain.iter().map(|u| Url::parse(u).unwrap()).collect();
    redirect_refusal(&chain, &Url::parse(next).unwrap())
}

#[test]
fn the_redirect_policy_row_by_row() {
    let refused = |chain: &[&str], next: &str, why: &str| {
        let got = refusal(chain, next).unwrap_or_else(|| panic!("{next} was followed"));
        assert!(got.contains("redirect") && got.contains(why), "{got}");
    };
    let a = "https://data.binance.vision/data/spot/x.zip";
    // https down to http, on the same host or another.
    refused(
        &[a],
        "http://data.binance.vision/data/spot/x.zip",
        "down to http",
    );
    refused(&[a], "http://cdn.example.com/x.zip", "down to http");
    // Other schemes, whatever the origin.
    refused(
        &[a],
        "ftp://data.binance.vision/x.zip",
        "only http and https",
    );
    refused(
        &["http://127.0.0.1:1/"],
        "file:///etc/passwd",
        "only http and https",
    );
    // Another origin over plain http: another host, or another port.
    refused(
        &["http://127.0.0.1:1/a"],
        "http://127.0.0.1:2/a",
        "another origin",
    );
    refused(
        &["http://a.example/"],
        "http://b.example/",
        "another origin",
    );
    // Loops and long chains.
    refused(&[a, "https://cdn.example.com/x"], a, "loop");
    let chain: Vec<String> = (0..=MAX_REDIRECTS)
        .map(|i| format!("https://cdn{i}.example.com/x"))
        .collect();
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
    refused(&chain, "https://last.example.com/x", "more than");
    // Followed: a mirror or CDN over https, an upgrade, the same origin over http.
    assert_eq!(refusal(&[a], "https://cdn.example.com/x.zip"), None);
    assert_eq!(refusal(&["http://a.example/"], "https://b.example/"), None);
    assert_eq!(
        refusal(&["http://127.0.0.1:1/a"], "http://127.0.0.1:1/b"),
        None
    );
}
