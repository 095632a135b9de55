//! rolecall against peer engines on the same generated workload: cedar-policy 4.x,
//! casbin 2.x, a naive hand-written `HashMap` baseline and the best hand-optimized
//! dense baseline.
//!
//! `cargo run --release -p rolecall-bench --example peer-bench -- [--large] [--users N]
//!  [--conversations N] [--checks N] [--seed N] [--engines rolecall,dense,naive,cedar,casbin]
//!  [--budget-s 20]`
//!
//! Each engine runs in its own child process (this program started again with
//! `--child ENGINE`), one after the other, so that its memory is measured alone and the
//! engines do not share caches or cores. A child generates the workload, builds its
//! engine (build time; RSS growth and peak RSS growth over the build, from
//! `/proc/self/status` with the peak reset through `/proc/self/clear_refs`), builds
//! rolecall's snapshot as the reference, has its engine answer every check (on both
//! cores) and counts the decisions that differ from rolecall's. Any mismatch or error
//! fails the run. Then it times the checks on one core: a tight loop for checks per
//! second (from the thread's on-CPU time, `/proc/thread-self/schedstat`, so that other
//! processes on the machine do not inflate it; the wall-clock mean is printed beside
//! it), and each check timed alone (timer overhead subtracted) for the median and p99.
//! Engines slower than `--budget-s` seconds per pass over all checks are timed on
//! the first checks only (the mix stays a third of each kind); the table says how many.
//!
//! The peers live in this example (a dev-dependency of the bench crate), never in the
//! product crates.

mod casbin;
mod cedar;
mod dense;
mod naive;
mod tenant;

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use rolecall_bench::stats::{peak_rss_bytes, rss_bytes, summarize, thread_cpu_ns};
use rolecall_bench::workload::{Check, CheckKind, Sizes, Workload, generate};
use rolecall_core::{Context, Request, ResolvedRequest, Snapshot, load_profile};

/// A peer engine's check by string ids.
type CheckFn = Box<dyn Fn(&Check) -> Result<bool, String> + Sync>;

const ENGINES: &[&str] = &["rolecall", "dense", "naive", "cedar", "casbin"];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match arg(&args, "--child") {
        Some(engine) => match child(&args, &engine) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("{engine}: {e}");
                ExitCode::FAILURE
            }
        },
        None => match parent(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// One row of the final table, as a child prints it.
#[derive(Debug, Clone)]
struct Row {
    engine: String,
    variant: String,
    build_ms: f64,
    rss_mib: f64,
    peak_mib: f64,
    mismatches: usize,
    timed: usize,
    total: usize,
    p50: f64,
    p99: f64,
    mean: f64,
    per_s: f64,
    wall_mean: f64,
}

impl Row {
    fn line(&self) -> String {
        format!(
            "ROW\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.engine,
            self.variant,
            self.build_ms,
            self.rss_mib,
            self.peak_mib,
            self.mismatches,
            self.timed,
            self.total,
            self.p50,
            self.p99,
            self.mean,
            self.per_s,
            self.wall_mean
        )
    }

    fn parse(line: &str) -> Option<Row> {
        let f: Vec<&str> = line.strip_prefix("ROW\t")?.split('\t').collect();
        let num = |i: usize| -> Option<f64> { f.get(i)?.parse().ok() };
        Some(Row {
            engine: (*f.first()?).to_owned(),
            variant: (*f.get(1)?).to_owned(),
            build_ms: num(2)?,
            rss_mib: num(3)?,
            peak_mib: num(4)?,
            mismatches: num(5)? as usize,
            timed: num(6)? as usize,
            total: num(7)? as usize,
            p50: num(8)?,
            p99: num(9)?,
            mean: num(10)?,
            per_s: num(11)?,
            wall_mean: num(12)?,
        })
    }
}

fn parent(args: &[String]) -> Result<bool, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let engines: Vec<String> = arg(args, "--engines")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|| ENGINES.iter().map(|s| (*s).to_owned()).collect());
    let sizes = Sizes::from_args(args);
    println!("workload: {sizes:?}");
    println!(
        "machine: {} cores; each engine in its own child process, one after the other",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let passthrough: Vec<String> = args.iter().skip(1).cloned().collect();
    let mut rows = Vec::new();
    let mut ok = true;
    for engine in &engines {
        if !ENGINES.contains(&engine.as_str()) {
            return Err(format!("unknown engine `{engine}` (known: {ENGINES:?})"));
        }
        let t = Instant::now();
        let mut child = Command::new(&exe)
            .args(&passthrough)
            .args(["--child", engine])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start a child: {e}"))?;
        let out = child.stdout.take().ok_or("no child stdout")?;
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| e.to_string())?;
            match Row::parse(&line) {
                Some(r) => rows.push(r),
                None => println!("[{engine}] {line}"),
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        println!(
            "[{engine}] finished in {:.1} s ({status})",
            t.elapsed().as_secs_f64()
        );
        if !status.success() {
            ok = false;
        }
    }
    println!();
    println!(
        "| engine | variant | build ms | RSS growth MiB | peak growth MiB | mismatches | timed checks | median ns | p99 ns | mean ns (on-CPU) | checks/s (1 core, on-CPU) | mean ns (wall) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {}{} | {:.0} | {:.0} | {:.1} | {:.0} | {:.1} |",
            r.engine,
            r.variant,
            r.build_ms,
            r.rss_mib,
            r.peak_mib,
            r.mismatches,
            r.timed,
            if r.timed < r.total {
                format!(" of {}", r.total)
            } else {
                String::new()
            },
            r.p50,
            r.p99,
            r.mean,
            r.per_s,
            r.wall_mean
        );
        if r.mismatches > 0 {
            ok = false;
        }
    }
    let find = |e: &str, v: &str| rows.iter().find(|r| r.engine == e && r.variant == v);
    println!();
    for (ours, theirs) in [
        (("rolecall", "string ids"), ("cedar", "string ids")),
        (("rolecall", "string ids"), ("casbin", "string ids")),
        (("rolecall", "string ids"), ("naive", "string ids")),
        (("rolecall", "string ids"), ("dense", "string ids")),
        (("rolecall", "resolved ids"), ("dense", "resolved ids")),
    ] {
        if let (Some(a), Some(b)) = (find(ours.0, ours.1), find(theirs.0, theirs.1)) {
            println!(
                "{} ({}) vs {} ({}): mean {:.2}x, median {:.2}x faster (>1 = rolecall faster)",
                ours.0,
                ours.1,
                theirs.0,
                theirs.1,
                b.mean / a.mean.max(1e-9),
                b.p50 / a.p50.max(1e-9),
            );
        }
    }
    if !ok {
        println!("FAILED: a child failed or some engine disagreed with rolecall");
    }
    Ok(ok)
}

/// Timing of one engine over the first `n` checks.
struct Timing {
    n: usize,
    p50: f64,
    p99: f64,
    mean: f64,
    per_s: f64,
    wall_mean: f64,
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

/// Times `f(i)` for `i < n`: a tight loop, then each call alone.
fn time<F: FnMut(usize) -> bool>(n: usize, overhead: f64, mut f: F) -> Timing {
    // Warm-up: one pass over up to 100,000 checks.
    for i in 0..n.min(100_000) {
        black_box(f(black_box(i)));
    }
    let cpu0 = thread_cpu_ns();
    let t = Instant::now();
    let mut allowed = 0usize;
    for i in 0..n {
        allowed += usize::from(black_box(f(black_box(i))));
    }
    let wall = t.elapsed().as_secs_f64();
    // On-CPU time when readable (excludes time other processes held the core).
    let el = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => wall,
    };
    black_box(allowed);
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        black_box(f(black_box(i)));
        lat.push((t.elapsed().as_nanos() as f64 - overhead).max(0.0));
    }
    let s = summarize(&mut lat);
    Timing {
        n,
        p50: s.p50,
        p99: s.p99,
        mean: el * 1e9 / n.max(1) as f64,
        per_s: n as f64 / el.max(1e-12),
        wall_mean: wall * 1e9 / n.max(1) as f64,
    }
}

/// Has `f` answer every check on both cores; counts decisions that differ from
/// `reference`, per kind, and errors. Returns (mismatches, errors, seconds per check
/// on one core).
fn verify<F>(name: &str, checks: &[Check], reference: &[bool], f: F) -> (usize, usize, f64)
where
    F: Fn(&Check) -> Result<bool, String> + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2);
    let chunk = checks.len().div_ceil(threads).max(1);
    let t = Instant::now();
    let parts: Vec<([usize; 3], usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = checks
            .chunks(chunk)
            .zip(reference.chunks(chunk))
            .map(|(cs, rs)| {
                let f = &f;
                s.spawn(move || {
                    let mut per_kind = [0usize; 3];
                    let mut errors = 0usize;
                    let mut examples = Vec::new();
                    for (c, &want) in cs.iter().zip(rs) {
                        let got = match f(c) {
                            Ok(b) => b,
                            Err(e) => {
                                errors += 1;
                                if examples.len() < 3 {
                                    examples.push(format!("error on {c:?}: {e}"));
                                }
                                false
                            }
                        };
                        if got != want {
                            let k = match c.kind {
                                CheckKind::Privilege => 0,
                                CheckKind::Queue => 1,
                                CheckKind::Ownership => 2,
                            };
                            if let Some(x) = per_kind.get_mut(k) {
                                *x += 1;
                            }
                            if examples.len() < 5 {
                                examples.push(format!(
                                    "mismatch: {} {} {} {}: rolecall {want}, {name} {got}",
                                    c.principal, c.action, c.resource_type, c.resource_id
                                ));
                            }
                        }
                    }
                    (per_kind, errors, examples)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let el = t.elapsed().as_secs_f64();
    let mut per_kind = [0usize; 3];
    let mut errors = 0;
    for (k, e, ex) in &parts {
        for (a, b) in per_kind.iter_mut().zip(k) {
            *a += b;
        }
        errors += e;
        for x in ex {
            println!("  {x}");
        }
    }
    let total: usize = per_kind.iter().sum();
    println!(
        "verify: {name} answered {} checks in {el:.1} s on {threads} threads: {total} mismatches \
         (privilege {}, queue-scoped {}, ownership {}), {errors} errors",
        checks.len(),
        per_kind.first().copied().unwrap_or(0),
        per_kind.get(1).copied().unwrap_or(0),
        per_kind.get(2).copied().unwrap_or(0),
    );
    (
        total,
        errors,
        el * threads as f64 / checks.len().max(1) as f64,
    )
}

/// Memory around a build: (RSS growth, peak RSS growth), MiB.
struct Mem {
    before: u64,
}

impl Mem {
    fn start() -> Self {
        // Resets VmHWM to the current RSS (Linux 4.0+), so the peak is the build's own.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        if !reset {
            println!("note: could not reset the peak RSS; peak growth includes earlier peaks");
        }
        Self {
            before: rss_bytes().unwrap_or(0),
        }
    }

    fn end(&self) -> (f64, f64) {
        let mib = |b: u64| b as f64 / 1048576.0;
        (
            mib(rss_bytes().unwrap_or(0).saturating_sub(self.before)),
            mib(peak_rss_bytes().unwrap_or(0).saturating_sub(self.before)),
        )
    }
}

fn budget_n(args: &[String], total: usize, secs_per_check: f64) -> usize {
    let budget: f64 = arg(args, "--budget-s")
        .and_then(|s| s.parse().ok())
        .unwrap_or(20.0);
    let n = (budget / secs_per_check.max(1e-12)) as usize;
    if n >= total {
        total
    } else {
        (n.max(30_000) / 3 * 3).min(total)
    }
}

fn row(
    engine: &str,
    variant: &str,
    build_ms: f64,
    mem: (f64, f64),
    mismatches: usize,
    total: usize,
    t: &Timing,
) -> Row {
    Row {
        engine: engine.to_owned(),
        variant: variant.to_owned(),
        build_ms,
        rss_mib: mem.0,
        peak_mib: mem.1,
        mismatches,
        timed: t.n,
        total,
        p50: t.p50,
        p99: t.p99,
        mean: t.mean,
        per_s: t.per_s,
        wall_mean: t.wall_mean,
    }
}

fn reference(w: &Workload, snap: &Snapshot) -> Vec<bool> {
    let ctx = Context::new();
    w.checks
        .iter()
        .map(|c| {
            snap.check(&Request {
                principal: &c.principal,
                action: &c.action,
                resource_type: c.resource_type,
                resource_id: &c.resource_id,
                context: &ctx,
                now: 0,
            })
            .allowed
        })
        .collect()
}

fn child(args: &[String], engine: &str) -> Result<bool, String> {
    let sizes = Sizes::from_args(args);
    let t = Instant::now();
    let w = generate(sizes);
    println!(
        "generated the workload in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let profile = Arc::new(load_profile("bench.toml", &w.profile_text).map_err(|e| e.to_string())?);
    let total = w.checks.len();
    if engine == "rolecall" {
        // What the reference decides, so that a run shows both answers occur per kind.
        let snap = Snapshot::build(profile.clone(), &w.state).map_err(|e| format!("{e:?}"))?;
        let r = reference(&w, &snap);
        for (name, kind) in [
            ("privilege", CheckKind::Privilege),
            ("queue-scoped", CheckKind::Queue),
            ("ownership", CheckKind::Ownership),
        ] {
            let (n, yes) = w
                .checks
                .iter()
                .zip(&r)
                .filter(|(c, _)| c.kind == kind)
                .fold((0, 0), |(n, y), (_, a)| (n + 1, y + usize::from(*a)));
            println!("reference decisions, {name}: {yes} of {n} allowed");
        }
    }
    let overhead = timer_overhead();
    let build_reference =
        |p: &Arc<rolecall_core::Profile>| -> Result<(Snapshot, Vec<bool>), String> {
            let snap = Snapshot::build(p.clone(), &w.state).map_err(|e| format!("{e:?}"))?;
            let r = reference(&w, &snap);
            Ok((snap, r))
        };
    let ctx = Context::new();
    let mut rows = Vec::new();
    let mut failed = false;
    match engine {
        "rolecall" => {
            let mem = Mem::start();
            let t = Instant::now();
            let p =
                Arc::new(load_profile("bench.toml", &w.profile_text).map_err(|e| e.to_string())?);
            let snap = Snapshot::build(p, &w.state).map_err(|e| format!("{e:?}"))?;
            let build_ms = t.elapsed().as_secs_f64() * 1e3;
            let mem = mem.end();
            println!(
                "built in {build_ms:.1} ms; snapshot tables {:.1} MiB ({} bytes per user)",
                snap.heap_bytes() as f64 / 1048576.0,
                snap.heap_bytes() / sizes.users.max(1)
            );
            let reference = reference(&w, &snap);
            let resolved: Vec<ResolvedRequest> = w
                .checks
                .iter()
                .map(|c| {
                    snap.resolve(&Request {
                        principal: &c.principal,
                        action: &c.action,
                        resource_type: c.resource_type,
                        resource_id: &c.resource_id,
                        context: &ctx,
                        now: 0,
                    })
                    .map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?;
            // The resolved path against the string path.
            let (mm, errors, _) = verify("rolecall (resolved ids)", &w.checks, &reference, |c| {
                let r = snap
                    .resolve(&Request {
                        principal: &c.principal,
                        action: &c.action,
                        resource_type: c.resource_type,
                        resource_id: &c.resource_id,
                        context: &ctx,
                        now: 0,
                    })
                    .map_err(|e| e.to_string())?;
                Ok(snap.check_resolved(&r, &ctx, 0).allowed)
            });
            failed |= mm + errors > 0;
            let ts = time(total, overhead, |i| {
                w.checks.get(i).is_some_and(|c| {
                    snap.check(&Request {
                        principal: &c.principal,
                        action: &c.action,
                        resource_type: c.resource_type,
                        resource_id: &c.resource_id,
                        context: &ctx,
                        now: 0,
                    })
                    .allowed
                })
            });
            rows.push(row(
                engine,
                "string ids",
                build_ms,
                mem,
                mm + errors,
                total,
                &ts,
            ));
            let tr = time(total, overhead, |i| {
                resolved
                    .get(i)
                    .is_some_and(|r| snap.check_resolved(r, &ctx, 0).allowed)
            });
            rows.push(row(
                engine,
                "resolved ids",
                build_ms,
                mem,
                mm + errors,
                total,
                &tr,
            ));
        }
        "dense" => {
            let mem = Mem::start();
            let t = Instant::now();
            let d = dense::Dense::build(&profile, &w.state)?;
            let build_ms = t.elapsed().as_secs_f64() * 1e3;
            let mem = mem.end();
            println!(
                "built in {build_ms:.1} ms; check tables {:.1} MiB ({} bytes per user)",
                d.table_bytes() as f64 / 1048576.0,
                d.table_bytes() / sizes.users.max(1)
            );
            let (_snap, reference) = build_reference(&profile)?;
            let (mm, errors, _) = verify("dense", &w.checks, &reference, |c| d.check(c));
            failed |= mm + errors > 0;
            let resolved: Vec<dense::Req> = w
                .checks
                .iter()
                .map(|c| d.resolve(c))
                .collect::<Result<_, _>>()?;
            let ts = time(total, overhead, |i| {
                w.checks.get(i).is_some_and(|c| d.check(c).unwrap_or(false))
            });
            rows.push(row(
                engine,
                "string ids",
                build_ms,
                mem,
                mm + errors,
                total,
                &ts,
            ));
            let tr = time(total, overhead, |i| {
                resolved.get(i).is_some_and(|r| d.decide(*r))
            });
            rows.push(row(
                engine,
                "resolved ids",
                build_ms,
                mem,
                mm + errors,
                total,
                &tr,
            ));
        }
        "naive" | "cedar" | "casbin" => {
            let mem = Mem::start();
            let t = Instant::now();
            let e: CheckFn = match engine {
                "naive" => {
                    let n = naive::Naive::build(&profile, &w.state)?;
                    Box::new(move |c| n.check(c))
                }
                "cedar" => {
                    let n = cedar::Cedar::build(&profile, &w.state)?;
                    Box::new(move |c| n.check(c))
                }
                _ => {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .map_err(|e| e.to_string())?;
                    let n = rt.block_on(casbin::Casbin::build(&profile, &w.state))?;
                    Box::new(move |c| n.check(c))
                }
            };
            let build_ms = t.elapsed().as_secs_f64() * 1e3;
            let mem = mem.end();
            println!("built in {build_ms:.1} ms");
            let (_snap, reference) = build_reference(&profile)?;
            let (mm, errors, per_check) = verify(engine, &w.checks, &reference, &e);
            failed |= mm + errors > 0;
            let n = budget_n(args, total, per_check);
            if n < total {
                println!(
                    "{engine} takes about {:.1} µs per check: timing the first {n} of {total} checks",
                    per_check * 1e6
                );
            }
            let ts = time(n, overhead, |i| {
                w.checks.get(i).is_some_and(|c| e(c).unwrap_or(false))
            });
            rows.push(row(
                engine,
                "string ids",
                build_ms,
                mem,
                mm + errors,
                total,
                &ts,
            ));
        }
        other => return Err(format!("unknown engine `{other}`")),
    }
    for r in &rows {
        println!("{}", r.line());
    }
    Ok(!failed)
}
