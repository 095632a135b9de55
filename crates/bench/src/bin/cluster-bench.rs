//! Several `rolecall serve` processes (release build) on one PostgreSQL database, as a
//! platform team runs them behind a load balancer:
//!
//! - **visible**: a write acknowledged by one node, then checks on another node until
//!   it answers at that revision or later (the time from the acknowledgement);
//! - **throughput**: single checks from 32 concurrent clients spread over 1, 2 and 3
//!   nodes (every node and the client share this machine's cores);
//! - **catch-up**: a node stopped with SIGSTOP while 100,000 relation changes are
//!   committed (100 revisions of 1,000 through the store), then SIGCONT: the time until
//!   it answers at the last revision; then the same after 12,000 one-change revisions
//!   (more than the engine replays, so the node reloads from the store instead).
//!
//! The benchmark creates its own database on the server it is given and drops it after.
//!
//! `cargo build --release -p rolecall-cli && cargo run --release -p rolecall-bench --bin
//! cluster-bench -- [--users 10000] [--writes 300] [--seconds 5] [--bulk 100] [--single 12000]`
//! (`ROLECALL_BENCH_PG`, default `postgres://postgres@127.0.0.1:5432/postgres`, names the
//! server.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rolecall_bench::app::{SEEDED_AT, mint, post, seed_app_tenant};
use rolecall_bench::flag;
use rolecall_bench::process::{Server, start_server};
use rolecall_bench::stats::summarize;
use rolecall_core::change::Tuple;
use rolecall_store::{Change, Store};
use sqlx::Connection as _;

type Result<T> = std::result::Result<T, String>;

/// The benchmark's own database on the server `admin_url` names, dropped at the end.
struct Database {
    admin_url: String,
    name: String,
}

impl Database {
    async fn create(admin_url: &str) -> Result<Database> {
        let name = format!("rc_cluster_bench_{}", std::process::id());
        admin(admin_url, &format!("CREATE DATABASE \"{name}\"")).await?;
        Ok(Database {
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    fn url(&self) -> String {
        let (head, query) = match self.admin_url.split_once('?') {
            Some((h, q)) => (h, format!("?{q}")),
            None => (self.admin_url.as_str(), String::new()),
        };
        let server = head.rsplit_once('/').map_or(head, |(s, _)| s);
        format!("{server}/{}{query}", self.name)
    }

    async fn drop_now(self) -> Result<()> {
        admin(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        )
        .await
    }
}

async fn admin(url: &str, sql: &str) -> Result<()> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let _ = conn.close().await;
    Ok(())
}

/// A check the application asks on a node; the node's answer carries its revision.
async fn revision_on(client: &reqwest::Client, node: &str, svc: &str) -> Result<u64> {
    let body = serde_json::json!({"principal": "u1", "action": "hold.p1",
        "resource": {"type": "tenant", "id": "bench"}});
    let v = post(client, &format!("{node}/check"), svc, &body).await?;
    v.get("revision")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| format!("no revision in {v}"))
}

/// Checks on `node` until it answers at `revision` or later; the time it took.
async fn until_visible(
    client: &reqwest::Client,
    node: &str,
    svc: &str,
    revision: u64,
    limit: Duration,
) -> Result<Duration> {
    let t = Instant::now();
    loop {
        if revision_on(client, node, svc).await? >= revision {
            return Ok(t.elapsed());
        }
        if t.elapsed() > limit {
            return Err(format!(
                "{node} did not reach revision {revision} in {limit:?}"
            ));
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn signal(server: &Server, sig: &str) -> Result<()> {
    let ok = std::process::Command::new("kill")
        .args([sig, &server.pid().to_string()])
        .status()
        .map_err(|e| e.to_string())?
        .success();
    if ok {
        Ok(())
    } else {
        Err(format!("kill {sig} failed"))
    }
}

/// Single checks from `clients` concurrent clients, round-robin over `nodes`, for
/// `seconds`: checks per second.
async fn throughput(
    nodes: &[String],
    svc: &str,
    users: usize,
    clients: usize,
    seconds: u64,
) -> Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let node = nodes.get(c % nodes.len()).cloned().unwrap_or_default();
        let (stop, done, svc) = (stop.clone(), done.clone(), svc.to_owned());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let url = format!("{node}/check");
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                i = i.wrapping_mul(2_654_435_761).wrapping_add(1) % 1_000_003;
                let body = serde_json::json!({"principal": format!("u{}", i % users),
                    "action": format!("hold.p{}", i % 200),
                    "resource": {"type": "tenant", "id": "bench"}});
                if post(&client, &url, &svc, &body).await.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / seconds as f64)
}

/// Commits `revisions` revisions of `per` new conversations each (one `agent` tuple
/// each) straight through the store, as other nodes' writes would; the last revision.
async fn commit_changes(
    store: &dyn Store,
    tag: &str,
    revisions: usize,
    per: usize,
    users: usize,
) -> Result<u64> {
    let mut last = 0;
    for r in 0..revisions {
        let changes: Vec<Change> = (0..per)
            .map(|i| {
                Change::PutRelation(Tuple {
                    rtype: "conversation".into(),
                    rid: format!("{tag}{r}_{i}"),
                    relation: "agent".into(),
                    stype: "user".into(),
                    sid: format!("u{}", (r * per + i) % users),
                })
            })
            .collect();
        last = store
            .apply("bench", None, &changes, "bench", SEEDED_AT)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(last)
}

async fn catch_up(
    store: &dyn Store,
    client: &reqwest::Client,
    node: &Server,
    svc: &str,
    (tag, revisions, per, users): (&str, usize, usize, usize),
) -> Result<()> {
    let base = format!("{}/v1/tenants/bench", node.base);
    signal(node, "-STOP")?;
    let t = Instant::now();
    let last = commit_changes(store, tag, revisions, per, users).await;
    let committed = t.elapsed();
    signal(node, "-CONT")?;
    let last = last?;
    let t = until_visible(client, &base, svc, last, Duration::from_secs(300)).await?;
    println!(
        "catch-up  {revisions} revisions x {per} changes ({} changes; committed in {:.1} s while the node was stopped): at revision {last} {:.0} ms after SIGCONT",
        revisions * per,
        committed.as_secs_f64(),
        ms(t)
    );
    Ok(())
}

async fn bench(db_url: &str, bin: &str, args: &[String]) -> Result<()> {
    let users = flag(args, "--users", 10_000);
    let writes = flag(args, "--writes", 300);
    let seconds = flag(args, "--seconds", 5) as u64;
    let bulk = flag(args, "--bulk", 100);
    let single = flag(args, "--single", 12_000);
    let store = rolecall_engine::open_store(db_url)
        .await
        .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    seed_app_tenant(store.as_ref(), users).await?;
    eprintln!(
        "seeded {users} users in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let op = mint(bin, db_url, None)?;
    let svc = mint(bin, db_url, Some("svc"))?;
    let nodes: Vec<Server> = (0..3)
        .map(|_| start_server(bin, db_url))
        .collect::<Result<_>>()?;
    let bases: Vec<String> = nodes
        .iter()
        .map(|n| format!("{}/v1/tenants/bench", n.base))
        .collect();
    let client = reqwest::Client::new();
    for b in &bases {
        revision_on(&client, b, &svc).await?;
    }

    // Write on one node, visible on the next.
    let mut lat = Vec::new();
    let mut ack = Vec::new();
    for i in 0..writes {
        let (a, b) = (i % 3, (i + 1) % 3);
        let (Some(on), Some(other)) = (bases.get(a), bases.get(b)) else {
            break;
        };
        let body = serde_json::json!({"id": format!("x{i}"), "principal": format!("u{}", (i * 7919) % users), "role": "svc"});
        let t = Instant::now();
        let v = post(&client, &format!("{on}/assignments"), &op, &body).await?;
        ack.push(ms(t.elapsed()));
        let r = v
            .get("revision")
            .and_then(serde_json::Value::as_u64)
            .ok_or("no revision in the write's answer")?;
        lat.push(ms(until_visible(
            &client,
            other,
            &svc,
            r,
            Duration::from_secs(10),
        )
        .await?));
    }
    let s = summarize(&mut ack);
    println!(
        "write     n={writes}  acknowledged p50 {:.2} ms  p99 {:.2} ms",
        s.p50, s.p99
    );
    let s = summarize(&mut lat);
    println!(
        "visible   n={writes}  on another node after the acknowledgement: p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms",
        s.p50, s.p99, s.p999
    );

    // Check throughput over 1, 2, 3 nodes.
    for n in 1..=bases.len() {
        let nodes: Vec<String> = bases.iter().take(n).cloned().collect();
        let rate = throughput(&nodes, &svc, users, 32, seconds).await?;
        println!("checks    {n} node(s), 32 clients, single checks: {rate:.0} checks/s");
    }

    // Follower catch-up: replay, then reload.
    if let Some(node) = nodes.get(2) {
        catch_up(
            store.as_ref(),
            &client,
            node,
            &svc,
            ("k", bulk, 1000, users),
        )
        .await?;
        catch_up(store.as_ref(), &client, node, &svc, ("s", single, 1, users)).await?;
    }
    drop(nodes);
    drop(store);
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let bin = std::env::var("ROLECALL_BIN").unwrap_or_else(|_| "target/release/rolecall".into());
    let admin_url = std::env::var("ROLECALL_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let db = Database::create(&admin_url).await?;
        let result = bench(&db.url(), &bin, &args).await;
        db.drop_now().await?;
        result
    })
}
