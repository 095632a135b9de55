//! The SQLite backend: one database file in WAL mode with `synchronous = FULL`, so an
//! acknowledged commit survives power loss. Writes take the write lock up front
//! (`BEGIN IMMEDIATE`); concurrent writers wait for it (busy timeout) and then see the
//! revision the other one committed. Bulk relation writes go through one statement per
//! run of changes, reading the tuples from a JSON array parameter (`json_each`).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Sqlite, Transaction};

use crate::codec::{self, AuditRow, Rows, Step, TenantRow, TokenRow, tenant_record, token_error};
use crate::{
    AuditDraft, AuditFilter, AuditRecord, Change, ChangeRecord, LoadedState, NewTenant, Store,
    StoreError, TenantRecord, TokenRecord, Tuple,
};

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in the pool (readers run concurrently in WAL mode; writers queue).
const MAX_CONNECTIONS: u32 = 4;

/// The embedded backend.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
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
        Ok(SqliteStore { pool })
    }

    /// Closes every connection (waiting for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Test and operations hook, hidden from the documentation: runs `sql` (one or more
    /// statements, no parameters) directly on the pool, outside every rule this store
    /// keeps (revisions, the change log, the audit chain), and returns the rows
    /// affected. The conformance tests use it to tamper with stored rows; it must never
    /// see text that did not come from the operator.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn tenant_exists(&self, tenant: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM tenants WHERE id = ?1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
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

/// Applies one step of a batch inside the write transaction.
async fn apply_step(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: &str,
    step: &Step<'_>,
) -> Result<(), StoreError> {
    match step {
        Step::PutRelations(run) => {
            let tuples = tuples_json(run)?;
            // A tuple about a resource makes the resource exist (an entity row with no
            // name or attributes), so memory and storage agree once its tuples go.
            sqlx::query(
                "INSERT INTO entities (tenant, ty, id, name, attributes) \
                 SELECT DISTINCT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), NULL, '{}' \
                 FROM json_each(?2) WHERE true \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(&tuples)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO relations (tenant, rtype, rid, relation, stype, sid) \
                 SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                        json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                        json_extract(value, '$[4]') \
                 FROM json_each(?2) WHERE true \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(tuples)
            .execute(&mut **tx)
            .await?;
        }
        Step::DeleteRelations(run) => {
            sqlx::query(
                "DELETE FROM relations WHERE tenant = ?1 AND (rtype, rid, relation, stype, sid) IN \
                 (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                         json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                         json_extract(value, '$[4]') \
                  FROM json_each(?2))",
            )
            .bind(tenant)
            .bind(tuples_json(run)?)
            .execute(&mut **tx)
            .await?;
        }
        Step::One(change) => apply_one(tx, tenant, change).await?,
    }
    Ok(())
}

/// Applies a change that is not a relation write.
async fn apply_one(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: &str,
    change: &Change,
) -> Result<(), StoreError> {
    match change {
        Change::UpsertEntity {
            ty,
            id,
            name,
            attributes,
        } => {
            sqlx::query(
                "INSERT INTO entities (tenant, ty, id, name, attributes) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (tenant, ty, id) DO UPDATE SET name = excluded.name, \
                 attributes = excluded.attributes",
            )
            .bind(tenant)
            .bind(ty)
            .bind(id)
            .bind(name)
            .bind(codec::encode_attributes(attributes)?)
            .execute(&mut **tx)
            .await?;
        }
        Change::DeleteEntity { ty, id } => {
            sqlx::query("DELETE FROM entities WHERE tenant = ?1 AND ty = ?2 AND id = ?3")
                .bind(tenant)
                .bind(ty)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM relations WHERE tenant = ?1 AND rtype = ?2 AND rid = ?3")
                .bind(tenant)
                .bind(ty)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM relations WHERE tenant = ?1 AND stype = ?2 AND sid = ?3")
                .bind(tenant)
                .bind(ty)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::PutRelation(t) => {
            sqlx::query(
                "INSERT INTO relations (tenant, rtype, rid, relation, stype, sid) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(&t.rtype)
            .bind(&t.rid)
            .bind(&t.relation)
            .bind(&t.stype)
            .bind(&t.sid)
            .execute(&mut **tx)
            .await?;
        }
        Change::DeleteRelation(t) => {
            sqlx::query(
                "DELETE FROM relations WHERE tenant = ?1 AND rtype = ?2 AND rid = ?3 \
                 AND relation = ?4 AND stype = ?5 AND sid = ?6",
            )
            .bind(tenant)
            .bind(&t.rtype)
            .bind(&t.rid)
            .bind(&t.relation)
            .bind(&t.stype)
            .bind(&t.sid)
            .execute(&mut **tx)
            .await?;
        }
        Change::PutRole { role, version } => {
            sqlx::query(
                "INSERT INTO roles (tenant, id, spec, version) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, \
                 version = excluded.version",
            )
            .bind(tenant)
            .bind(&role.id)
            .bind(codec::encode("role", role)?)
            .bind(codec::to_db(*version)?)
            .execute(&mut **tx)
            .await?;
        }
        Change::DeleteRole { id } => {
            sqlx::query("DELETE FROM roles WHERE tenant = ?1 AND id = ?2")
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::PutAssignment(a) => {
            sqlx::query(
                "INSERT INTO assignments (tenant, id, principal, role, scope, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (tenant, id) DO UPDATE SET principal = excluded.principal, \
                 role = excluded.role, scope = excluded.scope, expires_at = excluded.expires_at",
            )
            .bind(tenant)
            .bind(&a.id)
            .bind(&a.principal)
            .bind(&a.role)
            .bind(codec::encode("scope", &a.scope)?)
            .bind(a.expires_at)
            .execute(&mut **tx)
            .await?;
        }
        Change::DeleteAssignment { id } => {
            sqlx::query("DELETE FROM assignments WHERE tenant = ?1 AND id = ?2")
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::PutSodRule(rule) => {
            sqlx::query(
                "INSERT INTO sod_rules (tenant, id, rule) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (tenant, id) DO UPDATE SET rule = excluded.rule",
            )
            .bind(tenant)
            .bind(&rule.id)
            .bind(codec::encode("separation-of-duty rule", rule)?)
            .execute(&mut **tx)
            .await?;
        }
        Change::DeleteSodRule { id } => {
            sqlx::query("DELETE FROM sod_rules WHERE tenant = ?1 AND id = ?2")
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::SetSetting { key, value } => {
            sqlx::query(
                "INSERT INTO settings (tenant, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value",
            )
            .bind(tenant)
            .bind(key)
            .bind(codec::encode("setting", value)?)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Appends `drafts` to the tenant's audit chain at `revision`, inside a transaction
/// that holds the write lock (so no other writer extends the chain meanwhile).
/// Returns the new entries' sequence numbers.
async fn append_entries(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: &str,
    drafts: &[AuditDraft],
    revision: u64,
    actor: &str,
    at: i64,
) -> Result<Vec<u64>, StoreError> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit WHERE tenant = ?1 ORDER BY seq DESC LIMIT 1")
            .bind(tenant)
            .fetch_optional(&mut **tx)
            .await?;
    let records = codec::extend_chain(last, drafts, revision, actor, at)?;
    let revision_db = codec::to_db(revision)?;
    for r in &records {
        sqlx::query(
            "INSERT INTO audit (tenant, seq, revision, at, actor, action, target, before, \
             after, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(tenant)
        .bind(codec::to_db(r.seq)?)
        .bind(revision_db)
        .bind(r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.target)
        .bind(&r.before)
        .bind(&r.after)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&mut **tx)
        .await?;
    }
    Ok(records.iter().map(|r| r.seq).collect())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn create_tenant(&self, t: &NewTenant, _actor: &str, at: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO tenants (id, name, profile_id, profile_text, revision, created_at) \
             VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.profile_id)
        .bind(&t.profile_text)
        .bind(at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Exists(format!("tenant `{}`", t.id)));
        }
        Ok(1)
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        let rows: Vec<TenantRow> = sqlx::query_as(
            "SELECT id, name, profile_id, profile_text, revision, created_at FROM tenants \
             ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .into_iter()
            .map(tenant_record)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError> {
        let row: Option<TenantRow> = sqlx::query_as(
            "SELECT id, name, profile_id, profile_text, revision, created_at FROM tenants \
             WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(tenant_record).transpose()
    }

    async fn load_state(&self, tenant: &str) -> Result<LoadedState, StoreError> {
        // A deferred transaction: every read below sees the same snapshot.
        let mut tx = self.pool.begin().await?;
        let head: Option<(String, i64)> =
            sqlx::query_as("SELECT name, revision FROM tenants WHERE id = ?1")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((tenant_name, revision)) = head else {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        };
        let settings =
            sqlx::query_as("SELECT key, value FROM settings WHERE tenant = ?1 ORDER BY key")
                .bind(tenant)
                .fetch_all(&mut *tx)
                .await?;
        let entities = sqlx::query_as(
            "SELECT ty, id, name, attributes FROM entities WHERE tenant = ?1 ORDER BY ty, id",
        )
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
        // One row per resource, its pairs as JSON: far fewer rows to carry out of
        // SQLite than one per tuple.
        let grouped: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT rtype, rid, json_group_array(json_array(relation, sid)) FROM relations \
             WHERE tenant = ?1 GROUP BY rtype, rid",
        )
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
        let roles =
            sqlx::query_as("SELECT id, spec, version FROM roles WHERE tenant = ?1 ORDER BY id")
                .bind(tenant)
                .fetch_all(&mut *tx)
                .await?;
        let assignments = sqlx::query_as(
            "SELECT id, principal, role, scope, expires_at FROM assignments WHERE tenant = ?1 \
             ORDER BY id",
        )
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
        let sod_rules =
            sqlx::query_as("SELECT id, rule FROM sod_rules WHERE tenant = ?1 ORDER BY id")
                .bind(tenant)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        let relations = grouped
            .into_iter()
            .map(|(rtype, rid, pairs)| Ok((rtype, rid, codec::decode("relations", &pairs)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        codec::assemble(Rows {
            tenant_id: tenant.to_owned(),
            tenant_name,
            revision,
            settings,
            entities,
            relations,
            roles,
            assignments,
            sod_rules,
        })
    }

    async fn apply_audited(
        &self,
        tenant: &str,
        expected: Option<u64>,
        changes: &[Change],
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let payloads = codec::encode_changes(changes)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let bumped: Option<(i64,)> = sqlx::query_as(
            "UPDATE tenants SET revision = revision + 1 WHERE id = ?1 RETURNING revision",
        )
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((new_db,)) = bumped else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        };
        let new = codec::from_db(new_db)?;
        let current = new.saturating_sub(1);
        if let Some(expected) = expected
            && expected != current
        {
            tx.rollback().await?;
            return Err(StoreError::Conflict { expected, current });
        }
        for step in codec::plan(changes) {
            apply_step(&mut tx, tenant, &step).await?;
        }
        if !payloads.is_empty() {
            sqlx::query(
                "INSERT INTO changes (tenant, revision, seq, change, actor, at) \
                 SELECT ?1, ?2, key, value, ?3, ?4 FROM json_each(?5)",
            )
            .bind(tenant)
            .bind(new_db)
            .bind(actor)
            .bind(at)
            .bind(codec::encode("changes", &payloads)?)
            .execute(&mut *tx)
            .await?;
        }
        append_entries(&mut tx, tenant, audit, new, actor, at).await?;
        tx.commit().await?;
        Ok(new)
    }

    async fn append_audit(
        &self,
        tenant: &str,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<Vec<u64>, StoreError> {
        // The write lock, as `apply_audited` takes it: one chain writer at a time.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head: Option<(i64,)> = sqlx::query_as("SELECT revision FROM tenants WHERE id = ?1")
            .bind(tenant)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((revision,)) = head else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        };
        let seqs =
            append_entries(&mut tx, tenant, audit, codec::from_db(revision)?, actor, at).await?;
        tx.commit().await?;
        Ok(seqs)
    }

    async fn audit(
        &self,
        tenant: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {} FROM audit WHERE tenant = ",
            codec::AUDIT_COLUMNS
        ));
        q.push_bind(tenant.to_owned());
        if let Some(actor) = &filter.actor {
            q.push(" AND actor = ").push_bind(actor.clone());
        }
        if let Some(target) = &filter.target {
            q.push(" AND target = ").push_bind(target.clone());
        }
        if let Some(action) = &filter.action {
            // SQLite's LIKE ignores ASCII case; `instr` (exact) makes the prefix match
            // case-sensitive, as in PostgreSQL.
            q.push(" AND action LIKE ")
                .push_bind(codec::like_prefix(action))
                .push(" ESCAPE '\\' AND instr(action, ")
                .push_bind(action.clone())
                .push(") = 1");
        }
        if let Some(from) = filter.from {
            q.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" AND at < ").push_bind(to);
        }
        if let Some(after) = filter.after_seq {
            q.push(" AND seq > ")
                .push_bind(codec::to_db(after).unwrap_or(i64::MAX));
        }
        q.push(" ORDER BY seq LIMIT ")
            .push_bind(codec::audit_limit(filter));
        let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
        if rows.is_empty() && !self.tenant_exists(tenant).await? {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        }
        rows.into_iter().map(codec::audit_record).collect()
    }

    async fn revision(&self, tenant: &str) -> Result<u64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT revision FROM tenants WHERE id = ?1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some((r,)) => codec::from_db(r),
            None => Err(StoreError::NotFound(format!("tenant `{tenant}`"))),
        }
    }

    async fn changes_since(
        &self,
        tenant: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(
            "SELECT revision, seq, change, actor, at FROM changes \
             WHERE tenant = ?1 AND revision > ?2 ORDER BY revision, seq LIMIT ?3",
        )
        .bind(tenant)
        .bind(codec::to_db(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !self.tenant_exists(tenant).await? {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        }
        rows.into_iter()
            .map(|(revision, seq, change, actor, at)| {
                codec::change_record(revision, seq, &change, actor, at)
            })
            .collect()
    }

    async fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO tokens (id, hash, tenant, principal, created_at, revoked) \
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        )
        .bind(&t.id)
        .bind(&t.hash)
        .bind(&t.tenant)
        .bind(&t.principal)
        .bind(t.created_at)
        .execute(&self.pool)
        .await;
        done.map(|_| ()).map_err(|e| token_error(e, t))
    }

    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, hash, tenant, principal, created_at FROM tokens \
             WHERE hash = ?1 AND revoked = 0",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(codec::token_record))
    }

    async fn revoke_token(&self, tenant: Option<&str>, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked = 1 WHERE id = ?1 AND tenant IS ?2 AND revoked = 0",
        )
        .bind(id)
        .bind(tenant)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT id, hash, tenant, principal, created_at FROM tokens \
             WHERE tenant IS ?1 AND revoked = 0 ORDER BY created_at, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(codec::token_record).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The durability settings really are in force on pooled connections.
    #[tokio::test]
    async fn pragmas_are_set() {
        let dir = std::env::temp_dir().join(format!(
            "rolecall_sqlite_pragmas_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).unwrap();
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
        let dir = std::env::temp_dir().join(format!("rolecall_sqlite_url_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("url.db");
        let url = format!("sqlite://{}", path.display());
        let store = SqliteStore::open(&url).await.unwrap();
        assert_eq!(store.list_tenants().await.unwrap(), Vec::new());
        store.close().await;
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
