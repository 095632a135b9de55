//! The write path keeps its in-memory state equal to what the store would load, across
//! many writes, refused writes (which must not leave a stale spare behind) and
//! concurrent readers holding old views.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::sync::Arc;

use rolecall_core::profile::Value;
use rolecall_core::state::{Assignment, Scope, TenantState};
use rolecall_core::{Change, Tuple};
use rolecall_engine::commands::ApplyChanges;
use rolecall_engine::{Actor, Engine, Options, ProfileSource, TenantSpec, open_store};
use rolecall_store::Store;

fn normalize(st: &TenantState) -> TenantState {
    let mut st = st.clone();
    for e in &mut st.entities {
        for (_, t) in &mut e.relations {
            t.sort();
        }
        e.relations.retain(|(_, t)| !t.is_empty());
        e.relations.sort();
    }
    st.entities
        .sort_by(|a, b| (&a.ty, &a.id).cmp(&(&b.ty, &b.id)));
    st
}

fn upsert(ty: &str, id: &str) -> Change {
    Change::UpsertEntity {
        ty: ty.into(),
        id: id.into(),
        name: Some(id.to_uppercase()),
        attributes: vec![],
    }
}

fn member(q: &str, u: &str, put: bool) -> Change {
    let t = Tuple {
        rtype: "queue".into(),
        rid: q.into(),
        relation: "members".into(),
        stype: "user".into(),
        sid: u.into(),
    };
    if put {
        Change::PutRelation(t)
    } else {
        Change::DeleteRelation(t)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_equal_to_the_store() {
    let dir = std::env::temp_dir().join(format!("rolecall-write-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("w.db").display());
    let store: Arc<dyn Store> = open_store(&url).await.unwrap();
    let engine = Engine::open(store.clone(), Options::default())
        .await
        .unwrap();
    let op = Actor::System { name: "test" };
    let tenant = engine
        .create_tenant(
            &op,
            TenantSpec {
                id: "t".into(),
                name: None,
                profile: ProfileSource::Shipped("horizon-contact".into()),
            },
        )
        .await
        .unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut held = Vec::new();
    for round in 0..60 {
        let u = format!("u{}", next(8));
        let q = format!("q{}", next(3));
        let changes = match next(6) {
            0 => vec![upsert("user", &u)],
            1 => vec![
                upsert("user", &u),
                upsert("queue", &q),
                member(&q, &u, true),
            ],
            2 => vec![member(&q, &u, false)],
            3 => vec![Change::PutAssignment(Assignment {
                id: format!("a{}", next(4)),
                principal: u.clone(),
                role: "agent".into(),
                scope: Scope::Tenant,
                expires_at: None,
            })],
            4 => vec![Change::SetSetting {
                key: "nope".into(),
                value: Value::Bool(true),
            }], // refused: unknown setting
            _ => vec![Change::DeleteEntity {
                ty: "user".into(),
                id: u.clone(),
            }],
        };
        // Readers sometimes hold the current view across a write.
        if round % 7 == 0 {
            held.push(tenant.current());
        }
        let _ = tenant.execute(&op, &ApplyChanges(changes)).await;
        let mem = normalize(&tenant.current().mem.state);
        let stored = normalize(&store.load_state("t").await.unwrap().state);
        assert_eq!(mem.entities, stored.entities, "round {round}");
        assert_eq!(mem.assignments, stored.assignments, "round {round}");
        assert_eq!(mem.settings, stored.settings, "round {round}");
    }
    drop(held);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A second engine on the same database follows the first: after any number of the
/// first's writes, one `sync` (every pending revision applied as one patch) leaves it
/// with the stored state, the same revision, and a snapshot that decides like the
/// writer's — and both like a snapshot rebuilt from that state. (It found a patch that
/// left a reassigned assignment's grants with its previous holder.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_catches_up_to_the_writer_in_one_patch() {
    let dir = std::env::temp_dir().join(format!("rolecall-follower-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("f.db").display());
    let store: Arc<dyn Store> = open_store(&url).await.unwrap();
    let writer = Engine::open(store.clone(), Options::default())
        .await
        .unwrap();
    let op = Actor::System { name: "test" };
    let tenant = writer
        .create_tenant(
            &op,
            TenantSpec {
                id: "t".into(),
                name: None,
                profile: ProfileSource::Shipped("horizon-contact".into()),
            },
        )
        .await
        .unwrap();
    // Small pages, so catching up reads several and applies the complete revisions
    // of each before reading on (a revision may straddle pages).
    let follower = Engine::open(
        store.clone(),
        Options {
            catch_up_page: 2,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let actions = [
        "staff.users.recording",
        "staff.users.capabilities",
        "staff.users.import",
    ];
    let roles = ["agent", "supervisor", "administrator"];
    for round in 0..40 {
        // Between two syncs, up to five revisions of mixed writes.
        for _ in 0..=next(5) {
            let u = format!("u{}", next(6));
            let q = format!("q{}", next(3));
            let changes = match next(5) {
                0 => vec![upsert("user", &u)],
                1 => vec![
                    upsert("user", &u),
                    upsert("queue", &q),
                    member(&q, &u, true),
                ],
                2 => vec![member(&q, &u, false)],
                3 => vec![
                    upsert("user", &u),
                    Change::PutAssignment(Assignment {
                        id: format!("a{}", next(4)),
                        principal: u.clone(),
                        role: roles[next(3) as usize].into(),
                        scope: Scope::Tenant,
                        expires_at: None,
                    }),
                ],
                _ => vec![Change::DeleteEntity {
                    ty: "user".into(),
                    id: u.clone(),
                }],
            };
            let _ = tenant.execute(&op, &ApplyChanges(changes)).await;
        }
        follower.sync().await.unwrap();
        let (w, f) = (tenant.current(), follower.tenant("t").unwrap().current());
        assert_eq!(f.revision, w.revision, "round {round}");
        let stored = normalize(&store.load_state("t").await.unwrap().state);
        let mem = normalize(&f.mem.state);
        assert_eq!(mem.entities, stored.entities, "round {round}");
        assert_eq!(mem.assignments, stored.assignments, "round {round}");
        let rebuilt = rolecall_core::Snapshot::build(f.profile.clone(), &f.mem.state).unwrap();
        let ctx = rolecall_core::Context::default();
        for u in 0..6 {
            for a in actions {
                let principal = format!("u{u}");
                let req = rolecall_core::Request {
                    principal: &principal,
                    action: a,
                    resource_type: "tenant",
                    resource_id: "t",
                    context: &ctx,
                    now: 1_900_000_000,
                };
                let truth = rebuilt.check(&req);
                assert_eq!(
                    w.snapshot.check(&req),
                    truth,
                    "round {round}: the writer, {principal} {a}"
                );
                assert_eq!(
                    f.snapshot.check(&req),
                    truth,
                    "round {round}: the follower, {principal} {a}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
