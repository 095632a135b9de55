//! Store errors.

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
