//! Fault injection, delays, weights and the server's lifecycle.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::tests_rest::{get, T};
use super::*;

const KLINES: &str = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10";

/// One request over a raw socket; returns every byte until the server closes.
fn raw_get(fx: &FakeExchange, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(fx.url().trim_start_matches("http://")).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn faults_are_consumed_in_order_on_their_path_only() {
    let fx = FakeExchange::start();
    fx.push_faults(
        "/api/v3/klines",
        [
            Fault::Status(503),
            Fault::BinanceError {
                status: 400,
                code: -1121,
                msg: "Invalid symbol.".into(),
            },
            Fault::RetryAfter {
                status: 418,
                secs: 7,
            },
        ],
    );
    assert_eq!(get(&fx, "/api/v3/ping").status, 200);
    assert_eq!(get(&fx, KLINES).status, 503);
    let r = get(&fx, KLINES);
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, r#"{"code":-1121,"msg":"Invalid symbol."}"#)
    );
    let r = get(&fx, KLINES);
    assert_eq!(r.status, 418);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(r.json()["code"], -1003);
    assert!(r.json()["msg"]
        .as_str()
        .unwrap()
        .starts_with("Too many requests;"));
    assert_eq!(get(&fx, KLINES).status, 200);
    let statuses: Vec<u16> = fx.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 503, 400, 418, 200]);
}

#[test]
fn truncated_sends_half_the_declared_body_then_closes() {
    let fx = FakeExchange::start();
    fx.push_faults("/api/v3/klines", [Fault::Truncated, Fault::Truncated]);
    let bytes = raw_get(&fx, KLINES);
    let text = String::from_utf8(bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let declared: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 100);
    assert_eq!(body.len(), declared / 2);
    let err = reqwest::blocking::get(format!("{}{KLINES}", fx.url())).and_then(|r| r.text());
    assert!(err.is_err(), "the client must notice: {err:?}");
    assert_eq!(get(&fx, KLINES).json().as_array().unwrap().len(), 10);
}

#[test]
fn delays_hold_back_the_headers() {
    let fx = FakeExchange::start();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}{KLINES}", fx.url());
    fx.set_delay("/api/v3/klines", Duration::from_secs(2));
    assert!(client.get(&url).send().unwrap_err().is_timeout());
    fx.set_delay("/api/v3/klines", Duration::ZERO);
    assert_eq!(client.get(&url).send().unwrap().status(), 200);
    fx.push_faults("/api/v3/klines", [Fault::Delay(Duration::from_millis(150))]);
    let began = Instant::now();
    assert_eq!(client.get(&url).send().unwrap().status(), 200);
    assert!(began.elapsed() >= Duration::from_millis(150));
}

#[test]
fn the_configured_latency_comes_before_every_answer_which_is_unchanged() {
    let latency = Duration::from_millis(150);
    let slow = FakeExchange::start_with(FakeConfig {
        latency,
        ..FakeConfig::default()
    })
    .unwrap();
    let quick = FakeExchange::start();
    let zip = "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01-02.zip";
    let rest = "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1704067200000&limit=10";
    for path in [rest, zip] {
        let began = Instant::now();
        let body = reqwest::blocking::get(format!("{}{path}", slow.url()))
            .unwrap()
            .bytes()
            .unwrap();
        assert!(began.elapsed() >= latency, "{path}");
        let want = reqwest::blocking::get(format!("{}{path}", quick.url()))
            .unwrap()
            .bytes()
            .unwrap();
        assert!(body == want, "{path}");
    }
}

#[test]
fn weight_headers_use_each_host_casing() {
    let fx = FakeExchange::start();
    let spot = String::from_utf8(raw_get(&fx, KLINES)).unwrap();
    assert!(spot.contains("\r\nX-MBX-USED-WEIGHT-1M: "), "{spot}");
    let fapi = String::from_utf8(raw_get(&fx, "/fapi/v1/ping")).unwrap();
    assert!(fapi.contains("\r\nx-mbx-used-weight-1m: "), "{fapi}");
    let used = |r: &super::tests_rest::Reply| -> u32 {
        r.headers["x-mbx-used-weight-1m"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let a = used(&get(
        &fx,
        "/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1m&limit=1500",
    ));
    let b = used(&get(
        &fx,
        "/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1m&limit=99",
    ));
    // A minute boundary between the two resets the counter.
    assert!(a >= 10 && (b == a + 1 || b == 1), "{a} {b}");
}

#[test]
fn over_the_weight_limit_is_429_with_retry_after() {
    let fx = FakeExchange::start();
    fx.set_weight_limit("/api/", 1);
    let r = get(&fx, KLINES);
    assert_eq!((r.status, r.json()["code"].as_i64()), (429, Some(-1003)));
    let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    assert_eq!(get(&fx, "/api/v3/ping").status, 200, "ping weighs 1");
    assert_eq!(
        get(&fx, "/fapi/v1/klines?symbol=BTCUSDT&interval=1m").status,
        200
    );
    fx.set_weight_limit("/api/v3/klines", 6000);
    assert_eq!(get(&fx, KLINES).status, 200, "the longest prefix wins");
}

#[test]
fn start_on_reports_a_busy_port_and_drop_frees_it() {
    let fx = FakeExchange::start();
    let port: u16 = fx.url().rsplit(':').next().unwrap().parse().unwrap();
    assert!(FakeExchange::start_on(port).is_err());
    drop(fx);
    let again = FakeExchange::start_on(port).expect("port free after drop");
    assert_eq!(again.url(), format!("http://127.0.0.1:{port}"));
}

#[tokio::test]
async fn works_inside_a_tokio_test() {
    let fx = FakeExchange::start();
    let url = format!(
        "{}/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1d&startTime={T}&limit=2",
        fx.url()
    );
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(body.starts_with(&format!("[[{T},")), "{body}");
    drop(fx);
}

#[test]
fn held_requests_are_answered_only_after_release() {
    let fx = FakeExchange::start();
    fx.hold_after(1);
    assert_eq!(get(&fx, KLINES).status, 200, "the first passes");
    std::thread::scope(|s| {
        let held = s.spawn(|| raw_get(&fx, KLINES));
        // The bound only ends a broken test; the event itself is the held request.
        assert!(fx.wait_held(Duration::from_secs(30)), "the second is held");
        assert_eq!(fx.requests().len(), 1, "not answered, not logged yet");
        fx.release();
        let answer = held.join().unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 200 OK"),
            "answered after release"
        );
    });
    assert_eq!(fx.requests().len(), 2);
    assert_eq!(get(&fx, KLINES).status, 200, "the gate is open again");
}
