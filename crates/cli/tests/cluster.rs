//! Several real `rolecall serve` processes on one PostgreSQL database, as a platform
//! team runs them behind a load balancer: writes through any node visible on every
//! node, no stale allow after a revoke (the new-enemy problem), concurrent writers on
//! different nodes, a node killed with SIGKILL that restarts and catches up, a second
//! SQLite process refused, and a database that stops and starts again under a running
//! node (a throwaway cluster of the test's own, never the machine's server).
//!
//! Each test uses a database of its own on the local PostgreSQL (dropped afterwards).
//! `ROLECALL_NEW_ENEMY_PAIRS` sets the number of revoke/check pairs (1,000 by default;
//! the long run uses 10,000).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const T: &str = "/v1/tenants/acme";

const NODE_FLAGS: &[&str] = &["--revision-wait-ms", "15000"];

/// Nodes on one database, the first one's operator token, and the tenant `acme` (GoTo
/// profile) created through the first node.
struct Cluster {
    nodes: Vec<Server>,
    op: String,
    url: String,
    _db: PgDatabase,
}

impl Cluster {
    async fn start(n: usize) -> Cluster {
        let db = PgDatabase::new().await;
        let url = db.url();
        // These tests assert that no answer is stale, not how fast a node catches up
        // (benchmarks measure that): a generous wait keeps a loaded machine from turning
        // a slow catch-up into a 503.
        let first = Server::start(&url, NODE_FLAGS).await;
        let op = first.operator_token().expect("a fresh database mints one");
        let mut nodes = vec![first];
        for _ in 1..n {
            nodes.push(Server::start(&url, NODE_FLAGS).await);
        }
        let c = Cluster {
            nodes,
            op,
            url,
            _db: db,
        };
        c.api(0)
            .post(
                "/v1/tenants",
                json!({"id": "acme", "profile": "goto-contact-center"}),
                201,
            )
            .await;
        c
    }

    fn api(&self, node: usize) -> Api {
        self.nodes[node].api(&self.op)
    }
}

/// The revision a write answered with.
fn rev(v: &Value) -> u64 {
    v["revision"]
        .as_u64()
        .unwrap_or_else(|| panic!("no revision in {v}"))
}

/// Polls `path` on `api` until it answers 200, for at most `within`; how long it took.
async fn visible_within(api: &Api, path: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let (status, _) = api.call(Method::GET, path, None).await;
        if status == 200 {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{path} not visible on {} within {within:?}",
            api.base
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn analytics(principal: &str) -> Value {
    json!({"principal": principal, "action": "analytics.access",
           "resource": {"type": "tenant", "id": "acme"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_every_node_are_visible_on_every_node() {
    let c = Cluster::start(3).await;
    // The tenant, created through node 0, appears on the others by itself.
    for i in 1..3 {
        visible_within(&c.api(i), T, Duration::from_secs(5)).await;
    }
    for i in 0..3 {
        let id = format!("u{i}");
        let w = c
            .api(i)
            .post(&format!("{T}/users"), json!({"id": id}), 201)
            .await;
        let r = rev(&w);
        for j in 0..3 {
            // With the write's revision: at once, on any node.
            c.api(j)
                .get(&format!("{T}/users/{id}?at_least_revision={r}"))
                .await;
            // Without it: the follower brings it within moments.
            visible_within(
                &c.api(j),
                &format!("{T}/users/{id}"),
                Duration::from_secs(5),
            )
            .await;
        }
    }
    // A role written through node 2 and read through node 1, fully consistent.
    c.api(2)
        .post(
            &format!("{T}/roles"),
            json!({"id": "lead", "copy_of": "supervisor"}),
            201,
        )
        .await;
    c.api(1)
        .get(&format!("{T}/roles/lead?consistency=fully_consistent"))
        .await;
    // Every node answers the same revision once caught up.
    let mut revisions = Vec::new();
    for i in 0..3 {
        revisions.push(rev(&c
            .api(i)
            .get(&format!("{T}?consistency=fully_consistent"))
            .await));
    }
    assert!(revisions.windows(2).all(|w| w[0] == w[1]), "{revisions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_on_one_node_is_never_allowed_on_another_at_its_revision() {
    let pairs: usize = std::env::var("ROLECALL_NEW_ENEMY_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let c = Cluster::start(3).await;
    c.api(0)
        .post(&format!("{T}/users"), json!({"id": "eve"}), 201)
        .await;
    let (mut stale, mut checked) = (0, 0);
    for k in 0..pairs {
        let (a, b) = (c.api(k % 3), c.api((k + 1) % 3));
        let given = a
            .post(
                &format!("{T}/assignments"),
                json!({"id": format!("g{k}"), "principal": "eve", "role": "supervisor"}),
                201,
            )
            .await;
        let mut q = analytics("eve");
        q["at_least_revision"] = json!(rev(&given));
        let allowed = b.post(&format!("{T}/check"), q.clone(), 200).await;
        assert_eq!(allowed["allowed"], true, "pair {k}: the grant is not seen");
        let revoked = a
            .ok(Method::DELETE, &format!("{T}/assignments/g{k}"), None, 200)
            .await;
        q["at_least_revision"] = json!(rev(&revoked));
        let after = b.post(&format!("{T}/check"), q, 200).await;
        checked += 1;
        if after["allowed"] == true {
            stale += 1;
        }
    }
    eprintln!("new enemy: {checked} revoke/check pairs across nodes, {stale} stale allows");
    assert_eq!(
        stale, 0,
        "{stale} of {checked} checks allowed after the revoke"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_different_nodes() {
    let c = Cluster::start(2).await;
    c.api(0)
        .post(
            &format!("{T}/roles"),
            json!({"id": "shared", "type": "agent", "grants": {}}),
            201,
        )
        .await;
    // Optimistic versions across nodes: each writer reads the role where it writes.
    let mut tasks = Vec::new();
    for w in 0..4 {
        let api = c.api(w % 2);
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut conflicts) = (0u64, 0u64);
            for k in 0..15 {
                let role = api
                    .get(&format!("{T}/roles/shared?consistency=fully_consistent"))
                    .await;
                let grants = if (w + k) % 2 == 0 {
                    json!({"Create custom tags": true})
                } else {
                    json!({})
                };
                let (status, body) = api
                    .call(
                        Method::PUT,
                        &format!("{T}/roles/shared"),
                        Some(json!({"version": role["version"], "grants": grants})),
                    )
                    .await;
                match status {
                    200 => ok += 1,
                    409 => conflicts += 1,
                    other => panic!("writer {w}: {other} {body}"),
                }
            }
            (ok, conflicts)
        }));
    }
    // Meanwhile, unconditional writes through both nodes: none may be refused.
    for k in 0..20 {
        c.api(k % 2)
            .post(&format!("{T}/users"), json!({"id": format!("c{k}")}), 201)
            .await;
    }
    let (mut ok, mut conflicts) = (0, 0);
    for t in tasks {
        let (o, x) = t.await.unwrap();
        ok += o;
        conflicts += x;
    }
    assert!(ok > 0, "no versioned write succeeded");
    // No lost update: every successful write made exactly one new version, and both
    // nodes agree on it.
    for i in 0..2 {
        let role = c
            .api(i)
            .get(&format!("{T}/roles/shared?consistency=fully_consistent"))
            .await;
        assert_eq!(role["version"], json!(1 + ok), "node {i}: {role}");
    }
    eprintln!("versioned writes: {ok} succeeded, {conflicts} refused as stale (409)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_and_restarted_catches_up() {
    let mut c = Cluster::start(2).await;
    for k in 0..10 {
        c.api(k % 2)
            .post(
                &format!("{T}/users"),
                json!({"id": format!("before{k}")}),
                201,
            )
            .await;
    }
    let killed = c.nodes.remove(1);
    killed.kill().await;
    let mut last = 0;
    for k in 0..100 {
        last = rev(&c
            .api(0)
            .post(
                &format!("{T}/users"),
                json!({"id": format!("during{k}")}),
                201,
            )
            .await);
    }
    c.nodes.push(Server::start(&c.url, &[]).await);
    let back = c.api(1);
    let seen = rev(&back.get(T).await);
    assert_eq!(
        seen, last,
        "the restarted node starts at the store's revision"
    );
    let users = back.get(&format!("{T}/users")).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 110);
    // And it follows again.
    let w = c
        .api(0)
        .post(&format!("{T}/users"), json!({"id": "after"}), 201)
        .await;
    visible_within(&back, &format!("{T}/users/after"), Duration::from_secs(5)).await;
    assert_eq!(rev(&back.get(T).await), rev(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_one_sqlite_file_is_refused() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("one.db").display());
    let first = Server::start(&url, &[]).await;
    let second = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_rolecall"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
            .env("RUST_LOG", "warn")
            .env_remove("ROLECALL_CONFIG")
            .env_remove("ROLECALL_DEMO")
            .output(),
    )
    .await
    .expect("the second process exits at once")
    .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(err.contains("another rolecall process"), "{err}");
    assert!(
        err.contains("SQLite serves one process per database file"),
        "{err}"
    );
    // The first one goes on serving.
    first.api("none").call(Method::GET, "/healthz", None).await;
    assert_eq!(first.stop().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_stops_and_starts_under_a_running_node() {
    let Some(pg) = PgCluster::start() else {
        panic!("this test needs PostgreSQL's binaries (initdb, pg_ctl) under /usr/lib/postgresql");
    };
    let node = Server::start(&pg.url(), &[]).await;
    let op = node.api(&node.operator_token().unwrap());
    op.post(
        "/v1/tenants",
        json!({"id": "acme", "profile": "goto-contact-center"}),
        201,
    )
    .await;
    op.post(&format!("{T}/users"), json!({"id": "sid"}), 201)
        .await;
    op.post(
        &format!("{T}/assignments"),
        json!({"principal": "sid", "role": "supervisor"}),
        201,
    )
    .await;
    let mut acknowledged = vec!["sid".to_owned()];
    for k in 0..5 {
        let id = format!("pre{k}");
        op.post(&format!("{T}/users"), json!({"id": id}), 201).await;
        acknowledged.push(id);
    }
    let before = rev(&op.get(T).await);

    pg.down();
    // Checks answer from memory, at the last known revision.
    let check = op.post(&format!("{T}/check"), analytics("sid"), 200).await;
    assert_eq!(check["allowed"], true);
    assert_eq!(rev(&check), before);
    // Writes are refused, 503 with Retry-After, and nothing is acknowledged.
    let res = op
        .client
        .post(format!("{}{T}/users", op.base))
        .bearer_auth(&op.token)
        .json(&json!({"id": "during"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    // Not ready, though alive.
    let (ready, why) = op.call(Method::GET, "/readyz", None).await;
    assert_eq!(ready, 503, "{why}");
    op.call(Method::GET, "/healthz", None).await;

    pg.up();
    // The node recovers by itself.
    let start = Instant::now();
    loop {
        let (s, _) = op.call(Method::GET, "/readyz", None).await;
        if s == 200 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "not ready again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    op.post(&format!("{T}/users"), json!({"id": "post"}), 201)
        .await;
    acknowledged.push("post".into());
    // No acknowledged write was lost; the refused one was not stored.
    let users = op
        .get(&format!("{T}/users?consistency=fully_consistent"))
        .await;
    let ids: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    for id in &acknowledged {
        assert!(ids.contains(&id.as_str()), "{id} lost: {ids:?}");
    }
    assert!(!ids.contains(&"during"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_not_reached_waits_the_configured_time_then_answers_503() {
    let db = PgDatabase::new().await;
    let node = Server::start(&db.url(), &["--revision-wait-ms", "4000"]).await;
    let op = node.api(&node.operator_token().unwrap());
    let created = op
        .post(
            "/v1/tenants",
            json!({"id": "acme", "profile": "goto-contact-center"}),
            201,
        )
        .await;
    op.post(&format!("{T}/users"), json!({"id": "sid"}), 201)
        .await;
    // A revision nobody has written: the node waits the configured 4 s (not the
    // default 2 s), then refuses rather than answer from an older state.
    let mut q = analytics("sid");
    q["at_least_revision"] = json!(rev(&created) + 1000);
    let start = Instant::now();
    let res = op
        .client
        .post(format!("{}{T}/check", op.base))
        .bearer_auth(&op.token)
        .json(&q)
        .send()
        .await
        .unwrap();
    let waited = start.elapsed();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "revision_unavailable", "{body}");
    assert!(waited >= Duration::from_millis(3900), "waited {waited:?}");
    // A revision reached answers at once, at that revision or later.
    q["at_least_revision"] = json!(rev(&created));
    let ok = op.post(&format!("{T}/check"), q, 200).await;
    assert!(rev(&ok) >= rev(&created));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_created_on_one_node_answers_at_once_on_another() {
    let db = PgDatabase::new().await;
    // A follower that polls rarely: only the request itself can find the new tenant.
    let flags = ["--follow-poll-ms", "600000"];
    let a = Server::start(&db.url(), &flags).await;
    let op = a.operator_token().unwrap();
    let b = Server::start(&db.url(), &flags).await;
    for k in 0..20 {
        let id = format!("t{k}");
        a.api(&op)
            .post(
                "/v1/tenants",
                json!({"id": id, "profile": "goto-contact-center"}),
                201,
            )
            .await;
        // The very next request on the other node, before any notification is due.
        b.api(&op).get(&format!("/v1/tenants/{id}/roles")).await;
    }
    // An unknown tenant is still 404.
    let (status, _) = b
        .api(&op)
        .call(Method::GET, "/v1/tenants/nope/roles", None)
        .await;
    assert_eq!(status, 404);
}
