//! The audit trail: entries and their revisions, filters, paging, conflicts, chains
//! per tenant, concurrent writers.

use rolecall_store::{AuditDraft, AuditFilter, Change, Store, StoreError};

use crate::data::*;
use crate::harness::Ctx;

pub(crate) async fn audit_is_written_with_its_revision(s: &dyn Store) {
    create(s, "acme").await;
    let d1 = draft(
        "entity.create",
        "user:u1",
        None,
        Some(r#"{"id":"u1","name":"Ünï"}"#),
    );
    let d2 = draft("role.update", "role:r", Some("{}"), Some(r#"{"x":1}"#));
    let d3 = draft(
        "assignment.delete",
        "assignment:a1",
        Some(r#"{"id":"a1"}"#),
        None,
    );
    let r = s
        .apply_audited(
            "acme",
            Some(1),
            &[upsert("user", "u1", None, &[])],
            &[d1.clone(), d2.clone()],
            "alice",
            AT + 1,
        )
        .await
        .unwrap();
    assert_eq!(r, 2);
    // An empty batch with an entry: still one revision.
    let r = s
        .apply_audited("acme", None, &[], std::slice::from_ref(&d3), "bob", AT + 2)
        .await
        .unwrap();
    assert_eq!(r, 3);
    // A plain `apply` writes no audit entry.
    assert_eq!(
        s.apply(
            "acme",
            None,
            &[upsert("user", "u2", None, &[])],
            "carol",
            AT + 3
        )
        .await
        .unwrap(),
        4
    );

    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1, 2, 3]);
    let fields: Vec<(u64, &str, i64)> = log
        .iter()
        .map(|r| (r.revision, r.actor.as_str(), r.at))
        .collect();
    assert_eq!(
        fields,
        [
            (2, "alice", AT + 1),
            (2, "alice", AT + 1),
            (3, "bob", AT + 2)
        ],
        "each entry carries its batch's revision, actor and time"
    );
    for (r, d) in log.iter().zip([&d1, &d2, &d3]) {
        assert_eq!(r.action, d.action);
        assert_eq!(r.target, d.target);
        assert_eq!(r.before, d.before);
        assert_eq!(r.after, d.after);
        assert_eq!(r.hash.len(), 64);
        assert!(r.hash.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(r.hash, rolecall_store::audit::hash_of(r));
    }
    // The chain: each entry names its predecessor's hash.
    assert_eq!(log[0].prev_hash, "");
    assert_eq!(log[1].prev_hash, log[0].hash);
    assert_eq!(log[2].prev_hash, log[1].hash);
    assert_eq!(
        log[0].hash,
        rolecall_store::audit::compute(
            "",
            1,
            2,
            AT + 1,
            "alice",
            "entity.create",
            "user:u1",
            None,
            Some(r#"{"id":"u1","name":"Ünï"}"#)
        )
    );
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(3));

    // The change log is unaffected by the audit entries.
    let revs: Vec<u64> = s
        .changes_since("acme", 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|c| c.revision)
        .collect();
    assert_eq!(revs, [2, 4]);
}

pub(crate) async fn append_audit_keeps_the_revision(s: &dyn Store) {
    create(s, "acme").await;
    s.apply("acme", Some(1), &[upsert("user", "u1", None, &[])], "a", AT)
        .await
        .unwrap();
    let got = s
        .append_audit(
            "acme",
            &[
                draft("decision.engagement.listen", "conv:c1", None, None),
                draft("decision.engagement.barge", "conv:c1", None, Some("true")),
            ],
            "svc",
            AT + 5,
        )
        .await
        .unwrap();
    assert_eq!(got, [1, 2]);
    assert_eq!(s.revision("acme").await.unwrap(), 2, "no revision bump");
    assert_eq!(s.get_tenant("acme").await.unwrap().unwrap().revision, 2);
    assert_eq!(s.load_state("acme").await.unwrap().revision, 2);
    assert_eq!(
        s.changes_since("acme", 0, 100).await.unwrap().len(),
        1,
        "no change-log rows"
    );
    let log = s.audit("acme", &all()).await.unwrap();
    assert!(
        log.iter()
            .all(|r| r.revision == 2 && r.actor == "svc" && r.at == AT + 5)
    );

    // Interleaved with audited writes, the chain goes on.
    assert_eq!(
        s.apply_audited(
            "acme",
            Some(2),
            &[],
            &[draft("setting.update", "setting:k", None, Some("1"))],
            "a",
            AT + 6
        )
        .await
        .unwrap(),
        3
    );
    assert_eq!(
        s.append_audit(
            "acme",
            &[draft("decision.x", "conv:c2", None, None)],
            "svc",
            AT + 7
        )
        .await
        .unwrap(),
        [4]
    );
    // Nothing to append: nothing written, nothing bumped.
    assert_eq!(
        s.append_audit("acme", &[], "svc", AT + 8).await.unwrap(),
        Vec::<u64>::new()
    );
    assert_eq!(s.revision("acme").await.unwrap(), 3);
    let log = s.audit("acme", &all()).await.unwrap();
    let pos: Vec<(u64, u64)> = log.iter().map(|r| (r.seq, r.revision)).collect();
    assert_eq!(pos, [(1, 2), (2, 2), (3, 3), (4, 3)]);
    assert_eq!(log[3].prev_hash, log[2].hash);
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(4));
}

pub(crate) async fn audit_filters_and_paging(s: &dyn Store) {
    create(s, "acme").await;
    // (actor, action, target, at); seq = position + 1.
    let entries = [
        ("alice", "role.create", "role:r1", AT),
        ("alice", "role.update", "role:r1", AT + 10),
        ("bob", "assignment.create", "assignment:a1", AT + 20),
        ("bob", "decision.engagement.listen", "conv:c1", AT + 30),
        ("carol", "role_x.update", "role:r2", AT + 40),
        ("carol", "Role.delete", "role:r1", AT + 50),
        ("alice", "100%.done", "misc:x", AT + 60),
        ("alice", "1000.done", "misc:y", AT + 70),
        ("dave", "a\\b.done", "misc:z", AT + 80),
    ];
    for (i, (actor, action, target, at)) in entries.iter().enumerate() {
        let got = s
            .append_audit("acme", &[draft(action, target, None, None)], actor, *at)
            .await
            .unwrap();
        assert_eq!(got, [i as u64 + 1]);
    }
    let q = |f: AuditFilter| async move { seqs(&s.audit("acme", &f).await.unwrap()) };
    let actor = |a: &str| AuditFilter {
        actor: Some(a.to_owned()),
        ..all()
    };
    let target = |t: &str| AuditFilter {
        target: Some(t.to_owned()),
        ..all()
    };
    let action = |a: &str| AuditFilter {
        action: Some(a.to_owned()),
        ..all()
    };

    assert_eq!(q(all()).await, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(q(actor("alice")).await, [1, 2, 7, 8]);
    assert_eq!(q(actor("Alice")).await, Vec::<u64>::new(), "actor is exact");
    assert_eq!(q(actor("nobody")).await, Vec::<u64>::new());
    assert_eq!(q(target("role:r1")).await, [1, 2, 6]);
    assert_eq!(
        q(target("role:r")).await,
        Vec::<u64>::new(),
        "target is exact"
    );

    // Action is a prefix, case-sensitive, with LIKE's wildcards taken literally.
    assert_eq!(q(action("role.")).await, [1, 2]);
    assert_eq!(q(action("role")).await, [1, 2, 5]);
    assert_eq!(q(action("role_")).await, [5], "`_` is not a wildcard");
    assert_eq!(
        q(action("Role.")).await,
        [6],
        "the prefix is case-sensitive"
    );
    assert_eq!(q(action("100%")).await, [7], "`%` is not a wildcard");
    assert_eq!(q(action("10")).await, [7, 8]);
    assert_eq!(q(action("a\\b")).await, [9], "`\\` is not an escape");
    assert_eq!(q(action("decision.engagement.listen")).await, [4]);
    assert_eq!(
        q(action("decision.engagement.listen.more")).await,
        Vec::<u64>::new()
    );
    assert_eq!(q(action("")).await, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // Time: from inclusive, to exclusive.
    let time = |from: Option<i64>, to: Option<i64>| AuditFilter { from, to, ..all() };
    assert_eq!(q(time(Some(AT + 20), None)).await, [3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(q(time(None, Some(AT + 20))).await, [1, 2]);
    assert_eq!(q(time(Some(AT + 20), Some(AT + 50))).await, [3, 4, 5]);
    assert_eq!(
        q(time(Some(AT + 21), Some(AT + 21))).await,
        Vec::<u64>::new()
    );

    // All filters together.
    let f = AuditFilter {
        actor: Some("alice".to_owned()),
        target: Some("role:r1".to_owned()),
        action: Some("role.".to_owned()),
        from: Some(AT + 5),
        to: Some(AT + 11),
        after_seq: Some(1),
        limit: 10,
        ..all()
    };
    assert_eq!(q(f).await, [2]);

    // Paging.
    let page = |after_seq: Option<u64>, limit: u32| AuditFilter {
        after_seq,
        limit,
        ..all()
    };
    assert_eq!(q(page(Some(6), 0)).await, [7, 8, 9]);
    assert_eq!(q(page(Some(0), 0)).await, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(q(page(None, 3)).await, [1, 2, 3]);
    assert_eq!(q(page(Some(9), 3)).await, Vec::<u64>::new());
    assert_eq!(q(page(Some(u64::MAX), 3)).await, Vec::<u64>::new());
    let mut seen = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let got = q(page(Some(after), 4)).await;
        let Some(&last) = got.last() else { break };
        assert!(got.len() <= 4);
        seen.extend(got);
        after = last;
        pages += 1;
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(pages, 3);
    // Paging composes with a filter.
    let f = AuditFilter {
        actor: Some("alice".to_owned()),
        after_seq: Some(2),
        limit: 1,
        ..all()
    };
    assert_eq!(q(f).await, [7]);

    // Newest first, paging backward with `before_seq`.
    let back = |before_seq: Option<u64>, limit: u32| AuditFilter {
        before_seq,
        limit,
        newest_first: true,
        ..all()
    };
    assert_eq!(q(back(None, 3)).await, [9, 8, 7]);
    assert_eq!(q(back(Some(7), 3)).await, [6, 5, 4]);
    assert_eq!(q(back(Some(2), 3)).await, [1]);
    assert_eq!(q(back(Some(1), 3)).await, Vec::<u64>::new());
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let got = q(back(before, 4)).await;
        let Some(&last) = got.last() else { break };
        seen.extend(got);
        before = Some(last);
    }
    assert_eq!(seen, [9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // Both bounds, and a filter, newest first.
    let f = AuditFilter {
        actor: Some("alice".to_owned()),
        after_seq: Some(1),
        before_seq: Some(9),
        newest_first: true,
        ..all()
    };
    let alice_between: Vec<u64> = q(AuditFilter {
        actor: Some("alice".to_owned()),
        after_seq: Some(1),
        before_seq: Some(9),
        ..all()
    })
    .await
    .into_iter()
    .rev()
    .collect();
    assert_eq!(q(f).await, alice_between);
}

pub(crate) async fn audit_limit_defaults_and_caps(s: &dyn Store) {
    create(s, "acme").await;
    let drafts: Vec<AuditDraft> = (0..10_050)
        .map(|i| draft("decision.bulk", &format!("conv:c{i}"), None, None))
        .collect();
    let got = s.append_audit("acme", &drafts, "bulk", AT).await.unwrap();
    assert_eq!(got.len(), 10_050);
    assert_eq!(got.first(), Some(&1));
    assert_eq!(got.last(), Some(&10_050));
    let n = |limit: u32| async move {
        s.audit("acme", &AuditFilter { limit, ..all() })
            .await
            .unwrap()
            .len()
    };
    assert_eq!(n(0).await, 1_000, "0 means the default, 1,000");
    assert_eq!(n(7).await, 7);
    assert_eq!(n(10_000).await, 10_000);
    assert_eq!(n(10_001).await, 10_000, "capped at 10,000");
    assert_eq!(n(u32::MAX).await, 10_000);
    // Verification pages through the whole chain.
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(10_050));
}

pub(crate) async fn audit_conflict_writes_nothing(s: &dyn Store) {
    create(s, "acme").await;
    s.apply_audited(
        "acme",
        Some(1),
        &[upsert("user", "u1", None, &[])],
        &[draft("entity.create", "user:u1", None, Some("{}"))],
        "a",
        AT,
    )
    .await
    .unwrap();
    let state = s.load_state("acme").await.unwrap();
    let trail = s.audit("acme", &all()).await.unwrap();
    let batch = [
        upsert("user", "u2", Some("Two"), &[]),
        Change::PutSodRule(sod("s1", 1)),
    ];
    let drafts = [
        draft("entity.create", "user:u2", None, Some("{}")),
        draft("sod.create", "sod:s1", None, Some("{}")),
    ];
    for stale in [Some(1), Some(3), Some(0)] {
        match s
            .apply_audited("acme", stale, &batch, &drafts, "mallory", AT + 1)
            .await
        {
            Err(StoreError::Conflict { expected, current }) => {
                assert_eq!(Some(expected), stale);
                assert_eq!(current, 2);
            }
            other => panic!("expected Conflict, got {other:?}"),
        }
    }
    assert_eq!(s.revision("acme").await.unwrap(), 2);
    assert_eq!(s.load_state("acme").await.unwrap(), state);
    assert_eq!(s.changes_since("acme", 0, 100).await.unwrap().len(), 1);
    assert_eq!(
        s.audit("acme", &all()).await.unwrap(),
        trail,
        "no audit entry"
    );
    // The right expectation then writes both, the chain continuing where it was.
    assert_eq!(
        s.apply_audited("acme", Some(2), &batch, &drafts, "a", AT + 2)
            .await
            .unwrap(),
        3
    );
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1, 2, 3]);
    assert!(log[1..].iter().all(|r| r.revision == 3));
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(3));
}

pub(crate) async fn audit_chains_are_per_tenant(s: &dyn Store) {
    create(s, "one").await;
    create(s, "two").await;
    s.append_audit(
        "one",
        &[
            draft("x.a", "t:1", None, None),
            draft("x.b", "t:2", None, None),
            draft("x.c", "t:3", None, None),
        ],
        "a",
        AT,
    )
    .await
    .unwrap();
    let got = s
        .apply_audited(
            "two",
            Some(1),
            &[],
            &[
                draft("y.a", "t:1", None, None),
                draft("y.b", "t:2", None, None),
            ],
            "b",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(got, 2);
    let one = s.audit("one", &all()).await.unwrap();
    let two = s.audit("two", &all()).await.unwrap();
    assert_eq!(seqs(&one), [1, 2, 3]);
    assert_eq!(seqs(&two), [1, 2], "each tenant's chain starts at 1");
    assert_eq!(two[0].prev_hash, "");
    assert!(two.iter().all(|r| r.action.starts_with("y.")));
    assert_eq!(s.verify_audit("one").await.unwrap(), intact(3));
    assert_eq!(s.verify_audit("two").await.unwrap(), intact(2));
    assert_eq!(
        s.audit(
            "two",
            &AuditFilter {
                action: Some("x.".to_owned()),
                ..all()
            }
        )
        .await
        .unwrap(),
        Vec::new()
    );
}

pub(crate) async fn audit_unknown_tenant_is_not_found(s: &dyn Store) {
    create(s, "acme").await;
    fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
        match r {
            Err(StoreError::NotFound(_)) => {}
            other => panic!("{what}: expected NotFound, got {other:?}"),
        }
    }
    let d = [draft("x.y", "t:1", None, None)];
    not_found(
        s.apply_audited("ghost", None, &[], &d, "a", AT).await,
        "apply_audited",
    );
    not_found(s.append_audit("ghost", &d, "a", AT).await, "append_audit");
    not_found(
        s.append_audit("ghost", &[], "a", AT).await,
        "empty append_audit",
    );
    not_found(s.audit("ghost", &all()).await, "audit");
    not_found(
        s.audit(
            "ghost",
            &AuditFilter {
                actor: Some("a".to_owned()),
                ..all()
            },
        )
        .await,
        "filtered audit",
    );
    not_found(s.verify_audit("ghost").await, "verify_audit");
    // A known tenant with no entries is an empty, intact chain.
    assert_eq!(s.audit("acme", &all()).await.unwrap(), Vec::new());
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(0));
}

pub(crate) async fn concurrent_audit_writers_keep_one_chain(ctx: &Ctx) {
    let a = ctx.store.clone();
    let b = ctx.open_again().await;
    a.create_tenant(&tenant("acme"), "op", AT).await.unwrap();
    // Eight writers on two pools, each alternating decision entries (no revision) and
    // audited writes (one revision, one entry).
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = if w % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let actor = format!("w{w}");
                for i in 0..10 {
                    if i % 2 == 0 {
                        let d = [
                            draft("decision.x", &format!("{actor}:{i}"), None, None),
                            draft("decision.y", &format!("{actor}:{i}"), None, None),
                        ];
                        let got = s.append_audit("acme", &d, &actor, AT + i).await.unwrap();
                        assert_eq!(got.len(), 2);
                        assert_eq!(got[1], got[0] + 1, "one call's entries are adjacent");
                    } else {
                        let change = put("queue", "q", "member", "user", &format!("{actor}r{i}"));
                        let d = [draft("relation.put", &format!("{actor}:{i}"), None, None)];
                        s.apply_audited("acme", None, &[change], &d, &actor, AT + i)
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(a.revision("acme").await.unwrap(), 1 + 8 * 5);
    assert_eq!(b.verify_audit("acme").await.unwrap(), intact(8 * 15));
    let log = a.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), (1..=120).collect::<Vec<u64>>());
    assert!(
        log.windows(2).all(|w| w[0].revision <= w[1].revision),
        "revisions never go back along the chain"
    );
    let mut write_revs: Vec<u64> = log
        .iter()
        .filter(|r| r.action == "relation.put")
        .map(|r| r.revision)
        .collect();
    write_revs.dedup();
    assert_eq!(
        write_revs,
        (2..=41).collect::<Vec<u64>>(),
        "one entry per audited write, at its own revision"
    );
}

/// A group commit appends many requests' entries in order, each with its actor and
/// time, and adds tallies; a flush turns each ended tally into one chained entry with
/// its count, exactly once.
pub(crate) async fn audit_batches_and_tallies(s: &dyn Store) {
    create(s, "acme").await;
    let entry = |actor: &str, at: i64, target: &str| rolecall_store::AuditAppend {
        actor: actor.to_owned(),
        at,
        draft: draft("decision.listen", target, None, Some(r#"{"allowed":true}"#)),
    };
    let tally = |key: &str, window_start: i64, at: i64, count: u64| rolecall_store::AuditTally {
        key: key.to_owned(),
        window_start,
        actor: "user:a".to_owned(),
        draft: draft(
            "decision.listen",
            "conv:c1",
            None,
            Some(r#"{"allowed":true}"#),
        ),
        first_at: at,
        last_at: at,
        count,
    };
    s.append_audit_batch(
        "acme",
        &[
            entry("user:a", AT, "conv:c1"),
            entry("user:b", AT + 1, "conv:c2"),
        ],
        &[tally("k1", AT, AT + 2, 3)],
    )
    .await
    .unwrap();
    s.append_audit_batch(
        "acme",
        &[],
        &[
            tally("k1", AT, AT + 5, 4),
            tally("k2", AT + 100, AT + 100, 1),
        ],
    )
    .await
    .unwrap();
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1, 2]);
    assert_eq!((log[1].actor.as_str(), log[1].at), ("user:b", AT + 1));
    // Nothing ended yet.
    assert_eq!(s.flush_audit_tallies(AT).await.unwrap(), 0);
    // Window k1 ended, k2 not.
    assert_eq!(s.flush_audit_tallies(AT + 50).await.unwrap(), 1);
    assert_eq!(
        s.flush_audit_tallies(AT + 50).await.unwrap(),
        0,
        "exactly once"
    );
    let log = s.audit("acme", &all()).await.unwrap();
    assert_eq!(seqs(&log), [1, 2, 3]);
    let t = &log[2];
    assert_eq!(
        (t.action.as_str(), t.target.as_str(), t.actor.as_str()),
        ("decision.listen", "conv:c1", "user:a")
    );
    assert_eq!(t.at, AT + 5);
    let after: serde_json::Value = serde_json::from_str(t.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["allowed"], true);
    assert_eq!(after["coalesced"]["count"], 7);
    assert_eq!(after["coalesced"]["first_at"], AT + 2);
    assert_eq!(after["coalesced"]["last_at"], AT + 5);
    assert_eq!(s.flush_audit_tallies(i64::MAX).await.unwrap(), 1);
    assert_eq!(s.verify_audit("acme").await.unwrap(), intact(4));
    // An unknown tenant: nothing written.
    assert!(
        s.append_audit_batch("ghost", &[entry("x", AT, "t")], &[])
            .await
            .is_err()
    );
}
