//! HTTP load against a real `rolecall serve` process on loopback: single checks and
//! batches at several connection counts, on SQLite and PostgreSQL.
//!
//! `cargo build --release -p rolecall-cli && cargo run --release -p rolecall-bench --bin
//! http-bench -- [--backend sqlite|postgres|both] [--seconds 5] [--users 10000]
//! [--conversations 20000] [--batch 1000] [--conns 1,32,256]`
//!
//! The database is seeded through the store in one transaction, then the server is
//! started on it (so startup compiles the tenant once). Client and server share this
//! machine's cores; the figures include the client's own cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rolecall_bench::process::start_server;
use rolecall_bench::stats::summarize;
use rolecall_bench::workload::{Sizes, generate};
use rolecall_store::{NewTenant, Store};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}

async fn seed(
    store: &dyn Store,
    sizes: Sizes,
) -> anyhow_like::Result<(String, Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    let w = generate(sizes);
    let profile =
        rolecall_core::load_profile("bench.toml", &w.profile_text).map_err(|e| e.to_string())?;
    let changes = rolecall_bench::seed::changes(&profile, &w.state);
    let now = 1_800_000_000;
    store
        .create_tenant(
            &NewTenant {
                id: "bench".into(),
                name: "Benchmark".into(),
                profile_id: "bench".into(),
                profile_text: w.profile_text.clone(),
            },
            "bench",
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    store
        .apply("bench", None, &changes, "bench", now)
        .await
        .map_err(|e| e.to_string())?;
    let (secret, record) = rolecall_engine::tokens::mint(None, None, now);
    store.put_token(&record).await.map_err(|e| e.to_string())?;
    let one = |c: &rolecall_bench::workload::Check| serde_json::json!({"principal": c.principal, "action": c.action, "resource": {"type": c.resource_type, "id": c.resource_id}});
    let singles: Vec<Vec<u8>> = w
        .checks
        .iter()
        .take(100_000)
        .map(|c| one(c).to_string().into_bytes())
        .collect();
    let batch_size = sizes.checks.clamp(1, 1000);
    let batches: Vec<Vec<u8>> = w
        .checks
        .chunks(batch_size)
        .take(100)
        .map(|chunk| {
            serde_json::json!({"checks": chunk.iter().map(one).collect::<Vec<_>>()})
                .to_string()
                .into_bytes()
        })
        .collect();
    Ok((secret, singles, batches))
}

struct RunResult {
    latencies_us: Vec<f64>,
    requests: usize,
    elapsed: f64,
}

async fn load(
    base: &str,
    token: &str,
    path: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    conns: usize,
    seconds: f64,
) -> RunResult {
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("{base}/v1/tenants/bench/{path}");
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (url, token, bodies, stop) =
            (url.clone(), token.to_owned(), bodies.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .ok();
            let mut lat = Vec::new();
            let Some(client) = client else { return lat };
            let mut i = c * 7919;
            while !stop.load(Ordering::Relaxed) {
                let Some(body) = bodies.get(i % bodies.len().max(1)) else {
                    break;
                };
                i += 1;
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let ok = match r {
                    Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
            lat
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(v) = t.await {
            all.extend(v);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    RunResult {
        requests: all.len(),
        latencies_us: all,
        elapsed,
    }
}

async fn bench_backend(
    name: &str,
    url: &str,
    store: Arc<dyn Store>,
    sizes: Sizes,
    conns: &[usize],
    seconds: f64,
    bin: &str,
) -> anyhow_like::Result<()> {
    let t = Instant::now();
    let (token, singles, batches) = seed(store.as_ref(), sizes).await?;
    drop(store);
    println!(
        "{name}: seeded {} users / {} conversations in {:.1} s",
        sizes.users,
        sizes.conversations,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let server = start_server(bin, url)?;
    println!(
        "{name}: server up in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        server.base
    );
    let singles = Arc::new(singles);
    let batches = Arc::new(batches);
    let batch_len = sizes.checks.clamp(1, 1000);
    println!(
        "{:<9} {:<7} {:>5} {:>9} {:>9} {:>9} {:>10} {:>10} {:>12}",
        "backend", "mode", "conns", "requests", "p50 µs", "p99 µs", "p99.9 µs", "req/s", "checks/s"
    );
    for &c in conns {
        for (mode, path, bodies, per) in [
            ("single", "check", singles.clone(), 1usize),
            ("batch", "check/batch", batches.clone(), batch_len),
        ] {
            let mut r = load(&server.base, &token, path, bodies, c, seconds).await;
            let s = summarize(&mut r.latencies_us);
            let rps = r.requests as f64 / r.elapsed;
            println!(
                "{name:<9} {mode:<7} {c:>5} {:>9} {:>9.0} {:>9.0} {:>10.0} {:>10.0} {:>12.0}",
                r.requests,
                s.p50,
                s.p99,
                s.p999,
                rps,
                rps * per as f64
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = arg(&args, "--backend").unwrap_or_else(|| "both".into());
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let d = Sizes::default();
    let sizes = Sizes {
        users: arg(&args, "--users")
            .and_then(|s| s.parse().ok())
            .unwrap_or(d.users),
        conversations: arg(&args, "--conversations")
            .and_then(|s| s.parse().ok())
            .unwrap_or(20_000),
        checks: arg(&args, "--checks")
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000),
        ..d
    };
    let conns: Vec<usize> = arg(&args, "--conns")
        .unwrap_or_else(|| "1,32,256".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let bin = arg(&args, "--bin").unwrap_or_else(|| "target/release/rolecall".into());
    let pid = std::process::id();
    if backend == "sqlite" || backend == "both" {
        let path = std::env::temp_dir().join(format!("rolecall-http-bench-{pid}.db"));
        let url = format!("sqlite://{}", path.display());
        match rolecall_store::sqlite::SqliteStore::open(&url).await {
            Ok(store) => {
                if let Err(e) = bench_backend(
                    "sqlite",
                    &url,
                    Arc::new(store),
                    sizes,
                    &conns,
                    seconds,
                    &bin,
                )
                .await
                {
                    eprintln!("sqlite: {e}");
                }
            }
            Err(e) => eprintln!("sqlite: {e}"),
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    if backend == "postgres" || backend == "both" {
        let admin = arg(&args, "--pg")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let db = format!("rc_http_bench_{pid}");
        let Ok(pool) = sqlx_admin(&admin).await else {
            eprintln!("postgres: cannot connect to {admin}");
            return;
        };
        let _ = pool.execute_sql(&format!("CREATE DATABASE {db}")).await;
        let url = admin
            .rsplit_once('/')
            .map_or(admin.clone(), |(h, _)| format!("{h}/{db}"));
        match rolecall_store::postgres::PgStore::connect(&url).await {
            Ok(store) => {
                if let Err(e) = bench_backend(
                    "postgres",
                    &url,
                    Arc::new(store),
                    sizes,
                    &conns,
                    seconds,
                    &bin,
                )
                .await
                {
                    eprintln!("postgres: {e}");
                }
            }
            Err(e) => eprintln!("postgres: {e}"),
        }
        let _ = pool
            .execute_sql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await;
    }
}

/// A connection to the PostgreSQL server for CREATE/DROP DATABASE.
async fn sqlx_admin(url: &str) -> Result<AdminPg, String> {
    sqlx::PgPool::connect(url)
        .await
        .map(AdminPg)
        .map_err(|e| e.to_string())
}

struct AdminPg(sqlx::PgPool);

impl AdminPg {
    async fn execute_sql(&self, sql: &str) -> Result<(), String> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.0)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
