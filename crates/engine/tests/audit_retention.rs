//! Retention (issue 13): with `audit_retention` set, the entries older than it are
//! pruned from the front of each tenant's chain, the last pruned hash kept as the
//! chain's root, and what remains still verifies; without it nothing is pruned.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::sync::Arc;
use std::time::Duration;

use rolecall_core::Change;
use rolecall_engine::commands::ApplyChanges;
use rolecall_engine::{Actor, Engine, ManualClock, Options, ProfileSource, TenantSpec, open_store};
use rolecall_store::{AuditFilter, Store};

fn user(id: &str) -> Change {
    Change::UpsertEntity {
        ty: "user".into(),
        id: id.into(),
        name: None,
        attributes: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_prunes_old_entries_and_the_rest_verifies() {
    let dir = std::env::temp_dir().join(format!(
        "rolecall-retention-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("r.db").display());
    let store: Arc<dyn Store> = open_store(&url).await.unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let day = Duration::from_secs(86_400);
    let keep_forever = Engine::open_with_clock(store.clone(), Options::default(), clock.clone())
        .await
        .unwrap();
    let engine = Engine::open_with_clock(
        store.clone(),
        Options {
            audit_retention: Some(day),
            ..Options::default()
        },
        clock.clone(),
    )
    .await
    .unwrap();
    let op = Actor::System { name: "test" };
    let tenant = engine
        .create_tenant(
            &op,
            TenantSpec {
                id: "t".into(),
                name: None,
                profile: ProfileSource::Shipped("goto-contact-center".into()),
            },
        )
        .await
        .unwrap();
    for i in 0..5 {
        tenant
            .execute(&op, &ApplyChanges(vec![user(&format!("old{i}"))]))
            .await
            .unwrap();
    }
    assert_eq!(engine.prune_audit().await.unwrap(), 0, "nothing old yet");
    clock.advance(2 * 86_400);
    tenant
        .execute(&op, &ApplyChanges(vec![user("new")]))
        .await
        .unwrap();
    assert_eq!(
        keep_forever.prune_audit().await.unwrap(),
        0,
        "no retention set"
    );
    // The tenant's creation and the five old writes go; the new write stays.
    assert_eq!(engine.prune_audit().await.unwrap(), 6);
    let rest = store.audit("t", &AuditFilter::default()).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].target, "user:new");
    assert_eq!(store.audit_root("t").await.unwrap().map(|r| r.0), Some(6));
    let v = store.verify_audit("t").await.unwrap();
    assert_eq!((v.entries, v.first_bad), (1, None));
    assert_eq!(engine.prune_audit().await.unwrap(), 0, "once");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
