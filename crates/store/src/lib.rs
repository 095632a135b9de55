//! Durable storage for rolecall: one [`Store`] trait, two backends (SQLite, the
//! embedded default; PostgreSQL). Every write is one transaction that bumps the
//! tenant's revision and appends one change-log row per change.

mod apply;
mod codec;
mod error;
mod model;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;

pub use apply::MemState;
pub use error::StoreError;
pub use model::*;

/// Persistence of tenants, their state, the change log and API tokens.
///
/// Implementations must make each `apply` atomic and durable before returning: an
/// acknowledged revision survives a crash.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Creates a tenant at revision 1. Fails with [`StoreError::Exists`] when the id is taken.
    async fn create_tenant(&self, t: &NewTenant, actor: &str, at: i64) -> Result<u64, StoreError>;

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
    ) -> Result<u64, StoreError>;

    /// The tenant's current revision.
    async fn revision(&self, tenant: &str) -> Result<u64, StoreError>;

    /// Change-log rows with revision greater than `after`, ascending, at most `limit`.
    async fn changes_since(
        &self,
        tenant: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError>;

    /// Stores a new token (its hash only).
    async fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError>;

    /// The unrevoked token with this hash.
    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes token `id` of `tenant` (`None` = operator tokens). Returns whether one was revoked.
    async fn revoke_token(&self, tenant: Option<&str>, id: &str) -> Result<bool, StoreError>;

    /// Unrevoked tokens of a tenant (`None` = operator tokens), without hashes' secrets.
    async fn list_tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;
}
