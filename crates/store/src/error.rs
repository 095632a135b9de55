//! Store errors, and how the database's own failures map to them.

use crate::TokenRecord;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such tenant (or object).
    #[error("not found: {0}")]
    NotFound(String),
    /// The id is taken.
    #[error("already exists: {0}")]
    Exists(String),
    /// The revision precondition failed.
    #[error("revision conflict: expected {expected}, current {current}")]
    Conflict {
        /// The revision the caller expected.
        expected: u64,
        /// The current revision.
        current: u64,
    },
    /// Audit entries were given for a write that belongs to no tenant's audit chain (an
    /// operator token's creation or revocation). Nothing was written.
    #[error("no audit chain for {0}: operator tokens belong to no tenant")]
    NoAuditChain(String),
    /// Stored data could not be decoded.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// [`StoreError::NotFound`] for a tenant.
pub(crate) fn unknown_tenant(tenant: &str) -> StoreError {
    StoreError::NotFound(format!("tenant `{tenant}`"))
}

/// Maps a failed token insert: a taken id or hash is [`StoreError::Exists`], an unknown
/// tenant [`StoreError::NotFound`].
pub(crate) fn token_error(e: sqlx::Error, t: &TokenRecord) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            return StoreError::Exists(format!("token `{}`", t.id));
        }
        if db.is_foreign_key_violation() {
            return unknown_tenant(t.tenant.as_deref().unwrap_or_default());
        }
    }
    StoreError::Database(e)
}
