//! Writes: revisions, expected-revision conflicts, every kind of change, relation
//! runs, separation-of-duty rules.

use rolecall_core::profile::{SodRule, Value};
use rolecall_core::state::{Entity, Scope};
use rolecall_store::{Change, Store, StoreError};

use crate::data::*;

pub(crate) async fn apply_returns_increasing_revisions(s: &dyn Store) {
    create(s, "acme").await;
    let r2 = s
        .apply(
            "acme",
            Some(1),
            &[upsert("user", "u1", None, &[])],
            "alice",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(r2, 2);
    let r3 = s
        .apply(
            "acme",
            None,
            &[upsert("user", "u2", None, &[])],
            "alice",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(r3, 3);
    // An empty batch still makes a revision (and writes no change rows).
    let r4 = s.apply("acme", Some(3), &[], "alice", AT).await.unwrap();
    assert_eq!(r4, 4);
    assert_eq!(s.revision("acme").await.unwrap(), 4);
    assert_eq!(s.get_tenant("acme").await.unwrap().unwrap().revision, 4);
    assert_eq!(s.load_state("acme").await.unwrap().revision, 4);
    let log = s.changes_since("acme", 0, 100).await.unwrap();
    let revs: Vec<u64> = log.iter().map(|c| c.revision).collect();
    assert_eq!(revs, [2, 3]);
}

pub(crate) async fn conflict_writes_nothing(s: &dyn Store) {
    create(s, "acme").await;
    s.apply("acme", Some(1), &[upsert("user", "u1", None, &[])], "a", AT)
        .await
        .unwrap();
    let before = s.load_state("acme").await.unwrap();
    let batch = [
        upsert("user", "u2", Some("Two"), &[]),
        put("queue", "q1", "member", "user", "u2"),
        Change::SetSetting {
            key: "k".to_owned(),
            value: Value::Bool(true),
        },
    ];
    for stale in [Some(1), Some(3), Some(0)] {
        match s.apply("acme", stale, &batch, "a", AT).await {
            Err(StoreError::Conflict { expected, current }) => {
                assert_eq!(Some(expected), stale);
                assert_eq!(current, 2);
            }
            other => panic!("expected Conflict, got {other:?}"),
        }
    }
    assert_eq!(s.revision("acme").await.unwrap(), 2);
    assert_eq!(s.load_state("acme").await.unwrap(), before);
    assert_eq!(s.changes_since("acme", 0, 100).await.unwrap().len(), 1);
    // The right expectation then succeeds.
    assert_eq!(s.apply("acme", Some(2), &batch, "a", AT).await.unwrap(), 3);
}

pub(crate) async fn every_change_kind_round_trips(s: &dyn Store) {
    create(s, "acme").await;
    let attrs = [
        ("tier", Value::Str("gold".to_owned())),
        ("active", Value::Bool(true)),
        ("age", Value::Int(-42)),
    ];
    let first = vec![
        upsert("user", "u1", Some("Ünïcode Üser"), &attrs),
        upsert("user", "u2", None, &[]),
        upsert("org_unit", "root", Some("Root"), &[]),
        upsert("queue", "q1", Some("Queue 1"), &[("sla", Value::Int(600))]),
        put("user", "u1", "org_unit", "org_unit", "root"),
        put("queue", "q1", "member", "user", "u2"),
        put("queue", "q1", "member", "user", "u1"),
        put("queue", "q1", "agent", "user", "u1"),
        Change::PutRole {
            role: role("custom"),
            version: 1,
        },
        Change::PutRole {
            role: role("gone"),
            version: 1,
        },
        Change::PutAssignment(assignment("a2", "u1", Scope::Tenant, None)),
        Change::PutAssignment(assignment(
            "a1",
            "u2",
            Scope::OrgUnits(vec!["root".to_owned()]),
            Some(AT + 3600),
        )),
        Change::PutAssignment(assignment(
            "a3",
            "u2",
            Scope::Queues(vec!["q1".to_owned(), "q0".to_owned()]),
            None,
        )),
        Change::SetSetting {
            key: "z.setting".to_owned(),
            value: Value::Int(5),
        },
        Change::SetSetting {
            key: "a.setting".to_owned(),
            value: Value::Str("x".to_owned()),
        },
    ];
    s.apply("acme", Some(1), &first, "alice", AT).await.unwrap();

    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.revision, 2);
    let keys: Vec<(&str, &str)> = l
        .state
        .entities
        .iter()
        .map(|e| (e.ty.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("org_unit", "root"),
            ("queue", "q1"),
            ("user", "u1"),
            ("user", "u2")
        ]
    );
    let u1 = entity(&l, "user", "u1").unwrap();
    assert_eq!(u1.name.as_deref(), Some("Ünïcode Üser"));
    let want_attrs: Vec<(String, Value)> = attrs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(u1.attributes, want_attrs, "attribute order is kept");
    assert_eq!(u1.relations, rels(&[("org_unit", &["root"])]));
    let q1 = entity(&l, "queue", "q1").unwrap();
    assert_eq!(
        q1.relations,
        rels(&[("agent", &["u1"]), ("member", &["u1", "u2"])]),
        "relations ordered by name, then target"
    );
    assert_eq!(q1.attributes, vec![("sla".to_owned(), Value::Int(600))]);
    let u2 = entity(&l, "user", "u2").unwrap();
    assert_eq!(u2.name, None);
    assert!(u2.attributes.is_empty());

    let role_ids: Vec<&str> = l.state.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(role_ids, ["custom", "gone"]);
    assert_eq!(l.state.roles[0], role("custom"));
    assert_eq!(l.role_versions.get("custom"), Some(&1));

    let asg_ids: Vec<&str> = l.state.assignments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(asg_ids, ["a1", "a2", "a3"]);
    assert_eq!(
        l.state.assignments[0],
        assignment(
            "a1",
            "u2",
            Scope::OrgUnits(vec!["root".to_owned()]),
            Some(AT + 3600)
        )
    );
    assert_eq!(
        l.state.assignments[2].scope,
        Scope::Queues(vec!["q1".to_owned(), "q0".to_owned()])
    );
    assert_eq!(
        l.state.settings,
        vec![
            ("a.setting".to_owned(), Value::Str("x".to_owned())),
            ("z.setting".to_owned(), Value::Int(5)),
        ]
    );

    // Replacements and deletions.
    let mut updated_role = role("custom");
    updated_role.grants.truncate(1);
    updated_role.includes.clear();
    let second = vec![
        // Upsert replaces name and attributes, leaves relations alone.
        upsert("user", "u1", None, &[("new", Value::Bool(false))]),
        Change::PutRole {
            role: updated_role.clone(),
            version: 2,
        },
        Change::DeleteRole {
            id: "gone".to_owned(),
        },
        Change::PutAssignment(assignment("a2", "u2", Scope::Tenant, Some(AT))),
        Change::DeleteAssignment {
            id: "a3".to_owned(),
        },
        Change::SetSetting {
            key: "z.setting".to_owned(),
            value: Value::Bool(false),
        },
        del("queue", "q1", "agent", "user", "u1"),
    ];
    s.apply("acme", Some(2), &second, "bob", AT + 1)
        .await
        .unwrap();

    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.revision, 3);
    let u1 = entity(&l, "user", "u1").unwrap();
    assert_eq!(u1.name, None);
    assert_eq!(u1.attributes, vec![("new".to_owned(), Value::Bool(false))]);
    assert_eq!(u1.relations, rels(&[("org_unit", &["root"])]));
    let q1 = entity(&l, "queue", "q1").unwrap();
    assert_eq!(q1.relations, rels(&[("member", &["u1", "u2"])]));
    assert_eq!(l.state.roles, vec![updated_role]);
    assert_eq!(l.role_versions.len(), 1);
    assert_eq!(l.role_versions.get("custom"), Some(&2));
    assert_eq!(
        l.state.assignments,
        vec![
            assignment(
                "a1",
                "u2",
                Scope::OrgUnits(vec!["root".to_owned()]),
                Some(AT + 3600)
            ),
            assignment("a2", "u2", Scope::Tenant, Some(AT)),
        ]
    );
    assert_eq!(
        l.state.settings,
        vec![
            ("a.setting".to_owned(), Value::Str("x".to_owned())),
            ("z.setting".to_owned(), Value::Bool(false)),
        ]
    );

    // Every change is in the log, as written.
    let log = s.changes_since("acme", 0, 1000).await.unwrap();
    let logged: Vec<Change> = log.iter().map(|c| c.change.clone()).collect();
    let written: Vec<Change> = first.iter().chain(second.iter()).cloned().collect();
    assert_eq!(logged, written);
}

pub(crate) async fn delete_entity_cascades_to_tuples(s: &dyn Store) {
    create(s, "acme").await;
    s.apply(
        "acme",
        None,
        &[
            upsert("user", "u1", Some("One"), &[]),
            upsert("user", "u2", Some("Two"), &[]),
            upsert("queue", "q1", None, &[]),
            upsert("group", "g1", None, &[]),
            // u1 as resource.
            put("user", "u1", "org_unit", "org_unit", "root"),
            put("user", "u1", "manager", "user", "u2"),
            // u1 as subject.
            put("queue", "q1", "member", "user", "u1"),
            put("queue", "q1", "member", "user", "u2"),
            put("group", "g1", "member", "user", "u1"),
            put("user", "u2", "manager", "user", "u1"),
            // Same id, other type: must survive.
            put("queue", "q1", "member", "group", "u1"),
            put("group", "u1", "member", "user", "u2"),
        ],
        "a",
        AT,
    )
    .await
    .unwrap();
    s.apply(
        "acme",
        None,
        &[Change::DeleteEntity {
            ty: "user".to_owned(),
            id: "u1".to_owned(),
        }],
        "a",
        AT,
    )
    .await
    .unwrap();
    let l = s.load_state("acme").await.unwrap();
    assert!(entity(&l, "user", "u1").is_none());
    let q1 = entity(&l, "queue", "q1").unwrap();
    // Relation targets carry no type: `u1` here is the group.
    assert_eq!(q1.relations, rels(&[("member", &["u1", "u2"])]));
    let g1 = entity(&l, "group", "g1").unwrap();
    assert!(g1.relations.is_empty());
    let u2 = entity(&l, "user", "u2").unwrap();
    assert!(u2.relations.is_empty());
    let group_u1 = entity(&l, "group", "u1").unwrap();
    assert_eq!(group_u1.relations, rels(&[("member", &["u2"])]));
    // Deleting a missing entity is harmless.
    s.apply(
        "acme",
        None,
        &[Change::DeleteEntity {
            ty: "user".to_owned(),
            id: "nobody".to_owned(),
        }],
        "a",
        AT,
    )
    .await
    .unwrap();
}

pub(crate) async fn relation_writes_are_idempotent(s: &dyn Store) {
    create(s, "acme").await;
    let p = put("queue", "q1", "member", "user", "u1");
    s.apply("acme", None, &[p.clone(), p.clone()], "a", AT)
        .await
        .unwrap();
    s.apply("acme", None, std::slice::from_ref(&p), "a", AT)
        .await
        .unwrap();
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(
        entity(&l, "queue", "q1").unwrap().relations,
        rels(&[("member", &["u1"])])
    );
    let d = del("queue", "q1", "member", "user", "u1");
    s.apply("acme", None, &[d.clone(), d.clone()], "a", AT)
        .await
        .unwrap();
    let r = s
        .apply("acme", None, std::slice::from_ref(&d), "a", AT)
        .await
        .unwrap();
    assert_eq!(r, 5, "idempotent writes still make revisions");
    // Writing a tuple made the resource exist; deleting its tuples leaves it, empty.
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.state.entities.len(), 1);
    assert!(entity(&l, "queue", "q1").unwrap().relations.is_empty());
}

pub(crate) async fn relation_runs_keep_batch_order(s: &dyn Store) {
    create(s, "acme").await;
    let batch = [
        put("queue", "q1", "member", "user", "u1"),
        put("queue", "q1", "member", "user", "u2"),
        del("queue", "q1", "member", "user", "u1"),
        upsert("queue", "q1", None, &[]),
        put("queue", "q1", "member", "user", "u1"),
        del("queue", "q1", "member", "user", "u2"),
        del("queue", "q1", "member", "user", "u3"),
        put("queue", "q1", "member", "user", "u3"),
    ];
    s.apply("acme", None, &batch, "a", AT).await.unwrap();
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(
        entity(&l, "queue", "q1").unwrap().relations,
        rels(&[("member", &["u1", "u3"])])
    );
}

pub(crate) async fn relations_without_entity_are_loaded(s: &dyn Store) {
    create(s, "acme").await;
    s.apply(
        "acme",
        None,
        &[
            put("conversation", "c9", "queue", "queue", "q1"),
            put("conversation", "c9", "owner", "user", "nobody"),
            upsert("user", "u1", Some("One"), &[]),
        ],
        "a",
        AT,
    )
    .await
    .unwrap();
    let l = s.load_state("acme").await.unwrap();
    let keys: Vec<(&str, &str)> = l
        .state
        .entities
        .iter()
        .map(|e| (e.ty.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(keys, [("conversation", "c9"), ("user", "u1")]);
    assert_eq!(
        l.state.entities[0],
        Entity {
            ty: "conversation".to_owned(),
            id: "c9".to_owned(),
            name: None,
            relations: rels(&[("owner", &["nobody"]), ("queue", &["q1"])]),
            attributes: Vec::new(),
        }
    );
}

pub(crate) async fn sod_rules_round_trip(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    let bare = SodRule {
        id: "bare".to_owned(),
        name: None,
        privileges: Vec::new(),
        roles: Vec::new(),
    };
    let first = vec![
        Change::PutSodRule(sod("zeta", 1)),
        Change::PutSodRule(sod("alpha", 2)),
        Change::PutSodRule(bare.clone()),
        Change::PutSodRule(sod("Mid", 3)),
    ];
    assert_eq!(s.apply("acme", Some(1), &first, "a", AT).await.unwrap(), 2);
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(
        l.state.sod_rules,
        vec![sod("Mid", 3), sod("alpha", 2), bare.clone(), sod("zeta", 1)],
        "ordered by id, bytewise, each rule as written"
    );
    assert!(
        s.load_state("other")
            .await
            .unwrap()
            .state
            .sod_rules
            .is_empty()
    );

    // Replace, delete, delete a missing one (harmless).
    let mut zeta = sod("zeta", 9);
    zeta.name = None;
    zeta.roles.clear();
    let second = vec![
        Change::PutSodRule(zeta.clone()),
        Change::DeleteSodRule {
            id: "alpha".to_owned(),
        },
        Change::DeleteSodRule {
            id: "never".to_owned(),
        },
    ];
    assert_eq!(s.apply("acme", Some(2), &second, "a", AT).await.unwrap(), 3);
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.state.sod_rules, vec![sod("Mid", 3), bare, zeta]);

    // The change log keeps them as written.
    let logged: Vec<Change> = s
        .changes_since("acme", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.change)
        .collect();
    let written: Vec<Change> = first.into_iter().chain(second).collect();
    assert_eq!(logged, written);

    // A conflicting batch leaves them alone.
    let before = s.load_state("acme").await.unwrap();
    assert!(matches!(
        s.apply(
            "acme",
            Some(2),
            &[Change::DeleteSodRule {
                id: "Mid".to_owned()
            }],
            "a",
            AT
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(s.load_state("acme").await.unwrap(), before);
}
