//! [`SqlStore`]: the one [`Store`] implementation, generic over the SQL [`Dialect`].
//! Every statement here is written once, with `$N` placeholders, and runs on both
//! SQLite and PostgreSQL; the writes go through a [`Writer`] (one transaction each),
//! and what differs between the dialects is asked of [`Dialect`].

use std::fmt;

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, ColumnIndex, Executor, Pool, QueryBuilder};

use crate::codec::{self, AuditRow, Batch, Rows, TenantRow, TokenRow};
use crate::dialect::{Column, Dialect, Param};
use crate::error::unknown_tenant;
use crate::writer::Writer;
use crate::{
    AuditAppend, AuditCheckpoint, AuditDraft, AuditFilter, AuditRecord, AuditTally, Change,
    ChangeRecord, LoadedState, NewTenant, Store, StoreError, TenantRecord, TokenRecord,
};

/// A store over a pool of connections to one SQL database: [`crate::SqliteStore`] or
/// [`crate::PgStore`]. Cloning shares the pool.
pub struct SqlStore<D: Dialect> {
    pub(crate) pool: Pool<D>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
        }
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &D::BACKEND)
            .field("pool", &self.pool)
            .finish()
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Closes every connection (waiting for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl<D: Dialect> SqlStore<D>
where
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
{
    /// Test and operations hook, hidden from the documentation: runs `sql` (one or more
    /// statements, no parameters) directly on the pool (on PostgreSQL, in the store's
    /// schema), outside every rule this store keeps (revisions, the change log, the
    /// audit chain), and returns the rows affected. The conformance tests use it to
    /// tamper with stored rows; it must never see text that did not come from the
    /// operator.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done))
    }
}

/// [`Store::revision_at_time`]: one seek in `changes_by_time` (tenant, at, revision;
/// the first row of each revision), inside the tenant's row so that an unknown tenant is
/// no row rather than no revision. (`$1` tenant, `$2` time.)
pub(crate) const REVISION_AT_TIME: &str = "SELECT (SELECT c.revision FROM changes c \
     WHERE c.tenant = t.id AND c.seq = 0 AND c.at <= $2 \
     ORDER BY c.at DESC, c.revision DESC LIMIT 1) \
     FROM tenants t WHERE t.id = $1";

/// A bound the caller gave (a revision, a sequence number) as a stored number: at most
/// `i64::MAX`, which no stored number exceeds.
fn clamp(n: u64) -> i64 {
    codec::to_db(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl<D> Store for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    usize: ColumnIndex<D::Row>,
    i64: Column<D>,
    String: Column<D>,
    Vec<u8>: Column<D>,
    Option<i64>: for<'q> Param<'q, D>,
    for<'a> &'a str: Param<'a, D>,
    for<'a> Option<&'a str>: Param<'a, D>,
{
    fn backend(&self) -> &'static str {
        D::BACKEND
    }

    async fn listen(&self) -> Result<Option<crate::Notices>, StoreError> {
        D::listen(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_tenant_audited(
        &self,
        t: &NewTenant,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            w.insert_tenant(t, at).await?;
            w.append_audit(&t.id, audit, 1, actor, at).await?;
            Ok(1)
        }
        .await;
        w.finish(done).await
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
            .map(codec::tenant_record)
            .collect::<Result<Vec<_>, _>>()?;
        // Bytewise, whatever the database's collation.
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
        row.map(codec::tenant_record).transpose()
    }

    async fn load_state(&self, tenant: &str) -> Result<LoadedState, StoreError> {
        // One snapshot for every read below.
        let mut tx = self.pool.begin_with(D::BEGIN_READ).await?;
        let head: Option<(String, i64)> =
            sqlx::query_as("SELECT name, revision FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((tenant_name, revision)) = head else {
            return Err(unknown_tenant(tenant));
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
        let relations = D::load_relations(&mut tx, tenant).await?;
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
        let batch = Batch::new(changes)?;
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            let revision = w.bump(tenant, expected).await?;
            let revoked = w.apply(tenant, revision, &batch, actor, at).await?;
            if revoked.is_empty() {
                w.append_audit(tenant, audit, revision, actor, at).await?;
            } else {
                // A deleted user's tokens died in this transaction: each revocation is
                // audited with it, after the write's own entries.
                let mut all = audit.to_vec();
                all.extend(
                    revoked
                        .iter()
                        .map(|(user, id, credential)| cascade_draft(user, id, *credential)),
                );
                w.append_audit(tenant, &all, revision, actor, at).await?;
            }
            Ok(revision)
        }
        .await;
        w.finish(done).await
    }

    async fn append_audit(
        &self,
        tenant: &str,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<Vec<u64>, StoreError> {
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            let revision = w.lock_tenant(tenant).await?;
            w.append_audit(tenant, audit, revision, actor, at).await
        }
        .await;
        w.finish(done).await
    }

    async fn append_audit_batch(
        &self,
        tenant: &str,
        entries: &[AuditAppend],
        tallies: &[AuditTally],
    ) -> Result<(), StoreError> {
        if entries.is_empty() && tallies.is_empty() {
            return Ok(());
        }
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            let revision = w.lock_tenant(tenant).await?;
            w.append_entries(tenant, entries, revision).await?;
            w.add_tallies(tenant, tallies).await
        }
        .await;
        w.finish(done).await
    }

    async fn flush_audit_tallies(&self, ended_before: i64) -> Result<u64, StoreError> {
        let tenants: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT tenant FROM audit_tallies WHERE window_start < $1 ORDER BY tenant",
        )
        .bind(ended_before)
        .fetch_all(&self.pool)
        .await?;
        let mut written = 0;
        for (tenant,) in tenants {
            let mut w = Writer::begin(&self.pool).await?;
            let done = async {
                let revision = w.lock_tenant(&tenant).await?;
                w.flush_tallies(&tenant, ended_before, revision).await
            }
            .await;
            written += w.finish(done).await?;
        }
        Ok(written)
    }

    async fn prune_audit(&self, tenant: &str, before: i64, at: i64) -> Result<u64, StoreError> {
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            w.lock_tenant(tenant).await?;
            w.prune_audit(tenant, before, at).await
        }
        .await;
        w.finish(done).await
    }

    async fn audit_root(&self, tenant: &str) -> Result<Option<(u64, String)>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_roots WHERE tenant = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((seq, hash)) => Ok(Some((codec::from_db(seq)?, hash))),
            None => {
                self.revision(tenant).await?;
                Ok(None)
            }
        }
    }

    async fn audit_checkpoint(&self, tenant: &str) -> Result<Option<AuditCheckpoint>, StoreError> {
        let row: Option<(i64, String, i64)> =
            sqlx::query_as("SELECT seq, hash, verified_at FROM audit_verified WHERE tenant = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((seq, hash, verified_at)) => Ok(Some(AuditCheckpoint {
                seq: codec::from_db(seq)?,
                hash,
                verified_at,
            })),
            None => {
                self.revision(tenant).await?;
                Ok(None)
            }
        }
    }

    async fn put_audit_checkpoint(
        &self,
        tenant: &str,
        c: &AuditCheckpoint,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO audit_verified (tenant, seq, hash, verified_at) \
             SELECT id, $2, $3, $4 FROM tenants WHERE id = $1 \
             ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             verified_at = excluded.verified_at",
        )
        .bind(tenant)
        .bind(codec::to_db(c.seq)?)
        .bind(c.hash.as_str())
        .bind(c.verified_at)
        .execute(&self.pool)
        .await?;
        if D::rows_affected(&done) == 0 {
            return Err(unknown_tenant(tenant));
        }
        Ok(())
    }

    async fn audit(
        &self,
        tenant: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut q = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM audit WHERE tenant = ",
            codec::AUDIT_COLUMNS
        ));
        q.push_bind(tenant);
        if let Some(actor) = &filter.actor {
            q.push(" AND actor = ").push_bind(actor.as_str());
        }
        if let Some(target) = &filter.target {
            q.push(" AND target = ").push_bind(target.as_str());
        }
        if let Some(action) = &filter.action {
            // An exact, case-sensitive prefix in both dialects (SQLite's LIKE ignores
            // ASCII case, and its wildcards would need escaping).
            q.push(" AND substr(action, 1, length(")
                .push_bind(action.as_str())
                .push(")) = ")
                .push_bind(action.as_str());
        }
        if let Some(from) = filter.from {
            q.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" AND at < ").push_bind(to);
        }
        if let Some(after) = filter.after_seq {
            q.push(" AND seq > ").push_bind(clamp(after));
        }
        if let Some(before) = filter.before_seq {
            q.push(" AND seq < ").push_bind(clamp(before));
        }
        q.push(if filter.newest_first {
            " ORDER BY seq DESC LIMIT "
        } else {
            " ORDER BY seq LIMIT "
        })
        .push_bind(codec::audit_limit(filter));
        let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&self.pool).await?;
        if rows.is_empty() {
            // No entries, or no tenant.
            self.revision(tenant).await?;
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
            None => Err(unknown_tenant(tenant)),
        }
    }

    async fn changes_since(
        &self,
        tenant: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        // After the whole revision `after`: no sequence is greater than `u32::MAX`.
        self.changes_after(tenant, after, u32::MAX, limit).await
    }

    async fn changes_after(
        &self,
        tenant: &str,
        revision: u64,
        seq: u32,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        // The row-value comparison `(revision, seq) > ($2, $3)` spelled out, so that
        // both dialects seek the primary key (tenant, revision, seq). `seq` is an
        // INTEGER: 32 bits on PostgreSQL.
        let rows: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(
            "SELECT revision, CAST(seq AS BIGINT), change, actor, at FROM changes \
             WHERE tenant = $1 AND revision >= $2 AND (revision > $2 OR seq > $3) \
             ORDER BY revision, seq LIMIT $4",
        )
        .bind(tenant)
        .bind(clamp(revision))
        .bind(i64::from(seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            self.revision(tenant).await?;
        }
        rows.into_iter()
            .map(|(revision, seq, change, actor, at)| {
                codec::change_record(revision, seq, &change, actor, at)
            })
            .collect()
    }

    async fn put_token_audited(
        &self,
        t: &TokenRecord,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        chain_of(t.tenant.as_deref(), audit, &t.id)?;
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            // The tenant's lock first, as every audited write takes it: the token's user
            // cannot be deleted between the check in `insert_token` and the commit.
            let locked = match t.tenant.as_deref() {
                Some(tenant) => Some((tenant, w.lock_tenant(tenant).await?)),
                None => None,
            };
            w.insert_token(t).await?;
            if let Some((tenant, revision)) = locked {
                w.append_audit(tenant, audit, revision, actor, at).await?;
            }
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM tokens WHERE hash = $1 AND NOT revoked",
            codec::TOKEN_COLUMNS
        )))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(codec::token_record))
    }

    async fn revoke_token_audited(
        &self,
        tenant: Option<&str>,
        id: &str,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let chain = chain_of(tenant, audit, id)?;
        let mut w = Writer::begin(&self.pool).await?;
        let done = async {
            let locked = match chain {
                Some(tenant) => match w.lock_tenant(tenant).await {
                    Ok(revision) => Some((tenant, revision)),
                    // No tenant, so no token of it to revoke.
                    Err(StoreError::NotFound(_)) => return Ok(false),
                    Err(e) => return Err(e),
                },
                None => None,
            };
            if !w.revoke_token(tenant, id).await? {
                return Ok(false);
            }
            if let Some((tenant, revision)) = locked {
                w.append_audit(tenant, audit, revision, actor, at).await?;
            }
            Ok(true)
        }
        .await;
        w.finish(done).await
    }

    async fn revocation_generation(&self) -> Result<u64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT generation FROM revocations WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map_or(Ok(0), |(g,)| codec::from_db(g))
    }

    async fn list_tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM tokens WHERE tenant IS NOT DISTINCT FROM $1 AND NOT revoked \
             ORDER BY created_at, id",
            codec::TOKEN_COLUMNS
        )))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(codec::token_record).collect())
    }

    async fn put_checkpoint(
        &self,
        tenant: &str,
        revision: u64,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let revision_db = codec::to_db(revision)?;
        // Only for a revision the tenant has reached.
        let done = sqlx::query(
            "INSERT INTO checkpoints (tenant, revision, data) \
             SELECT id, $2, $3 FROM tenants WHERE id = $1 AND revision >= $2 \
             ON CONFLICT (tenant, revision) DO UPDATE SET data = excluded.data",
        )
        .bind(tenant)
        .bind(revision_db)
        .bind(data.to_vec())
        .execute(&self.pool)
        .await?;
        if D::rows_affected(&done) == 0 {
            let current = self.revision(tenant).await?;
            return Err(StoreError::Conflict {
                expected: revision,
                current,
            });
        }
        Ok(())
    }

    async fn checkpoint_at_or_before(
        &self,
        tenant: &str,
        revision: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT revision, data FROM checkpoints WHERE tenant = $1 AND revision <= $2 \
             ORDER BY revision DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(clamp(revision))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((found, data)) => Ok(Some((codec::from_db(found)?, data))),
            None => {
                self.revision(tenant).await?;
                Ok(None)
            }
        }
    }

    async fn revision_at_time(&self, tenant: &str, t: i64) -> Result<u64, StoreError> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(REVISION_AT_TIME)
            .bind(tenant)
            .bind(t)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some((Some(revision),)) => codec::from_db(revision),
            Some((None,)) => Ok(1),
            None => Err(unknown_tenant(tenant)),
        }
    }
}

/// The audit entry of a token or service credential revoked because its user was
/// deleted.
fn cascade_draft(user: &str, id: &str, credential: bool) -> AuditDraft {
    if credential {
        AuditDraft {
            action: "credential.revoke".into(),
            target: format!("credential:{id}"),
            before: Some(
                serde_json::json!({"credential": id, "principal": user, "reason": "user deleted"})
                    .to_string(),
            ),
            after: None,
        }
    } else {
        AuditDraft {
            action: "token.revoke".into(),
            target: format!("user:{user}"),
            before: Some(serde_json::json!({"token": id, "reason": "user deleted"}).to_string()),
            after: None,
        }
    }
}

/// The audit chain a token write appends to: its tenant's, or none when there is
/// nothing to append. Audit entries about an operator token have no chain to go to.
fn chain_of<'a>(
    tenant: Option<&'a str>,
    audit: &[AuditDraft],
    token: &str,
) -> Result<Option<&'a str>, StoreError> {
    if audit.is_empty() {
        return Ok(None);
    }
    tenant
        .map(Some)
        .ok_or_else(|| StoreError::NoAuditChain(format!("operator token `{token}`")))
}
