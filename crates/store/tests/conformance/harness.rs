//! The harness: every suite function runs once per backend, on a store of its own
//! that is removed afterwards, in a task of its own so that a failing test still
//! reaches the cleanup.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rolecall_store::Store;
use rolecall_store::postgres::PgStore;
use rolecall_store::sqlite::SqliteStore;

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
pub(crate) struct Ctx {
    pub(crate) store: Arc<dyn Store>,
    raw: Raw,
    target: Target,
}

impl Ctx {
    /// Runs `sql` directly on the database, behind the store's back (tampering).
    /// Returns the rows affected.
    pub(crate) async fn execute_raw(&self, sql: &str) -> u64 {
        match &self.raw {
            Raw::Sqlite(s) => s.execute_raw(sql).await,
            Raw::Pg(s) => s.execute_raw(sql).await,
        }
        .unwrap_or_else(|e| panic!("raw SQL failed: {sql}: {e}"))
    }

    /// Another, independent store over the same data (a new pool: new connections).
    pub(crate) async fn open_again(&self) -> Arc<dyn Store> {
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

    /// Makes every insert into `audit` fail in the database (a trigger), so that a write
    /// fails at its audit step, after its other statements ran. Undone by
    /// [`Ctx::allow_audit_writes`].
    pub(crate) async fn refuse_audit_writes(&self) {
        let sql = match &self.raw {
            Raw::Sqlite(_) => {
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit \
                 BEGIN SELECT RAISE(ABORT, 'audit writes refused'); END"
            }
            Raw::Pg(_) => {
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit writes refused'; END $$; \
                 CREATE TRIGGER refuse_audit BEFORE INSERT ON audit \
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
            }
        };
        self.execute_raw(sql).await;
    }

    /// Undoes [`Ctx::refuse_audit_writes`].
    pub(crate) async fn allow_audit_writes(&self) {
        let sql = match &self.raw {
            Raw::Sqlite(_) => "DROP TRIGGER refuse_audit",
            Raw::Pg(_) => "DROP TRIGGER refuse_audit ON audit; DROP FUNCTION refuse_audit()",
        };
        self.execute_raw(sql).await;
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

pub(crate) async fn with_sqlite<F, Fut>(body: F)
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

pub(crate) async fn with_pg<F, Fut>(body: F)
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
                    crate::harness::with_sqlite(|ctx| async move { crate::$s(&*ctx.store).await })
                        .await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $c() {
                    crate::harness::with_sqlite(|ctx| async move { crate::$c(&ctx).await }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    crate::harness::with_pg(|ctx| async move { crate::$s(&*ctx.store).await })
                        .await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $c() {
                    crate::harness::with_pg(|ctx| async move { crate::$c(&ctx).await }).await;
                }
            )*
        }
    };
}

pub(crate) use suite;
