//! Incremental update cost: one assignment and one relation tuple applied to a built
//! snapshot by `Snapshot::patched` (sharing every untouched table), against a full
//! rebuild, on the generated workload.
//!
//! `cargo run --release -p rolecall-bench --bin patch-bench -- [--users N] [--conversations N]`

use std::sync::Arc;
use std::time::Instant;

use rolecall_bench::stats::summarize;
use rolecall_bench::workload::{Sizes, generate};
use rolecall_core::state::{Assignment, Scope};
use rolecall_core::{Change, Context, MemState, Request, Snapshot, Tuple, load_profile};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let d = Sizes::default();
    let sizes = Sizes {
        users: arg(&args, "--users", d.users),
        conversations: arg(&args, "--conversations", d.conversations),
        checks: 1,
        ..d
    };
    let w = generate(sizes);
    let Ok(profile) = load_profile("bench.toml", &w.profile_text) else {
        eprintln!("profile does not load");
        std::process::exit(2);
    };
    let profile = Arc::new(profile);
    let t = Instant::now();
    let Ok(snap) = Snapshot::build(profile.clone(), &w.state) else {
        eprintln!("state does not build");
        std::process::exit(2);
    };
    let full = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "workload: {} users, {} conversations; full build {full:.1} ms",
        sizes.users, sizes.conversations
    );
    let ctx = Context::new();
    let mut assignment_ms = Vec::new();
    let mut tuple_ms = Vec::new();
    let before = MemState::new(w.state.clone());
    let mut after = before.clone();
    for i in 0..50usize {
        // One assignment: give user u{i} role0 over the tenant.
        let user = format!("u{}", i * 37 % sizes.users.max(1));
        let give = [Change::PutAssignment(Assignment {
            id: format!("patch{i}"),
            principal: user.clone(),
            role: "role0".into(),
            scope: Scope::Tenant,
            expires_at: None,
        })];
        after.apply(&profile, &give[0]);
        let t = Instant::now();
        let Ok(p1) = snap.patched(&before, &after, &give) else {
            eprintln!("assignment patch refused");
            std::process::exit(2);
        };
        assignment_ms.push(t.elapsed().as_secs_f64() * 1e3);
        // Visible to a check at once.
        let allowed = p1
            .check(&Request {
                principal: &user,
                action: "conversation.edit",
                resource_type: "conversation",
                resource_id: "c0",
                context: &ctx,
                now: 0,
            })
            .allowed;
        std::hint::black_box(allowed);
        // One relation tuple: a queue member.
        let queue = format!("q{}", i % sizes.queues.max(1));
        let member = [Change::PutRelation(Tuple {
            rtype: "queue".into(),
            rid: queue,
            relation: "members".into(),
            stype: "user".into(),
            sid: user,
        })];
        let t = Instant::now();
        let Ok(p2) = snap.patched(&before, &after, &member) else {
            eprintln!("tuple patch refused");
            std::process::exit(2);
        };
        tuple_ms.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(p2.entity_count(0));
    }
    let a = summarize(&mut assignment_ms);
    let r = summarize(&mut tuple_ms);
    println!(
        "patch one assignment:     median {:.3} ms, p99 {:.3} ms",
        a.p50, a.p99
    );
    println!(
        "patch one relation tuple: median {:.3} ms, p99 {:.3} ms",
        r.p50, r.p99
    );
}
