//! The PostgreSQL backend. A write locks the tenant's row first (the revision bump is
//! the transaction's first statement), so concurrent writers of one tenant queue on that
//! row and the loser of an expected-revision race sees the winner's revision. Runs of
//! relation writes and the change log are written with one `INSERT ... SELECT FROM
//! UNNEST(...)` each, whatever their size.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Postgres, QueryBuilder, Transaction};

use crate::codec::{self, AuditRow, Rows, Step, TenantRow, TokenRow, tenant_record, token_error};
use crate::{
    AuditDraft, AuditFilter, AuditRecord, Change, ChangeRecord, LoadedState, NewTenant, Store,
    StoreError, TenantRecord, TokenRecord, Tuple,
};

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;

/// The server backend.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Connects to `url` (using the connection's default `search_path`) and runs pending
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        Self::open(options).await
    }

    /// Connects to `url` with every table in `schema`: creates the schema if missing,
    /// sets `search_path` to it on every pooled connection, and runs pending migrations
    /// there. Lets several stores (tests, tenants of a shared database) live side by side.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let base = PgConnectOptions::from_str(url)?;
        let mut conn = sqlx::PgConnection::connect_with(&base).await?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            quote_ident(schema)
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Self::open(base.options([("search_path", quote_ident(schema))])).await
    }

    /// Drops `schema` and everything in it (`DROP SCHEMA ... CASCADE`), if it exists.
    /// For tests and benchmarks that made a throwaway schema with
    /// [`PgStore::connect_in_schema`].
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let base = PgConnectOptions::from_str(url)?;
        let mut conn = sqlx::PgConnection::connect_with(&base).await?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(schema)
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }

    async fn open(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Closes every connection (waiting for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Test and operations hook, hidden from the documentation: runs `sql` (one or more
    /// statements, no parameters) directly on the pool, in the store's schema, outside
    /// every rule this store keeps (revisions, the change log, the audit chain), and
    /// returns the rows affected. The conformance tests use it to tamper with stored
    /// rows; it must never see text that did not come from the operator.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn tenant_exists(&self, tenant: &str) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

/// The tuples of a run as five parallel columns, for `UNNEST`.
struct Columns<'a> {
    rtype: Vec<&'a str>,
    rid: Vec<&'a str>,
    relation: Vec<&'a str>,
    stype: Vec<&'a str>,
    sid: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(run: &[&'a Tuple]) -> Self {
        let mut c = Columns {
            rtype: Vec::with_capacity(run.len()),
            rid: Vec::with_capacity(run.len()),
            relation: Vec::with_capacity(run.len()),
            stype: Vec::with_capacity(run.len()),
            sid: Vec::with_capacity(run.len()),
        };
        for t in run {
            c.rtype.push(&t.rtype);
            c.rid.push(&t.rid);
            c.relation.push(&t.relation);
            c.stype.push(&t.stype);
            c.sid.push(&t.sid);
        }
        c
    }
}

/// Applies one step of a batch inside the write transaction.
async fn apply_step(
    tx: &mut Transaction<'static, Postgres>,
    tenant: &str,
    step: &Step<'_>,
) -> Result<(), StoreError> {
    match step {
        Step::PutRelations(run) => {
            let c = Columns::of(run);
            // A tuple about a resource makes the resource exist (an entity row with no
            // name or attributes), so memory and storage agree once its tuples go.
            sqlx::query(
                "INSERT INTO entities (tenant, ty, id, name, attributes) \
                 SELECT DISTINCT $1, t, i, NULL, '{}' FROM UNNEST($2::text[], $3::text[]) AS u(t, i) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(&c.rtype)
            .bind(&c.rid)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO relations (tenant, rtype, rid, relation, stype, sid) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(c.rtype)
            .bind(c.rid)
            .bind(c.relation)
            .bind(c.stype)
            .bind(c.sid)
            .execute(&mut **tx)
            .await?;
        }
        Step::DeleteRelations(run) => {
            let c = Columns::of(run);
            sqlx::query(
                "DELETE FROM relations r \
                 USING UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
                       AS d(rtype, rid, relation, stype, sid) \
                 WHERE r.tenant = $1 AND r.rtype = d.rtype AND r.rid = d.rid \
                   AND r.relation = d.relation AND r.stype = d.stype AND r.sid = d.sid",
            )
            .bind(tenant)
            .bind(c.rtype)
            .bind(c.rid)
            .bind(c.relation)
            .bind(c.stype)
            .bind(c.sid)
            .execute(&mut **tx)
            .await?;
        }
        Step::One(change) => apply_one(tx, tenant, change).await?,
    }
    Ok(())
}

/// Applies a change that is not a run of relation writes.
async fn apply_one(
    tx: &mut Transaction<'static, Postgres>,
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
                "INSERT INTO entities (tenant, ty, id, name, attributes) VALUES ($1, $2, $3, $4, $5) \
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
            sqlx::query("DELETE FROM entities WHERE tenant = $1 AND ty = $2 AND id = $3")
                .bind(tenant)
                .bind(ty)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM relations WHERE tenant = $1 AND rtype = $2 AND rid = $3")
                .bind(tenant)
                .bind(ty)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM relations WHERE tenant = $1 AND stype = $2 AND sid = $3")
                .bind(tenant)
                .bind(ty)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::PutRelation(t) => {
            sqlx::query(
                "INSERT INTO relations (tenant, rtype, rid, relation, stype, sid) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
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
                "DELETE FROM relations WHERE tenant = $1 AND rtype = $2 AND rid = $3 \
                 AND relation = $4 AND stype = $5 AND sid = $6",
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
                "INSERT INTO roles (tenant, id, spec, version) VALUES ($1, $2, $3, $4) \
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
            sqlx::query("DELETE FROM roles WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::PutAssignment(a) => {
            sqlx::query(
                "INSERT INTO assignments (tenant, id, principal, role, scope, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
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
            sqlx::query("DELETE FROM assignments WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::PutSodRule(rule) => {
            sqlx::query(
                "INSERT INTO sod_rules (tenant, id, rule) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant, id) DO UPDATE SET rule = excluded.rule",
            )
            .bind(tenant)
            .bind(&rule.id)
            .bind(codec::encode("separation-of-duty rule", rule)?)
            .execute(&mut **tx)
            .await?;
        }
        Change::DeleteSodRule { id } => {
            sqlx::query("DELETE FROM sod_rules WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Change::SetSetting { key, value } => {
            sqlx::query(
                "INSERT INTO settings (tenant, key, value) VALUES ($1, $2, $3) \
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
/// that holds the tenant row's lock (so no other writer extends the chain meanwhile;
/// under READ COMMITTED the read below sees what the previous holder committed).
/// Returns the new entries' sequence numbers.
async fn append_entries(
    tx: &mut Transaction<'static, Postgres>,
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
        sqlx::query_as("SELECT seq, hash FROM audit WHERE tenant = $1 ORDER BY seq DESC LIMIT 1")
            .bind(tenant)
            .fetch_optional(&mut **tx)
            .await?;
    let records = codec::extend_chain(last, drafts, revision, actor, at)?;
    let n = records.len();
    let mut seqs = Vec::with_capacity(n);
    let mut actions = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    let mut befores = Vec::with_capacity(n);
    let mut afters = Vec::with_capacity(n);
    let mut prevs = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    for r in &records {
        seqs.push(codec::to_db(r.seq)?);
        actions.push(r.action.as_str());
        targets.push(r.target.as_str());
        befores.push(r.before.as_deref());
        afters.push(r.after.as_deref());
        prevs.push(r.prev_hash.as_str());
        hashes.push(r.hash.as_str());
    }
    sqlx::query(
        "INSERT INTO audit (tenant, seq, revision, at, actor, action, target, before, after, \
         prev_hash, hash) \
         SELECT $1, s, $2, $3, $4, a, t, b, f, p, h \
         FROM UNNEST($5::int8[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], \
                     $11::text[]) AS u(s, a, t, b, f, p, h)",
    )
    .bind(tenant)
    .bind(codec::to_db(revision)?)
    .bind(at)
    .bind(actor)
    .bind(&seqs)
    .bind(actions)
    .bind(targets)
    .bind(befores)
    .bind(afters)
    .bind(prevs)
    .bind(hashes)
    .execute(&mut **tx)
    .await?;
    Ok(records.iter().map(|r| r.seq).collect())
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn create_tenant(&self, t: &NewTenant, _actor: &str, at: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO tenants (id, name, profile_id, profile_text, revision, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (id) DO NOTHING",
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
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(tenant_record).transpose()
    }

    async fn load_state(&self, tenant: &str) -> Result<LoadedState, StoreError> {
        // One snapshot for every read below.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let head: Option<(String, i64)> =
            sqlx::query_as("SELECT name, revision FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((tenant_name, revision)) = head else {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        };
        let settings =
            sqlx::query_as("SELECT key, value FROM settings WHERE tenant = $1 ORDER BY key")
                .bind(tenant)
                .fetch_all(&mut *tx)
                .await?;
        let entities = sqlx::query_as(
            "SELECT ty, id, name, attributes FROM entities WHERE tenant = $1 ORDER BY ty, id",
        )
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
        // One row per resource; both aggregates see its tuples in the same order.
        let grouped: Vec<(String, String, Vec<String>, Vec<String>)> = sqlx::query_as(
            "SELECT rtype, rid, array_agg(relation), array_agg(sid) FROM relations \
             WHERE tenant = $1 GROUP BY rtype, rid",
        )
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
        let roles =
            sqlx::query_as("SELECT id, spec, version FROM roles WHERE tenant = $1 ORDER BY id")
                .bind(tenant)
                .fetch_all(&mut *tx)
                .await?;
        let assignments = sqlx::query_as(
            "SELECT id, principal, role, scope, expires_at FROM assignments WHERE tenant = $1 \
             ORDER BY id",
        )
        .bind(tenant)
        .fetch_all(&mut *tx)
        .await?;
        let sod_rules =
            sqlx::query_as("SELECT id, rule FROM sod_rules WHERE tenant = $1 ORDER BY id")
                .bind(tenant)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        let relations = grouped
            .into_iter()
            .map(|(rtype, rid, names, sids)| (rtype, rid, names.into_iter().zip(sids).collect()))
            .collect();
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
        let mut tx = self.pool.begin().await?;
        // Takes the tenant row's lock; a concurrent writer waits here and then reads the
        // revision this transaction commits.
        let current: Option<(i64,)> =
            sqlx::query_as("SELECT revision FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((current_db,)) = current else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        };
        let current = codec::from_db(current_db)?;
        if let Some(expected) = expected
            && expected != current
        {
            tx.rollback().await?;
            return Err(StoreError::Conflict { expected, current });
        }
        let new = current.saturating_add(1);
        let new_db = codec::to_db(new)?;
        sqlx::query("UPDATE tenants SET revision = $2 WHERE id = $1")
            .bind(tenant)
            .bind(new_db)
            .execute(&mut *tx)
            .await?;
        for step in codec::plan(changes) {
            apply_step(&mut tx, tenant, &step).await?;
        }
        if !payloads.is_empty() {
            let seqs = (0..payloads.len())
                .map(|i| {
                    i32::try_from(i).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "a batch of {} changes is too large",
                            payloads.len()
                        ))
                    })
                })
                .collect::<Result<Vec<i32>, _>>()?;
            sqlx::query(
                "INSERT INTO changes (tenant, revision, seq, change, actor, at) \
                 SELECT $1, $2, s, c, $3, $4 FROM UNNEST($5::int4[], $6::text[]) AS u(s, c)",
            )
            .bind(tenant)
            .bind(new_db)
            .bind(actor)
            .bind(at)
            .bind(seqs)
            .bind(payloads)
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
        let mut tx = self.pool.begin().await?;
        // The tenant row's lock, as `apply_audited` takes it: one chain writer at a time.
        let current: Option<(i64,)> =
            sqlx::query_as("SELECT revision FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((revision,)) = current else {
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
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
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
            q.push(" AND action LIKE ")
                .push_bind(codec::like_prefix(action))
                .push(" ESCAPE '\\'");
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
        let row: Option<(i64,)> = sqlx::query_as("SELECT revision FROM tenants WHERE id = $1")
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
        let rows: Vec<(i64, i32, String, String, i64)> = sqlx::query_as(
            "SELECT revision, seq, change, actor, at FROM changes \
             WHERE tenant = $1 AND revision > $2 ORDER BY revision, seq LIMIT $3",
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
                codec::change_record(revision, i64::from(seq), &change, actor, at)
            })
            .collect()
    }

    async fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO tokens (id, hash, tenant, principal, created_at, revoked) \
             VALUES ($1, $2, $3, $4, $5, FALSE)",
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
             WHERE hash = $1 AND NOT revoked",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(codec::token_record))
    }

    async fn revoke_token(&self, tenant: Option<&str>, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked = TRUE \
             WHERE id = $1 AND tenant IS NOT DISTINCT FROM $2 AND NOT revoked",
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
             WHERE tenant IS NOT DISTINCT FROM $1 AND NOT revoked ORDER BY created_at, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(codec::token_record).collect())
    }
}
