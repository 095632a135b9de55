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
    /// The database could not be reached (at start): where, and why.
    #[error("{0}")]
    Unreachable(String),
    /// Another process holds the database (SQLite is one process per file).
    #[error("{0}")]
    Locked(String),
}

impl StoreError {
    /// Whether the database is unreachable or overloaded rather than the request
    /// wrong: the caller may retry later (503).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unreachable(_) => true,
            StoreError::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                        | sqlx::Error::Protocol(_)
                ) || e
                    .as_database_error()
                    .and_then(|d| d.code())
                    // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many
                    // connections, read-only transaction (a standby).
                    .is_some_and(|c| matches!(&*c, "57P01" | "57P02" | "57P03" | "53300" | "25006"))
            }
            _ => false,
        }
    }
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
