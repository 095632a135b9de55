//! Durable storage for rolecall: one [`Store`] trait and one implementation of it,
//! [`SqlStore`], over two SQL dialects (SQLite, the embedded default: [`SqliteStore`];
//! PostgreSQL: [`PgStore`]). Every write is one transaction that bumps the tenant's
//! revision and appends one change-log row per change.

pub mod audit;
mod codec;
mod dialect;
mod error;
mod model;
mod notice;
pub mod postgres;
pub mod sqlite;
mod store;
mod writer;

use async_trait::async_trait;

pub use audit::{
    AuditAppend, AuditCheckpoint, AuditDraft, AuditFilter, AuditRecord, AuditTally,
    AuditVerification, AuditVerified,
};
pub use error::StoreError;
pub use model::*;
pub use notice::{CHANNEL, Notice, Notices};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use store::SqlStore;

/// Persistence of tenants, their state, the change log and API tokens.
///
/// Implementations must make each `apply` atomic and durable before returning: an
/// acknowledged revision survives a crash.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Creates a tenant at revision 1. Fails with [`StoreError::Exists`] when the id is taken.
    async fn create_tenant(&self, t: &NewTenant, actor: &str, at: i64) -> Result<u64, StoreError> {
        self.create_tenant_audited(t, &[], actor, at).await
    }

    /// [`Store::create_tenant`], starting the new tenant's audit chain with `audit` (at
    /// revision 1, by `actor`, at `at`) in the same transaction: the tenant exists with
    /// its entries, or not at all. Returns 1.
    async fn create_tenant_audited(
        &self,
        t: &NewTenant,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<u64, StoreError>;

    /// Every tenant, ordered by id.
    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError>;

    /// One tenant, or `None`.
    async fn get_tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError>;

    /// The tenant's whole state at its current revision. [`StoreError::NotFound`] if absent.
    async fn load_state(&self, tenant: &str) -> Result<LoadedState, StoreError>;

    /// Applies `changes` in one transaction. With `expected = Some(r)`, fails with
    /// [`StoreError::Conflict`] unless the tenant is at revision `r`. Returns the new
    /// revision (previous + 1; a batch is one revision). Appends one change-log row per
    /// change with that revision, the actor and the time. An empty batch is allowed
    /// and still creates a revision.
    async fn apply(
        &self,
        tenant: &str,
        expected: Option<u64>,
        changes: &[Change],
        actor: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        self.apply_audited(tenant, expected, changes, &[], actor, at)
            .await
    }

    /// [`Store::apply`], appending `audit` entries to the tenant's hash-chained audit
    /// trail in the same transaction (their revision is the new one). Deleting a user
    /// (`DeleteEntity` of type `user`) revokes every token and service credential
    /// acting as that user in the same transaction, each revocation audited after
    /// `audit` (`token.revoke` / `credential.revoke`, reason `user deleted`), notified
    /// and counted in the revocation generation.
    async fn apply_audited(
        &self,
        tenant: &str,
        expected: Option<u64>,
        changes: &[Change],
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<u64, StoreError>;

    /// Appends audit entries that change no state (decisions on sensitive actions),
    /// at the tenant's current revision. Returns their sequence numbers.
    async fn append_audit(
        &self,
        tenant: &str,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<Vec<u64>, StoreError>;

    /// Group commit of audit entries that change no state (sensitive decisions of many
    /// requests): appends `entries` in order, each with its own actor and time, at the
    /// tenant's current revision, and adds `tallies` (repetitions of a decision within a
    /// window, see [`Store::flush_audit_tallies`]), in one transaction: all or nothing.
    async fn append_audit_batch(
        &self,
        tenant: &str,
        entries: &[AuditAppend],
        tallies: &[AuditTally],
    ) -> Result<(), StoreError>;

    /// Turns every tally of a window begun before `ended_before` (Unix seconds), in every
    /// tenant, into one chained entry (its decision's action and target, its `after`
    /// with `"coalesced": {"count", "first_at", "last_at"}`, at its last time) and
    /// deletes it, one transaction per tenant, so each tally is written exactly once
    /// whichever process flushes. Returns the entries written.
    async fn flush_audit_tallies(&self, ended_before: i64) -> Result<u64, StoreError>;

    /// Retention: prunes the front of the tenant's audit chain, every entry before the
    /// first one written at or after `before` (Unix seconds), in one transaction; the
    /// last pruned entry's sequence number and hash become the chain's root
    /// ([`Store::audit_root`]), from which the rest verifies. Returns the entries pruned.
    async fn prune_audit(&self, tenant: &str, before: i64, at: i64) -> Result<u64, StoreError>;

    /// The chain's root after pruning: the last pruned entry's sequence number and hash
    /// (`None`: nothing pruned, the chain starts at entry 1).
    async fn audit_root(&self, tenant: &str) -> Result<Option<(u64, String)>, StoreError>;

    /// Where the tenant's last verification found the chain intact, if stored.
    async fn audit_checkpoint(&self, tenant: &str) -> Result<Option<AuditCheckpoint>, StoreError>;

    /// Stores where a verification found the chain intact (replacing the previous).
    async fn put_audit_checkpoint(
        &self,
        tenant: &str,
        c: &AuditCheckpoint,
    ) -> Result<(), StoreError>;

    /// Audit entries matching `filter`, by sequence number (ascending, or descending
    /// with `newest_first`).
    async fn audit(
        &self,
        tenant: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// Notices of commits by other processes sharing this database (`None` when none
    /// can: SQLite). Each call opens a listening connection of its own.
    async fn listen(&self) -> Result<Option<Notices>, StoreError> {
        Ok(None)
    }

    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The tenant's current revision.
    async fn revision(&self, tenant: &str) -> Result<u64, StoreError>;

    /// Change-log rows with revision greater than `after`, ascending, at most `limit`.
    async fn changes_since(
        &self,
        tenant: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError>;

    /// Change-log rows after position (`revision`, `seq`): those of later revisions and
    /// those of `revision` with a greater sequence number, ascending by (revision, seq),
    /// at most `limit`. A page may end inside a revision and the next one resumes
    /// exactly after its last row: paging by the last row's position reads every row
    /// once (`changes_since(t, r, n)` is `changes_after(t, r, u32::MAX, n)`).
    /// [`StoreError::NotFound`] for an unknown tenant.
    async fn changes_after(
        &self,
        tenant: &str,
        revision: u64,
        seq: u32,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError>;

    /// Stores a new token (its hash only). [`StoreError::Exists`] for a taken id or hash,
    /// [`StoreError::NotFound`] for an unknown tenant or a `principal` that is not one of
    /// the tenant's users (checked under the tenant's lock, in the same transaction).
    async fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.put_token_audited(t, &[], "", t.created_at).await
    }

    /// [`Store::put_token`], appending `audit` to the token's tenant's chain (at the
    /// tenant's current revision) in the same transaction: both or neither. An operator
    /// token (no tenant) has no chain: with audit entries it fails with
    /// [`StoreError::NoAuditChain`] and stores nothing.
    async fn put_token_audited(
        &self,
        t: &TokenRecord,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<(), StoreError>;

    /// The unrevoked token with this hash.
    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes token `id` of `tenant` (`None` = operator tokens). Returns whether one was revoked.
    async fn revoke_token(&self, tenant: Option<&str>, id: &str) -> Result<bool, StoreError> {
        self.revoke_token_audited(tenant, id, &[], "", 0).await
    }

    /// [`Store::revoke_token`], appending `audit` to the tenant's chain (at its current
    /// revision) in the same transaction, and only if a token was revoked. With
    /// `tenant = None` and audit entries, fails with [`StoreError::NoAuditChain`] and
    /// revokes nothing.
    async fn revoke_token_audited(
        &self,
        tenant: Option<&str>,
        id: &str,
        audit: &[AuditDraft],
        actor: &str,
        at: i64,
    ) -> Result<bool, StoreError>;

    /// Stores `data`, the caller's serialization of the tenant's whole state at
    /// `revision`, replacing any checkpoint at that revision. [`StoreError::NotFound`] for
    /// an unknown tenant; [`StoreError::Conflict`] (`expected` = `revision`) when the
    /// tenant has not reached `revision`, since a checkpoint is of a state that exists.
    /// Checkpoints are removed with their tenant.
    async fn put_checkpoint(
        &self,
        tenant: &str,
        revision: u64,
        data: &[u8],
    ) -> Result<(), StoreError>;

    /// The newest checkpoint at or before `revision`, as (its revision, its data); `None`
    /// if there is none. [`StoreError::NotFound`] for an unknown tenant.
    async fn checkpoint_at_or_before(
        &self,
        tenant: &str,
        revision: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// The revision the tenant was at, at time `t` (Unix seconds): the last revision whose
    /// change-log rows were written at or before `t` (their `at`), or 1, the creation,
    /// if none was. Revisions that wrote no change-log rows (empty batches) are not
    /// counted. Times are taken to grow with revisions, as the server's clock makes
    /// them: the answer is the revision of the latest-dated row at or before `t` (the
    /// greatest revision among equal times). [`StoreError::NotFound`] for an unknown
    /// tenant.
    async fn revision_at_time(&self, tenant: &str, t: i64) -> Result<u64, StoreError>;

    /// Verifies the tenant's audit chain: recomputes every entry's hash from its stored
    /// fields and its predecessor's hash, and reports the first entry that does not match.
    async fn verify_audit(&self, tenant: &str) -> Result<AuditVerification, StoreError> {
        let v = self.verify_audit_from(tenant, None).await?;
        Ok(AuditVerification {
            entries: v.entries,
            first_bad: v.first_bad,
        })
    }

    /// [`Store::verify_audit`] from the entry after `from` (its sequence number and
    /// hash, as a previous verification found them: the prefix up to it is taken as
    /// verified, once entry `from` is found stored unchanged), or from the first entry
    /// (after the chain's root when its front was pruned). Reads the chain a page at a
    /// time: memory does not grow with its length.
    async fn verify_audit_from(
        &self,
        tenant: &str,
        from: Option<(u64, String)>,
    ) -> Result<AuditVerified, StoreError> {
        // After pruning, the chain starts after its root (which is not stored as an
        // entry any more); a checkpoint inside the pruned prefix is superseded by it.
        let root = self.audit_root(tenant).await?;
        let from = match (from, root) {
            (Some(f), Some(r)) if f.0 > r.0 => Some(f),
            (_, Some(r)) => {
                return self.verify_audit_after(tenant, r, true).await;
            }
            (f, None) => f,
        };
        match from {
            Some(f) => self.verify_audit_after(tenant, f, false).await,
            None => {
                self.verify_audit_after(tenant, (0, String::new()), true)
                    .await
            }
        }
    }

    /// Verifies the entries after `start` (sequence number and hash; `(0, "")`: the
    /// chain's beginning). Unless `trusted` (the beginning or the root), entry
    /// `start` must still be stored with that hash.
    #[doc(hidden)]
    async fn verify_audit_after(
        &self,
        tenant: &str,
        start: (u64, String),
        trusted: bool,
    ) -> Result<AuditVerified, StoreError> {
        const PAGE: u32 = 10_000;
        let from = (start.0 > 0).then(|| start.clone());
        let (mut after, mut prev) = match &from {
            Some((seq, hash)) => (*seq, hash.clone()),
            None => (0, String::new()),
        };
        let mut checked = 0u64;
        let mut last: Option<(u64, String)> = from.clone();
        if let Some((seq, hash)) = from.as_ref().filter(|_| !trusted) {
            // The checkpoint's own entry must still be what was verified.
            let found = self
                .audit(
                    tenant,
                    &AuditFilter {
                        after_seq: Some(seq.saturating_sub(1)),
                        limit: 1,
                        ..AuditFilter::default()
                    },
                )
                .await?;
            let intact = found
                .first()
                .is_some_and(|r| r.seq == *seq && r.hash == *hash && audit::hash_of(r) == *hash);
            if !intact {
                return Ok(AuditVerified {
                    entries: 0,
                    first_bad: Some((
                        *seq,
                        "the checkpoint's entry is missing or altered".to_owned(),
                    )),
                    from,
                    last: None,
                });
            }
        }
        loop {
            let page = self
                .audit(
                    tenant,
                    &AuditFilter {
                        after_seq: Some(after),
                        limit: PAGE,
                        ..AuditFilter::default()
                    },
                )
                .await?;
            if page.is_empty() {
                return Ok(AuditVerified {
                    entries: checked,
                    first_bad: None,
                    from,
                    last,
                });
            }
            for r in page {
                checked += 1;
                let expected_seq = after + 1;
                let problem = if r.seq != expected_seq {
                    Some(format!(
                        "sequence {} follows {}: an entry is missing",
                        r.seq, after
                    ))
                } else if r.prev_hash != prev {
                    Some("its previous-hash does not match the entry before it".to_owned())
                } else if r.hash != audit::hash_of(&r) {
                    Some("its stored fields do not match its hash (altered)".to_owned())
                } else {
                    None
                };
                if let Some(reason) = problem {
                    return Ok(AuditVerified {
                        entries: checked,
                        first_bad: Some((r.seq, reason)),
                        from,
                        last,
                    });
                }
                after = r.seq;
                last = Some((r.seq, r.hash.clone()));
                prev = r.hash;
            }
        }
    }

    /// The revocation generation: a number every transaction that revokes a token
    /// (one revocation, or a user's deletion revoking its tokens) moves on, in whatever
    /// process. A token cache trusts what it read at one generation only while the
    /// generation has not moved.
    async fn revocation_generation(&self) -> Result<u64, StoreError>;

    /// Unrevoked tokens of a tenant (`None` = operator tokens), without hashes' secrets.
    async fn list_tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;
}
