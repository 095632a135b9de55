//! SIGKILL crash cycles against the real `rolecall serve`, on SQLite and on PostgreSQL:
//! a few client tasks fire concurrent writes (users, custom roles, assignments, token
//! mints and revocations, tenant creations, deletions of users holding a token), the process is killed with SIGKILL at a
//! random moment, restarted on the same database, and then:
//!
//! - every acknowledged write is there (users, roles, tenants, tokens; acknowledged
//!   revocations, and the tokens of acknowledged user deletions, are revoked and
//!   refused by the restarted server);
//! - the change log's revisions are contiguous, up to the tenant's revision;
//! - there is one audit entry per change and per security event: every revision of
//!   the log has its entries and no entry names a revision the log does not have;
//!   every tenant has exactly one `tenant.create`; every stored token exactly one
//!   `token.create`, every revoked token exactly one `token.revoke`, and no entry
//!   names a token that is not stored;
//! - every tenant's audit chain verifies.
//!
//! Five cycles per backend run in CI; `ROLECALL_CRASH_CYCLES` sets the number, and the
//! ignored `*_long` tests run 100 (`cargo test -p rolecall-cli --test crash -- --ignored`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use rolecall_store::{AuditFilter, AuditRecord, Store};
use serde_json::{Value, json};
use support::*;

const T: &str = "/v1/tenants/acme";

/// What the server acknowledged (a 2xx answer was received).
#[derive(Debug, Default)]
struct Acked {
    users: Vec<String>,
    roles: Vec<String>,
    tenants: Vec<String>,
    /// Minted tokens: (id, secret).
    tokens: Vec<(String, String)>,
    revoked: Vec<String>,
    /// Users deleted (their tokens with them).
    deleted: Vec<String>,
    writes: u64,
}

/// A small deterministic generator (xorshift), seeded per run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    nanos | 1
}

/// One client task: writes until the server stops answering.
async fn client(base: String, op: String, cycle: usize, task: usize, acked: Arc<Mutex<Acked>>) {
    let api = Api {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        base,
        token: op,
    };
    let mut my_users: Vec<String> = Vec::new();
    let mut my_tokens: Vec<String> = Vec::new();
    for n in 0.. {
        let name = format!("c{cycle}_{task}_{n}");
        if n % 7 == 6 {
            // A user with a token, then the user deleted: the token dies with it.
            if !doomed_user(&api, &name, &acked).await {
                return;
            }
            continue;
        }
        let (method, path, body) = match n % 7 {
            0 => (
                Method::POST,
                format!("{T}/users"),
                Some(json!({"id": name})),
            ),
            1 => (
                Method::POST,
                format!("{T}/roles"),
                Some(json!({"id": name, "copy_of": "agent"})),
            ),
            2 => match my_users.last() {
                Some(u) => (
                    Method::POST,
                    format!("{T}/assignments"),
                    Some(json!({"id": name, "principal": u, "role": "agent"})),
                ),
                None => continue,
            },
            3 => match my_users.last() {
                Some(u) => (
                    Method::POST,
                    format!("{T}/tokens"),
                    Some(json!({"principal": u})),
                ),
                None => continue,
            },
            4 => match my_tokens.first() {
                Some(id) => (Method::DELETE, format!("{T}/tokens/{id}"), None),
                None => continue,
            },
            _ => (
                Method::POST,
                "/v1/tenants".to_owned(),
                Some(json!({"id": name, "profile": "goto-contact-center"})),
            ),
        };
        // The server was killed: what was not answered was not acknowledged.
        let Some(v) = send(&api, method, &path, body).await else {
            return;
        };
        let mut a = acked.lock().unwrap();
        a.writes += 1;
        match n % 7 {
            0 => {
                a.users.push(name.clone());
                my_users.push(name);
            }
            1 => a.roles.push(name),
            2 => {}
            3 => {
                let id = v["id"].as_str().unwrap().to_owned();
                a.tokens
                    .push((id.clone(), v["token"].as_str().unwrap().to_owned()));
                my_tokens.push(id);
            }
            4 => {
                let id = my_tokens.remove(0);
                a.revoked.push(id);
            }
            _ => a.tenants.push(name),
        }
    }
}

/// Sends one request; `None` when the server did not answer (killed). A 2xx answer is
/// required otherwise.
async fn send(api: &Api, method: Method, path: &str, body: Option<Value>) -> Option<Value> {
    let mut rb = api
        .client
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(&api.token);
    if let Some(b) = &body {
        rb = rb.json(b);
    }
    let res = rb.send().await.ok()?;
    let status = res.status().as_u16();
    let text = res.text().await.ok()?;
    assert!(
        (200..300).contains(&status),
        "{path} {body:?}: {status} {text}"
    );
    Some(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates user `d_<name>`, mints a token for it and deletes it, recording what was
/// acknowledged; false once the server stops answering.
async fn doomed_user(api: &Api, name: &str, acked: &Mutex<Acked>) -> bool {
    let user = format!("d_{name}");
    if send(
        api,
        Method::POST,
        &format!("{T}/users"),
        Some(json!({"id": user})),
    )
    .await
    .is_none()
    {
        return false;
    }
    acked.lock().unwrap().writes += 1;
    let Some(minted) = send(
        api,
        Method::POST,
        &format!("{T}/tokens"),
        Some(json!({"principal": user})),
    )
    .await
    else {
        return false;
    };
    let id = minted["id"].as_str().unwrap().to_owned();
    let secret = minted["token"].as_str().unwrap().to_owned();
    acked.lock().unwrap().tokens.push((id.clone(), secret));
    if send(api, Method::DELETE, &format!("{T}/users/{user}"), None)
        .await
        .is_none()
    {
        return false;
    }
    let mut a = acked.lock().unwrap();
    a.writes += 1;
    a.revoked.push(id);
    a.deleted.push(user);
    true
}

/// Every token row of a tenant: (id, revoked), read directly from the database.
async fn token_rows(url: &str, tenant: &str) -> Vec<(String, bool)> {
    const SQL: &str = "SELECT id, CAST(CASE WHEN revoked THEN 1 ELSE 0 END AS BIGINT) \
                       FROM tokens WHERE tenant = $1 ORDER BY id";
    let rows: Vec<(String, i64)> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let r = sqlx::query_as(SQL)
            .bind(tenant)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let r = sqlx::query_as(SQL)
            .bind(tenant)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    };
    rows.into_iter().map(|(id, r)| (id, r != 0)).collect()
}

async fn audit_of(store: &dyn Store, tenant: &str) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    loop {
        let page = store
            .audit(
                tenant,
                &AuditFilter {
                    after_seq: out.last().map(|r: &AuditRecord| r.seq),
                    limit: 10_000,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// The token id an audit entry's JSON names (`{"token": id}`).
fn token_of(json: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(json?).ok()?;
    v["token"].as_str().map(str::to_owned)
}

/// Every invariant of the module documentation, on the database after a restart;
/// returns the tenant's tokens as stored (id → revoked).
async fn check(url: &str, acked: &Acked) -> BTreeMap<String, bool> {
    let store = rolecall_engine::open_store(url).await.unwrap();
    let tenants: BTreeSet<String> = store
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    for t in &acked.tenants {
        assert!(tenants.contains(t), "acknowledged tenant `{t}` lost");
    }
    for t in &tenants {
        let audit = audit_of(&*store, t).await;
        let created: Vec<&AuditRecord> = audit
            .iter()
            .filter(|e| e.action == "tenant.create")
            .collect();
        assert_eq!(created.len(), 1, "tenant `{t}`: its tenant.create entries");
        assert_eq!(created[0].target, format!("tenant:{t}"));
        let v = store.verify_audit(t).await.unwrap();
        assert_eq!(v.first_bad, None, "tenant `{t}`: audit chain broken");
    }

    let state = store.load_state("acme").await.unwrap().state;
    let users: BTreeSet<&str> = state
        .entities
        .iter()
        .filter(|e| e.ty == "user")
        .map(|e| e.id.as_str())
        .collect();
    for u in &acked.users {
        assert!(users.contains(u.as_str()), "acknowledged user `{u}` lost");
    }
    for u in &acked.deleted {
        assert!(!users.contains(u.as_str()), "deleted user `{u}` is back");
    }
    let roles: BTreeSet<&str> = state.roles.iter().map(|r| r.id.as_str()).collect();
    for r in &acked.roles {
        assert!(roles.contains(r.as_str()), "acknowledged role `{r}` lost");
    }

    // The change log: contiguous revisions up to the tenant's (every write here
    // changes something, so every revision after creation has rows).
    let revision = store.revision("acme").await.unwrap();
    let log = store.changes_since("acme", 0, u32::MAX).await.unwrap();
    let log_revisions: BTreeSet<u64> = log.iter().map(|c| c.revision).collect();
    let want: BTreeSet<u64> = (2..=revision).collect();
    assert_eq!(log_revisions, want, "change-log revisions not contiguous");

    // One audit entry per change: each change revision has its entries, and no change
    // entry names a revision the log lacks.
    let audit = audit_of(&*store, "acme").await;
    let security = |a: &str| {
        a.starts_with("token.") || a.starts_with("credential.") || a.starts_with("tenant.")
    };
    let audited: BTreeSet<u64> = audit
        .iter()
        .filter(|e| !security(&e.action))
        .map(|e| e.revision)
        .collect();
    assert_eq!(
        audited, log_revisions,
        "change revisions and their audit entries"
    );
    for u in &acked.users {
        let target = format!("user:{u}");
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.action == "user.create" && e.target == target)
                .count(),
            1,
            "user `{u}`: its user.create entries"
        );
    }

    // Tokens: one token.create per stored token, one token.revoke per revoked one, and
    // none for a token that is not stored.
    let rows = token_rows(url, "acme").await;
    let stored: BTreeMap<String, bool> = rows.into_iter().collect();
    let mut creates: BTreeMap<String, usize> = BTreeMap::new();
    let mut revokes: BTreeMap<String, usize> = BTreeMap::new();
    for e in &audit {
        match e.action.as_str() {
            "token.create" => {
                *creates
                    .entry(token_of(e.after.as_deref()).unwrap())
                    .or_default() += 1;
            }
            "token.revoke" => {
                *revokes
                    .entry(token_of(e.before.as_deref()).unwrap())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    for (id, revoked) in &stored {
        assert_eq!(creates.get(id), Some(&1), "token `{id}`: its token.create");
        let want = usize::from(*revoked);
        assert_eq!(
            revokes.get(id).copied().unwrap_or(0),
            want,
            "token `{id}` (revoked: {revoked}): its token.revoke entries"
        );
    }
    for id in creates.keys().chain(revokes.keys()) {
        assert!(
            stored.contains_key(id),
            "an entry names token `{id}`, not stored"
        );
    }
    for (id, _) in &acked.tokens {
        assert!(stored.contains_key(id), "acknowledged token `{id}` lost");
    }
    for id in &acked.revoked {
        assert_eq!(
            stored.get(id),
            Some(&true),
            "acknowledged revocation of `{id}` lost"
        );
    }
    stored
}

/// `cycles` crash cycles on the database at `url`.
async fn crash_cycles(url: &str, cycles: usize) {
    let mut rng = Rng(seed());
    let first = Server::start(url, &[]).await;
    let op = first.operator_token().expect("a fresh database mints one");
    first
        .api(&op)
        .post(
            "/v1/tenants",
            json!({"id": "acme", "profile": "goto-contact-center"}),
            201,
        )
        .await;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut server = first;
    for cycle in 0..cycles {
        let tasks: Vec<_> = (0..4)
            .map(|task| {
                tokio::spawn(client(
                    server.base.clone(),
                    op.clone(),
                    cycle,
                    task,
                    acked.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1000))).await;
        server.kill().await;
        for t in tasks {
            t.await.unwrap();
        }
        server = Server::start(url, &[]).await;
        let snapshot = std::mem::take(&mut *acked.lock().unwrap());
        eprintln!(
            "cycle {cycle}: {} writes acknowledged so far ({} users, {} tenants, {} tokens, {} revocations, {} users deleted)",
            snapshot.writes,
            snapshot.users.len(),
            snapshot.tenants.len(),
            snapshot.tokens.len(),
            snapshot.revoked.len(),
            snapshot.deleted.len()
        );
        let stored = check(url, &snapshot).await;
        // The restarted server refuses an acknowledged revocation and accepts a token
        // minted and never revoked (an unanswered revocation may have committed).
        let api = |token: &str| server.api(token);
        if let Some(id) = snapshot.revoked.last() {
            let secret = &snapshot.tokens.iter().find(|(t, _)| t == id).unwrap().1;
            let (status, _) = api(secret).call(Method::GET, "/v1/whoami", None).await;
            assert_eq!(status, 401, "revoked token `{id}` accepted after restart");
        }
        if let Some((id, secret)) = snapshot
            .tokens
            .iter()
            .find(|(t, _)| stored.get(t) == Some(&false))
        {
            let (status, v) = api(secret).call(Method::GET, "/v1/whoami", None).await;
            assert_eq!(status, 200, "token `{id}` refused after restart: {v}");
        }
        *acked.lock().unwrap() = snapshot;
    }
    server.stop().await;
}

fn cycles(default: usize) -> usize {
    std::env::var("ROLECALL_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_cycles_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("rolecall.db").display());
    crash_cycles(&url, cycles(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_cycles_postgres() {
    let db = PgDatabase::new().await;
    crash_cycles(&db.url(), cycles(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 100 SIGKILL cycles"]
async fn sigkill_cycles_sqlite_long() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("rolecall.db").display());
    crash_cycles(&url, cycles(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 100 SIGKILL cycles"]
async fn sigkill_cycles_postgres_long() {
    let db = PgDatabase::new().await;
    crash_cycles(&db.url(), cycles(100)).await;
}
