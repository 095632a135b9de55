//! The write transaction both dialects share. A [`Writer`] begins with the dialect's
//! write statement, takes the tenant's lock (by bumping or reading its revision), and
//! offers the steps every write is made of: applying changes, appending the change log,
//! extending the audit chain, storing and revoking tokens. Nothing is visible until
//! [`Writer::finish`] commits; given an error, it rolls everything back.
//!
//! The statements here are written once for both dialects; the bulk ones (relation
//! runs, change log, audit entries) are the [`Dialect`]'s.

use sqlx::{ColumnIndex, Executor, Pool, Transaction};

use crate::codec::{self, Batch, Step};
use crate::dialect::{Column, Dialect, Param};
use crate::error::{token_error, unknown_tenant};
use crate::{AuditAppend, AuditDraft, AuditTally, Change, NewTenant, StoreError, TokenRecord};

/// The built-in type of users, whose tokens die with them.
const USER_TYPE: &str = "user";

/// An open write transaction.
pub(crate) struct Writer<D: Dialect> {
    tx: Transaction<'static, D>,
}

impl<D> Writer<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    usize: ColumnIndex<D::Row>,
    i64: Column<D>,
    String: Column<D>,
    Option<i64>: for<'q> Param<'q, D>,
    for<'a> &'a str: Param<'a, D>,
    for<'a> Option<&'a str>: Param<'a, D>,
{
    /// Begins a write transaction ([`Dialect::BEGIN_WRITE`]).
    pub(crate) async fn begin(pool: &Pool<D>) -> Result<Self, StoreError> {
        Ok(Writer {
            tx: pool.begin_with(D::BEGIN_WRITE).await?,
        })
    }

    /// Ends the transaction: commits when `result` is a success, else rolls back
    /// (explicitly, so the lock is released before the error is returned) and returns
    /// the error.
    pub(crate) async fn finish<T>(self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                self.tx.commit().await?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = self.tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed write failed");
                }
                Err(e)
            }
        }
    }

    /// Inserts a tenant at revision 1; [`StoreError::Exists`] when the id is taken.
    pub(crate) async fn insert_tenant(&mut self, t: &NewTenant, at: i64) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO tenants (id, name, profile_id, profile_text, revision, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(t.id.as_str())
        .bind(t.name.as_str())
        .bind(t.profile_id.as_str())
        .bind(t.profile_text.as_str())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::Exists(format!("tenant `{}`", t.id)));
        }
        D::notify(&mut self.tx, &crate::Notice::tenant_payload(&t.id)).await
    }

    /// The tenant's current revision, holding its lock ([`Dialect::LOCK_TENANT`]) until
    /// the end of the transaction; [`StoreError::NotFound`] for an unknown tenant.
    pub(crate) async fn lock_tenant(&mut self, tenant: &str) -> Result<u64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(D::LOCK_TENANT)
            .bind(tenant)
            .fetch_optional(&mut *self.tx)
            .await?;
        match row {
            Some((revision,)) => codec::from_db(revision),
            None => Err(unknown_tenant(tenant)),
        }
    }

    /// Bumps the tenant's revision and returns the new one, checking that the previous
    /// one was `expected` (if given): [`StoreError::NotFound`], [`StoreError::Conflict`].
    /// The `UPDATE` takes the tenant's row lock on PostgreSQL, so a concurrent writer
    /// waits here and then bumps what this one committed.
    pub(crate) async fn bump(
        &mut self,
        tenant: &str,
        expected: Option<u64>,
    ) -> Result<u64, StoreError> {
        let bumped: Option<(i64,)> = sqlx::query_as(
            "UPDATE tenants SET revision = revision + 1 WHERE id = $1 RETURNING revision",
        )
        .bind(tenant)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some((new,)) = bumped else {
            return Err(unknown_tenant(tenant));
        };
        D::notify(&mut self.tx, &crate::Notice::tenant_payload(tenant)).await?;
        let new = codec::from_db(new)?;
        let current = new.saturating_sub(1);
        match expected {
            Some(expected) if expected != current => {
                Err(StoreError::Conflict { expected, current })
            }
            _ => Ok(new),
        }
    }

    /// Applies a batch's changes in order and appends its change-log rows at `revision`.
    /// Returns the tokens the batch revoked: those of the users it deletes, as (user,
    /// token id, whether a service credential).
    pub(crate) async fn apply(
        &mut self,
        tenant: &str,
        revision: u64,
        batch: &Batch<'_>,
        actor: &str,
        at: i64,
    ) -> Result<Vec<(String, String, bool)>, StoreError> {
        let mut revoked = Vec::new();
        for step in &batch.steps {
            match step {
                Step::PutRelations(run) => D::put_relations(&mut self.tx, tenant, run).await?,
                Step::DeleteRelations(run) => {
                    D::delete_relations(&mut self.tx, tenant, run).await?;
                }
                Step::One(change) => {
                    self.apply_one(tenant, change).await?;
                    if let Change::DeleteEntity { ty, id } = change
                        && ty == USER_TYPE
                    {
                        for (token, credential) in self.revoke_user_tokens(tenant, id).await? {
                            revoked.push((id.clone(), token, credential));
                        }
                    }
                }
            }
        }
        if !batch.payloads.is_empty() {
            let revision = codec::to_db(revision)?;
            D::insert_changes(&mut self.tx, tenant, revision, &batch.payloads, actor, at).await?;
        }
        Ok(revoked)
    }

    /// Appends `drafts` to the tenant's audit chain at `revision` and returns their
    /// sequence numbers. The caller holds the tenant's lock (a bump or
    /// [`Writer::lock_tenant`]), so no other writer extends the chain meanwhile; on
    /// PostgreSQL (READ COMMITTED) the read below sees what the previous holder committed.
    pub(crate) async fn append_audit(
        &mut self,
        tenant: &str,
        drafts: &[AuditDraft],
        revision: u64,
        actor: &str,
        at: i64,
    ) -> Result<Vec<u64>, StoreError> {
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&mut *self.tx)
        .await?;
        let records = codec::extend_chain(last, drafts, revision, actor, at)?;
        D::insert_audit(&mut self.tx, tenant, &records).await?;
        Ok(records.iter().map(|r| r.seq).collect())
    }

    /// Appends `entries` (each with its own actor and time) to the tenant's audit chain
    /// at `revision`, in order. The caller holds the tenant's lock.
    pub(crate) async fn append_entries(
        &mut self,
        tenant: &str,
        entries: &[AuditAppend],
        revision: u64,
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&mut *self.tx)
        .await?;
        let mut records = Vec::with_capacity(entries.len());
        for e in entries {
            let mut next = codec::extend_chain(
                last.take(),
                std::slice::from_ref(&e.draft),
                revision,
                &e.actor,
                e.at,
            )?;
            if let Some(r) = next.last() {
                last = Some((codec::to_db(r.seq)?, r.hash.clone()));
            }
            records.append(&mut next);
        }
        D::insert_audit(&mut self.tx, tenant, &records).await
    }

    /// Adds `tallies` to the tenant's tallies of repeated decisions (one row per key
    /// and window: counts add up, the first and last times widen).
    pub(crate) async fn add_tallies(
        &mut self,
        tenant: &str,
        tallies: &[AuditTally],
    ) -> Result<(), StoreError> {
        for t in tallies {
            sqlx::query(
                "INSERT INTO audit_tallies (tenant, key, window_start, actor, action, target, \
                 after, first_at, last_at, count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant, key, window_start) DO UPDATE SET \
                 count = audit_tallies.count + excluded.count, \
                 first_at = CASE WHEN excluded.first_at < audit_tallies.first_at \
                   THEN excluded.first_at ELSE audit_tallies.first_at END, \
                 last_at = CASE WHEN excluded.last_at > audit_tallies.last_at \
                   THEN excluded.last_at ELSE audit_tallies.last_at END",
            )
            .bind(tenant)
            .bind(t.key.as_str())
            .bind(t.window_start)
            .bind(t.actor.as_str())
            .bind(t.draft.action.as_str())
            .bind(t.draft.target.as_str())
            .bind(t.draft.after.as_deref())
            .bind(t.first_at)
            .bind(t.last_at)
            .bind(codec::to_db(t.count)?)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Turns the tenant's tallies of windows begun before `ended_before` into chained
    /// entries (one each, with its count) at `revision`, and deletes them; returns how
    /// many. The caller holds the tenant's lock.
    pub(crate) async fn flush_tallies(
        &mut self,
        tenant: &str,
        ended_before: i64,
        revision: u64,
    ) -> Result<u64, StoreError> {
        type Row = (
            String,
            i64,
            String,
            String,
            String,
            Option<String>,
            i64,
            i64,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT key, window_start, actor, action, target, after, first_at, last_at, count \
             FROM audit_tallies WHERE tenant = $1 AND window_start < $2 \
             ORDER BY first_at, key, window_start",
        )
        .bind(tenant)
        .bind(ended_before)
        .fetch_all(&mut *self.tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let entries: Vec<AuditAppend> = rows
            .into_iter()
            .map(
                |(_, _, actor, action, target, after, first_at, last_at, count)| AuditAppend {
                    actor,
                    at: last_at,
                    draft: AuditDraft {
                        action,
                        target,
                        before: None,
                        after: Some(codec::coalesced(after.as_deref(), count, first_at, last_at)),
                    },
                },
            )
            .collect();
        self.append_entries(tenant, &entries, revision).await?;
        sqlx::query("DELETE FROM audit_tallies WHERE tenant = $1 AND window_start < $2")
            .bind(tenant)
            .bind(ended_before)
            .execute(&mut *self.tx)
            .await?;
        Ok(entries.len() as u64)
    }

    /// Prunes the front of the tenant's chain: every entry up to the last one before
    /// the first entry written at or after `before` (so only a prefix, whatever the
    /// order of times), keeping the last pruned entry's sequence number and hash as the
    /// chain's root. Returns how many entries were pruned. The caller holds the
    /// tenant's lock.
    pub(crate) async fn prune_audit(
        &mut self,
        tenant: &str,
        before: i64,
        at: i64,
    ) -> Result<u64, StoreError> {
        let bounds: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT (SELECT MIN(seq) FROM audit WHERE tenant = $1 AND at >= $2), \
                    (SELECT MAX(seq) FROM audit WHERE tenant = $1)",
        )
        .bind(tenant)
        .bind(before)
        .fetch_optional(&mut *self.tx)
        .await?;
        let (first_kept, last) = bounds.unwrap_or((None, None));
        let Some(last) = last else { return Ok(0) };
        let end = match first_kept {
            Some(k) => k - 1,
            None => last,
        };
        let root: Option<(i64,)> = sqlx::query_as("SELECT seq FROM audit_roots WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(&mut *self.tx)
            .await?;
        let from = root.map_or(0, |(s,)| s);
        if end <= from {
            return Ok(0);
        }
        let hash: Option<(String,)> =
            sqlx::query_as("SELECT hash FROM audit WHERE tenant = $1 AND seq = $2")
                .bind(tenant)
                .bind(end)
                .fetch_optional(&mut *self.tx)
                .await?;
        let Some((hash,)) = hash else {
            return Err(StoreError::Corrupt(format!(
                "tenant `{tenant}`: audit entry {end} is missing"
            )));
        };
        let done = sqlx::query("DELETE FROM audit WHERE tenant = $1 AND seq <= $2")
            .bind(tenant)
            .bind(end)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_roots (tenant, seq, hash, pruned_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             pruned_at = excluded.pruned_at",
        )
        .bind(tenant)
        .bind(end)
        .bind(hash.as_str())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(D::rows_affected(&done))
    }

    /// Stores a new token: [`StoreError::Exists`] for a taken id or hash,
    /// [`StoreError::NotFound`] for an unknown tenant, or for a user (the token's
    /// `principal`) the tenant does not have. The caller holds the tenant's lock, so the
    /// user cannot be deleted between this check and the commit (a deletion revokes
    /// every token of its user in its own transaction: a token never outlives its user,
    /// and a user re-created under the same id inherits none).
    pub(crate) async fn insert_token(&mut self, t: &TokenRecord) -> Result<(), StoreError> {
        if let (Some(tenant), Some(user)) = (t.tenant.as_deref(), t.principal.as_deref()) {
            let found: Option<(i64,)> = sqlx::query_as(
                "SELECT CAST(1 AS BIGINT) FROM entities WHERE tenant = $1 AND ty = $2 AND id = $3",
            )
            .bind(tenant)
            .bind(USER_TYPE)
            .bind(user)
            .fetch_optional(&mut *self.tx)
            .await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!(
                    "user `{user}` of tenant `{tenant}`"
                )));
            }
        }
        let done = sqlx::query(
            "INSERT INTO tokens (id, hash, tenant, principal, created_at, revoked, credential) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
        )
        .bind(t.id.as_str())
        .bind(t.hash.as_str())
        .bind(t.tenant.as_deref())
        .bind(t.principal.as_deref())
        .bind(t.created_at)
        .bind(t.credential.as_deref())
        .execute(&mut *self.tx)
        .await;
        done.map(|_| ()).map_err(|e| token_error(e, t))
    }

    /// Revokes token `id` of `tenant` (`None` = operator tokens); whether one was.
    pub(crate) async fn revoke_token(
        &mut self,
        tenant: Option<&str>,
        id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked = TRUE \
             WHERE id = $1 AND tenant IS NOT DISTINCT FROM $2 AND NOT revoked",
        )
        .bind(id)
        .bind(tenant)
        .execute(&mut *self.tx)
        .await?;
        let revoked = D::rows_affected(&done) > 0;
        if revoked {
            D::notify(&mut self.tx, &crate::Notice::token_payload(id)).await?;
            self.bump_revocations().await?;
        }
        Ok(revoked)
    }

    /// Revokes every unrevoked token and service credential of `tenant` acting as
    /// `user` (a deletion of the user); returns them as (id, whether a credential).
    pub(crate) async fn revoke_user_tokens(
        &mut self,
        tenant: &str,
        user: &str,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "UPDATE tokens SET revoked = TRUE \
             WHERE tenant = $1 AND principal = $2 AND NOT revoked RETURNING id, credential",
        )
        .bind(tenant)
        .bind(user)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut out: Vec<(String, bool)> = rows
            .into_iter()
            .map(|(id, credential)| (id, credential.is_some()))
            .collect();
        // In a stable order for the audit entries.
        out.sort();
        for (id, _) in &out {
            D::notify(&mut self.tx, &crate::Notice::token_payload(id)).await?;
        }
        if !out.is_empty() {
            self.bump_revocations().await?;
        }
        Ok(out)
    }

    /// Moves the revocation generation on (every transaction that revokes a token does,
    /// so a token cache in any process learns that it must look again).
    async fn bump_revocations(&mut self) -> Result<(), StoreError> {
        sqlx::query("UPDATE revocations SET generation = generation + 1 WHERE id = 1")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Applies a change that is not a run of relation writes.
    async fn apply_one(&mut self, tenant: &str, change: &Change) -> Result<(), StoreError> {
        let conn = &mut *self.tx;
        match change {
            Change::UpsertEntity {
                ty,
                id,
                name,
                attributes,
            } => {
                sqlx::query(
                    "INSERT INTO entities (tenant, ty, id, name, attributes) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant, ty, id) DO UPDATE SET name = excluded.name, \
                     attributes = excluded.attributes",
                )
                .bind(tenant)
                .bind(ty.as_str())
                .bind(id.as_str())
                .bind(name.as_deref())
                .bind(codec::encode_attributes(attributes)?)
                .execute(&mut *conn)
                .await?;
            }
            Change::DeleteEntity { ty, id } => {
                // The entity, then its tuples as resource and as subject.
                for sql in [
                    "DELETE FROM entities WHERE tenant = $1 AND ty = $2 AND id = $3",
                    "DELETE FROM relations WHERE tenant = $1 AND rtype = $2 AND rid = $3",
                    "DELETE FROM relations WHERE tenant = $1 AND stype = $2 AND sid = $3",
                ] {
                    sqlx::query(sql)
                        .bind(tenant)
                        .bind(ty.as_str())
                        .bind(id.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
            }
            Change::PutRelation(t) => D::put_relations(conn, tenant, &[t]).await?,
            Change::DeleteRelation(t) => D::delete_relations(conn, tenant, &[t]).await?,
            Change::PutRole { role, version } => {
                sqlx::query(
                    "INSERT INTO roles (tenant, id, spec, version) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, \
                     version = excluded.version",
                )
                .bind(tenant)
                .bind(role.id.as_str())
                .bind(codec::encode("role", role)?)
                .bind(codec::to_db(*version)?)
                .execute(&mut *conn)
                .await?;
            }
            Change::PutAssignment(a) => {
                sqlx::query(
                    "INSERT INTO assignments (tenant, id, principal, role, scope, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant, id) DO UPDATE SET principal = excluded.principal, \
                     role = excluded.role, scope = excluded.scope, \
                     expires_at = excluded.expires_at",
                )
                .bind(tenant)
                .bind(a.id.as_str())
                .bind(a.principal.as_str())
                .bind(a.role.as_str())
                .bind(codec::encode("scope", &a.scope)?)
                .bind(a.expires_at)
                .execute(&mut *conn)
                .await?;
            }
            Change::DeleteRole { id } => {
                sqlx::query("DELETE FROM roles WHERE tenant = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
            Change::DeleteAssignment { id } => {
                sqlx::query("DELETE FROM assignments WHERE tenant = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
            Change::PutSodRule(rule) => {
                sqlx::query(
                    "INSERT INTO sod_rules (tenant, id, rule) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant, id) DO UPDATE SET rule = excluded.rule",
                )
                .bind(tenant)
                .bind(rule.id.as_str())
                .bind(codec::encode("separation-of-duty rule", rule)?)
                .execute(&mut *conn)
                .await?;
            }
            Change::DeleteSodRule { id } => {
                sqlx::query("DELETE FROM sod_rules WHERE tenant = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
            Change::SetSetting { key, value } => {
                sqlx::query(
                    "INSERT INTO settings (tenant, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value",
                )
                .bind(tenant)
                .bind(key.as_str())
                .bind(codec::encode("setting", value)?)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}
