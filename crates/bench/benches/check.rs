//! Criterion benchmark of the three check kinds on a generated tenant.
//! `cargo bench -p rolecall-bench --bench check`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rolecall_bench::workload::{CheckKind, Sizes, generate};
use rolecall_core::{Context, Request, Snapshot, load_profile};

fn bench(c: &mut Criterion) {
    let sizes = Sizes {
        checks: 3_000,
        ..Sizes::default()
    };
    let w = generate(sizes);
    let Ok(profile) = load_profile("bench.toml", &w.profile_text) else {
        return;
    };
    let Ok(snap) = Snapshot::build(Arc::new(profile), &w.state) else {
        return;
    };
    let ctx = Context::new();
    for kind in [CheckKind::Privilege, CheckKind::Queue, CheckKind::Ownership] {
        let reqs: Vec<_> = w
            .checks
            .iter()
            .filter(|x| x.kind == kind)
            .filter_map(|x| {
                snap.resolve(&Request {
                    principal: &x.principal,
                    action: &x.action,
                    resource_type: x.resource_type,
                    resource_id: &x.resource_id,
                    context: &ctx,
                    now: 0,
                })
                .ok()
            })
            .collect();
        let mut i = 0usize;
        c.bench_function(&format!("check_resolved/{kind:?}"), |b| {
            b.iter(|| {
                i = (i + 1) % reqs.len().max(1);
                if let Some(r) = reqs.get(i) {
                    black_box(snap.check_resolved(black_box(r), &ctx, 0));
                }
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
