//! `HttpClient` body caps: a caller's cap (Content-Length and streamed bodies), the default
//! cap every REST request gets ([`MAX_BODY_BYTES`], counted after decompression) against a
//! lying Content-Length, an endless chunked body and a gzip bomb, and the per-caller
//! request counter. A raw server on 127.0.0.1 so the hostile bodies are exact.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use common::{client, Server};
use dsm_plugin_kit::http::{Policy, MAX_BODY_BYTES};
use dsm_sdk::ErrorKind;
use flate2::{Compress, Compression, FlushCompress};

const HEAD: &str = "HTTP/1.1 200 OK\r\nConnection: close\r\n";

/// /sized (Content-Length 10000), /chunked (10 x 1000 bytes, no length), /small ("hello"),
/// /flaky (503 on the first request, then "ok").
fn answer(flaky: &AtomicU32, path: &str, stream: &mut TcpStream) {
    let _ = match path {
        "/sized" => write!(
            stream,
            "{HEAD}Content-Length: 10000\r\n\r\n{}",
            "x".repeat(10_000)
        ),
        "/chunked" => {
            let chunk = format!("3e8\r\n{}\r\n", "y".repeat(1000));
            write!(
                stream,
                "{HEAD}Transfer-Encoding: chunked\r\n\r\n{}0\r\n\r\n",
                chunk.repeat(10)
            )
        }
        "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => write!(
            stream,
            "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ),
        "/flaky" => write!(stream, "{HEAD}Content-Length: 2\r\n\r\nok"),
        _ => write!(stream, "{HEAD}Content-Length: 5\r\n\r\nhello"),
    };
}

#[test]
fn bodies_over_the_cap_are_refused_without_retries() {
    let flaky = AtomicU32::new(0);
    let server = Server::start(move |path, stream| answer(&flaky, path, stream));
    let url = server.url.clone();
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

/// One raw deflate piece that inflates to 1 MiB of zeros and ends on a full flush, so that
/// any number of copies in a row is a valid deflate stream.
fn mib_of_zeros_deflated() -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(8 << 10);
    c.compress_vec(&vec![0u8; 1 << 20], &mut out, FlushCompress::Full)
        .unwrap();
    out
}

/// Hostile answers, each endless or claiming to be: the client must stop by itself.
/// /lying: "Content-Length: 5 GB", 1 KB sent, then the connection idles until closed.
/// /endless: chunked, 64 KB chunks until the client goes away.
/// /bomb: gzip, about 1 KB per MiB of zeros, endless.
fn hostile(path: &str, stream: &mut TcpStream) {
    match path {
        "/lying" => {
            let _ = write!(stream, "{HEAD}Content-Length: 5000000000\r\n\r\n");
            let _ = stream.write_all(&[b'x'; 1024]);
            let mut sink = [0u8; 1];
            let _ = std::io::Read::read(stream, &mut sink); // until the client closes
        }
        "/endless" => {
            let _ = write!(stream, "{HEAD}Transfer-Encoding: chunked\r\n\r\n");
            let chunk = [
                format!("{:x}\r\n", 64 << 10).into_bytes(),
                vec![b'z'; 64 << 10],
                b"\r\n".to_vec(),
            ]
            .concat();
            while stream.write_all(&chunk).is_ok() {}
        }
        "/bomb" => {
            let _ = write!(
                stream,
                "{HEAD}Content-Type: application/json\r\nContent-Encoding: gzip\r\n\r\n"
            );
            // gzip header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
            let _ = stream.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
            let piece = mib_of_zeros_deflated();
            while stream.write_all(&piece).is_ok() {}
        }
        _ => {
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
            );
        }
    }
}

#[test]
fn hostile_bodies_hit_the_default_cap_once_not_memory() {
    let server = Server::start(hostile);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = client();
    rt.block_on(async {
        for (n, path) in ["/lying", "/endless", "/bomb"].into_iter().enumerate() {
            // The plain `get` every REST page uses: no cap of its own.
            let e = http
                .get(&format!("{}{path}", server.url), None)
                .await
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::INTEGRITY, "{path}: {e}");
            let limit = format!("over the {MAX_BODY_BYTES}-byte limit");
            assert!(e.message.contains(&limit), "{path}: {e}");
            assert!(e.message.contains("after decompression"), "{path}: {e}");
            assert_eq!(
                server.hits(),
                n as u32 + 1,
                "{path}: refused once, not retried"
            );
        }
    });
}

#[test]
fn a_gzip_body_within_the_cap_is_decompressed() {
    let server = Server::start(|_, stream| {
        let _ = write!(stream, "{HEAD}Content-Encoding: gzip\r\n\r\n");
        let _ = stream.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let _ = stream.write_all(&mib_of_zeros_deflated());
        // Then the final empty block and the trailer: CRC-32 and length of 1 MiB of zeros.
        let mut crc = flate2::Crc::new();
        crc.update(&vec![0u8; 1 << 20]);
        let _ = stream.write_all(&[0x03, 0x00]);
        let _ = stream.write_all(&crc.sum().to_le_bytes());
        let _ = stream.write_all(&(1u32 << 20).to_le_bytes());
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = rt
        .block_on(client().get(&format!("{}/zeros", server.url), None))
        .unwrap();
    assert_eq!(r.body.len(), 1 << 20);
    assert!(r.body.iter().all(|&b| b == 0));
}
