//! Obligations, invariants, locked privileges and separation of duty in the core.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should stop the test"
)]

use std::sync::Arc;

use rolecall_core::profile::{GrantSpec, RoleSpec, SodRule, Value, invariants, resolve_role};
use rolecall_core::state::{Assignment, Entity, Scope, TenantState};
use rolecall_core::{Context, Request, Snapshot, load_profile};

const PROFILE: &str = r#"
[profile]
id = "g"
name = "Governance"

[[resource_type]]
id = "user"
[resource_type.attributes]
seat = { type = "string", values = ["standard", "advanced"], default = "standard" }

[[section]]
id = "s"

[[privilege]]
id = "portal"
name = "Supervisor Portal"
parent = "s"
kind = "choice"
choices = ["Queues Only", "Agents Anonymous", "Agents Identified"]

[[privilege]]
id = "erase"
name = "Erase PII"
parent = "s"

[[privilege]]
id = "delete_rec"
name = "Delete recordings"
parent = "s"

[[privilege]]
id = "view_settings"
name = "View the settings of a call queue"
parent = "s"

[[role_type]]
id = "supervisor"
locked = { view_settings = true }

[[role]]
id = "anon"
grants = { portal = "Agents Anonymous" }

[[role]]
id = "ident"
grants = { portal = "Agents Identified" }

[[role]]
id = "eraser"
grants = { erase = true }

[[role]]
id = "deleter"
grants = { delete_rec = true }

[[action]]
id = "live.agents"
resource = "tenant"
requires = 'has("Supervisor Portal", "Agents Identified") or has("Supervisor Portal", "Agents Anonymous")'
obligations = [{ id = "mask_agent_identity", when = 'not has("Supervisor Portal", "Agents Identified")' }]

[[invariant]]
kind = "monotonic"
type = "user"
attribute = "seat"
reason = "seats only upgrade"
"#;

fn user(id: &str, seat: Option<&str>) -> Entity {
    Entity {
        ty: "user".into(),
        id: id.into(),
        attributes: seat
            .map(|s| vec![("seat".to_owned(), Value::Str(s.into()))])
            .unwrap_or_default(),
        ..Entity::default()
    }
}

fn assign(id: &str, who: &str, role: &str) -> Assignment {
    Assignment {
        id: id.into(),
        principal: who.into(),
        role: role.into(),
        scope: Scope::Tenant,
        expires_at: None,
    }
}

fn state() -> TenantState {
    TenantState {
        tenant_id: "t".into(),
        entities: vec![
            user("ann", None),
            user("ida", Some("advanced")),
            user("sam", None),
        ],
        assignments: vec![
            assign("a1", "ann", "anon"),
            assign("a2", "ida", "ident"),
            assign("a3", "sam", "eraser"),
        ],
        ..TenantState::default()
    }
}

#[test]
fn anonymous_portal_carries_the_masking_obligation() {
    let p = Arc::new(load_profile("g.toml", PROFILE).unwrap());
    let snap = Snapshot::build(p, &state()).unwrap();
    let ctx = Context::new();
    let req = |who| Request {
        principal: who,
        action: "live.agents",
        resource_type: "tenant",
        resource_id: "t",
        context: &ctx,
        now: 0,
    };
    let anon = snap.check(&req("ann"));
    assert!(anon.allowed);
    assert_eq!(
        snap.obligation_ids("live.agents", anon.obligations),
        vec!["mask_agent_identity"]
    );
    let ident = snap.check(&req("ida"));
    assert!(ident.allowed);
    assert!(
        snap.obligation_ids("live.agents", ident.obligations)
            .is_empty()
    );
    let none = snap.check(&req("sam"));
    assert!(!none.allowed);
    assert_eq!(none.obligations, 0, "a denial carries no obligation");
    // Explain reaches the same decision, obligations included.
    assert_eq!(snap.explain(&req("ann")).decision, anon);
}

#[test]
fn seats_only_move_up() {
    let p = load_profile("g.toml", PROFILE).unwrap();
    let old = state();
    let mut up = old.clone();
    up.entities[0] = user("ann", Some("advanced"));
    assert!(invariants::violations(&p, &old, &up).is_empty());
    let mut down = old.clone();
    down.entities[1] = user("ida", Some("standard"));
    let v = invariants::violations(&p, &old, &down);
    assert_eq!(v.len(), 1);
    assert!(
        v[0].contains("`ida`")
            && v[0].contains("from `advanced` to `standard`")
            && v[0].contains("seats only upgrade"),
        "{v:?}"
    );
    // Deleting a user is not a downgrade.
    let mut gone = old.clone();
    gone.entities.remove(1);
    assert!(invariants::violations(&p, &old, &gone).is_empty());
}

#[test]
fn a_locked_privilege_cannot_be_turned_off() {
    let p = load_profile("g.toml", PROFILE).unwrap();
    let spec = RoleSpec {
        id: "sup".into(),
        role_type: Some("supervisor".into()),
        grants: vec![("view_settings".into(), GrantSpec::Bool(false))],
        ..RoleSpec::default()
    };
    let err = resolve_role(&p, &spec).unwrap_err();
    assert!(
        err[0]
            .message
            .contains("is locked for role type `supervisor` and cannot be removed"),
        "{err:?}"
    );
    // Leaving it out is fine: the type still grants it.
    let ok = RoleSpec {
        grants: vec![],
        ..spec
    };
    assert!(resolve_role(&p, &ok).is_ok());
}

#[test]
fn separation_of_duty_finds_who_holds_both() {
    let p = Arc::new(load_profile("g.toml", PROFILE).unwrap());
    let mut st = state();
    st.sod_rules.push(SodRule {
        id: "pii_vs_delete".into(),
        name: Some("Erase PII vs delete recordings".into()),
        privileges: vec!["Erase PII".into(), "Delete recordings".into()],
        roles: vec![],
    });
    let snap = Snapshot::build(p.clone(), &st).unwrap();
    assert!(snap.sod_violations(0).is_empty());
    st.assignments.push(assign("a4", "sam", "deleter"));
    let snap = Snapshot::build(p.clone(), &st).unwrap();
    let v = snap.sod_violations(0);
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].rule.as_str(), v[0].user.as_str()),
        ("pii_vs_delete", "sam")
    );
    // An expired grant does not count.
    st.assignments.last_mut().unwrap().expires_at = Some(10);
    let snap = Snapshot::build(p.clone(), &st).unwrap();
    assert!(snap.sod_violations(20).is_empty());
    assert_eq!(snap.sod_violations(5).len(), 1);
    // A rule naming an unknown privilege is refused when the state is built.
    st.sod_rules[0].privileges[1] = "Nope".into();
    let errs = Snapshot::build(p, &st).unwrap_err();
    assert!(
        errs[0].message.contains("unknown privilege `Nope`"),
        "{errs:?}"
    );
}

/// Checking only the users a batch touches finds exactly the violations a full scan
/// before and after would: random batches of assignments made and removed, custom
/// roles (re)defined with grants and inclusions, rules added.
#[test]
fn incremental_separation_of_duty_equals_the_full_scan() {
    use rand::prelude::*;
    use rolecall_core::{Change, MemState};
    let p = Arc::new(load_profile("g.toml", PROFILE).unwrap());
    let users = ["ann", "ida", "sam", "kim", "lee"];
    let privs = ["erase", "delete_rec", "view_settings"];
    let mut found = 0;
    for seed in 0..300u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut st = state();
        st.entities.push(user("kim", None));
        st.entities.push(user("lee", None));
        st.sod_rules.push(SodRule {
            id: "r0".into(),
            name: None,
            privileges: vec!["Erase PII".into(), "Delete recordings".into()],
            roles: vec![],
        });
        let mut mem = MemState::new(st);
        let mut snap = Snapshot::build(p.clone(), &mem.state).unwrap();
        for step in 0..6 {
            let before = mem.clone();
            let mut changes = Vec::new();
            for _ in 0..rng.random_range(1..4) {
                let roles: Vec<String> = ["anon", "ident", "eraser", "deleter", "c1", "c2"]
                    .iter()
                    .map(|r| (*r).to_owned())
                    .filter(|r| p.role(r).is_some() || mem.state.roles.iter().any(|x| x.id == *r))
                    .collect();
                let c = match rng.random_range(0..5) {
                    0 | 1 => Change::PutAssignment(Assignment {
                        id: format!("s{seed}_{step}_{}", changes.len()),
                        principal: (*users.choose(&mut rng).unwrap()).into(),
                        role: roles.choose(&mut rng).unwrap().clone(),
                        scope: Scope::Tenant,
                        expires_at: rng.random_bool(0.2).then_some(5),
                    }),
                    2 => match mem.state.assignments.choose(&mut rng) {
                        Some(a) => Change::DeleteAssignment { id: a.id.clone() },
                        None => continue,
                    },
                    3 => {
                        let id = if rng.random_bool(0.5) { "c1" } else { "c2" };
                        let other = if id == "c1" { "c2" } else { "c1" };
                        let includes = if rng.random_bool(0.3) && other == "c2" {
                            vec![other.to_owned()]
                        } else if rng.random_bool(0.3) {
                            vec!["eraser".to_owned()]
                        } else {
                            vec![]
                        };
                        Change::PutRole {
                            role: RoleSpec {
                                id: id.into(),
                                includes,
                                grants: vec![(
                                    (*privs.choose(&mut rng).unwrap()).into(),
                                    GrantSpec::Bool(true),
                                )],
                                ..RoleSpec::default()
                            },
                            version: 1,
                        }
                    }
                    _ => Change::PutSodRule(SodRule {
                        id: format!("r{}", rng.random_range(1..3)),
                        name: None,
                        privileges: vec!["Delete recordings".into()],
                        roles: vec!["eraser".into()],
                    }),
                };
                mem.apply(&p, &c);
                changes.push(c);
            }
            let Ok(next) = Snapshot::build(p.clone(), &mem.state) else {
                // An invalid batch (e.g. a role cycle) is refused by a writer; start over.
                break;
            };
            for now in [0, 10] {
                let was: std::collections::BTreeSet<(String, String)> = snap
                    .sod_violations(now)
                    .into_iter()
                    .map(|v| (v.rule, v.user))
                    .collect();
                let full: Vec<(String, String)> = next
                    .sod_violations(now)
                    .into_iter()
                    .map(|v| (v.rule, v.user))
                    .filter(|k| !was.contains(k))
                    .collect();
                let inc: Vec<(String, String)> = next
                    .new_sod_violations(&snap, &before, &changes, now)
                    .into_iter()
                    .map(|v| (v.rule, v.user))
                    .collect();
                assert_eq!(inc, full, "seed {seed} step {step} now {now}: {changes:?}");
                found += full.len();
            }
            snap = next;
        }
    }
    assert!(found > 50, "only {found} new violations were generated");
}

/// A `levels` parent gives its children only levels of the same names, no higher than
/// held; a flag child only at the parent's top; a flag parent gives every child its top.
#[test]
fn a_levels_parent_gives_only_levels_it_names_up_to_the_one_held() {
    const NESTED: &str = r#"
[profile]
id = "n"
name = "Nesting"

[[section]]
id = "s"

[[privilege]]
id = "report"
name = "Report"
parent = "s"
kind = "levels"
levels = ["Read", "Edit"]

[[privilege]]
id = "share"
name = "Report share"
parent = "report"
kind = "levels"
levels = ["Edit"]

[[privilege]]
id = "overview"
name = "Report overview"
parent = "report"
kind = "levels"
levels = ["Read"]

[[privilege]]
id = "pin"
name = "Report pin"
parent = "report"

[[privilege]]
id = "view_only"
name = "View-only report"
parent = "s"
kind = "levels"
levels = ["Read"]

[[privilege]]
id = "export"
name = "View-only report export"
parent = "view_only"
kind = "levels"
levels = ["Edit"]

[[privilege]]
id = "box"
name = "Box"
parent = "s"

[[privilege]]
id = "inner"
name = "Inner levels"
parent = "box"
kind = "levels"
levels = ["Read", "Edit"]

[[role]]
id = "reader"
grants = { report = "Read", view_only = "Read" }

[[role]]
id = "editor"
grants = { report = "Edit" }

[[role]]
id = "boxer"
grants = { box = true }
"#;
    let p = Arc::new(load_profile("n.toml", NESTED).unwrap());
    let st = TenantState {
        tenant_id: "t".into(),
        entities: vec![user("r", None), user("e", None), user("b", None)],
        assignments: vec![
            assign("a1", "r", "reader"),
            assign("a2", "e", "editor"),
            assign("a3", "b", "boxer"),
        ],
        ..TenantState::default()
    };
    let snap = Snapshot::build(p, &st).unwrap();
    let holds = |u: &str| {
        let e = snap.entity(rolecall_core::profile::USER, u).unwrap();
        let set = snap.held_tenant_wide(e, 0);
        snap.privileges_in(&set)
            .into_iter()
            .map(|h| (h.id, h.level))
            .collect::<Vec<_>>()
    };
    let r = holds("r");
    assert!(
        r.contains(&("overview".into(), Some("Read".into()))),
        "{r:?}"
    );
    assert!(
        !r.iter().any(|(id, _)| id == "share"),
        "Read gives no Edit child: {r:?}"
    );
    assert!(
        !r.iter().any(|(id, _)| id == "pin"),
        "a flag child needs the top: {r:?}"
    );
    assert!(
        !r.iter().any(|(id, _)| id == "export"),
        "Read never gives an Edit export: {r:?}"
    );
    let e = holds("e");
    assert!(e.contains(&("share".into(), Some("Edit".into()))), "{e:?}");
    assert!(
        e.contains(&("overview".into(), Some("Read".into()))),
        "{e:?}"
    );
    assert!(e.iter().any(|(id, _)| id == "pin"), "{e:?}");
    let b = holds("b");
    assert!(
        b.contains(&("inner".into(), Some("Edit".into()))),
        "a flag parent gives the top: {b:?}"
    );
}
