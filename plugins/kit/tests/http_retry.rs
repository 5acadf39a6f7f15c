//! HttpClient against a tiny local server: retry counting, backoff, Retry-After, timeouts,
//! cancellation. Binds 127.0.0.1 only.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{http::StatusCode, response::IntoResponse, routing::get, Router};
use dsm_plugin_kit::{testing::TestHost, HttpClient, WeightGate, Weighted};
use dsm_sdk::{ErrorKind, LogLevel, ProviderConfig};

type Hits = Arc<AtomicU32>;

fn counted<R: IntoResponse + Send + 'static>(
    hits: &Hits,
    f: impl Fn(u32) -> R + Clone + Send + Sync + 'static,
) -> axum::routing::MethodRouter {
    let hits = hits.clone();
    get(move || {
        let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
        let r = f(n);
        async move { r }
    })
}

async fn serve(hits: &Hits) -> String {
    let app = Router::new()
        .route(
            "/ok",
            counted(hits, |_| (StatusCode::OK, [("x-used", "42")], "hello")),
        )
        .route(
            "/flaky",
            counted(hits, |n| {
                let status = if n <= 2 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                };
                (status, "body")
            }),
        )
        .route(
            "/down",
            counted(hits, |_| (StatusCode::INTERNAL_SERVER_ERROR, "down")),
        )
        .route(
            "/limited",
            counted(hits, |_| {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "0")],
                    "slow down",
                )
            }),
        )
        .route(
            "/limited-once",
            counted(hits, |n| {
                let status = if n == 1 {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::OK
                };
                (status, [("retry-after", "0")], "x")
            }),
        )
        .route(
            "/banned",
            counted(hits, |_| {
                (StatusCode::IM_A_TEAPOT, [("retry-after", "120")], "banned")
            }),
        )
        .route(
            "/bad",
            counted(hits, |_| (StatusCode::BAD_REQUEST, r#"{"code":-1121}"#)),
        )
        .route("/slow", {
            let hits = hits.clone();
            get(move || {
                hits.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }
            })
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn config(retries: u32) -> ProviderConfig {
    ProviderConfig {
        retries,
        backoff_base_ms: 20,
        backoff_max_ms: 40,
        request_timeout_ms: 300,
        connect_timeout_ms: 300,
        max_retry_after_ms: 1_000,
        log_http: true,
        ..ProviderConfig::default()
    }
}

fn client(retries: u32) -> (HttpClient, TestHost) {
    let th = TestHost::new();
    let c = HttpClient::new(&config(retries), th.host(LogLevel::DEBUG), "dsm-test/0").unwrap();
    (c, th)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_is_one_request_and_logged() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, th) = client(3);
    let gate = WeightGate::new("X-USED", 100, 0);
    let r = c
        .get(
            &format!("{base}/ok"),
            Some(Weighted {
                gate: &gate,
                weight: 1,
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.body.as_slice(), r.attempts),
        (200, &b"hello"[..], 1)
    );
    assert_eq!(c.requests(), 1);
    let debug = th.lines(LogLevel::DEBUG);
    assert!(debug.iter().any(|l| l.contains("/ok -> 200")), "{debug:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_xx_is_retried_then_succeeds() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, th) = client(3);
    let r = c.get(&format!("{base}/flaky"), None).await.unwrap();
    assert_eq!((r.status, r.attempts), (200, 3));
    assert_eq!(th.lines(LogLevel::INFO).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_xx_gives_up_after_retries_plus_one_with_backoff() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, th) = client(3);
    let e = c.get(&format!("{base}/down"), None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::UPSTREAM_STATUS);
    assert!(e.message.contains("HTTP 500 after 4 attempt(s)"), "{e}");
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    // The waits the client chose, as it logs them: half to all of 20, 40, 40 ms (base 20,
    // doubling, capped at 40, with jitter).
    let waits: Vec<u64> = th
        .lines(LogLevel::INFO)
        .iter()
        .filter_map(|l| l.split("retrying in ").nth(1))
        .map(|w| w.trim_end_matches(" ms").parse().unwrap())
        .collect();
    assert_eq!(waits.len(), 3, "{waits:?}");
    for (wait, full) in waits.iter().zip([20, 40, 40]) {
        assert!((full / 2..=full).contains(wait), "{waits:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_retries_means_one_attempt() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, _) = client(0);
    assert!(c.get(&format!("{base}/down"), None).await.is_err());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_waited_out_within_its_own_bound() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, _) = client(2);
    let r = c.get(&format!("{base}/limited-once"), None).await.unwrap();
    assert_eq!((r.status, r.attempts), (200, 2));

    let e = c.get(&format!("{base}/limited"), None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RATE_LIMITED);
    // retries + 1 = 3 waits, so 4 requests.
    assert_eq!(hits.load(Ordering::SeqCst), 2 + 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_retry_after_is_returned_not_waited() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, _) = client(3);
    let t = Instant::now();
    let e = c.get(&format!("{base}/banned"), None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RATE_LIMITED);
    assert_eq!(e.retry_after_ms, 120_000);
    assert!(e.message.contains("HTTP 418"), "{e}");
    // Far below the 120 s it would have taken had it waited.
    assert!(t.elapsed() < Duration::from_secs(60));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_is_returned_to_the_caller() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, _) = client(3);
    let r = c.get(&format!("{base}/bad"), None).await.unwrap();
    assert_eq!((r.status, r.attempts), (400, 1));
    assert_eq!(r.snippet(100), r#"{"code":-1121}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_retried_and_named() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let (c, _) = client(1);
    let url = format!("{base}/slow");
    let e = c.get(&url, None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::TIMEOUT);
    assert!(
        e.message.contains(&url) && e.message.contains("after 2 attempt(s)"),
        "{e}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    let (c, _) = client(1);
    let e = c.get(&url, None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NETWORK);
    assert!(e.message.contains(&url), "{e}");
    assert_eq!(c.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_ends_a_request_in_flight() {
    let hits = Hits::default();
    let base = serve(&hits).await;
    let th = TestHost::new();
    let cfg = ProviderConfig {
        request_timeout_ms: 10_000,
        ..config(3)
    };
    let c = HttpClient::new(&cfg, th.host(LogLevel::WARN), "t").unwrap();
    let cancel = th.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        cancel.cancel();
    });
    let e = c.get(&format!("{base}/slow"), None).await.unwrap_err();
    // CANCELLED, not the TIMEOUT the 10 s timeout would give or the answer /slow gives later.
    assert_eq!(e.kind, ErrorKind::CANCELLED);
}
