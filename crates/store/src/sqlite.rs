//! The SQLite dialect: one database file in WAL mode with `synchronous = FULL`, so an
//! acknowledged commit survives power loss. Writes take the write lock up front
//! (`BEGIN IMMEDIATE`); concurrent writers wait for it (busy timeout) and then see the
//! revision the other one committed. Runs of relation writes go through one statement
//! each, reading the tuples from a JSON array parameter (`json_each`), and so does the
//! change log; relations load grouped per resource as JSON (`json_group_array`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous,
};

use crate::codec::{self, ResourceTuples};
use crate::dialect::Dialect;
use crate::{AuditRecord, SqlStore, StoreError, Tuple};

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in the pool (readers run concurrently in WAL mode; writers queue).
const MAX_CONNECTIONS: u32 = 4;

/// The embedded backend.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating it if missing) the database at `path_or_url`: a file path, or a
    /// `sqlite:` URL. Runs pending migrations.
    pub async fn open(path_or_url: &str) -> Result<Self, StoreError> {
        let options = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url)?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(SqlStore { pool })
    }
}

/// The claim of one serving process on a database file: an exclusive advisory lock on
/// `<file>.lock` (holding the process id), released when dropped or when the process
/// ends. A second `rolecall serve` on the same file is refused at start instead of
/// diverging from the first (SQLite serves one process; several nodes need PostgreSQL).
#[derive(Debug)]
pub struct ProcessLock {
    _file: std::fs::File,
    path: std::path::PathBuf,
}

impl ProcessLock {
    /// Takes the lock of the database at `path_or_url` (a path or `sqlite:` URL);
    /// [`StoreError::Locked`] naming the holder when another process has it.
    pub fn acquire(path_or_url: &str) -> Result<ProcessLock, StoreError> {
        use std::io::{Read, Seek, Write};
        let db = path_or_url
            .strip_prefix("sqlite://")
            .or_else(|| path_or_url.strip_prefix("sqlite:"))
            .unwrap_or(path_or_url);
        let db = db.split('?').next().unwrap_or(db);
        let path = std::path::PathBuf::from(format!("{db}.lock"));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::Locked(format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked(format!(
                    "another rolecall process{} is serving {db}: SQLite serves one process per database file. Stop it, or run several nodes on PostgreSQL (docs/DEPLOYMENT.md)",
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    }
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Locked(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(ProcessLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// The tuples of a run as one JSON array of 5-element arrays, for `json_each`.
fn tuples_json(run: &[&Tuple]) -> Result<String, StoreError> {
    let rows: Vec<[&str; 5]> = run
        .iter()
        .map(|t| {
            [
                t.rtype.as_str(),
                t.rid.as_str(),
                t.relation.as_str(),
                t.stype.as_str(),
                t.sid.as_str(),
            ]
        })
        .collect();
    codec::encode("tuples", &rows)
}

impl Dialect for Sqlite {
    const BACKEND: &'static str = "sqlite";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const BEGIN_READ: &'static str = "BEGIN";
    const LOCK_TENANT: &'static str = "SELECT revision FROM tenants WHERE id = $1";

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn notify(_conn: &mut SqliteConnection, _payload: &str) -> Result<(), StoreError> {
        // One process per database file (see the lock taken at open): nobody to tell.
        Ok(())
    }

    async fn listen(_pool: &sqlx::SqlitePool) -> Result<Option<crate::Notices>, StoreError> {
        Ok(None)
    }

    async fn put_relations(
        conn: &mut SqliteConnection,
        tenant: &str,
        run: &[&Tuple],
    ) -> Result<(), StoreError> {
        let tuples = tuples_json(run)?;
        // A tuple about a resource makes the resource exist (an entity row with no name
        // or attributes), so memory and storage agree once its tuples go. (`WHERE true`:
        // an upsert's SELECT needs a WHERE clause to parse.)
        sqlx::query(
            "INSERT INTO entities (tenant, ty, id, name, attributes) \
             SELECT DISTINCT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                    NULL, '{}' \
             FROM json_each($2) WHERE true \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(&tuples)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO relations (tenant, rtype, rid, relation, stype, sid) \
             SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                    json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                    json_extract(value, '$[4]') \
             FROM json_each($2) WHERE true \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(tuples)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn delete_relations(
        conn: &mut SqliteConnection,
        tenant: &str,
        run: &[&Tuple],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM relations WHERE tenant = $1 AND (rtype, rid, relation, stype, sid) IN \
             (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                     json_extract(value, '$[4]') \
              FROM json_each($2))",
        )
        .bind(tenant)
        .bind(tuples_json(run)?)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_changes(
        conn: &mut SqliteConnection,
        tenant: &str,
        revision: i64,
        payloads: &[String],
        actor: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        // `key` is the position in the array: the change's sequence number.
        sqlx::query(
            "INSERT INTO changes (tenant, revision, seq, change, actor, at) \
             SELECT $1, $2, key, value, $3, $4 FROM json_each($5)",
        )
        .bind(tenant)
        .bind(revision)
        .bind(actor)
        .bind(at)
        .bind(codec::encode("changes", payloads)?)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_audit(
        conn: &mut SqliteConnection,
        tenant: &str,
        records: &[AuditRecord],
    ) -> Result<(), StoreError> {
        // One prepared statement, run per entry: in-process, that costs no round trip.
        for r in records {
            sqlx::query(
                "INSERT INTO audit (tenant, seq, revision, at, actor, action, target, before, \
                 after, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(tenant)
            .bind(codec::to_db(r.seq)?)
            .bind(codec::to_db(r.revision)?)
            .bind(r.at)
            .bind(&r.actor)
            .bind(&r.action)
            .bind(&r.target)
            .bind(&r.before)
            .bind(&r.after)
            .bind(&r.prev_hash)
            .bind(&r.hash)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn load_relations(
        conn: &mut SqliteConnection,
        tenant: &str,
    ) -> Result<Vec<ResourceTuples>, StoreError> {
        // One row per resource, its pairs as JSON: far fewer rows to carry out of SQLite
        // than one per tuple.
        let grouped: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT rtype, rid, json_group_array(json_array(relation, sid)) FROM relations \
             WHERE tenant = $1 GROUP BY rtype, rid",
        )
        .bind(tenant)
        .fetch_all(&mut *conn)
        .await?;
        grouped
            .into_iter()
            .map(|(rtype, rid, pairs)| Ok((rtype, rid, codec::decode("relations", &pairs)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use sqlx::AssertSqlSafe;

    use super::*;
    use crate::{NewTenant, Store};

    /// A fresh temporary directory.
    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "rolecall_sqlite_{name}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A fresh store in a fresh directory, removed by `done`.
    async fn scratch(name: &str) -> (SqliteStore, std::path::PathBuf) {
        let dir = scratch_dir(name);
        let store = SqliteStore::open(dir.join("s.db").to_str().unwrap())
            .await
            .unwrap();
        (store, dir)
    }

    async fn done(store: SqliteStore, dir: std::path::PathBuf) {
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The shared statements' placeholder style: sqlx-sqlite binds `$N` by its number,
    /// so a parameter may come back, out of order, as in PostgreSQL.
    #[tokio::test]
    async fn dollar_placeholders_bind_by_number() {
        let (store, dir) = scratch("dollar").await;
        let (text, n): (String, i64) = sqlx::query_as("SELECT $1 || $2 || $1, $3 + $3")
            .bind("a")
            .bind("b")
            .bind(20_i64)
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!((text.as_str(), n), ("aba", 40));
        // In a write, with the second parameter first.
        sqlx::query("CREATE TABLE t (x TEXT, y TEXT, z TEXT)")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t (x, y, z) VALUES ($2, $1, $2)")
            .bind("one")
            .bind("two")
            .execute(&store.pool)
            .await
            .unwrap();
        let row: (String, String, String) = sqlx::query_as("SELECT x, y, z FROM t")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(row, ("two".into(), "one".into(), "two".into()));
        done(store, dir).await;
    }

    /// `revision_at_time` is one seek in `changes_by_time`, not a scan of the log.
    #[tokio::test]
    async fn revision_at_time_uses_its_index() {
        let (store, dir) = scratch("plan").await;
        let tenant = NewTenant {
            id: "acme".into(),
            name: "Acme".into(),
            profile_id: "p".into(),
            profile_text: String::new(),
        };
        store.create_tenant(&tenant, "op", 0).await.unwrap();
        let explain = format!("EXPLAIN QUERY PLAN {}", crate::store::REVISION_AT_TIME);
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(AssertSqlSafe(explain))
            .bind("acme")
            .bind(10_i64)
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let details: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
        assert!(
            details
                .iter()
                .any(|d| d.contains("INDEX changes_by_time (tenant=? AND at<?)")),
            "{details:?}"
        );
        assert!(
            !details.iter().any(|d| d.contains("TEMP B-TREE")),
            "no sort: {details:?}"
        );
        done(store, dir).await;
    }

    /// The durability settings really are in force on pooled connections.
    #[tokio::test]
    async fn pragmas_are_set() {
        let dir = scratch_dir("pragmas");
        let path = dir.join("nested.db");
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
        assert!(path.exists(), "the file is created");
        let mut conn = store.pool.acquire().await.unwrap();
        let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let (busy,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(journal.to_ascii_lowercase(), "wal");
        assert_eq!(sync, 2, "synchronous = FULL");
        assert_eq!(fk, 1);
        assert_eq!(busy, 30_000);
    }

    /// A `sqlite:` URL works as well as a path.
    #[tokio::test]
    async fn opens_a_url() {
        let dir = scratch_dir("url");
        let path = dir.join("url.db");
        let url = format!("sqlite://{}", path.display());
        let store = SqliteStore::open(&url).await.unwrap();
        assert_eq!(store.list_tenants().await.unwrap(), Vec::new());
        store.close().await;
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
