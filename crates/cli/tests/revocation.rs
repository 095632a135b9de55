//! `rolecall token revoke`, run as its own process against the database of a running
//! `rolecall serve`, bites on the server's next request (issue 13): on SQLite through
//! the store's revocation generation, which the token cache reads before trusting a
//! cached token; on PostgreSQL through the same generation and the revocation notice.
//! Before, the server's cache trusted a revoked token for up to 5 s.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use reqwest::Method;
use serde_json::json;
use support::*;

const T: &str = "/v1/tenants/acme";

async fn cli_revoke_bites_at_once(url: &str) {
    let server = Server::start(url, &[]).await;
    let op = server.operator_token().expect("a fresh database mints one");
    let admin = server.api(&op);
    admin
        .post(
            "/v1/tenants",
            json!({"id": "acme", "profile": "goto-contact-center"}),
            201,
        )
        .await;
    admin
        .post(&format!("{T}/users"), json!({"id": "alice"}), 201)
        .await;
    admin
        .post(
            &format!("{T}/assignments"),
            json!({"principal": "alice", "role": "contact_admin"}),
            201,
        )
        .await;
    for round in 0..3 {
        let minted = admin
            .post(&format!("{T}/tokens"), json!({"principal": "alice"}), 201)
            .await;
        let id = minted["id"].as_str().unwrap().to_owned();
        let alice = server.api(minted["token"].as_str().unwrap());
        // Cached by the server.
        for _ in 0..3 {
            alice.get("/v1/whoami").await;
        }
        let out = rolecall(&[
            "token",
            "revoke",
            "--database-url",
            url,
            "--tenant",
            "acme",
            &id,
        ]);
        assert!(
            out.status.success(),
            "token revoke: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The very next request, and a write, are refused.
        let (status, v) = alice.call(Method::GET, "/v1/whoami", None).await;
        assert_eq!(
            status, 401,
            "round {round}: the revoked token still works: {v}"
        );
        let (status, _) = alice
            .call(
                Method::POST,
                &format!("{T}/users"),
                Some(json!({"id": format!("late{round}")})),
            )
            .await;
        assert_eq!(status, 401, "round {round}: a write after the revocation");
    }
    // The revocations are audited, by the CLI.
    let audit = admin
        .get(&format!("{T}/audit?action=token.revoke&limit=100"))
        .await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e["actor"] == "cli"), "{audit}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_revoke_bites_on_the_next_request_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("rolecall.db").display());
    cli_revoke_bites_at_once(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_revoke_bites_on_the_next_request_postgres() {
    let db = PgDatabase::new().await;
    cli_revoke_bites_at_once(&db.url()).await;
}
