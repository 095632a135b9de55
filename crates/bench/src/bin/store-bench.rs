//! Store write benchmark: bulk relation writes per second on each backend. Every batch
//! of `--batch` `PutRelation` changes is one `apply` (one transaction, one revision,
//! one durable commit); the figure is total tuples over total time, with the latency of
//! one batch alongside. SQLite writes to a file in a fresh temporary directory;
//! PostgreSQL to a fresh schema. Both are removed at the end.
//!
//! `cargo run --release -p rolecall-bench --bin store-bench -- [--batches N]
//!  [--batch N] [--pg-url URL] [--no-pg]`
//!
//! The PostgreSQL URL defaults to `ROLECALL_TEST_DATABASE_URL`, then
//! `postgres://postgres@127.0.0.1:5432/test`.

use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rolecall_bench::stats::summarize;
use rolecall_store::postgres::PgStore;
use rolecall_store::sqlite::SqliteStore;
use rolecall_store::{Change, NewTenant, Store, StoreError, Tuple};

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn arg_str(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// A suffix no other run uses.
fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// Batch `b`: `size` distinct tuples (users into queues, as an import would write them).
fn batch(b: usize, size: usize) -> Vec<Change> {
    (0..size)
        .map(|i| {
            let n = b * size + i;
            Change::PutRelation(Tuple {
                rtype: "queue".to_owned(),
                rid: format!("queue-{:04}", n % 500),
                relation: "member".to_owned(),
                stype: "user".to_owned(),
                sid: format!("user-{n:08}"),
            })
        })
        .collect()
}

/// Writes `batches` batches and prints the figures.
async fn run(store: &dyn Store, batches: usize, size: usize) -> Result<f64, StoreError> {
    let tenant = NewTenant {
        id: "bench".to_owned(),
        name: "Bench".to_owned(),
        profile_id: "bench".to_owned(),
        profile_text: String::new(),
    };
    store.create_tenant(&tenant, "bench", 0).await?;
    let work: Vec<Vec<Change>> = (0..batches).map(|b| batch(b, size)).collect();
    let mut latencies = Vec::with_capacity(batches);
    let start = Instant::now();
    for (i, changes) in work.iter().enumerate() {
        let t = Instant::now();
        let expected = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        store
            .apply("bench", Some(expected), changes, "bench", 0)
            .await?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total = start.elapsed().as_secs_f64();
    let tuples = batches * size;
    let rate = tuples as f64 / total;
    let s = summarize(&mut latencies);
    println!(
        "{:>8}: {tuples} tuples in {batches} batches of {size}: {total:.2} s, {rate:.0} tuples/s; \
         per batch p50 {:.1} ms, p99 {:.1} ms",
        store.backend(),
        s.p50,
        s.p99
    );
    let t = Instant::now();
    let loaded = store.load_state("bench").await?;
    let loaded_tuples: usize = loaded
        .state
        .entities
        .iter()
        .flat_map(|e| e.relations.iter())
        .map(|(_, targets)| targets.len())
        .sum();
    println!(
        "{:>8}: load_state of {loaded_tuples} tuples: {:.1} ms",
        store.backend(),
        t.elapsed().as_secs_f64() * 1e3
    );
    if loaded_tuples != tuples {
        eprintln!(
            "{}: expected {tuples} tuples, loaded {loaded_tuples}",
            store.backend()
        );
    }
    Ok(rate)
}

async fn bench_sqlite(batches: usize, size: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("rolecall_store_bench_{}", unique()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("bench.db");
    let outcome = async {
        let store = SqliteStore::open(&path.to_string_lossy())
            .await
            .map_err(|e| format!("sqlite open: {e}"))?;
        let r = run(&store, batches, size)
            .await
            .map_err(|e| format!("sqlite: {e}"));
        store.close().await;
        r
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome.map(|_| ())
}

async fn bench_pg(url: &str, batches: usize, size: usize) -> Result<(), String> {
    let schema = format!("rc_bench_{}", unique());
    let outcome = async {
        let store = PgStore::connect_in_schema(url, &schema)
            .await
            .map_err(|e| format!("postgres at {url}: {e}"))?;
        let r = run(&store, batches, size)
            .await
            .map_err(|e| format!("postgres: {e}"));
        store.close().await;
        r
    }
    .await;
    if let Err(e) = PgStore::drop_schema(url, &schema).await {
        eprintln!("warning: could not drop schema {schema}: {e}");
    }
    outcome.map(|_| ())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let batches = arg(&args, "--batches", 50);
    let size = arg(&args, "--batch", 1000);
    let pg_url = arg_str(&args, "--pg-url")
        .or_else(|| std::env::var("ROLECALL_TEST_DATABASE_URL").ok())
        .unwrap_or_else(|| DEFAULT_PG_URL.to_owned());
    let mut failed = false;
    if let Err(e) = bench_sqlite(batches, size).await {
        eprintln!("{e}");
        failed = true;
    }
    if !args.iter().any(|a| a == "--no-pg")
        && let Err(e) = bench_pg(&pg_url, batches, size).await
    {
        eprintln!("{e}");
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
