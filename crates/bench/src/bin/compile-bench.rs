//! Profile compilation cost against the length of a role-inclusion chain: a profile of
//! `n` roles where `r{i}` includes `r{i-1}` (each also granting one privilege of a
//! 200-privilege catalog, three levels deep), loaded (`load_profile`: parse, validate,
//! inclusion cycles) and compiled with 1,000 users (`Snapshot::build`: every role
//! closed, users' sets interned). That is what creating such a tenant and starting a
//! node with it cost, apart from the store; each figure is the best of `--runs` runs
//! (wall clock). Near-linear growth is the point: before
//! the fix, 2,000 chained roles took 15.9 s to create (debug build: 19.8 s to load and
//! 5.8 s to build).
//!
//! `cargo run --release -p rolecall-bench --bin compile-bench -- [--sizes 1000,2000,10000] [--runs 5]`

use std::sync::Arc;
use std::time::Instant;

use rolecall_core::state::{Assignment, Entity, Scope, TenantState};
use rolecall_core::{Context, Request, Snapshot, load_profile};

/// Sections × top privileges × children of each: 8 × 5 × (1 + 4) = 200 privileges.
const SECTIONS: usize = 8;
const TOPS: usize = 5;
const CHILDREN: usize = 4;
const USERS: usize = 1_000;

/// The `i`-th privilege's id and whether it has levels.
fn privilege(i: usize) -> (String, bool) {
    let per_top = 1 + CHILDREN;
    let (top, within) = (i / per_top, i % per_top);
    let levels = top % 2 == 0;
    if within == 0 {
        (format!("t{top}"), levels)
    } else {
        (format!("t{top}c{within}"), levels)
    }
}

fn privileges() -> usize {
    SECTIONS * TOPS * (1 + CHILDREN)
}

/// The profile text with `n` chained roles.
fn profile(n: usize) -> String {
    let mut t = String::with_capacity(64 * n + 32_000);
    t.push_str("[profile]\nid = \"chain\"\nname = \"Chained roles\"\n\n");
    for s in 0..SECTIONS {
        t.push_str(&format!(
            "[[section]]\nid = \"s{s}\"\nname = \"Section {s}\"\n"
        ));
    }
    for i in 0..privileges() {
        let (id, levels) = privilege(i);
        let top = i / (1 + CHILDREN);
        let parent = if i % (1 + CHILDREN) == 0 {
            format!("s{}", top / TOPS)
        } else {
            format!("t{top}")
        };
        t.push_str(&format!(
            "[[privilege]]\nid = \"{id}\"\nname = \"Privilege {id}\"\nparent = \"{parent}\"\n"
        ));
        if levels {
            t.push_str("kind = \"levels\"\nlevels = [\"View\", \"Edit\", \"Delete\"]\n");
        }
    }
    for r in 0..n {
        let (id, levels) = privilege(r % privileges());
        let value = if levels {
            match r % 3 {
                0 => "\"View\"",
                1 => "\"Edit\"",
                _ => "\"Delete\"",
            }
        } else {
            "true"
        };
        t.push_str(&format!(
            "[[role]]\nid = \"r{r}\"\ngrants = {{ {id} = {value} }}\n"
        ));
        if r > 0 {
            t.push_str(&format!("includes = [\"r{}\"]\n", r - 1));
        }
    }
    for a in 0..50 {
        let (id, levels) = privilege(a * 3 % privileges());
        let need = if levels {
            format!("has(\"{id}\", \"Edit\")")
        } else {
            format!("has(\"{id}\")")
        };
        t.push_str(&format!(
            "[[action]]\nid = \"a{a}\"\nresource = \"tenant\"\nrequires = '{need} or has(\"t0\")'\n"
        ));
    }
    t
}

/// 1,000 users, each given one role of the chain.
fn state(n: usize) -> TenantState {
    TenantState {
        tenant_id: "t".into(),
        entities: (0..USERS)
            .map(|u| Entity {
                ty: "user".into(),
                id: format!("u{u}"),
                ..Entity::default()
            })
            .collect(),
        assignments: (0..USERS)
            .map(|u| Assignment {
                id: format!("a{u}"),
                principal: format!("u{u}"),
                role: format!("r{}", u * 7_919 % n),
                scope: Scope::Tenant,
                expires_at: None,
            })
            .collect(),
        ..TenantState::default()
    }
}

/// The best of the runs: on a shared machine, the run least disturbed by the others.
fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "1000,2000,5000,10000,20000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let runs: usize = arg(&args, "--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "roles", "text KiB", "load ms", "build ms", "total ms", "µs per role"
    );
    let ctx = Context::new();
    for n in sizes {
        let text = profile(n);
        let st = state(n.max(1));
        let (mut loads, mut builds) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            let p = match load_profile("chain.toml", &text) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{n} roles: the profile does not load: {e}");
                    std::process::exit(2);
                }
            };
            loads.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let snap = match Snapshot::build(Arc::new(p), &st) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{n} roles: the state does not build: {e:?}");
                    std::process::exit(2);
                }
            };
            builds.push(t.elapsed().as_secs_f64() * 1e3);
            // u0 holds r0, which grants `t0` (and every role of the chain includes r0).
            let d = snap.check(&Request {
                principal: "u0",
                action: "a0",
                resource_type: "tenant",
                resource_id: "t",
                context: &ctx,
                now: 0,
            });
            if !d.allowed {
                eprintln!("{n} roles: u0 should be allowed a0: {d:?}");
                std::process::exit(2);
            }
        }
        let (load, build) = (best(&loads), best(&builds));
        println!(
            "{n:>7} {:>10.0} {load:>10.1} {build:>10.1} {:>10.1} {:>12.1}",
            text.len() as f64 / 1024.0,
            load + build,
            (load + build) * 1e3 / n as f64
        );
    }
}
