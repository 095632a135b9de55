//! What a commit leaves behind: the change log, bulk batches, reopening, racing
//! writers, and the in-memory state that must match what a restart loads.

use rolecall_core::profile::Value;
use rolecall_core::state::Scope;
use rolecall_store::{Change, Store, StoreError, TokenRecord};

use crate::data::*;
use crate::harness::Ctx;

pub(crate) async fn changes_since_orders_and_limits(s: &dyn Store) {
    create(s, "acme").await;
    let b1 = vec![
        upsert("user", "u1", None, &[]),
        put("queue", "q1", "member", "user", "u1"),
        Change::SetSetting {
            key: "k".to_owned(),
            value: Value::Int(1),
        },
    ];
    let b2 = vec![del("queue", "q1", "member", "user", "u1")];
    let b3 = vec![
        Change::DeleteRole { id: "r".to_owned() },
        Change::DeleteAssignment { id: "a".to_owned() },
    ];
    assert_eq!(
        s.apply("acme", None, &b1, "alice", AT + 1).await.unwrap(),
        2
    );
    assert_eq!(
        s.apply("acme", None, &[], "nobody", AT + 2).await.unwrap(),
        3
    );
    assert_eq!(s.apply("acme", None, &b2, "bob", AT + 3).await.unwrap(), 4);
    assert_eq!(
        s.apply("acme", None, &b3, "carol", AT + 4).await.unwrap(),
        5
    );

    let all = s.changes_since("acme", 0, 100).await.unwrap();
    let pos: Vec<(u64, u32)> = all.iter().map(|c| (c.revision, c.seq)).collect();
    assert_eq!(pos, [(2, 0), (2, 1), (2, 2), (4, 0), (5, 0), (5, 1)]);
    assert_eq!(all[0].change, b1[0]);
    assert_eq!(all[1].change, b1[1]);
    assert_eq!(all[2].change, b1[2]);
    assert_eq!(all[3].change, b2[0]);
    assert_eq!(all[4].change, b3[0]);
    assert_eq!(all[5].change, b3[1]);
    assert_eq!(all[0].actor, "alice");
    assert_eq!(all[0].at, AT + 1);
    assert_eq!(all[3].actor, "bob");
    assert_eq!(all[3].at, AT + 3);
    assert_eq!(all[5].actor, "carol");

    let limited = s.changes_since("acme", 0, 2).await.unwrap();
    assert_eq!(limited, all[..2].to_vec());
    let after2 = s.changes_since("acme", 2, 100).await.unwrap();
    assert_eq!(after2, all[3..].to_vec());
    let after3 = s.changes_since("acme", 3, 1).await.unwrap();
    assert_eq!(after3, all[3..4].to_vec());
    assert!(s.changes_since("acme", 5, 100).await.unwrap().is_empty());
    assert!(
        s.changes_since("acme", u64::MAX, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.changes_since("acme", 0, 0).await.unwrap().is_empty());
}

/// Paging by position (`changes_after`) through a revision larger than a page reads
/// every row exactly once, in order, and resumes inside a revision where a page ended.
pub(crate) async fn changes_after_pages_inside_a_revision(s: &dyn Store) {
    create(s, "acme").await;
    let small = vec![
        upsert("user", "u1", None, &[]),
        upsert("user", "u2", None, &[]),
    ];
    let big: Vec<Change> = (0..2500)
        .map(|i| {
            put(
                "queue",
                &format!("q{}", i % 7),
                "member",
                "user",
                &format!("u{i:05}"),
            )
        })
        .collect();
    assert_eq!(s.apply("acme", None, &small, "a", AT).await.unwrap(), 2);
    assert_eq!(s.apply("acme", None, &big, "b", AT + 1).await.unwrap(), 3);
    assert_eq!(s.apply("acme", None, &[], "c", AT + 2).await.unwrap(), 4);
    assert_eq!(s.apply("acme", None, &small, "d", AT + 3).await.unwrap(), 5);

    let (mut rev, mut seq) = (0u64, 0u32);
    let mut seen: Vec<(u64, u32)> = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.changes_after("acme", rev, seq, 1000).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 1000);
        pages += 1;
        for c in &page {
            seen.push((c.revision, c.seq));
            if c.revision == 3 {
                assert_eq!(c.change, big[c.seq as usize]);
            }
        }
        let last = page.last().unwrap();
        (rev, seq) = (last.revision, last.seq);
    }
    assert_eq!(pages, 3, "2,504 rows in pages of 1,000");
    let mut want: Vec<(u64, u32)> = vec![(2, 0), (2, 1)];
    want.extend((0..2500).map(|i| (3, i)));
    want.extend([(5, 0), (5, 1)]);
    assert_eq!(seen, want, "every row once, in order");

    // Positions: inside a revision, at its end, past the whole revision, and the
    // equivalence with `changes_since`.
    let inside = s.changes_after("acme", 3, 998, 3).await.unwrap();
    let at: Vec<(u64, u32)> = inside.iter().map(|c| (c.revision, c.seq)).collect();
    assert_eq!(at, [(3, 999), (3, 1000), (3, 1001)]);
    let end = s.changes_after("acme", 3, 2499, 10).await.unwrap();
    assert_eq!(end.first().map(|c| (c.revision, c.seq)), Some((5, 0)));
    assert_eq!(
        s.changes_after("acme", 3, u32::MAX, 10).await.unwrap(),
        s.changes_since("acme", 3, 10).await.unwrap()
    );
    assert_eq!(
        s.changes_after("acme", 0, 0, 5).await.unwrap(),
        s.changes_since("acme", 0, 5).await.unwrap()
    );
    assert!(s.changes_after("acme", 5, 1, 10).await.unwrap().is_empty());
    assert!(
        s.changes_after("acme", u64::MAX, u32::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.changes_after("acme", 0, 0, 0).await.unwrap().is_empty());
    assert!(matches!(
        s.changes_after("ghost", 0, 0, 10).await,
        Err(StoreError::NotFound(_))
    ));
}

pub(crate) async fn thousand_tuple_batch_is_one_revision(s: &dyn Store) {
    create(s, "acme").await;
    let batch: Vec<Change> = (0..1000)
        .map(|i| {
            put(
                "queue",
                &format!("q{:02}", i % 10),
                "member",
                "user",
                &format!("u{i:04}"),
            )
        })
        .collect();
    let r = s.apply("acme", Some(1), &batch, "bulk", AT).await.unwrap();
    assert_eq!(r, 2);
    assert_eq!(s.revision("acme").await.unwrap(), 2);
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.state.entities.len(), 10);
    let total: usize = l
        .state
        .entities
        .iter()
        .flat_map(|e| e.relations.iter())
        .map(|(_, ts)| ts.len())
        .sum();
    assert_eq!(total, 1000);
    let q3 = entity(&l, "queue", "q03").unwrap();
    assert_eq!(q3.relations.len(), 1);
    assert_eq!(q3.relations[0].1.len(), 100);
    assert_eq!(q3.relations[0].1[0], "u0003");
    let log = s.changes_since("acme", 0, 5000).await.unwrap();
    assert_eq!(log.len(), 1000);
    assert!(log.iter().all(|c| c.revision == 2 && c.actor == "bulk"));
    assert!(log.iter().enumerate().all(|(i, c)| c.seq as usize == i));
    assert_eq!(log[999].change, batch[999]);

    // A second, overlapping batch: half new, half already there.
    let batch2: Vec<Change> = (500..1500)
        .map(|i| {
            put(
                "queue",
                &format!("q{:02}", i % 10),
                "member",
                "user",
                &format!("u{i:04}"),
            )
        })
        .collect();
    assert_eq!(
        s.apply("acme", Some(2), &batch2, "bulk", AT).await.unwrap(),
        3
    );
    let l = s.load_state("acme").await.unwrap();
    let total: usize = l
        .state
        .entities
        .iter()
        .flat_map(|e| e.relations.iter())
        .map(|(_, ts)| ts.len())
        .sum();
    assert_eq!(total, 1500);
    // And a bulk delete.
    let deletes: Vec<Change> = (0..1500)
        .map(|i| {
            del(
                "queue",
                &format!("q{:02}", i % 10),
                "member",
                "user",
                &format!("u{i:04}"),
            )
        })
        .collect();
    assert_eq!(
        s.apply("acme", Some(3), &deletes, "bulk", AT)
            .await
            .unwrap(),
        4
    );
    // The ten queues the tuples named remain, with no relations left.
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.state.entities.len(), 10);
    assert!(l.state.entities.iter().all(|e| e.relations.is_empty()));
}

pub(crate) async fn durable_across_reopen(ctx: &Ctx) {
    let writer = ctx.open_again().await;
    writer
        .create_tenant(&tenant("acme"), "op", AT)
        .await
        .unwrap();
    let batch = vec![
        upsert("user", "u1", Some("One"), &[("x", Value::Int(1))]),
        put("queue", "q1", "member", "user", "u1"),
        Change::PutRole {
            role: role("custom"),
            version: 1,
        },
        Change::PutAssignment(assignment("a1", "u1", Scope::Tenant, None)),
        Change::SetSetting {
            key: "k".to_owned(),
            value: Value::Bool(true),
        },
        Change::PutSodRule(sod("s1", 1)),
    ];
    let r = writer
        .apply_audited(
            "acme",
            Some(1),
            &batch,
            &[draft("role.create", "role:custom", None, Some("{}"))],
            "alice",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(r, 2);
    writer
        .put_token(&TokenRecord {
            id: "t1".to_owned(),
            hash: "ab".repeat(32),
            tenant: Some("acme".to_owned()),
            principal: Some("u1".to_owned()),
            created_at: AT,
            credential: None,
        })
        .await
        .unwrap();
    let expected = writer.load_state("acme").await.unwrap();
    assert_eq!(expected.state.sod_rules, vec![sod("s1", 1)]);
    let expected_audit = writer.audit("acme", &all()).await.unwrap();
    assert_eq!(expected_audit.len(), 1);
    // Dropped without a graceful close: an acknowledged commit must already be durable.
    drop(writer);

    let reader = ctx.open_again().await;
    assert_eq!(reader.revision("acme").await.unwrap(), 2);
    assert_eq!(reader.load_state("acme").await.unwrap(), expected);
    assert_eq!(reader.changes_since("acme", 0, 10).await.unwrap().len(), 6);
    assert_eq!(reader.audit("acme", &all()).await.unwrap(), expected_audit);
    assert_eq!(reader.verify_audit("acme").await.unwrap(), intact(1));
    assert!(reader.find_token(&"ab".repeat(32)).await.unwrap().is_some());
    // The store the harness opened sees it too.
    assert_eq!(ctx.store.load_state("acme").await.unwrap(), expected);
    // And reopening again (migrations already applied) is fine.
    let third = ctx.open_again().await;
    assert_eq!(third.apply("acme", Some(2), &[], "a", AT).await.unwrap(), 3);
    assert_eq!(reader.revision("acme").await.unwrap(), 3);
}

pub(crate) async fn concurrent_writers_one_wins(ctx: &Ctx) {
    let a = ctx.store.clone();
    let b = ctx.open_again().await;
    a.create_tenant(&tenant("acme"), "op", AT).await.unwrap();
    // Each round, four writers (two per store, so on different pools and connections)
    // race with the same expected revision.
    for round in 0..10u64 {
        let expected = round + 1;
        let tasks: Vec<_> = (0..4)
            .map(|w| {
                let s = if w % 2 == 0 { a.clone() } else { b.clone() };
                let actor = format!("w{w}");
                tokio::spawn(async move {
                    let change = put("queue", "q", "member", "user", &format!("{actor}r{round}"));
                    let r = s.apply("acme", Some(expected), &[change], &actor, AT).await;
                    (actor, r)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            let (actor, r) = t.await.unwrap();
            match r {
                Ok(rev) => {
                    assert_eq!(rev, expected + 1);
                    winners.push(actor);
                }
                Err(StoreError::Conflict {
                    expected: e,
                    current,
                }) => {
                    assert_eq!(e, expected);
                    assert_eq!(current, expected + 1);
                }
                Err(other) => panic!("round {round}: a loser should see a Conflict, got {other:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one winner, got {winners:?}"
        );
        let log = a.changes_since("acme", expected, 10).await.unwrap();
        assert_eq!(log.len(), 1, "only the winner's change is logged");
        assert_eq!(log[0].actor, winners[0]);
    }
    assert_eq!(a.revision("acme").await.unwrap(), 11);
    let l = b.load_state("acme").await.unwrap();
    assert_eq!(l.state.entities[0].relations[0].1.len(), 10);

    // Without an expectation both writers succeed, one after the other.
    let (ra, rb) = tokio::join!(
        a.apply("acme", None, &[], "a", AT),
        b.apply("acme", None, &[], "b", AT)
    );
    let mut revs = [ra.unwrap(), rb.unwrap()];
    revs.sort_unstable();
    assert_eq!(revs, [12, 13]);
}

/// The same random changes applied to a `MemState` and to the store give the same
/// state (up to order): the server's in-memory view never drifts from what a
/// restart would load.
pub(crate) async fn memory_matches_store(s: &dyn Store) {
    use rolecall_core::state::{Assignment, Scope};
    let profile = rolecall_core::load_profile(
        "p.toml",
        "[profile]\nid = \"p\"\nname = \"P\"\n[[resource_type]]\nid = \"conv\"\n[resource_type.relations]\nagent = { type = \"user\" }\nwatchers = { type = \"user\", many = true }\n",
    )
    .unwrap();
    create(s, "acme").await;
    let mut mem = rolecall_core::MemState::new(rolecall_core::state::TenantState {
        tenant_id: "acme".into(),
        tenant_name: Some("Tenant acme".into()),
        ..Default::default()
    });
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let kinds = [("user", "u"), ("group", "g"), ("queue", "q"), ("conv", "c")];
    for batch in 0..30 {
        let mut changes = Vec::new();
        for _ in 0..12 {
            let (ty, prefix) = kinds[next(4) as usize];
            let id = format!("{prefix}{}", next(6));
            let user = format!("u{}", next(6));
            let change = match next(11) {
                0 | 1 => upsert(
                    ty,
                    &id,
                    if next(2) == 0 { Some("Name") } else { None },
                    &[("n", Value::Int(next(5) as i64))],
                ),
                2 => Change::DeleteEntity { ty: ty.into(), id },
                3 => put("group", &format!("g{}", next(3)), "members", "user", &user),
                4 => put(
                    "queue",
                    &format!("q{}", next(3)),
                    if next(2) == 0 {
                        "members"
                    } else {
                        "supervisors"
                    },
                    "user",
                    &user,
                ),
                5 => put(
                    "conv",
                    &format!("c{}", next(4)),
                    if next(2) == 0 { "agent" } else { "watchers" },
                    "user",
                    &user,
                ),
                6 => del("queue", &format!("q{}", next(3)), "members", "user", &user),
                7 => del("conv", &format!("c{}", next(4)), "watchers", "user", &user),
                8 => Change::PutAssignment(Assignment {
                    id: format!("a{}", next(5)),
                    principal: user,
                    role: "r".into(),
                    scope: Scope::Tenant,
                    expires_at: None,
                }),
                9 => Change::PutSodRule(sod(&format!("s{}", next(4)), next(3))),
                _ => Change::DeleteSodRule {
                    id: format!("s{}", next(4)),
                },
            };
            changes.push(change);
        }
        for c in &changes {
            mem.apply(&profile, c);
        }
        s.apply("acme", None, &changes, "t", AT).await.unwrap();
        let stored = s.load_state("acme").await.unwrap().state;
        assert_eq!(
            normalize(&mem.state),
            normalize(&stored),
            "after batch {batch}"
        );
    }
    // The random walk did exercise separation-of-duty rules.
    let log = s.changes_since("acme", 0, 10_000).await.unwrap();
    assert!(
        log.iter()
            .any(|c| matches!(c.change, Change::PutSodRule(_)))
    );
    assert!(
        log.iter()
            .any(|c| matches!(c.change, Change::DeleteSodRule { .. }))
    );
    assert!(!mem.state.sod_rules.is_empty());
}

fn normalize(st: &rolecall_core::state::TenantState) -> rolecall_core::state::TenantState {
    let mut st = st.clone();
    for e in &mut st.entities {
        for (_, targets) in &mut e.relations {
            targets.sort();
        }
        e.relations.retain(|(_, t)| !t.is_empty());
        e.relations.sort();
    }
    st.entities
        .sort_by(|a, b| (&a.ty, &a.id).cmp(&(&b.ty, &b.id)));
    st
}
