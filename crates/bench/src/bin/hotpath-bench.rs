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

use std::process::Command;
use std::time::Instant;

use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rolecall_bench::process::start_server;
use rolecall_bench::stats::summarize;
use rolecall_bench::workload::{Sizes, generate};
use rolecall_core::profile::{GrantSpec, RoleSpec, SodRule};
use rolecall_core::state::{Assignment, Scope};
use rolecall_store::{Change, NewTenant, Store};

type Result<T> = std::result::Result<T, String>;

fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Mints a token with the CLI (`--operator` or a tenant user).
fn mint(bin: &str, url: &str, principal: Option<&str>) -> Result<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["token", "create", "--database-url", url]);
    match principal {
        Some(p) => cmd.args(["--tenant", "bench", "--principal", p]),
        None => cmd.arg("--operator"),
    };
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

const SOD_RULES: usize = 10;

async fn seed(store: &dyn Store, users: usize, history: usize) -> Result<()> {
    let w = generate(Sizes {
        users,
        conversations: users * 2,
        checks: 0,
        ..Sizes::default()
    });
    // The application's user `svc` may check others: `check.others` is `hold.p1`.
    let profile_text = format!(
        "{}\n[management]\n\"check.others\" = \"hold.p1\"\n\"assignments.write\" = \"hold.p1\"\n",
        w.profile_text
    );
    let profile =
        rolecall_core::load_profile("bench.toml", &profile_text).map_err(|e| e.to_string())?;
    let mut changes = rolecall_bench::seed::changes(&profile, &w.state);
    changes.push(Change::UpsertEntity {
        ty: "user".into(),
        id: "svc".into(),
        name: Some("Contact-center application".into()),
        attributes: vec![],
    });
    changes.push(Change::PutRole {
        role: RoleSpec {
            id: "svc".into(),
            name: Some("Application".into()),
            grants: vec![("p1".into(), GrantSpec::Bool(true))],
            ..RoleSpec::default()
        },
        version: 1,
    });
    changes.push(Change::PutAssignment(Assignment {
        id: "svc".into(),
        principal: "svc".into(),
        role: "svc".into(),
        scope: Scope::Tenant,
        expires_at: None,
    }));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let flags: Vec<usize> = (5..250).filter(|i| i % 5 != 4).collect();
    for r in 0..SOD_RULES {
        let a = flags.choose(&mut rng).copied().unwrap_or(5);
        let b = flags.choose(&mut rng).copied().unwrap_or(6);
        changes.push(Change::PutSodRule(SodRule {
            id: format!("sod{r}"),
            name: None,
            privileges: vec![format!("p{a}"), format!("p{b}")],
            roles: vec![],
        }));
    }
    let now = 1_800_000_000;
    store
        .create_tenant(
            &NewTenant {
                id: "bench".into(),
                name: "Benchmark".into(),
                profile_id: "bench".into(),
                profile_text,
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
    // History: one small write per revision (an assignment made, then removed).
    let role = w
        .state
        .roles
        .first()
        .map(|r| r.id.clone())
        .unwrap_or_default();
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

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value> {
    let r = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{url}: {status}: {v}"));
    }
    Ok(v)
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
