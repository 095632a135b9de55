//! A soak run: a real `rolecall serve` (release build) on a seeded SQLite file under a
//! steady mixed load for a long time — single checks, batches, writes (assignments made
//! and removed), who-can lookups and list reads — sampling the server's resident memory
//! and the latency of each 10-second window. Reports the drift between the first and
//! the last windows and every error. Goal: RSS flat within 10%, 0 errors.
//!
//! `cargo build --release -p rolecall-cli && cargo run --release -p rolecall-bench --bin
//! soak-bench -- [--seconds 600] [--users 10000] [--clients 16]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rolecall_bench::app::{mint, post, seed_app_tenant};
use rolecall_bench::flag;
use rolecall_bench::process::start_server;
use rolecall_bench::stats::summarize;
use tokio::sync::Mutex;

type Result<T> = std::result::Result<T, String>;

const WINDOW: Duration = Duration::from_secs(10);

/// The server's resident set, in MiB (Linux `/proc`).
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One client's loop: an operation chosen by a counter (70% single checks, 10%
/// batches of 100, 10% writes, 5% who-can, 5% list reads), latencies into `lat`.
/// What every client shares.
struct Load {
    base: String,
    op: String,
    svc: String,
    users: usize,
    stop: AtomicBool,
    lat: Mutex<Vec<f64>>,
    errors: AtomicU64,
}

async fn client(k: usize, load: Arc<Load>) {
    let Load {
        base,
        op,
        svc,
        users,
        stop,
        lat,
        errors,
    } = &*load;
    let users = *users;
    let http = reqwest::Client::new();
    let mut i: usize = k * 7919;
    let mut made: Vec<String> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        i = i
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let u = format!("u{}", (i >> 33) % users);
        let p = format!("hold.p{}", (i >> 20) % 200);
        let tenant = serde_json::json!({"type": "tenant", "id": "bench"});
        let t = Instant::now();
        let r = match (i >> 40) % 20 {
            0..=13 => {
                let body = serde_json::json!({"principal": u, "action": p, "resource": tenant});
                post(&http, &format!("{base}/check"), svc, &body)
                    .await
                    .map(|_| ())
            }
            14 | 15 => {
                let checks: Vec<serde_json::Value> = (0..100)
                    .map(|j| {
                        serde_json::json!({"principal": format!("u{}", (i + j * 31) % users),
                        "action": format!("hold.p{}", (i + j) % 200), "resource": tenant})
                    })
                    .collect();
                let body = serde_json::json!({"checks": checks});
                post(&http, &format!("{base}/check/batch"), svc, &body)
                    .await
                    .map(|_| ())
            }
            16 | 17 => {
                // Assignments made, and removed once a client holds 20 (state stays flat).
                if made.len() >= 20 {
                    let id = made.remove(0);
                    http.delete(format!("{base}/assignments/{id}"))
                        .bearer_auth(op)
                        .send()
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| {
                            if r.status().is_success() {
                                Ok(())
                            } else {
                                Err(format!("delete: {}", r.status()))
                            }
                        })
                } else {
                    let id = format!("s{k}_{i:x}");
                    let body = serde_json::json!({"id": id, "principal": u, "role": "svc"});
                    let r = post(&http, &format!("{base}/assignments"), op, &body).await;
                    if r.is_ok() {
                        made.push(id);
                    }
                    r.map(|_| ())
                }
            }
            18 => {
                let body = serde_json::json!({"action": p, "resource": tenant});
                post(&http, &format!("{base}/lookup/subjects"), op, &body)
                    .await
                    .map(|_| ())
            }
            _ => http
                .get(format!("{base}/roles"))
                .bearer_auth(op)
                .send()
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    if r.status().is_success() {
                        Ok(())
                    } else {
                        Err(format!("roles: {}", r.status()))
                    }
                }),
        };
        let ms = t.elapsed().as_secs_f64() * 1e3;
        match r {
            Ok(()) => lat.lock().await.push(ms),
            Err(e) => {
                if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("error: {e}");
                }
            }
        }
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let seconds = flag(&args, "--seconds", 600) as u64;
    let users = flag(&args, "--users", 10_000);
    let clients = flag(&args, "--clients", 16);
    let bin = std::env::var("ROLECALL_BIN").unwrap_or_else(|_| "target/release/rolecall".into());
    let dir = std::env::temp_dir().join(format!("rolecall-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.join("soak.db").display());
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        {
            let store = rolecall_store::sqlite::SqliteStore::open(&url)
                .await
                .map_err(|e| e.to_string())?;
            seed_app_tenant(&store, users).await?;
            store.close().await;
        }
        let op = mint(&bin, &url, None)?;
        let svc = mint(&bin, &url, Some("svc"))?;
        let server = start_server(&bin, &url)?;
        let base = format!("{}/v1/tenants/bench", server.base);
        let pid = server.pid();
        let load = Arc::new(Load {
            base,
            op,
            svc,
            users,
            stop: AtomicBool::new(false),
            lat: Mutex::new(Vec::new()),
            errors: AtomicU64::new(0),
        });
        let (stop, lat, errors) = (&load.stop, &load.lat, &load.errors);
        let tasks: Vec<_> = (0..clients)
            .map(|k| tokio::spawn(client(k, load.clone())))
            .collect();
        println!("rss at start: {:.1} MiB", rss_mib(pid));
        println!("window      ops    p50 ms   p99 ms   rss MiB  errors");
        let start = Instant::now();
        let mut rows: Vec<(f64, f64, f64)> = Vec::new();
        while start.elapsed() < Duration::from_secs(seconds) {
            tokio::time::sleep(WINDOW).await;
            let mut w = std::mem::take(&mut *lat.lock().await);
            let n = w.len();
            let s = summarize(&mut w);
            let rss = rss_mib(pid);
            println!(
                "{:>5.0} s {:>8} {:>9.3} {:>8.3} {:>9.1} {:>7}",
                start.elapsed().as_secs_f64(),
                n,
                s.p50,
                s.p99,
                rss,
                errors.load(Ordering::Relaxed)
            );
            rows.push((s.p50, s.p99, rss));
        }
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        // Drift: the mean of the three windows after the first minute (the allocator's
        // arenas and the server's caches fill during it) against the last three.
        let avg = |r: &[(f64, f64, f64)], f: fn(&(f64, f64, f64)) -> f64| {
            r.iter().map(f).sum::<f64>() / r.len().max(1) as f64
        };
        let first = rows.get(6..9.min(rows.len())).unwrap_or(&[]);
        let last = rows.get(rows.len().saturating_sub(3)..).unwrap_or(&[]);
        let drift = |f: fn(&(f64, f64, f64)) -> f64| {
            let (a, b) = (avg(first, f), avg(last, f));
            (a, b, if a > 0.0 { (b - a) / a * 100.0 } else { 0.0 })
        };
        let (r0, r1, rd) = drift(|r| r.2);
        let (p0, p1, pd) = drift(|r| r.0);
        let (q0, q1, qd) = drift(|r| r.1);
        println!(
            "drift over {seconds} s: rss {r0:.1} -> {r1:.1} MiB ({rd:+.1}%), p50 {p0:.3} -> {p1:.3} ms ({pd:+.1}%), p99 {q0:.3} -> {q1:.3} ms ({qd:+.1}%), errors {}",
            errors.load(Ordering::Relaxed)
        );
        drop(server);
        Ok::<(), String>(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
