//! How rolecall's costs grow with the tenant: check latency, memory per user, snapshot
//! build time and the time to make one change visible, for 1,000 to 1,000,000 users,
//! plotted into `docs/scaling-*.png`.
//!
//! `cargo run --release -p rolecall-bench --example scaling-bench -- [--sizes
//!  1000,10000,100000,1000000] [--conv-per-user 20] [--max-conversations 4000000]
//!  [--checks 1000000] [--wtv-max-users 100000] [--wtv-max-conversations 200000]
//!  [--wtv-samples 5] [--out docs]`
//!
//! Each size runs in its own child process (this program with `--child-users N`), so
//! that its RSS is its own. Per size: the workload (conversations = `--conv-per-user` ×
//! users, capped by `--max-conversations`), the snapshot build, its table bytes and RSS
//! growth per user, median / p99 of every check timed alone (resolved ids and string
//! ids, timer overhead subtracted), and the time to make one new assignment visible in
//! the core, both as an incremental patch of the old snapshot (`Snapshot::patched` with
//! `Delta::Assignments`) and as a full rebuild of the tenant with the assignment added.
//!
//! Write-to-visible through the server's real code path (sizes up to `--wtv-max-users`):
//! the tenant (conversations capped by `--wtv-max-conversations`) is seeded into a fresh
//! SQLite file, the server is started in this process with
//! `rolecall_engine::Engine` and `rolecall_server::run` on a loopback port, and for each
//! sample one assignment that turns a denied `hold.pN` check into an allowed one is
//! written with `POST /v1/tenants/bench/assignments`; then `POST /check` is polled until
//! it answers allowed. Reported: the write's latency until its acknowledgement, the
//! time from the acknowledgement to the first check that sees the change, and the sum
//! (from sending the write to the first check that sees it).

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use plotters::prelude::*;
use rolecall_bench::stats::{peak_rss_bytes, rss_bytes, summarize, thread_cpu_ns};
use rolecall_bench::workload::{Sizes, Workload, generate};
use rolecall_core::profile::GrantSpec;
use rolecall_core::state::{Assignment, Scope};
use rolecall_core::{Context, Request, ResolvedRequest, Snapshot, load_profile};
use rolecall_store::NewTenant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn num(args: &[String], name: &str, default: usize) -> usize {
    arg(args, name)
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// One size's results.
#[derive(Debug, Clone, Default)]
struct Point {
    users: usize,
    conversations: usize,
    build_ms: f64,
    heap_per_user: f64,
    rss_per_user: f64,
    peak_per_user: f64,
    resolved_p50: f64,
    resolved_p99: f64,
    string_p50: f64,
    string_p99: f64,
    resolved_mean: f64,
    string_mean: f64,
    update_ms: f64,
    /// Incremental patch of one assignment, ms (negative: not available).
    patch_ms: f64,
    /// Write-to-visible through the server: (ack ms, ack→visible ms, total ms), medians.
    wtv: Option<(f64, f64, f64)>,
    wtv_conversations: usize,
}

impl Point {
    fn line(&self) -> String {
        let (a, b, c) = self.wtv.unwrap_or((-1.0, -1.0, -1.0));
        format!(
            "POINT\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.users,
            self.conversations,
            self.build_ms,
            self.heap_per_user,
            self.rss_per_user,
            self.peak_per_user,
            self.resolved_p50,
            self.resolved_p99,
            self.string_p50,
            self.string_p99,
            self.update_ms,
            a,
            b,
            c,
            self.wtv_conversations,
            self.resolved_mean,
            self.string_mean,
            self.patch_ms
        )
    }

    fn parse(line: &str) -> Option<Point> {
        let f: Vec<&str> = line.strip_prefix("POINT\t")?.split('\t').collect();
        let x = |i: usize| -> Option<f64> { f.get(i)?.parse().ok() };
        let wtv = if x(11)? >= 0.0 {
            Some((x(11)?, x(12)?, x(13)?))
        } else {
            None
        };
        Some(Point {
            users: x(0)? as usize,
            conversations: x(1)? as usize,
            build_ms: x(2)?,
            heap_per_user: x(3)?,
            rss_per_user: x(4)?,
            peak_per_user: x(5)?,
            resolved_p50: x(6)?,
            resolved_p99: x(7)?,
            string_p50: x(8)?,
            string_p99: x(9)?,
            update_ms: x(10)?,
            wtv,
            wtv_conversations: x(14)? as usize,
            resolved_mean: x(15)?,
            string_mean: x(16)?,
            patch_ms: x(17)?,
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let r = match arg(&args, "--child-users") {
        Some(n) => n
            .parse::<usize>()
            .map_err(|e| e.to_string())
            .and_then(|n| child(&args, n)),
        None => parent(&args),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn parent(args: &[String]) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let sizes: Vec<usize> = arg(args, "--sizes")
        .unwrap_or_else(|| "1000,10000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.replace('_', "").parse().ok())
        .collect();
    let passthrough: Vec<String> = args.iter().skip(1).cloned().collect();
    let mut points = Vec::new();
    for &n in &sizes {
        let t = Instant::now();
        let mut child = Command::new(&exe)
            .args(&passthrough)
            .args(["--child-users", &n.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start a child: {e}"))?;
        let out = child.stdout.take().ok_or("no child stdout")?;
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| e.to_string())?;
            match Point::parse(&line) {
                Some(p) => points.push(p),
                None => println!("[{n} users] {line}"),
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        println!(
            "[{n} users] finished in {:.1} s ({status})",
            t.elapsed().as_secs_f64()
        );
        if !status.success() {
            return Err(format!("the {n}-user run failed"));
        }
    }
    println!();
    println!(
        "| users | conversations | build ms | one assignment: incremental patch ms | one assignment: full rebuild ms | table bytes/user | RSS growth bytes/user | peak growth bytes/user | median ns (resolved) | p99 ns (resolved) | mean ns (resolved, loop, on-CPU) | median ns (string ids) | p99 ns (string ids) | mean ns (string ids, loop, on-CPU) | write ack ms | ack→visible ms | write-to-visible ms |"
    );
    println!(
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for p in &points {
        let wtv = match p.wtv {
            Some((a, b, c)) => format!(
                "{a:.1} | {b:.2} | {c:.1} (with {} conversations)",
                p.wtv_conversations
            ),
            None => "– | – | –".into(),
        };
        println!(
            "| {} | {} | {:.1} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.1} | {wtv} |",
            p.users,
            p.conversations,
            p.build_ms,
            if p.patch_ms >= 0.0 {
                format!("{:.3}", p.patch_ms)
            } else {
                "–".into()
            },
            p.update_ms,
            p.heap_per_user,
            p.rss_per_user,
            p.peak_per_user,
            p.resolved_p50,
            p.resolved_p99,
            p.resolved_mean,
            p.string_p50,
            p.string_p99,
            p.string_mean,
        );
    }
    let out = arg(args, "--out").unwrap_or_else(|| "docs".into());
    plot(&out, &points).map_err(|e| format!("plotting: {e}"))?;
    Ok(())
}

fn timer_overhead() -> f64 {
    let mut v: Vec<f64> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    summarize(&mut v).p50
}

fn request<'a>(c: &'a rolecall_bench::workload::Check, ctx: &'a Context) -> Request<'a> {
    Request {
        principal: &c.principal,
        action: &c.action,
        resource_type: c.resource_type,
        resource_id: &c.resource_id,
        context: ctx,
        now: 0,
    }
}

fn child(args: &[String], users: usize) -> Result<(), String> {
    let per_user = num(args, "--conv-per-user", 20);
    let cap = num(args, "--max-conversations", 4_000_000);
    let sizes = Sizes {
        users,
        conversations: (users * per_user).min(cap),
        checks: num(args, "--checks", 1_000_000),
        ..Sizes::default()
    };
    println!("workload: {sizes:?}");
    let t = Instant::now();
    let mut w = generate(sizes);
    println!("generated in {:.1} s", t.elapsed().as_secs_f64());
    let profile = Arc::new(load_profile("bench.toml", &w.profile_text).map_err(|e| e.to_string())?);
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = rss_bytes().unwrap_or(0);
    let t = Instant::now();
    let snap = Snapshot::build(profile.clone(), &w.state).map_err(|e| format!("{e:?}"))?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss = rss_bytes().unwrap_or(0).saturating_sub(before);
    let peak = peak_rss_bytes().unwrap_or(0).saturating_sub(before);
    println!(
        "snapshot built in {build_ms:.1} ms; tables {} bytes/user; RSS growth {} bytes/user{}",
        snap.heap_bytes() / users.max(1),
        rss as usize / users.max(1),
        if reset { "" } else { " (peak not reset)" }
    );
    let ctx = Context::new();
    let resolved: Vec<ResolvedRequest> = w
        .checks
        .iter()
        .map(|c| snap.resolve(&request(c, &ctx)).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let oh = timer_overhead();
    let mut lat = Vec::with_capacity(resolved.len());
    for r in &resolved {
        let t = Instant::now();
        black_box(snap.check_resolved(black_box(r), &ctx, 0));
        lat.push((t.elapsed().as_nanos() as f64 - oh).max(0.0));
    }
    let rs = summarize(&mut lat);
    lat.clear();
    for c in &w.checks {
        let t = Instant::now();
        black_box(snap.check(black_box(&request(c, &ctx))));
        lat.push((t.elapsed().as_nanos() as f64 - oh).max(0.0));
    }
    let ss = summarize(&mut lat);
    // Means from tight loops (no timer inside), in on-CPU time when readable.
    let elapsed_ns = |cpu0: Option<u64>, t: Instant| -> f64 {
        match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64,
            _ => t.elapsed().as_secs_f64() * 1e9,
        }
    };
    let (cpu0, t) = (thread_cpu_ns(), Instant::now());
    let mut n = 0usize;
    for r in &resolved {
        n += usize::from(black_box(snap.check_resolved(black_box(r), &ctx, 0)).allowed);
    }
    let resolved_mean = elapsed_ns(cpu0, t) / resolved.len().max(1) as f64;
    let (cpu0, t) = (thread_cpu_ns(), Instant::now());
    for c in &w.checks {
        n += usize::from(black_box(snap.check(black_box(&request(c, &ctx)))).allowed);
    }
    let string_mean = elapsed_ns(cpu0, t) / w.checks.len().max(1) as f64;
    black_box(n);
    println!(
        "check latency (timer overhead {oh:.0} ns subtracted): resolved median {:.0} ns p99 {:.0} ns mean {resolved_mean:.1} ns; string ids median {:.0} ns p99 {:.0} ns mean {string_mean:.1} ns",
        rs.p50, rs.p99, ss.p50, ss.p99
    );
    drop(resolved);
    // One new assignment in the core: an incremental patch, then a full rebuild.
    let (user, role, action) = flip_candidates(&w, &snap, 1)?
        .into_iter()
        .next()
        .ok_or("no candidate")?;
    let give = rolecall_core::Change::PutAssignment(Assignment {
        id: "scaling-new".into(),
        principal: user.clone(),
        role,
        scope: Scope::Tenant,
        expires_at: None,
    });
    // Only removals read the state before a batch: an empty one stands for it here.
    let before = rolecall_core::MemState::default();
    let mut after = rolecall_core::MemState::new(std::mem::take(&mut w.state));
    after.apply(&profile, &give);
    // The incremental path: the old snapshot patched with the user's new assignment.
    let t = Instant::now();
    let patched = snap.patched(&before, &after, std::slice::from_ref(&give));
    let patch_ms = t.elapsed().as_secs_f64() * 1e3;
    w.state = after.state;
    let patch_ms = match patched {
        Ok(p) => {
            let seen = p
                .check(&Request {
                    principal: &user,
                    action: &action,
                    resource_type: "tenant",
                    resource_id: "bench",
                    context: &ctx,
                    now: 0,
                })
                .allowed;
            println!("one new assignment, incremental patch: {patch_ms:.3} ms (visible: {seen})");
            if seen { patch_ms } else { -1.0 }
        }
        Err(e) => {
            println!("one new assignment, incremental patch refused: {e}");
            -1.0
        }
    };
    drop(snap);
    let t = Instant::now();
    let snap2 = Snapshot::build(profile.clone(), &w.state).map_err(|e| format!("{e:?}"))?;
    let update_ms = t.elapsed().as_secs_f64() * 1e3;
    let visible = snap2
        .check(&Request {
            principal: &user,
            action: &action,
            resource_type: "tenant",
            resource_id: "bench",
            context: &ctx,
            now: 0,
        })
        .allowed;
    println!("one new assignment, full rebuild: {update_ms:.1} ms (visible: {visible})");
    drop(snap2);
    w.state.assignments.pop();
    let mut point = Point {
        users,
        conversations: sizes.conversations,
        build_ms,
        heap_per_user: 0.0,
        rss_per_user: rss as f64 / users.max(1) as f64,
        peak_per_user: peak as f64 / users.max(1) as f64,
        resolved_p50: rs.p50,
        resolved_p99: rs.p99,
        string_p50: ss.p50,
        string_p99: ss.p99,
        resolved_mean,
        string_mean,
        update_ms,
        patch_ms,
        wtv: None,
        wtv_conversations: 0,
    };
    {
        let snap = Snapshot::build(profile.clone(), &w.state).map_err(|e| format!("{e:?}"))?;
        point.heap_per_user = snap.heap_bytes() as f64 / users.max(1) as f64;
    }
    if users <= num(args, "--wtv-max-users", 100_000) {
        drop(w);
        let wtv_sizes = Sizes {
            conversations: sizes
                .conversations
                .min(num(args, "--wtv-max-conversations", 200_000)),
            checks: 0,
            ..sizes
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let samples = num(args, "--wtv-samples", 5);
        point.wtv = Some(rt.block_on(write_to_visible(wtv_sizes, samples))?);
        point.wtv_conversations = wtv_sizes.conversations;
    }
    println!("{}", point.line());
    Ok(())
}

/// `n` (user, role, action) triples with distinct users: the user's `hold.pN` is
/// denied and the role grants `pN` outright, so that assigning the role flips the check.
fn flip_candidates(
    w: &Workload,
    snap: &Snapshot,
    n: usize,
) -> Result<Vec<(String, String, String)>, String> {
    let ctx = Context::new();
    let grants: Vec<(&str, String)> = w
        .state
        .roles
        .iter()
        .flat_map(|r| {
            r.grants
                .iter()
                .filter(|(p, g)| *g == GrantSpec::Bool(true) && p.starts_with('p'))
                .map(|(p, _)| (r.id.as_str(), format!("hold.{p}")))
        })
        .collect();
    let mut out = Vec::new();
    for u in 0.. {
        if out.len() >= n {
            break;
        }
        let user = format!("u{u}");
        let Some((role, action)) = grants.iter().find(|(_, action)| {
            !snap
                .check(&Request {
                    principal: &user,
                    action,
                    resource_type: "tenant",
                    resource_id: "bench",
                    context: &ctx,
                    now: 0,
                })
                .allowed
        }) else {
            continue;
        };
        if snap.entity(rolecall_core::profile::USER, &user).is_none() {
            break;
        }
        out.push((user, (*role).to_owned(), action.clone()));
    }
    if out.len() < n {
        return Err("not enough assignments that flip a check in this workload".into());
    }
    Ok(out)
}

async fn write_to_visible(sizes: Sizes, samples: usize) -> Result<(f64, f64, f64), String> {
    let w = generate(sizes);
    let profile = load_profile("bench.toml", &w.profile_text).map_err(|e| e.to_string())?;
    let snap =
        Snapshot::build(Arc::new(profile.clone()), &w.state).map_err(|e| format!("{e:?}"))?;
    let flips = flip_candidates(&w, &snap, samples)?;
    drop(snap);
    let dir = std::env::temp_dir().join(format!("rolecall-scaling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let r = serve_and_measure(&url, &w, &profile, &flips).await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}

async fn serve_and_measure(
    url: &str,
    w: &Workload,
    profile: &rolecall_core::Profile,
    flips: &[(String, String, String)],
) -> Result<(f64, f64, f64), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let t = Instant::now();
    let store = rolecall_engine::open_store(url).await.map_err(|x| e(&x))?;
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
        .map_err(|x| e(&x))?;
    let changes = rolecall_bench::seed::changes(profile, &w.state);
    store
        .apply("bench", None, &changes, "bench", now)
        .await
        .map_err(|x| e(&x))?;
    let (token, record) = rolecall_engine::tokens::mint(None, None, now);
    store.put_token(&record).await.map_err(|x| e(&x))?;
    println!(
        "seeded SQLite with {} users / {} conversations in {:.1} s",
        w.state.entities.iter().filter(|x| x.ty == "user").count(),
        w.state
            .entities
            .iter()
            .filter(|x| x.ty == "conversation")
            .count(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let config = rolecall_server::Config::default();
    let engine = rolecall_engine::Engine::open(store.clone(), config.engine_options())
        .await
        .map_err(|x| e(&x))?;
    let state = rolecall_server::AppState::new(engine, config).map_err(|x| e(&x))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|x| e(&x))?;
    let addr = listener.local_addr().map_err(|x| e(&x))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rolecall_server::run(listener, state, async move {
        let _ = stop_rx.await;
    }));
    println!(
        "server up in-process at {addr} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let client = reqwest::Client::new();
    let base = format!("http://{addr}/v1/tenants/bench");
    let mut ack = Vec::new();
    let mut after = Vec::new();
    let mut total = Vec::new();
    let mut polls = 0usize;
    let result: Result<(), String> = async {
        for (i, (user, role, action)) in flips.iter().enumerate() {
            let check_body = serde_json::json!({
                "principal": user, "action": action,
                "resource": {"type": "tenant", "id": "bench"}
            })
            .to_string();
            let allowed = |body: &str| -> bool {
                serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("allowed").and_then(serde_json::Value::as_bool))
                    .unwrap_or(false)
            };
            let before = client
                .post(format!("{base}/check"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(check_body.clone())
                .send()
                .await
                .map_err(|x| e(&x))?
                .text()
                .await
                .map_err(|x| e(&x))?;
            if allowed(&before) {
                return Err(format!("{user} {action} is already allowed: {before}"));
            }
            let write = serde_json::json!({
                "id": format!("wtv-{i}"), "principal": user, "role": role, "scope": "tenant"
            })
            .to_string();
            let t0 = Instant::now();
            let resp = client
                .post(format!("{base}/assignments"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(write)
                .send()
                .await
                .map_err(|x| e(&x))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|x| e(&x))?;
            if !status.is_success() {
                return Err(format!("write refused: {status} {text}"));
            }
            let t_ack = Instant::now();
            loop {
                polls += 1;
                let body = client
                    .post(format!("{base}/check"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(check_body.clone())
                    .send()
                    .await
                    .map_err(|x| e(&x))?
                    .text()
                    .await
                    .map_err(|x| e(&x))?;
                if allowed(&body) {
                    break;
                }
                if t_ack.elapsed().as_secs() > 30 {
                    return Err("the write never became visible".into());
                }
            }
            let done = Instant::now();
            ack.push((t_ack - t0).as_secs_f64() * 1e3);
            after.push((done - t_ack).as_secs_f64() * 1e3);
            total.push((done - t0).as_secs_f64() * 1e3);
        }
        Ok(())
    }
    .await;
    let _ = stop_tx.send(());
    let _ = server.await;
    result?;
    let (a, b, c) = (
        summarize(&mut ack).p50,
        summarize(&mut after).p50,
        summarize(&mut total).p50,
    );
    println!(
        "write-to-visible over {} writes ({polls} check polls in all): write ack median {a:.1} ms, ack→visible median {b:.2} ms, total median {c:.1} ms",
        flips.len()
    );
    Ok((a, b, c))
}

/// Registers a TrueType font from the system for the plot text; `false` when none is
/// found (the plots are then drawn without text).
fn font() -> bool {
    let candidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ];
    for c in candidates {
        if let Ok(bytes) = std::fs::read(c) {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return true;
            }
        }
    }
    false
}

/// A label for a log axis: only values whose mantissa is one of `keep` are written.
fn log_label(v: f64, keep: &[f64]) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let e = v.log10().floor();
    let m = v / 10f64.powf(e);
    if !keep.iter().any(|k| (m - k).abs() < 1e-6 * k.max(1.0)) {
        return String::new();
    }
    if v >= 1.0 {
        let digits = format!("{v:.0}");
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else {
        format!("{v}")
    }
}

type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

fn chart(
    path: &str,
    title: &str,
    y_label: &str,
    text: bool,
    series: &[Series<'_>],
) -> Result<(), Box<dyn std::error::Error>> {
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .filter(|y| *y > 0.0)
        .collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min).max(1.0) / 1.5,
        xs.iter().copied().fold(0.0, f64::max).max(2.0) * 1.5,
    );
    let (y0, y1) = (
        ys.iter().copied().fold(f64::INFINITY, f64::min).max(1e-3) / 2.0,
        ys.iter().copied().fold(0.0, f64::max).max(1e-2) * 2.0,
    );
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut b = ChartBuilder::on(&root);
    b.margin(20);
    if text {
        b.caption(title, ("sans-serif", 24))
            .x_label_area_size(50)
            .y_label_area_size(80);
    } else {
        b.x_label_area_size(10).y_label_area_size(10);
    }
    let mut c = b.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    let mut mesh = c.configure_mesh();
    if text {
        mesh.x_desc("users")
            .y_desc(y_label)
            .x_label_formatter(&|v| log_label(*v, &[1.0]))
            .y_label_formatter(&|v| log_label(*v, &[1.0, 2.0, 5.0]))
            .label_style(("sans-serif", 15));
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw()?;
    for (name, color, pts) in series {
        let pts: Vec<(f64, f64)> = pts.iter().copied().filter(|p| p.1 > 0.0).collect();
        let color = *color;
        let s = c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
        if text {
            s.label(*name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        c.draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    }
    if text {
        c.configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn plot(out: &str, points: &[Point]) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let text = font();
    if !text {
        println!("note: no TrueType font found; the plots have no text");
    }
    let u = |f: fn(&Point) -> f64| -> Vec<(f64, f64)> {
        points.iter().map(|p| (p.users as f64, f(p))).collect()
    };
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let green = RGBColor(44, 160, 44);
    let red = RGBColor(214, 39, 40);
    let latency = format!("{out}/scaling-latency.png");
    chart(
        &latency,
        "rolecall check latency (one core)",
        "ns per check",
        text,
        &[
            ("median, resolved ids", blue, u(|p| p.resolved_p50)),
            ("p99, resolved ids", orange, u(|p| p.resolved_p99)),
            ("median, string ids", green, u(|p| p.string_p50)),
            ("p99, string ids", red, u(|p| p.string_p99)),
            (
                "mean, resolved ids (tight loop)",
                RGBColor(148, 103, 189),
                u(|p| p.resolved_mean),
            ),
            (
                "mean, string ids (tight loop)",
                RGBColor(140, 86, 75),
                u(|p| p.string_mean),
            ),
        ],
    )?;
    let memory = format!("{out}/scaling-memory.png");
    chart(
        &memory,
        "rolecall memory per user (conversations = 20 x users, capped)",
        "bytes per user",
        text,
        &[
            ("snapshot table bytes / users", blue, u(|p| p.heap_per_user)),
            (
                "RSS growth over the build / users",
                orange,
                u(|p| p.rss_per_user),
            ),
            ("peak RSS growth / users", green, u(|p| p.peak_per_user)),
            ("target at 100,000 users: 1 KiB", red, u(|_| 1024.0)),
        ],
    )?;
    let build = format!("{out}/scaling-build.png");
    let wtv: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.wtv.map(|w| (p.users as f64, w.2)))
        .collect();
    chart(
        &build,
        "rolecall snapshot build and change visibility",
        "milliseconds",
        text,
        &[
            ("snapshot build", blue, u(|p| p.build_ms)),
            (
                "one assignment, core (full rebuild)",
                orange,
                u(|p| p.update_ms),
            ),
            (
                "one assignment, core (incremental patch)",
                red,
                u(|p| p.patch_ms),
            ),
            ("write-to-visible via HTTP + SQLite", green, wtv),
            ("target: 1 ms", RGBColor(127, 127, 127), u(|_| 1.0)),
        ],
    )?;
    println!("plots: {latency}, {memory}, {build}");
    Ok(())
}
