//! Self-authorization as a property: in tenants of four shipped profiles (Phones Pro,
//! whose administration is decided per org unit; Zoom, per user and tenant-wide;
//! Horizon, per user with anti-escalation; GoTo, whose Contact Admin configures roles
//! up to their type's cap), and variants of them under every delegation ceiling kind,
//! random users hold random templates over random scopes and try random management
//! operations. No operation succeeds whose governing action (or appointment rule)
//! denies its actor on the object concerned, no role definition or assignment gives
//! more than its declared ceiling (the granter's holdings, the role type's cap, or
//! named roles), and no list holds an item its reader may not read. The oracle is
//! written here, plainly, from the profile's `[management]` and `[[delegation]]`
//! tables — not with the engine's own resolution.

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
use rolecall_core::profile::{
    Ceiling, Delegated, Governance, GrantSpec, ORG_PARENT, ORG_UNIT, PrivKind, TENANT, USER,
};
use rolecall_core::snapshot::AppointRequest;
use rolecall_core::state::{Assignment, Scope};
use rolecall_core::{Change, Context, Request, Snapshot};
use rolecall_engine::authz::{Object, Reader};
use rolecall_engine::commands::{
    ApplyChanges, AssignmentDraft, CreateAssignment, CreateRole, DeleteAssignment, DeleteEntity,
    EntityDraft, EntityKind, RoleDraft, UpsertEntity,
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

/// The ceiling the profile declares for `op` on a role of type `role_type`, read
/// plainly from its `[[delegation]]` entries (first match; none: holdings).
fn declared_ceiling(snap: &Snapshot, op: Delegated, role: &str) -> Ceiling {
    let p = snap.profile();
    let role_type = snap
        .role_type_of(role)
        .and_then(|t| p.role_types.iter().position(|x| x.id == t));
    for d in &p.delegation {
        if d.operation != op {
            continue;
        }
        let applies = match &d.role_types {
            None => true,
            Some(ts) => role_type.is_some_and(|t| ts.contains(&t)),
        };
        if applies {
            return d.ceiling.clone();
        }
    }
    Ceiling::Holdings
}

/// Asserts that role `role` (in `after`) gives nothing above `ceiling`, where `have` is
/// what the granter held there before the write.
fn assert_within(after: &Snapshot, ceiling: &Ceiling, role: &str, have: &[u64], what: &str) {
    let gives = after.role_given_set(role).unwrap();
    let bound = match ceiling {
        Ceiling::Holdings => have.to_vec(),
        c => after.ceiling_set(c, role).unwrap_or_else(|| have.to_vec()),
    };
    assert_eq!(
        after.first_missing(&gives, &bound),
        None,
        "{what}: gives more than its ceiling {ceiling:?}"
    );
}

/// A random extra grant for a role definition: a privilege of the catalog at its top.
fn random_grant(rng: &mut ChaCha8Rng, snap: &Snapshot) -> Option<(String, GrantSpec)> {
    let p = snap.profile();
    let x = p.privileges.choose(rng)?;
    let v = match &x.kind {
        PrivKind::Flag => GrantSpec::Bool(true),
        PrivKind::Levels(l) => GrantSpec::Str(l.last()?.clone()),
        PrivKind::Choice { choices, .. } => GrantSpec::List(choices.clone()),
        PrivKind::Number { .. } => return None,
    };
    Some((x.id.clone(), v))
}

struct World {
    engine: Arc<Engine>,
    users: Vec<String>,
    units: Vec<String>,
    roles: Vec<String>,
}

/// A tenant of profile text `profile` (named `label`): a company tree two levels deep
/// (of whatever kinds the profile declares), 12 users spread over it, and random
/// templates over random scopes.
async fn world(label: &str, profile: &str, seed: u64, dir: &std::path::Path) -> World {
    let url = format!(
        "sqlite://{}",
        dir.join(format!("{label}-{seed}.db")).display()
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
                profile: ProfileSource::Text(profile.into()),
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
async fn exercise(w: &World, seed: u64) -> (usize, usize, Vec<Ceiling>) {
    let mut kinds_seen = Vec::new();
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
        let pick = rng.random_range(0..5);
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
            4 => {
                let grants = if rng.random_bool(0.5) {
                    let base = before.profile.role(&role).unwrap().to_spec(&before.profile);
                    let mut g = base.grants;
                    g.extend(random_grant(&mut rng, snap));
                    Some(g)
                } else {
                    None
                };
                t.execute(
                    &actor,
                    &CreateRole(RoleDraft {
                        id: format!("r{step}"),
                        copy_of: Some(role.clone()),
                        grants,
                        ..RoleDraft::default()
                    }),
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
                    let ceiling = declared_ceiling(snap, Delegated::Assignment, &role);
                    let places: Vec<(usize, u32)> = match &scope {
                        Scope::Tenant => vec![(TENANT, 0)],
                        Scope::OrgUnits(ids) => ids
                            .iter()
                            .map(|i| (ORG_UNIT, snap.entity(ORG_UNIT, i).unwrap()))
                            .collect(),
                        Scope::Queues(_) => vec![],
                    };
                    kinds_seen.push(ceiling.clone());
                    let Governance::Action(ga) = before.profile.governance("assignments.write")
                    else {
                        panic!("seed {seed} step {step}: {me} assigned without a governing action");
                    };
                    let governing = before.profile.actions[ga].id.clone();
                    for (ty, e) in places {
                        let have = snap.held_set(u, ty, e, now);
                        // Only where the giver holds the governing privileges.
                        assert!(
                            snap.privileges_allow(&governing, &have),
                            "seed {seed} step {step}: {me} gave {role} outside its reach"
                        );
                        assert_within(
                            snap,
                            &ceiling,
                            &role,
                            &have,
                            &format!("seed {seed} step {step}: {me} gave {role}"),
                        );
                    }
                }
            }
            1 => {}
            4 => {
                let id = format!("r{step}");
                assert!(
                    profile_allows(snap, &me, "roles.write", Object::Tenant, now),
                    "seed {seed} step {step}: {me} defined role {id}"
                );
                let ceiling = declared_ceiling(&after.snapshot, Delegated::RoleDefinition, &id);
                let u = snap.entity(USER, &me).unwrap();
                let have = snap.held_tenant_wide(u, now);
                assert_within(
                    &after.snapshot,
                    &ceiling,
                    &id,
                    &have,
                    &format!("seed {seed} step {step}: {me} defined {id}"),
                );
                kinds_seen.push(ceiling);
            }
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
    (allowed, tried, kinds_seen)
}

/// `[[delegation]]` entries for both writes, all roles, with `ceiling` (and `roles`).
fn prefix(ceiling: &str, roles: &[&str]) -> String {
    let mut out = String::new();
    for op in ["roles.write", "assignments.write"] {
        out.push_str(&format!(
            "[[delegation]]\noperation = \"{op}\"\nceiling = \"{ceiling}\"\n"
        ));
        if !roles.is_empty() {
            let list: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
            out.push_str(&format!("roles = [{}]\n", list.join(", ")));
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_operation_succeeds_that_the_profile_denies() {
    let dir = std::env::temp_dir().join(format!("rolecall-authz-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = |id: &str| rolecall_engine::profiles::shipped(id).unwrap().to_owned();
    let horizon = rolecall_core::load_profile("horizon", &shipped("horizon-contact")).unwrap();
    let horizon_roles: Vec<&str> = horizon
        .roles
        .iter()
        .take(2)
        .map(|r| r.id.as_str())
        .collect();
    let cases: Vec<(String, String)> = vec![
        ("phones-pro".into(), shipped("phones-pro")),
        ("zoom-contact-center".into(), shipped("zoom-contact-center")),
        ("horizon-contact".into(), shipped("horizon-contact")),
        ("goto-contact-center".into(), shipped("goto-contact-center")),
        // Every ceiling kind, declared first (the first entry that matches decides).
        (
            "goto-holdings".into(),
            prefix("holdings", &[]) + &shipped("goto-contact-center"),
        ),
        (
            "goto-roles".into(),
            prefix("roles", &["supervisor", "agent"]) + &shipped("goto-contact-center"),
        ),
        (
            "horizon-roles".into(),
            prefix("roles", &horizon_roles) + &shipped("horizon-contact"),
        ),
    ];
    let mut totals = Vec::new();
    let mut kinds: Vec<Ceiling> = Vec::new();
    for (label, text) in &cases {
        let (mut allowed, mut tried) = (0, 0);
        for seed in 0..12u64 {
            let w = world(label, text, seed, &dir).await;
            let (a, t, k) = exercise(&w, seed).await;
            allowed += a;
            tried += t;
            kinds.extend(k);
        }
        // The property means something only if writes both succeed and fail.
        assert!(
            allowed > 5 && allowed < tried,
            "{label}: {allowed} of {tried} writes succeeded"
        );
        totals.push(format!("{label}: {allowed}/{tried}"));
    }
    // Writes under every ceiling kind succeeded (and were checked against it).
    for want in ["Holdings", "TypeCap", "Roles"] {
        assert!(
            kinds.iter().any(|k| format!("{k:?}").starts_with(want)),
            "no allowed write under the {want} ceiling"
        );
    }
    eprintln!("writes allowed: {}", totals.join(", "));
    let _ = std::fs::remove_dir_all(&dir);
}
