//! The compiled engine against the reference evaluator on generated profiles,
//! tenants and requests: every decision (allow, deny, or error) must agree.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use rolecall_core::{Request, Snapshot, reference};
use support::generate;

const REQUESTS_PER_CASE: usize = 100;

/// Runs one generated case; returns how many requests were compared.
fn run_case(seed: u64) -> usize {
    let case = generate::case(seed, REQUESTS_PER_CASE);
    let profile = Arc::new(case.profile.clone());
    let snap = match Snapshot::build(profile, &case.state) {
        Ok(s) => s,
        Err(errors) => panic!(
            "seed {seed}: generated state rejected: {errors:?}\n{}",
            case.profile_text
        ),
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
        let same_error = fast.error.as_ref().map(std::mem::discriminant)
            == slow.error.as_ref().map(std::mem::discriminant);
        if fast.allowed != slow.allowed || !same_error {
            let action = case.profile.actions.iter().find(|a| a.id == r.action);
            panic!(
                "seed {seed}: engine {fast:?} but reference {slow:?}\nrequest {r:?}\nrequirement: {}\nexplain:\n{}\nprofile:\n{}\nstate: {:#?}",
                action.map_or("", |a| a.requires_text.as_str()),
                snap.explain(&req).render(),
                case.profile_text,
                case.state
            );
        }
        // Explain must reach the same decision as check.
        assert_eq!(
            snap.explain(&req).decision,
            fast,
            "seed {seed}: explain differs from check"
        );
    }
    case.requests.len()
}

proptest! {
    // 1,000 generated tenants × 100 requests = 100,000 compared decisions.
    #![proptest_config(ProptestConfig { cases: 1_000, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn engine_agrees_with_reference(seed in any::<u64>()) {
        prop_assert_eq!(run_case(seed), REQUESTS_PER_CASE);
    }
}

/// The long run: 100,000 tenants × 100 requests = 10,000,000 decisions.
/// `cargo test --release -p rolecall-core --test differential -- --ignored`
#[test]
#[ignore = "long: 10,000,000 decisions; run with --ignored"]
fn engine_agrees_with_reference_ten_million() {
    let total: usize = (0..100_000u64)
        .map(|s| run_case(s.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .sum();
    assert_eq!(total, 10_000_000);
}

/// Who-can and what-can equal brute-force reference checks over every principal or
/// resource.
fn lookups_agree(seed: u64) -> usize {
    let case = generate::case(seed, 12);
    let snap = Snapshot::build(Arc::new(case.profile.clone()), &case.state).unwrap();
    let users: Vec<String> = case
        .state
        .entities
        .iter()
        .filter(|e| e.ty == "user")
        .map(|e| e.id.clone())
        .collect();
    let mut compared = 0;
    for r in &case.requests {
        let ctx = rolecall_core::Context::new();
        let check = |principal: &str, ty: &str, id: &str| {
            reference::check(
                &case.profile,
                &case.state,
                &Request {
                    principal,
                    action: &r.action,
                    resource_type: ty,
                    resource_id: id,
                    context: &ctx,
                    now: r.now,
                },
            )
            .allowed
        };
        if let Ok(got) =
            snap.lookup_subjects(&r.action, &r.resource_type, &r.resource_id, &ctx, r.now)
        {
            let mut want: Vec<String> = users
                .iter()
                .filter(|u| check(u, &r.resource_type, &r.resource_id))
                .cloned()
                .collect();
            want.sort();
            assert_eq!(
                got, want,
                "seed {seed}: who may {} {}:{}",
                r.action, r.resource_type, r.resource_id
            );
            compared += 1;
        }
        if let Ok(got) = snap.lookup_resources(&r.principal, &r.action, &ctx, r.now) {
            let ty = &r.resource_type;
            let pool: Vec<String> = if ty == "tenant" {
                vec![case.state.tenant_id.clone()]
            } else {
                case.state
                    .entities
                    .iter()
                    .filter(|e| &e.ty == ty)
                    .map(|e| e.id.clone())
                    .collect()
            };
            let mut want: Vec<String> = pool
                .into_iter()
                .filter(|id| check(&r.principal, ty, id))
                .collect();
            want.sort();
            assert_eq!(
                got, want,
                "seed {seed}: what may {} {}",
                r.principal, r.action
            );
            compared += 1;
        }
    }
    compared
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn lookups_agree_with_brute_force(seed in any::<u64>()) {
        lookups_agree(seed);
    }
}
