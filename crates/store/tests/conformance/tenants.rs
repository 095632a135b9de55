//! Tenants: creation, lookup, unknown ids, isolation.

use rolecall_core::profile::Value;
use rolecall_core::state::Scope;
use rolecall_store::{AuditFilter, Change, Store, StoreError};

use crate::data::*;
use crate::harness::Ctx;

pub(crate) async fn tenants_create_list_get(s: &dyn Store) {
    assert!(s.list_tenants().await.unwrap().is_empty());
    assert!(s.get_tenant("acme").await.unwrap().is_none());
    create(s, "zeta").await;
    create(s, "acme").await;
    create(s, "Beta").await;

    let all = s.list_tenants().await.unwrap();
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["Beta", "acme", "zeta"], "ordered by id, bytewise");

    let acme = s.get_tenant("acme").await.unwrap().unwrap();
    let want = tenant("acme");
    assert_eq!(acme.id, "acme");
    assert_eq!(acme.name, want.name);
    assert_eq!(acme.profile_id, want.profile_id);
    assert_eq!(acme.profile_text, want.profile_text);
    assert_eq!(acme.revision, 1);
    assert_eq!(acme.created_at, AT);
    assert_eq!(s.revision("acme").await.unwrap(), 1);

    // Creation writes no change-log rows.
    assert!(s.changes_since("acme", 0, 100).await.unwrap().is_empty());

    let loaded = s.load_state("acme").await.unwrap();
    assert_eq!(loaded.revision, 1);
    assert_eq!(loaded.state.tenant_id, "acme");
    assert_eq!(loaded.state.tenant_name.as_deref(), Some("Tenant acme"));
    assert!(loaded.state.entities.is_empty());
    assert!(loaded.state.roles.is_empty());
    assert!(loaded.state.assignments.is_empty());
    assert!(loaded.state.settings.is_empty());
    assert!(loaded.state.sod_rules.is_empty());
    assert!(loaded.role_versions.is_empty());
    // Nor audit entries.
    assert!(
        s.audit("acme", &AuditFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn duplicate_tenant_is_exists(s: &dyn Store) {
    create(s, "acme").await;
    s.apply("acme", None, &[upsert("user", "u1", None, &[])], "a", AT)
        .await
        .unwrap();
    let mut again = tenant("acme");
    again.name = "Imposter".to_owned();
    match s.create_tenant(&again, "op", AT + 5).await {
        Err(StoreError::Exists(_)) => {}
        other => panic!("expected Exists, got {other:?}"),
    }
    // The original is untouched.
    let t = s.get_tenant("acme").await.unwrap().unwrap();
    assert_eq!(t.name, "Tenant acme");
    assert_eq!(t.revision, 2);
    assert_eq!(s.list_tenants().await.unwrap().len(), 1);
}

pub(crate) async fn unknown_tenant_is_not_found(s: &dyn Store) {
    create(s, "acme").await;
    fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
        match r {
            Err(StoreError::NotFound(_)) => {}
            other => panic!("{what}: expected NotFound, got {other:?}"),
        }
    }
    assert!(s.get_tenant("ghost").await.unwrap().is_none());
    not_found(s.load_state("ghost").await, "load_state");
    not_found(s.revision("ghost").await, "revision");
    not_found(
        s.apply("ghost", None, &[upsert("user", "u", None, &[])], "a", AT)
            .await,
        "apply",
    );
    not_found(s.apply("ghost", Some(1), &[], "a", AT).await, "empty apply");
    not_found(s.changes_since("ghost", 0, 10).await, "changes_since");
    // Nothing leaked into the real tenant.
    assert_eq!(s.revision("acme").await.unwrap(), 1);
    assert!(
        s.load_state("acme")
            .await
            .unwrap()
            .state
            .entities
            .is_empty()
    );
}

pub(crate) async fn tenants_are_isolated(s: &dyn Store) {
    create(s, "one").await;
    create(s, "two").await;
    s.apply(
        "one",
        None,
        &[
            upsert("user", "u1", Some("In one"), &[]),
            put("queue", "q1", "member", "user", "u1"),
            Change::SetSetting {
                key: "k".to_owned(),
                value: Value::Int(1),
            },
            Change::PutRole {
                role: role("r"),
                version: 1,
            },
            Change::PutAssignment(assignment("a1", "u1", Scope::Tenant, None)),
        ],
        "a",
        AT,
    )
    .await
    .unwrap();
    s.apply(
        "two",
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
    let two = s.load_state("two").await.unwrap();
    assert!(two.state.entities.is_empty());
    assert!(two.state.settings.is_empty());
    assert!(two.state.roles.is_empty());
    assert!(two.state.assignments.is_empty());
    assert_eq!(two.revision, 2);
    let one = s.load_state("one").await.unwrap();
    assert_eq!(one.state.entities.len(), 2);
    assert_eq!(one.revision, 2);
    assert_eq!(s.changes_since("two", 0, 10).await.unwrap().len(), 1);
    assert_eq!(s.changes_since("one", 0, 10).await.unwrap().len(), 5);
}

pub(crate) async fn create_tenant_audited_starts_the_chain(s: &dyn Store) {
    let d = [
        draft(
            "tenant.create",
            "tenant:acme",
            None,
            Some(r#"{"id":"acme"}"#),
        ),
        draft("token.create", "token:t1", None, None),
    ];
    assert_eq!(
        s.create_tenant_audited(&tenant("acme"), &d, "op", AT)
            .await
            .unwrap(),
        1
    );
    let t = s.get_tenant("acme").await.unwrap().unwrap();
    assert_eq!((t.revision, t.created_at), (1, AT));
    // No change-log rows, as for a plain creation.
    assert!(s.changes_since("acme", 0, 10).await.unwrap().is_empty());
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1, 2]);
    assert!(
        log.iter()
            .all(|r| r.revision == 1 && r.actor == "op" && r.at == AT),
        "the creation's revision, actor and time"
    );
    assert_eq!(log[0].action, "tenant.create");
    assert_eq!(log[0].after.as_deref(), Some(r#"{"id":"acme"}"#));
    assert_eq!(log[0].prev_hash, "");
    assert_eq!(log[1].prev_hash, log[0].hash);
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(2));

    // The tenant's writes go on with the chain.
    s.apply_audited(
        "acme",
        Some(1),
        &[upsert("user", "u1", None, &[])],
        &[draft("entity.create", "user:u1", None, Some("{}"))],
        "alice",
        AT + 1,
    )
    .await
    .unwrap();
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1, 2, 3]);
    assert_eq!(log[2].revision, 2);
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(3));

    // A taken id: Exists, and neither the tenant nor its chain changes.
    let mut again = tenant("acme");
    again.name = "Imposter".to_owned();
    let d = [draft("tenant.create", "tenant:acme", None, None)];
    match s.create_tenant_audited(&again, &d, "mallory", AT + 2).await {
        Err(StoreError::Exists(_)) => {}
        other => panic!("expected Exists, got {other:?}"),
    }
    let t = s.get_tenant("acme").await.unwrap().unwrap();
    assert_eq!((t.name.as_str(), t.revision), ("Tenant acme", 2));
    assert_eq!(s.audit("acme", &all()).await.unwrap(), log);

    // Without entries it is `create_tenant`: an empty chain.
    assert_eq!(
        s.create_tenant_audited(&tenant("bare"), &[], "op", AT)
            .await
            .unwrap(),
        1
    );
    assert!(s.audit("bare", &all()).await.unwrap().is_empty());
    assert_eq!(s.verify_audit("bare").await.unwrap(), intact(0));
}

pub(crate) async fn failed_creation_audit_leaves_no_tenant(ctx: &Ctx) {
    let s = &*ctx.store;
    let d = [draft("tenant.create", "tenant:acme", None, Some("{}"))];
    ctx.refuse_audit_writes().await;
    match s.create_tenant_audited(&tenant("acme"), &d, "op", AT).await {
        Err(StoreError::Database(_)) => {}
        other => panic!("expected the refused audit write, got {other:?}"),
    }
    // The tenant row, written before the entry failed, went with it.
    assert!(s.get_tenant("acme").await.unwrap().is_none());
    assert!(s.list_tenants().await.unwrap().is_empty());
    assert!(matches!(
        s.revision("acme").await,
        Err(StoreError::NotFound(_))
    ));
    // A creation with no entries writes no audit row.
    assert_eq!(
        s.create_tenant_audited(&tenant("bare"), &[], "op", AT)
            .await
            .unwrap(),
        1
    );
    ctx.allow_audit_writes().await;
    assert_eq!(
        s.create_tenant_audited(&tenant("acme"), &d, "op", AT)
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(1));

    // A chain the new entry cannot extend (its last sequence number is the largest a
    // column holds) fails the creation the same way.
    ctx.execute_raw(
        "INSERT INTO audit (tenant, seq, revision, at, actor, action, target, prev_hash, hash) \
         VALUES ('next', 9223372036854775807, 1, 0, 'x', 'x', 'x', '', '')",
    )
    .await;
    assert!(matches!(
        s.create_tenant_audited(&tenant("next"), &d, "op", AT).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(s.get_tenant("next").await.unwrap().is_none());
    let ids: Vec<String> = s
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["acme", "bare"]);
}
