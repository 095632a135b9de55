//! The real `rolecall serve` binary end to end, on SQLite and on PostgreSQL: a
//! tenant built and used over HTTP, a graceful stop on SIGTERM, a restart on the same
//! database that finds every acknowledged write, `rolecall token create` against that
//! database, and `serve --demo`.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/test` (or
//! `ROLECALL_TEST_DATABASE_URL`); each run uses a fresh schema, dropped afterwards.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use reqwest::Method;
use rolecall_store::Store as _;
use serde_json::{Value, json};

mod support;

use support::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

const T: &str = "/v1/tenants/acme";

fn check(principal: &str, action: &str, ty: &str, id: &str) -> Value {
    json!({"principal": principal, "action": action, "resource": {"type": ty, "id": id}})
}

fn idle(seconds: i64) -> Value {
    let mut c = check("alice", "session.auto_logout.due", "user", "alice");
    c["context"] = json!({"idle_seconds": seconds});
    c
}

/// The checks whose answers must survive a restart, with their expected answers.
fn decisions() -> Vec<(Value, bool)> {
    vec![
        (
            check("sam", "email_response.review", "email_response", "e1"),
            true,
        ),
        (
            check("alice", "email_response.review", "email_response", "e1"),
            false,
        ),
        // bob's Team Lead assignment has expired; e2 is submitted to him.
        (
            check("bob", "email_response.review", "email_response", "e2"),
            false,
        ),
        (
            check("sam", "email_response.review", "email_response", "e2"),
            false,
        ),
        (idle(1000), true),
        (idle(500), false),
        (check("admin", "staff.roles.manage", "tenant", "acme"), true),
        (check("sam", "staff.roles.manage", "tenant", "acme"), false),
    ]
}

/// Everything the operator reads of the tenant, for before/after comparisons.
async fn facts(op: &Api) -> Value {
    let mut out = serde_json::Map::new();
    for p in [
        "",
        "/roles",
        "/users",
        "/groups",
        "/org-units",
        "/queues",
        "/assignments",
        "/settings",
        "/tokens",
        "/relations?resource=email_response:e1",
        "/relations?resource=email_response:e2",
        "/resources/email_response",
        "/users/sam/permissions?resource=email_response:e1",
        "/changes",
    ] {
        let mut v = op.get(&format!("{T}{p}")).await;
        if let Some(list) = v.get_mut("assignments").and_then(Value::as_array_mut) {
            for a in list {
                a.as_object_mut().unwrap().remove("remaining_seconds");
            }
        }
        out.insert(p.to_owned(), v);
    }
    Value::Object(out)
}

async fn batch(op: &Api, at_least: u64) -> Value {
    let checks: Vec<Value> = decisions().into_iter().map(|(c, _)| c).collect();
    op.post(
        &format!("{T}/check/batch"),
        json!({"checks": checks, "at_least_revision": at_least}),
        200,
    )
    .await
}

/// Checks a write's answer: a revision above the last one, which it becomes.
fn bump(rev: &mut u64, v: &Value) {
    let r = v["revision"]
        .as_u64()
        .unwrap_or_else(|| panic!("no revision: {v}"));
    assert!(r > *rev, "revision {r} after {rev}");
    *rev = r;
}

/// The places where `a` and `b` differ, as `path: a != b`.
fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff(u, v, &p, out),
                    (u, v) => out.push(format!("{p}: {u:?} != {v:?}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff(u, v, &format!("{path}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} != {b}")),
    }
}

/// What a first run leaves for the second to verify.
struct Acknowledged {
    facts: Value,
    revision: u64,
    alice_token: String,
    revoked_token: String,
    cli_token: String,
}

/// The first life of the server: build a tenant and use it.
async fn first_run(srv: &Server, database_url: &str) -> Acknowledged {
    let op_token = srv
        .operator_token()
        .expect("a fresh database prints the operator token");
    assert!(op_token.starts_with("rc_"), "{op_token}");
    let op = srv.api(&op_token);
    let health = op.get("/healthz").await;
    assert_eq!(health["status"], json!("ok"));

    let t = op
        .post(
            "/v1/tenants",
            json!({"id": "acme", "name": "Acme Contact", "profile": "horizon-contact"}),
            201,
        )
        .await;
    assert_eq!(t["revision"], json!(1));
    assert_eq!(t["profile"], json!("horizon-contact"));
    let mut rev = 1;
    for b in [
        json!({"id": "hq", "kind": "company", "name": "HQ"}),
        json!({"id": "north", "kind": "site", "parent": "hq", "name": "North"}),
    ] {
        bump(&mut rev, &op.post(&format!("{T}/org-units"), b, 201).await);
    }
    for u in ["admin", "sam", "alice", "bob"] {
        bump(
            &mut rev,
            &op.post(
                &format!("{T}/users"),
                json!({"id": u, "name": u.to_uppercase(), "org_unit": "north"}),
                201,
            )
            .await,
        );
    }
    bump(
        &mut rev,
        &op.post(
            &format!("{T}/groups"),
            json!({"id": "team_a", "members": ["sam", "alice"]}),
            201,
        )
        .await,
    );
    bump(
        &mut rev,
        &op.post(
            &format!("{T}/queues"),
            json!({"id": "q1", "org_unit": "north", "members": ["alice", "bob"], "supervisors": ["sam"]}),
            201,
        )
        .await,
    );
    // A custom role: a copy of a template.
    bump(
        &mut rev,
        &op.post(
            &format!("{T}/roles"),
            json!({"id": "team_lead", "copy_of": "supervisor", "name": "Team Lead"}),
            201,
        )
        .await,
    );
    let role = op.get(&format!("{T}/roles/team_lead")).await;
    assert_eq!(role["template"], json!(false), "{role}");
    assert_eq!(role["version"], json!(1), "{role}");
    assert_eq!(role["name"], json!("Team Lead"), "{role}");
    let template = op.get(&format!("{T}/roles/supervisor")).await;
    assert_eq!(
        role["grants"], template["grants"],
        "a copy grants what the template grants"
    );

    // Assignments, one expiring in an hour and one already expired.
    let start = now();
    for b in [
        json!({"id": "as_admin", "principal": "admin", "role": "administrator"}),
        json!({"id": "as_alice", "principal": "alice", "role": "agent"}),
        json!({"id": "as_bob", "principal": "bob", "role": "agent"}),
        json!({"id": "as_sam", "principal": "sam", "role": "team_lead", "expires_at": start + 3600}),
        json!({"id": "as_bob_lead", "principal": "bob", "role": "team_lead", "expires_at": start - 60}),
    ] {
        bump(
            &mut rev,
            &op.post(&format!("{T}/assignments"), b, 201).await,
        );
    }
    let a = op.get(&format!("{T}/assignments/as_sam")).await;
    assert_eq!(a["expires_at"], json!(start + 3600));
    let left = a["remaining_seconds"].as_i64().unwrap();
    assert!((3000..=3600).contains(&left), "{a}");
    let a = op.get(&format!("{T}/assignments/as_bob_lead")).await;
    assert_eq!(a["remaining_seconds"], json!(0), "{a}");

    // Relations in bulk, conditioned on the revision.
    let tup = |r: &str, rel: &str, s: &str| json!({"resource": r, "relation": rel, "subject": s});
    let writes = json!([
        tup("email_response:e1", "submitter", "user:alice"),
        tup("email_response:e1", "reviewer", "user:sam"),
        tup("email_response:e1", "queue", "queue:q1"),
        tup("email_response:e2", "submitter", "user:alice"),
        tup("email_response:e2", "reviewer", "user:bob"),
        tup("email_response:e2", "queue", "queue:q1"),
    ]);
    let before = op.get(T).await["revision"].as_u64().unwrap();
    assert_eq!(before, rev);
    let r = op
        .post(
            &format!("{T}/relations"),
            json!({"writes": writes.clone(), "if_revision": before}),
            200,
        )
        .await;
    assert_eq!(r["revision"], json!(before + 1));
    bump(&mut rev, &r);
    let (status, body) = op
        .call(
            Method::POST,
            &format!("{T}/relations"),
            Some(json!({"writes": writes, "if_revision": before})),
        )
        .await;
    assert_eq!(status, 409, "a stale if_revision: {body}");
    assert_eq!(
        op.get(T).await["revision"],
        json!(rev),
        "a refused write moved the revision"
    );

    // A setting flips a decision at once.
    let d = op.post(&format!("{T}/check"), idle(1000), 200).await;
    assert_eq!(
        d["allowed"],
        json!(false),
        "1000 s idle is under the default 1800: {d}"
    );
    let r = op
        .ok(
            Method::PUT,
            &format!("{T}/settings"),
            Some(json!({"default_auto_logout_timeout": 600})),
            200,
        )
        .await;
    bump(&mut rev, &r);
    let mut c = idle(1000);
    c["at_least_revision"] = json!(rev);
    let d = op.post(&format!("{T}/check"), c, 200).await;
    assert_eq!(d["allowed"], json!(true), "{d}");
    assert_eq!(d["revision"], json!(rev), "{d}");

    // check / batch / explain / permissions, all reading at least the last write.
    for (c, want) in decisions() {
        let mut c2 = c.clone();
        c2["at_least_revision"] = json!(rev);
        let d = op.post(&format!("{T}/check"), c2, 200).await;
        assert_eq!(d["allowed"], json!(want), "{c}: {d}");
        assert!(d["revision"].as_u64().unwrap() >= rev);
    }
    let b = batch(&op, rev).await;
    let got: Vec<bool> = b["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["allowed"].as_bool().unwrap())
        .collect();
    let want: Vec<bool> = decisions().into_iter().map(|(_, w)| w).collect();
    assert_eq!(got, want, "{b}");
    assert_eq!(b["revision"], json!(rev));
    let mut c = check("sam", "email_response.review", "email_response", "e1");
    c["at_least_revision"] = json!(rev);
    let x = op.post(&format!("{T}/explain"), c, 200).await;
    assert_eq!(x["allowed"], json!(true), "{x}");
    let text = x["explanation"]["text"].as_str().unwrap();
    assert!(text.contains("Review Emails"), "{text}");
    let x = op
        .post(
            &format!("{T}/explain"),
            check("bob", "email_response.review", "email_response", "e2"),
            200,
        )
        .await;
    assert_eq!(x["allowed"], json!(false), "{x}");
    assert!(
        !x["explanation"]["reasons"].as_array().unwrap().is_empty(),
        "{x}"
    );
    let p = op
        .get(&format!(
            "{T}/users/sam/permissions?resource=email_response:e1&at_least_revision={rev}"
        ))
        .await;
    assert_eq!(p["revision"], json!(rev));
    let review = p["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == json!("email_response.review"))
        .unwrap_or_else(|| panic!("{p}"));
    assert_eq!(review["allowed"], json!(true), "{p}");
    assert!(
        p["privileges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == json!("Review Emails")),
        "{p}"
    );

    // A tenant token minted over the API, used, then revoked by its own user.
    let m = op
        .post(&format!("{T}/tokens"), json!({"principal": "sam"}), 201)
        .await;
    let sam = srv.api(m["token"].as_str().unwrap());
    let sam_id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(sam.get(T).await["revision"], json!(rev));
    let d = sam
        .post(
            &format!("{T}/check"),
            check("sam", "email_response.review", "email_response", "e1"),
            200,
        )
        .await;
    assert_eq!(d["allowed"], json!(true), "{d}");
    let (status, _) = sam.call(Method::GET, "/v1/tenants", None).await;
    assert_eq!(status, 403, "a tenant token lists no tenants");
    let (status, _) = sam
        .call(
            Method::POST,
            &format!("{T}/roles"),
            Some(json!({"id": "mine", "copy_of": "agent"})),
        )
        .await;
    assert_eq!(status, 403, "a team lead does not edit roles");
    sam.ok(Method::DELETE, &format!("{T}/tokens/{sam_id}"), None, 204)
        .await;
    let (status, body) = sam.call(Method::GET, T, None).await;
    assert_eq!(status, 401, "a revoked token: {body}");
    let m = op
        .post(&format!("{T}/tokens"), json!({"principal": "alice"}), 201)
        .await;
    let alice_token = m["token"].as_str().unwrap().to_owned();

    // `rolecall token create` against the same database, while the server runs.
    let o = rolecall(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--principal",
        "bob",
        "--database-url",
        database_url,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cli_token = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(cli_token.starts_with("rc_"), "{cli_token}");
    let bob = srv.api(&cli_token);
    assert_eq!(bob.get(T).await["revision"], json!(rev));
    let d = bob
        .post(
            &format!("{T}/check"),
            check("bob", "email_response.review", "email_response", "e2"),
            200,
        )
        .await;
    assert_eq!(d["allowed"], json!(false), "{d}");
    let o = rolecall(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--principal",
        "nobody",
        "--database-url",
        database_url,
    ]);
    assert!(!o.status.success(), "a token for an unknown user");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("nobody"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    Acknowledged {
        facts: facts(&op).await,
        revision: rev,
        alice_token,
        revoked_token: sam.token.clone(),
        cli_token,
    }
}

/// The second life: everything acknowledged is there, and it keeps working.
async fn second_run(srv: &Server, op_token: &str, ack: &Acknowledged) {
    assert!(
        srv.operator_token().is_none(),
        "a restart printed a new operator token: {:?}",
        srv.banner
    );
    let op = srv.api(op_token);
    assert_eq!(op.get(T).await["revision"], json!(ack.revision));
    let after = facts(&op).await;
    let mut d = Vec::new();
    diff(&ack.facts, &after, "", &mut d);
    assert!(
        d.is_empty(),
        "the state differs after a restart:\n  {}",
        d.join("\n  ")
    );
    let b = batch(&op, ack.revision).await;
    let got: Vec<bool> = b["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["allowed"].as_bool().unwrap())
        .collect();
    let want: Vec<bool> = decisions().into_iter().map(|(_, w)| w).collect();
    assert_eq!(got, want, "decisions differ after a restart: {b}");
    assert_eq!(b["revision"], json!(ack.revision));
    // Tokens: kept ones work, the revoked one stays revoked.
    assert_eq!(
        srv.api(&ack.alice_token).get(T).await["revision"],
        json!(ack.revision)
    );
    assert_eq!(
        srv.api(&ack.cli_token).get(T).await["revision"],
        json!(ack.revision)
    );
    let (status, _) = srv.api(&ack.revoked_token).call(Method::GET, T, None).await;
    assert_eq!(status, 401, "a revoked token came back after a restart");
    // And writes go on from there.
    let r = op
        .ok(
            Method::PUT,
            &format!("{T}/settings"),
            Some(json!({"default_auto_logout_timeout": 1800})),
            200,
        )
        .await;
    assert_eq!(r["revision"], json!(ack.revision + 1));
    let mut c = idle(1000);
    c["at_least_revision"] = json!(ack.revision + 1);
    let d = op.post(&format!("{T}/check"), c, 200).await;
    assert_eq!(d["allowed"], json!(false), "{d}");
}

async fn scenario(database_url: &str, backend: &str) {
    let srv = Server::start(database_url, &[]).await;
    let op_token = srv.operator_token().unwrap();
    let health = srv.api(&op_token).get("/healthz").await;
    assert_eq!(health["backend"], json!(backend), "{health}");
    let ack = first_run(&srv, database_url).await;
    let status = srv.stop().await;
    assert!(status.success(), "SIGTERM ended rolecall with {status}");

    let srv = Server::start(database_url, &[]).await;
    second_run(&srv, &op_token, &ack).await;
    let stderr = srv.stderr.clone();
    let status = srv.stop().await;
    assert!(
        status.success(),
        "SIGTERM ended rolecall with {status}; stderr:\n{}",
        stderr.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("rolecall.db").display());
    scenario(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_postgres() {
    let schema = PgSchema::new().await;
    let url = schema.url();
    scenario(&url, "postgres").await;
    // The data went to the test's schema, through the URL's search_path.
    let store = rolecall_store::postgres::PgStore::connect_in_schema(&schema.base, &schema.schema)
        .await
        .unwrap();
    let tenants = store.list_tenants().await.unwrap();
    store.close().await;
    assert!(
        tenants.iter().any(|t| t.id == "acme"),
        "tenant `acme` is not in schema {}",
        schema.schema
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_creates_the_demo_tenants_and_prints_their_tokens() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("demo.db").display());
    let srv = Server::start(&url, &["--demo"]).await;
    let op = srv.api(&srv.operator_token().expect("the operator token"));
    // `demo tenant `demo-X` (Name): tokens` then `    user   rc_…` lines.
    let mut admins: Vec<(String, String)> = Vec::new();
    let mut current: Option<String> = None;
    for l in &srv.banner {
        if let Some(rest) = l.strip_prefix("demo tenant `") {
            current = rest.split('`').next().map(str::to_owned);
        } else if let (Some(t), Some(("admin", secret))) = (
            &current,
            l.trim().split_once(' ').map(|(u, s)| (u, s.trim())),
        ) {
            admins.push((t.clone(), secret.to_owned()));
        }
    }
    let profiles = [
        "contact-center-pro",
        "phones-pro",
        "zoom-contact-center",
        "goto-contact-center",
        "horizon-contact",
    ];
    let mut tenants: Vec<&str> = admins.iter().map(|(t, _)| t.as_str()).collect();
    tenants.sort_unstable();
    let mut want: Vec<String> = profiles.iter().map(|p| format!("demo-{p}")).collect();
    want.sort();
    assert_eq!(
        tenants, want,
        "demo tenants with an admin token; stdout: {:?}",
        srv.banner
    );
    for (t, secret) in &admins {
        assert!(secret.starts_with("rc_"), "{t}: {secret}");
        let admin = srv.api(secret);
        let info = admin.get(&format!("/v1/tenants/{t}")).await;
        assert_eq!(
            format!("demo-{}", info["profile"].as_str().unwrap()),
            *t,
            "{info}"
        );
        assert!(
            info["revision"].as_u64().unwrap() > 1,
            "{t} has content: {info}"
        );
        let users = admin.get(&format!("/v1/tenants/{t}/users")).await;
        assert!(
            !users["items"].as_array().unwrap().is_empty(),
            "{t}: {users}"
        );
        // An admin token is its tenant's only.
        let other = admins.iter().find(|(o, _)| o != t).unwrap();
        let (status, _) = admin
            .call(Method::GET, &format!("/v1/tenants/{}", other.0), None)
            .await;
        assert_eq!(status, 404, "{t}'s admin reads {}", other.0);
    }
    let list = op.get("/v1/tenants").await;
    assert_eq!(list["tenants"].as_array().unwrap().len(), 5, "{list}");
    let status = srv.stop().await;
    assert!(status.success(), "{status}");

    // A second `--demo` start leaves the tenants as they are and prints no tokens.
    let srv = Server::start(&url, &["--demo"]).await;
    assert!(
        !srv.banner.iter().any(|l| l.contains("rc_")),
        "a restart printed tokens: {:?}",
        srv.banner
    );
    let list = op_again(&srv, &op).await;
    assert_eq!(list["tenants"].as_array().unwrap().len(), 5, "{list}");
    let later = srv.later.clone();
    let status = srv.stop().await;
    assert!(status.success(), "{status}");
    assert!(
        !later.lock().unwrap().iter().any(|l| l.contains("rc_")),
        "tokens printed after startup"
    );
}

async fn op_again(srv: &Server, old: &Api) -> Value {
    srv.api(&old.token).get("/v1/tenants").await
}

/// Where `rolecall audit verify` looks, for tampering with the stored trail.
enum Db<'a> {
    Sqlite(&'a str),
    Postgres(&'a PgSchema),
}

/// Runs `sql` on the database directly (the store's `execute_raw` test hook), outside
/// every rule the store keeps. Returns the rows affected.
async fn execute_raw(db: &Db<'_>, sql: &str) -> u64 {
    match db {
        Db::Sqlite(url) => {
            let store = rolecall_store::sqlite::SqliteStore::open(url)
                .await
                .unwrap();
            let n = store.execute_raw(sql).await.unwrap();
            store.close().await;
            n
        }
        Db::Postgres(pg) => {
            let store = rolecall_store::postgres::PgStore::connect_in_schema(&pg.base, &pg.schema)
                .await
                .unwrap();
            let n = store.execute_raw(sql).await.unwrap();
            store.close().await;
            n
        }
    }
}

fn audit_verify(url: &str, tenant: &str) -> (Option<i32>, String, String) {
    let out = rolecall(&["audit", "verify", "--database-url", url, "--tenant", tenant]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `rolecall audit verify` on the database a running server writes: exit 0 while the
/// chain is intact; after a stored entry is altered, exit 1 naming that entry (and the
/// server's `/audit/verify` agrees); exit 2 for an unknown tenant.
async fn audit_verify_scenario(url: &str, db: Db<'_>) {
    let srv = Server::start(url, &[]).await;
    let op = srv.api(&srv.operator_token().unwrap());
    op.post(
        "/v1/tenants",
        json!({"id": "acme", "profile": "horizon-contact"}),
        201,
    )
    .await;
    for u in ["alice", "bob", "carol"] {
        op.post(&format!("{T}/users"), json!({"id": u}), 201).await;
    }
    op.post(
        &format!("{T}/roles"),
        json!({"id": "lead", "grants": {"Supervisor Agent Control": true}}),
        201,
    )
    .await;
    op.post(
        &format!("{T}/assignments"),
        json!({"principal": "alice", "role": "supervisor", "expires_at": now() + 3600}),
        201,
    )
    .await;
    op.post(
        &format!("{T}/assignments"),
        json!({"principal": "bob", "role": "lead"}),
        201,
    )
    .await;
    let trail = op.get(&format!("{T}/audit?limit=10000")).await;
    let n = trail["entries"].as_array().unwrap().len();
    assert!(n >= 6, "{trail}");

    let (code, stdout, stderr) = audit_verify(url, "acme");
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("intact"), "{stdout}");
    assert!(stdout.contains(&format!("{n} entries")), "{stdout}");

    // Alter the fourth entry's target in the database.
    let altered = execute_raw(
        &db,
        "UPDATE audit SET target = 'user:mallory' WHERE tenant = 'acme' AND seq = 4",
    )
    .await;
    assert_eq!(altered, 1);
    let (code, stdout, stderr) = audit_verify(url, "acme");
    assert_eq!(code, Some(1), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("ALTERED"), "{stdout}");
    assert!(stdout.contains("entry 4 "), "{stdout}");
    assert!(stdout.contains("acme"), "{stdout}");
    let v = op.get(&format!("{T}/audit/verify")).await;
    assert_eq!(v["intact"], json!(false), "{v}");
    assert_eq!(v["first_bad_seq"], json!(4), "{v}");

    // An earlier alteration is the one reported.
    execute_raw(
        &db,
        "UPDATE audit SET actor = 'user:mallory' WHERE tenant = 'acme' AND seq = 2",
    )
    .await;
    let (code, stdout, _) = audit_verify(url, "acme");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("entry 2 "), "{stdout}");

    let (code, stdout, stderr) = audit_verify(url, "nobody");
    assert_eq!(code, Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("nobody"), "{stderr}");

    let status = srv.stop().await;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_sqlite() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("rolecall.db").display());
    audit_verify_scenario(&url, Db::Sqlite(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_postgres() {
    let schema = PgSchema::new().await;
    let url = schema.url();
    audit_verify_scenario(&url, Db::Postgres(&schema)).await;
}
