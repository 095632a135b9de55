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

/// A patched snapshot decides exactly like one rebuilt from the same new state: random
/// small batches of changes (assignments made, replaced and removed, tuples written and deleted,
/// attributes replaced, settings set), applied to the state and to the snapshot.
fn patch_agrees_with_rebuild(seed: u64) -> (usize, usize) {
    use rand::prelude::*;
    use rolecall_core::profile::Value;
    use rolecall_core::state::{Assignment, Scope};
    use rolecall_core::{Change, MemState, Tuple};
    let case = generate::case(seed, 60);
    let profile = Arc::new(case.profile.clone());
    let snap = Snapshot::build(profile.clone(), &case.state).unwrap();
    let before = MemState::new(case.state.clone());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0xA5A5);
    let ids = |ty: &str| -> Vec<String> {
        case.state
            .entities
            .iter()
            .filter(|e| e.ty == ty)
            .map(|e| e.id.clone())
            .collect()
    };
    let (users, convs, queues) = (ids("user"), ids("conv"), ids("queue"));
    let roles: Vec<String> = case.profile.roles.iter().map(|r| r.id.clone()).collect();
    let mut after = before.clone();
    let mut changes = Vec::new();
    for _ in 0..rng.random_range(1..6) {
        let change = match rng.random_range(0..5) {
            0 => Change::PutAssignment(Assignment {
                // Sometimes an existing assignment's id: it is replaced, perhaps by
                // another user's (whose grants the old holder loses).
                id: match after.state.assignments.choose(&mut rng) {
                    Some(a) if rng.random_bool(0.3) => a.id.clone(),
                    _ => format!("new{}", changes.len()),
                },
                principal: users.choose(&mut rng).unwrap().clone(),
                role: roles.choose(&mut rng).unwrap().clone(),
                scope: if rng.random_bool(0.5) {
                    Scope::Tenant
                } else {
                    Scope::Queues(vec![queues.choose(&mut rng).unwrap().clone()])
                },
                expires_at: rng.random_bool(0.3).then_some(2_000),
            }),
            1 => match after.state.assignments.choose(&mut rng) {
                Some(a) => Change::DeleteAssignment { id: a.id.clone() },
                None => continue,
            },
            2 => {
                // A watcher added or removed, or a queue member.
                let (rtype, rid, relation) = if rng.random_bool(0.5) {
                    ("conv", convs.choose(&mut rng).unwrap(), "watchers")
                } else {
                    ("queue", queues.choose(&mut rng).unwrap(), "members")
                };
                let t = Tuple {
                    rtype: rtype.into(),
                    rid: rid.clone(),
                    relation: relation.into(),
                    stype: "user".into(),
                    sid: users.choose(&mut rng).unwrap().clone(),
                };
                if rng.random_bool(0.5) {
                    Change::PutRelation(t)
                } else {
                    Change::DeleteRelation(t)
                }
            }
            3 => {
                let c = convs.choose(&mut rng).unwrap();
                let old = after.entity("conv", c);
                let mut attributes: Vec<(String, Value)> = old
                    .map(|e| e.attributes.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(n, _)| n != "closed" && n != "n")
                    .collect();
                attributes.push(("closed".to_owned(), Value::Bool(rng.random_bool(0.5))));
                if rng.random_bool(0.5) {
                    attributes.push(("n".into(), Value::Int(rng.random_range(0..7))));
                }
                Change::UpsertEntity {
                    ty: "conv".into(),
                    id: c.clone(),
                    name: old.and_then(|e| e.name.clone()),
                    attributes,
                }
            }
            _ => Change::SetSetting {
                key: "s_bool".into(),
                value: Value::Bool(rng.random_bool(0.5)),
            },
        };
        after.apply(&profile, &change);
        changes.push(change);
    }
    let Ok(rebuilt) = Snapshot::build(profile.clone(), &after.state) else {
        return (0, 1);
    };
    let patched = match snap.patched(&before, &after, &changes) {
        Ok(p) => p,
        Err(_) => return (0, 1),
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
        let (a, b) = (patched.check(&req), rebuilt.check(&req));
        assert_eq!(
            a.allowed, b.allowed,
            "seed {seed}: patched {a:?} vs rebuilt {b:?} for {r:?}"
        );
        assert_eq!(
            a.error.is_some(),
            b.error.is_some(),
            "seed {seed}: {a:?} vs {b:?}"
        );
    }
    (1, 0)
}

#[test]
fn patched_snapshots_agree_with_rebuilds() {
    let (mut ok, mut rebuilt) = (0, 0);
    for seed in 0..400u64 {
        let (a, b) = patch_agrees_with_rebuild(seed.wrapping_mul(0x9E37_79B9));
        ok += a;
        rebuilt += b;
    }
    assert!(
        ok >= 300,
        "only {ok} of 400 cases could be patched ({rebuilt} needed a rebuild)"
    );
}
