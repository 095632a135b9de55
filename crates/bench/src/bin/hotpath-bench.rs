//! The server's hot paths, measured through HTTP against a real `rolecall serve`
//! process (release build) on a seeded SQLite file:
//!
//! - **batch**: a 1,000-item `check/batch` for other principals, sent by a tenant
//!   token that may check others (as an embedding application would);
//! - **write**: assignment creations in a tenant of 10,000 users with 10
//!   separation-of-duty rules;
//! - **as_of**: who-can as of a random earlier revision of a 10,000-revision history.
//!
//! `cargo build --release -p rolecall-cli && cargo run --release -p rolecall-bench --bin
//! hotpath-bench -- [--users 10000] [--history 10000] [--batches 50] [--writes 200]
//! [--asof 30]`

use std::time::Instant;

use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rolecall_bench::app::{SEEDED_AT, SOD_RULES, mint, post, seed_app_tenant};
use rolecall_bench::flag;
use rolecall_bench::process::start_server;
use rolecall_bench::stats::summarize;
use rolecall_core::state::{Assignment, Scope};
use rolecall_store::{Change, Store};

type Result<T> = std::result::Result<T, String>;

async fn seed(store: &dyn Store, users: usize, history: usize) -> Result<()> {
    let (role, mut rng) = seed_app_tenant(store, users).await?;
    let now = SEEDED_AT;
    // History: one small write per revision (an assignment made, then removed).
    for i in 0..history {
        let id = format!("h{}", i / 2);
        let c = if i % 2 == 0 {
            Change::PutAssignment(Assignment {
                id,
                principal: format!("u{}", rng.random_range(0..users)),
                role: role.clone(),
                scope: Scope::Tenant,
                expires_at: None,
            })
        } else {
            Change::DeleteAssignment { id }
        };
        store
            .apply("bench", None, &[c], "bench", now + i as i64)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn report(name: &str, samples: &mut [f64], unit_per_op: Option<(f64, &str)>) {
    let n = samples.len();
    let s = summarize(samples);
    let extra = unit_per_op.map_or_else(String::new, |(per, what)| {
        format!("  ({:.0} {what}/s at the median)", per / (s.p50 / 1e3))
    });
    println!(
        "{name:<8} n={n:<5} p50 {:>9.3} ms  p99 {:>9.3} ms  mean {:>9.3} ms{extra}",
        s.p50, s.p99, s.mean
    );
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let users = flag(&args, "--users", 10_000);
    let history = flag(&args, "--history", 10_000);
    let batches = flag(&args, "--batches", 50);
    let writes = flag(&args, "--writes", 200);
    let asof = flag(&args, "--asof", 30);
    let bin = std::env::var("ROLECALL_BIN").unwrap_or_else(|_| "target/release/rolecall".into());
    let dir = std::env::temp_dir().join(format!("rolecall-hotpath-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        let t0 = Instant::now();
        {
            let store = rolecall_store::sqlite::SqliteStore::open(&url)
                .await
                .map_err(|e| e.to_string())?;
            seed(&store, users, history).await?;
            store.close().await;
        }
        eprintln!(
            "seeded {users} users, {SOD_RULES} SoD rules, {history} revisions of history in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        let op = mint(&bin, &url, None)?;
        let svc = mint(&bin, &url, Some("svc"))?;
        let server = start_server(&bin, &url)?;
        let base = format!("{}/v1/tenants/bench", server.base);
        let client = reqwest::Client::new();
        let mut rng = ChaCha8Rng::seed_from_u64(11);

        // Batch checks for others, by the application's tenant token.
        let mut lat = Vec::new();
        for _ in 0..batches {
            let checks: Vec<serde_json::Value> = (0..1000)
                .map(|_| {
                    let u = rng.random_range(0..users);
                    let p = rng.random_range(0..200);
                    serde_json::json!({"principal": format!("u{u}"), "action": format!("hold.p{p}"),
                        "resource": {"type": "tenant", "id": "bench"}})
                })
                .collect();
            let body = serde_json::json!({ "checks": checks });
            let t = Instant::now();
            post(&client, &format!("{base}/check/batch"), &svc, &body).await?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        report("batch", &mut lat, Some((1000.0, "checks")));

        // Writes: assignment creations (every write checks separation of duty).
        let mut lat = Vec::new();
        for i in 0..writes {
            let u = rng.random_range(0..users);
            let body = serde_json::json!({"id": format!("w{i}"), "principal": format!("u{u}"), "role": "svc"});
            let t = Instant::now();
            post(&client, &format!("{base}/assignments"), &op, &body).await?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        report("write", &mut lat, None);

        // Who-can as of an earlier revision.
        let mut lat = Vec::new();
        for _ in 0..asof {
            let r = rng.random_range(2..(history as u64).max(3));
            let body = serde_json::json!({"action": "hold.p3",
                "resource": {"type": "tenant", "id": "bench"}, "as_of": {"revision": r}});
            let t = Instant::now();
            post(&client, &format!("{base}/lookup/subjects"), &op, &body).await?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        report("as_of", &mut lat, None);
        drop(server);
        Ok::<(), String>(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
