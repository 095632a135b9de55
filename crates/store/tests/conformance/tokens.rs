//! API tokens: storing, finding, listing, revoking.

use rolecall_store::{Store, StoreError, TokenRecord};

use crate::data::*;

pub(crate) async fn tokens_put_find_revoke_list(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    let tok = |id: &str, tenant: Option<&str>, principal: Option<&str>, at: i64| TokenRecord {
        id: id.to_owned(),
        hash: format!("{:0>64}", id),
        tenant: tenant.map(str::to_owned),
        principal: principal.map(str::to_owned),
        created_at: at,
    };
    let op1 = tok("op1", None, None, AT);
    let op2 = tok("op2", None, None, AT + 1);
    let t1 = tok("t1", Some("acme"), Some("u1"), AT + 2);
    let t2 = tok("t2", Some("acme"), Some("u2"), AT + 1);
    let t3 = tok("t3", Some("other"), Some("u1"), AT);
    for t in [&op1, &op2, &t1, &t2, &t3] {
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
    assert_eq!(
        s.list_tokens(Some("other")).await.unwrap(),
        vec![t3.clone()]
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
    assert_eq!(s.list_tokens(Some("other")).await.unwrap(), vec![t3]);
}
