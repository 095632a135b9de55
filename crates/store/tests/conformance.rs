//! One conformance suite for every [`Store`] backend. Each test function below runs
//! twice: against SQLite (a fresh file in a fresh temporary directory, removed
//! afterwards) and against PostgreSQL (a fresh schema `rc_test_<unique>` on
//! `postgres://postgres@127.0.0.1:5432/test`, or `ROLECALL_TEST_DATABASE_URL`, dropped
//! afterwards even when the test fails). PostgreSQL tests fail, loudly, when the
//! server cannot be reached: they are never skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rolecall_core::profile::{GrantSpec, RoleSpec, SodRule, Value};
use rolecall_core::state::{Assignment, Entity, Scope};
use rolecall_store::postgres::PgStore;
use rolecall_store::sqlite::SqliteStore;
use rolecall_store::{
    AuditDraft, AuditFilter, AuditRecord, AuditVerification, Change, NewTenant, Store, StoreError,
    TokenRecord, Tuple,
};

// ---------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A name no other test (in this or another process) uses.
fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn pg_url() -> String {
    std::env::var("ROLECALL_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

/// Where a test's store lives, so that a test can open it a second time.
enum Target {
    Sqlite(PathBuf),
    Pg { url: String, schema: String },
}

/// The same store as its concrete type, for what the trait does not offer (raw SQL).
enum Raw {
    Sqlite(Arc<SqliteStore>),
    Pg(Arc<PgStore>),
}

/// What a test gets: its store and where it lives.
struct Ctx {
    store: Arc<dyn Store>,
    raw: Raw,
    target: Target,
}

impl Ctx {
    /// Runs `sql` directly on the database, behind the store's back (tampering).
    /// Returns the rows affected.
    async fn execute_raw(&self, sql: &str) -> u64 {
        match &self.raw {
            Raw::Sqlite(s) => s.execute_raw(sql).await,
            Raw::Pg(s) => s.execute_raw(sql).await,
        }
        .unwrap_or_else(|e| panic!("raw SQL failed: {sql}: {e}"))
    }

    /// Another, independent store over the same data (a new pool: new connections).
    async fn open_again(&self) -> Arc<dyn Store> {
        match &self.target {
            Target::Sqlite(path) => Arc::new(
                SqliteStore::open(path.to_str().unwrap())
                    .await
                    .expect("reopen SQLite"),
            ),
            Target::Pg { url, schema } => Arc::new(
                PgStore::connect_in_schema(url, schema)
                    .await
                    .expect("reconnect PostgreSQL"),
            ),
        }
    }
}

/// Runs `body` in its own task, so that a failing test still reaches the cleanup.
async fn run_isolated<F, Fut>(ctx: Ctx, body: F) -> Result<(), tokio::task::JoinError>
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(body(ctx)).await
}

fn rethrow(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

async fn with_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = std::env::temp_dir().join(unique("rolecall_store_test_"));
    std::fs::create_dir_all(&dir).expect("create temporary directory");
    let path = dir.join("store.db");
    let opened = SqliteStore::open(path.to_str().unwrap()).await;
    let outcome = match opened {
        Ok(store) => {
            let store = Arc::new(store);
            let ctx = Ctx {
                store: store.clone(),
                raw: Raw::Sqlite(store.clone()),
                target: Target::Sqlite(path.clone()),
            };
            let outcome = run_isolated(ctx, body).await;
            store.close().await;
            outcome
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            panic!("cannot open SQLite store at {}: {e}", path.display());
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    rethrow(outcome);
}

async fn with_pg<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url = pg_url();
    let schema = unique("rc_test_");
    let opened = PgStore::connect_in_schema(&url, &schema).await;
    let outcome = match opened {
        Ok(store) => {
            let store = Arc::new(store);
            let ctx = Ctx {
                store: store.clone(),
                raw: Raw::Pg(store.clone()),
                target: Target::Pg {
                    url: url.clone(),
                    schema: schema.clone(),
                },
            };
            let outcome = run_isolated(ctx, body).await;
            store.close().await;
            outcome
        }
        Err(e) => {
            let _ = PgStore::drop_schema(&url, &schema).await;
            panic!(
                "\n\nPostgreSQL is required by the store tests and could not be used at {url}: {e}\n\
                 Start PostgreSQL (trust auth, user postgres, database test) or point \
                 ROLECALL_TEST_DATABASE_URL at one.\n\n"
            );
        }
    };
    if let Err(e) = PgStore::drop_schema(&url, &schema).await {
        eprintln!("warning: could not drop test schema {schema}: {e}");
    }
    rethrow(outcome);
}

/// Declares each suite function once per backend. `store:` functions take
/// `&dyn Store`; `ctx:` functions take `&Ctx` (they reopen the store).
macro_rules! suite {
    (store: [$($s:ident),* $(,)?], ctx: [$($c:ident),* $(,)?]) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    crate::with_sqlite(|ctx| async move { crate::$s(&*ctx.store).await }).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $c() {
                    crate::with_sqlite(|ctx| async move { crate::$c(&ctx).await }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    crate::with_pg(|ctx| async move { crate::$s(&*ctx.store).await }).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $c() {
                    crate::with_pg(|ctx| async move { crate::$c(&ctx).await }).await;
                }
            )*
        }
    };
}

suite!(
    store: [
        tenants_create_list_get,
        duplicate_tenant_is_exists,
        apply_returns_increasing_revisions,
        conflict_writes_nothing,
        every_change_kind_round_trips,
        delete_entity_cascades_to_tuples,
        relation_writes_are_idempotent,
        relation_runs_keep_batch_order,
        relations_without_entity_are_loaded,
        changes_since_orders_and_limits,
        unknown_tenant_is_not_found,
        tenants_are_isolated,
        tokens_put_find_revoke_list,
        thousand_tuple_batch_is_one_revision,
        memory_matches_store,
        sod_rules_round_trip,
        audit_is_written_with_its_revision,
        append_audit_keeps_the_revision,
        audit_filters_and_paging,
        audit_limit_defaults_and_caps,
        audit_conflict_writes_nothing,
        audit_chains_are_per_tenant,
        audit_unknown_tenant_is_not_found,
    ],
    ctx: [
        durable_across_reopen,
        concurrent_writers_one_wins,
        concurrent_audit_writers_keep_one_chain,
        tampered_audit_field_is_detected,
        deleted_audit_entry_is_detected,
        rehashed_audit_entry_is_detected,
    ]
);

// ---------------------------------------------------------------------------------
// Data helpers
// ---------------------------------------------------------------------------------

const AT: i64 = 1_760_000_000;

fn tenant(id: &str) -> NewTenant {
    NewTenant {
        id: id.to_owned(),
        name: format!("Tenant {id}"),
        profile_id: "horizon-contact".to_owned(),
        profile_text: "[profile]\nid = \"horizon-contact\"\n# ünïcödé kept as is\n".to_owned(),
    }
}

async fn create(s: &dyn Store, id: &str) {
    assert_eq!(s.create_tenant(&tenant(id), "op", AT).await.unwrap(), 1);
}

fn tuple(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Tuple {
    Tuple {
        rtype: rtype.to_owned(),
        rid: rid.to_owned(),
        relation: relation.to_owned(),
        stype: stype.to_owned(),
        sid: sid.to_owned(),
    }
}

fn put(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Change {
    Change::PutRelation(tuple(rtype, rid, relation, stype, sid))
}

fn del(rtype: &str, rid: &str, relation: &str, stype: &str, sid: &str) -> Change {
    Change::DeleteRelation(tuple(rtype, rid, relation, stype, sid))
}

fn upsert(ty: &str, id: &str, name: Option<&str>, attributes: &[(&str, Value)]) -> Change {
    Change::UpsertEntity {
        ty: ty.to_owned(),
        id: id.to_owned(),
        name: name.map(str::to_owned),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

fn role(id: &str) -> RoleSpec {
    RoleSpec {
        id: id.to_owned(),
        name: Some(format!("Role {id}")),
        description: Some("a \"quoted\" description".to_owned()),
        role_type: Some("agent".to_owned()),
        includes: vec!["base".to_owned()],
        // Deliberately not in key order: order must survive the round trip.
        grants: vec![
            ("z.flag".to_owned(), GrantSpec::Bool(true)),
            ("a.level".to_owned(), GrantSpec::Str("Modify".to_owned())),
            ("m.off".to_owned(), GrantSpec::Bool(false)),
        ],
        locked: vec![
            (
                "c.choices".to_owned(),
                GrantSpec::List(vec!["Same Group".to_owned(), "All".to_owned()]),
            ),
            ("b.number".to_owned(), GrantSpec::Int(600)),
        ],
    }
}

fn assignment(id: &str, principal: &str, scope: Scope, expires_at: Option<i64>) -> Assignment {
    Assignment {
        id: id.to_owned(),
        principal: principal.to_owned(),
        role: "supervisor".to_owned(),
        scope,
        expires_at,
    }
}

fn sod(id: &str, n: u64) -> SodRule {
    SodRule {
        id: id.to_owned(),
        name: Some(format!("Rule {id}")),
        // Deliberately not sorted: order must survive the round trip.
        privileges: vec![format!("p{n}.level: Modify"), "a.flag".to_owned()],
        roles: vec!["z_role".to_owned(), format!("r{n}")],
    }
}

fn draft(action: &str, target: &str, before: Option<&str>, after: Option<&str>) -> AuditDraft {
    AuditDraft {
        action: action.to_owned(),
        target: target.to_owned(),
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
    }
}

/// Every audit entry (up to the default limit).
fn all() -> AuditFilter {
    AuditFilter::default()
}

/// What `verify_audit` says about an untouched chain of `n` entries.
fn intact(n: u64) -> AuditVerification {
    AuditVerification {
        entries: n,
        first_bad: None,
    }
}

fn seqs(records: &[AuditRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

fn entity<'a>(state: &'a rolecall_store::LoadedState, ty: &str, id: &str) -> Option<&'a Entity> {
    state
        .state
        .entities
        .iter()
        .find(|e| e.ty == ty && e.id == id)
}

fn rels(targets: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    targets
        .iter()
        .map(|(r, ts)| {
            (
                (*r).to_owned(),
                ts.iter().map(|t| (*t).to_owned()).collect(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------

async fn tenants_create_list_get(s: &dyn Store) {
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

async fn duplicate_tenant_is_exists(s: &dyn Store) {
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

async fn apply_returns_increasing_revisions(s: &dyn Store) {
    create(s, "acme").await;
    let r2 = s
        .apply(
            "acme",
            Some(1),
            &[upsert("user", "u1", None, &[])],
            "alice",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(r2, 2);
    let r3 = s
        .apply(
            "acme",
            None,
            &[upsert("user", "u2", None, &[])],
            "alice",
            AT,
        )
        .await
        .unwrap();
    assert_eq!(r3, 3);
    // An empty batch still makes a revision (and writes no change rows).
    let r4 = s.apply("acme", Some(3), &[], "alice", AT).await.unwrap();
    assert_eq!(r4, 4);
    assert_eq!(s.revision("acme").await.unwrap(), 4);
    assert_eq!(s.get_tenant("acme").await.unwrap().unwrap().revision, 4);
    assert_eq!(s.load_state("acme").await.unwrap().revision, 4);
    let log = s.changes_since("acme", 0, 100).await.unwrap();
    let revs: Vec<u64> = log.iter().map(|c| c.revision).collect();
    assert_eq!(revs, [2, 3]);
}

async fn conflict_writes_nothing(s: &dyn Store) {
    create(s, "acme").await;
    s.apply("acme", Some(1), &[upsert("user", "u1", None, &[])], "a", AT)
        .await
        .unwrap();
    let before = s.load_state("acme").await.unwrap();
    let batch = [
        upsert("user", "u2", Some("Two"), &[]),
        put("queue", "q1", "member", "user", "u2"),
        Change::SetSetting {
            key: "k".to_owned(),
            value: Value::Bool(true),
        },
    ];
    for stale in [Some(1), Some(3), Some(0)] {
        match s.apply("acme", stale, &batch, "a", AT).await {
            Err(StoreError::Conflict { expected, current }) => {
                assert_eq!(Some(expected), stale);
                assert_eq!(current, 2);
            }
            other => panic!("expected Conflict, got {other:?}"),
        }
    }
    assert_eq!(s.revision("acme").await.unwrap(), 2);
    assert_eq!(s.load_state("acme").await.unwrap(), before);
    assert_eq!(s.changes_since("acme", 0, 100).await.unwrap().len(), 1);
    // The right expectation then succeeds.
    assert_eq!(s.apply("acme", Some(2), &batch, "a", AT).await.unwrap(), 3);
}

async fn every_change_kind_round_trips(s: &dyn Store) {
    create(s, "acme").await;
    let attrs = [
        ("tier", Value::Str("gold".to_owned())),
        ("active", Value::Bool(true)),
        ("age", Value::Int(-42)),
    ];
    let first = vec![
        upsert("user", "u1", Some("Ünïcode Üser"), &attrs),
        upsert("user", "u2", None, &[]),
        upsert("org_unit", "root", Some("Root"), &[]),
        upsert("queue", "q1", Some("Queue 1"), &[("sla", Value::Int(600))]),
        put("user", "u1", "org_unit", "org_unit", "root"),
        put("queue", "q1", "member", "user", "u2"),
        put("queue", "q1", "member", "user", "u1"),
        put("queue", "q1", "agent", "user", "u1"),
        Change::PutRole {
            role: role("custom"),
            version: 1,
        },
        Change::PutRole {
            role: role("gone"),
            version: 1,
        },
        Change::PutAssignment(assignment("a2", "u1", Scope::Tenant, None)),
        Change::PutAssignment(assignment(
            "a1",
            "u2",
            Scope::OrgUnits(vec!["root".to_owned()]),
            Some(AT + 3600),
        )),
        Change::PutAssignment(assignment(
            "a3",
            "u2",
            Scope::Queues(vec!["q1".to_owned(), "q0".to_owned()]),
            None,
        )),
        Change::SetSetting {
            key: "z.setting".to_owned(),
            value: Value::Int(5),
        },
        Change::SetSetting {
            key: "a.setting".to_owned(),
            value: Value::Str("x".to_owned()),
        },
    ];
    s.apply("acme", Some(1), &first, "alice", AT).await.unwrap();

    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.revision, 2);
    let keys: Vec<(&str, &str)> = l
        .state
        .entities
        .iter()
        .map(|e| (e.ty.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("org_unit", "root"),
            ("queue", "q1"),
            ("user", "u1"),
            ("user", "u2")
        ]
    );
    let u1 = entity(&l, "user", "u1").unwrap();
    assert_eq!(u1.name.as_deref(), Some("Ünïcode Üser"));
    let want_attrs: Vec<(String, Value)> = attrs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(u1.attributes, want_attrs, "attribute order is kept");
    assert_eq!(u1.relations, rels(&[("org_unit", &["root"])]));
    let q1 = entity(&l, "queue", "q1").unwrap();
    assert_eq!(
        q1.relations,
        rels(&[("agent", &["u1"]), ("member", &["u1", "u2"])]),
        "relations ordered by name, then target"
    );
    assert_eq!(q1.attributes, vec![("sla".to_owned(), Value::Int(600))]);
    let u2 = entity(&l, "user", "u2").unwrap();
    assert_eq!(u2.name, None);
    assert!(u2.attributes.is_empty());

    let role_ids: Vec<&str> = l.state.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(role_ids, ["custom", "gone"]);
    assert_eq!(l.state.roles[0], role("custom"));
    assert_eq!(l.role_versions.get("custom"), Some(&1));

    let asg_ids: Vec<&str> = l.state.assignments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(asg_ids, ["a1", "a2", "a3"]);
    assert_eq!(
        l.state.assignments[0],
        assignment(
            "a1",
            "u2",
            Scope::OrgUnits(vec!["root".to_owned()]),
            Some(AT + 3600)
        )
    );
    assert_eq!(
        l.state.assignments[2].scope,
        Scope::Queues(vec!["q1".to_owned(), "q0".to_owned()])
    );
    assert_eq!(
        l.state.settings,
        vec![
            ("a.setting".to_owned(), Value::Str("x".to_owned())),
            ("z.setting".to_owned(), Value::Int(5)),
        ]
    );

    // Replacements and deletions.
    let mut updated_role = role("custom");
    updated_role.grants.truncate(1);
    updated_role.includes.clear();
    let second = vec![
        // Upsert replaces name and attributes, leaves relations alone.
        upsert("user", "u1", None, &[("new", Value::Bool(false))]),
        Change::PutRole {
            role: updated_role.clone(),
            version: 2,
        },
        Change::DeleteRole {
            id: "gone".to_owned(),
        },
        Change::PutAssignment(assignment("a2", "u2", Scope::Tenant, Some(AT))),
        Change::DeleteAssignment {
            id: "a3".to_owned(),
        },
        Change::SetSetting {
            key: "z.setting".to_owned(),
            value: Value::Bool(false),
        },
        del("queue", "q1", "agent", "user", "u1"),
    ];
    s.apply("acme", Some(2), &second, "bob", AT + 1)
        .await
        .unwrap();

    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.revision, 3);
    let u1 = entity(&l, "user", "u1").unwrap();
    assert_eq!(u1.name, None);
    assert_eq!(u1.attributes, vec![("new".to_owned(), Value::Bool(false))]);
    assert_eq!(u1.relations, rels(&[("org_unit", &["root"])]));
    let q1 = entity(&l, "queue", "q1").unwrap();
    assert_eq!(q1.relations, rels(&[("member", &["u1", "u2"])]));
    assert_eq!(l.state.roles, vec![updated_role]);
    assert_eq!(l.role_versions.len(), 1);
    assert_eq!(l.role_versions.get("custom"), Some(&2));
    assert_eq!(
        l.state.assignments,
        vec![
            assignment(
                "a1",
                "u2",
                Scope::OrgUnits(vec!["root".to_owned()]),
                Some(AT + 3600)
            ),
            assignment("a2", "u2", Scope::Tenant, Some(AT)),
        ]
    );
    assert_eq!(
        l.state.settings,
        vec![
            ("a.setting".to_owned(), Value::Str("x".to_owned())),
            ("z.setting".to_owned(), Value::Bool(false)),
        ]
    );

    // Every change is in the log, as written.
    let log = s.changes_since("acme", 0, 1000).await.unwrap();
    let logged: Vec<Change> = log.iter().map(|c| c.change.clone()).collect();
    let written: Vec<Change> = first.iter().chain(second.iter()).cloned().collect();
    assert_eq!(logged, written);
}

async fn delete_entity_cascades_to_tuples(s: &dyn Store) {
    create(s, "acme").await;
    s.apply(
        "acme",
        None,
        &[
            upsert("user", "u1", Some("One"), &[]),
            upsert("user", "u2", Some("Two"), &[]),
            upsert("queue", "q1", None, &[]),
            upsert("group", "g1", None, &[]),
            // u1 as resource.
            put("user", "u1", "org_unit", "org_unit", "root"),
            put("user", "u1", "manager", "user", "u2"),
            // u1 as subject.
            put("queue", "q1", "member", "user", "u1"),
            put("queue", "q1", "member", "user", "u2"),
            put("group", "g1", "member", "user", "u1"),
            put("user", "u2", "manager", "user", "u1"),
            // Same id, other type: must survive.
            put("queue", "q1", "member", "group", "u1"),
            put("group", "u1", "member", "user", "u2"),
        ],
        "a",
        AT,
    )
    .await
    .unwrap();
    s.apply(
        "acme",
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
    let l = s.load_state("acme").await.unwrap();
    assert!(entity(&l, "user", "u1").is_none());
    let q1 = entity(&l, "queue", "q1").unwrap();
    // Relation targets carry no type: `u1` here is the group.
    assert_eq!(q1.relations, rels(&[("member", &["u1", "u2"])]));
    let g1 = entity(&l, "group", "g1").unwrap();
    assert!(g1.relations.is_empty());
    let u2 = entity(&l, "user", "u2").unwrap();
    assert!(u2.relations.is_empty());
    let group_u1 = entity(&l, "group", "u1").unwrap();
    assert_eq!(group_u1.relations, rels(&[("member", &["u2"])]));
    // Deleting a missing entity is harmless.
    s.apply(
        "acme",
        None,
        &[Change::DeleteEntity {
            ty: "user".to_owned(),
            id: "nobody".to_owned(),
        }],
        "a",
        AT,
    )
    .await
    .unwrap();
}

async fn relation_writes_are_idempotent(s: &dyn Store) {
    create(s, "acme").await;
    let p = put("queue", "q1", "member", "user", "u1");
    s.apply("acme", None, &[p.clone(), p.clone()], "a", AT)
        .await
        .unwrap();
    s.apply("acme", None, std::slice::from_ref(&p), "a", AT)
        .await
        .unwrap();
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(
        entity(&l, "queue", "q1").unwrap().relations,
        rels(&[("member", &["u1"])])
    );
    let d = del("queue", "q1", "member", "user", "u1");
    s.apply("acme", None, &[d.clone(), d.clone()], "a", AT)
        .await
        .unwrap();
    let r = s
        .apply("acme", None, std::slice::from_ref(&d), "a", AT)
        .await
        .unwrap();
    assert_eq!(r, 5, "idempotent writes still make revisions");
    // Writing a tuple made the resource exist; deleting its tuples leaves it, empty.
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.state.entities.len(), 1);
    assert!(entity(&l, "queue", "q1").unwrap().relations.is_empty());
}

async fn relation_runs_keep_batch_order(s: &dyn Store) {
    create(s, "acme").await;
    let batch = [
        put("queue", "q1", "member", "user", "u1"),
        put("queue", "q1", "member", "user", "u2"),
        del("queue", "q1", "member", "user", "u1"),
        upsert("queue", "q1", None, &[]),
        put("queue", "q1", "member", "user", "u1"),
        del("queue", "q1", "member", "user", "u2"),
        del("queue", "q1", "member", "user", "u3"),
        put("queue", "q1", "member", "user", "u3"),
    ];
    s.apply("acme", None, &batch, "a", AT).await.unwrap();
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(
        entity(&l, "queue", "q1").unwrap().relations,
        rels(&[("member", &["u1", "u3"])])
    );
}

async fn relations_without_entity_are_loaded(s: &dyn Store) {
    create(s, "acme").await;
    s.apply(
        "acme",
        None,
        &[
            put("conversation", "c9", "queue", "queue", "q1"),
            put("conversation", "c9", "owner", "user", "nobody"),
            upsert("user", "u1", Some("One"), &[]),
        ],
        "a",
        AT,
    )
    .await
    .unwrap();
    let l = s.load_state("acme").await.unwrap();
    let keys: Vec<(&str, &str)> = l
        .state
        .entities
        .iter()
        .map(|e| (e.ty.as_str(), e.id.as_str()))
        .collect();
    assert_eq!(keys, [("conversation", "c9"), ("user", "u1")]);
    assert_eq!(
        l.state.entities[0],
        Entity {
            ty: "conversation".to_owned(),
            id: "c9".to_owned(),
            name: None,
            relations: rels(&[("owner", &["nobody"]), ("queue", &["q1"])]),
            attributes: Vec::new(),
        }
    );
}

async fn changes_since_orders_and_limits(s: &dyn Store) {
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

async fn unknown_tenant_is_not_found(s: &dyn Store) {
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

async fn tenants_are_isolated(s: &dyn Store) {
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

async fn tokens_put_find_revoke_list(s: &dyn Store) {
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

async fn thousand_tuple_batch_is_one_revision(s: &dyn Store) {
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

async fn durable_across_reopen(ctx: &Ctx) {
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

async fn concurrent_writers_one_wins(ctx: &Ctx) {
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
async fn memory_matches_store(s: &dyn Store) {
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

// ---------------------------------------------------------------------------------
// Separation-of-duty rules
// ---------------------------------------------------------------------------------

async fn sod_rules_round_trip(s: &dyn Store) {
    create(s, "acme").await;
    create(s, "other").await;
    let bare = SodRule {
        id: "bare".to_owned(),
        name: None,
        privileges: Vec::new(),
        roles: Vec::new(),
    };
    let first = vec![
        Change::PutSodRule(sod("zeta", 1)),
        Change::PutSodRule(sod("alpha", 2)),
        Change::PutSodRule(bare.clone()),
        Change::PutSodRule(sod("Mid", 3)),
    ];
    assert_eq!(s.apply("acme", Some(1), &first, "a", AT).await.unwrap(), 2);
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(
        l.state.sod_rules,
        vec![sod("Mid", 3), sod("alpha", 2), bare.clone(), sod("zeta", 1)],
        "ordered by id, bytewise, each rule as written"
    );
    assert!(
        s.load_state("other")
            .await
            .unwrap()
            .state
            .sod_rules
            .is_empty()
    );

    // Replace, delete, delete a missing one (harmless).
    let mut zeta = sod("zeta", 9);
    zeta.name = None;
    zeta.roles.clear();
    let second = vec![
        Change::PutSodRule(zeta.clone()),
        Change::DeleteSodRule {
            id: "alpha".to_owned(),
        },
        Change::DeleteSodRule {
            id: "never".to_owned(),
        },
    ];
    assert_eq!(s.apply("acme", Some(2), &second, "a", AT).await.unwrap(), 3);
    let l = s.load_state("acme").await.unwrap();
    assert_eq!(l.state.sod_rules, vec![sod("Mid", 3), bare, zeta]);

    // The change log keeps them as written.
    let logged: Vec<Change> = s
        .changes_since("acme", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.change)
        .collect();
    let written: Vec<Change> = first.into_iter().chain(second).collect();
    assert_eq!(logged, written);

    // A conflicting batch leaves them alone.
    let before = s.load_state("acme").await.unwrap();
    assert!(matches!(
        s.apply(
            "acme",
            Some(2),
            &[Change::DeleteSodRule {
                id: "Mid".to_owned()
            }],
            "a",
            AT
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(s.load_state("acme").await.unwrap(), before);
}

// ---------------------------------------------------------------------------------
// The audit trail
// ---------------------------------------------------------------------------------

async fn audit_is_written_with_its_revision(s: &dyn Store) {
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

async fn append_audit_keeps_the_revision(s: &dyn Store) {
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

async fn audit_filters_and_paging(s: &dyn Store) {
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
}

async fn audit_limit_defaults_and_caps(s: &dyn Store) {
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

async fn audit_conflict_writes_nothing(s: &dyn Store) {
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

async fn audit_chains_are_per_tenant(s: &dyn Store) {
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

async fn audit_unknown_tenant_is_not_found(s: &dyn Store) {
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

async fn concurrent_audit_writers_keep_one_chain(ctx: &Ctx) {
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

async fn tampered_audit_field_is_detected(ctx: &Ctx) {
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

async fn deleted_audit_entry_is_detected(ctx: &Ctx) {
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

async fn rehashed_audit_entry_is_detected(ctx: &Ctx) {
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
