//! History reads: the snapshot as of any revision, served from the newest checkpoint
//! plus the change log, decides exactly like the state the tenant really had at that
//! revision — with checkpoints written by the write path, with history written before
//! any checkpoint existed (which the first read leaves checkpoints behind for), and
//! after a restart. Time comes from a manual clock: expiry is judged without sleeping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use rolecall_core::state::{Assignment, Scope, TenantState};
use rolecall_core::{Change, Context, Request, Snapshot};
use rolecall_engine::commands::ApplyChanges;
use rolecall_engine::decide::Question;
use rolecall_engine::{Actor, Engine, ManualClock, Options, ProfileSource, TenantSpec, open_store};

const PROFILE: &str = r#"
[profile]
id = "h"
name = "History"

[[section]]
id = "s"

[[privilege]]
id = "listen"
name = "Listen"
parent = "s"

[[privilege]]
id = "barge"
name = "Barge"
parent = "s"

[[role]]
id = "listener"
grants = { listen = true }

[[role]]
id = "barger"
grants = { barge = true }

[[action]]
id = "call.listen"
resource = "tenant"
requires = 'has("Listen")'

[[action]]
id = "call.barge"
resource = "tenant"
requires = 'has("Barge")'
"#;

const OP: Actor = Actor::System { name: "test" };
const USERS: usize = 6;
const T0: i64 = 1_900_000_000;

/// A throwaway SQLite database, removed on drop.
struct Db(std::path::PathBuf);

impl Db {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "rolecall-engine-{name}-{}-{}",
            std::process::id(),
            uuid_like()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Db(dir)
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.0.join("h.db").display())
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The `i`th write of a deterministic history: users first, then assignments made and
/// removed.
fn change(i: usize) -> Change {
    if i < USERS {
        return Change::UpsertEntity {
            ty: "user".into(),
            id: format!("u{i}"),
            name: None,
            attributes: vec![],
        };
    }
    let k = i - USERS;
    let id = format!("a{}", k % 5);
    if k % 3 == 2 {
        Change::DeleteAssignment { id }
    } else {
        Change::PutAssignment(Assignment {
            id,
            principal: format!("u{}", k % USERS),
            role: if k.is_multiple_of(2) {
                "listener"
            } else {
                "barger"
            }
            .into(),
            scope: Scope::Tenant,
            expires_at: k.is_multiple_of(7).then_some(T0 + 50),
        })
    }
}

/// Every decision of every user on both actions, at `now`.
fn decisions(s: &Snapshot, now: i64) -> Vec<bool> {
    let ctx = Context::new();
    let mut out = Vec::new();
    for u in 0..USERS {
        for a in ["call.listen", "call.barge"] {
            out.push(
                s.check(&Request {
                    principal: &format!("u{u}"),
                    action: a,
                    resource_type: "tenant",
                    resource_id: "t",
                    context: &ctx,
                    now,
                })
                .allowed,
            );
        }
    }
    out
}

async fn engine(url: &str, every: u64, clock: Arc<ManualClock>) -> Arc<Engine> {
    let store = open_store(url).await.unwrap();
    let options = Options {
        checkpoint_every: every,
        ..Options::default()
    };
    Engine::open_with_clock(store, options, clock)
        .await
        .unwrap()
}

/// Writes `n` revisions through the engine; returns the state after each, by revision.
async fn write_history(e: &Engine, n: usize) -> BTreeMap<u64, TenantState> {
    let t = e
        .create_tenant(
            &OP,
            TenantSpec {
                id: "t".into(),
                name: None,
                profile: ProfileSource::Text(PROFILE.into()),
            },
        )
        .await
        .unwrap();
    let mut states = BTreeMap::new();
    states.insert(t.current().revision, t.current().mem.state.clone());
    for i in 0..n {
        let w = t
            .execute(&OP, &ApplyChanges(vec![change(i)]))
            .await
            .unwrap();
        states.insert(w.revision, t.current().mem.state.clone());
    }
    states
}

/// Every revision's history snapshot decides like the state the tenant had then.
async fn assert_history(e: &Engine, states: &BTreeMap<u64, TenantState>) {
    let t = e.tenant("t").unwrap();
    let profile = t.current().profile.clone();
    for (rev, state) in states {
        let want = Snapshot::build(profile.clone(), state).unwrap();
        let got = t.snapshot_at(*rev).await.unwrap();
        for now in [T0, T0 + 100] {
            assert_eq!(
                decisions(&got, now),
                decisions(&want, now),
                "revision {rev} at {now}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_from_checkpoints_equals_the_real_past() {
    let db = Db::new("checkpoints");
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(&db.url(), 7, clock.clone()).await;
    let states = write_history(&e, 60).await;
    let last = *states.keys().last().unwrap();
    // The write path stored checkpoints in the background: wait for the newest.
    let store = e.store().clone();
    let mut newest = None;
    for _ in 0..200 {
        newest = store.checkpoint_at_or_before("t", last).await.unwrap();
        if newest.as_ref().is_some_and(|(r, _)| r + 7 > last) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (r, _) = newest.expect("the write path stores checkpoints");
    assert!(r + 7 > last, "newest checkpoint at {r}, tenant at {last}");
    assert_history(&e, &states).await;
    // After a restart, the stored checkpoints serve the same answers.
    drop(e);
    let e = engine(&db.url(), 7, clock).await;
    assert_history(&e, &states).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_written_without_checkpoints_leaves_them_behind() {
    let db = Db::new("backfill");
    let clock = Arc::new(ManualClock::new(T0));
    // Written with checkpoints off, as history from before checkpoints existed.
    let e = engine(&db.url(), 0, clock.clone()).await;
    let states = write_history(&e, 45).await;
    let store = e.store().clone();
    assert_eq!(
        store.checkpoint_at_or_before("t", 1_000).await.unwrap(),
        None
    );
    drop(e);
    let e = engine(&db.url(), 10, clock).await;
    let last = *states.keys().last().unwrap();
    e.tenant("t").unwrap().snapshot_at(last - 1).await.unwrap();
    let (r, _) = store
        .checkpoint_at_or_before("t", last)
        .await
        .unwrap()
        .expect("a long replay leaves checkpoints");
    assert!(r >= 30, "checkpoint at {r}");
    assert_history(&e, &states).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_follows_the_engine_clock() {
    let db = Db::new("clock");
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(&db.url(), 0, clock.clone()).await;
    write_history(&e, USERS).await;
    let t = e.tenant("t").unwrap();
    t.execute(
        &OP,
        &ApplyChanges(vec![Change::PutAssignment(Assignment {
            id: "temp".into(),
            principal: "u1".into(),
            role: "listener".into(),
            scope: Scope::Tenant,
            expires_at: Some(T0 + 60),
        })]),
    )
    .await
    .unwrap();
    let q = Question {
        principal: "u1".into(),
        action: "call.listen".into(),
        resource_type: "tenant".into(),
        resource_id: "t".into(),
        context: Context::new(),
    };
    let allowed = async || {
        t.decide(&OP, &q, None, false)
            .await
            .unwrap()
            .0
            .decision
            .allowed
    };
    assert!(allowed().await);
    clock.set(T0 + 59);
    assert!(allowed().await, "granted until its expiry");
    clock.advance(1);
    assert!(!allowed().await, "expired once the clock reaches it");
}
