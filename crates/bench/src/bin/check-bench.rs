//! In-process check benchmark: builds the generated tenant's snapshot and times
//! every check, printing build time, memory, median / p99 per check and throughput.
//!
//! `cargo run --release -p rolecall-bench --bin check-bench -- [--large] [--users N]
//!  [--conversations N] [--checks N] [--seed N]`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use rolecall_bench::stats::{peak_rss_bytes, rss_bytes, summarize, thread_cpu_ns};
use rolecall_bench::workload::{CheckKind, Sizes, generate};
use rolecall_core::{Context, Request, ResolvedRequest, Snapshot, load_profile};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes = Sizes::from_args(&args);
    println!("workload: {sizes:?}");
    let t = Instant::now();
    let w = generate(sizes);
    println!("generate: {:.2} s", t.elapsed().as_secs_f64());
    let profile = match load_profile("bench.toml", &w.profile_text) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rss_before = rss_bytes().unwrap_or(0);
    let t = Instant::now();
    let snap = match Snapshot::build(profile, &w.state) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e:?}");
            std::process::exit(2);
        }
    };
    let build = t.elapsed();
    let rss_after = rss_bytes().unwrap_or(0);
    println!("snapshot build: {:.1} ms", build.as_secs_f64() * 1e3);
    println!(
        "snapshot tables: {:.1} MiB ({} bytes/user incl. conversations and queues); {} distinct privilege sets; RSS growth {:.1} MiB",
        snap.heap_bytes() as f64 / 1048576.0,
        snap.heap_bytes() / sizes.users.max(1),
        snap.interned_sets(),
        rss_after.saturating_sub(rss_before) as f64 / 1048576.0
    );
    let ctx = Context::new();
    let now = 0;
    // Resolve ids once (what a server does for hot principals/resources).
    let resolved: Result<Vec<ResolvedRequest>, _> = w
        .checks
        .iter()
        .map(|c| {
            snap.resolve(&Request {
                principal: &c.principal,
                action: &c.action,
                resource_type: c.resource_type,
                resource_id: &c.resource_id,
                context: &ctx,
                now,
            })
        })
        .collect();
    let resolved = match resolved {
        Ok(r) => r,
        Err(e) => {
            eprintln!("a workload check does not resolve: {e}");
            std::process::exit(2);
        }
    };
    let allowed = resolved
        .iter()
        .filter(|r| snap.check_resolved(r, &ctx, now).allowed)
        .count();
    println!(
        "decisions: {allowed} allowed, {} denied",
        resolved.len() - allowed
    );

    // Throughput: a tight loop, no timers inside.
    for (label, by_strings) in [("resolved ids", false), ("string ids", true)] {
        let cpu0 = thread_cpu_ns();
        let t = Instant::now();
        let mut n = 0usize;
        if by_strings {
            for c in &w.checks {
                let req = Request {
                    principal: &c.principal,
                    action: &c.action,
                    resource_type: c.resource_type,
                    resource_id: &c.resource_id,
                    context: &ctx,
                    now,
                };
                n += usize::from(black_box(snap.check(black_box(&req))).allowed);
            }
        } else {
            for r in &resolved {
                n += usize::from(black_box(snap.check_resolved(black_box(r), &ctx, now)).allowed);
            }
        }
        let el = t.elapsed().as_secs_f64();
        println!(
            "throughput ({label}): {:.1} ns/check mean, {:.2} M checks/s on one core ({n} allowed)",
            el * 1e9 / w.checks.len() as f64,
            w.checks.len() as f64 / el / 1e6
        );
        if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
            let cpu = b.saturating_sub(a) as f64 / 1e9;
            println!(
                "    on-CPU time only (excludes time other processes held the core): {:.1} ns/check, {:.2} M checks/s",
                cpu * 1e9 / w.checks.len() as f64,
                w.checks.len() as f64 / cpu.max(1e-12) / 1e6
            );
        }
    }

    // Per-check latency: each check timed alone; timer overhead measured and subtracted.
    let mut overhead: Vec<f64> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    let oh = summarize(&mut overhead).p50;
    for (label, by_strings) in [("resolved ids", false), ("string ids", true)] {
        let mut all = Vec::with_capacity(w.checks.len());
        let mut per_kind: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for (c, r) in w.checks.iter().zip(&resolved) {
            let t = Instant::now();
            if by_strings {
                let req = Request {
                    principal: &c.principal,
                    action: &c.action,
                    resource_type: c.resource_type,
                    resource_id: &c.resource_id,
                    context: &ctx,
                    now,
                };
                black_box(snap.check(black_box(&req)));
            } else {
                black_box(snap.check_resolved(black_box(r), &ctx, now));
            }
            let ns = (t.elapsed().as_nanos() as f64 - oh).max(0.0);
            all.push(ns);
            let k = match c.kind {
                CheckKind::Privilege => 0,
                CheckKind::Queue => 1,
                CheckKind::Ownership => 2,
            };
            if let Some(v) = per_kind.get_mut(k) {
                v.push(ns);
            }
        }
        let s = summarize(&mut all);
        println!(
            "latency ({label}, timer overhead {oh:.0} ns subtracted): median {:.0} ns, p99 {:.0} ns, p99.9 {:.0} ns",
            s.p50, s.p99, s.p999
        );
        for (name, v) in ["privilege", "queue-scoped", "ownership"]
            .iter()
            .zip(per_kind.iter_mut())
        {
            let s = summarize(v);
            println!("    {name:13} median {:.0} ns, p99 {:.0} ns", s.p50, s.p99);
        }
    }
    if let Some(p) = peak_rss_bytes() {
        println!(
            "peak RSS (whole process, incl. the generated workload): {:.0} MiB",
            p as f64 / 1048576.0
        );
    }
}
