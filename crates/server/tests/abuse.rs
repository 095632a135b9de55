//! Abuse by authenticated and unauthenticated callers (issue 13): a token past its rate
//! gets 429 with `Retry-After` (others do not); an unknown token presented again costs
//! no store lookup; a client address past its budget of never-seen tokens gets 429
//! without a lookup; `/metrics` names no tenant without its credential.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Resp, TestServer, assert_error};

const T: &str = "acme-hidden-tenant";

async fn setup(s: &TestServer) -> String {
    s.tenant(T, "horizon-contact").await;
    s.org_unit(T, "acme", "company", None).await;
    s.user(T, "alice", Some("acme")).await;
    s.assign(T, "alice", "administrator", None).await;
    s.mint(T, "alice").await
}

/// A GET with the raw answer (status, headers, body), for headers the JSON helper drops.
async fn get_raw(s: &TestServer, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut rb = s.client.get(format!("{}{path}", s.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap()
}

async fn resp(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_default();
    Resp { status, body, text }
}

#[tokio::test]
async fn a_token_past_its_rate_gets_429_with_retry_after() {
    // One request a second with a bucket of 20: the setup (operator) fits, and so do
    // alice's first 20 requests.
    let s = TestServer::start_with(|c| {
        c.rate_limit = 1;
        c.rate_burst = 20;
    })
    .await;
    let alice = setup(&s).await;
    let path = format!("/v1/tenants/{T}");
    let mut refused = None;
    for i in 0..25 {
        let res = get_raw(&s, &path, Some(&alice)).await;
        if res.status() == 429 {
            refused = Some((i, res));
            break;
        }
        assert_eq!(res.status(), 200, "request {i}");
    }
    let (i, res) = refused.expect("alice is refused past her burst");
    assert!(i >= 19, "refused after only {i} requests");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    let r = resp(res).await;
    assert_error(&r, 429, Some("too_many_requests"), &["requests a second"]);
    // Another token has its own bucket.
    s.get(&path, &s.op).await.expect(200);
    // After the wait it asks for, alice is served again.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    s.get(&path, &alice).await.expect(200);
}

#[tokio::test]
async fn repeated_unknown_tokens_cost_no_store_lookup() {
    let s = TestServer::start().await;
    let alice = setup(&s).await;
    let before = s.engine.token_stats();
    for _ in 0..50 {
        let r = s.get(&format!("/v1/tenants/{T}"), "rc_unknown-token").await;
        assert_error(&r, 401, Some("unauthorized"), &["token"]);
    }
    let after = s.engine.token_stats();
    assert_eq!(
        after.store_lookups - before.store_lookups,
        1,
        "50 requests with one unknown token: one store lookup ({before:?} → {after:?})"
    );
    assert_eq!(after.negative_hits - before.negative_hits, 49);
    // A token minted now works at once.
    let fresh = s.mint(T, "alice").await;
    s.get(&format!("/v1/tenants/{T}"), &fresh).await.expect(200);
    s.get(&format!("/v1/tenants/{T}"), &alice).await.expect(200);
    // The counters are public metrics too (no tenant in them).
    let m = s.call(reqwest::Method::GET, "/metrics", None, None).await;
    assert!(
        m.text.contains("rolecall_token_negative_hits_total 49"),
        "{}",
        m.text
    );
}

#[tokio::test]
async fn an_address_past_its_unknown_token_budget_gets_429_without_a_lookup() {
    let s = TestServer::start_with(|c| {
        c.unknown_token_rate = 1;
        c.unknown_token_burst = 3;
    })
    .await;
    let alice = setup(&s).await;
    let path = format!("/v1/tenants/{T}");
    let before = s.engine.token_stats();
    for i in 0..3 {
        let r = s.get(&path, &format!("rc_guess-{i}")).await;
        assert_error(&r, 401, Some("unauthorized"), &[]);
    }
    let res = get_raw(&s, &path, Some("rc_guess-3")).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_error(
        &resp(res).await,
        429,
        Some("too_many_requests"),
        &["unknown tokens"],
    );
    let after = s.engine.token_stats();
    assert_eq!(after.store_lookups - before.store_lookups, 3);
    assert_eq!(after.refused_lookups - before.refused_lookups, 1);
    // A token seen valid before is never charged, nor is one remembered as unknown.
    s.get(&path, &alice).await.expect(200);
    s.get(&path, &s.op).await.expect(200);
    let r = s.get(&path, "rc_guess-0").await;
    assert_error(&r, 401, Some("unauthorized"), &[]);
}

#[tokio::test]
async fn metrics_name_no_tenant_without_their_credential() {
    let metrics_token = "metrics-secret-0123456789";
    let s = TestServer::start_with(|c| c.metrics_token = Some(metrics_token.to_owned())).await;
    let alice = setup(&s).await;
    s.post(
        &format!("/v1/tenants/{T}/check"),
        &alice,
        json!({"principal": "alice", "action": "staff.roles.manage", "resource": {"type": "tenant", "id": T}}),
    )
    .await
    .expect(200);
    // Without a credential: the aggregate series, no tenant id anywhere.
    let public = s.call(reqwest::Method::GET, "/metrics", None, None).await;
    public.expect(200);
    assert!(!public.text.contains(T), "{}", public.text);
    assert!(!public.text.contains("tenant=\""), "{}", public.text);
    assert!(
        public
            .text
            .contains("rolecall_decisions_total{outcome=\"allowed\"} 1"),
        "{}",
        public.text
    );
    assert!(
        public.text.contains("rolecall_tenants 1"),
        "{}",
        public.text
    );
    assert!(
        public.text.contains("rolecall_connections_open"),
        "{}",
        public.text
    );
    // The metrics token and the operator token read the per-tenant series.
    for token in [metrics_token, s.op.as_str()] {
        let full = s.get("/metrics", token).await;
        full.expect(200);
        assert!(
            full.text.contains(&format!(
                "rolecall_tenant_decisions_total{{outcome=\"allowed\",tenant=\"{T}\"}} 1"
            )),
            "{}",
            full.text
        );
        assert!(
            full.text
                .contains(&format!("rolecall_snapshot_revision{{tenant=\"{T}\"}}")),
            "{}",
            full.text
        );
    }
    // Any other credential is refused, not quietly given less.
    let r = s.get("/metrics", &alice).await;
    assert_error(&r, 403, Some("forbidden"), &["metrics token"]);
    let r = s.get("/metrics", "rc_wrong").await;
    assert_error(&r, 401, Some("unauthorized"), &[]);
    // No other public route names the tenant either.
    for path in ["/healthz", "/readyz", "/openapi.json", "/v1/tenants"] {
        let r = s.call(reqwest::Method::GET, path, None, None).await;
        assert!(!r.text.contains(T), "{path}: {}", r.text);
    }
}
