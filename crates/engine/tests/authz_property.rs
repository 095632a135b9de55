//! Self-authorization as a property: in tenants of three shipped profiles (Phones Pro,
//! whose administration is decided per org unit; Zoom, per user and tenant-wide;
//! Horizon, per user with anti-escalation), random users hold random templates over
//! random scopes and try random management operations. No operation succeeds whose
//! governing action (or appointment rule) denies its actor on the object concerned, no
//! write gives anything its actor does not hold there, and no list holds an item its
//! reader may not read. The oracle is written here, plainly, from the profile's
//! `[management]` table — not with the engine's own resolution.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::sync::Arc;

use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rolecall_core::profile::{Governance, ORG_PARENT, ORG_UNIT, TENANT, USER};
use rolecall_core::snapshot::AppointRequest;
use rolecall_core::state::{Assignment, Scope};
use rolecall_core::{Change, Context, Request, Snapshot};
use rolecall_engine::authz::{Object, Reader};
use rolecall_engine::commands::{
    ApplyChanges, AssignmentDraft, CreateAssignment, DeleteAssignment, DeleteEntity, EntityDraft,
    EntityKind, UpsertEntity,
};
use rolecall_engine::{Actor, Engine, Options, ProfileSource, TenantSpec, open_store};

const SYSTEM: Actor = Actor::System { name: "test" };

/// The oracle: whether the profile's action for `op` allows `user` on the org unit,
/// user or tenant named, written out plainly.
fn profile_allows(snap: &Snapshot, user: &str, op: &str, object: Object<'_>, now: i64) -> bool {
    let p = snap.profile();
    let Governance::Action(a) = p.governance(op) else {
        return false;
    };
    let action = &p.actions[a];
    let ctx = Context::new();
    let check = |ty: usize, id: &str| {
        snap.check(&Request {
            principal: user,
            action: &action.id,
            resource_type: &p.types[ty].id,
            resource_id: id,
            context: &ctx,
            now,
        })
        .allowed
    };
    // Every root org unit, for what no org unit holds.
    let roots = || {
        let roots: Vec<String> = (0..snap.entity_count(ORG_UNIT) as u32)
            .filter(|&o| snap.related(ORG_UNIT, o, ORG_PARENT).is_empty())
            .map(|o| snap.entity_id(ORG_UNIT, o).unwrap().to_owned())
            .collect();
        !roots.is_empty() && roots.iter().all(|r| check(ORG_UNIT, r))
    };
    match (action.resource, object) {
        (TENANT, _) => check(TENANT, snap.tenant_id()),
        (ORG_UNIT, Object::Entity { ty, id }) => {
            let Some(e) = snap.entity(ty, id) else {
                return roots();
            };
            match snap.org_unit_of(ty, e) {
                Some(o) => check(ORG_UNIT, snap.entity_id(ORG_UNIT, o).unwrap()),
                None => roots(),
            }
        }
        (ORG_UNIT, _) => roots(),
        (r, Object::Entity { ty, id }) if r == ty => check(ty, id),
        _ => false,
    }
}

struct World {
    engine: Arc<Engine>,
    users: Vec<String>,
    units: Vec<String>,
    roles: Vec<String>,
}

/// A tenant of `profile`: a company tree two levels deep (of whatever kinds the profile
/// declares), 12 users spread over it, and random templates over random scopes.
async fn world(profile: &str, seed: u64, dir: &std::path::Path) -> World {
    let url = format!(
        "sqlite://{}",
        dir.join(format!("{profile}-{seed}.db")).display()
    );
    let engine = Engine::open(open_store(&url).await.unwrap(), Options::default())
        .await
        .unwrap();
    let t = engine
        .create_tenant(
            &SYSTEM,
            TenantSpec {
                id: "t".into(),
                name: None,
                profile: ProfileSource::Shipped(profile.into()),
            },
        )
        .await
        .unwrap();
    let p = t.current().profile.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut changes = Vec::new();
    let mut units: Vec<(String, usize)> = Vec::new();
    let unit = |id: &str, kind: &str, parent: Option<&str>, changes: &mut Vec<Change>| {
        changes.push(Change::UpsertEntity {
            ty: "org_unit".into(),
            id: id.into(),
            name: None,
            attributes: vec![(
                "kind".into(),
                rolecall_core::profile::Value::Str(kind.into()),
            )],
        });
        if let Some(parent) = parent {
            changes.push(Change::PutRelation(rolecall_core::Tuple {
                rtype: "org_unit".into(),
                rid: id.into(),
                relation: "parent".into(),
                stype: "org_unit".into(),
                sid: parent.into(),
            }));
        }
    };
    let root = p
        .org_kinds
        .iter()
        .position(|k| k.parents.is_empty())
        .unwrap();
    unit("root", &p.org_kinds[root].id, None, &mut changes);
    units.push(("root".into(), root));
    for level in 0..2 {
        let parents: Vec<(String, usize)> = units.clone();
        for (pid, pkind) in parents
            .iter()
            .filter(|(id, _)| id.matches('.').count() == level)
        {
            let kids: Vec<usize> = (0..p.org_kinds.len())
                .filter(|k| p.org_kinds[*k].parents.contains(pkind))
                .collect();
            for (i, k) in kids.iter().enumerate().take(2) {
                let id = format!("{pid}.{i}");
                unit(&id, &p.org_kinds[*k].id, Some(pid), &mut changes);
                units.push((id, *k));
            }
        }
    }
    let unit_ids: Vec<String> = units.iter().map(|(u, _)| u.clone()).collect();
    let users: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
    for u in &users {
        changes.push(Change::UpsertEntity {
            ty: "user".into(),
            id: u.clone(),
            name: None,
            attributes: vec![],
        });
        changes.push(Change::PutRelation(rolecall_core::Tuple {
            rtype: "user".into(),
            rid: u.clone(),
            relation: "org_unit".into(),
            stype: "org_unit".into(),
            sid: unit_ids.choose(&mut rng).unwrap().clone(),
        }));
    }
    let roles: Vec<String> = p.roles.iter().map(|r| r.id.clone()).collect();
    for (i, u) in users.iter().enumerate().take(9) {
        let scope = if rng.random_bool(0.4) {
            Scope::Tenant
        } else {
            Scope::OrgUnits(vec![unit_ids.choose(&mut rng).unwrap().clone()])
        };
        changes.push(Change::PutAssignment(Assignment {
            id: format!("seed{i}"),
            principal: u.clone(),
            role: roles.choose(&mut rng).unwrap().clone(),
            scope,
            expires_at: None,
        }));
    }
    t.execute(&SYSTEM, &ApplyChanges(changes)).await.unwrap();
    World {
        engine,
        users,
        units: unit_ids,
        roles,
    }
}

/// Random operations by random users of one world; panics on the first violation.
async fn exercise(w: &World, seed: u64) -> (usize, usize) {
    let t = w.engine.tenant("t").unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED);
    let (mut allowed, mut tried) = (0, 0);
    let now = t.now();
    for step in 0..40 {
        let me = w.users.choose(&mut rng).unwrap().clone();
        let actor = Actor::User {
            tenant: "t".into(),
            principal: me.clone(),
            token: "tok".into(),
        };
        let before = t.current();
        let snap = &before.snapshot;
        let target = w.users.choose(&mut rng).unwrap().clone();
        let unit = w.units.choose(&mut rng).unwrap().clone();
        // Reads: every item a list shows, its reader may read.
        for (op, kind) in [
            ("users.read", EntityKind::User),
            ("org_units.read", EntityKind::OrgUnit),
        ] {
            if let Ok(reader) = Reader::new(snap, &actor, op, now) {
                let (ty, ty_name) = kind.type_in(&before.profile).unwrap();
                for e in before.mem.state.entities.iter().filter(|e| e.ty == ty_name) {
                    let shown = reader.may(Object::Entity { ty, id: &e.id });
                    let oracle =
                        profile_allows(snap, &me, op, Object::Entity { ty, id: &e.id }, now);
                    assert_eq!(shown, oracle, "seed {seed} step {step}: {me} {op} {}", e.id);
                }
            }
        }
        // Writes.
        let role = w.roles.choose(&mut rng).unwrap().clone();
        let scope = if rng.random_bool(0.3) {
            Scope::Tenant
        } else {
            Scope::OrgUnits(vec![unit.clone()])
        };
        let pick = rng.random_range(0..4);
        tried += 1;
        let result = match pick {
            0 => {
                t.execute(
                    &actor,
                    &CreateAssignment(AssignmentDraft {
                        id: None,
                        principal: target.clone(),
                        role: role.clone(),
                        scope: Some(scope.clone()),
                        expires_at: None,
                    }),
                )
                .await
            }
            1 => match before.mem.state.assignments.choose(&mut rng) {
                Some(a) => t.execute(&actor, &DeleteAssignment(a.id.clone())).await,
                None => continue,
            },
            2 => {
                t.execute(
                    &actor,
                    &UpsertEntity {
                        kind: EntityKind::User,
                        id: format!("new{step}"),
                        create: true,
                        draft: EntityDraft {
                            org_unit: Some(unit.clone()),
                            ..EntityDraft::default()
                        },
                    },
                )
                .await
            }
            _ => {
                t.execute(
                    &actor,
                    &DeleteEntity {
                        kind: EntityKind::User,
                        id: target.clone(),
                    },
                )
                .await
            }
        };
        let Ok(_) = result else { continue };
        allowed += 1;
        let after = t.current();
        match pick {
            0 => {
                // Given by an appointment rule, or by `assignments.write` without giving
                // more than the giver holds over the scope.
                if before.profile.appointments.iter().any(|a| a.role == role) {
                    let d = snap.check_appointment(&AppointRequest {
                        appointer: &me,
                        role: &role,
                        target: &target,
                        scope: &scope,
                        now,
                    });
                    assert!(
                        d.decision.allowed,
                        "seed {seed} step {step}: {me} appointed {role}"
                    );
                } else {
                    assert!(
                        profile_allows(snap, &me, "assignments.write", Object::user(&target), now),
                        "seed {seed} step {step}: {me} assigned {role} to {target}"
                    );
                    let u = snap.entity(USER, &me).unwrap();
                    let need = snap.role_set(&role).unwrap();
                    let places: Vec<(usize, u32)> = match &scope {
                        Scope::Tenant => vec![(TENANT, 0)],
                        Scope::OrgUnits(ids) => ids
                            .iter()
                            .map(|i| (ORG_UNIT, snap.entity(ORG_UNIT, i).unwrap()))
                            .collect(),
                        Scope::Queues(_) => vec![],
                    };
                    for (ty, e) in places {
                        let have = snap.held_set(u, ty, e, now);
                        assert_eq!(
                            snap.first_missing(&need, &have),
                            None,
                            "seed {seed} step {step}: {me} gave {role} beyond what it holds"
                        );
                    }
                }
            }
            1 => {}
            2 => assert!(
                profile_allows(
                    &after.snapshot,
                    &me,
                    "users.write",
                    Object::user(&format!("new{step}")),
                    now
                ),
                "seed {seed} step {step}: {me} created a user in {unit}"
            ),
            _ => assert!(
                profile_allows(snap, &me, "users.delete", Object::user(&target), now),
                "seed {seed} step {step}: {me} deleted {target}"
            ),
        }
    }
    (allowed, tried)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_operation_succeeds_that_the_profile_denies() {
    let dir = std::env::temp_dir().join(format!("rolecall-authz-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut totals = Vec::new();
    for profile in ["phones-pro", "zoom-contact-center", "horizon-contact"] {
        let (mut allowed, mut tried) = (0, 0);
        for seed in 0..12u64 {
            let w = world(profile, seed, &dir).await;
            let (a, t) = exercise(&w, seed).await;
            allowed += a;
            tried += t;
        }
        // The property means something only if writes both succeed and fail.
        assert!(
            allowed > 5 && allowed < tried,
            "{profile}: {allowed} of {tried} writes succeeded"
        );
        totals.push(format!("{profile}: {allowed}/{tried}"));
    }
    eprintln!("writes allowed: {}", totals.join(", "));
    let _ = std::fs::remove_dir_all(&dir);
}
