//! API tokens: storing, finding, listing, revoking.

use rolecall_store::{Change, Store, StoreError, TokenRecord};

use crate::data::*;
use crate::harness::Ctx;

/// Creates users `ids` of `tenant` (a token's user must exist).
async fn users(s: &dyn Store, tenant: &str, ids: &[&str]) -> u64 {
    let changes: Vec<Change> = ids.iter().map(|u| upsert("user", u, None, &[])).collect();
    s.apply(tenant, None, &changes, "op", AT).await.unwrap()
}

pub(crate) async fn tokens_put_find_revoke_list(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    users(s, "acme", &["u1", "u2"]).await;
    users(s, "other", &["u1"]).await;
    let tok = |id: &str, tenant: Option<&str>, principal: Option<&str>, at: i64| TokenRecord {
        id: id.to_owned(),
        hash: format!("{:0>64}", id),
        tenant: tenant.map(str::to_owned),
        principal: principal.map(str::to_owned),
        created_at: at,
        credential: None,
    };
    let op1 = tok("op1", None, None, AT);
    let op2 = tok("op2", None, None, AT + 1);
    let t1 = tok("t1", Some("acme"), Some("u1"), AT + 2);
    let t2 = tok("t2", Some("acme"), Some("u2"), AT + 1);
    let t3 = tok("t3", Some("other"), Some("u1"), AT);
    // A service credential: its details come back as they were stored.
    let c1 = TokenRecord {
        credential: Some(r#"{"name":"crm","abilities":["decide"]}"#.to_owned()),
        principal: None,
        ..tok("c1", Some("other"), None, AT + 3)
    };
    for t in [&op1, &op2, &t1, &t2, &t3, &c1] {
        s.put_token(t).await.unwrap();
    }
    // Taken id or hash.
    let mut dup_id = t1.clone();
    dup_id.hash = "f".repeat(64);
    assert!(matches!(
        s.put_token(&dup_id).await,
        Err(StoreError::Exists(_))
    ));
    let mut dup_hash = t1.clone();
    dup_hash.id = "t1b".to_owned();
    assert!(matches!(
        s.put_token(&dup_hash).await,
        Err(StoreError::Exists(_))
    ));
    // Unknown tenant.
    assert!(matches!(
        s.put_token(&tok("t9", Some("ghost"), Some("u"), AT)).await,
        Err(StoreError::NotFound(_))
    ));
    // Unknown user: a token never exists without its user.
    assert!(matches!(
        s.put_token(&tok("t9", Some("acme"), Some("nobody"), AT))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.find_token(&tok("t9", None, None, AT).hash).await.unwrap(),
        None
    );

    assert_eq!(s.find_token(&t1.hash).await.unwrap(), Some(t1.clone()));
    assert_eq!(s.find_token(&op1.hash).await.unwrap(), Some(op1.clone()));
    assert_eq!(s.find_token(&"e".repeat(64)).await.unwrap(), None);

    assert_eq!(
        s.list_tokens(None).await.unwrap(),
        vec![op1.clone(), op2.clone()]
    );
    assert_eq!(
        s.list_tokens(Some("acme")).await.unwrap(),
        vec![t2.clone(), t1.clone()],
        "ordered by creation time"
    );
    assert_eq!(s.find_token(&c1.hash).await.unwrap(), Some(c1.clone()));
    assert_eq!(
        s.list_tokens(Some("other")).await.unwrap(),
        vec![t3.clone(), c1.clone()]
    );
    assert!(s.list_tokens(Some("ghost")).await.unwrap().is_empty());

    // Revocation is scoped by tenant.
    assert!(!s.revoke_token(Some("other"), "t1").await.unwrap());
    assert!(!s.revoke_token(None, "t1").await.unwrap());
    assert!(!s.revoke_token(Some("acme"), "op1").await.unwrap());
    assert!(s.revoke_token(Some("acme"), "t1").await.unwrap());
    assert!(
        !s.revoke_token(Some("acme"), "t1").await.unwrap(),
        "already revoked"
    );
    assert!(s.revoke_token(None, "op2").await.unwrap());
    assert!(!s.revoke_token(None, "nope").await.unwrap());

    assert_eq!(s.find_token(&t1.hash).await.unwrap(), None);
    assert_eq!(s.find_token(&op2.hash).await.unwrap(), None);
    assert_eq!(s.find_token(&t2.hash).await.unwrap(), Some(t2.clone()));
    assert_eq!(s.list_tokens(Some("acme")).await.unwrap(), vec![t2]);
    assert_eq!(s.list_tokens(None).await.unwrap(), vec![op1]);
    assert_eq!(s.list_tokens(Some("other")).await.unwrap(), vec![t3, c1]);
}

pub(crate) async fn put_token_audited_is_one_write(ctx: &Ctx) {
    let s = &*ctx.store;
    create(s, "acme").await;
    assert_eq!(users(s, "acme", &["u1", "u2"]).await, 2);
    let t1 = token("t1", Some("acme"), Some("u1"));
    let d = [draft(
        "token.create",
        "token:t1",
        None,
        Some(r#"{"principal":"u1"}"#),
    )];
    s.put_token_audited(&t1, &d, "alice", AT + 1).await.unwrap();
    assert_eq!(s.find_token(&t1.hash).await.unwrap(), Some(t1.clone()));
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1]);
    assert_eq!(
        (log[0].revision, log[0].actor.as_str(), log[0].at),
        (2, "alice", AT + 1),
        "at the tenant's current revision"
    );
    assert_eq!(log[0].action, "token.create");
    assert_eq!(s.revision("acme").await.unwrap(), 2, "no revision bump");
    assert_eq!(
        s.changes_since("acme", 0, 10).await.unwrap().len(),
        2,
        "no change-log row but the users'"
    );

    // A taken id: Exists, and no entry.
    let mut dup = t1.clone();
    dup.hash = "f".repeat(64);
    assert!(matches!(
        s.put_token_audited(&dup, &d, "alice", AT).await,
        Err(StoreError::Exists(_))
    ));
    // An unknown tenant: NotFound, nothing stored.
    let ghost = token("t9", Some("ghost"), Some("u"));
    assert!(matches!(
        s.put_token_audited(&ghost, &d, "alice", AT).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.find_token(&ghost.hash).await.unwrap(), None);
    // An operator token has no chain: with entries it is refused, and not stored.
    let op = token("op1", None, None);
    assert!(matches!(
        s.put_token_audited(&op, &d, "root", AT).await,
        Err(StoreError::NoAuditChain(_))
    ));
    assert_eq!(s.find_token(&op.hash).await.unwrap(), None);
    // Without entries it is stored.
    s.put_token_audited(&op, &[], "root", AT).await.unwrap();
    assert_eq!(s.list_tokens(None).await.unwrap(), vec![op]);
    assert_eq!(
        s.audit("acme", &all()).await.unwrap(),
        log,
        "no other entry"
    );

    // When the entry cannot be written, neither is the token.
    ctx.refuse_audit_writes().await;
    let t2 = token("t2", Some("acme"), Some("u2"));
    match s.put_token_audited(&t2, &d, "alice", AT).await {
        Err(StoreError::Database(_)) => {}
        other => panic!("expected the refused audit write, got {other:?}"),
    }
    assert_eq!(s.find_token(&t2.hash).await.unwrap(), None);
    assert_eq!(s.list_tokens(Some("acme")).await.unwrap(), vec![t1.clone()]);
    ctx.allow_audit_writes().await;
    s.put_token_audited(&t2, &d, "alice", AT).await.unwrap();
    assert_eq!(s.list_tokens(Some("acme")).await.unwrap(), vec![t1, t2]);
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(2));
}

pub(crate) async fn revoke_token_audited_only_when_revoked(ctx: &Ctx) {
    let s = &*ctx.store;
    create(s, "acme").await;
    create(s, "other").await;
    let t1 = token("t1", Some("acme"), Some("u1"));
    let op = token("op1", None, None);
    assert_eq!(users(s, "acme", &["u1"]).await, 2);
    s.put_token(&t1).await.unwrap();
    s.put_token(&op).await.unwrap();
    let d = [draft("token.revoke", "token:t1", Some("{}"), None)];

    // When the entry cannot be written, the token stays valid.
    ctx.refuse_audit_writes().await;
    match s
        .revoke_token_audited(Some("acme"), "t1", &d, "alice", AT)
        .await
    {
        Err(StoreError::Database(_)) => {}
        other => panic!("expected the refused audit write, got {other:?}"),
    }
    assert_eq!(s.find_token(&t1.hash).await.unwrap(), Some(t1.clone()));
    // Nothing revoked, nothing appended: the refusal is not reached.
    assert!(
        !s.revoke_token_audited(Some("acme"), "nope", &d, "alice", AT)
            .await
            .unwrap()
    );
    ctx.allow_audit_writes().await;

    // Another tenant's token, an unknown tenant, an unknown token: false, no entry.
    for (tenant, id) in [("other", "t1"), ("ghost", "t1"), ("acme", "nope")] {
        assert!(
            !s.revoke_token_audited(Some(tenant), id, &d, "alice", AT)
                .await
                .unwrap(),
            "{tenant}/{id}"
        );
    }
    assert!(s.audit("acme", &all()).await.unwrap().is_empty());
    assert!(s.audit("other", &all()).await.unwrap().is_empty());

    assert!(
        s.revoke_token_audited(Some("acme"), "t1", &d, "alice", AT + 1)
            .await
            .unwrap()
    );
    assert_eq!(s.find_token(&t1.hash).await.unwrap(), None);
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1]);
    assert_eq!(
        (log[0].revision, log[0].actor.as_str(), log[0].at),
        (2, "alice", AT + 1)
    );
    assert_eq!(log[0].action, "token.revoke");
    assert_eq!(s.revision("acme").await.unwrap(), 2, "no revision bump");
    // Already revoked: false, and no second entry.
    assert!(
        !s.revoke_token_audited(Some("acme"), "t1", &d, "alice", AT + 2)
            .await
            .unwrap()
    );
    assert_eq!(s.audit("acme", &all()).await.unwrap(), log);

    // Operator tokens: entries have no chain to go to, and nothing is revoked; without
    // entries, revoked.
    assert!(matches!(
        s.revoke_token_audited(None, "op1", &d, "root", AT).await,
        Err(StoreError::NoAuditChain(_))
    ));
    assert_eq!(s.find_token(&op.hash).await.unwrap(), Some(op.clone()));
    assert!(
        s.revoke_token_audited(None, "op1", &[], "root", AT)
            .await
            .unwrap()
    );
    assert_eq!(s.find_token(&op.hash).await.unwrap(), None);
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(1));
}

/// A token dies with its user: deleting the user revokes its tokens and the service
/// credentials acting as it, in the deletion's transaction, each revocation audited
/// after the deletion's own entry; the revocation generation moves; the id re-created
/// inherits nothing, and no token can be stored for a user that does not exist.
pub(crate) async fn deleting_a_user_revokes_its_tokens(s: &dyn Store) {
    create(s, "acme").await;
    assert_eq!(users(s, "acme", &["u1", "u2"]).await, 2);
    let t1 = token("t1", Some("acme"), Some("u1"));
    let t2 = token("t2", Some("acme"), Some("u2"));
    let c1 = TokenRecord {
        credential: Some(r#"{"name":"crm","abilities":["write"],"principal":"u1"}"#.into()),
        ..token("c1", Some("acme"), Some("u1"))
    };
    for t in [&t1, &t2, &c1] {
        s.put_token(t).await.unwrap();
    }
    let g0 = s.revocation_generation().await.unwrap();
    let delete = Change::DeleteEntity {
        ty: "user".into(),
        id: "u1".into(),
    };
    let r = s
        .apply_audited(
            "acme",
            Some(2),
            &[delete],
            &[draft("user.delete", "user:u1", Some("{}"), None)],
            "admin",
            AT + 1,
        )
        .await
        .unwrap();
    assert_eq!(r, 3);
    assert_eq!(s.find_token(&t1.hash).await.unwrap(), None);
    assert_eq!(s.find_token(&c1.hash).await.unwrap(), None);
    assert_eq!(s.find_token(&t2.hash).await.unwrap(), Some(t2.clone()));
    assert!(s.revocation_generation().await.unwrap() > g0);
    let log = s.audit("acme", &all()).await.unwrap();
    let what: Vec<(&str, &str, u64)> = log
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str(), e.revision))
        .collect();
    assert_eq!(
        what,
        [
            ("user.delete", "user:u1", 3),
            ("credential.revoke", "credential:c1", 3),
            ("token.revoke", "user:u1", 3),
        ]
    );
    assert!(log[2].before.as_deref().unwrap().contains("user deleted"));
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(3));
    // No new token for the deleted user; the re-created id inherits none of the old.
    assert!(matches!(
        s.put_token(&token("t3", Some("acme"), Some("u1"))).await,
        Err(StoreError::NotFound(_))
    ));
    users(s, "acme", &["u1"]).await;
    assert_eq!(s.find_token(&t1.hash).await.unwrap(), None);
    assert_eq!(s.list_tokens(Some("acme")).await.unwrap(), vec![t2]);
    // A plain revocation moves the generation too; a deletion with no tokens does not.
    let g1 = s.revocation_generation().await.unwrap();
    assert!(s.revoke_token(Some("acme"), "t2").await.unwrap());
    let g2 = s.revocation_generation().await.unwrap();
    assert!(g2 > g1);
    let delete = Change::DeleteEntity {
        ty: "user".into(),
        id: "u2".into(),
    };
    s.apply("acme", None, &[delete], "admin", AT).await.unwrap();
    assert_eq!(s.revocation_generation().await.unwrap(), g2);
}
