//! The compiled engine against the reference evaluator on profiles, tenants and
//! requests generated from the fuzzer's bytes (the core differential test's
//! generator, driven by coverage instead of a counter): every decision must agree, and
//! explain must reach check's decision.
#![no_main]

#[path = "../../crates/core/tests/support/generate.rs"]
#[allow(dead_code, clippy::all)]
mod generate;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rolecall_core::{Request, Snapshot, reference};

fuzz_target!(|data: &[u8]| {
    let mut seed = [0u8; 8];
    for (i, b) in data.iter().enumerate() {
        seed[i % 8] ^= b.rotate_left((i / 8) as u32);
    }
    let case = generate::case(u64::from_le_bytes(seed), 20);
    let Ok(snap) = Snapshot::build(Arc::new(case.profile.clone()), &case.state) else {
        return;
    };
    for r in &case.requests {
        let req = Request {
            principal: &r.principal,
            action: &r.action,
            resource_type: &r.resource_type,
            resource_id: &r.resource_id,
            context: &r.context,
            now: r.now,
        };
        let fast = snap.check(&req);
        let slow = reference::check(&case.profile, &case.state, &req);
        assert_eq!(
            fast.allowed, slow.allowed,
            "engine and reference disagree on {r:?}"
        );
        assert_eq!(
            fast.error.as_ref().map(std::mem::discriminant),
            slow.error.as_ref().map(std::mem::discriminant),
            "error kinds differ on {r:?}"
        );
        assert_eq!(
            snap.explain(&req).decision,
            fast,
            "explain differs on {r:?}"
        );
    }
});
