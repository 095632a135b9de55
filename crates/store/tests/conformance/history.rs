//! History: checkpoints of a tenant's whole state, and the revision a tenant was at
//! at a point in time.

use rolecall_store::{Store, StoreError};

use crate::data::*;
use crate::harness::Ctx;

pub(crate) async fn checkpoints_newest_at_or_before(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    for _ in 0..5 {
        s.apply("acme", None, &[], "a", AT).await.unwrap();
    }
    assert_eq!(s.revision("acme").await.unwrap(), 6);
    assert_eq!(s.checkpoint_at_or_before("acme", 6).await.unwrap(), None);
    let every_byte: Vec<u8> = (0..=255).collect();
    s.put_checkpoint("acme", 2, b"two").await.unwrap();
    s.put_checkpoint("acme", 4, &every_byte).await.unwrap();
    s.put_checkpoint("acme", 6, b"").await.unwrap();
    let at = |r: u64| async move { s.checkpoint_at_or_before("acme", r).await.unwrap() };
    assert_eq!(at(0).await, None);
    assert_eq!(at(1).await, None);
    assert_eq!(at(2).await, Some((2, b"two".to_vec())));
    assert_eq!(at(3).await, Some((2, b"two".to_vec())));
    assert_eq!(
        at(4).await,
        Some((4, every_byte.clone())),
        "binary data as written, NUL bytes and all"
    );
    assert_eq!(at(5).await, Some((4, every_byte)));
    assert_eq!(at(6).await, Some((6, Vec::new())), "empty data is data");
    assert_eq!(at(u64::MAX).await, Some((6, Vec::new())));

    // One at the same revision replaces it.
    s.put_checkpoint("acme", 4, b"four").await.unwrap();
    assert_eq!(at(5).await, Some((4, b"four".to_vec())));
    assert_eq!(at(3).await, Some((2, b"two".to_vec())));

    // Per tenant.
    assert_eq!(
        s.checkpoint_at_or_before("other", u64::MAX).await.unwrap(),
        None
    );
    s.put_checkpoint("other", 1, b"one").await.unwrap();
    assert_eq!(
        s.checkpoint_at_or_before("other", 9).await.unwrap(),
        Some((1, b"one".to_vec()))
    );
    assert_eq!(at(1).await, None);

    // A revision the tenant has not reached: Conflict, nothing stored.
    match s.put_checkpoint("acme", 7, b"seven").await {
        Err(StoreError::Conflict {
            expected: 7,
            current: 6,
        }) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(at(7).await, Some((6, Vec::new())));
    // Once it has, fine.
    s.apply("acme", Some(6), &[], "a", AT).await.unwrap();
    s.put_checkpoint("acme", 7, b"seven").await.unwrap();
    assert_eq!(at(u64::MAX).await, Some((7, b"seven".to_vec())));

    // Unknown tenant.
    assert!(matches!(
        s.put_checkpoint("ghost", 1, b"x").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.checkpoint_at_or_before("ghost", 1).await,
        Err(StoreError::NotFound(_))
    ));
    // Checkpoints are no writes of the tenant: no revision, no log.
    assert_eq!(s.revision("acme").await.unwrap(), 7);
    assert!(s.changes_since("acme", 0, 10).await.unwrap().is_empty());
}

pub(crate) async fn checkpoints_go_with_their_tenant(ctx: &Ctx) {
    let s = &*ctx.store;
    create(s, "acme").await;
    create(s, "other").await;
    s.put_checkpoint("acme", 1, b"a1").await.unwrap();
    s.apply("acme", None, &[], "a", AT).await.unwrap();
    s.put_checkpoint("acme", 2, b"a2").await.unwrap();
    s.put_checkpoint("other", 1, b"o1").await.unwrap();
    assert_eq!(
        ctx.execute_raw("DELETE FROM tenants WHERE id = 'acme'")
            .await,
        1
    );
    // The foreign key took acme's checkpoints with it: nothing is left to delete.
    assert_eq!(
        ctx.execute_raw("DELETE FROM checkpoints WHERE tenant = 'acme'")
            .await,
        0
    );
    assert!(matches!(
        s.checkpoint_at_or_before("acme", 2).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.checkpoint_at_or_before("other", 1).await.unwrap(),
        Some((1, b"o1".to_vec()))
    );
}

pub(crate) async fn revision_at_time_follows_the_log(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    let user = |id: &str| upsert("user", id, None, &[]);
    // Revisions 2 to 7 of acme, at these times.
    let writes = [
        (vec![user("u2")], AT + 10),
        (vec![user("u3a"), user("u3b")], AT + 20),
        (vec![], AT + 25),
        (vec![user("u5")], AT + 30),
        (vec![user("u6")], AT + 40),
        (vec![user("u7")], AT + 40),
    ];
    for (i, (batch, at)) in writes.iter().enumerate() {
        let r = s.apply("acme", None, batch, "a", *at).await.unwrap();
        assert_eq!(r, i as u64 + 2);
    }
    s.apply("other", None, &[user("x")], "a", AT + 35)
        .await
        .unwrap();

    for (t, want) in [
        (i64::MIN, 1),
        (AT, 1),
        (AT + 9, 1),
        (AT + 10, 2),
        (AT + 19, 2),
        (AT + 20, 3),
        // Revision 4, an empty batch, wrote no change-log row.
        (AT + 25, 3),
        (AT + 29, 3),
        (AT + 30, 5),
        (AT + 39, 5),
        // Two revisions in one second: the later one.
        (AT + 40, 7),
        (i64::MAX, 7),
    ] {
        assert_eq!(s.revision_at_time("acme", t).await.unwrap(), want, "at {t}");
    }
    // Per tenant.
    assert_eq!(s.revision_at_time("other", AT + 34).await.unwrap(), 1);
    assert_eq!(s.revision_at_time("other", AT + 35).await.unwrap(), 2);
    create(s, "quiet").await;
    assert_eq!(
        s.revision_at_time("quiet", i64::MAX).await.unwrap(),
        1,
        "no log: the creation"
    );
    assert!(matches!(
        s.revision_at_time("ghost", AT).await,
        Err(StoreError::NotFound(_))
    ));
}
