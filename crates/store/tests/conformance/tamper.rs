//! Tampering with stored audit entries is reported by `verify_audit`.

use rolecall_store::Store;

use crate::data::*;
use crate::harness::Ctx;

/// Five entries in tenant `acme` (seq 3 by `bob`), three in `other`.
async fn audited_tenants(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    s.apply_audited(
        "acme",
        Some(1),
        &[upsert("user", "u1", None, &[])],
        &[
            draft("entity.create", "user:u1", None, Some("{}")),
            draft("role.create", "role:r", None, Some(r#"{"id":"r"}"#)),
        ],
        "alice",
        AT,
    )
    .await
    .unwrap();
    s.append_audit(
        "acme",
        &[draft("decision.listen", "conv:c1", None, None)],
        "bob",
        AT + 1,
    )
    .await
    .unwrap();
    s.apply_audited(
        "acme",
        Some(2),
        &[],
        &[
            draft("role.update", "role:r", Some(r#"{"id":"r"}"#), Some("{}")),
            draft("role.delete", "role:r", Some("{}"), None),
        ],
        "carol",
        AT + 2,
    )
    .await
    .unwrap();
    s.append_audit(
        "other",
        &[
            draft("decision.a", "conv:c1", None, None),
            draft("decision.b", "conv:c2", None, None),
            draft("decision.c", "conv:c3", None, None),
        ],
        "bob",
        AT,
    )
    .await
    .unwrap();
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(5));
    assert_eq!(s.verify_audit("other").await.unwrap(), intact(3));
}

/// `verify_audit` found a bad entry: (its seq, the reason).
async fn first_bad(s: &dyn Store, tenant: &str) -> (u64, u64, String) {
    let v = s.verify_audit(tenant).await.unwrap();
    let Some((seq, reason)) = v.first_bad else {
        panic!("tampering with {tenant} went unnoticed: {v:?}");
    };
    (v.entries, seq, reason)
}

pub(crate) async fn tampered_audit_field_is_detected(ctx: &Ctx) {
    let s = &*ctx.store;
    audited_tenants(s).await;
    let n = ctx
        .execute_raw("UPDATE audit SET actor = 'mallory' WHERE tenant = 'acme' AND seq = 3")
        .await;
    assert_eq!(n, 1);
    // The store reads the altered row as it is; verification names it.
    assert_eq!(s.audit("acme", &all()).await.unwrap()[2].actor, "mallory");
    let (entries, seq, reason) = first_bad(s, "acme").await;
    assert_eq!(seq, 3, "{reason}");
    assert_eq!(entries, 3, "entries checked up to the bad one");
    assert!(reason.contains("altered"), "{reason}");
    // Another tenant's chain is not affected.
    assert_eq!(s.verify_audit("other").await.unwrap(), intact(3));

    // Putting it back makes the chain whole again: the check is about that field.
    ctx.execute_raw("UPDATE audit SET actor = 'bob' WHERE tenant = 'acme' AND seq = 3")
        .await;
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(5));

    // Every stored field counts: the time, the revision, a JSON payload.
    for (sql, undo, bad) in [
        (
            "UPDATE audit SET at = at + 1 WHERE tenant = 'acme' AND seq = 5",
            "UPDATE audit SET at = at - 1 WHERE tenant = 'acme' AND seq = 5",
            5,
        ),
        (
            "UPDATE audit SET revision = 9 WHERE tenant = 'acme' AND seq = 1",
            "UPDATE audit SET revision = 2 WHERE tenant = 'acme' AND seq = 1",
            1,
        ),
        (
            "UPDATE audit SET after = NULL WHERE tenant = 'acme' AND seq = 2",
            "UPDATE audit SET after = '{\"id\":\"r\"}' WHERE tenant = 'acme' AND seq = 2",
            2,
        ),
        (
            "UPDATE audit SET before = '{}' WHERE tenant = 'acme' AND seq = 3",
            "UPDATE audit SET before = NULL WHERE tenant = 'acme' AND seq = 3",
            3,
        ),
    ] {
        assert_eq!(ctx.execute_raw(sql).await, 1, "{sql}");
        let (entries, seq, reason) = first_bad(s, "acme").await;
        assert_eq!((entries, seq), (bad, bad), "{sql}: {reason}");
        assert!(reason.contains("altered"), "{sql}: {reason}");
        ctx.execute_raw(undo).await;
        assert_eq!(s.verify_audit("acme").await.unwrap(), intact(5), "{undo}");
    }
}

pub(crate) async fn deleted_audit_entry_is_detected(ctx: &Ctx) {
    let s = &*ctx.store;
    audited_tenants(s).await;
    let n = ctx
        .execute_raw("DELETE FROM audit WHERE tenant = 'acme' AND seq = 2")
        .await;
    assert_eq!(n, 1);
    let (entries, seq, reason) = first_bad(s, "acme").await;
    assert_eq!(seq, 3, "the entry after the gap: {reason}");
    assert_eq!(entries, 2);
    assert!(reason.contains("missing"), "{reason}");
    assert!(reason.contains("sequence 3 follows 1"), "{reason}");
    // New entries go on after the last one; the gap stays visible.
    assert_eq!(
        s.append_audit(
            "acme",
            &[draft("decision.z", "conv:c9", None, None)],
            "bob",
            AT + 9
        )
        .await
        .unwrap(),
        [6]
    );
    assert_eq!(first_bad(s, "acme").await.1, 3);

    // Removing the first entry: the chain then starts at 2.
    ctx.execute_raw("DELETE FROM audit WHERE tenant = 'other' AND seq = 1")
        .await;
    let (entries, seq, reason) = first_bad(s, "other").await;
    assert_eq!((entries, seq), (1, 2), "{reason}");
    assert!(reason.contains("missing"), "{reason}");
}

pub(crate) async fn rehashed_audit_entry_is_detected(ctx: &Ctx) {
    let s = &*ctx.store;
    audited_tenants(s).await;
    // A forger who knows the hash function rewrites entry 3 and its hash: entry 3 is
    // then self-consistent, but entry 4 no longer follows it.
    let mut forged = s.audit("acme", &all()).await.unwrap()[2].clone();
    forged.actor = "mallory".to_owned();
    forged.hash = rolecall_store::audit::hash_of(&forged);
    let n = ctx
        .execute_raw(&format!(
            "UPDATE audit SET actor = 'mallory', hash = '{}' WHERE tenant = 'acme' AND seq = 3",
            forged.hash
        ))
        .await;
    assert_eq!(n, 1);
    let (entries, seq, reason) = first_bad(s, "acme").await;
    assert_eq!((entries, seq), (4, 4), "{reason}");
    assert!(reason.contains("previous-hash"), "{reason}");
}

/// A verification resumes from a stored checkpoint: entries after it are verified, an
/// alteration after it is found, and an altered checkpoint entry is reported.
pub(crate) async fn verification_resumes_from_a_checkpoint(ctx: &Ctx) {
    let s = &*ctx.store;
    audited_tenants(s).await;
    assert_eq!(s.audit_checkpoint("acme").await.unwrap(), None);
    let full = s.verify_audit_from("acme", None).await.unwrap();
    assert_eq!((full.entries, &full.first_bad), (5, &None));
    let (seq, hash) = full.last.clone().unwrap();
    assert_eq!(seq, 5);
    let cp = rolecall_store::AuditCheckpoint {
        seq: 3,
        hash: s.audit("acme", &all()).await.unwrap()[2].hash.clone(),
        verified_at: AT,
    };
    s.put_audit_checkpoint("acme", &cp).await.unwrap();
    assert_eq!(s.audit_checkpoint("acme").await.unwrap(), Some(cp.clone()));
    let resumed = s
        .verify_audit_from("acme", Some((cp.seq, cp.hash.clone())))
        .await
        .unwrap();
    assert_eq!((resumed.entries, &resumed.first_bad), (2, &None));
    assert_eq!(resumed.last, Some((seq, hash)));
    // An unknown tenant has no checkpoint to store.
    assert!(s.put_audit_checkpoint("ghost", &cp).await.is_err());
    // Entry 4 altered: found from the checkpoint.
    ctx.execute_raw("UPDATE audit SET actor = 'mallory' WHERE tenant = 'acme' AND seq = 4")
        .await;
    let v = s
        .verify_audit_from("acme", Some((cp.seq, cp.hash.clone())))
        .await
        .unwrap();
    assert_eq!(v.first_bad.map(|(s, _)| s), Some(4));
    // The checkpoint's own entry altered: reported, not trusted.
    ctx.execute_raw("UPDATE audit SET actor = 'mallory' WHERE tenant = 'acme' AND seq = 3")
        .await;
    let v = s
        .verify_audit_from("acme", Some((cp.seq, cp.hash.clone())))
        .await
        .unwrap();
    assert_eq!(v.first_bad.map(|(s, _)| s), Some(3));
}

/// Retention prunes a prefix of the chain, keeps its last hash as the root, and the
/// rest still verifies (and is still checked: tampering after the root is found).
pub(crate) async fn pruning_keeps_the_chain_verifiable(ctx: &Ctx) {
    let s = &*ctx.store;
    audited_tenants(s).await;
    // Entries 1-2 at AT, 3 at AT + 1, 4-5 at AT + 2 (see `audited_tenants`).
    let log = s.audit("acme", &all()).await.unwrap();
    let times: Vec<i64> = log.iter().map(|e| e.at).collect();
    assert_eq!(s.audit_root("acme").await.unwrap(), None);
    assert_eq!(
        s.prune_audit("acme", AT, AT + 10).await.unwrap(),
        0,
        "nothing older"
    );
    let cut = times[2] + 1;
    let pruned = s.prune_audit("acme", cut, AT + 10).await.unwrap();
    let kept_from = times.iter().position(|t| *t >= cut).unwrap();
    assert_eq!(pruned, kept_from as u64);
    let root = s.audit_root("acme").await.unwrap().unwrap();
    assert_eq!(
        root,
        (log[kept_from - 1].seq, log[kept_from - 1].hash.clone())
    );
    let rest = s.audit("acme", &all()).await.unwrap();
    assert_eq!(rest, log[kept_from..].to_vec());
    let v = s.verify_audit("acme").await.unwrap();
    assert_eq!(v, intact((log.len() - kept_from) as u64));
    // Again: nothing more to prune; the other tenant untouched.
    assert_eq!(s.prune_audit("acme", cut, AT + 11).await.unwrap(), 0);
    assert_eq!(s.verify_audit("other").await.unwrap(), intact(3));
    // A checkpoint inside the pruned prefix gives way to the root.
    let v = s
        .verify_audit_from("acme", Some((1, log[0].hash.clone())))
        .await
        .unwrap();
    assert_eq!(v.first_bad, None);
    assert_eq!(v.from, Some(root));
    // Tampering after the root is still found.
    let k = log[kept_from].seq;
    ctx.execute_raw(&format!(
        "UPDATE audit SET actor = 'mallory' WHERE tenant = 'acme' AND seq = {k}"
    ))
    .await;
    assert_eq!(
        s.verify_audit("acme")
            .await
            .unwrap()
            .first_bad
            .map(|(s, _)| s),
        Some(k)
    );
}
