//! Connection hygiene (issue 13): hundreds of connections that send nothing or send a
//! header byte a second are closed after the header timeout while new clients are
//! served; keep-alive connections are closed after the idle timeout; a watch stream is
//! never cut by either; a slow body gets 408; at the connection cap a new connection
//! gets a 503 with the JSON error and `Retry-After`, and is served again once others
//! close. Time bounds here only keep a broken server from hanging the test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest a test waits for anything: a broken server fails instead of hanging.
const HANG: Duration = Duration::from_secs(30);

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (EOF or reset): whether it did within
/// `within`, and what it sent.
async fn closed_within(c: &mut TcpStream, within: Duration) -> (bool, Vec<u8>) {
    let mut got = Vec::new();
    let done = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (done.is_ok(), got)
}

/// A fresh client's `GET /healthz` (no pooled connection).
async fn healthz(s: &TestServer) -> reqwest::Response {
    let client = reqwest::Client::new();
    tokio::time::timeout(HANG, client.get(format!("{}/healthz", s.base)).send())
        .await
        .expect("a new client is answered while the others hang")
        .expect("the server answers")
}

/// The value of a metric line `name` (exact series) in the public exposition.
async fn metric(s: &TestServer, series: &str) -> f64 {
    let m = s.call(reqwest::Method::GET, "/metrics", None, None).await;
    m.text
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_are_closed_while_new_clients_are_served() {
    rolecall_server::connections::fd_budget();
    let s = TestServer::start_with(|c| {
        c.header_timeout = Duration::from_secs(2);
        c.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let a = addr(&s);
    // 500 connections that never send a byte.
    let mut silent = Vec::new();
    for _ in 0..500 {
        silent.push(TcpStream::connect(&a).await.unwrap());
    }
    // 200 that send a request head one byte a second (it would take 36 s).
    let mut slow = Vec::new();
    for _ in 0..200 {
        let c = TcpStream::connect(&a).await.unwrap();
        slow.push(tokio::spawn(async move {
            let (mut r, mut w) = c.into_split();
            let head = b"GET /healthz HTTP/1.1\r\nHost: rolecall\r\n\r\n";
            let mut buf = [0u8; 1024];
            for &b in head.iter() {
                tokio::select! {
                    n = r.read(&mut buf) => return matches!(n, Ok(0) | Err(_)),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        if w.write_all(&[b]).await.is_err() {
                            return true;
                        }
                    }
                }
            }
            false
        }));
    }
    // A new client is served meanwhile.
    let res = healthz(&s).await;
    assert_eq!(res.status(), 200);
    // Every one of the 700 is closed by the server (after the 2 s header timeout).
    let silent_closed = futures_util::future::join_all(
        silent
            .iter_mut()
            .map(|c| async move { closed_within(c, HANG).await.0 }),
    )
    .await;
    let open = silent_closed.iter().filter(|c| !**c).count();
    assert_eq!(open, 0, "{open} of 500 silent connections were left open");
    let mut slow_open = 0;
    for h in slow {
        if !h.await.unwrap() {
            slow_open += 1;
        }
    }
    assert_eq!(
        slow_open, 0,
        "{slow_open} of 200 slow connections got a whole head in"
    );
    let timed_out = metric(
        &s,
        "rolecall_connections_timed_out_total{reason=\"header\"}",
    )
    .await;
    assert!(
        timed_out >= 700.0,
        "{timed_out} closed by the header timeout"
    );
    // And the server goes on serving.
    assert_eq!(healthz(&s).await.status(), 200);
}

#[tokio::test]
async fn a_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let s = TestServer::start_with(|c| {
        c.idle_timeout = Duration::from_secs(1);
        c.header_timeout = Duration::from_secs(10);
    })
    .await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    // Two requests on the connection, then silence.
    for _ in 0..2 {
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: rolecall\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(HANG, c.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains("\"status\":\"ok\""), "{text}");
    }
    let (closed, _) = closed_within(&mut c, HANG).await;
    assert!(closed, "the idle keep-alive connection was left open");
    assert!(metric(&s, "rolecall_connections_timed_out_total{reason=\"idle\"}").await >= 1.0);
}

#[tokio::test]
async fn a_watch_stream_outlives_the_header_and_idle_timeouts() {
    let s = TestServer::start_with(|c| {
        c.idle_timeout = Duration::from_secs(1);
        c.header_timeout = Duration::from_secs(1);
    })
    .await;
    s.tenant("t", "horizon-contact").await;
    let mut w = s.watch("/v1/tenants/t/watch", &s.op, None).await.unwrap();
    // Longer than both timeouts, with nothing sent on the stream meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.org_unit("t", "acme", "company", None).await;
    let e = w.next(HANG).await.expect("the stream is still open");
    assert_eq!(e.event, "change", "{e:?}");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let s = TestServer::start_with(|c| c.body_timeout = Duration::from_secs(1)).await;
    s.tenant("t", "horizon-contact").await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    let head = format!(
        "POST /v1/tenants/t/check HTTP/1.1\r\nHost: rolecall\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"principal\":",
        s.op
    );
    c.write_all(head.as_bytes()).await.unwrap();
    // The rest never comes.
    let (closed, got) = closed_within(&mut c, HANG).await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
    assert!(closed, "the connection of a timed-out body stays open");
}

#[tokio::test]
async fn at_the_connection_cap_a_new_connection_gets_503_with_retry_after() {
    let s = TestServer::start_with(|c| {
        c.max_connections = 8;
        c.header_timeout = Duration::from_secs(60);
    })
    .await;
    let a = addr(&s);
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(&a).await.unwrap());
    }
    let res = healthz(&s).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["code"],
        json!("too_many_connections"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("most connections (8)"),
        "{body}"
    );
    // Once the others close, new connections are served again.
    drop(held);
    let served = tokio::time::timeout(HANG, async {
        loop {
            if healthz(&s).await.status() == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        served.is_ok(),
        "still refused after the held connections closed"
    );
    assert!(metric(&s, "rolecall_connections_refused_total").await >= 1.0);
    assert!(metric(&s, "rolecall_connections_max").await == 8.0);
}
